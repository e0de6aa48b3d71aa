// What both endpoints of a pairwise agreement must agree on before any secret
// moves, and the derivations over it (docs/protocol.md, "Derivations"):
// clang-format off
//
//   info     = "skap v2 pair" ‖ u64(expires_at_ms) ‖ u64(session_epoch) ‖ lp16(A) ‖ lp16(B)
//              ‖ u8(n) ‖ lp16(hub_1) ‖ … ‖ lp16(hub_n) ‖ u8(k) ‖ u8(n)
//   th       = SHA-384("skap v1 transcript" ‖ sid ‖ u64(expires_at_ms) ‖ u64(session_epoch)
//              ‖ info [‖ P_A])
//   K_AB     = HKDF-SHA-384(salt = sid, IKM = S_A ‖ S_B, info, L = 32)
//   tag_role = HMAC-SHA-384(K_AB, "skap v1 confirm" ‖ role ‖ th),
//              role = "initiator" | "responder"
//
// Hybrid mode (optional): A's and B's ephemeral X25519 public keys P_A (in
// the header, so in th) and P_B (with B's tags), and
//   K_H      = HKDF-SHA-384(salt = K_AB, IKM = X25519(own private, peer public),
//                           info = "skap v1 hybrid" ‖ P_A ‖ P_B, L = 32)
//   tag_role = HMAC-SHA-384(K_H, "skap v1 confirm" ‖ role ‖ th ‖ P_B)
// K_H then stands for K_AB everywhere after the agreement.
//
// A responder with a session with the initiator authenticates its refusal
// under it (PS_e, session_keys.h), so the initiator can take it as the
// peer's own word whichever hubs carried it:
//   RFK_e       = HKDF-Expand(PS_e, "skap v2 refusal", 32)   (HKDF with SHA-384)
//   refusal_mac = HMAC-SHA-384(RFK_e, refused th ‖ u64(responder_epoch) ‖ u8(kind)
//                              ‖ lp32(reason))
//
// A re-seed (session epoch e ≥ 2) authenticates each share end to end under
// the session both sides hold, epoch e - 1, so a hub that alters a share,
// or the header it came under, is caught and named by the recipient:
//   SMK_e       = HKDF-Expand(PS_{e-1}, "skap v2 share mac", 32)
//   share_mac_i = HMAC-SHA-384(SMK_e, sender's role ‖ th ‖ u8(i) ‖ y_i)
//
// clang-format on
// A is the initiator's device id, B the responder's; the hub set is sorted
// ascending, so both sides and every hub see one order, and hub i (1-based)
// holds share x = i.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::pairwise {

// kProtocolVersion is the agreement protocol this code speaks
// (docs/protocol.md); every header carries it, and a header of another
// version is refused before anything is derived from it.
inline constexpr std::uint32_t kProtocolVersion = 2;
// kSecretBytes is the size of each side's contribution S_A, S_B and of K_AB.
inline constexpr std::size_t kSecretBytes = 32;
// kMaxHubs bounds n (1 <= k <= n <= 16).
inline constexpr unsigned kMaxHubs = 16;

using AgreementId = std::array<std::uint8_t, 16>;

enum class Role { kInitiator, kResponder };
std::string_view RoleName(Role role);

struct AgreementParams {
  AgreementId sid{};
  std::string initiator;             // A: device id
  std::string responder;             // B: device id
  std::vector<std::string> hub_set;  // sorted ascending, distinct
  unsigned threshold = 1;            // k
  std::int64_t expires_at_ms = 0;
  std::uint64_t session_epoch = 1;             // the pairwise session epoch the agreement makes
  std::vector<std::uint8_t> initiator_x25519;  // hybrid mode: P_A; empty otherwise

  bool hybrid() const { return !initiator_x25519.empty(); }

  unsigned hub_count() const { return static_cast<unsigned>(hub_set.size()); }
  // Validate checks 1 <= k <= n <= 16, a sorted distinct hub set, two
  // different non-empty device ids; kInvalidArgument says which.
  Result<void> Validate() const;
  // HubIndex is hub `hub_id`'s share index (1-based), or 0 if not in the set.
  unsigned HubIndex(std::string_view hub_id) const;
};

// PairInfo is the HKDF info above (also the transcript's core).
std::vector<std::uint8_t> PairInfo(const AgreementParams& params);
// TranscriptHash is th above.
Result<std::vector<std::uint8_t>> TranscriptHash(const AgreementParams& params);
// DerivePairKey is K_AB from both contributions.
Result<SecretBytes> DerivePairKey(const AgreementParams& params,
                                  std::span<const std::uint8_t> initiator_secret,
                                  std::span<const std::uint8_t> responder_secret);
// HybridPairKey is K_H from K_AB, the X25519 shared secret and both public keys.
Result<SecretBytes> HybridPairKey(std::span<const std::uint8_t> pair_key,
                                  std::span<const std::uint8_t> shared,
                                  std::span<const std::uint8_t> initiator_public,
                                  std::span<const std::uint8_t> responder_public);
// RefusalKind says why a responder refused, in a form the initiator acts
// on (channel.proto's RefusalKind has the same numbers).
enum class RefusalKind : std::uint8_t {
  kOther = 0,
  kEpochMismatch = 1,  // the responder's session epoch cannot take the agreement's
  kConcurrent = 2,     // both sides started one; the responder's goes ahead
  kDiverged = 3,       // a re-seed's shares fail their MACs at more than n - k hubs
};
// RefusalMac is refusal_mac above, under `peer_secret` (PS_e of the
// responder's epoch e with the initiator).
Result<std::vector<std::uint8_t>> RefusalMac(std::span<const std::uint8_t> peer_secret,
                                             std::span<const std::uint8_t> refused_transcript,
                                             std::uint64_t responder_epoch, RefusalKind kind,
                                             std::string_view reason);

// ShareMacKey is SMK_e above from PS_{e-1}.
Result<SecretBytes> ShareMacKey(std::span<const std::uint8_t> peer_secret);
// ShareMac is share_mac_i: `sender` made share y_i for hub `index` of the
// agreement with transcript hash `transcript_hash`.
Result<std::vector<std::uint8_t>> ShareMac(std::span<const std::uint8_t> share_mac_key, Role sender,
                                           std::span<const std::uint8_t> transcript_hash,
                                           unsigned index, std::span<const std::uint8_t> y);

// ConfirmTag is tag_role: proof to the peer that the sender holds the key
// (K_AB, or K_H with `responder_public` = P_B in hybrid mode).
Result<std::vector<std::uint8_t>> ConfirmTag(std::span<const std::uint8_t> pair_key, Role role,
                                             std::span<const std::uint8_t> transcript_hash,
                                             std::span<const std::uint8_t> responder_public = {});

}  // namespace skap::pairwise
