#include "pairwise/session_keys.h"

#include <algorithm>
#include <vector>

#include "common/byte_writer.h"
#include "common/ct.h"
#include "common/hex.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/kdf_chain.h"
#include "crypto/uuid.h"

namespace skap::pairwise {
namespace {

constexpr std::string_view kChainLabel = "skap v1 chain";
constexpr std::string_view kKeyIdLabel = "skap v1 key id";
constexpr std::string_view kPpkLabel = "skap v1 ppk";
constexpr std::string_view kPeerLabel = "skap v1 peer";
constexpr std::size_t kPpkBytes = 32;
constexpr std::size_t kPeerSecretBytes = 32;
constexpr std::size_t kRootKeyBytes = 48;

crypto::UuidBytes KeyIdBytes(const KeyIdTag& tag, KeyId id) {
  crypto::UuidBytes b{};
  std::copy(tag.begin(), tag.end(), b.begin());
  b[6] = static_cast<std::uint8_t>(0x80 | (tag[6] & 0x0f));  // version 8
  const auto epoch = static_cast<std::uint32_t>(id.epoch);
  b[8] = static_cast<std::uint8_t>(0x80 | ((epoch >> 24) & 0x3f));  // variant 10
  b[9] = static_cast<std::uint8_t>(epoch >> 16);
  b[10] = static_cast<std::uint8_t>(epoch >> 8);
  b[11] = static_cast<std::uint8_t>(epoch);
  const std::uint32_t last =
      (static_cast<std::uint32_t>(id.direction) << 31) | (id.index & kMaxChainIndex);
  b[12] = static_cast<std::uint8_t>(last >> 24);
  b[13] = static_cast<std::uint8_t>(last >> 16);
  b[14] = static_cast<std::uint8_t>(last >> 8);
  b[15] = static_cast<std::uint8_t>(last);
  return b;
}

}  // namespace

Result<SecretBytes> NextRootKey(std::span<const std::uint8_t> previous_root,
                                std::span<const std::uint8_t> pair_key) {
  if (!previous_root.empty() && previous_root.size() != kRootKeyBytes) {
    return Unexpected(ErrorCode::kInvalidArgument, "session: root key must be 48 bytes");
  }
  return crypto::HkdfExtract(crypto::Hash::kSha384, previous_root, pair_key);
}

ChainDirection IssuingDirection(std::string_view self, std::string_view peer) {
  return self < peer ? ChainDirection::kLowerIssues : ChainDirection::kHigherIssues;
}

Result<SecretBytes> FirstChainKey(std::span<const std::uint8_t> root_key, std::uint64_t epoch,
                                  ChainDirection direction) {
  if (epoch < 1 || epoch > kMaxSessionEpoch) {
    return Unexpected(ErrorCode::kInvalidArgument, "session: epoch out of range");
  }
  std::vector<std::uint8_t> info(kChainLabel.begin(), kChainLabel.end());
  AppendU64(info, epoch);
  info.push_back(static_cast<std::uint8_t>(direction));
  return crypto::HkdfExpand(crypto::Hash::kSha384, root_key, info, kRootKeyBytes);
}

Result<SecretBytes> DerivePpk(std::span<const std::uint8_t> root_key, std::uint64_t epoch) {
  if (epoch < 1 || epoch > kMaxSessionEpoch) {
    return Unexpected(ErrorCode::kInvalidArgument, "session: epoch out of range");
  }
  std::vector<std::uint8_t> info(kPpkLabel.begin(), kPpkLabel.end());
  AppendU64(info, epoch);
  return crypto::HkdfExpand(crypto::Hash::kSha384, root_key, info, kPpkBytes);
}

Result<SecretBytes> DerivePeerSecret(std::span<const std::uint8_t> root_key, std::uint64_t epoch) {
  if (epoch < 1 || epoch > kMaxSessionEpoch) {
    return Unexpected(ErrorCode::kInvalidArgument, "session: epoch out of range");
  }
  std::vector<std::uint8_t> info(kPeerLabel.begin(), kPeerLabel.end());
  AppendU64(info, epoch);
  return crypto::HkdfExpand(crypto::Hash::kSha384, root_key, info, kPeerSecretBytes);
}

Result<KeyIdTag> DeriveKeyIdTag(std::span<const std::uint8_t> root_key) {
  SKAP_ASSIGN_OR_RETURN(auto mac,
                        crypto::HmacTag(crypto::Hash::kSha384, root_key, AsBytes(kKeyIdLabel)));
  KeyIdTag tag{};
  std::copy_n(mac.begin(), tag.size(), tag.begin());
  return tag;
}

Result<ChainOutput> ChainStep(std::span<const std::uint8_t> chain_key) {
  SKAP_ASSIGN_OR_RETURN(auto step, crypto::KdfChainStep(chain_key));
  step.message_key.Resize(kConsumerKeyBytes);  // the first 32 bytes; the rest is wiped
  return ChainOutput{std::move(step.message_key), std::move(step.next_chain_key)};
}

std::string FormatKeyId(const KeyIdTag& tag, KeyId id) {
  return crypto::FormatUuid(KeyIdBytes(tag, id));
}

std::optional<KeyId> ParseKeyId(std::string_view text) {
  const auto b = crypto::ParseUuid(text);
  if (!b || ((*b)[6] & 0xf0) != 0x80 || ((*b)[8] & 0xc0) != 0x80) return std::nullopt;
  KeyId id;
  id.epoch = (std::uint64_t{(*b)[8] & 0x3fu} << 24) | (std::uint64_t{(*b)[9]} << 16) |
             (std::uint64_t{(*b)[10]} << 8) | (*b)[11];
  const std::uint32_t last = (std::uint32_t{(*b)[12]} << 24) | (std::uint32_t{(*b)[13]} << 16) |
                             (std::uint32_t{(*b)[14]} << 8) | (*b)[15];
  id.direction = static_cast<ChainDirection>(last >> 31);
  id.index = last & kMaxChainIndex;
  return id;
}

bool KeyIdMatches(std::string_view text, const KeyIdTag& tag) {
  const auto id = ParseKeyId(text);
  if (!id) return false;
  const auto expected = KeyIdBytes(tag, *id);
  const auto given = crypto::ParseUuid(text);
  return ct::Equal(std::span(expected).first(8), std::span(*given).first(8));
}

}  // namespace skap::pairwise
