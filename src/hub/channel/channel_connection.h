// One device's connection to the channel server: TLS 1.3 external PSK over
// TCP, frames inside, and the handlers for each request. Internal to
// hub/channel_server.cc; every object here lives on the server's one thread.
//
// Group commit: the handlers of one turn of the loop share one transaction
// (ChannelServices::batch), and a connection's output (replies, pushes,
// handshake flights alike: one TLS stream keeps one order) stays in its TLS
// session until that transaction is durable. So nothing the hub answers
// ever claims more than its store holds, at one fsync per turn rather than
// one per request.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include <boost/asio.hpp>

#include "crypto/tls_psk.h"
#include "hub/channel/agreement_relay.h"
#include "hub/channel/channel_server.h"
#include "hub/guard/auth_failures.h"
#include "hub/guard/rate_limiter.h"
#include "net/write_queue.h"
#include "proto/channel_identity.h"
#include "proto/frame.h"
#include "store/group_commit.h"

namespace skap::hub {

class ChannelConnection;

// ChannelServices is what connections share: the hub's services, the
// policies, and the per-device bookkeeping kept in memory.
struct ChannelServices {
  ChannelServices(Registry& r, AuditLog& a, entropy::EntropyService& e, Relay& ar,
                  store::Database& d, ChannelServerOptions o, Clock clock)
      : registry(r),
        audit(a),
        entropy(e),
        relay(ar),
        db(d),
        options(std::move(o)),
        now(std::move(clock)),
        batch(d, "hub"),
        entropy_limiter(options.entropy.bytes_per_second, options.entropy.burst_bytes) {}

  Registry& registry;
  AuditLog& audit;
  entropy::EntropyService& entropy;
  Relay& relay;
  store::Database& db;  // held (Database::Hold) around every registry, relay and audit use
  ChannelServerOptions options;
  Clock now;
  // One batch per turn of the server's loop: every handler that reads from
  // a socket joins it, and what the handlers answer leaves once it commits
  // (store/group_commit.h).
  store::GroupCommit batch;
  std::shared_ptr<crypto::TlsPskContext> tls;
  RateLimiter entropy_limiter;
  // Failed handshakes, per claimed device and source address: refused
  // before the key lookup once spent, audited in aggregate. Its buckets
  // refill on the monotonic clock (a wall-clock step must not stop them).
  AuthFailures auth_failures;
  // Sessions opened at each device's current epoch since it began. Kept in
  // memory: after a restart the count starts again and the age bound still
  // holds, which is cheaper than a database write per handshake.
  std::unordered_map<std::string, std::uint64_t> sessions;
  // When a device's last rate-limit refusal was audited (at most one a
  // minute, so a busy device cannot flood the audit log).
  std::unordered_map<std::string, std::int64_t> limit_audited_ms;
  std::multimap<std::string, std::weak_ptr<ChannelConnection>> by_device;

  // AuditEvent records what a channel saw, for the tenant of `device_id`.
  void AuditEvent(const std::string& actor, const std::string& action, const std::string& target,
                  const std::string& outcome, const std::string& detail,
                  const std::string& device_id);
  // ForEachConnection calls `f` on every open connection of `device_id`.
  void ForEachConnection(const std::string& device_id,
                         const std::function<void(ChannelConnection&)>& f);
  // Forget drops `connection` (and any that are gone) from `by_device`.
  void Forget(const std::string& device_id, const ChannelConnection* connection);
  // CloseBatch commits the turn's batch, if one is open, and releases what
  // waited for it.
  void CloseBatch();
};

// JoinBatch makes the caller's work part of this turn's batch, opening one
// (and queueing its close behind the handlers already ready to run on
// `executor`) if none is open.
void JoinBatch(const std::shared_ptr<ChannelServices>& services,
               const boost::asio::any_io_executor& executor);

class ChannelConnection : public std::enable_shared_from_this<ChannelConnection> {
 public:
  ChannelConnection(boost::asio::ip::tcp::socket socket, std::shared_ptr<ChannelServices> services)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        services_(std::move(services)) {}

  Result<void> Start();
  // Close ends the connection. If it has answers waiting for the batch to
  // commit, they go first, and the connection closes after them (or at
  // once if the batch fails); meanwhile it takes no more input.
  void Close();
  // PushRatchetDue tells the device its key is due for a new epoch (once per
  // connection, and only on a channel of its current epoch).
  void PushRatchetDue(std::string_view reason);
  // PushDelivery hands a peer's offer to the device (admitted channels only).
  void PushDelivery(const Delivery& delivery);
  // PushPeerEnded tells the device that `peer` no longer takes part with it
  // (admitted channels only).
  void PushPeerEnded(const std::string& peer, std::string_view reason);

 private:
  void Read();
  void OnRead(boost::system::error_code ec, std::size_t n);
  bool OnHandshake();
  // ScheduleRatchetCheck looks again in `wait_ms`, when the epoch comes of age.
  void ScheduleRatchetCheck(std::int64_t wait_ms);
  void Handle(const proto::Frame& frame);
  void HandlePreflight(std::uint64_t request_id, const channel::v1::Preflight& preflight);
  void HandleRatchet(std::uint64_t request_id, const channel::v1::RatchetRequest& request);
  void HandleEntropy(std::uint64_t request_id, const channel::v1::EntropyRequest& request);
  // The agreement relay (agreement_relay.h): offers, deliveries, peers.
  void HandleAgreement(std::uint64_t request_id, const proto::Frame& frame);
  // Deliver pushes `delivery` to every open channel of its recipient.
  void Deliver(const Delivery& delivery);
  void Reply(std::uint64_t request_id, channel::v1::Envelope& envelope,
             std::span<const std::uint8_t> trailer = {});
  void Refuse(std::uint64_t request_id, const Error& error);
  // Flush queues the ciphertext the session has for the socket, once the
  // open batch (if any) has committed.
  void Flush();
  // Release, once the batch committed: the held answers go out.
  void Release();
  void CloseNow();
  // ending: closed, or closing once its held answers are out.
  [[nodiscard]] bool ending() const { return closed_ || closing_; }

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<ChannelServices> services_;
  std::unique_ptr<crypto::TlsPskSession> tls_;
  proto::FrameDecoder decoder_;
  std::array<std::uint8_t, 16384> buffer_{};
  net::WriteQueue writes_;
  proto::ChannelIdentity id_;
  bool handshaken_ = false;
  bool closed_ = false;
  bool closing_ = false;         // Close asked while answers wait for the batch
  bool release_queued_ = false;  // a Release waits for the open batch
  bool at_current_epoch_ = false;
  bool ratchet_pushed_ = false;
  bool ratcheted_ = false;
};

}  // namespace skap::hub
