// Pairwise agreements per second and their latency, against real hubs
// (skapd) on loopback, with many devices simulated in one process: each
// device is a real endpoint of libskap (its own agent directory, agent.db,
// hub links over TLS 1.3 PSK and agreement engine), all on one thread.
//
//   agreement_bench setup --hubs DIR[,DIR...] --threshold K --devices N --agents DIR
//                         --addresses HOST:PORT[,HOST:PORT...]
//       makes the hubs (offline: skapd not yet running) with one network of
//       those hubs and threshold K, N devices provisioned and admitted at
//       every hub, and each device's agent directory as skap-agent enroll
//       and admission would leave it (epoch 1 at every hub).
//   agreement_bench run --agents DIR --devices N --seconds S
//       with the hubs running: device 2i agrees with device 2i + 1, every
//       pair again and again, for S seconds; prints
//       "<agreements/s> <p50 ms> <p99 ms> <failed> <pairs>".
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "agent/agreement_engine.h"
#include "agent/hub/hub_link.h"
#include "agent/store/agent_dir.h"
#include "agent/store/agreement_store.h"
#include "agent/store/session_store.h"
#include "crypto/channel_key.h"
#include "entropy/entropy_service.h"
#include "hub/hub_node.h"
#include "proc_cpu.h"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

int Fail(const std::string& what, const skap::Error& e) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), skap::ToString(e).c_str());
  return 1;
}

std::string Text(const skap::SecretBytes& s) { return {s.Expose().begin(), s.Expose().end()}; }

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= list.size()) {
    const auto comma = list.find(',', at);
    out.push_back(list.substr(at, comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string AgentDir(const std::string& agents, long i) {
  return agents + "/device-" + std::to_string(i);
}

int Setup(const std::vector<std::string>& hub_dirs, const std::vector<std::string>& addresses,
          unsigned threshold, long devices, const std::string& agents) {
  if (hub_dirs.size() != addresses.size()) {
    std::fprintf(stderr, "one address per hub\n");
    return 1;
  }
  std::vector<std::unique_ptr<skap::hub::HubNode>> hubs;
  std::vector<std::string> ids;
  for (const auto& dir : hub_dirs) {
    auto id = skap::hub::HubNode::Init(dir);
    if (!id) return Fail("init " + dir, id.error());
    auto node = skap::hub::HubNode::Open(dir);
    if (!node) return Fail("open " + dir, node.error());
    ids.push_back(*id);
    hubs.push_back(std::move(*node));
  }
  struct Roles {
    skap::hub::Principal provisioner, admitter;
  };
  std::vector<Roles> roles;
  const auto hub = skap::hub::Principal::Hub();
  for (auto& node : hubs) {
    auto& registry = node->registry();
    const auto tenant = registry.tenants().Create(hub, "bench");
    if (!tenant) return Fail("tenant", tenant.error());
    const auto role = [&](const char* name, skap::hub::Role r) {
      auto token = registry.operators().Add(hub, *tenant, name, r);
      return *registry.operators().Authenticate(Text(token->token));
    };
    const auto admin = role("admin", skap::hub::Role::kTenantAdmin);
    roles.push_back(
        {role("prov", skap::hub::Role::kProvisioner), role("adm", skap::hub::Role::kAdmitter)});
    if (auto n = registry.networks().Create(admin, "fleet"); !n) return Fail("network", n.error());
    if (auto s = registry.networks().SetHubs(admin, "fleet", ids, threshold); !s) {
      return Fail("hub set", s.error());
    }
  }
  std::filesystem::create_directories(agents);
  for (long i = 0; i < devices; ++i) {
    auto store = skap::agent::AgentDir::Open(AgentDir(agents, i), true, &hubs[0]->entropy());
    if (!store) return Fail("agent", store.error());
    std::optional<std::string> id;
    for (std::size_t h = 0; h < hubs.size(); ++h) {
      auto& registry = hubs[h]->registry();
      auto grant =
          registry.devices().Provision(roles[h].provisioner, "fleet", "device-" + std::to_string(i),
                                       std::chrono::hours(24), false, id);
      if (!grant) return Fail("provision", grant.error());
      id = grant->device.id;
      // Play the device's part the way skap-agent does (agent/channel_steps.cc).
      std::vector<std::uint8_t> nonce(skap::crypto::kChannelNonceSize);
      if (auto f = hubs[h]->entropy().Fill(nonce); !f) return Fail("nonce", f.error());
      if (auto r = registry.devices().RecordPreflight(*id, "{}", nonce); !r)
        return Fail(*id, r.error());
      if (auto r = registry.devices().Admit(roles[h].admitter, *id); !r)
        return Fail(*id, r.error());
      auto hub_nonce = registry.devices().HubNonceFor(*id);
      auto key = skap::crypto::NextChannelKey(grant->bootstrap_key.Expose(), 1, *hub_nonce, nonce,
                                              grant->hub_id, *id);
      if (!key) return Fail(*id, key.error());
      skap::agent::HubChannelState state;
      state.hub = {grant->hub_id,
                   addresses[h],
                   grant->device.tenant_id,
                   grant->tenant_name,
                   grant->device.network_id,
                   grant->device.network_name,
                   *id,
                   grant->device.name,
                   grant->device.bootstrap_expires_at_ms,
                   grant->network.hub_set,
                   grant->network.threshold};
      state.epoch = 1;
      state.key = std::move(*key);
      state.status = "active";
      if (auto s = (*store)->SaveHub(state); !s) return Fail("state", s.error());
    }
  }
  std::printf("%ld devices at %zu hubs (k = %u)\n", devices, hubs.size(), threshold);
  return 0;
}

// Device is one simulated endpoint.
struct Device {
  std::unique_ptr<skap::agent::AgentDir> store;
  std::unique_ptr<skap::agent::SessionStore> sessions;
  std::unique_ptr<skap::agent::AgreementStore> agreements;
  std::unique_ptr<skap::agent::AgreementEngine> engine;
  std::vector<std::unique_ptr<skap::agent::HubLink>> links;
  std::string id;

  bool AllUp() const {
    return std::all_of(links.begin(), links.end(), [](const auto& l) { return l->up(); });
  }
};

// HubCpuSeconds sums the CPU seconds the hubs' processes have used.
double HubCpuSeconds(const std::vector<long>& pids) {
  double total = 0;
  for (const long pid : pids) total += skap::bench::CpuSeconds(pid);
  return total;
}

int Run(const std::string& agents, long count, double seconds, const std::vector<long>& hub_pids,
        bool no_sync) {
  // Every device holds a database and a channel to each hub.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  auto entropy =
      skap::entropy::EntropyService::Create(skap::entropy::EntropyService::DefaultSources());
  if (!entropy) return Fail("entropy", entropy.error());
  asio::io_context io;
  skap::agent::HubLinkOptions link_options;
  link_options.entropy_bytes = 0;
  skap::agent::EngineOptions engine_options;
  std::vector<Device> devices(static_cast<std::size_t>(count));
  for (long i = 0; i < count; ++i) {
    Device& d = devices[static_cast<std::size_t>(i)];
    auto store = skap::agent::AgentDir::Open(AgentDir(agents, i), false);
    if (!store) return Fail("agent", store.error());
    d.store = std::move(*store);
    // Simulated devices share the hubs' two cores; on a real deployment each
    // is its own machine with its own disk. Their stores may skip fsync
    // (the run says so); the hubs never do.
    if (no_sync) (void)d.store->db().ExecuteScript("PRAGMA synchronous = OFF");
    auto hubs = d.store->LoadHubs();
    if (!hubs) return Fail("hubs", hubs.error());
    if (hubs->empty()) return Fail("hubs", {skap::ErrorCode::kNotFound, "enrolled at no hub"});
    const auto& info = hubs->front().hub;
    d.id = info.device_id;
    d.sessions = std::make_unique<skap::agent::SessionStore>(d.store->db(), d.store->kek(), d.id,
                                                             NowMs, 1024);
    d.agreements =
        std::make_unique<skap::agent::AgreementStore>(d.store->db(), d.store->kek(), NowMs);
    d.engine = std::make_unique<skap::agent::AgreementEngine>(
        d.store->db(), *d.agreements, *d.sessions, **entropy,
        skap::agent::Identity{info.device_id, info.device_name, info.network_name, info.hub_set,
                              info.threshold},
        engine_options, NowMs);
    std::vector<skap::agent::HubLink*> pointers;
    for (const auto& h : *hubs) {
      d.links.push_back(std::make_unique<skap::agent::HubLink>(io, *d.store, h.hub.hub_id,
                                                               **entropy, link_options, *d.engine));
      pointers.push_back(d.links.back().get());
    }
    d.engine->SetLinks({pointers.begin(), pointers.end()});
    for (auto& l : d.links) l->Start();
  }

  std::vector<double> latencies_ms;
  long failed = 0;
  bool measuring = false;
  Clock::time_point end;
  long in_flight = 0;
  std::function<void(std::size_t)> agree = [&](std::size_t pair) {
    Device& a = devices[2 * pair];
    Device& b = devices[2 * pair + 1];
    const auto started = Clock::now();
    ++in_flight;
    a.engine->Agree(b.id, false, false, [&, pair, started](const skap::AgreementOutcome& o) {
      --in_flight;
      if (o.state == skap::AgreementState::kConfirmed) {
        latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - started).count());
      } else {
        ++failed;
        std::fprintf(stderr, "agreement failed: %s\n", o.reason.c_str());
      }
      // Start the next one from the loop, not from inside the engine.
      if (Clock::now() < end) asio::post(io, [&agree, pair] { agree(pair); });
    });
  };

  asio::steady_timer timer(io);
  const auto wait_up_until = Clock::now() + std::chrono::seconds(120);
  Clock::time_point measure_start;
  double hub_cpu_start = 0;
  double hub_cpu_end = 0;
  std::function<void()> poll = [&] {
    if (!measuring) {
      const bool up =
          std::all_of(devices.begin(), devices.end(), [](const Device& d) { return d.AllUp(); });
      if (!up && Clock::now() < wait_up_until) {
        timer.expires_after(std::chrono::milliseconds(100));
        return timer.async_wait([&](boost::system::error_code) { poll(); });
      }
      if (!up) {
        std::fprintf(stderr, "not every device reached its hubs\n");
        io.stop();
        return;
      }
      measuring = true;
      measure_start = Clock::now();
      hub_cpu_start = HubCpuSeconds(hub_pids);
      end = measure_start +
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
      for (std::size_t p = 0; p < devices.size() / 2; ++p) agree(p);
    }
    if (Clock::now() < end || in_flight > 0) {
      timer.expires_after(std::chrono::milliseconds(50));
      return timer.async_wait([&](boost::system::error_code) { poll(); });
    }
    hub_cpu_end = HubCpuSeconds(hub_pids);
    // The initiator's last tag may still be on its way when its agreement
    // reports: stopping the links at once could leave the responder an
    // epoch behind for the next run (a split, which heals only once the
    // initiator's epoch is older than an agreement's lifetime).
    timer.expires_after(std::chrono::milliseconds(500));
    timer.async_wait([&](boost::system::error_code) {
      for (auto& d : devices) {
        for (auto& l : d.links) l->Stop();
      }
    });
  };
  poll();
  io.run();
  if (!measuring) return 1;
  const double elapsed = std::chrono::duration<double>(Clock::now() - measure_start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const auto at = [&](double q) {
    if (latencies_ms.empty()) return 0.0;
    return latencies_ms[std::min(
        latencies_ms.size() - 1,
        static_cast<std::size_t>(q * static_cast<double>(latencies_ms.size())))];
  };
  // agreements/s, p50 ms, p99 ms, failed, pairs, agreements, and the hubs'
  // CPU ms per agreement (all hubs together; 0 without --hub-pids).
  const double done = static_cast<double>(latencies_ms.size());
  std::printf("%.0f %.1f %.1f %ld %zu %zu %.3f\n", done / elapsed, at(0.50), at(0.99), failed,
              devices.size() / 2, latencies_ms.size(),
              done > 0 ? 1000 * (hub_cpu_end - hub_cpu_start) / done : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"agreement_bench: pairwise agreements per second against real hubs"};
  app.require_subcommand(1);
  std::string hubs;
  std::string addresses;
  std::string agents;
  unsigned threshold = 1;
  long devices = 2;
  double seconds = 5;
  auto* setup = app.add_subcommand("setup", "Make the hubs and the devices' agent directories");
  setup->add_option("--hubs", hubs, "Hub data directories, comma-separated")->required();
  setup->add_option("--addresses", addresses, "Their device channel addresses")->required();
  setup->add_option("--threshold", threshold, "k");
  setup->add_option("--devices", devices, "How many devices");
  setup->add_option("--agents", agents, "Directory for the agent directories")->required();
  auto* run = app.add_subcommand("run", "Agree keys pair by pair against running hubs");
  run->add_option("--agents", agents, "The agent directories")->required();
  run->add_option("--devices", devices, "How many devices (an even number)");
  run->add_option("--seconds", seconds, "How long to measure");
  std::vector<long> hub_pids;
  bool no_sync = false;
  run->add_option("--hub-pids", hub_pids, "skapd process ids whose CPU time to measure")
      ->delimiter(',');
  run->add_flag("--no-sync", no_sync,
                "Run the simulated devices' stores without fsync (the hubs keep theirs)");
  CLI11_PARSE(app, argc, argv);
  if (setup->parsed()) return Setup(Split(hubs), Split(addresses), threshold, devices, agents);
  return Run(agents, devices, seconds, hub_pids, no_sync);
}
