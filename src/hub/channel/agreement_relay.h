// The hub's part in pairwise agreements (docs/protocol.md, "Through the
// hubs"): it checks each offer against the network's policy, keeps it
// durably for the recipient, hands it over, and erases it once the recipient
// acknowledges it. A hub sees one share of each side's contribution; with
// k >= 2 that tells it nothing about the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret_bytes.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/registry.h"
#include "keystore/keystore.h"
#include "proto/channel.pb.h"
#include "store/database.h"

namespace skap::hub {

// RelayLimits bound what devices may leave in a hub's mailbox.
struct RelayLimits {
  // max_lifetime bounds how far ahead an agreement's expiry may lie.
  std::chrono::milliseconds max_lifetime = std::chrono::minutes(10);
  // confirm_grace is how long after an agreement's expiry its confirmation
  // tags are still relayed: the last tag must not be lost to a close call.
  std::chrono::milliseconds confirm_grace = std::chrono::minutes(10);
  // max_pending bounds the undelivered offers waiting for one device, and
  // max_pending_per_sender those from one sender among them.
  std::int64_t max_pending = 4096;
  std::int64_t max_pending_per_sender = 64;
};

// Delivery is one stored offer on its way to its recipient; none (an empty
// recipient) when there is nothing to hand over.
struct Delivery {
  std::string recipient;
  channel::v1::PeerDelivery message;
  SecretBytes share;  // y_i of a share; empty for a confirmation
};

// Relay is what the device channel asks of the hub's part in agreements.
// AgreementRelay is the hub's; a test decorates it to play a hub that lies
// or keeps what it should erase (tests/tools/faulty_skapd.cc).
class Relay {
 public:
  virtual ~Relay() = default;
  virtual Result<Delivery> OfferShare(const std::string& sender,
                                      const channel::v1::ShareOffer& offer,
                                      std::span<const std::uint8_t> share) = 0;
  virtual Result<Delivery> OfferConfirm(const std::string& sender,
                                        const channel::v1::ConfirmOffer& offer) = 0;
  virtual Result<std::vector<Delivery>> PendingFor(const std::string& recipient) = 0;
  virtual Result<void> Acknowledge(const std::string& recipient,
                                   const channel::v1::DeliveryAck& ack) = 0;
  virtual Result<std::int64_t> Purge() = 0;
};

// AgreementRelay carries out the hub's side. Every refusal is audited and
// changes nothing; every accepted offer is audited with its public facts.
class AgreementRelay final : public Relay {
 public:
  // MigrationSql is this class's part of hub.db's schema version `version`
  // (its tables' DDL; hub/schema.cc orders the whole), empty if none.
  static std::string_view MigrationSql(int version);
  // BindWrappedKeys binds the shares wrapped before bindings to their
  // mailbox rows (schema version 10; keystore/rebind.h).
  static Result<void> BindWrappedKeys(store::Database& db, keystore::Keystore& kek);
  // ShareBinding binds a stored share to its mailbox row: its agreement,
  // sender and recipient (keystore/keystore.h).
  static keystore::WrapBinding ShareBinding(const store::Blob& sid, const std::string& sender,
                                            const std::string& recipient);

  AgreementRelay(Registry& registry, store::Database& db, keystore::Keystore& keystore,
                 AuditLog& audit, Clock now, RelayLimits limits = {})
      : registry_(registry),
        db_(db),
        keystore_(keystore),
        audit_(audit),
        now_(std::move(now)),
        limits_(limits) {}

  // OfferShare stores `sender`'s share y_i for the other party of the
  // agreement. Refused: a sender that is not a party or not active, a peer
  // in another network (as if it did not exist) or not active, a pair the
  // network's policy does not allow, a hub set or threshold other than the
  // network's, a share index other than this hub's, an expiry in the past
  // or too far ahead, a sid already used. The same offer again is accepted
  // and changes nothing. Returns what to deliver (none for an offer already
  // delivered).
  Result<Delivery> OfferShare(const std::string& sender, const channel::v1::ShareOffer& offer,
                              std::span<const std::uint8_t> share) override;
  // OfferConfirm stores confirmation tags (or a refusal) for the
  // recipient, replacing the sender's earlier ones for the same sid; the
  // same ones again change nothing (and return no delivery).
  Result<Delivery> OfferConfirm(const std::string& sender,
                                const channel::v1::ConfirmOffer& offer) override;
  // PendingFor returns what still waits for `recipient`, shares first.
  Result<std::vector<Delivery>> PendingFor(const std::string& recipient) override;
  // Acknowledge erases a delivery the recipient has stored; what is left
  // (a tombstone without the share) is purged when the agreement expires.
  Result<void> Acknowledge(const std::string& recipient,
                           const channel::v1::DeliveryAck& ack) override;
  // Purge drops everything of expired agreements and returns how many.
  Result<std::int64_t> Purge() override;

 private:
  struct Route {
    std::string recipient;
    Network network;
  };
  // RouteFor checks that `sender` may send to `recipient` at all.
  Result<Route> RouteFor(const std::string& sender, const std::string& recipient);
  // MakeDelivery builds a delivery from a stored offer.
  Result<Delivery> MakeDelivery(const std::string& recipient, const std::string& sender,
                                const store::Blob& sid, channel::v1::DeliveryKind kind,
                                std::span<const std::uint8_t> message,
                                const std::optional<store::Blob>& wrapped_share);
  Result<void> CheckRoom(const std::string& sender, const std::string& recipient);

  Registry& registry_;
  store::Database& db_;
  keystore::Keystore& keystore_;
  AuditLog& audit_;
  Clock now_;
  RelayLimits limits_;
};

}  // namespace skap::hub
