#include "config.h"

#include <array>

#include "config/toml_file.h"

namespace skap_agent {
namespace {

using skap::ErrorCode;
using skap::Unexpected;

constexpr std::array<std::string_view, 11> kKeys = {"hybrid",
                                                    "data_dir",
                                                    "control_socket",
                                                    "key_exchange",
                                                    "agreement_timeout_s",
                                                    "reseed_interval_s",
                                                    "reseed_after_keys",
                                                    "key_window",
                                                    "hub_entropy_bytes",
                                                    "reconnect_max_s",
                                                    "admission_poll_s"};
}  // namespace

skap::Result<skap::agent::AgentOptions> LoadConfig(const std::string& path) {
  SKAP_ASSIGN_OR_RETURN(const toml::table table, skap::config::ParseTomlFile(path, kKeys));
  skap::agent::AgentOptions o;
  o.data_dir = table["data_dir"].value_or(std::string());
  if (o.data_dir.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument, path + ": data_dir is required");
  }
  o.control_socket = table["control_socket"].value_or(o.data_dir + "/control.sock");
  const std::string mode = table["key_exchange"].value_or(std::string("psk_ke"));
  if (mode != "psk_ke" && mode != "psk_dhe_ke") {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path + R"(: key_exchange must be "psk_ke" or "psk_dhe_ke")");
  }
  o.link.mode = mode == "psk_ke" ? skap::crypto::KeyExchangeMode::kPskOnly
                                 : skap::crypto::KeyExchangeMode::kPskWithDhe;
  const auto hybrid = table["hybrid"];
  if (hybrid && !hybrid.is_boolean()) {
    return Unexpected(ErrorCode::kInvalidArgument, path + ": hybrid must be true or false");
  }
  o.engine.hybrid = hybrid.value_or(false);
  using std::chrono::seconds;
  SKAP_ASSIGN_OR_RETURN(const auto timeout,
                        skap::config::Integer(table, path, "agreement_timeout_s", 30, 2, 3600));
  o.engine.lifetime = seconds(timeout);
  o.engine.confirm_grace = seconds(timeout);
  SKAP_ASSIGN_OR_RETURN(const auto interval, skap::config::Integer(table, path, "reseed_interval_s",
                                                                   86400, 0, 31536000));
  o.engine.reseed_interval = seconds(interval);
  SKAP_ASSIGN_OR_RETURN(
      o.engine.reseed_after_keys,
      skap::config::Integer(table, path, "reseed_after_keys", 0, 0, 1'000'000'000));
  SKAP_ASSIGN_OR_RETURN(const auto window,
                        skap::config::Integer(table, path, "key_window", 1024, 0, 65536));
  o.key_window = static_cast<std::uint32_t>(window);
  SKAP_ASSIGN_OR_RETURN(const auto entropy,
                        skap::config::Integer(table, path, "hub_entropy_bytes", 32, 0, 1024));
  o.link.entropy_bytes = static_cast<std::uint32_t>(entropy);
  SKAP_ASSIGN_OR_RETURN(const auto backoff,
                        skap::config::Integer(table, path, "reconnect_max_s", 10, 1, 3600));
  o.link.max_backoff = seconds(backoff);
  SKAP_ASSIGN_OR_RETURN(const auto poll,
                        skap::config::Integer(table, path, "admission_poll_s", 2, 1, 3600));
  o.link.admission_poll = seconds(poll);
  return o;
}

}  // namespace skap_agent
