#include "agentd/agent_daemon.h"

#include <array>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <vector>

#include <boost/asio.hpp>

#include "agent/store/agent_dir.h"
#include "agent/store/agreement_store.h"
#include "agent/store/session_store.h"
#include "agentd/control/control_api.h"
#include "agentd/kme/kme_credentials.h"
#include "common/hex.h"
#include "crypto/tls_server_context.h"
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
// reverse order it is torn down).
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
};

Result<std::unique_ptr<AgentDaemon>> AgentDaemon::Start(const AgentOptions& options, Clock clock) {
  auto p = std::make_unique<Parts>();
  p->options = options;
  p->clock = std::move(clock);
  SKAP_ASSIGN_OR_RETURN(p->entropy,
                        entropy::EntropyService::Create(entropy::EntropyService::DefaultSources()));
  SKAP_ASSIGN_OR_RETURN(p->store, AgentDir::Open(options.data_dir, false, nullptr, p->clock));
  SKAP_ASSIGN_OR_RETURN(auto hubs, p->store->LoadHubs());
  if (hubs.empty()) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      options.data_dir + " is enrolled at no hub (skap-agent enroll)");
  }
  const auto& first = hubs.front().hub;
  p->identity = {first.device_id, first.device_name, first.network_name, first.hub_set,
                 first.threshold};
  p->hubs_enrolled = hubs.size();
  p->sessions =
      std::make_unique<SessionStore>(p->store->db(), p->store->kek(), p->identity.device_id,
                                     p->clock, options.key_window, options.key_reserve);
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
  SKAP_RETURN_IF_ERROR(p->engine->Resume());
  if (p->peer_channel) SKAP_RETURN_IF_ERROR(p->peer_channel->Start());
  p->api = std::make_unique<ControlApi>(*p->engine, *p->sessions, link_pointers, *p->entropy,
                                        options.engine.hybrid);
  if (p->peer_channel) p->api->SetPeerChannel(p->peer_channel.get());
  p->socket =
      options.control_socket.empty() ? options.data_dir + "/control.sock" : options.control_socket;
  SKAP_ASSIGN_OR_RETURN(p->control, net::HttpServer::ListenUnix(
                                        p->io, p->socket,
                                        [api = p->api.get()](net::HttpRequest request,
                                                             const net::HttpRespond& respond) {
                                          api->Handle(request, respond);
                                        },
                                        {.name = "control socket", .serve = {}}));
  if (options.etsi014) {
    SKAP_RETURN_IF_ERROR(
        kme::EnsureCredentials(options.data_dir, p->store->kek(), options.etsi014->server_names));
    SKAP_ASSIGN_OR_RETURN(const auto credentials,
                          kme::LoadServerCredentials(options.data_dir, p->store->kek()));
    p->kme_api = std::make_unique<kme::Etsi014Api>(*p->sessions, p->identity.device_id,
                                                   *options.etsi014, p->peer_channel.get());
    // Only the agent's own CA issues SAE certificates; no certificate, no
    // service. The client certificate's fingerprint names the calling SAE.
    SKAP_ASSIGN_OR_RETURN(
        p->kme_tls, crypto::NewMutualTlsServerContext(credentials.ca_pem, credentials.server));
    SKAP_ASSIGN_OR_RETURN(
        p->kme_server,
        net::HttpServer::ListenTcp(
            p->io, options.etsi014->host, options.etsi014->port,
            net::CertificateTransport{p->kme_tls.get()},
            [kme = p->kme_api.get()](net::HttpRequest request, const net::HttpRespond& respond) {
              respond(kme->Handle(kme->SaeOf(request.peer), request.method, request.target,
                                  request.body));
            },
            {.name = "etsi014 listener", .serve = {.max_body = std::size_t{256} * 1024}}));
  }
  if (!options.ppk.empty()) {
    p->ppk = std::make_unique<ppk::PpkInstaller>(options.ppk, p->clock);
    p->ppk_offered.assign(options.ppk.size(), 0);
    p->api->SetPpkStatus([installer = p->ppk.get()] { return installer->Status(); });
  }
  p->tick = std::make_unique<asio::steady_timer>(p->io);
  return std::unique_ptr<AgentDaemon>(new AgentDaemon(std::move(p)));
}

AgentDaemon::AgentDaemon(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

AgentDaemon::~AgentDaemon() = default;

void AgentDaemon::Run() {
  parts_->OfferPpks();
  parts_->ScheduleTick();
  for (auto& link : parts_->links) link->Start();
  parts_->io.run();
}

void AgentDaemon::Stop() {
  asio::post(parts_->io, [p = parts_.get()] { p->StopOnLoop(); });
}

net::HttpResponse AgentDaemon::Call(net::HttpRequest request) {
  auto answer = std::make_shared<std::promise<net::HttpResponse>>();
  auto future = answer->get_future();
  auto shared = std::make_shared<net::HttpRequest>(std::move(request));
  asio::post(parts_->io, [p = parts_.get(), shared, answer] {
    if (p->stopping) {
      answer->set_value(ControlFailure({ErrorCode::kUnavailable, "the endpoint is stopping"}));
      return;
    }
    // The engine answers exactly once, now or when the agreement ends.
    p->api->Handle(*shared, [answer](net::HttpResponse r) { answer->set_value(std::move(r)); });
  });
  return future.get();
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
