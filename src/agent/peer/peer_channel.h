// The peer channel (docs/peer.md): messages between the two devices of a
// session — an agreement's confirmation tags, ratchet notices with the
// key-id sync of ETSI GS QKD 014 — sealed under the session
// (peer_keys.h), kept in an outbox until the peer acknowledges them,
// and sent over the best transport the peer has now: a direct TLS-PSK link
// (direct_link.h) when one is up, else the tenant's MQTT broker
// (relay_client.h). Each message is acted on once, whichever way and
// however often it arrives. Runs on the daemon's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "agent/peer/direct_link.h"
#include "agent/peer/peer_keys.h"
#include "agent/peer/relay_client.h"
#include "agent/store/peer_store.h"
#include "agent/store/session_store.h"
#include "common/clock.h"
#include "pairwise/session_keys.h"
#include "proto/peer.pb.h"
#include "skap/endpoint.h"

namespace skap::agent {

struct PeerAddress {
  std::string peer;     // device id
  std::string address;  // host:port of its [peer] listener
};

struct PeerChannelOptions {
  std::optional<std::pair<std::string, std::uint16_t>> listen;  // the direct listener
  std::vector<PeerAddress> direct;                              // peers this side dials
  std::optional<peer::RelayOptions> relay;
  std::chrono::milliseconds resend{2000};  // unacknowledged messages go again
  std::chrono::seconds message_expiry{3600};
  bool enabled() const { return listen.has_value() || !direct.empty() || relay.has_value(); }
};

class PeerChannel {
 public:
  using ConfirmHandler =
      std::function<void(const std::string& sender, const channel::v1::ConfirmOffer& confirm)>;

  PeerChannel(boost::asio::io_context& io, store::Database& db, SessionStore& sessions,
              std::string self, std::string network, PeerChannelOptions options, Clock now);
  ~PeerChannel();
  PeerChannel(const PeerChannel&) = delete;
  PeerChannel& operator=(const PeerChannel&) = delete;

  Result<void> Start();
  void Stop();
  void OnConfirm(ConfirmHandler handler) { on_confirm_ = std::move(handler); }

  // Send keeps `message` for `peer`, sealed under `epoch` (0: the
  // session's current one), and sends it if a transport is up once it is
  // stored (called inside a transaction: once that commits).
  // It expires after message_expiry, or at `expires_at_ms` if given.
  Result<void> Send(const std::string& peer, const peer::v1::PeerMessage& message,
                    std::uint64_t epoch = 0, std::optional<std::int64_t> expires_at_ms = {});
  // SendIssued keeps the ratchet notices for a run of keys reserved for one
  // SAE pair (none: the device's own consumers), inside the transaction
  // that takes the run off the chain (SessionStore::RunTaken), so no key
  // of it is handed out before its notice is kept; they expire only with
  // their epoch.
  Result<void> SendIssued(const std::string& peer, const std::vector<pairwise::KeyId>& ids,
                          const std::string& master_sae, const std::string& slave_sae);
  // IssuedFor is what the peer said of one of its keys, if it said it.
  Result<std::optional<Issued>> IssuedFor(const std::string& peer, pairwise::KeyId id);

  // Tick resends, expires and follows the sessions' epochs (about once a second).
  void Tick();
  std::vector<PeerLinkStatus> Status();
  std::string RelayStatus() const;
  std::uint16_t listen_port() const;

 private:
  struct Counters {
    std::uint64_t next = 0, limit = 0;
  };
  struct PeerState {
    std::vector<peer::EpochKeys> epochs;  // current first
    std::int64_t established_at_ms = 0;   // a fresh session (epoch 1 again) changes it
    std::map<std::uint64_t, DeliveryLog> logs;
    std::map<std::uint64_t, Counters> counters;
    std::vector<std::weak_ptr<peer::DirectConnection>> direct;
    std::int64_t last_flush_ms = 0;
    PeerLinkStatus stats;
  };

  // Refresh follows the sessions: new epochs, and fresh sessions, whose
  // channel starts anew. Sync does it only if a session changed since.
  void Refresh();
  void Sync() {
    if (sessions_.generation() != generation_) Refresh();
  }
  const peer::EpochKeys* KeysOf(const std::string& peer, std::uint64_t epoch);
  Result<std::uint64_t> NextCounter(const std::string& peer, std::uint64_t epoch);
  std::shared_ptr<peer::DirectConnection> DirectOf(const std::string& peer);
  std::string Transport(const std::string& peer);
  // Transmit seals one message (with the sender's low-water mark) under a
  // fresh counter and sends it over the peer's transport now.
  bool Transmit(const std::string& peer, std::uint64_t epoch, peer::v1::PeerMessage message,
                std::uint64_t low_water);
  void Flush(const std::string& peer);
  void OnSealed(const std::string& peer, std::uint64_t epoch, std::span<const std::uint8_t> sealed,
                bool via_relay);
  void SendAck(const std::string& peer, std::uint64_t epoch, std::uint64_t message_id);
  std::string Topic(const std::string& inbox) const;
  peer::DirectHandlers Handlers();

  boost::asio::io_context& io_;
  PeerStore store_;
  SessionStore& sessions_;
  std::string self_;
  std::string network_;
  PeerChannelOptions options_;
  Clock now_;
  ConfirmHandler on_confirm_;
  std::map<std::string, PeerState> peers_;
  std::map<std::string, std::pair<std::string, std::uint64_t>> topics_;  // topic -> peer, epoch
  std::set<std::string> topic_set_;
  std::unique_ptr<peer::DirectServer> server_;
  std::vector<std::unique_ptr<peer::DirectDialer>> dialers_;
  std::map<std::string, peer::DirectDialer*> dialer_of_;
  std::unique_ptr<peer::RelayClient> relay_;
  std::set<MessageKey> acked_;  // acknowledged, still in the outbox until the next commit
  std::int64_t last_expire_ms_ = 0;
  std::uint64_t generation_ = ~std::uint64_t{0};  // of the sessions, when last refreshed
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace skap::agent
