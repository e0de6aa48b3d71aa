#include "hub/hub_config.h"

#include <array>
#include <charconv>

#include "config/toml_file.h"

namespace skap::hub {
namespace {

constexpr std::array<std::string_view, 16> kKeys = {"data_dir",
                                                    "admin_socket",
                                                    "audit_checkpoint",
                                                    "admin_listen",
                                                    "hub_address",
                                                    "device_listen",
                                                    "bootstrap_lifetime_s",
                                                    "allow_psk_only",
                                                    "ratchet_interval_s",
                                                    "ratchet_after_sessions",
                                                    "entropy_max_request_bytes",
                                                    "entropy_rate_bytes_per_s",
                                                    "entropy_burst_bytes",
                                                    "agreement_max_lifetime_s",
                                                    "agreement_max_pending",
                                                    "agreement_max_pending_per_sender"};

// SplitHostPort reads `key`'s "host:port" into `host` and `port`.
Result<void> SplitHostPort(const std::string& path, std::string_view key, const std::string& text,
                           std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  unsigned number = 0;
  const char* end = text.data() + text.size();
  if (colon == std::string::npos || colon == 0 ||
      std::from_chars(text.data() + colon + 1, end, number).ptr != end || number > 65535) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path + ": " + std::string(key) + " must be host:port");
  }
  host = text.substr(0, colon);
  port = static_cast<std::uint16_t>(number);
  return Ok();
}

}  // namespace

Result<HubConfig> LoadHubConfig(const std::string& path) {
  SKAP_ASSIGN_OR_RETURN(const toml::table table, config::ParseTomlFile(path, kKeys));
  HubConfig c;
  // Every key is read by its type: a value of another type is refused, never
  // taken as the default (allow_psk_only = "false" must not leave psk_ke on).
  SKAP_ASSIGN_OR_RETURN(c.data_dir, config::String(table, path, "data_dir", ""));
  if (c.data_dir.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument, path + ": data_dir is required");
  }
  SKAP_ASSIGN_OR_RETURN(c.admin_socket,
                        config::String(table, path, "admin_socket", c.data_dir + "/admin.sock"));
  SKAP_ASSIGN_OR_RETURN(c.audit_checkpoint, config::String(table, path, "audit_checkpoint",
                                                           c.data_dir + "/audit.checkpoint"));
  if (c.audit_checkpoint.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path + ": audit_checkpoint must name a file (the audit log's anchor)");
  }
  SKAP_ASSIGN_OR_RETURN(c.hub_address, config::String(table, path, "hub_address", c.hub_address));
  SKAP_ASSIGN_OR_RETURN(c.device_listen,
                        config::String(table, path, "device_listen", c.device_listen));
  SKAP_RETURN_IF_ERROR(
      SplitHostPort(path, "device_listen", c.device_listen, c.channel.host, c.channel.port));
  SKAP_ASSIGN_OR_RETURN(c.channel.allow_psk_only,
                        config::Boolean(table, path, "allow_psk_only", c.channel.allow_psk_only));
  SKAP_ASSIGN_OR_RETURN(c.admin_listen, config::String(table, path, "admin_listen", ""));
  if (!c.admin_listen.empty()) {
    SKAP_RETURN_IF_ERROR(
        SplitHostPort(path, "admin_listen", c.admin_listen, c.admin_tls.host, c.admin_tls.port));
    c.admin_tls.allow_psk_only = c.channel.allow_psk_only;
  }
  SKAP_ASSIGN_OR_RETURN(c.bootstrap_lifetime_s,
                        config::Integer(table, path, "bootstrap_lifetime_s", c.bootstrap_lifetime_s,
                                        60, std::int64_t{30} * 24 * 3600));
  SKAP_ASSIGN_OR_RETURN(const auto interval,
                        config::Integer(table, path, "ratchet_interval_s", 86400, 60, 31536000));
  c.channel.ratchet.max_age = std::chrono::seconds(interval);
  SKAP_ASSIGN_OR_RETURN(const auto sessions, config::Integer(table, path, "ratchet_after_sessions",
                                                             1000, 0, 1'000'000'000));
  c.channel.ratchet.max_sessions = static_cast<std::uint64_t>(sessions);
  SKAP_ASSIGN_OR_RETURN(const auto max_request,
                        config::Integer(table, path, "entropy_max_request_bytes", 1024, 1, 65536));
  c.channel.entropy.max_request_bytes = static_cast<std::uint32_t>(max_request);
  SKAP_ASSIGN_OR_RETURN(const auto rate,
                        config::Integer(table, path, "entropy_rate_bytes_per_s", 1024, 1, 1 << 30));
  c.channel.entropy.bytes_per_second = static_cast<double>(rate);
  SKAP_ASSIGN_OR_RETURN(const auto burst,
                        config::Integer(table, path, "entropy_burst_bytes", 8192, 1, 1 << 30));
  if (burst < max_request) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path + ": entropy_burst_bytes must be at least entropy_max_request_bytes");
  }
  c.channel.entropy.burst_bytes = static_cast<double>(burst);
  SKAP_ASSIGN_OR_RETURN(const auto lifetime,
                        config::Integer(table, path, "agreement_max_lifetime_s", 600, 10, 86400));
  c.relay.max_lifetime = std::chrono::seconds(lifetime);
  c.relay.confirm_grace = std::chrono::seconds(lifetime);
  SKAP_ASSIGN_OR_RETURN(c.relay.max_pending,
                        config::Integer(table, path, "agreement_max_pending", 4096, 16, 1'000'000));
  SKAP_ASSIGN_OR_RETURN(
      c.relay.max_pending_per_sender,
      config::Integer(table, path, "agreement_max_pending_per_sender", 64, 4, 1'000'000));
  return c;
}

}  // namespace skap::hub
