// skap-agent run --config FILE: the daemon (docs/skap-agent.toml), until
// SIGINT or SIGTERM.
#include <csignal>
#include <memory>
#include <string>

#include "agentd/agent_config.h"
#include "agentd/agent_daemon.h"
#include "apps/skap-agent/cli.h"

namespace skap::agentcli {

void AddRun(CLI::App& app) {
  auto config_path = std::make_shared<std::string>();
  auto* run = app.add_subcommand("run", "Run the daemon, as configured in a TOML file");
  run->add_option("--config", *config_path, "Configuration file (see docs/skap-agent.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  run->callback([config_path] {
    auto options = agent::LoadAgentConfig(*config_path);
    if (!options) Fail("configuration", options.error());
    // Signals are taken by the daemon's loop; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    if (auto ran = agent::RunAgent(*options); !ran) Fail("run", ran.error());
  });
}

}  // namespace skap::agentcli
