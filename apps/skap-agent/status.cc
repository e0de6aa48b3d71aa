// skap-agent status: the running daemon's hubs, entropy, sessions, peer
// channel, PPKs and agreements; of a stopped agent, each hub's channel.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/skap-agent/cli.h"
#include "common/shown.h"

namespace skap::agentcli {
namespace {

using nlohmann::json;

// Text is a string member of the daemon's JSON as it may reach the
// terminal: names, reasons and errors come from peers and hubs.
std::string Text(const json& j, const char* key, const char* otherwise = "") {
  return Shown(j.value(key, otherwise));
}

void PrintStatus(const json& s) {
  const auto& dev = s["device"];
  std::printf("device %s (%s), network %s: keys agreed %u of %zu hubs\n",
              Text(dev, "name", "").c_str(), Text(dev, "id", "").c_str(),
              Text(dev, "network", "").c_str(), dev.value("threshold", 0U), dev["hub_set"].size());
  std::printf("hubs reachable: %u\n", s.value("hubs_up", 0U));
  for (const auto& h : s["hubs"]) {
    std::printf("  hub %s: %s\n", Text(h, "id", "").c_str(), Text(h, "status", "").c_str());
  }
  std::printf("entropy: %s\n", s["entropy"].value("operational", false) ? "operational" : "FAILED");
  for (const auto& x : s["sessions"]) {
    std::printf(
        "session with %s: epoch %llu, next key %u of this side's chain, %u of the peer's%s\n",
        Text(x, "peer", "").c_str(), static_cast<unsigned long long>(x.value("epoch", 0ULL)),
        x.value("next_index", 0U), x.value("peer_next_index", 0U),
        x.value("expired", false)
            ? "; EXPIRED: older than session_max_age_s, no key until a re-seed"
            : "");
    if (const auto waiting = x.value("keys_waiting", 0LL), aged = x.value("keys_aged_out", 0LL);
        waiting > 0 || aged > 0) {
      std::printf("  keys of the peer's chain not fetched yet: %lld waiting, %lld aged out\n",
                  waiting, aged);
    }
    if (x.contains("reseed_failure")) {
      const auto& f = x["reseed_failure"];
      std::string blamed;
      for (const auto& hub : f.value("blamed_hubs", std::vector<std::string>{})) {
        blamed += (blamed.empty() ? "" : ", ") + Shown(hub);
      }
      std::printf("  last scheduled re-seed FAILED: %s%s%s\n", Text(f, "reason", "").c_str(),
                  blamed.empty() ? "" : "; hubs blamed: ", blamed.c_str());
    }
  }
  if (s.contains("peer_channel")) {
    const auto& pc = s["peer_channel"];
    std::printf("peer relay: %s\n", Text(pc, "relay", "").c_str());
    for (const auto& p : pc["peers"]) {
      const std::string direct = Text(p, "direct");
      std::printf("peer %s: over %s (direct link: %s), %lld waiting for its ack\n",
                  Text(p, "peer", "").c_str(), Text(p, "transport", "").c_str(),
                  direct.empty() ? "not configured" : direct.c_str(),
                  static_cast<long long>(p.value("pending", 0LL)));
    }
  }
  if (s.contains("ppk")) {
    for (const auto& p : s["ppk"]) {
      const std::string error = Text(p, "last_error");
      std::printf("ppk for %s (connection %s): epoch %llu, fingerprint %s%s%s%s\n",
                  Text(p, "peer", "").c_str(), Text(p, "connection", "").c_str(),
                  static_cast<unsigned long long>(p.value("installed_epoch", 0ULL)),
                  Text(p, "fingerprint", "-").c_str(),
                  p.value("sa_up_with_installed", false) ? ", IKE SA up with it" : "",
                  error.empty() ? "" : ", last error: ", error.c_str());
    }
  }
  for (const auto& a : s["agreements"]) {
    std::printf("agreement %s with %s (%s): %s %s\n", Text(a, "sid", "").c_str(),
                Text(a, "peer", "").c_str(), Text(a, "role", "").c_str(),
                Text(a, "state", "").c_str(), Text(a, "reason", "").c_str());
  }
}

// OfflineStatus reads the state of a stopped agent: each hub's channel.
void OfflineStatus(const std::string& data_dir) {
  auto dir = agent::AgentDir::Open(data_dir, false);
  if (!dir) Fail(data_dir, dir.error());
  auto hubs = (*dir)->LoadHubs();
  if (!hubs) Fail("reading the hubs", hubs.error());
  for (const auto& h : *hubs) {
    std::printf("device %s (%s), network %s, hub %s at %s: %s, key epoch %lld\n",
                Shown(h.hub.device_name).c_str(), Shown(h.hub.device_id).c_str(),
                Shown(h.hub.network_name).c_str(), Shown(h.hub.hub_id).c_str(),
                Shown(h.hub.hub_address).c_str(), Shown(h.status).c_str(),
                static_cast<long long>(h.epoch));
  }
}

}  // namespace

void AddStatus(CLI::App& app) {
  auto daemon = std::make_shared<Daemon>();
  auto* status =
      app.add_subcommand("status", "Hubs reachable, epochs, entropy, sessions, peer channel, PPKs");
  AddDaemonOptions(*status, *daemon);
  status->callback([daemon] {
    auto reply = daemon->Call("GET", "/v1/status");
    if (!reply && reply.error().code == ErrorCode::kUnavailable && !daemon->data_dir.empty() &&
        daemon->socket.empty()) {
      return OfflineStatus(daemon->data_dir);
    }
    Answer(*daemon, reply, PrintStatus);
  });
}

}  // namespace skap::agentcli
