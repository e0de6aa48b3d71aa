// skapd run's configuration: one TOML file, every key documented with its
// default in docs/skapd.toml. Unknown keys and out-of-range values are
// refused, so a typo never falls back to a default silently.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "hub/admin/admin_server.h"
#include "hub/channel/channel_server.h"

namespace skap::hub {

// HubConfig is what `skapd run` serves.
struct HubConfig {
  std::string data_dir;
  std::string admin_socket;         // default: <data_dir>/admin.sock
  std::string audit_checkpoint;     // default: <data_dir>/audit.checkpoint
  std::string admin_listen;         // host:port of the TLS-PSK admin listener; empty: off
  TlsAdminServerOptions admin_tls;  // host and port from admin_listen
  std::string hub_address = "127.0.0.1:7443";
  std::string device_listen = "127.0.0.1:7443";
  std::int64_t bootstrap_lifetime_s = std::int64_t{24} * 3600;
  ChannelServerOptions channel;  // host and port from device_listen
  RelayLimits relay;
};

// LoadHubConfig reads and checks the file at `path`.
Result<HubConfig> LoadHubConfig(const std::string& path);

}  // namespace skap::hub
