#include "crypto/hash.h"

#include <openssl/evp.h>

#include "crypto/algorithms.h"
#include "crypto/openssl_error.h"

namespace skap::crypto {

Result<std::vector<std::uint8_t>> Digest(Hash hash, std::span<const std::uint8_t> data) {
  const EVP_MD* md = algorithms::Md(hash);
  if (md == nullptr) {
    return OpenSslFailure("fetching the digest");
  }
  std::vector<std::uint8_t> out(DigestSize(hash));
  unsigned int out_len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &out_len, md, nullptr) != 1 ||
      out_len != out.size()) {
    return OpenSslFailure("computing a digest");
  }
  return out;
}

}  // namespace skap::crypto
