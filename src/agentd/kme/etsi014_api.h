// The agent as a KME for its local SAEs: ETSI GS QKD 014 V1.1.1 key
// delivery (docs/etsi014.md). Each local SAE is paired, in the agent's
// configuration, with one SAE behind the agent of one peer device; keys come
// from the pairwise session with that peer. A master SAE's enc_keys take the
// next keys of this side's chain; the slave SAE's dec_keys at the peer's
// agent fetch the same keys by id from the peer's copy of that chain. Each
// key is handed out once on each side and then erased.
//
// Which master handed a key out for which slave (the standard's 401 rule
// for dec_keys): the master's KME says so over the peer channel, a ratchet
// notice per run of keys (agent/peer_channel.h, the key-id sync). Without a
// peer channel, one SAE pair per peer device says it with no message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/peer/peer_channel.h"
#include "agent/store/session_store.h"
#include "common/secret_bytes.h"
#include "net/http/message.h"

namespace skap::kme {

// SaeEntry is one local SAE and the SAE it shares keys with.
struct SaeEntry {
  std::string id;                  // this SAE's id
  std::string certificate_sha256;  // its client certificate (skap-agent sae add)
  std::string peer;                // the device id of the agent serving the other SAE
  std::string remote_sae;          // the other SAE's id
};

struct Etsi014Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;
  std::vector<std::string> server_names = {"localhost", "127.0.0.1", "::1"};
  std::uint32_t max_keys_per_request = 128;
  std::vector<SaeEntry> saes;
};

// kKeyBits is the one key size this KME delivers: the session's consumer keys.
inline constexpr int kKeyBits = 256;

class Etsi014Api {
 public:
  // `sync` is the peer channel, if the agent has one.
  Etsi014Api(agent::SessionStore& sessions, std::string self_device_id,
             const Etsi014Options& options, agent::PeerChannel* sync = nullptr);

  // SaeOf maps a client certificate's fingerprint to a local SAE.
  std::optional<std::string> SaeOf(const std::string& certificate_sha256) const;

  // Handle answers one request of the SAE `caller` (nullopt: a certificate
  // that is no configured SAE's).
  net::HttpResponse Handle(const std::optional<std::string>& caller, std::string_view method,
                           std::string_view target, std::string_view body);

 private:
  struct Request;
  net::HttpResponse Status(const SaeEntry& caller, const std::string& slave);
  net::HttpResponse EncKeys(const SaeEntry& caller, const std::string& slave,
                            const Request& request);
  net::HttpResponse DecKeys(const SaeEntry& caller, const std::string& master,
                            const Request& request);
  // Entitled checks what the master's KME said of each key; nullopt when
  // the SAE may have them.
  std::optional<net::HttpResponse> Entitled(const SaeEntry& caller, const std::string& master,
                                            const std::vector<std::string>& ids);

  agent::SessionStore& sessions_;
  agent::PeerChannel* sync_;
  std::string self_;
  std::uint32_t max_keys_per_request_;
  std::map<std::string, SaeEntry> by_id_;
  std::map<std::string, std::string> by_certificate_;
};

}  // namespace skap::kme
