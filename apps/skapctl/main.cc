// skapctl: the operator's tool for a SKAP hub's admin API. Each subcommand
// is a file of its own (network, hub, operator, device, audit); main only
// sets the global options and registers them.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <CLI/CLI.hpp>

#include "apps/skapctl/cli.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{
      "skapctl: operate a SKAP hub through its admin API: on the hub's machine over\n"
      "its Unix socket, from elsewhere over TLS 1.3 with a PSK derived from your\n"
      "operator token (--hub, --operator). Every call is checked against your role."};
  app.require_subcommand(1);
  skap::ctl::Globals g;
  // Single-threaded here, so getenv is safe.
  const char* env_socket = std::getenv("SKAP_ADMIN_SOCKET");  // NOLINT(concurrency-mt-unsafe)
  const char* env_token = std::getenv("SKAP_TOKEN_FILE");     // NOLINT(concurrency-mt-unsafe)
  const char* env_hub = std::getenv("SKAP_HUB_ADMIN");        // NOLINT(concurrency-mt-unsafe)
  const char* env_operator = std::getenv("SKAP_OPERATOR");    // NOLINT(concurrency-mt-unsafe)
  g.endpoint.socket_path = env_socket != nullptr ? env_socket : "/var/lib/skap/admin.sock";
  g.endpoint.tls_address = env_hub != nullptr ? env_hub : "";
  g.endpoint.operator_name = env_operator != nullptr ? env_operator : "";
  g.token_file = env_token != nullptr ? env_token : "";
  app.add_option("--socket", g.endpoint.socket_path,
                 "Admin socket of the hub (env SKAP_ADMIN_SOCKET)")
      ->capture_default_str();
  app.add_option("--hub", g.endpoint.tls_address,
                 "HOST:PORT of the hub's TLS-PSK admin listener, instead of the socket "
                 "(env SKAP_HUB_ADMIN)");
  app.add_option("--operator", g.endpoint.operator_name,
                 "Your operator name, the PSK identity over TLS (env SKAP_OPERATOR)");
  app.add_option_function<std::string>(
         "--key-exchange",
         [&g](const std::string& name) {
           // Checked against the two names first (IsMember below).
           g.endpoint.key_exchange =
               skap::crypto::ParseKeyExchangeMode(name).value_or(skap::crypto::kDefaultKeyExchange);
         },
         "Over TLS: psk_dhe_ke (X25519 on top of the operator's PSK: forward secrecy) or "
         "psk_ke (no Diffie-Hellman)")
      ->check(CLI::IsMember({"psk_dhe_ke", "psk_ke"}))
      ->default_str(
          std::string(skap::crypto::KeyExchangeModeName(skap::crypto::kDefaultKeyExchange)));
  app.add_option(
      "--token-file", g.token_file,
      "File holding your operator token (env SKAP_TOKEN_FILE); without one, the hub's own "
      "socket reads every tenant's audit log and operators, as the hub");
  app.add_flag("--json", g.json_output, "Print the hub's JSON instead of tables");
  skap::ctl::AddNetwork(app, g);
  skap::ctl::AddHub(app, g);
  skap::ctl::AddOperator(app, g);
  skap::ctl::AddDevice(app, g);
  skap::ctl::AddAudit(app, g);
  skap::ctl::AddTenant(app, g);
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
    std::fprintf(stderr, "skapctl: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "skapctl: failed\n");
  }
  return 1;
}
