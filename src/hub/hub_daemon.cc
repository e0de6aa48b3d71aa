#include "hub/hub_daemon.h"

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>

#include "hub/admin/admin_api.h"
#include "hub/admin/admin_server.h"
#include "hub/channel/channel_server.h"
#include "hub/registry/audit_checkpoint.h"

namespace skap::hub {
namespace {

// In says where `error` happened, as skapd prints it: "where: code: message".
Unexpected In(const std::string& where, Error error) {
  error.message = where + ": " + ToString(error);
  return Unexpected(std::move(error));
}

}  // namespace

Result<void> RunHub(const HubConfig& config, const HubSeams& seams) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);

  auto opened = HubNode::Open(config.data_dir, config.relay);
  if (!opened) return In("opening " + config.data_dir, std::move(opened).error());
  auto node = std::move(*opened);
  std::unique_ptr<Relay> decorated;
  if (seams.relay) decorated = seams.relay(node->relay(), *node);
  Relay& relay = decorated ? *decorated : node->relay();
  // A hub whose audit log lost entries the checkpoint anchored stays down.
  AuditCheckpointFile checkpoints(node->audit(), node->hub_id(), config.audit_checkpoint);
  if (auto opened_checkpoint = checkpoints.Open(); !opened_checkpoint) {
    return In("audit checkpoint " + config.audit_checkpoint +
                  " (move it aside to start anyway;"
                  " a copy still shows what was cut)",
              std::move(opened_checkpoint).error());
  }
  if (auto first = checkpoints.Refresh(); !first) {
    return In("audit checkpoint " + config.audit_checkpoint, std::move(first).error());
  }
  AdminApi api(
      node->registry(), node->audit(), node->entropy(),
      {config.hub_address, std::chrono::seconds(config.bootstrap_lifetime_s), &checkpoints});
  auto channel = ChannelServer::Start(node->registry(), node->audit(), node->entropy(), relay,
                                      node->database(), config.channel, node->clock());
  if (!channel) return In("device channel", std::move(channel).error());
  std::optional<TlsAdminServerOptions> admin_tls;
  if (!config.admin_listen.empty()) admin_tls = config.admin_tls;
  auto admin = AdminServer::Start(config.admin_socket, admin_tls, api, node->registry(),
                                  node->audit(), node->database());
  if (!admin) return In("admin API", std::move(admin).error());
  std::string admin_where = config.admin_socket;
  if (admin_tls) {
    admin_where +=
        " and TLS-PSK " + config.admin_tls.host + ":" + std::to_string((*admin)->tls_port());
  }
  std::fprintf(stderr, "skapd: hub %s: admin API on %s, device channel on %s:%u\n",
               node->hub_id().c_str(), admin_where.c_str(), config.channel.host.c_str(),
               static_cast<unsigned>((*channel)->port()));
  // Between signals, the checkpoint follows the chain within kInterval. A
  // failure to write it is said once per run of failures, not per interval.
  const auto whole =
      std::chrono::duration_cast<std::chrono::seconds>(AuditCheckpointFile::kInterval);
  const timespec interval = {
      whole.count(), std::chrono::nanoseconds(AuditCheckpointFile::kInterval - whole).count()};
  bool failing = false;
  const auto refresh = [&] {
    const auto held = node->database().Hold();
    auto written = checkpoints.Refresh();
    if (!written && !failing) {
      std::fprintf(stderr, "skapd: audit checkpoint %s: %s\n", checkpoints.path().c_str(),
                   ToString(written.error()).c_str());
    }
    failing = !written;
  };
  int received = -1;
  while (received < 0) {
    received = sigtimedwait(&signals, nullptr, &interval);
    if (received < 0) refresh();
  }
  std::fprintf(stderr, "skapd: stopping (signal %d)\n", received);
  (*admin)->Stop();
  (*channel)->Stop();
  refresh();
  return Ok();
}

}  // namespace skap::hub
