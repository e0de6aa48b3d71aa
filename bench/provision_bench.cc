// Provisioning throughput and database size: a fresh hub in a temporary
// directory, one tenant, one network, then N devices provisioned one by one
// (each its own durable transaction with its audit entry), as skapctl does.
//
//   provision_bench [N]     (default 100000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "hub/hub_node.h"

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 100000;
  std::string pattern = (std::filesystem::temp_directory_path() / "skap-bench-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return 1;
  const std::string dir = pattern + "/hub";
  auto init = skap::hub::HubNode::Init(dir);
  auto node = init ? skap::hub::HubNode::Open(dir) : skap::Unexpected(init.error());
  if (!node) {
    std::fprintf(stderr, "%s\n", skap::ToString(node.error()).c_str());
    return 1;
  }
  auto& registry = (*node)->registry();
  const auto hub = skap::hub::Principal::Hub();
  const auto tenant = registry.CreateTenant(hub, "bench");
  auto admin_token = registry.AddOperator(hub, *tenant, "admin", skap::hub::Role::kTenantAdmin);
  auto prov_token = registry.AddOperator(hub, *tenant, "prov", skap::hub::Role::kProvisioner);
  auto text = [](const skap::SecretBytes& s) {
    return std::string(s.Expose().begin(), s.Expose().end());
  };
  const auto admin = *registry.AuthenticateOperator(text(admin_token->token));
  const auto provisioner = *registry.AuthenticateOperator(text(prov_token->token));
  (void)registry.CreateNetwork(admin, "fleet");

  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    auto grant = registry.ProvisionDevice(provisioner, "fleet", "device-" + std::to_string(i),
                                          std::chrono::hours(24), false);
    if (!grant) {
      std::fprintf(stderr, "device %ld: %s\n", i, skap::ToString(grant.error()).c_str());
      return 1;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  node->reset();
  std::uintmax_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("hub.db", 0) == 0) bytes += entry.file_size();
  }
  std::printf(
      "provisioned %ld devices in %.1f s: %.0f devices/s; database %.1f MB (%.0f bytes/device)\n",
      count, seconds, static_cast<double>(count) / seconds, static_cast<double>(bytes) / 1e6,
      static_cast<double>(bytes) / static_cast<double>(count));
  std::filesystem::remove_all(pattern);
  return 0;
}
