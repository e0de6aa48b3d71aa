// The bootstrap bundle: what leaves the secure room for a new device.
//
// Binary form, version 1:
//   magic     4 bytes  "SKB1"
//   length    2 bytes  big-endian length of the metadata
//   metadata  JSON object, public facts only (see BundleInfo)
//   key       32 bytes the bootstrap key (channel key of epoch 0)
//   check     8 bytes  first 8 bytes of
//                      HMAC-SHA-384(key, "skap bundle check v1" ‖ magic ‖ metadata)
// The check value proves that key and metadata belong together: a damaged
// or altered bundle is refused before any connection is tried. The secret
// key never passes through the JSON library.
//
// Text form: "SKAPBUNDLE1-" then the binary form as grouped hex (armor.h).
// Split form: the binary form split k-of-m with Shamir (crypto/shamir.h),
// each part in share text form ("SKAPSHARE1-...").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/rng.h"

namespace skap::proto {

// kBundleTextPrefix starts the text form of a version-1 bundle.
inline constexpr std::string_view kBundleTextPrefix = "SKAPBUNDLE1-";

// BundleInfo is the public part of a bundle.
struct BundleInfo {
  std::string hub_id;
  std::string hub_address;  // host:port of the hub's device channel
  std::string tenant_id;
  std::string tenant_name;
  std::string network_id;
  std::string network_name;
  std::string device_id;
  std::string device_name;
  std::int64_t expires_at_ms = 0;
  // The network's hubs (sorted ids) and the threshold k of its pairwise
  // agreements, as the tenant admin set them; a device enrols with one
  // bundle per hub, and they must all agree on these.
  std::vector<std::string> hub_set;
  unsigned threshold = 1;
};

// Bundle is a decoded bundle.
struct Bundle {
  BundleInfo info;
  SecretBytes key;
};

// EncodeBundle returns the binary form of `info` with `key` (32 bytes).
Result<SecretBytes> EncodeBundle(const BundleInfo& info, std::span<const std::uint8_t> key);
// DecodeBundle parses and checks the binary form (kMalformedInput if it is
// not one, kAuthenticationFailed if the check value does not match).
Result<Bundle> DecodeBundle(std::span<const std::uint8_t> encoded);

// BundleToText and BundleFromText convert to and from the text form.
Result<SecretBytes> BundleToText(const BundleInfo& info, std::span<const std::uint8_t> key);
Result<Bundle> BundleFromText(std::string_view text);

// SplitBundle splits the bundle into `parts` text parts, any `threshold` of
// which rebuild it (2 <= threshold <= parts <= 255).
Result<std::vector<SecretBytes>> SplitBundle(const BundleInfo& info,
                                             std::span<const std::uint8_t> key, unsigned threshold,
                                             unsigned parts, crypto::Rng& rng);
// CombineBundleParts rebuilds a bundle from text parts (any order, at least
// the threshold) and checks it.
Result<Bundle> CombineBundleParts(std::span<const std::string> parts);

}  // namespace skap::proto
