#include "agent/agent_daemon.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>

#include <boost/asio.hpp>

#include "agent/agent_store.h"
#include "agent/agreement_store.h"
#include "agent/control_api.h"
#include "agent/control_server.h"
#include "agent/session_store.h"
#include "entropy/entropy_service.h"
#include "kme/etsi014_server.h"
#include "kme/kme_credentials.h"

namespace skap::agent {
namespace {

namespace asio = boost::asio;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<void> RunAgent(const AgentOptions& options, const std::function<void()>& ready) {
  SKAP_ASSIGN_OR_RETURN(auto entropy,
                        entropy::EntropyService::Create(entropy::EntropyService::DefaultSources()));
  SKAP_ASSIGN_OR_RETURN(auto store, AgentStore::Open(options.data_dir, false));
  SKAP_ASSIGN_OR_RETURN(auto hubs, store->LoadHubs());
  if (hubs.empty()) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      options.data_dir + " is enrolled at no hub (skap-agent enroll)");
  }
  const auto& first = hubs.front().hub;
  Identity identity{first.device_id, first.device_name, first.network_name, first.hub_set,
                    first.threshold};

  asio::io_context io;
  SessionStore sessions(store->db(), store->kek(), identity.device_id, NowMs, options.key_window);
  AgreementStore agreements(store->db(), store->kek(), NowMs);
  AgreementEngine engine(store->db(), agreements, sessions, *entropy, identity, options.engine,
                         NowMs);
  std::vector<std::unique_ptr<HubLink>> links;
  std::vector<HubLink*> link_pointers;
  for (const auto& hub : hubs) {
    links.push_back(
        std::make_unique<HubLink>(io, *store, hub.hub.hub_id, *entropy, options.link, engine));
    link_pointers.push_back(links.back().get());
  }
  engine.SetLinks({link_pointers.begin(), link_pointers.end()});
  SKAP_RETURN_IF_ERROR(engine.Resume());
  ControlApi api(engine, sessions, link_pointers, *entropy, options.engine.hybrid);
  const std::string socket =
      options.control_socket.empty() ? options.data_dir + "/control.sock" : options.control_socket;
  SKAP_ASSIGN_OR_RETURN(
      auto control, ControlServer::Start(
                        io, socket, [&api](const ControlRequest& request, ControlRespond respond) {
                          api.Handle(request, std::move(respond));
                        }));

  std::unique_ptr<kme::Etsi014Api> kme_api;
  std::unique_ptr<kme::Etsi014Server> kme_server;
  if (options.etsi014) {
    SKAP_RETURN_IF_ERROR(
        kme::EnsureCredentials(options.data_dir, store->kek(), options.etsi014->server_names));
    SKAP_ASSIGN_OR_RETURN(const auto credentials,
                          kme::LoadServerCredentials(options.data_dir, store->kek()));
    kme_api = std::make_unique<kme::Etsi014Api>(sessions, identity.device_id, *options.etsi014);
    SKAP_ASSIGN_OR_RETURN(
        kme_server, kme::Etsi014Server::Start(
                        io, options.etsi014->host, options.etsi014->port, credentials,
                        [&kme_api](const std::string& fingerprint, std::string_view method,
                                   std::string_view target, std::string_view body) {
                          return kme_api->Handle(kme_api->SaeOf(fingerprint), method, target, body);
                        }));
    std::fprintf(stderr, "skap-agent: ETSI GS QKD 014 KME on https://%s:%u for %zu SAEs\n",
                 options.etsi014->host.c_str(), kme_server->port(), options.etsi014->saes.size());
  }

  asio::steady_timer tick(io);
  bool stopping = false;
  std::function<void()> schedule_tick = [&] {
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([&](boost::system::error_code ec) {
      if (ec || stopping) return;
      engine.Tick();
      schedule_tick();
    });
  };
  schedule_tick();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int signal_number) {
    std::fprintf(stderr, "skap-agent: stopping (signal %d)\n", signal_number);
    stopping = true;
    tick.cancel();
    control->Stop();
    if (kme_server) kme_server->Stop();
    for (auto& link : links) link->Stop();
  });
  for (auto& link : links) link->Start();
  std::fprintf(stderr,
               "skap-agent: device %s (%s) of network %s, %zu of %zu hubs enrolled, k = %u; "
               "control socket %s\n",
               identity.device_name.c_str(), identity.device_id.c_str(),
               identity.network_name.c_str(), hubs.size(), identity.hub_set.size(),
               identity.threshold, socket.c_str());
  if (ready) ready();
  // Returns once every link, connection and timer has wound down.
  io.run();
  return Ok();
}

}  // namespace skap::agent
