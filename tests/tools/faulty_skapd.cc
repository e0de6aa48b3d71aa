// faulty_skapd --fault FAULT run --config FILE: skapd with a hub that
// misbehaves on purpose, for the tests that show what honest parties
// notice. Its relay is the hub's own behind a decorator (hub::HubSeams):
//
//   corrupt-shares  flips a bit pattern in every share it hands a device,
//                   as a hub that lies would (agreement_faults_test.sh);
//   lie-refusals    hands over every confirmation as a refusal "from" its
//                   sender, as a hub that wants a pair to stop would
//                   (agreement_lying_hub_test.sh);
//   drop-confirms   never hands a confirmation to the device whose id is in
//                   $SKAP_FAULT_DEVICE (it stores them, as a hub that lost
//                   them would), so an initiator's last tag can be lost on
//                   every hub (epoch_split_test.sh);
//   keep-shares     keeps a copy of every share it relays (wrapped under
//                   its KEK, in a table of its own, kept_shares) where the
//                   hub erases its own at delivery, as a curious hub would
//                   (hub_knowledge_test.sh; tests/tools/hub_shares.cc reads
//                   it back).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hub/channel/agreement_relay.h"
#include "hub/hub_daemon.h"

namespace {

using skap::Result;
using skap::hub::Delivery;
using skap::hub::Relay;
namespace pb = skap::channel::v1;

// ForwardingRelay passes every call to the hub's own relay.
class ForwardingRelay : public Relay {
 public:
  explicit ForwardingRelay(Relay& own) : own_(own) {}
  Result<Delivery> OfferShare(const std::string& sender, const pb::ShareOffer& offer,
                              std::span<const std::uint8_t> share) override {
    return own_.OfferShare(sender, offer, share);
  }
  Result<Delivery> OfferConfirm(const std::string& sender, const pb::ConfirmOffer& offer) override {
    return own_.OfferConfirm(sender, offer);
  }
  Result<std::vector<Delivery>> PendingFor(const std::string& recipient) override {
    return own_.PendingFor(recipient);
  }
  Result<void> Acknowledge(const std::string& recipient, const pb::DeliveryAck& ack) override {
    return own_.Acknowledge(recipient, ack);
  }
  Result<std::int64_t> Purge() override { return own_.Purge(); }

 private:
  Relay& own_;
};

// CorruptingRelay hands over altered shares.
class CorruptingRelay final : public ForwardingRelay {
 public:
  using ForwardingRelay::ForwardingRelay;
  Result<Delivery> OfferShare(const std::string& sender, const pb::ShareOffer& offer,
                              std::span<const std::uint8_t> share) override {
    auto delivery = ForwardingRelay::OfferShare(sender, offer, share);
    if (delivery) Corrupt(*delivery);
    return delivery;
  }
  Result<std::vector<Delivery>> PendingFor(const std::string& recipient) override {
    auto pending = ForwardingRelay::PendingFor(recipient);
    if (pending) {
      for (auto& d : *pending) Corrupt(d);
    }
    return pending;
  }

 private:
  static void Corrupt(Delivery& d) {
    if (!d.share.empty()) d.share.MutableExpose()[0] ^= 0x5a;
  }
};

// RefusalForgingRelay turns every confirmation into a refusal in the
// sender's name.
class RefusalForgingRelay final : public ForwardingRelay {
 public:
  using ForwardingRelay::ForwardingRelay;
  Result<Delivery> OfferConfirm(const std::string& sender, const pb::ConfirmOffer& offer) override {
    auto delivery = ForwardingRelay::OfferConfirm(sender, offer);
    if (delivery) Forge(*delivery);
    return delivery;
  }
  Result<std::vector<Delivery>> PendingFor(const std::string& recipient) override {
    auto pending = ForwardingRelay::PendingFor(recipient);
    if (pending) {
      for (auto& d : *pending) Forge(d);
    }
    return pending;
  }

 private:
  static void Forge(Delivery& d) {
    if (!d.message.has_confirm()) return;
    auto* confirm = d.message.mutable_confirm();
    confirm->clear_tags();
    confirm->clear_responder_x25519();
    // The most a refusal can claim: the sender has no session at all, so
    // that an initiator that took it would start afresh; its MAC is junk.
    confirm->set_refusal("session epoch mismatch (forged by a hub)");
    confirm->set_refusal_kind(pb::REFUSAL_KIND_EPOCH_MISMATCH);
    confirm->set_responder_epoch(0);
    confirm->set_refusal_mac(std::string(48, 'x'));
  }
};

// ConfirmDroppingRelay keeps every confirmation for one device from it.
class ConfirmDroppingRelay final : public ForwardingRelay {
 public:
  ConfirmDroppingRelay(Relay& own, std::string device)
      : ForwardingRelay(own), device_(std::move(device)) {}
  Result<Delivery> OfferConfirm(const std::string& sender, const pb::ConfirmOffer& offer) override {
    auto delivery = ForwardingRelay::OfferConfirm(sender, offer);
    if (delivery && delivery->recipient == device_) delivery->recipient.clear();  // not pushed
    return delivery;
  }
  Result<std::vector<Delivery>> PendingFor(const std::string& recipient) override {
    auto pending = ForwardingRelay::PendingFor(recipient);
    if (pending && recipient == device_) {
      std::erase_if(*pending, [](const Delivery& d) { return d.message.has_confirm(); });
    }
    return pending;
  }

 private:
  std::string device_;
};

// KeepingRelay keeps every share it is offered.
class KeepingRelay final : public ForwardingRelay {
 public:
  KeepingRelay(Relay& own, skap::hub::HubNode& node) : ForwardingRelay(own), node_(node) {}
  Result<Delivery> OfferShare(const std::string& sender, const pb::ShareOffer& offer,
                              std::span<const std::uint8_t> share) override {
    auto delivery = ForwardingRelay::OfferShare(sender, offer, share);
    if (!delivery) return delivery;
    const std::string message = offer.SerializeAsString();
    const std::string& sid = offer.header().sid();
    const auto& h = offer.header();
    auto wrapped =
        node_.keystore().Wrap(share, skap::hub::AgreementRelay::ShareBinding(
                                         skap::store::Blob(sid.begin(), sid.end()), sender,
                                         sender == h.initiator() ? h.responder() : h.initiator()));
    if (!wrapped) return skap::Unexpected(wrapped.error());
    auto kept = node_.database().Execute(
        "INSERT OR IGNORE INTO kept_shares (sid, sender, message, wrapped_share)"
        " VALUES ($1, $2, $3, $4)",
        {skap::store::Blob(sid.begin(), sid.end()), sender,
         skap::store::Blob(message.begin(), message.end()), skap::store::Blob(*wrapped)});
    if (!kept) return skap::Unexpected(kept.error());
    return delivery;
  }

 private:
  skap::hub::HubNode& node_;
};

int Usage() {
  std::fprintf(stderr,
               "usage: faulty_skapd --fault corrupt-shares|lie-refusals|drop-confirms|keep-shares"
               " run --config FILE\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 || std::string(argv[1]) != "--fault" || std::string(argv[3]) != "run" ||
      std::string(argv[4]) != "--config") {
    return Usage();
  }
  const std::string fault = argv[2];
  if (fault != "corrupt-shares" && fault != "lie-refusals" && fault != "drop-confirms" &&
      fault != "keep-shares") {
    return Usage();
  }
  // Read once, before the hub starts any thread.
  const char* device = std::getenv("SKAP_FAULT_DEVICE");  // NOLINT(concurrency-mt-unsafe)
  if (fault == "drop-confirms" && (device == nullptr || *device == '\0')) {
    std::fprintf(stderr, "faulty_skapd: drop-confirms needs SKAP_FAULT_DEVICE\n");
    return 2;
  }
  auto config = skap::hub::LoadHubConfig(argv[5]);
  if (!config) {
    std::fprintf(stderr, "faulty_skapd: %s\n", skap::ToString(config.error()).c_str());
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  skap::hub::HubSeams seams;
  seams.relay = [fault, device](Relay& own, skap::hub::HubNode& node) -> std::unique_ptr<Relay> {
    if (fault == "corrupt-shares") return std::make_unique<CorruptingRelay>(own);
    if (fault == "drop-confirms") return std::make_unique<ConfirmDroppingRelay>(own, device);
    if (fault == "lie-refusals") return std::make_unique<RefusalForgingRelay>(own);
    (void)node.database().Execute(
        "CREATE TABLE IF NOT EXISTS kept_shares (sid BLOB NOT NULL, sender TEXT NOT NULL,"
        " message BLOB NOT NULL, wrapped_share BLOB NOT NULL, PRIMARY KEY (sid, sender))");
    return std::make_unique<KeepingRelay>(own, node);
  };
  std::fprintf(stderr, "faulty_skapd: a hub that misbehaves on purpose: %s\n", fault.c_str());
  auto ran = skap::hub::RunHub(*config, seams);
  if (!ran) {
    std::fprintf(stderr, "faulty_skapd: %s\n", ran.error().message.c_str());
    return 1;
  }
  return 0;
}
