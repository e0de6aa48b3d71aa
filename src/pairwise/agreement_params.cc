#include "pairwise/agreement_params.h"

#include <algorithm>

#include "common/byte_writer.h"
#include "common/hex.h"
#include "crypto/hash.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"

namespace skap::pairwise {
namespace {

constexpr std::string_view kPairLabel = "skap v2 pair";
constexpr std::string_view kTranscriptLabel = "skap v1 transcript";
constexpr std::string_view kConfirmLabel = "skap v1 confirm";
constexpr std::string_view kHybridLabel = "skap v1 hybrid";
constexpr std::string_view kRefusalLabel = "skap v2 refusal";
constexpr std::string_view kShareMacLabel = "skap v2 share mac";
constexpr std::size_t kX25519PublicSize = 32;
constexpr std::size_t kRefusalKeyBytes = 32;

}  // namespace

std::string_view RoleName(Role role) {
  return role == Role::kInitiator ? "initiator" : "responder";
}

Result<void> AgreementParams::Validate() const {
  const auto bad = [](const std::string& why) {
    return Unexpected(ErrorCode::kInvalidArgument, "agreement: " + why);
  };
  if (hub_set.empty() || hub_set.size() > kMaxHubs) return bad("1 to 16 hubs");
  if (threshold < 1 || threshold > hub_set.size()) return bad("threshold must be 1..n");
  if (!std::is_sorted(hub_set.begin(), hub_set.end()) ||
      std::adjacent_find(hub_set.begin(), hub_set.end()) != hub_set.end()) {
    return bad("hub set must be sorted and distinct");
  }
  for (const auto& hub : hub_set) {
    if (hub.empty() || hub.size() > 255) return bad("bad hub id");
  }
  if (initiator.empty() || responder.empty() || initiator.size() > 255 || responder.size() > 255) {
    return bad("bad device id");
  }
  if (initiator == responder) return bad("a device cannot agree a key with itself");
  if (session_epoch < 1) return bad("session epochs start at 1");
  if (!initiator_x25519.empty() && initiator_x25519.size() != kX25519PublicSize) {
    return bad("an X25519 public key is 32 bytes");
  }
  return Ok();
}

unsigned AgreementParams::HubIndex(std::string_view hub_id) const {
  const auto it = std::find(hub_set.begin(), hub_set.end(), hub_id);
  return it == hub_set.end() ? 0 : static_cast<unsigned>(it - hub_set.begin()) + 1;
}

std::vector<std::uint8_t> PairInfo(const AgreementParams& params) {
  std::vector<std::uint8_t> info(kPairLabel.begin(), kPairLabel.end());
  // Version 2 binds the expiry and the epoch into K_AB itself, not only
  // into th: a key can never stand for another epoch's agreement.
  AppendU64(info, static_cast<std::uint64_t>(params.expires_at_ms));
  AppendU64(info, params.session_epoch);
  AppendField16(info, params.initiator);
  AppendField16(info, params.responder);
  info.push_back(static_cast<std::uint8_t>(params.hub_count()));
  for (const auto& hub : params.hub_set) AppendField16(info, hub);
  info.push_back(static_cast<std::uint8_t>(params.threshold));
  info.push_back(static_cast<std::uint8_t>(params.hub_count()));
  return info;
}

Result<std::vector<std::uint8_t>> TranscriptHash(const AgreementParams& params) {
  SKAP_RETURN_IF_ERROR(params.Validate());
  std::vector<std::uint8_t> input(kTranscriptLabel.begin(), kTranscriptLabel.end());
  input.insert(input.end(), params.sid.begin(), params.sid.end());
  AppendU64(input, static_cast<std::uint64_t>(params.expires_at_ms));
  AppendU64(input, params.session_epoch);
  const auto info = PairInfo(params);
  input.insert(input.end(), info.begin(), info.end());
  input.insert(input.end(), params.initiator_x25519.begin(), params.initiator_x25519.end());
  return crypto::Digest(crypto::Hash::kSha384, input);
}

Result<SecretBytes> DerivePairKey(const AgreementParams& params,
                                  std::span<const std::uint8_t> initiator_secret,
                                  std::span<const std::uint8_t> responder_secret) {
  SKAP_RETURN_IF_ERROR(params.Validate());
  if (initiator_secret.size() != kSecretBytes || responder_secret.size() != kSecretBytes) {
    return Unexpected(ErrorCode::kInvalidArgument, "agreement: contributions are 32 bytes");
  }
  SecretBytes ikm(2 * kSecretBytes);
  std::copy(initiator_secret.begin(), initiator_secret.end(), ikm.MutableExpose().begin());
  std::copy(responder_secret.begin(), responder_secret.end(),
            ikm.MutableExpose().begin() + kSecretBytes);
  return crypto::Hkdf(crypto::Hash::kSha384, params.sid, ikm.Expose(), PairInfo(params),
                      kSecretBytes);
}

Result<SecretBytes> HybridPairKey(std::span<const std::uint8_t> pair_key,
                                  std::span<const std::uint8_t> shared,
                                  std::span<const std::uint8_t> initiator_public,
                                  std::span<const std::uint8_t> responder_public) {
  if (initiator_public.size() != kX25519PublicSize ||
      responder_public.size() != kX25519PublicSize) {
    return Unexpected(ErrorCode::kInvalidArgument, "agreement: X25519 public keys are 32 bytes");
  }
  // Sized once: GCC 12 at -O3 misreads the growth of a vector built by
  // successive inserts (a false -Warray-bounds).
  std::vector<std::uint8_t> info(kHybridLabel.size() + 2 * kX25519PublicSize);
  auto at = std::copy(kHybridLabel.begin(), kHybridLabel.end(), info.begin());
  at = std::copy(initiator_public.begin(), initiator_public.end(), at);
  std::copy(responder_public.begin(), responder_public.end(), at);
  return crypto::Hkdf(crypto::Hash::kSha384, pair_key, shared, info, kSecretBytes);
}

Result<std::vector<std::uint8_t>> RefusalMac(std::span<const std::uint8_t> peer_secret,
                                             std::span<const std::uint8_t> refused_transcript,
                                             std::uint64_t responder_epoch, RefusalKind kind,
                                             std::string_view reason) {
  SKAP_ASSIGN_OR_RETURN(
      const auto key, crypto::HkdfExpand(crypto::Hash::kSha384, peer_secret, AsBytes(kRefusalLabel),
                                         kRefusalKeyBytes));
  std::vector<std::uint8_t> message(refused_transcript.begin(), refused_transcript.end());
  AppendU64(message, responder_epoch);
  message.push_back(static_cast<std::uint8_t>(kind));
  AppendField32(message, reason);
  return crypto::HmacTag(crypto::Hash::kSha384, key.Expose(), message);
}

Result<SecretBytes> ShareMacKey(std::span<const std::uint8_t> peer_secret) {
  return crypto::HkdfExpand(crypto::Hash::kSha384, peer_secret, AsBytes(kShareMacLabel),
                            kSecretBytes);
}

Result<std::vector<std::uint8_t>> ShareMac(std::span<const std::uint8_t> share_mac_key, Role sender,
                                           std::span<const std::uint8_t> transcript_hash,
                                           unsigned index, std::span<const std::uint8_t> y) {
  if (index < 1 || index > kMaxHubs || y.size() != kSecretBytes) {
    return Unexpected(ErrorCode::kInvalidArgument, "share mac: hub index or share size");
  }
  const auto role = RoleName(sender);
  // The share is secret: the message is built in wiped memory.
  SecretBytes message(role.size() + transcript_hash.size() + 1 + y.size());
  auto at = std::copy(role.begin(), role.end(), message.MutableExpose().begin());
  at = std::copy(transcript_hash.begin(), transcript_hash.end(), at);
  *at++ = static_cast<std::uint8_t>(index);
  std::copy(y.begin(), y.end(), at);
  return crypto::HmacTag(crypto::Hash::kSha384, share_mac_key, message.Expose());
}

Result<std::vector<std::uint8_t>> ConfirmTag(std::span<const std::uint8_t> pair_key, Role role,
                                             std::span<const std::uint8_t> transcript_hash,
                                             std::span<const std::uint8_t> responder_public) {
  std::vector<std::uint8_t> message(kConfirmLabel.begin(), kConfirmLabel.end());
  const auto name = RoleName(role);
  message.insert(message.end(), name.begin(), name.end());
  message.insert(message.end(), transcript_hash.begin(), transcript_hash.end());
  message.insert(message.end(), responder_public.begin(), responder_public.end());
  return crypto::HmacTag(crypto::Hash::kSha384, pair_key, message);
}

}  // namespace skap::pairwise
