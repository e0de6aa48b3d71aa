// skapd: the SKAP hub daemon.
//
//   skapd init --data DIR                          create a hub
//   skapd tenant create --data DIR --name T --admin NAME --token-out FILE
//                                                  create a tenant and its first admin
//   skapd operator token NAME --data DIR --token-out FILE
//                                                  a new token for any operator, as the hub
//   skapd run --config FILE                        serve (see docs/skapd.toml)
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "common/hex.h"
#include "common/secret_file.h"
#include "subcommands.h"

namespace skapd {

void Fail(const std::string& what, const skap::Error& error) {
  std::fprintf(stderr, "skapd: %s: %s\n", what.c_str(), skap::ToString(error).c_str());
  throw CLI::RuntimeError(1);
}

void WriteToken(const std::string& path, skap::SecretBytes token) {
  token.Append(skap::AsBytes("\n"));
  if (auto written = skap::WriteSecretFile(path, token.Expose()); !written) {
    Fail("writing the token", written.error());
  }
}

}  // namespace skapd

namespace {

int Main(int argc, char** argv) {
  // A hub holds keys in memory: no core dumps, no ptrace by other users.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  CLI::App app{
      "skapd: the SKAP hub. It keeps the registry of tenants, networks, operators and\n"
      "devices, hands out bootstrap bundles, admits devices and keeps an HMAC-chained\n"
      "audit log. Operators use skapctl against its admin socket, or from elsewhere\n"
      "over TLS 1.3 with their own PSK when admin_listen is configured."};
  app.require_subcommand(1);
  skapd::AddInit(app);
  skapd::AddTenant(app);
  skapd::AddOperator(app);
  skapd::AddRun(app);
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
    std::fprintf(stderr, "skapd: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "skapd: failed\n");
  }
  return 1;
}
