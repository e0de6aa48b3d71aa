// A device as the registry keeps it: its place in its lifecycle and the
// facts operators see (no keys).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace skap::hub {

// DeviceState is a device's place in its lifecycle: provisioned -> pending
// (it reported) -> active (admitted) -> revoked, or -> rejected before
// admission. Revoked and rejected are final.
enum class DeviceState { kProvisioned, kPending, kActive, kRevoked, kRejected };
std::string_view DeviceStateName(DeviceState state);
// ParseDeviceState is DeviceStateName's inverse; unknown text is the most
// final state, revoked.
DeviceState ParseDeviceState(std::string_view name);

// Device is a registry entry as operators see it (no keys).
struct Device {
  std::string id;
  std::string name;
  std::string network_id;
  std::string network_name;
  std::string tenant_id;
  DeviceState state = DeviceState::kProvisioned;
  bool can_provision = false;
  std::string provisioned_by;
  std::optional<std::string> parent_device;
  std::optional<std::string> admitted_by;
  std::int64_t bootstrap_expires_at_ms = 0;
  std::optional<std::string> preflight;  // JSON report, once received
  std::int64_t created_at_ms = 0;
  std::int64_t changed_at_ms = 0;
};

}  // namespace skap::hub
