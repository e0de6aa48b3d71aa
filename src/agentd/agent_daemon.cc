#include "agentd/agent_daemon.h"

#include <array>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include <boost/asio.hpp>

#include "agent/hub/channel_steps.h"
#include "agent/store/agent_dir.h"
#include "agent/store/agreement_store.h"
#include "agent/store/peer_store.h"
#include "agent/store/session_store.h"
#include "agentd/control/control_api.h"
#include "agentd/kme/kme_credentials.h"
#include "common/hex.h"
#include "crypto/tls_server_context.h"
#include "crypto/uuid.h"
#include "entropy/entropy_service.h"
#include "net/http/server.h"

namespace skap::agent {
namespace {

namespace asio = boost::asio;

// RelayClientId is the MQTT client id: drawn once and kept, so the
// broker keeps this device's session across restarts, and random, so it
// says nothing of the device.
Result<std::string> RelayClientId(const std::string& data_dir, crypto::Rng& rng) {
  const std::string path = data_dir + "/relay_client_id";
  if (std::ifstream in(path); in) {
    std::string id;
    if (std::getline(in, id) && !id.empty()) return id;
  }
  std::array<std::uint8_t, 12> bytes{};
  SKAP_RETURN_IF_ERROR(rng.Fill(bytes));
  const std::string id = "skap-" + HexEncode(bytes);
  std::ofstream out(path, std::ios::trunc);
  out << id << "\n";
  if (!out.flush()) return Unexpected(ErrorCode::kIoError, "cannot write " + path);
  return id;
}

}  // namespace

// Parts is everything the daemon holds, in the order it is built (and the
// reverse order it is torn down), and the endpoint API's work on its thread.
struct AgentDaemon::Parts {
  AgentOptions options;
  Clock clock;
  std::unique_ptr<entropy::EntropyService> entropy;
  std::unique_ptr<AgentDir> store;
  Identity identity;
  std::size_t hubs_enrolled = 0;
  std::string socket;
  asio::io_context io;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<AgreementStore> agreements;
  std::unique_ptr<AgreementEngine> engine;
  std::unique_ptr<PeerChannel> peer_channel;
  std::vector<std::unique_ptr<HubLink>> links;
  std::unique_ptr<ControlApi> api;
  std::unique_ptr<net::HttpServer> control;
  std::unique_ptr<kme::Etsi014Api> kme_api;
  std::unique_ptr<boost::asio::ssl::context> kme_tls;
  std::unique_ptr<net::HttpServer> kme_server;
  std::unique_ptr<ppk::PpkInstaller> ppk;
  std::vector<std::uint64_t> ppk_offered;  // per target: the epoch last handed over
  std::unique_ptr<asio::steady_timer> tick;
  std::unique_ptr<asio::signal_set> signals;
  bool stopping = false;

  void ScheduleTick() {
    tick->expires_after(std::chrono::seconds(1));
    tick->async_wait([this](boost::system::error_code ec) {
      if (ec || stopping) return;
      engine->Tick();
      if (peer_channel) peer_channel->Tick();
      OfferPpks();
      // What the last second erased leaves the WAL too (store/database.h).
      (void)store->db().ScrubLog();
      ScheduleTick();
    });
  }

  // OfferPpks hands each [[ppk]] target the PPK of its session's current
  // epoch once that epoch is new: the root is unwrapped only then.
  void OfferPpks() {
    if (!ppk) return;
    for (std::size_t i = 0; i < ppk->targets().size(); ++i) {
      const std::string& peer = ppk->targets()[i].peer;
      auto session = sessions->Get(peer);
      if (!session || !*session || (*session)->epoch == ppk_offered[i]) continue;
      auto current = sessions->CurrentPpk(peer);
      if (!current) continue;
      ppk_offered[i] = current->epoch;
      ppk->Offer(i, current->epoch, std::move(current->ppk));
    }
  }

  void StopOnLoop() {
    if (stopping) return;
    stopping = true;
    tick->cancel();
    if (signals) signals->cancel();
    control->Stop();
    if (kme_server) kme_server->Stop();
    if (peer_channel) peer_channel->Stop();
    for (auto& link : links) link->Stop();
  }

  // OnLoop runs `work` on the daemon's thread (at once when called there),
  // or answers `done` that the endpoint is stopping.
  template <typename T, typename Work>
  void OnLoop(Done<T> done, Work work) {
    // After Run has returned nothing would run what is posted.
    if (io.stopped()) return done(Unexpected(ErrorCode::kUnavailable, "the endpoint is stopping"));
    asio::dispatch(io, [this, done = std::move(done), work = std::move(work)]() mutable {
      if (stopping) return done(Unexpected(ErrorCode::kUnavailable, "the endpoint is stopping"));
      work(std::move(done));
    });
  }

  // ListPeers asks a reachable hub for this network's active devices.
  void ListPeers(Done<std::vector<Peer>> done) {
    for (HubLink* link : Links()) {
      if (!link->up()) continue;
      channel::v1::Envelope request;
      request.mutable_list_peers();
      link->Request(
          std::move(request), SecretBytes(),
          [this, done = std::move(done)](Result<proto::Frame> answer) {
            if (!answer) return done(Unexpected(std::move(answer).error()));
            const auto& body = answer->envelope;
            if (body.has_error()) return done(RefusedByHub(body.error()));
            std::vector<Peer> peers;
            for (const auto& p : body.peer_list().peers()) {
              auto session = sessions->Get(p.id());
              peers.push_back({p.id(), p.name(), session && *session ? (*session)->epoch : 0});
            }
            done(std::move(peers));
          });
      return;
    }
    done(Unexpected(ErrorCode::kUnavailable, "no hub is reachable to ask for peers"));
  }

  // ResolvePeer turns a device id or name into the device id.
  void ResolvePeer(const std::string& id_or_name, Done<std::string> done) {
    if (crypto::IsCanonicalUuid(id_or_name)) return done(id_or_name);
    ListPeers([id_or_name, done = std::move(done)](Result<std::vector<Peer>> peers) {
      if (!peers) return done(Unexpected(std::move(peers).error()));
      for (const auto& p : *peers) {
        if (p.name == id_or_name) return done(p.id);
      }
      done(Unexpected(ErrorCode::kNotFound,
                      "no active device named '" + id_or_name + "' in this network"));
    });
  }

  std::vector<HubLink*> Links() const {
    std::vector<HubLink*> out;
    for (const auto& link : links) out.push_back(link.get());
    return out;
  }

  EndpointStatus StatusOnLoop() {
    EndpointStatus out;
    out.device = {identity.device_id, identity.device_name, identity.network_name, identity.hub_set,
                  identity.threshold};
    for (const auto& link : links) {
      out.hubs.push_back({link->hub_id(), link->up(), link->Status(), link->epoch()});
    }
    out.hubs_up = engine->UpLinks();
    const auto health = entropy->Status();
    out.entropy.operational = health.operational;
    out.entropy.reseeds = health.reseeds;
    for (const auto& s : health.sources) {
      out.entropy.sources.push_back({s.name, std::string(entropy::SourceStateName(s.state))});
    }
    if (auto list = sessions->List()) {
      for (const auto& s : *list) out.sessions.push_back(SessionStatusOf(s));
    }
    if (peer_channel) {
      out.peer_channel = PeerChannelStatus{peer_channel->RelayStatus(), peer_channel->listen_port(),
                                           peer_channel->Status()};
    }
    if (ppk) out.ppk = ppk->Status();
    out.agreements = engine->Recent(10);
    return out;
  }

  // NotEnded refuses what a consumer asks of a peer that ended (revoked,
  // rejected, disallowed), saying so rather than "no session".
  Result<void> NotEnded(const std::string& peer) const {
    if (auto why = engine->EndedReason(peer)) {
      return Unexpected(ErrorCode::kPermissionDenied,
                        "peer " + peer + " ended: " + *why + "; its session is erased");
    }
    return Ok();
  }

  void NextKeysOnLoop(const std::string& peer, std::uint32_t count,
                      const std::optional<KeyUse>& use, const Done<std::vector<Key>>& done) {
    if (auto live = NotEnded(peer); !live) return done(Unexpected(std::move(live).error()));
    const KeyUse to = use.value_or(KeyUse{});
    SessionStore::RunTaken announce;
    if (peer_channel) {
      // The key-id sync names each run once, as it is reserved for its
      // pool, so a request served from the reserve commits nothing. Keys
      // whose notice is not kept are handed out to no one: the peer's
      // consumer could never take them. A local consumer's keys are named
      // too (no SAEs), so that no SAE at the peer can take them, and the
      // peer's local consumers no key of an SAE here.
      announce = [&](const std::vector<pairwise::KeyId>& run) -> Result<void> {
        if (auto sent = peer_channel->SendIssued(peer, run, to.master_sae, to.slave_sae); !sent) {
          return Unexpected(ErrorCode::kIoError,
                            "the key-id sync could not keep its notice: " + sent.error().message);
        }
        return Ok();
      };
    }
    auto keys = sessions->NextKeys(peer, count, PoolOf(to), announce);
    if (!keys) return done(Unexpected(std::move(keys).error()));
    done(KeysOf(std::move(*keys)));
  }

  // PoolOf names the reserve a consumer's keys come from (SessionStore):
  // "" for the device's own consumers, one per SAE pair otherwise.
  static std::string PoolOf(const KeyUse& use) {
    if (use.master_sae.empty()) return {};
    return use.master_sae + '\n' + use.slave_sae;
  }

  static std::string Whom(const KeyUse& use) {
    if (use.master_sae.empty()) return "to the peer's local consumers (control socket, C API)";
    return "by SAE " + use.master_sae + " for SAE " + use.slave_sae;
  }

  // Entitled checks what the peer's side said of each key it handed out:
  // Ok when `use` may have them all.
  Result<void> Entitled(const std::string& peer, const std::vector<std::string>& ids,
                        const KeyUse& use) {
    for (const auto& text : ids) {
      // An id this session never made is KeysById's to answer (not found):
      // no notice will ever come for it.
      SKAP_ASSIGN_OR_RETURN(const bool names, sessions->NamesPeerKey(peer, text));
      const auto id = pairwise::ParseKeyId(text);
      if (!names || !id) continue;
      SKAP_ASSIGN_OR_RETURN(auto issued, peer_channel->IssuedFor(peer, *id));
      if (!issued) {
        // With the key-id sync, a key the peer's side has not named yet
        // goes to nobody: it may be another pair's.
        return Unexpected(ErrorCode::kUnavailable,
                          "key " + text +
                              " is not yet synchronised with the master's KME (its agent needs"
                              " [peer] too)");
      }
      if (issued->master_sae != use.master_sae || issued->slave_sae != use.slave_sae) {
        return Unexpected(ErrorCode::kPermissionDenied,
                          "key " + text + " was not handed out " + Whom(use));
      }
    }
    return Ok();
  }

  void KeysByIdOnLoop(const std::string& peer, const std::vector<std::string>& ids,
                      const std::optional<KeyUse>& use, const Done<std::vector<Key>>& done) {
    if (auto live = NotEnded(peer); !live) return done(Unexpected(std::move(live).error()));
    if (peer_channel) {
      if (auto entitled = Entitled(peer, ids, use.value_or(KeyUse{})); !entitled) {
        return done(Unexpected(std::move(entitled).error()));
      }
    }
    auto keys = sessions->KeysById(peer, ids);
    if (!keys) return done(Unexpected(std::move(keys).error()));
    done(KeysOf(std::move(*keys)));
  }

  // Peek answers what `look` shows of a key of the session with `peer`
  // (a device id or a name), on the loop.
  void Peek(const std::string& peer, Done<KeyInfo> done,
            std::function<Result<IssuedKey>(SessionStore&, const std::string&)> look) {
    OnLoop<KeyInfo>(std::move(done), [this, peer, look = std::move(look)](Done<KeyInfo> d) {
      ResolvePeer(peer, [this, look, d = std::move(d)](Result<std::string> id) {
        if (!id) return d(Unexpected(std::move(id).error()));
        if (auto live = NotEnded(*id); !live) return d(Unexpected(std::move(live).error()));
        auto key = look(*sessions, *id);
        if (!key) return d(Unexpected(std::move(key).error()));
        d(KeyInfo{key->key_id, key->fingerprint, key->id.epoch,
                  static_cast<unsigned>(key->id.direction), key->id.index});
      });
    });
  }

  SessionStatus SessionStatusOf(const SessionInfo& s) const {
    SessionStatus out{s.peer,         s.epoch,        s.next_index,        s.peer_next_index,
                      s.keys_issued,  s.expired,      s.established_at_ms, s.reseeded_at_ms,
                      s.keys_waiting, s.keys_aged_out};
    if (auto failed = engine->LastReseedFailure(s.peer)) {
      out.reseed_failed_at_ms = failed->at_ms;
      out.reseed_failure = std::move(failed->reason);
      out.reseed_blamed_hubs = std::move(failed->blamed_hubs);
    }
    return out;
  }

  static std::vector<Key> KeysOf(std::vector<IssuedKey> issued) {
    std::vector<Key> out;
    out.reserve(issued.size());
    for (auto& k : issued) {
      out.push_back({std::move(k.key_id), std::move(k.fingerprint), k.id.epoch,
                     static_cast<unsigned>(k.id.direction), k.id.index, std::move(k.key)});
    }
    return out;
  }
};

Result<std::unique_ptr<AgentDaemon>> AgentDaemon::Start(const AgentOptions& options, Clock clock) {
  auto p = std::make_unique<Parts>();
  p->options = options;
  p->clock = std::move(clock);
  SKAP_ASSIGN_OR_RETURN(p->entropy,
                        entropy::EntropyService::Create(entropy::EntropyService::DefaultSources()));
  SKAP_ASSIGN_OR_RETURN(p->store, AgentDir::Open(options.data_dir, false, nullptr, p->clock));
  SKAP_ASSIGN_OR_RETURN(auto hubs, p->store->LoadHubs());
  // Keys from before bindings: agent.db's upgrade rewrapped its rows, and
  // LoadHubs rewrote the state files; with the KME's files rewritten too,
  // unbound keys are refused from now on (keystore/keystore.h).
  SKAP_RETURN_IF_ERROR(kme::BindCredentialFiles(options.data_dir, p->store->kek()));
  SKAP_RETURN_IF_ERROR(p->store->kek().RefuseUnbound());
  if (hubs.empty()) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      options.data_dir + " is enrolled at no hub (skap-agent enroll)");
  }
  const auto& first = hubs.front().hub;
  p->identity = {first.device_id, first.device_name, first.network_name, first.hub_set,
                 first.threshold};
  p->hubs_enrolled = hubs.size();
  p->sessions = std::make_unique<SessionStore>(p->store->db(), p->store->kek(),
                                               p->identity.device_id, p->clock, options.key_window,
                                               options.key_reserve, options.session_max_age);
  // A session started afresh takes the peer channel's state of the old one
  // with it, whether or not this agent runs the channel now.
  p->sessions->OnFreshSession([db = &p->store->db()](const std::string& peer) {
    return PeerStore(*db).ForgetInCurrentTransaction(peer);
  });
  p->agreements = std::make_unique<AgreementStore>(p->store->db(), p->store->kek(), p->clock);
  p->engine = std::make_unique<AgreementEngine>(p->store->db(), *p->agreements, *p->sessions,
                                                *p->entropy, p->identity, options.engine, p->clock);
  std::vector<HubLink*> link_pointers;
  for (const auto& hub : hubs) {
    p->links.push_back(std::make_unique<HubLink>(p->io, *p->store, hub.hub.hub_id, *p->entropy,
                                                 options.link, *p->engine));
    link_pointers.push_back(p->links.back().get());
  }
  p->engine->SetLinks({link_pointers.begin(), link_pointers.end()});
  if (options.peer.enabled()) {
    auto peer_options = options.peer;
    if (peer_options.relay) {
      SKAP_ASSIGN_OR_RETURN(peer_options.relay->client_id,
                            RelayClientId(options.data_dir, *p->entropy));
    }
    p->peer_channel =
        std::make_unique<PeerChannel>(p->io, p->store->db(), *p->sessions, p->identity.device_id,
                                      p->identity.network_name, std::move(peer_options), p->clock);
    p->peer_channel->OnConfirm(
        [engine = p->engine.get()](const std::string& sender,
                                   const channel::v1::ConfirmOffer& confirm) {
          engine->OnPeerConfirm(sender, confirm);
        });
    p->engine->SetPeerConfirmSink(
        [channel = p->peer_channel.get()](const std::string& peer, std::uint64_t epoch,
                                          const channel::v1::ConfirmOffer& confirm) {
          peer::v1::PeerMessage m;
          *m.mutable_confirm() = confirm;
          (void)channel->Send(peer, m, epoch);
        });
  }
  // A peer that ended (revoked, disallowed) leaves nothing usable behind:
  // the engine erased its session (so no key, key by id, or PPK comes out,
  // and the peer channel closes its links); its PPK leaves charon too.
  p->engine->SetPeerEndedSink([parts = p.get()](const std::string& peer, const std::string& why) {
    std::fprintf(stderr, "skap-agent: peer %s ended: %s; its session is erased\n", peer.c_str(),
                 why.c_str());
    if (!parts->ppk) return;
    for (std::size_t i = 0; i < parts->ppk->targets().size(); ++i) {
      if (parts->ppk->targets()[i].peer != peer) continue;
      parts->ppk_offered[i] = 0;
      parts->ppk->Withdraw(i, "peer " + why);
    }
  });
  // A scheduled re-seed that fails is logged, with the hubs it blames.
  p->engine->SetReseedFailedSink(
      [](const std::string& peer, const AgreementEngine::ReseedFailure& f) {
        std::string blamed;
        for (const auto& hub : f.blamed_hubs) blamed += (blamed.empty() ? "" : ", ") + hub;
        std::fprintf(stderr, "skap-agent: scheduled re-seed with peer %s failed: %s%s%s\n",
                     peer.c_str(), f.reason.c_str(),
                     blamed.empty() ? "" : "; hubs blamed: ", blamed.c_str());
      });
  SKAP_RETURN_IF_ERROR(p->engine->Resume());
  if (p->peer_channel) SKAP_RETURN_IF_ERROR(p->peer_channel->Start());
  std::unique_ptr<AgentDaemon> daemon(new AgentDaemon(std::move(p)));
  Parts& d = *daemon->parts_;
  // The surfaces call the endpoint API, and nothing of each other's.
  d.api = std::make_unique<ControlApi>(*daemon);
  d.socket =
      options.control_socket.empty() ? options.data_dir + "/control.sock" : options.control_socket;
  SKAP_ASSIGN_OR_RETURN(
      d.control, net::HttpServer::ListenUnix(d.io, d.socket,
                                             [api = d.api.get()](net::HttpRequest request,
                                                                 const net::HttpRespond& respond) {
                                               api->Handle(request, respond);
                                             },
                                             {.name = "control socket", .serve = {}}));
  if (options.etsi014) {
    SKAP_RETURN_IF_ERROR(
        kme::EnsureCredentials(options.data_dir, d.store->kek(), options.etsi014->server_names));
    SKAP_ASSIGN_OR_RETURN(const auto credentials,
                          kme::LoadServerCredentials(options.data_dir, d.store->kek()));
    d.kme_api = std::make_unique<kme::Etsi014Api>(*daemon, d.identity.device_id, *options.etsi014);
    // Only the agent's own CA issues SAE certificates; no certificate, no
    // service. The client certificate's fingerprint names the calling SAE.
    SKAP_ASSIGN_OR_RETURN(
        d.kme_tls, crypto::NewMutualTlsServerContext(credentials.ca_pem, credentials.server));
    SKAP_ASSIGN_OR_RETURN(
        d.kme_server,
        net::HttpServer::ListenTcp(
            d.io, options.etsi014->host, options.etsi014->port,
            net::CertificateTransport{d.kme_tls.get()},
            [kme = d.kme_api.get()](net::HttpRequest request, const net::HttpRespond& respond) {
              kme->Handle(kme->SaeOf(request.peer), request, respond);
            },
            {.name = "etsi014 listener", .serve = {.max_body = std::size_t{256} * 1024}}));
  }
  if (!options.ppk.empty()) {
    d.ppk = std::make_unique<ppk::PpkInstaller>(options.ppk);
    d.ppk_offered.assign(options.ppk.size(), 0);
  }
  d.tick = std::make_unique<asio::steady_timer>(d.io);
  return daemon;
}

AgentDaemon::AgentDaemon(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

AgentDaemon::~AgentDaemon() {
  if (thread_.joinable()) {
    Stop();
    thread_.join();
  }
}

void AgentDaemon::Run() {
  parts_->OfferPpks();
  parts_->ScheduleTick();
  for (auto& link : parts_->links) link->Start();
  parts_->io.run();
}

void AgentDaemon::RunOnThread() {
  thread_ = std::thread([this] { Run(); });
}

void AgentDaemon::Stop() {
  asio::post(parts_->io, [p = parts_.get()] { p->StopOnLoop(); });
}

bool AgentDaemon::OnOwnThread() const { return parts_->io.get_executor().running_in_this_thread(); }

void AgentDaemon::Status(Done<EndpointStatus> done) {
  parts_->OnLoop<EndpointStatus>(
      std::move(done), [p = parts_.get()](Done<EndpointStatus> d) { d(p->StatusOnLoop()); });
}

void AgentDaemon::Peers(Done<std::vector<Peer>> done) {
  parts_->OnLoop<std::vector<Peer>>(std::move(done), [p = parts_.get()](Done<std::vector<Peer>> d) {
    p->ListPeers(std::move(d));
  });
}

void AgentDaemon::Agree(const std::string& peer, AgreeOptions options,
                        Done<AgreementOutcome> done) {
  parts_->OnLoop<AgreementOutcome>(
      std::move(done), [p = parts_.get(), peer, options](Done<AgreementOutcome> d) {
        p->ResolvePeer(peer, [p, options, d = std::move(d)](Result<std::string> id) {
          if (!id) return d(Unexpected(std::move(id).error()));
          // The engine answers exactly once, now or when the agreement ends.
          p->engine->Agree(*id, options.fresh, options.hybrid.value_or(p->options.engine.hybrid),
                           [d](const AgreementOutcome& outcome) { d(outcome); });
        });
      });
}

void AgentDaemon::NextKeys(const std::string& peer, std::uint32_t count, std::optional<KeyUse> use,
                           Done<std::vector<Key>> done) {
  parts_->OnLoop<std::vector<Key>>(
      std::move(done), [p = parts_.get(), peer, count, use](Done<std::vector<Key>> d) {
        p->ResolvePeer(peer, [p, count, use, d = std::move(d)](Result<std::string> id) {
          if (!id) return d(Unexpected(std::move(id).error()));
          p->NextKeysOnLoop(*id, count, use, d);
        });
      });
}

void AgentDaemon::KeysById(const std::string& peer, const std::vector<std::string>& ids,
                           std::optional<KeyUse> use, Done<std::vector<Key>> done) {
  parts_->OnLoop<std::vector<Key>>(
      std::move(done), [p = parts_.get(), peer, ids, use](Done<std::vector<Key>> d) {
        p->ResolvePeer(peer, [p, ids, use, d = std::move(d)](Result<std::string> id) {
          if (!id) return d(Unexpected(std::move(id).error()));
          p->KeysByIdOnLoop(*id, ids, use, d);
        });
      });
}

void AgentDaemon::PeekNextKey(const std::string& peer, Done<KeyInfo> done) {
  parts_->Peek(peer, std::move(done),
               [](SessionStore& s, const std::string& id) { return s.PeekNextKey(id); });
}

void AgentDaemon::PeekKeyById(const std::string& peer, const std::string& key_id,
                              Done<KeyInfo> done) {
  parts_->Peek(peer, std::move(done), [key_id](SessionStore& s, const std::string& id) {
    return s.PeekKeyById(id, key_id);
  });
}

void AgentDaemon::Session(const std::string& peer, Done<std::optional<SessionStatus>> done) {
  parts_->OnLoop<std::optional<SessionStatus>>(
      std::move(done), [p = parts_.get(), peer](Done<std::optional<SessionStatus>> d) {
        auto session = p->sessions->Get(peer);
        if (!session) return d(Unexpected(std::move(session).error()));
        if (!*session) return d(std::optional<SessionStatus>());
        d(std::optional<SessionStatus>(p->SessionStatusOf(**session)));
      });
}

std::string AgentDaemon::Describe() const {
  const auto& p = *parts_;
  std::string line = "device " + p.identity.device_name + " (" + p.identity.device_id +
                     ") of network " + p.identity.network_name + ", " +
                     std::to_string(p.hubs_enrolled) + " of " +
                     std::to_string(p.identity.hub_set.size()) +
                     " hubs enrolled, k = " + std::to_string(p.identity.threshold) +
                     "; control socket " + p.socket;
  if (p.kme_server) {
    line += "; ETSI GS QKD 014 KME on https://" + p.options.etsi014->host + ":" +
            std::to_string(p.kme_server->port()) + " for " +
            std::to_string(p.options.etsi014->saes.size()) + " SAEs";
  }
  return line;
}

void AgentDaemon::StopOnSignals() {
  parts_->signals = std::make_unique<asio::signal_set>(parts_->io, SIGINT, SIGTERM);
  parts_->signals->async_wait([p = parts_.get()](boost::system::error_code ec, int signal_number) {
    if (ec) return;
    std::fprintf(stderr, "skap-agent: stopping (signal %d)\n", signal_number);
    p->StopOnLoop();
  });
}

Result<void> RunAgent(const AgentOptions& options, const std::function<void()>& ready) {
  SKAP_ASSIGN_OR_RETURN(auto daemon, AgentDaemon::Start(options));
  daemon->StopOnSignals();
  std::fprintf(stderr, "skap-agent: %s\n", daemon->Describe().c_str());
  if (ready) ready();
  daemon->Run();
  return Ok();
}

}  // namespace skap::agent
