#include "agentd/agent_config.h"

#include <algorithm>
#include <array>
#include <fstream>

#include "config/toml_file.h"
#include "crypto/uuid.h"

namespace skap::agent {
namespace {

using skap::ErrorCode;
using skap::Unexpected;

constexpr std::array<std::string_view, 16> kKeys = {"hybrid",
                                                    "peer",
                                                    "key_reserve",
                                                    "etsi014",
                                                    "ppk",
                                                    "data_dir",
                                                    "control_socket",
                                                    "key_exchange",
                                                    "agreement_timeout_s",
                                                    "reseed_interval_s",
                                                    "reseed_after_keys",
                                                    "session_max_age_s",
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

// HostPort parses "HOST:PORT" (an IPv6 host in brackets) for key `what`.
skap::Result<std::pair<std::string, std::uint16_t>> HostPort(const std::string& text,
                                                             const std::string& path,
                                                             const std::string& what,
                                                             const std::string& example) {
  const auto colon = text.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const std::string digits = text.substr(colon + 1);
    if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
        digits.size() <= 5) {
      port = std::stoi(digits);
    }
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
    return Bad(path, what + R"( must be "HOST:PORT", e.g. ")" + example + "\"");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

// LoadPeer reads the [peer] table (docs/skap-agent.toml).
skap::Result<PeerChannelOptions> LoadPeer(const toml::table& t, const std::string& path) {
  SKAP_RETURN_IF_ERROR(
      OnlyKeys(t, path, "peer", {"listen", "direct", "relay", "resend_s", "message_expiry_s"}));
  PeerChannelOptions o;
  SKAP_ASSIGN_OR_RETURN(const auto listen, skap::config::String(t, path, "listen", ""));
  if (!listen.empty()) {
    SKAP_ASSIGN_OR_RETURN(o.listen, HostPort(listen, path, "peer.listen", "127.0.0.1:7400"));
  }
  SKAP_ASSIGN_OR_RETURN(const auto resend, skap::config::Integer(t, path, "resend_s", 2, 1, 3600));
  o.resend = std::chrono::seconds(resend);
  SKAP_ASSIGN_OR_RETURN(const auto expiry,
                        skap::config::Integer(t, path, "message_expiry_s", 3600, 10, 604800));
  o.message_expiry = std::chrono::seconds(expiry);
  if (const auto* direct = t["direct"].as_array()) {
    for (const auto& node : *direct) {
      const auto* d = node.as_table();
      if (d == nullptr) return Bad(path, "peer.direct entries are tables ([[peer.direct]])");
      SKAP_RETURN_IF_ERROR(OnlyKeys(*d, path, "peer.direct", {"peer", "address"}));
      PeerAddress a;
      SKAP_ASSIGN_OR_RETURN(a.peer, skap::config::String(*d, path, "peer", ""));
      SKAP_ASSIGN_OR_RETURN(a.address, skap::config::String(*d, path, "address", ""));
      if (a.peer.empty()) return Bad(path, "each [[peer.direct]] needs peer (a device id)");
      SKAP_RETURN_IF_ERROR(HostPort(a.address, path, "peer.direct.address", "192.0.2.7:7400"));
      for (const auto& other : o.direct) {
        if (other.peer == a.peer) return Bad(path, "device " + a.peer + " has two [[peer.direct]]");
      }
      o.direct.push_back(std::move(a));
    }
  } else if (t.contains("direct")) {
    return Bad(path, "peer.direct must be an array of tables ([[peer.direct]])");
  }
  if (const auto* relay = t["relay"].as_table()) {
    SKAP_RETURN_IF_ERROR(OnlyKeys(*relay, path, "peer.relay",
                                  {"broker", "username", "password_file", "keepalive_s"}));
    skap::peer::RelayOptions r;
    SKAP_ASSIGN_OR_RETURN(const auto broker_text,
                          skap::config::String(*relay, path, "broker", "127.0.0.1:1883"));
    SKAP_ASSIGN_OR_RETURN(const auto broker,
                          HostPort(broker_text, path, "peer.relay.broker", "127.0.0.1:1883"));
    r.host = broker.first;
    r.port = broker.second;
    SKAP_ASSIGN_OR_RETURN(r.username, skap::config::String(*relay, path, "username", ""));
    SKAP_ASSIGN_OR_RETURN(const auto file, skap::config::String(*relay, path, "password_file", ""));
    if (!file.empty()) {
      std::ifstream in(file);
      if (!in || !std::getline(in, r.password)) {
        return Bad(path, "cannot read peer.relay.password_file " + file);
      }
    }
    SKAP_ASSIGN_OR_RETURN(const auto keepalive,
                          skap::config::Integer(*relay, path, "keepalive_s", 30, 5, 3600));
    r.keepalive = std::chrono::seconds(keepalive);
    r.message_expiry = o.message_expiry;
    o.relay = std::move(r);
  } else if (t.contains("relay")) {
    return Bad(path, "peer.relay must be a table");
  }
  return o;
}

// LoadEtsi014 reads the [etsi014] table (docs/skap-agent.toml). With a
// peer channel, several SAE pairs may share keys with one peer device:
// the key-id sync says which pair each key was handed out for.
skap::Result<skap::kme::Etsi014Options> LoadEtsi014(const toml::table& t, const std::string& path,
                                                    bool key_id_sync) {
  SKAP_RETURN_IF_ERROR(
      OnlyKeys(t, path, "etsi014", {"listen", "server_names", "max_keys_per_request", "sae"}));
  skap::kme::Etsi014Options o;
  SKAP_ASSIGN_OR_RETURN(const auto listen_text,
                        skap::config::String(t, path, "listen", "127.0.0.1:8443"));
  SKAP_ASSIGN_OR_RETURN(const auto listen,
                        HostPort(listen_text, path, "etsi014.listen", "127.0.0.1:8443"));
  o.host = listen.first;
  o.port = listen.second;
  if (const auto* names = t["server_names"].as_array()) {
    o.server_names.clear();
    for (const auto& n : *names) {
      if (!n.is_string()) return Bad(path, "etsi014.server_names must be strings");
      o.server_names.push_back(*n.value<std::string>());
    }
  } else if (t.contains("server_names")) {
    return Bad(path, "etsi014.server_names must be an array of strings");
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
    skap::kme::SaeEntry e;
    SKAP_ASSIGN_OR_RETURN(e.id, skap::config::String(*sae, path, "id", ""));
    SKAP_ASSIGN_OR_RETURN(e.certificate_sha256,
                          skap::config::String(*sae, path, "certificate_sha256", ""));
    SKAP_ASSIGN_OR_RETURN(e.peer, skap::config::String(*sae, path, "peer", ""));
    SKAP_ASSIGN_OR_RETURN(e.remote_sae, skap::config::String(*sae, path, "remote_sae", ""));
    if (e.id.empty() || e.certificate_sha256.size() != 64 || !crypto::IsCanonicalUuid(e.peer) ||
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
      if (other.peer == e.peer && !key_id_sync) {
        // Without the peer channel nothing says which SAE pair a key id
        // was handed out for; one pair per peer keeps dec_keys' check exact.
        return Bad(path, "SAEs " + other.id + " and " + e.id + " both share keys with device " +
                             e.peer + ": one SAE pair per peer device, unless [peer] is set");
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
    skap::ppk::PpkTarget p;
    SKAP_ASSIGN_OR_RETURN(p.peer, skap::config::String(*t, path, "peer", ""));
    SKAP_ASSIGN_OR_RETURN(p.vici_socket,
                          skap::config::String(*t, path, "vici_socket", "/var/run/charon.vici"));
    SKAP_ASSIGN_OR_RETURN(p.ppk_id, skap::config::String(*t, path, "ppk_id", ""));
    SKAP_ASSIGN_OR_RETURN(p.connection, skap::config::String(*t, path, "connection", ""));
    SKAP_ASSIGN_OR_RETURN(p.child, skap::config::String(*t, path, "child", ""));
    if (p.child.empty()) p.child = p.connection;
    SKAP_ASSIGN_OR_RETURN(p.initiate, skap::config::Boolean(*t, path, "initiate", false));
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
  // Every key is read by its type: a value of another type is refused, never
  // taken as the default (key_exchange = 5 must not mean psk_ke).
  SKAP_ASSIGN_OR_RETURN(o.data_dir, skap::config::String(table, path, "data_dir", ""));
  if (o.data_dir.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument, path + ": data_dir is required");
  }
  SKAP_ASSIGN_OR_RETURN(o.control_socket, skap::config::String(table, path, "control_socket",
                                                               o.data_dir + "/control.sock"));
  SKAP_ASSIGN_OR_RETURN(
      const std::string mode,
      skap::config::String(
          table, path, "key_exchange",
          std::string(skap::crypto::KeyExchangeModeName(skap::crypto::kDefaultKeyExchange))));
  const auto parsed = skap::crypto::ParseKeyExchangeMode(mode);
  if (!parsed) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path + R"(: key_exchange must be "psk_ke" or "psk_dhe_ke")");
  }
  o.link.mode = *parsed;
  SKAP_ASSIGN_OR_RETURN(o.engine.hybrid, skap::config::Boolean(table, path, "hybrid", false));
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
  // With scheduled re-seeds off, sessions are re-seeded by hand: no bound
  // unless one is asked for.
  SKAP_ASSIGN_OR_RETURN(const auto max_age,
                        skap::config::Integer(table, path, "session_max_age_s",
                                              interval == 0 ? 0 : 7 * 86400, 0, 315360000));
  if (max_age != 0 && (max_age < 60 || (interval != 0 && max_age <= interval))) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path +
                          ": session_max_age_s must be 0 (no bound) or at least 60 and more "
                          "than reseed_interval_s, so a session is re-seeded before it stops");
  }
  o.session_max_age = seconds(max_age);
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
  if (const auto* peer = table["peer"].as_table()) {
    SKAP_ASSIGN_OR_RETURN(o.peer, LoadPeer(*peer, path));
  } else if (table.contains("peer")) {
    return Bad(path, "peer must be a table");
  }
  if (const auto* etsi = table["etsi014"].as_table()) {
    SKAP_ASSIGN_OR_RETURN(o.etsi014, LoadEtsi014(*etsi, path, o.peer.enabled()));
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
