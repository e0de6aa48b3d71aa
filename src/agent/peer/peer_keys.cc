#include "agent/peer/peer_keys.h"

#include <algorithm>

#include "common/byte_writer.h"
#include "common/hex.h"
#include "crypto/aead.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "pairwise/session_keys.h"

namespace skap::peer {
namespace {

constexpr std::string_view kSealLabel = "skap v1 peer seal";
constexpr std::string_view kTopicLabel = "skap v1 peer topic";
constexpr std::string_view kDirectLabel = "skap v1 peer direct";
constexpr std::string_view kAadLabel = "skap v1 peer";
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kPseudonymBytes = 16;

Result<SecretBytes> Expand(std::span<const std::uint8_t> secret, std::string_view label) {
  return crypto::HkdfExpand(crypto::Hash::kSha384, secret, AsBytes(label), kKeyBytes);
}

Result<std::vector<std::uint8_t>> Pseudonym(const SecretBytes& topic_key, std::string_view purpose,
                                            const std::string& device) {
  std::vector<std::uint8_t> message(purpose.begin(), purpose.end());
  message.insert(message.end(), device.begin(), device.end());
  SKAP_ASSIGN_OR_RETURN(auto mac,
                        crypto::HmacTag(crypto::Hash::kSha256, topic_key.Expose(), message));
  mac.resize(kPseudonymBytes);
  return mac;
}

crypto::CounterNonceAead::FixedField FixedFieldOf(const std::string& sender,
                                                  const std::string& other) {
  return {0, 0, 0, static_cast<std::uint8_t>(pairwise::IssuingDirection(sender, other))};
}

std::vector<std::uint8_t> Aad(const std::string& sender, std::uint64_t epoch,
                              std::uint64_t counter) {
  std::vector<std::uint8_t> aad(kAadLabel.begin(), kAadLabel.end());
  AppendField16(aad, sender);
  AppendU64(aad, epoch);
  AppendU64(aad, counter);
  return aad;
}

}  // namespace

Result<EpochKeys> DeriveEpochKeys(std::span<const std::uint8_t> peer_secret, std::uint64_t epoch,
                                  const std::string& self, const std::string& peer) {
  if (self == peer) return Unexpected(ErrorCode::kInvalidArgument, "a device is not its own peer");
  EpochKeys k;
  k.epoch = epoch;
  k.self = self;
  k.peer = peer;
  SKAP_ASSIGN_OR_RETURN(k.seal_key, Expand(peer_secret, kSealLabel));
  SKAP_ASSIGN_OR_RETURN(const auto topic_key, Expand(peer_secret, kTopicLabel));
  SKAP_ASSIGN_OR_RETURN(k.direct_psk, Expand(peer_secret, kDirectLabel));
  SKAP_ASSIGN_OR_RETURN(const auto inbox_self, Pseudonym(topic_key, "inbox", self));
  SKAP_ASSIGN_OR_RETURN(const auto inbox_peer, Pseudonym(topic_key, "inbox", peer));
  k.inbox_self = HexEncode(inbox_self);
  k.inbox_peer = HexEncode(inbox_peer);
  SKAP_ASSIGN_OR_RETURN(k.identity_self, Pseudonym(topic_key, "direct", self));
  SKAP_ASSIGN_OR_RETURN(k.identity_peer, Pseudonym(topic_key, "direct", peer));
  return k;
}

Result<std::vector<std::uint8_t>> Seal(const EpochKeys& keys, std::uint64_t counter,
                                       std::span<const std::uint8_t> plaintext) {
  SKAP_ASSIGN_OR_RETURN(
      auto aead, crypto::CounterNonceAead::Create(keys.seal_key.Expose(),
                                                  FixedFieldOf(keys.self, keys.peer), counter));
  return aead.Seal(Aad(keys.self, keys.epoch, counter), plaintext);
}

Result<Opened> Open(const EpochKeys& keys, std::span<const std::uint8_t> sealed) {
  const auto refused = [] {
    return Unexpected(ErrorCode::kAuthenticationFailed, "peer message refused");
  };
  if (sealed.size() < kSealedOverhead) return refused();
  const auto fixed = FixedFieldOf(keys.peer, keys.self);
  if (!std::equal(fixed.begin(), fixed.end(), sealed.begin())) return refused();
  std::uint64_t counter = 0;
  for (std::size_t i = 4; i < 12; ++i) counter = (counter << 8) | sealed[i];
  SKAP_ASSIGN_OR_RETURN(auto aead,
                        crypto::CounterNonceAead::Create(keys.seal_key.Expose(), fixed, counter));
  auto plaintext = aead.Open(Aad(keys.peer, keys.epoch, counter), sealed);
  if (!plaintext) return refused();
  return Opened{counter, std::move(*plaintext)};
}

}  // namespace skap::peer
