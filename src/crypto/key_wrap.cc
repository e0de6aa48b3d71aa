#include "crypto/key_wrap.h"

#include <climits>

#include <openssl/evp.h>

#include "crypto/algorithms.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {
namespace {

constexpr std::size_t kSemiblock = 8;

Result<CipherCtxPtr> NewWrapContext(std::span<const std::uint8_t> kek, bool wrap) {
  if (kek.size() != kKekSize) {
    return Unexpected(ErrorCode::kInvalidArgument, "key-encryption key must be 32 bytes");
  }
  const EVP_CIPHER* cipher = algorithms::Aes256WrapPad();
  if (cipher == nullptr) {
    return OpenSslFailure("fetching AES-256-WRAP-PAD");
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) {
    return OpenSslFailure("allocating a key-wrap context");
  }
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex2(ctx.get(), cipher, kek.data(), nullptr, wrap ? 1 : 0, nullptr) != 1) {
    return OpenSslFailure("setting up AES-256-WRAP-PAD");
  }
  return ctx;
}

}  // namespace

Result<std::vector<std::uint8_t>> WrapKey(std::span<const std::uint8_t> kek,
                                          std::span<const std::uint8_t> key) {
  // RFC 5649 §4.1: the plaintext is at least one octet; 2^32 octets at most.
  if (key.empty() || key.size() > INT_MAX - 2 * kSemiblock) {
    return Unexpected(ErrorCode::kInvalidArgument, "key to wrap must be 1 byte or more");
  }
  SKAP_ASSIGN_OR_RETURN(auto ctx, NewWrapContext(kek, true));
  const std::size_t padded = (key.size() + kSemiblock - 1) / kSemiblock * kSemiblock;
  std::vector<std::uint8_t> out(padded + kSemiblock);
  int len = 0;
  int final_len = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len, key.data(), static_cast<int>(key.size())) !=
          1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
    return OpenSslFailure("AES-256-WRAP-PAD wrap");
  }
  out.resize(static_cast<std::size_t>(len) + static_cast<std::size_t>(final_len));
  return out;
}

Result<SecretBytes> UnwrapKey(std::span<const std::uint8_t> kek,
                              std::span<const std::uint8_t> wrapped) {
  SKAP_ASSIGN_OR_RETURN(auto ctx, NewWrapContext(kek, false));
  // RFC 5649 §4.2: at least two semiblocks, whole semiblocks only.
  if (wrapped.size() < 2 * kSemiblock || wrapped.size() % kSemiblock != 0 ||
      wrapped.size() > INT_MAX) {
    return Unexpected(ErrorCode::kAuthenticationFailed, "authentication failed");
  }
  SecretBytes out(wrapped.size());
  int len = 0;
  int final_len = 0;
  if (EVP_CipherUpdate(ctx.get(), out.MutableExpose().data(), &len, wrapped.data(),
                       static_cast<int>(wrapped.size())) != 1 ||
      len <= 0 ||
      EVP_CipherFinal_ex(ctx.get(), out.MutableExpose().data() + len, &final_len) != 1) {
    ClearOpenSslErrors();
    return Unexpected(ErrorCode::kAuthenticationFailed, "authentication failed");
  }
  out.Resize(static_cast<std::size_t>(len) + static_cast<std::size_t>(final_len));
  return out;
}

}  // namespace skap::crypto
