#include "crypto/fingerprint.h"

#include <string_view>
#include <vector>

#include "common/hex.h"
#include "common/secret_bytes.h"
#include "crypto/hash.h"

namespace skap::crypto {
namespace {
constexpr std::string_view kFingerprintLabel = "skap key fingerprint v1";
}  // namespace

Result<std::string> KeyFingerprint(std::span<const std::uint8_t> key) {
  // Only a digest of the key is built here; the buffer holds label ‖ key, so
  // it is wiped by hand before it is freed.
  std::vector<std::uint8_t> input(kFingerprintLabel.begin(), kFingerprintLabel.end());
  input.insert(input.end(), key.begin(), key.end());
  auto digest = Digest(Hash::kSha256, input);
  SecureWipe(input.data(), input.size());
  if (!digest) return Unexpected(std::move(digest).error());
  const std::string hex = HexEncode(std::span(*digest).first(8));
  return hex.substr(0, 4) + "-" + hex.substr(4, 4) + "-" + hex.substr(8, 4) + "-" +
         hex.substr(12, 4);
}

}  // namespace skap::crypto
