#include "crypto/hkdf.h"

#include <vector>

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "crypto/algorithms.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {
namespace {

OSSL_PARAM OctetParam(const char* name, std::span<const std::uint8_t> bytes) {
  // OpenSSL only reads through these pointers.
  return OSSL_PARAM_construct_octet_string(name, const_cast<std::uint8_t*>(bytes.data()),
                                           bytes.size());
}

Result<SecretBytes> Derive(Hash hash, int mode, std::span<const std::uint8_t> key,
                           std::span<const std::uint8_t> salt, std::span<const std::uint8_t> info,
                           std::size_t length) {
  EVP_KDF* kdf = algorithms::Hkdf();
  if (kdf == nullptr) {
    return OpenSslFailure("fetching HKDF");
  }
  const KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (!ctx) {
    return OpenSslFailure("allocating an HKDF context");
  }
  std::vector<OSSL_PARAM> params;
  params.push_back(OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode));
  params.push_back(OSSL_PARAM_construct_utf8_string(
      OSSL_KDF_PARAM_DIGEST, const_cast<char*>(algorithms::DigestName(hash)), 0));
  params.push_back(OctetParam(OSSL_KDF_PARAM_KEY, key));
  if (!salt.empty()) {
    params.push_back(OctetParam(OSSL_KDF_PARAM_SALT, salt));
  }
  if (!info.empty()) {
    params.push_back(OctetParam(OSSL_KDF_PARAM_INFO, info));
  }
  params.push_back(OSSL_PARAM_construct_end());
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.MutableExpose().data(), length, params.data()) != 1) {
    return OpenSslFailure("HKDF derive");
  }
  return out;
}

}  // namespace

Result<SecretBytes> HkdfExtract(Hash hash, std::span<const std::uint8_t> salt,
                                std::span<const std::uint8_t> ikm) {
  return Derive(hash, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, salt, {}, DigestSize(hash));
}

Result<SecretBytes> HkdfExpand(Hash hash, std::span<const std::uint8_t> prk,
                               std::span<const std::uint8_t> info, std::size_t length) {
  // RFC 5869 §2.3: L <= 255*HashLen. Checked here so the error is ours.
  if (length == 0 || length > 255 * DigestSize(hash)) {
    return Unexpected(ErrorCode::kInvalidArgument, "HKDF output length must be 1..255*HashLen");
  }
  return Derive(hash, EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, {}, info, length);
}

Result<SecretBytes> Hkdf(Hash hash, std::span<const std::uint8_t> salt,
                         std::span<const std::uint8_t> ikm, std::span<const std::uint8_t> info,
                         std::size_t length) {
  if (length == 0 || length > 255 * DigestSize(hash)) {
    return Unexpected(ErrorCode::kInvalidArgument, "HKDF output length must be 1..255*HashLen");
  }
  return Derive(hash, EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, ikm, salt, info, length);
}

}  // namespace skap::crypto
