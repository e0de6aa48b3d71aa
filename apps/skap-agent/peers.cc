// skap-agent peers: the active devices of this network, as a hub knows them.
#include <cstdio>
#include <memory>

#include "apps/skap-agent/cli.h"
#include "common/shown.h"

namespace skap::agentcli {

void AddPeers(CLI::App& app) {
  auto daemon = std::make_shared<Daemon>();
  auto* peers = app.add_subcommand("peers", "The active devices of this network");
  AddDaemonOptions(*peers, *daemon);
  peers->callback([daemon] {
    Answer(*daemon, daemon->Call("GET", "/v1/peers"), [](const nlohmann::json& list) {
      for (const auto& p : list) {
        std::printf("%s  %-20s  session epoch %llu\n", Shown(p.value("id", "")).c_str(),
                    Shown(p.value("name", "")).c_str(),
                    static_cast<unsigned long long>(p.value("session_epoch", 0ULL)));
      }
    });
  });
}

}  // namespace skap::agentcli
