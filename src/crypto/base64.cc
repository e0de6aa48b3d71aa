#include "crypto/base64.h"

#include <openssl/evp.h>

namespace skap::crypto {

Result<SecretBytes> Base64EncodeSecret(std::span<const std::uint8_t> bytes) {
  // EVP_EncodeBlock writes a terminating NUL after the 4 * ceil(n / 3) characters.
  SecretBytes encoded(4 * ((bytes.size() + 2) / 3) + 1);
  const int n =
      EVP_EncodeBlock(encoded.MutableExpose().data(), bytes.data(), static_cast<int>(bytes.size()));
  if (n < 0) return Unexpected(ErrorCode::kCryptoFailure, "base64");
  encoded.Resize(static_cast<std::size_t>(n));
  return encoded;
}

}  // namespace skap::crypto
