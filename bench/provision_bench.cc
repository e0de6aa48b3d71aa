// Provisioning throughput and database size: a fresh hub, one tenant, one
// network, then N devices provisioned one by one (each its own durable
// transaction with its audit entry), as `skapctl device provision` does;
// then N more in batches of 500 (one durable transaction per batch, an
// audit entry per device), as `skapctl device provision --csv` does.
//
//   provision_bench [--count N] [--data DIR] [--admit M --states DIR
//                   --hub-address HOST:PORT]
//
// Without --data the hub lives in a temporary directory and is removed. With
// --admit, the first M devices also report and are admitted, and their
// device state files (epoch 1, as skap-agent would hold them) are written to
// --states: load for the channel benchmarks (bench/run.sh).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "agent/store/hub_channel_state.h"
#include "crypto/channel_key.h"
#include "hub/hub_node.h"
#include "keystore/file_keystore.h"

namespace {

std::string Text(const skap::SecretBytes& s) { return {s.Expose().begin(), s.Expose().end()}; }

int Fail(const std::string& what, const skap::Error& e) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), skap::ToString(e).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"provision_bench: hub provisioning throughput and database size"};
  long count = 100000;
  long admit = 0;
  std::string data;
  std::string states;
  std::string hub_address = "127.0.0.1:7443";
  app.add_option("--count", count, "Devices to provision");
  app.add_option("--data", data, "Hub data directory to create and keep");
  auto* admit_option = app.add_option("--admit", admit, "Admit this many of them");
  app.add_option("--states", states, "Directory for their state files")->needs(admit_option);
  app.add_option("--hub-address", hub_address, "Device channel address put in their state");
  CLI11_PARSE(app, argc, argv);

  std::string temp;
  if (data.empty()) {
    temp = (std::filesystem::temp_directory_path() / "skap-bench-XXXXXX").string();
    if (mkdtemp(temp.data()) == nullptr) return 1;
    data = temp + "/hub";
  }
  auto init = skap::hub::HubNode::Init(data);
  if (!init) return Fail("init", init.error());
  auto node = skap::hub::HubNode::Open(data);
  if (!node) return Fail("open", node.error());
  auto& registry = (*node)->registry();
  const auto hub = skap::hub::Principal::Hub();
  const auto tenant = registry.tenants().Create(hub, "bench");
  const auto role = [&](const char* name, skap::hub::Role r) {
    auto token = registry.operators().Add(hub, *tenant, name, r);
    return *registry.operators().Authenticate(Text(token->token));
  };
  const auto admin = role("admin", skap::hub::Role::kTenantAdmin);
  const auto provisioner = role("prov", skap::hub::Role::kProvisioner);
  const auto admitter = role("adm", skap::hub::Role::kAdmitter);
  (void)registry.networks().Create(admin, "fleet");

  std::vector<skap::hub::BootstrapGrant> to_admit;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    auto grant = registry.devices().Provision(provisioner, "fleet", "device-" + std::to_string(i),
                                              std::chrono::hours(24), false);
    if (!grant) return Fail("device " + std::to_string(i), grant.error());
    if (i < admit) to_admit.push_back(std::move(*grant));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The same count again in batches (POST /v1/devices/batch, skapctl
  // --csv): one transaction per batch, each device durable before its
  // grant comes back.
  (void)registry.networks().Create(admin, "bulk");
  std::vector<skap::hub::Devices::NewDevice> batch;
  const auto batch_start = std::chrono::steady_clock::now();
  for (long i = 0; i < count;) {
    batch.clear();
    for (; i < count && batch.size() < skap::hub::Devices::kMaxBatch; ++i) {
      batch.push_back({"bulk-" + std::to_string(i), false});
    }
    auto grants =
        registry.devices().ProvisionBatch(provisioner, "bulk", std::chrono::hours(24), batch);
    if (!grants) return Fail("batch", grants.error());
    for (const auto& g : *grants) {
      if (!g) return Fail("batch device", g.error());
    }
  }
  const double batch_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_start).count();

  std::unique_ptr<skap::keystore::FileKeystore> kek;
  if (!states.empty()) {
    std::filesystem::create_directories(states);
    // The states' secrets are wrapped under one local KEK beside them.
    auto created = skap::keystore::FileKeystore::Create(states + "/local.kek", (*node)->entropy());
    if (!created) return Fail("kek", created.error());
    kek = std::move(*created);
  }
  for (const auto& grant : to_admit) {
    // Play the device's part the way skap-agent does (agent/enrolment.cc).
    std::vector<std::uint8_t> device_nonce(skap::crypto::kChannelNonceSize);
    if (auto f = (*node)->entropy().Fill(device_nonce); !f) return Fail("nonce", f.error());
    const auto& id = grant.device.id;
    if (auto r = registry.devices().RecordPreflight(id, "{}", device_nonce); !r)
      return Fail(id, r.error());
    if (auto r = registry.devices().Admit(admitter, id); !r) return Fail(id, r.error());
    auto hub_nonce = registry.devices().HubNonceFor(id);
    auto key = skap::crypto::NextChannelKey(grant.bootstrap_key.Expose(), 1, *hub_nonce,
                                            device_nonce, grant.hub_id, id);
    if (!key) return Fail(id, key.error());
    skap::agent::HubChannelState state;
    state.hub = {grant.hub_id,
                 hub_address,
                 grant.device.tenant_id,
                 grant.tenant_name,
                 grant.device.network_id,
                 grant.device.network_name,
                 id,
                 grant.device.name,
                 grant.device.bootstrap_expires_at_ms,
                 grant.network.hub_set,
                 grant.network.threshold};
    state.epoch = 1;
    state.key = std::move(*key);
    state.status = "active";
    if (auto s = skap::agent::SaveHubChannelState(states + "/" + grant.device.name + ".state",
                                                  state, *kek);
        !s) {
      return Fail("state", s.error());
    }
  }
  node->reset();
  std::uintmax_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data)) {
    if (entry.path().filename().string().rfind("hub.db", 0) == 0) bytes += entry.file_size();
  }
  std::printf(
      "provisioned %ld devices in %.1f s: %.0f devices/s; database %.1f MB after both runs (%.0f "
      "bytes/device)\n",
      count, seconds, static_cast<double>(count) / seconds, static_cast<double>(bytes) / 1e6,
      static_cast<double>(bytes) / static_cast<double>(2 * count));
  std::printf(
      "provisioned %ld devices in batches of %zu in %.1f s: %.0f devices/s (%.1fx one by one)\n",
      count, skap::hub::Devices::kMaxBatch, batch_seconds,
      static_cast<double>(count) / batch_seconds, seconds / batch_seconds);
  if (!temp.empty()) std::filesystem::remove_all(temp);
  return 0;
}
