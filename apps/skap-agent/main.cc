// skap-agent: the device side of SKAP. Each subcommand is a file of its own;
// main only registers them.
//
//   skap-agent enroll --data DIR (BUNDLE... | --part FILE --part FILE ...)
//   skap-agent run --config FILE                      the daemon (docs/skap-agent.toml)
//   skap-agent status | peers | agree PEER | key PEER  ask the running daemon
//   skap-agent connect | ratchet | entropy --data DIR  one-off steps while it is stopped
//   skap-agent sae add --data DIR --id SAE --out DIR  an SAE certificate (ETSI GS QKD 014)
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "apps/skap-agent/cli.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{
      "skap-agent: a SKAP device. It enrols from one bootstrap bundle per hub of its\n"
      "network (a file, or k of its parts), and its daemon (run) holds a channel to\n"
      "each hub, agrees keys with peers through k of them, keeps the pairwise\n"
      "sessions and hands keys to local consumers. status, peers, agree and key ask\n"
      "the running daemon; connect, ratchet and entropy are one-off steps while it is\n"
      "stopped."};
  app.require_subcommand(1);
  namespace cli = skap::agentcli;
  cli::AddEnroll(app);
  cli::AddRun(app);
  cli::AddStatus(app);
  cli::AddPeers(app);
  cli::AddAgree(app);
  cli::AddKey(app);
  cli::AddConnect(app);
  cli::AddRatchet(app);
  cli::AddEntropy(app);
  cli::AddSae(app);
  // A device holds keys in memory: no core dumps, no ptrace by other users.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace

// Building the command line may throw too (CLI11 reports a bad definition
// that way): nothing escapes main.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skap-agent: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "skap-agent: failed\n");
  }
  return 1;
}
