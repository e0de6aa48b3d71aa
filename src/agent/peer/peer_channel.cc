#include "agent/peer/peer_channel.h"

#include <algorithm>
#include <limits>
#include <set>

#include "common/ct.h"

namespace skap::agent {
namespace {

namespace pb = skap::peer::v1;

// kCounterRun is how many sealing counters one commit reserves.
constexpr std::uint64_t kCounterRun = 256;
constexpr std::int64_t kExpireEveryMs = 10000;
constexpr std::size_t kFlushAtMost = 256;

// A topic level may not hold MQTT's separators or wildcards.
std::string TopicSafe(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (c == '/' || c == '+' || c == '#' || c == '\0') c = '_';
  }
  return out;
}

}  // namespace

PeerChannel::PeerChannel(boost::asio::io_context& io, store::Database& db, SessionStore& sessions,
                         std::string self, std::string network, PeerChannelOptions options,
                         Clock now)
    : io_(io),
      store_(db),
      sessions_(sessions),
      self_(std::move(self)),
      network_(std::move(network)),
      options_(std::move(options)),
      now_(std::move(now)) {}

PeerChannel::~PeerChannel() { Stop(); }

peer::DirectHandlers PeerChannel::Handlers() {
  peer::DirectHandlers h;
  std::weak_ptr<bool> alive = alive_;
  h.lookup = [this,
              alive](std::span<const std::uint8_t> identity) -> std::optional<peer::DirectPeer> {
    if (alive.expired()) return std::nullopt;
    for (const auto& [id, state] : peers_) {
      for (const auto& keys : state.epochs) {
        if (keys.identity_peer.size() == identity.size() &&
            ct::Equal(keys.identity_peer, identity)) {
          return peer::DirectPeer{id, keys.epoch, keys.direct_psk.Clone()};
        }
      }
    }
    return std::nullopt;
  };
  h.up = [this, alive](const std::shared_ptr<peer::DirectConnection>& c) {
    if (alive.expired()) return;
    auto& state = peers_[c->peer()];
    std::erase_if(state.direct, [](const auto& w) { return w.expired() || !w.lock()->open(); });
    state.direct.push_back(c);
    Flush(c->peer());
  };
  h.frame = [this, alive](const std::string& peer, std::uint64_t epoch,
                          std::vector<std::uint8_t> sealed) {
    if (!alive.expired()) OnSealed(peer, epoch, sealed, false);
  };
  return h;
}

Result<void> PeerChannel::Start() {
  Refresh();
  if (options_.listen) {
    SKAP_ASSIGN_OR_RETURN(server_, peer::DirectServer::Start(io_, options_.listen->first,
                                                             options_.listen->second, Handlers()));
  }
  for (const auto& link : options_.direct) {
    auto dialer = std::make_unique<peer::DirectDialer>(
        io_, link.peer, link.address,
        [this, peer = link.peer]() -> std::optional<peer::DirectPsk> {
          Sync();
          const auto* keys = KeysOf(peer, 0);
          if (keys == nullptr) return std::nullopt;
          return peer::DirectPsk{keys->epoch, keys->identity_self, keys->direct_psk.Clone()};
        },
        Handlers());
    dialer_of_[link.peer] = dialer.get();
    dialers_.push_back(std::move(dialer));
  }
  for (auto& dialer : dialers_) dialer->Start();
  if (options_.relay) {
    std::weak_ptr<bool> alive = alive_;
    SKAP_ASSIGN_OR_RETURN(
        relay_, peer::RelayClient::Start(
                    io_, *options_.relay,
                    [this, alive](const std::string& topic, std::vector<std::uint8_t> payload) {
                      if (alive.expired()) return;
                      auto it = topics_.find(topic);
                      if (it == topics_.end()) return;
                      const auto [peer, epoch] = it->second;
                      OnSealed(peer, epoch, payload, true);
                    },
                    [this, alive](bool up) {
                      if (alive.expired() || !up) return;
                      for (auto& [peer, state] : peers_) Flush(peer);
                    }));
    relay_->SetTopics(topic_set_);
  }
  return Ok();
}

void PeerChannel::Stop() {
  if (alive_ && !acked_.empty() && store_.Remove({acked_.begin(), acked_.end()})) acked_.clear();
  alive_.reset();
  if (relay_) relay_->Stop();
  if (server_) server_->Stop();
  for (auto& dialer : dialers_) dialer->Stop();
  for (auto& [peer, state] : peers_) {
    for (auto& w : state.direct) {
      if (auto c = w.lock()) c->Close();
    }
  }
}

std::string PeerChannel::Topic(const std::string& inbox) const {
  return "skap/v1/" + TopicSafe(network_) + "/" + inbox + "/in";
}

void PeerChannel::Refresh() {
  const std::uint64_t generation = sessions_.generation();
  auto sessions = sessions_.List();
  if (!sessions) return;
  std::set<std::string> live;
  bool changed = false;
  bool complete = true;  // every session's keys derived: else the next Sync tries again
  for (const auto& s : *sessions) {
    live.insert(s.peer);
    auto secrets = sessions_.PeerSecrets(s.peer);
    if (!secrets || secrets->empty()) {
      complete = false;
      continue;
    }
    std::vector<peer::EpochKeys> epochs;
    for (const auto& e : *secrets) {
      auto keys = peer::DeriveEpochKeys(e.secret.Expose(), e.epoch, self_, s.peer);
      if (keys) epochs.push_back(std::move(*keys));
    }
    if (epochs.empty()) {
      complete = false;
      continue;
    }
    auto& state = peers_[s.peer];
    const peer::EpochKeys& now = epochs.front();
    const bool same_epoch = !state.epochs.empty() && state.epochs.front().epoch == now.epoch;
    const bool same_keys = same_epoch && state.epochs.front().identity_peer == now.identity_peer;
    if (same_keys && state.established_at_ms == s.established_at_ms) continue;
    // A fresh session (epoch 1 again, even within the same millisecond)
    // derives other keys for an epoch number seen before.
    const bool fresh = state.established_at_ms != s.established_at_ms || same_epoch ||
                       (!state.epochs.empty() && state.epochs.front().epoch > now.epoch);
    if (fresh) {
      // Nothing of the session before carries over.
      for (auto& w : state.direct) {
        if (auto c = w.lock()) c->Close();
      }
      state = PeerState{};
      state.established_at_ms = s.established_at_ms;
    }
    state.stats.peer = s.peer;
    state.epochs = std::move(epochs);
    state.stats.epoch = s.epoch;
    std::erase_if(state.logs, [&](const auto& l) { return KeysOf(s.peer, l.first) == nullptr; });
    std::erase_if(state.counters,
                  [&](const auto& c) { return KeysOf(s.peer, c.first) == nullptr; });
    // A link authenticated under an epoch no longer held ends; the dialer
    // comes back with the current one.
    for (auto& w : state.direct) {
      if (auto c = w.lock(); c && KeysOf(s.peer, c->epoch()) == nullptr) c->Close();
    }
    changed = true;
  }
  if (complete) generation_ = generation;
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (live.contains(it->first)) {
      ++it;
    } else {
      // The session is gone (erased: the peer ended): so are its links.
      for (auto& w : it->second.direct) {
        if (auto c = w.lock()) c->Close();
      }
      it = peers_.erase(it);
      changed = true;
    }
  }
  if (!changed) return;
  topics_.clear();
  topic_set_.clear();
  for (const auto& [id, state] : peers_) {
    for (const auto& keys : state.epochs) {
      const std::string topic = Topic(keys.inbox_self);
      topics_[topic] = {id, keys.epoch};
      topic_set_.insert(topic);
    }
  }
  if (relay_) relay_->SetTopics(topic_set_);
}

const peer::EpochKeys* PeerChannel::KeysOf(const std::string& peer, std::uint64_t epoch) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.epochs.empty()) return nullptr;
  if (epoch == 0) return &it->second.epochs.front();
  for (const auto& keys : it->second.epochs) {
    if (keys.epoch == epoch) return &keys;
  }
  return nullptr;
}

Result<std::uint64_t> PeerChannel::NextCounter(const std::string& peer, std::uint64_t epoch) {
  auto& c = peers_[peer].counters[epoch];
  if (c.next == c.limit) {
    std::uint64_t first = 0;
    SKAP_ASSIGN_OR_RETURN(c.limit, store_.ReserveCounters(peer, epoch, kCounterRun, &first));
    c.next = first;
  }
  return c.next++;
}

std::shared_ptr<peer::DirectConnection> PeerChannel::DirectOf(const std::string& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return nullptr;
  for (auto& w : it->second.direct) {
    if (auto c = w.lock(); c && c->open()) return c;
  }
  return nullptr;
}

std::string PeerChannel::Transport(const std::string& peer) {
  if (DirectOf(peer)) return "direct";
  if (relay_ && relay_->connected()) return "relay";
  return "none";
}

bool PeerChannel::Transmit(const std::string& peer, std::uint64_t epoch, pb::PeerMessage message,
                           std::uint64_t low_water) {
  Sync();  // never seal under the keys of a session that was just replaced
  const auto* keys = KeysOf(peer, epoch);
  if (keys == nullptr) return false;
  message.set_low_water(low_water);
  std::vector<std::uint8_t> body(message.ByteSizeLong());
  if (!message.SerializeToArray(body.data(), static_cast<int>(body.size()))) return false;
  auto counter = NextCounter(peer, epoch);
  if (!counter) return false;
  auto sealed = peer::Seal(*keys, *counter, body);
  if (!sealed) return false;
  auto& stats = peers_[peer].stats;
  if (auto c = DirectOf(peer); c && c->Send(epoch, *sealed)) {
    ++stats.sent_direct;
    return true;
  }
  if (relay_ && relay_->Publish(Topic(keys->inbox_peer), *sealed)) {
    ++stats.sent_relay;
    return true;
  }
  return false;
}

Result<void> PeerChannel::Send(const std::string& peer, const pb::PeerMessage& message,
                               std::uint64_t epoch, std::optional<std::int64_t> expires_at_ms) {
  Sync();
  const auto* keys = KeysOf(peer, epoch);
  if (keys == nullptr) {
    return Unexpected(ErrorCode::kNotFound, "no session epoch to seal a peer message under");
  }
  const std::uint64_t e = keys->epoch;
  pb::PeerMessage kept = message;
  const std::int64_t expires =
      expires_at_ms.value_or(now_() + std::chrono::milliseconds(options_.message_expiry).count());
  SKAP_RETURN_IF_ERROR(store_.Enqueue(peer, e,
                                      [&kept](std::uint64_t message_id) {
                                        kept.set_message_id(message_id);
                                        std::vector<std::uint8_t> body(kept.ByteSizeLong());
                                        (void)kept.SerializeToArray(body.data(),
                                                                    static_cast<int>(body.size()));
                                        return body;
                                      },
                                      expires, {acked_.begin(), acked_.end()}));
  acked_.clear();  // they left the outbox in that commit
  SKAP_ASSIGN_OR_RETURN(const auto low_water, store_.LowWater(peer, e));
  // Sealing reserves counters in the store too: a message sealed before
  // they are durable could meet its nonce again after a crash.
  store_.db().AfterCommit([this, peer, e, kept = std::move(kept), low_water]() mutable {
    (void)Transmit(peer, e, std::move(kept), low_water);
  });
  return Ok();
}

Result<void> PeerChannel::SendIssued(const std::string& peer,
                                     const std::vector<pairwise::KeyId>& ids,
                                     const std::string& master_sae, const std::string& slave_sae) {
  // One notice per run of consecutive indices of one chain.
  std::size_t i = 0;
  while (i < ids.size()) {
    std::size_t j = i + 1;
    while (j < ids.size() && ids[j].epoch == ids[i].epoch && ids[j].direction == ids[i].direction &&
           ids[j].index == ids[j - 1].index + 1) {
      ++j;
    }
    pb::PeerMessage m;
    auto* n = m.mutable_keys_issued();
    n->set_epoch(ids[i].epoch);
    n->set_direction(static_cast<std::uint32_t>(ids[i].direction));
    n->set_first_index(ids[i].index);
    n->set_count(static_cast<std::uint32_t>(j - i));
    n->set_master_sae(master_sae);
    n->set_slave_sae(slave_sae);
    // The slave's KME waits for it: it is given up only with its epoch.
    SKAP_RETURN_IF_ERROR(Send(peer, m, ids[i].epoch, std::numeric_limits<std::int64_t>::max()));
    i = j;
  }
  return Ok();
}

Result<std::optional<Issued>> PeerChannel::IssuedFor(const std::string& peer, pairwise::KeyId id) {
  return store_.FindIssued(peer, id.epoch, static_cast<unsigned>(id.direction), id.index);
}

void PeerChannel::Flush(const std::string& peer) {
  Sync();
  auto outbox = store_.Outbox(peer);
  if (!outbox) return;
  peers_[peer].last_flush_ms = now_();
  std::map<std::uint64_t, std::uint64_t> low_water;  // by epoch: the outbox is in id order
  std::size_t sent = 0;
  for (const auto& m : *outbox) {
    // Acknowledged, or of an epoch closed (Expire drops it soon).
    if (acked_.contains({peer, m.epoch, m.message_id}) || KeysOf(peer, m.epoch) == nullptr) {
      continue;
    }
    low_water.try_emplace(m.epoch, m.message_id);
    pb::PeerMessage message;
    if (!message.ParseFromArray(m.body.data(), static_cast<int>(m.body.size()))) continue;
    if (!Transmit(peer, m.epoch, std::move(message), low_water[m.epoch])) break;
    // A long outbox (a peer away for long) goes out a part at a time.
    if (++sent == kFlushAtMost) break;
  }
}

void PeerChannel::SendAck(const std::string& peer, std::uint64_t epoch, std::uint64_t message_id) {
  // An ack is not kept: if it is lost, the message comes again and is
  // acknowledged again.
  pb::PeerMessage m;
  m.mutable_ack()->set_message_id(message_id);
  (void)Transmit(peer, epoch, std::move(m), 0);
}

void PeerChannel::OnSealed(const std::string& peer, std::uint64_t epoch,
                           std::span<const std::uint8_t> sealed, bool via_relay) {
  Sync();
  auto it = peers_.find(peer);
  const auto* keys = KeysOf(peer, epoch);
  if (it == peers_.end() || keys == nullptr) return;  // not (or no longer) an epoch held
  PeerState& state = it->second;
  auto opened = peer::Open(*keys, sealed);
  pb::PeerMessage message;
  if (!opened || !message.ParseFromArray(opened->plaintext.Expose().data(),
                                         static_cast<int>(opened->plaintext.size()))) {
    ++state.stats.refused;
    return;
  }
  if (message.has_ack()) {
    ++state.stats.acks;
    // It leaves the outbox with the next commit: a crash before then only
    // sends it once more, and the peer acknowledges it again.
    acked_.insert({peer, epoch, message.ack().message_id()});
    return;
  }
  const std::uint64_t id = message.message_id();
  if (id == 0) {
    ++state.stats.refused;
    return;
  }
  auto log_it = state.logs.find(epoch);
  if (log_it == state.logs.end()) {
    auto loaded = store_.LoadLog(peer, epoch);
    if (!loaded) return;
    log_it = state.logs.emplace(epoch, std::move(*loaded)).first;
  }
  DeliveryLog next = log_it->second;
  next.GiveUpBelow(message.low_water());
  if (next.Seen(id)) {
    ++state.stats.duplicates;
    SendAck(peer, epoch, id);  // its first ack may have been lost
    return;
  }
  next.Accept(id);
  // The engine ignores tags it already has: handing them over before the
  // commit loses nothing if this side crashes in between.
  if (message.has_confirm() && on_confirm_) on_confirm_(peer, message.confirm());
  auto stored = store::InTransaction(store_.db(), [&]() -> Result<void> {
    if (message.has_keys_issued()) {
      const auto& n = message.keys_issued();
      SKAP_RETURN_IF_ERROR(store_.RecordIssuedInCurrentTransaction(
          peer,
          {n.epoch(), n.direction(), n.first_index(), n.count(), n.master_sae(), n.slave_sae()}));
    }
    return store_.SaveLogInCurrentTransaction(peer, epoch, next);
  });
  if (!stored) return;  // not acknowledged: it comes again
  // Looked up again: the engine's answer to tags may have moved the session
  // on, and Refresh with it.
  auto again = peers_.find(peer);
  if (again == peers_.end() || KeysOf(peer, epoch) == nullptr) return;
  again->second.logs[epoch] = std::move(next);
  ++(via_relay ? again->second.stats.received_relay : again->second.stats.received_direct);
  SendAck(peer, epoch, id);
}

void PeerChannel::Tick() {
  Sync();
  const std::int64_t now = now_();
  if (!acked_.empty() && store_.Remove({acked_.begin(), acked_.end()})) acked_.clear();
  if (now - last_expire_ms_ >= kExpireEveryMs) {
    last_expire_ms_ = now;
    (void)store_.Expire(now);
  }
  for (auto& [peer, state] : peers_) {
    if (now - state.last_flush_ms >= options_.resend.count() && Transport(peer) != "none") {
      Flush(peer);
    }
  }
}

std::vector<PeerLinkStatus> PeerChannel::Status() {
  Sync();
  std::vector<PeerLinkStatus> out;
  for (auto& [peer, state] : peers_) {
    PeerLinkStatus s = state.stats;
    s.peer = peer;
    s.transport = Transport(peer);
    if (auto d = dialer_of_.find(peer); d != dialer_of_.end()) {
      s.direct = d->second->status();
    } else if (server_) {
      s.direct = DirectOf(peer) ? "up (the peer dialled)" : "listening";
    }
    const auto outbox = store_.Outbox(peer);
    s.pending = outbox ? std::count_if(outbox->begin(), outbox->end(),
                                       [this](const Outgoing& m) {
                                         return !acked_.contains({m.peer, m.epoch, m.message_id});
                                       })
                       : -1;
    out.push_back(std::move(s));
  }
  return out;
}

std::string PeerChannel::RelayStatus() const {
  return relay_ ? relay_->status() : "not configured";
}

std::uint16_t PeerChannel::listen_port() const { return server_ ? server_->port() : 0; }

}  // namespace skap::agent
