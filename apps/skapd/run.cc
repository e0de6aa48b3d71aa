// skapd run --config FILE: serve the hub (hub/hub_daemon.h) until SIGINT or
// SIGTERM.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "hub/hub_daemon.h"
#include "subcommands.h"

namespace skapd {

void AddRun(CLI::App& app) {
  auto config_path = std::make_shared<std::string>();
  auto* run = app.add_subcommand("run", "Serve, as configured in a TOML file");
  run->add_option("--config", *config_path, "Configuration file (see docs/skapd.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  run->callback([config_path] {
    auto config = skap::hub::LoadHubConfig(*config_path);
    if (!config) Fail("configuration", config.error());
    // Block the signals before any thread starts; RunHub waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    if (auto ran = skap::hub::RunHub(*config); !ran) {
      std::fprintf(stderr, "skapd: %s\n", ran.error().message.c_str());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace skapd
