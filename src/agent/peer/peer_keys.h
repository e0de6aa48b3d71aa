// The keys of one epoch of the peer channel between two devices
// (docs/peer.md), all from PS_e (pairwise/session_keys.h), so the channel
// needs nothing the session does not already have and rotates with it:
//
//   SK_e = HKDF-Expand(PS_e, "skap v1 peer seal", 32)     AES-256-GCM key
//   TK_e = HKDF-Expand(PS_e, "skap v1 peer topic", 32)    pseudonym key
//   DK_e = HKDF-Expand(PS_e, "skap v1 peer direct", 32)   the direct link's external PSK
//   inbox(X)    = hex(HMAC-SHA-256(TK_e, "inbox" ‖ X)[0..16])    relay topic part for device X
//   identity(X) = HMAC-SHA-256(TK_e, "direct" ‖ X)[0..16]        X's TLS PSK identity
//
// HKDF is with SHA-384, as everywhere in the session. A message is sealed
// under SK_e with the nonce u32(d) ‖ u64(counter), d the sender's chain
// direction, and the associated data
//   "skap v1 peer" ‖ u16-length-prefixed sender id ‖ u64(e) ‖ u64(counter).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::peer {

// kSealedOverhead is what sealing adds: the 12-byte nonce and the 16-byte tag.
inline constexpr std::size_t kSealedOverhead = 28;

// EpochKeys is what this device uses with one peer in one epoch.
struct EpochKeys {
  std::uint64_t epoch = 0;
  std::string self;  // device ids
  std::string peer;
  SecretBytes seal_key;
  std::string inbox_self;                   // hex pseudonyms: where this side reads
  std::string inbox_peer;                   // and where it writes
  std::vector<std::uint8_t> identity_self;  // TLS PSK identities (external_identity)
  std::vector<std::uint8_t> identity_peer;
  SecretBytes direct_psk;
};

// DeriveEpochKeys derives everything above from PS_e.
Result<EpochKeys> DeriveEpochKeys(std::span<const std::uint8_t> peer_secret, std::uint64_t epoch,
                                  const std::string& self, const std::string& peer);

// Seal seals `plaintext` from this side (keys.self) with `counter`. The
// caller gives every transmission a fresh counter (a resend too): one
// counter never seals two messages under one key.
Result<std::vector<std::uint8_t>> Seal(const EpochKeys& keys, std::uint64_t counter,
                                       std::span<const std::uint8_t> plaintext);

// Opened is a message from the peer, authenticated.
struct Opened {
  std::uint64_t counter = 0;
  SecretBytes plaintext;
};
// Open checks that `sealed` came from keys.peer in this epoch (its nonce
// names the peer's direction) and decrypts it; anything else is
// kAuthenticationFailed.
Result<Opened> Open(const EpochKeys& keys, std::span<const std::uint8_t> sealed);

}  // namespace skap::peer
