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
// notice per run of keys (the key-id sync of the peer channel, docs/peer.md):
// the endpoint API does it (KeyUse). Without a peer channel, one SAE pair per
// peer device says it with no message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http/message.h"
#include "skap/endpoint.h"

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
  // Keys come from `endpoint`, whose own device is `self_device_id`.
  Etsi014Api(Endpoint& endpoint, std::string self_device_id, const Etsi014Options& options);

  // SaeOf maps a client certificate's fingerprint to a local SAE.
  std::optional<std::string> SaeOf(const std::string& certificate_sha256) const;

  // Handle answers one request of the SAE `caller` (nullopt: a certificate
  // that is no configured SAE's) through `respond`.
  void Handle(const std::optional<std::string>& caller, const net::HttpRequest& request,
              const net::HttpRespond& respond);

 private:
  struct Request;
  // Each returns the answer when it has it at once (a refusal), or nullopt
  // when it answers through `respond` once the endpoint has.
  std::optional<net::HttpResponse> Dispatch(const std::optional<std::string>& caller,
                                            const net::HttpRequest& request,
                                            const net::HttpRespond& respond);
  std::optional<net::HttpResponse> Status(const SaeEntry& caller, const std::string& slave,
                                          const net::HttpRespond& respond);
  std::optional<net::HttpResponse> EncKeys(const SaeEntry& caller, const std::string& slave,
                                           const Request& request, const net::HttpRespond& respond);
  std::optional<net::HttpResponse> DecKeys(const SaeEntry& caller, const std::string& master,
                                           const Request& request, const net::HttpRespond& respond);

  Endpoint& endpoint_;
  std::string self_;
  std::uint32_t max_keys_per_request_;
  std::map<std::string, SaeEntry> by_id_;
  std::map<std::string, std::string> by_certificate_;
};

}  // namespace skap::kme
