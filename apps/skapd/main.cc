// skapd: the SKAP hub daemon.
//
//   skapd init --data DIR                          create a hub
//   skapd tenant create --data DIR --name T --admin NAME --token-out FILE
//                                                  create a tenant and its first admin
//   skapd run --config FILE                        serve (see docs/skapd.toml)
#include <sys/prctl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "common/hex.h"
#include "common/secret_file.h"
#include "config.h"
#include "hub/admin/admin_api.h"
#include "hub/admin/admin_server.h"
#include "hub/channel/channel_server.h"
#include "hub/hub_node.h"

namespace {

int Fail(const std::string& what, const skap::Error& error) {
  std::fprintf(stderr, "skapd: %s: %s\n", what.c_str(), skap::ToString(error).c_str());
  return 1;
}

// A hub holds keys in memory: no core dumps, no ptrace by other users.
void HardenProcess() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
}

int Run(const std::string& config_path) {
  auto config = skapd::LoadConfig(config_path);
  if (!config) return Fail("configuration", config.error());
  // Block the signals before any thread starts, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto node = skap::hub::HubNode::Open(config->data_dir, config->relay);
  if (!node) return Fail("opening " + config->data_dir, node.error());
  skap::hub::AdminApi api(
      (*node)->registry(), (*node)->audit(), (*node)->entropy(),
      {config->hub_address, std::chrono::seconds(config->bootstrap_lifetime_s)});
  auto channel = skap::hub::ChannelServer::Start(
      (*node)->registry(), (*node)->audit(), (*node)->entropy(), (*node)->relay(),
      (*node)->registry_mutex(), config->channel, (*node)->clock());
  if (!channel) return Fail("device channel", channel.error());
  std::optional<skap::hub::TlsAdminServerOptions> admin_tls;
  if (!config->admin_listen.empty()) admin_tls = config->admin_tls;
  auto admin =
      skap::hub::AdminServer::Start(config->admin_socket, admin_tls, api, (*node)->registry(),
                                    (*node)->audit(), (*node)->registry_mutex());
  if (!admin) return Fail("admin API", admin.error());
  std::string admin_where = config->admin_socket;
  if (admin_tls) {
    admin_where +=
        " and TLS-PSK " + config->admin_tls.host + ":" + std::to_string((*admin)->tls_port());
  }
  std::fprintf(stderr, "skapd: hub %s: admin API on %s, device channel on %s:%u\n",
               (*node)->hub_id().c_str(), admin_where.c_str(), config->channel.host.c_str(),
               static_cast<unsigned>((*channel)->port()));
  int received = 0;
  sigwait(&signals, &received);
  std::fprintf(stderr, "skapd: stopping (signal %d)\n", received);
  (*admin)->Stop();
  (*channel)->Stop();
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "skapd: the SKAP hub. It keeps the registry of tenants, networks, operators and\n"
      "devices, hands out bootstrap bundles, admits devices and keeps an HMAC-chained\n"
      "audit log. Operators use skapctl against its admin socket, or from elsewhere\n"
      "over TLS 1.3 with their own PSK when admin_listen is configured."};
  app.require_subcommand(1);

  std::string data_dir;
  auto* init = app.add_subcommand("init", "Create a new hub (data directory, KEK, database)");
  init->add_option("--data", data_dir, "Data directory (created, mode 0700)")->required();

  auto* tenant =
      app.add_subcommand("tenant", "Tenant setup on this hub (needs the data directory)");
  tenant->require_subcommand(1);
  auto* tenant_create =
      tenant->add_subcommand("create", "Create a tenant and its first tenant-admin");
  std::string tenant_name;
  std::string admin_name;
  std::string token_out;
  tenant_create->add_option("--data", data_dir, "Data directory of the hub")->required();
  tenant_create->add_option("--name", tenant_name, "Tenant name")->required();
  tenant_create->add_option("--admin", admin_name, "Name of the first tenant-admin")->required();
  tenant_create
      ->add_option("--token-out", token_out,
                   "File to write the admin's token to (created 0600; '-' for stdout)")
      ->required();

  std::string config_path;
  auto* run = app.add_subcommand("run", "Serve, as configured in a TOML file");
  run->add_option("--config", config_path, "Configuration file (see docs/skapd.toml)")
      ->required()
      ->check(CLI::ExistingFile);

  CLI11_PARSE(app, argc, argv);
  HardenProcess();

  if (init->parsed()) {
    auto hub_id = skap::hub::HubNode::Init(data_dir);
    if (!hub_id) return Fail("init", hub_id.error());
    std::printf("hub %s created in %s\n", hub_id->c_str(), data_dir.c_str());
    return 0;
  }
  if (tenant_create->parsed()) {
    auto node = skap::hub::HubNode::Open(data_dir);
    if (!node) return Fail("opening " + data_dir, node.error());
    const auto hub = skap::hub::Principal::Hub();
    auto tenant_id = (*node)->registry().tenants().Create(hub, tenant_name);
    if (!tenant_id) return Fail("creating the tenant", tenant_id.error());
    auto token = (*node)->registry().operators().Add(hub, *tenant_id, admin_name,
                                                     skap::hub::Role::kTenantAdmin);
    if (!token) return Fail("creating the admin", token.error());
    token->token.Append(skap::AsBytes("\n"));
    if (auto written = skap::WriteSecretFile(token_out, token->token.Expose()); !written) {
      return Fail("writing the token", written.error());
    }
    std::fprintf(stderr, "tenant %s (%s) created; tenant-admin %s's token written to %s\n",
                 tenant_name.c_str(), tenant_id->c_str(), admin_name.c_str(), token_out.c_str());
    return 0;
  }
  return Run(config_path);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skapd: %s\n", e.what());
    return 1;
  }
}
