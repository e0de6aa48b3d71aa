// The endpoint's composition root: the daemon of `skap-agent run` and of
// the C API. It holds a channel to each of its hubs (agent/hub/hub_link.h),
// runs pairwise agreements (agent/agreement_engine.h), keeps the sessions
// (agent/store/session_store.h) and the peer channel, and implements the
// typed endpoint API (skap/endpoint.h) that every surface a key leaves the
// device through calls: the control socket (control/), the ETSI GS QKD 014
// KME (kme/), the IPsec PPKs (ppk/) and the C API (capi/). All of it runs
// on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/agreement_engine.h"
#include "agent/hub/hub_link.h"
#include "agent/peer/peer_channel.h"
#include "agentd/kme/etsi014_api.h"
#include "agentd/ppk/ppk_installer.h"
#include "common/clock.h"
#include "common/result.h"
#include "skap/endpoint.h"

namespace skap::agent {

// AgentOptions is the daemon's configuration (agent_config.h reads it from
// the TOML file, docs/skap-agent.toml).
struct AgentOptions {
  std::string data_dir;
  std::string control_socket;  // default: <data_dir>/control.sock
  HubLinkOptions link;
  EngineOptions engine;
  std::uint32_t key_window = 1024;  // keys stepped over kept per session
  std::uint32_t key_reserve = 64;   // keys of this side's chain taken per commit
  // How long after its last re-seed a session serves keys; 0: no bound.
  std::chrono::seconds session_max_age{7 * 86400};
  std::optional<kme::Etsi014Options> etsi014;  // the KME for local SAEs, when configured
  std::vector<ppk::PpkTarget> ppk;             // IPsec PPKs into strongSwan, per peer
  PeerChannelOptions peer;                     // direct links and the MQTT relay, when set
};

// AgentDaemon is the endpoint with everything up: links to its hubs (started
// by Run), the agreement engine, the control socket and, when configured,
// the peer channel, the ETSI GS QKD 014 KME and the PPK installer; and the
// endpoint API's implementation. `skap-agent run` runs it on the main thread;
// Endpoint::Open (and so the C API) on a thread of its own.
class AgentDaemon final : public Endpoint {
 public:
  // Start opens the endpoint of `options`; `clock` is the time all of it reads.
  static Result<std::unique_ptr<AgentDaemon>> Start(const AgentOptions& options,
                                                    Clock clock = SystemClock());
  ~AgentDaemon() override;
  AgentDaemon(const AgentDaemon&) = delete;
  AgentDaemon& operator=(const AgentDaemon&) = delete;

  // Run serves on the calling thread until Stop; it returns once every
  // link, connection and timer has wound down.
  void Run();
  // RunOnThread runs it on a thread of its own (the C API, Endpoint::Open),
  // which the destructor stops and joins.
  void RunOnThread();
  // Stop asks Run to return; safe from any thread (and from a signal
  // handler's asio callback).
  void Stop();
  // StopOnSignals makes SIGINT and SIGTERM stop the daemon (skap-agent run;
  // an application embedding the endpoint keeps its own signals).
  void StopOnSignals();
  // Describe is the one line the daemon logs when it starts.
  std::string Describe() const;

  // The endpoint API (skap/endpoint.h).
  void Status(Done<EndpointStatus> done) override;
  void Peers(Done<std::vector<Peer>> done) override;
  void Agree(const std::string& peer, AgreeOptions options, Done<AgreementOutcome> done) override;
  void NextKeys(const std::string& peer, std::uint32_t count, std::optional<KeyUse> use,
                Done<std::vector<Key>> done) override;
  void KeysById(const std::string& peer, const std::vector<std::string>& ids,
                std::optional<KeyUse> use, Done<std::vector<Key>> done) override;
  void PeekNextKey(const std::string& peer, Done<KeyInfo> done) override;
  void PeekKeyById(const std::string& peer, const std::string& id, Done<KeyInfo> done) override;
  void Session(const std::string& peer, Done<std::optional<SessionStatus>> done) override;

  bool OnOwnThread() const override;

  struct Parts;

 private:
  explicit AgentDaemon(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
  std::thread thread_;
};

// RunAgent serves until SIGINT or SIGTERM. `ready` is called once the
// control socket listens.
Result<void> RunAgent(const AgentOptions& options, const std::function<void()>& ready = {});

}  // namespace skap::agent
