// The derivations of a pairwise session (docs/protocol.md, "Session"): the
// root key re-seeded by every agreement, the KDF chain of consumer keys, and
// key ids in UUID form.
// clang-format off
//
//   RK_0      = empty (HKDF-Extract then uses 48 zero bytes, RFC 5869 §2.2)
//   RK_e      = HKDF-Extract(salt = RK_{e-1}, IKM = K_AB of the agreement making epoch e)
//   CK_{e,d,0}  = HKDF-Expand(RK_e, "skap v1 chain" ‖ u64(e) ‖ u8(d), 48)
//   MK_{e,d,j}  = HMAC-SHA-384(CK_{e,d,j}, 0x01),  CK_{e,d,j+1} = HMAC-SHA-384(CK_{e,d,j}, 0x02)
//   key_{e,d,j} = the first 32 bytes of MK_{e,d,j}
//   T_e         = the first 8 bytes of HMAC-SHA-384(RK_e, "skap v1 key id")
//   PPK_e       = HKDF-Expand(RK_e, "skap v1 ppk" ‖ u64(e), 32)   (the IPsec PPK of epoch e)
//   id_{e,d,j}  = UUIDv8 (RFC 9562 §5.8): T_e[0..5] ‖ 0x8 ‖ T_e[6] low nibble ‖ T_e[7]
//                 ‖ u32(e) with its top two bits set to the variant 0b10 ‖ u32(d·2^31 + j)
//
// clang-format on
// Each epoch has two chains, one per direction: d = 0 holds the keys the
// endpoint with the lower device id hands out as "next", d = 1 those of the
// other. So both sides may hand out keys at once without ever handing out the
// same one; each fetches the other's by id. Both endpoints compute the same
// ids; the tag T_e ties an id to the session and epoch without revealing
// anything about the keys.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::pairwise {

// kConsumerKeyBytes is the size of each key the session hands out.
inline constexpr std::size_t kConsumerKeyBytes = 32;
// kMaxSessionEpoch bounds e (30 bits of the key id).
inline constexpr std::uint64_t kMaxSessionEpoch = (std::uint64_t{1} << 30) - 1;
// kMaxChainIndex bounds j (31 bits of the key id; the top bit is d).
inline constexpr std::uint32_t kMaxChainIndex = (std::uint32_t{1} << 31) - 1;
// kMaxKeysPerEpoch is how many keys one chain hands out in one epoch (then
// "spent: re-seed"), below what the id could carry: a side steps its peer's
// chain to reach a key id, one HMAC pair a step, and this bounds what one id
// (a forged one too: the index is not authenticated) can cost it, about
// 0.65 s of CPU at -O1 on this box (bench/crypto_bench.cc, KdfChainStep).
inline constexpr std::uint32_t kMaxKeysPerEpoch = std::uint32_t{1} << 18;

// ChainDirection names one of an epoch's two chains.
enum class ChainDirection : std::uint8_t {
  kLowerIssues = 0,   // d = 0: handed out by the endpoint with the lower device id
  kHigherIssues = 1,  // d = 1: handed out by the other
};
// IssuingDirection is the chain `self` hands out keys from with `peer`.
ChainDirection IssuingDirection(std::string_view self, std::string_view peer);

using KeyIdTag = std::array<std::uint8_t, 8>;

// NextRootKey is RK_e from RK_{e-1} (empty for the first epoch) and K_AB.
Result<SecretBytes> NextRootKey(std::span<const std::uint8_t> previous_root,
                                std::span<const std::uint8_t> pair_key);
// FirstChainKey is CK_{e,d,0}.
Result<SecretBytes> FirstChainKey(std::span<const std::uint8_t> root_key, std::uint64_t epoch,
                                  ChainDirection direction);
// DerivePpk is PPK_e: the RFC 8784 PPK both endpoints install for epoch e,
// apart from the consumer chains so it takes no key from them.
Result<SecretBytes> DerivePpk(std::span<const std::uint8_t> root_key, std::uint64_t epoch);
// DerivePeerSecret is PS_e, the root of epoch e's peer channel (sealing,
// relay topics, the direct link's PSK: src/agent/peer/peer_keys.h).
Result<SecretBytes> DerivePeerSecret(std::span<const std::uint8_t> root_key, std::uint64_t epoch);
// DeriveKeyIdTag is T_e.
Result<KeyIdTag> DeriveKeyIdTag(std::span<const std::uint8_t> root_key);

// ChainOutput is one turn of the chain: the consumer key and the next chain key.
struct ChainOutput {
  SecretBytes consumer_key;    // key_{e,d,j}
  SecretBytes next_chain_key;  // CK_{e,d,j+1}
};
// ChainStep turns the chain once from CK_{e,d,j}.
Result<ChainOutput> ChainStep(std::span<const std::uint8_t> chain_key);

// KeyId names key j of chain d of epoch e of one session.
struct KeyId {
  std::uint64_t epoch = 0;
  ChainDirection direction = ChainDirection::kLowerIssues;
  std::uint32_t index = 0;  // at most kMaxChainIndex
};
// FormatKeyId is id_{e,d,j} as UUID text.
std::string FormatKeyId(const KeyIdTag& tag, KeyId id);
// ParseKeyId reads id_{e,d,j} back: the epoch, direction and index, and whether it
// carries `tag` (the session's T_e for that epoch is known only afterwards,
// so the caller checks with KeyIdMatches).
std::optional<KeyId> ParseKeyId(std::string_view text);
// KeyIdMatches checks that `text` is an id of this session's epoch with tag `tag`.
bool KeyIdMatches(std::string_view text, const KeyIdTag& tag);

}  // namespace skap::pairwise
