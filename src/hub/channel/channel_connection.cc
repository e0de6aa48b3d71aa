#include "hub/channel/channel_connection.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "crypto/channel_key.h"
#include "net/tcp_listener.h"

namespace skap::hub {
namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
namespace pb = skap::channel::v1;

}  // namespace

void ChannelServices::AuditEvent(const std::string& actor, const std::string& action,
                                 const std::string& target, const std::string& outcome,
                                 const std::string& detail, const std::string& device_id) {
  const auto held = db.Hold();
  // The entry goes to the tenant of the device it names, if that device
  // exists (a claim may name another's: its tenant sees attempts on it).
  std::string tenant;
  if (!device_id.empty()) {
    if (auto device = registry.devices().Get(Principal::Hub(), device_id)) {
      tenant = device->tenant_id;
    }
  }
  (void)audit.Append({actor, action, target, outcome, detail, tenant});
}

void ChannelServices::ForEachConnection(const std::string& device_id,
                                        const std::function<void(ChannelConnection&)>& f) {
  // Collect first: `f` may close a connection, which edits `by_device`.
  std::vector<std::shared_ptr<ChannelConnection>> open;
  auto [first, last] = by_device.equal_range(device_id);
  for (auto it = first; it != last; ++it) {
    if (auto c = it->second.lock()) open.push_back(std::move(c));
  }
  for (const auto& c : open) f(*c);
}

void ChannelServices::Forget(const std::string& device_id, const ChannelConnection* connection) {
  auto [first, last] = by_device.equal_range(device_id);
  for (auto it = first; it != last;) {
    const auto c = it->second.lock();
    it = (!c || c.get() == connection) ? by_device.erase(it) : std::next(it);
  }
}

void ChannelServices::CloseBatch() {
  if (auto closed = batch.Close(); !closed) {
    // Every answer of the batch was abandoned with it (their connections
    // close): the devices reconnect and send again.
    std::fprintf(stderr, "skapd: device channel: a batch failed to commit: %s\n",
                 ToString(closed.error()).c_str());
  }
}

void JoinBatch(const std::shared_ptr<ChannelServices>& services,
               const asio::any_io_executor& executor) {
  auto opened = services->batch.Join();
  // Not opened (the store busy or failing): each handler commits its own.
  if (!opened || !*opened) return;
  // Posted now, it runs after every handler already ready in this turn.
  asio::post(executor, [services] { services->CloseBatch(); });
}

Result<void> ChannelConnection::Start() {
  // Handshake flights and small frames go out at once; Nagle's algorithm
  // would hold each behind the peer's delayed ACK (40 ms on Linux).
  boost::system::error_code ignored;
  socket_.set_option(Tcp::no_delay(true), ignored);
  // The source address, for counting failed handshakes: the claim a
  // flood makes is its own, the address it comes from less so.
  SKAP_ASSIGN_OR_RETURN(
      tls_, crypto::TlsPskSession::NewServer(services_->tls, net::RemoteAddress(socket_)));
  Read();
  return Ok();
}

void ChannelConnection::Close() {
  if (closed_) return;
  if (release_queued_) {
    closing_ = true;
    timer_.cancel();
    return;
  }
  CloseNow();
}

void ChannelConnection::CloseNow() {
  if (closed_) return;
  closed_ = true;
  closing_ = false;
  timer_.cancel();
  if (handshaken_) services_->Forget(id_.device_id, this);
  boost::system::error_code ignored;
  socket_.shutdown(Tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void ChannelConnection::Read() {
  socket_.async_read_some(asio::buffer(buffer_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->OnRead(ec, n);
                          });
}

void ChannelConnection::OnRead(boost::system::error_code ec, std::size_t n) {
  if (ec || ending()) return Close();
  JoinBatch(services_, socket_.get_executor());
  if (!tls_->PutCiphertext(std::span(buffer_).first(n))) return Close();
  if (!handshaken_) {
    auto done = tls_->Handshake();
    if (!done) {
      // A failed PSK is a security event: audit who it claimed to be, and
      // how many attempts of that claim from that source were refused
      // unaudited before it (AuthFailures).
      auto claimed =
          proto::ParseChannelIdentity(tls_->presented_identity(), services_->registry.hub_id());
      const std::string device = claimed ? claimed->device_id : "";
      const auto verdict =
          services_->auth_failures.Failed(tls_->client(), device, MonotonicNowMs());
      if (verdict.audit) {
        nlohmann::json detail = nlohmann::json::object();
        if (verdict.suppressed > 0) detail["refused_unaudited_before"] = verdict.suppressed;
        services_->AuditEvent(claimed ? "device:" + device : "unknown-device", "channel.psk-failed",
                              device, "refused:authentication-failed", detail.dump(), device);
      }
      Flush();
      return Close();
    }
    if (*done) {
      handshaken_ = true;
      if (!OnHandshake()) return Close();
    }
  }
  if (handshaken_) {
    auto plaintext = tls_->Read();
    if (!plaintext) return Close();
    decoder_.Feed(plaintext->Expose());
    for (;;) {
      auto frame = decoder_.Next();
      if (!frame) return Close();  // malformed: no resynchronising a stream
      if (!frame->has_value()) break;
      Handle(**frame);
      if (ending()) return;
    }
    if (tls_->peer_closed()) {
      Flush();
      return Close();
    }
  }
  Flush();
  Read();
}

bool ChannelConnection::OnHandshake() {
  auto id = proto::ParseChannelIdentity(tls_->psk_identity(), services_->registry.hub_id());
  if (!id) return false;
  id_ = *id;
  services_->by_device.emplace(id_.device_id, weak_from_this());
  if (id_.epoch == 0) return true;
  std::optional<std::string_view> due;
  std::int64_t wait_ms = 0;
  {
    const auto held = services_->db.Hold();
    // This handshake proves the epoch: the previous key can go.
    (void)services_->registry.channel_keys().ConfirmEpoch(id_.device_id, id_.epoch);
    auto schedule = services_->registry.channel_keys().ScheduleFor(id_.device_id);
    if (!schedule) return false;
    at_current_epoch_ = schedule->epoch == id_.epoch;
    if (!at_current_epoch_) return true;  // the device has a newer epoch to take up
    const std::uint64_t sessions = ++services_->sessions[id_.device_id];
    const std::int64_t now = services_->now();
    due = RatchetDueReason(services_->options.ratchet, *schedule, sessions, now);
    wait_ms = MillisUntilAgeDue(services_->options.ratchet, *schedule, now);
  }
  if (due) {
    PushRatchetDue(*due);
  } else {
    ScheduleRatchetCheck(wait_ms);
  }
  return true;
}

void ChannelConnection::ScheduleRatchetCheck(std::int64_t wait_ms) {
  timer_.expires_after(std::chrono::milliseconds(wait_ms));
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->ending()) return;
    // Check again: the key may have moved on through another connection.
    std::optional<std::string_view> due;
    std::int64_t next_wait_ms = 0;
    {
      const auto held = self->services_->db.Hold();
      auto schedule = self->services_->registry.channel_keys().ScheduleFor(self->id_.device_id);
      if (!schedule || schedule->epoch != self->id_.epoch) return;
      const std::int64_t now = self->services_->now();
      due = RatchetDueReason(self->services_->options.ratchet, *schedule, 0, now);
      next_wait_ms = MillisUntilAgeDue(self->services_->options.ratchet, *schedule, now);
    }
    if (due) {
      self->PushRatchetDue(*due);
    } else {
      self->ScheduleRatchetCheck(next_wait_ms);
    }
  });
}

void ChannelConnection::PushRatchetDue(std::string_view reason) {
  if (ending() || !handshaken_ || !at_current_epoch_ || ratchet_pushed_ || ratcheted_) return;
  ratchet_pushed_ = true;
  pb::Envelope push;
  push.mutable_ratchet_due()->set_reason(std::string(reason));
  Reply(0, push);
  Flush();
}

void ChannelConnection::Reply(std::uint64_t request_id, pb::Envelope& envelope,
                              std::span<const std::uint8_t> trailer) {
  envelope.set_request_id(request_id);
  auto frame = proto::EncodeFrame(envelope, trailer);
  if (frame && tls_->Write(frame->Expose())) return;
  Close();
}

void ChannelConnection::Refuse(std::uint64_t request_id, const Error& error) {
  pb::Envelope e;
  e.mutable_error()->set_code(std::string(ErrorCodeName(error.code)));
  e.mutable_error()->set_message(error.message);
  Reply(request_id, e);
}

void ChannelConnection::Handle(const proto::Frame& frame) {
  const auto& in = frame.envelope;
  switch (in.body_case()) {
    case pb::Envelope::kPreflight:
      return HandlePreflight(in.request_id(), in.preflight());
    case pb::Envelope::kPing: {
      pb::Envelope out;
      out.mutable_pong();
      return Reply(in.request_id(), out);
    }
    case pb::Envelope::kRatchetRequest:
    case pb::Envelope::kEntropyRequest:
    case pb::Envelope::kShareOffer:
    case pb::Envelope::kConfirmOffer:
    case pb::Envelope::kDeliveryAck:
    case pb::Envelope::kFetchDeliveries:
    case pb::Envelope::kListPeers:
    case pb::Envelope::kCheckPeers:
      if (id_.epoch == 0) {
        return Refuse(in.request_id(),
                      {ErrorCode::kFailedPrecondition, "not admitted: only a pre-flight report"});
      }
      if (in.has_ratchet_request()) return HandleRatchet(in.request_id(), in.ratchet_request());
      if (in.has_entropy_request()) return HandleEntropy(in.request_id(), in.entropy_request());
      return HandleAgreement(in.request_id(), frame);
    default:
      return Refuse(in.request_id(), {ErrorCode::kInvalidArgument, "not a request the hub serves"});
  }
}

void ChannelConnection::HandlePreflight(std::uint64_t request_id, const pb::Preflight& p) {
  if (id_.epoch != 0) {
    return Refuse(request_id, {ErrorCode::kFailedPrecondition, "already admitted"});
  }
  const nlohmann::json report{{"agent_version", p.agent_version()},
                              {"platform", p.platform()},
                              {"entropy_health", p.entropy_health()},
                              {"config_fingerprint", p.config_fingerprint()}};
  const auto held = services_->db.Hold();
  auto device = services_->registry.devices().Get(Principal::Hub(), id_.device_id);
  if (!device) return Refuse(request_id, device.error());
  pb::Envelope out;
  if (device->state == DeviceState::kActive) {
    // Admitted since it last reported: hand over the hub's contribution.
    auto nonce = services_->registry.devices().HubNonceFor(id_.device_id);
    if (!nonce) return Refuse(request_id, nonce.error());
    out.mutable_admission_notice()->set_hub_nonce(std::string(nonce->begin(), nonce->end()));
    out.mutable_admission_notice()->set_epoch(1);
    return Reply(request_id, out);
  }
  auto recorded = services_->registry.devices().RecordPreflight(id_.device_id, report.dump(),
                                                                AsBytes(p.device_nonce()));
  if (!recorded) return Refuse(request_id, recorded.error());
  out.mutable_preflight_result()->set_state("pending");
  Reply(request_id, out);
}

void ChannelConnection::HandleRatchet(std::uint64_t request_id, const pb::RatchetRequest& request) {
  // One ratchet per connection: the device must reconnect with the new
  // epoch, so a second request can never replace a key it already took up.
  if (ratcheted_) {
    return Refuse(request_id,
                  {ErrorCode::kFailedPrecondition,
                   "already ratcheted on this connection; reconnect with the new epoch"});
  }
  Result<RatchetStep> step = Unexpected(ErrorCode::kUnavailable, "");
  {
    const auto held = services_->db.Hold();
    step = services_->registry.devices().Ratchet(id_.device_id, id_.epoch,
                                                 AsBytes(request.device_nonce()));
  }
  if (!step) return Refuse(request_id, step.error());
  ratcheted_ = true;
  timer_.cancel();
  services_->sessions.erase(id_.device_id);
  pb::Envelope out;
  out.mutable_ratchet_result()->set_hub_nonce(
      std::string(step->hub_nonce.begin(), step->hub_nonce.end()));
  out.mutable_ratchet_result()->set_epoch(static_cast<std::uint64_t>(step->epoch));
  Reply(request_id, out);
}

void ChannelConnection::HandleEntropy(std::uint64_t request_id, const pb::EntropyRequest& request) {
  const std::uint32_t length = request.length();
  const std::uint32_t max = services_->options.entropy.max_request_bytes;
  if (length == 0 || length > max) {
    return Refuse(request_id,
                  {ErrorCode::kInvalidArgument, "ask for 1 to " + std::to_string(max) + " bytes"});
  }
  const std::int64_t now = services_->now();
  const auto decision = services_->entropy_limiter.Take(id_.device_id, length, now);
  if (!decision.allowed) {
    auto& last = services_->limit_audited_ms[id_.device_id];
    if (now - last >= 60'000) {
      last = now;
      services_->AuditEvent("device:" + id_.device_id, "channel.entropy", id_.device_id,
                            "refused:limit-exceeded", nlohmann::json{{"requested", length}}.dump(),
                            id_.device_id);
    }
    return Refuse(request_id,
                  {ErrorCode::kLimitExceeded, "entropy rate limit; retry in " +
                                                  std::to_string(decision.retry_after_ms) + " ms"});
  }
  SecretBytes bytes(length);
  // Prediction resistance: what a device draws is backed by fresh entropy
  // from the hub's sources, not only by the DRBG's state.
  if (auto drawn =
          services_->entropy.Generate(bytes.MutableExpose(), entropy::PredictionResistance::kYes);
      !drawn) {
    return Refuse(request_id, drawn.error());
  }
  pb::Envelope out;
  out.mutable_entropy_result()->set_length(length);
  Reply(request_id, out, bytes.Expose());
}

void ChannelConnection::HandleAgreement(std::uint64_t request_id, const proto::Frame& frame) {
  const auto& in = frame.envelope;
  const std::string& device = id_.device_id;
  pb::Envelope out;
  if (in.has_list_peers()) {
    Result<std::vector<Device>> peers = Unexpected(ErrorCode::kUnavailable, "");
    {
      const auto held = services_->db.Hold();
      peers = services_->registry.devices().PeersOf(device);
    }
    if (!peers) return Refuse(request_id, peers.error());
    for (const auto& p : *peers) {
      auto* info = out.mutable_peer_list()->add_peers();
      info->set_id(p.id);
      info->set_name(p.name);
    }
    return Reply(request_id, out);
  }
  if (in.has_check_peers()) {
    constexpr int kMaxAsked = 1024;
    if (in.check_peers().device_ids_size() > kMaxAsked) {
      return Refuse(request_id, {ErrorCode::kInvalidArgument,
                                 "ask about at most " + std::to_string(kMaxAsked) + " peers"});
    }
    const std::vector<std::string> asked(in.check_peers().device_ids().begin(),
                                         in.check_peers().device_ids().end());
    Result<std::vector<EndedPeer>> ended = Unexpected(ErrorCode::kUnavailable, "");
    {
      const auto held = services_->db.Hold();
      ended = services_->registry.devices().EndedPeersOf(device, asked);
    }
    if (!ended) return Refuse(request_id, ended.error());
    auto* list = out.mutable_peers_ended();
    for (const auto& e : *ended) {
      auto* peer = list->add_peers();
      peer->set_device_id(e.device_id);
      peer->set_reason(e.reason);
    }
    return Reply(request_id, out);
  }
  if (in.has_fetch_deliveries()) {
    Result<std::vector<Delivery>> pending = Unexpected(ErrorCode::kUnavailable, "");
    {
      const auto held = services_->db.Hold();
      pending = services_->relay.PendingFor(device);
    }
    if (!pending) return Refuse(request_id, pending.error());
    for (const auto& d : *pending) PushDelivery(d);
    out.mutable_deliveries_sent()->set_count(static_cast<std::uint32_t>(pending->size()));
    return Reply(request_id, out);
  }
  if (in.has_delivery_ack()) {
    Result<void> acked = Unexpected(ErrorCode::kUnavailable, "");
    {
      const auto held = services_->db.Hold();
      acked = services_->relay.Acknowledge(device, in.delivery_ack());
    }
    if (!acked) return Refuse(request_id, acked.error());
    out.mutable_offer_accepted();
    return Reply(request_id, out);
  }
  Result<Delivery> delivery = Unexpected(ErrorCode::kUnavailable, "");
  {
    const auto held = services_->db.Hold();
    delivery = in.has_share_offer()
                   ? services_->relay.OfferShare(device, in.share_offer(), frame.trailer.Expose())
                   : services_->relay.OfferConfirm(device, in.confirm_offer());
  }
  if (!delivery) return Refuse(request_id, delivery.error());
  out.mutable_offer_accepted();
  Reply(request_id, out);
  Deliver(*delivery);
}

void ChannelConnection::Deliver(const Delivery& delivery) {
  if (delivery.recipient.empty()) return;
  services_->ForEachConnection(delivery.recipient,
                               [&](ChannelConnection& c) { c.PushDelivery(delivery); });
}

void ChannelConnection::PushDelivery(const Delivery& delivery) {
  if (ending() || !handshaken_ || id_.epoch == 0) return;
  pb::Envelope push;
  *push.mutable_peer_delivery() = delivery.message;
  Reply(0, push, delivery.share.Expose());
  Flush();
}

void ChannelConnection::PushPeerEnded(const std::string& peer, std::string_view reason) {
  if (ending() || !handshaken_ || id_.epoch == 0) return;
  pb::Envelope push;
  auto* ended = push.mutable_peers_ended()->add_peers();
  ended->set_device_id(peer);
  ended->set_reason(std::string(reason));
  Reply(0, push);
  Flush();
}

void ChannelConnection::Flush() {
  if (closed_) return;
  if (services_->batch.open()) {
    if (!release_queued_) {
      release_queued_ = true;
      // Abandoned, the answers claimed what the store does not hold: the
      // connection ends without them, and the device sends again.
      services_->db.AfterCommit([self = shared_from_this()] { self->Release(); },
                                [self = shared_from_this()] {
                                  self->release_queued_ = false;
                                  self->CloseNow();
                                });
    }
    return;
  }
  auto bytes = tls_->TakeCiphertext();
  if (bytes.empty()) return;
  writes_.Push(shared_from_this(), socket_, std::move(bytes));
}

void ChannelConnection::Release() {
  release_queued_ = false;
  if (closed_) return;
  auto bytes = tls_->TakeCiphertext();
  if (!bytes.empty()) writes_.Push(shared_from_this(), socket_, std::move(bytes));
  if (closing_) CloseNow();
}

}  // namespace skap::hub
