#include "agent/agent_config.h"

#include <algorithm>
#include <array>

#include "config/toml_file.h"

namespace skap::agent {
namespace {

using skap::ErrorCode;
using skap::Unexpected;

constexpr std::array<std::string_view, 14> kKeys = {"hybrid",
                                                    "key_reserve",
                                                    "etsi014",
                                                    "ppk",
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
skap::Unexpected Bad(const std::string& path, const std::string& what) {
  return Unexpected(ErrorCode::kInvalidArgument, path + ": " + what);
}

skap::Result<void> OnlyKeys(const toml::table& table, const std::string& path,
                            const std::string& where,
                            std::initializer_list<std::string_view> known) {
  for (const auto& [key, _] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      return Bad(path, "unknown key " + where + "." + std::string(key.str()));
    }
  }
  return skap::Ok();
}

// LoadEtsi014 reads the [etsi014] table (docs/skap-agent.toml).
skap::Result<skap::kme::Etsi014Options> LoadEtsi014(const toml::table& t, const std::string& path) {
  SKAP_RETURN_IF_ERROR(
      OnlyKeys(t, path, "etsi014", {"listen", "server_names", "max_keys_per_request", "sae"}));
  skap::kme::Etsi014Options o;
  const std::string listen = t["listen"].value_or(std::string("127.0.0.1:8443"));
  const auto colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const std::string digits = listen.substr(colon + 1);
    if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
        digits.size() <= 5) {
      port = std::stoi(digits);
    }
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
    return Bad(path, R"(etsi014.listen must be "HOST:PORT", e.g. "127.0.0.1:8443")");
  }
  o.host = listen.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') {
    o.host = o.host.substr(1, o.host.size() - 2);
  }
  o.port = static_cast<std::uint16_t>(port);
  if (const auto* names = t["server_names"].as_array()) {
    o.server_names.clear();
    for (const auto& n : *names) {
      if (!n.is_string()) return Bad(path, "etsi014.server_names must be strings");
      o.server_names.push_back(*n.value<std::string>());
    }
  }
  SKAP_ASSIGN_OR_RETURN(const auto max,
                        skap::config::Integer(t, path, "max_keys_per_request", 128, 1, 4096));
  o.max_keys_per_request = static_cast<std::uint32_t>(max);
  const auto* saes = t["sae"].as_array();
  if (saes == nullptr || saes->empty()) {
    return Bad(path, "etsi014 needs at least one [[etsi014.sae]]");
  }
  for (const auto& node : *saes) {
    const auto* sae = node.as_table();
    if (sae == nullptr) return Bad(path, "etsi014.sae entries are tables");
    SKAP_RETURN_IF_ERROR(
        OnlyKeys(*sae, path, "etsi014.sae", {"id", "certificate_sha256", "peer", "remote_sae"}));
    skap::kme::SaeEntry e{
        (*sae)["id"].value_or(std::string()), (*sae)["certificate_sha256"].value_or(std::string()),
        (*sae)["peer"].value_or(std::string()), (*sae)["remote_sae"].value_or(std::string())};
    if (e.id.empty() || e.certificate_sha256.size() != 64 || e.peer.empty() ||
        e.remote_sae.empty()) {
      return Bad(path,
                 "each [[etsi014.sae]] needs id, certificate_sha256 (64 hex digits, from "
                 "skap-agent sae add), peer (a device id) and remote_sae");
    }
    for (const auto& other : o.saes) {
      if (other.id == e.id) return Bad(path, "SAE " + e.id + " is listed twice");
      if (other.certificate_sha256 == e.certificate_sha256) {
        return Bad(path, "SAEs " + other.id + " and " + e.id + " share a certificate");
      }
      if (other.peer == e.peer) {
        // The key ids of a session do not say which SAE pair they were
        // handed out for; one pair per peer keeps dec_keys' check exact.
        return Bad(path, "SAEs " + other.id + " and " + e.id + " both share keys with device " +
                             e.peer + ": one SAE pair per peer device");
      }
    }
    o.saes.push_back(std::move(e));
  }
  return o;
}

// LoadPpk reads the [[ppk]] tables (docs/skap-agent.toml).
skap::Result<std::vector<skap::ppk::PpkTarget>> LoadPpk(const toml::array& list,
                                                        const std::string& path) {
  std::vector<skap::ppk::PpkTarget> out;
  for (const auto& node : list) {
    const auto* t = node.as_table();
    if (t == nullptr) return Bad(path, "ppk entries are tables ([[ppk]])");
    SKAP_RETURN_IF_ERROR(OnlyKeys(
        *t, path, "ppk", {"peer", "vici_socket", "ppk_id", "connection", "child", "initiate"}));
    skap::ppk::PpkTarget p{(*t)["peer"].value_or(std::string()),
                           (*t)["vici_socket"].value_or(std::string("/var/run/charon.vici")),
                           (*t)["ppk_id"].value_or(std::string()),
                           (*t)["connection"].value_or(std::string()),
                           (*t)["child"].value_or(std::string()),
                           false};
    if (p.child.empty()) p.child = p.connection;
    const auto initiate = (*t)["initiate"];
    if (initiate && !initiate.is_boolean()) return Bad(path, "ppk.initiate must be true or false");
    p.initiate = initiate.value_or(false);
    if (p.peer.empty() || p.ppk_id.empty() || p.connection.empty()) {
      return Bad(path, "each [[ppk]] needs peer (a device id), ppk_id and connection");
    }
    for (const auto& other : out) {
      if (other.connection == p.connection && other.vici_socket == p.vici_socket) {
        return Bad(path, "connection " + p.connection + " has two [[ppk]] entries");
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

skap::Result<AgentOptions> LoadAgentConfig(const std::string& path) {
  SKAP_ASSIGN_OR_RETURN(const toml::table table, skap::config::ParseTomlFile(path, kKeys));
  AgentOptions o;
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
  SKAP_ASSIGN_OR_RETURN(const auto reserve,
                        skap::config::Integer(table, path, "key_reserve", 64, 1, 4096));
  o.key_reserve = static_cast<std::uint32_t>(reserve);
  SKAP_ASSIGN_OR_RETURN(const auto entropy,
                        skap::config::Integer(table, path, "hub_entropy_bytes", 32, 0, 1024));
  o.link.entropy_bytes = static_cast<std::uint32_t>(entropy);
  SKAP_ASSIGN_OR_RETURN(const auto backoff,
                        skap::config::Integer(table, path, "reconnect_max_s", 10, 1, 3600));
  o.link.max_backoff = seconds(backoff);
  SKAP_ASSIGN_OR_RETURN(const auto poll,
                        skap::config::Integer(table, path, "admission_poll_s", 2, 1, 3600));
  o.link.admission_poll = seconds(poll);
  if (const auto* etsi = table["etsi014"].as_table()) {
    SKAP_ASSIGN_OR_RETURN(o.etsi014, LoadEtsi014(*etsi, path));
  } else if (table.contains("etsi014")) {
    return Bad(path, "etsi014 must be a table");
  }
  if (const auto* ppk = table["ppk"].as_array()) {
    SKAP_ASSIGN_OR_RETURN(o.ppk, LoadPpk(*ppk, path));
  } else if (table.contains("ppk")) {
    return Bad(path, "ppk must be an array of tables ([[ppk]])");
  }
  return o;
}

}  // namespace skap::agent
