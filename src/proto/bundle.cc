#include "proto/bundle.h"

#include <array>

#include <nlohmann/json.hpp>

#include "common/armor.h"
#include "common/ct.h"
#include "common/hex.h"
#include "crypto/hmac.h"
#include "crypto/shamir.h"
#include "crypto/share_codec.h"

namespace skap::proto {
namespace {

constexpr std::array<std::uint8_t, 4> kMagic = {'S', 'K', 'B', '1'};
constexpr std::string_view kCheckLabel = "skap bundle check v1";
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kCheckSize = 8;
constexpr int kMetadataVersion = 1;

Result<std::vector<std::uint8_t>> CheckValue(std::span<const std::uint8_t> key,
                                             std::span<const std::uint8_t> metadata) {
  std::vector<std::uint8_t> message(kCheckLabel.begin(), kCheckLabel.end());
  message.insert(message.end(), kMagic.begin(), kMagic.end());
  message.insert(message.end(), metadata.begin(), metadata.end());
  SKAP_ASSIGN_OR_RETURN(auto tag, crypto::HmacTag(crypto::Hash::kSha384, key, message));
  tag.resize(kCheckSize);
  return tag;
}

Unexpected Malformed(const std::string& why) {
  return Unexpected(ErrorCode::kMalformedInput, "bundle: " + why);
}

}  // namespace

Result<SecretBytes> EncodeBundle(const BundleInfo& info, std::span<const std::uint8_t> key) {
  if (key.size() != kKeySize) {
    return Unexpected(ErrorCode::kInvalidArgument, "bundle: key must be 32 bytes");
  }
  const std::string metadata =
      nlohmann::json{{"v", kMetadataVersion},           {"hub_id", info.hub_id},
                     {"hub_address", info.hub_address}, {"tenant_id", info.tenant_id},
                     {"tenant", info.tenant_name},      {"network_id", info.network_id},
                     {"network", info.network_name},    {"device_id", info.device_id},
                     {"device", info.device_name},      {"expires_at_ms", info.expires_at_ms},
                     {"hub_set", info.hub_set},         {"threshold", info.threshold}}
          .dump();
  if (metadata.size() > 0xffff) {
    return Unexpected(ErrorCode::kInvalidArgument, "bundle: metadata too large");
  }
  const auto metadata_bytes = AsBytes(metadata);
  SKAP_ASSIGN_OR_RETURN(auto check, CheckValue(key, metadata_bytes));
  SecretBytes out;
  out.Append(kMagic);
  const std::array<std::uint8_t, 2> length = {static_cast<std::uint8_t>(metadata.size() >> 8),
                                              static_cast<std::uint8_t>(metadata.size() & 0xff)};
  out.Append(length);
  out.Append(metadata_bytes);
  out.Append(key);
  out.Append(check);
  return out;
}

Result<Bundle> DecodeBundle(std::span<const std::uint8_t> encoded) {
  if (encoded.size() < kMagic.size() + 2 + kKeySize + kCheckSize ||
      !std::equal(kMagic.begin(), kMagic.end(), encoded.begin())) {
    return Malformed("not a version-1 bootstrap bundle");
  }
  const std::size_t length = (std::size_t{encoded[4]} << 8) | encoded[5];
  if (encoded.size() != kMagic.size() + 2 + length + kKeySize + kCheckSize) {
    return Malformed("length does not match");
  }
  const auto metadata = encoded.subspan(6, length);
  const auto key = encoded.subspan(6 + length, kKeySize);
  const auto check = encoded.last(kCheckSize);
  SKAP_ASSIGN_OR_RETURN(auto expected, CheckValue(key, metadata));
  if (!ct::Equal(expected, check)) {
    return Unexpected(ErrorCode::kAuthenticationFailed,
                      "bundle: check value does not match (damaged or altered bundle)");
  }
  const auto json = nlohmann::json::parse(metadata.begin(), metadata.end(), nullptr, false);
  if (!json.is_object() || json.value("v", 0) != kMetadataVersion) {
    return Malformed("metadata is not a version-1 JSON object");
  }
  Bundle bundle;
  auto text = [&](const char* field, std::string& out) -> bool {
    const auto it = json.find(field);
    if (it == json.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  BundleInfo& info = bundle.info;
  if (!text("hub_id", info.hub_id) || !text("hub_address", info.hub_address) ||
      !text("tenant_id", info.tenant_id) || !text("tenant", info.tenant_name) ||
      !text("network_id", info.network_id) || !text("network", info.network_name) ||
      !text("device_id", info.device_id) || !text("device", info.device_name) ||
      !json.contains("expires_at_ms") || !json["expires_at_ms"].is_number_integer()) {
    return Malformed("metadata lacks a field");
  }
  info.expires_at_ms = json["expires_at_ms"].get<std::int64_t>();
  // Bundles from before multi-hub networks name their one hub only.
  info.hub_set = {info.hub_id};
  info.threshold = 1;
  if (const auto set = json.find("hub_set"); set != json.end()) {
    const auto k = json.find("threshold");
    if (!set->is_array() || k == json.end() || !k->is_number_unsigned()) {
      return Malformed("hub set or threshold malformed");
    }
    info.hub_set.clear();
    for (const auto& hub : *set) {
      if (!hub.is_string()) return Malformed("hub set malformed");
      info.hub_set.push_back(hub.get<std::string>());
    }
    info.threshold = k->get<unsigned>();
  }
  bundle.key = SecretBytes::Copy(key);
  return bundle;
}

Result<SecretBytes> BundleToText(const BundleInfo& info, std::span<const std::uint8_t> key) {
  SKAP_ASSIGN_OR_RETURN(auto binary, EncodeBundle(info, key));
  return ArmorEncode(kBundleTextPrefix, binary.Expose());
}

Result<Bundle> BundleFromText(std::string_view text) {
  SKAP_ASSIGN_OR_RETURN(auto binary, ArmorDecode(kBundleTextPrefix, text, "bundle"));
  return DecodeBundle(binary.Expose());
}

Result<std::vector<SecretBytes>> SplitBundle(const BundleInfo& info,
                                             std::span<const std::uint8_t> key, unsigned threshold,
                                             unsigned parts, crypto::Rng& rng) {
  SKAP_ASSIGN_OR_RETURN(auto binary, EncodeBundle(info, key));
  SKAP_ASSIGN_OR_RETURN(auto shares, crypto::SplitSecret(binary.Expose(), threshold, parts, rng));
  std::vector<SecretBytes> out;
  out.reserve(shares.size());
  for (const auto& share : shares) {
    SKAP_ASSIGN_OR_RETURN(auto text, crypto::ShareToText(share));
    out.push_back(std::move(text));
  }
  return out;
}

Result<Bundle> CombineBundleParts(std::span<const std::string> parts) {
  std::vector<crypto::Share> shares;
  shares.reserve(parts.size());
  for (const auto& part : parts) {
    SKAP_ASSIGN_OR_RETURN(auto share, crypto::ShareFromText(part));
    shares.push_back(std::move(share));
  }
  SKAP_ASSIGN_OR_RETURN(auto binary, crypto::CombineShares(shares));
  return DecodeBundle(binary.Expose());
}

}  // namespace skap::proto
