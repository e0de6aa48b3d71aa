// libskap's endpoint API: a SKAP device as typed calls. The endpoint holds a
// channel to each of its network's hubs, agrees keys with peers through k
// of them (docs/protocol.md), keeps the pairwise sessions and hands out
// their keys. The agent's control socket, its ETSI GS QKD 014 service and
// the C API (skap/c/skap.h) are each built on this API and on nothing of
// each other's; an application in C++ may embed it the same way.
//
// Threads: an endpoint runs on one thread of its own. The asynchronous
// calls may be made from any thread; `done` runs exactly once, on the
// endpoint's thread (possibly before the call returns), and must not call
// the endpoint back itself (post such work). The blocking calls wait for that
// answer: any thread may make them but the endpoint's own, which also must
// not destroy the endpoint.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap {

// Key is one 256-bit key of a pairwise session, on its way to a consumer.
// Each key is handed out once on each side, then erased.
struct Key {
  std::string id;           // its key id (a UUID): the peer's side fetches it by this
  std::string fingerprint;  // a short public fingerprint, for people to compare
  std::uint64_t epoch = 0;  // the session epoch it belongs to
  unsigned chain = 0;       // the chain it comes from (0 or 1: which side hands it out)
  std::uint32_t index = 0;  // its place in that chain
  SecretBytes bytes;        // the key itself
};

// KeyInfo is what may be shown of a key that stays where it is.
struct KeyInfo {
  std::string id;
  std::string fingerprint;
  std::uint64_t epoch = 0;
  unsigned chain = 0;
  std::uint32_t index = 0;
};

// KeyUse says whom keys go to, in ETSI GS QKD 014's terms: handed out by the
// master SAE here for the slave SAE at the peer's device (or, fetched by id,
// the reverse). No KeyUse (std::nullopt) is this device's own consumers: the
// control socket, the C API, an application embedding the endpoint. With a
// peer channel the endpoint tells the peer's side whom each key went to, and
// hands a key by id only to a consumer of the same kind: a key the peer's
// master SAE took goes to its slave SAE here and to no local consumer, and
// the reverse.
struct KeyUse {
  std::string master_sae;
  std::string slave_sae;
};

// Peer is an active device of this network.
struct Peer {
  std::string id;
  std::string name;
  std::uint64_t session_epoch = 0;  // 0: no session with it yet
};

// AgreementState is where an agreement stands.
enum class AgreementState { kRunning, kConfirmed, kFailed };

// AgreementOutcome is how an agreement stands or ended, for people.
struct AgreementOutcome {
  std::string sid;  // the agreement's id, hex
  std::string peer;
  std::string role;  // "initiator" or "responder"
  AgreementState state = AgreementState::kRunning;
  std::uint64_t session_epoch = 0;
  bool hybrid = false;                         // with the endpoints' X25519 step
  std::vector<std::string> inconsistent_hubs;  // hub ids whose share was wrong
  std::string reason;                          // why it failed, or what it waits for
};

// AgreeOptions shape one agreement.
struct AgreeOptions {
  bool fresh = false;          // start the session afresh (epoch 1)
  std::optional<bool> hybrid;  // add the X25519 step; default: the endpoint's setting
};

// DeviceIdentity is what the device's bundles say of it and its network.
struct DeviceIdentity {
  std::string id;
  std::string name;
  std::string network;
  std::vector<std::string> hub_set;  // sorted hub ids
  unsigned threshold = 1;            // k
};

// HubLinkStatus is how the channel to one hub stands.
struct HubLinkStatus {
  std::string id;
  bool up = false;         // authenticated, and the device admitted
  std::string status;      // for people
  std::int64_t epoch = 0;  // the channel key's epoch
};

// EntropyStatus is the local entropy service's health.
struct EntropyStatus {
  struct Source {
    std::string name;
    std::string state;  // "healthy", "failed", ...
  };
  bool operational = false;
  std::uint64_t reseeds = 0;
  std::vector<Source> sources;
};

// SessionStatus is what may be shown of a pairwise session (no keys).
struct SessionStatus {
  std::string peer;
  std::uint64_t epoch = 0;
  std::uint32_t next_index = 0;       // of the chain this side hands out
  std::uint32_t peer_next_index = 0;  // of the peer's chain, as far as fetched by id
  std::int64_t keys_issued = 0;       // since the last re-seed
  bool expired = false;               // older than session_max_age_s: serves no key until re-seeded
  std::int64_t established_at_ms = 0;
  std::int64_t reseeded_at_ms = 0;
  // Keys of the peer's chain stepped over to reach a later id: waiting to be
  // fetched by id (at most key_window), and aged out unfetched since the
  // session started.
  std::int64_t keys_waiting = 0;
  std::int64_t keys_aged_out = 0;
  // The last scheduled re-seed's failure, while no re-seed has succeeded
  // since (reseed_failed_at_ms 0: none): why, and the hubs blamed.
  std::int64_t reseed_failed_at_ms = 0;
  std::string reseed_failure{};
  std::vector<std::string> reseed_blamed_hubs{};
};

// PeerLinkStatus is how the peer channel to one peer stands (docs/peer.md).
struct PeerLinkStatus {
  std::string peer;
  std::string transport;  // "direct", "relay" or "none"
  std::string direct;     // the dialer's or listener's view, "" if not configured
  std::uint64_t epoch = 0;
  std::int64_t pending = 0;                       // in the outbox
  std::uint64_t sent_direct = 0, sent_relay = 0;  // transmissions, resends and acks included
  std::uint64_t received_direct = 0, received_relay = 0;  // messages acted on (not acks)
  std::uint64_t acks = 0;                                 // acknowledgements received
  std::uint64_t duplicates = 0;                           // messages already acted on
  std::uint64_t refused = 0;                              // failed to open or parse
};

// PeerChannelStatus is the peer channel's, when configured.
struct PeerChannelStatus {
  std::string relay;  // the MQTT relay's state
  std::uint16_t listen_port = 0;
  std::vector<PeerLinkStatus> peers;
};

// PpkStatus is an IPsec PPK target's state (docs/ppk.md), without the key.
struct PpkStatus {
  std::string peer;
  std::string connection;
  std::uint64_t installed_epoch = 0;  // 0: none yet
  std::string fingerprint;            // of the installed PPK
  bool sa_up_with_installed = false;  // initiator: an IKE SA came up with it
  int attempts = 0;                   // initiator: tries with the installed PPK
  std::string last_error;
};

// EndpointStatus is how the whole endpoint stands.
struct EndpointStatus {
  DeviceIdentity device;
  std::vector<HubLinkStatus> hubs;
  unsigned hubs_up = 0;
  EntropyStatus entropy;
  std::vector<SessionStatus> sessions;
  std::optional<PeerChannelStatus> peer_channel;
  std::optional<std::vector<PpkStatus>> ppk;
  std::vector<AgreementOutcome> agreements;  // running, then the newest ended, at most 10
};

class Endpoint {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;

  // Enrol makes (or adds to) the data directory `data_dir` from bootstrap
  // bundle files, one per hub, as `skap-agent enroll` does.
  static Result<void> Enrol(const std::string& data_dir,
                            const std::vector<std::string>& bundle_files);
  // Open starts the endpoint of the configuration file `config_file`
  // (docs/skap-agent.toml) on a thread of its own; destroying it stops it.
  static Result<std::unique_ptr<Endpoint>> Open(const std::string& config_file);

  virtual ~Endpoint() = default;

  // Status reports how the endpoint stands.
  virtual void Status(Done<EndpointStatus> done) = 0;
  // Peers lists the network's other active devices (a reachable hub knows
  // them).
  virtual void Peers(Done<std::vector<Peer>> done) = 0;
  // Agree agrees a key with `peer` (a device id, or a name of this network)
  // through k hubs, making the session's next epoch. An agreement that ends
  // without a key is an outcome in state kFailed with its reason; an error
  // says it could not start (kNotFound: no such peer).
  virtual void Agree(const std::string& peer, AgreeOptions options,
                     Done<AgreementOutcome> done) = 0;
  // NextKeys hands out the next `count` keys of this side's chain of the
  // session with `peer`, in one commit. kNotFound: no session yet;
  // kLimitExceeded: the epoch's keys are spent until the next re-seed;
  // kUnavailable: the session is older than session_max_age_s (re-seed).
  virtual void NextKeys(const std::string& peer, std::uint32_t count, std::optional<KeyUse> use,
                        Done<std::vector<Key>> done) = 0;
  // KeysById hands out every key of the peer's chain that `ids` names, or
  // none. kNotFound: one is not there (never made, or handed out already);
  // kUnavailable: one is of the epoch after the one held (the re-seed has
  // not completed on this side yet: retry), or the session is older than
  // session_max_age_s; with a peer channel,
  // kPermissionDenied: one went to another consumer (KeyUse), kUnavailable:
  // the peer has not said yet whom one went to (retry).
  virtual void KeysById(const std::string& peer, const std::vector<std::string>& ids,
                        std::optional<KeyUse> use, Done<std::vector<Key>> done) = 0;
  // PeekNextKey and PeekKeyById show the key NextKeys would hand out next,
  // and the one KeysById would for `id`, without handing it out (the same
  // errors, but no entitlement: a fingerprint is public). Another consumer
  // may take the next key meanwhile.
  virtual void PeekNextKey(const std::string& peer, Done<KeyInfo> done) = 0;
  virtual void PeekKeyById(const std::string& peer, const std::string& id, Done<KeyInfo> done) = 0;
  // Session reports the session with `peer` (a device id), if there is one.
  virtual void Session(const std::string& peer, Done<std::optional<SessionStatus>> done) = 0;

  // The same, blocking (not from the endpoint's own thread).
  Result<EndpointStatus> StatusNow();
  Result<AgreementOutcome> AgreeNow(const std::string& peer, AgreeOptions options = {});
  Result<std::vector<Key>> NextKeysNow(const std::string& peer, std::uint32_t count);
  Result<std::vector<Key>> KeysByIdNow(const std::string& peer,
                                       const std::vector<std::string>& ids);
  // Connect waits up to `timeout` until `min_hubs` of the device's hubs
  // answer (0: the network's threshold k); until the device is admitted
  // there, none answer. kDeadlineExceeded when the time runs out.
  Result<void> Connect(unsigned min_hubs, std::chrono::milliseconds timeout);

 protected:
  // OnOwnThread is true on the endpoint's thread, where nothing may block.
  virtual bool OnOwnThread() const = 0;
};

}  // namespace skap
