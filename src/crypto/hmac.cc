#include "crypto/hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "common/ct.h"
#include "crypto/algorithms.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {
namespace {

// ComputeHmac writes HMAC-`hash`(key, parts...) into `out` (DigestSize bytes).
Result<void> ComputeHmac(Hash hash, std::span<const std::uint8_t> key,
                         std::initializer_list<std::span<const std::uint8_t>> parts,
                         std::span<std::uint8_t> out) {
  // OpenSSL treats an empty key as "keep the previous key"; an empty HMAC key
  // is never meaningful here, so refuse it rather than depend on that.
  if (key.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument, "HMAC key must not be empty");
  }
  EVP_MAC* mac = algorithms::Hmac();
  if (mac == nullptr) {
    return OpenSslFailure("fetching HMAC");
  }
  const MacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) {
    return OpenSslFailure("allocating an HMAC context");
  }
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>(algorithms::DigestName(hash)), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) {
    return OpenSslFailure("keying HMAC");
  }
  for (auto part : parts) {
    if (!part.empty() && EVP_MAC_update(ctx.get(), part.data(), part.size()) != 1) {
      return OpenSslFailure("HMAC update");
    }
  }
  std::size_t written = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1 ||
      written != DigestSize(hash)) {
    return OpenSslFailure("HMAC final");
  }
  return Ok();
}

}  // namespace

Result<std::vector<std::uint8_t>> HmacTag(Hash hash, std::span<const std::uint8_t> key,
                                          std::span<const std::uint8_t> message) {
  std::vector<std::uint8_t> out(DigestSize(hash));
  SKAP_RETURN_IF_ERROR(ComputeHmac(hash, key, {message}, out));
  return out;
}

Result<SecretBytes> HmacDerive(Hash hash, std::span<const std::uint8_t> key,
                               std::initializer_list<std::span<const std::uint8_t>> parts) {
  SecretBytes out(DigestSize(hash));
  SKAP_RETURN_IF_ERROR(ComputeHmac(hash, key, parts, out.MutableExpose()));
  return out;
}

Result<void> HmacVerify(Hash hash, std::span<const std::uint8_t> key,
                        std::span<const std::uint8_t> message, std::span<const std::uint8_t> tag) {
  if (tag.size() < kMinHmacTagSize || tag.size() > DigestSize(hash)) {
    return Unexpected(ErrorCode::kInvalidArgument, "HMAC tag length out of range");
  }
  SKAP_ASSIGN_OR_RETURN(auto expected, HmacTag(hash, key, message));
  if (!ct::Equal(std::span(expected).first(tag.size()), tag)) {
    return Unexpected(ErrorCode::kAuthenticationFailed, "authentication failed");
  }
  return Ok();
}

}  // namespace skap::crypto
