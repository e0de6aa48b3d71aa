#include "crypto/kdf_chain.h"

#include <array>

#include "crypto/hmac.h"

namespace skap::crypto {
namespace {
// The single-byte HMAC messages of the chain (ARCHITECTURE.md step 7).
constexpr std::array<std::uint8_t, 1> kMessageKeyConstant = {0x01};
constexpr std::array<std::uint8_t, 1> kChainKeyConstant = {0x02};
}  // namespace

Result<ChainStepOutput> KdfChainStep(std::span<const std::uint8_t> chain_key) {
  if (chain_key.size() != DigestSize(kChainHash)) {
    return Unexpected(ErrorCode::kInvalidArgument, "chain key must be 48 bytes");
  }
  SKAP_ASSIGN_OR_RETURN(
      auto keys, HmacDerivePair(kChainHash, chain_key, kMessageKeyConstant, kChainKeyConstant));
  return ChainStepOutput{std::move(keys.first), std::move(keys.second)};
}

}  // namespace skap::crypto
