// The symmetric KDF chain of a pairwise session (ARCHITECTURE.md, "Pairwise
// key agreement" step 7; the Signal "symmetric-key ratchet").
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/hash.h"

namespace skap::crypto {

// kChainHash is the hash of the KDF chain: HMAC-SHA-384 like every other
// derivation in SKAP, so chain keys are 48 bytes.
inline constexpr Hash kChainHash = Hash::kSha384;

// ChainStepOutput is one turn of the chain: a message key for one consumer
// key, and the next chain key.
struct ChainStepOutput {
  SecretBytes message_key;     // MK_j = HMAC(CK_j, 0x01)
  SecretBytes next_chain_key;  // CK_{j+1} = HMAC(CK_j, 0x02)
};

// KdfChainStep computes MK_j and CK_{j+1} from CK_j. The caller erases CK_j
// (drops its SecretBytes) once CK_{j+1} is persisted: that erasure is what
// gives forward secrecy.
Result<ChainStepOutput> KdfChainStep(std::span<const std::uint8_t> chain_key);

}  // namespace skap::crypto
