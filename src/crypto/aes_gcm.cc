#include "crypto/aes_gcm.h"

#include <climits>

#include <openssl/evp.h>

#include "crypto/algorithms.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {

struct AesGcmKey::Contexts {
  CipherCtxPtr seal;
  CipherCtxPtr open;
};

AesGcmKey::AesGcmKey(std::unique_ptr<Contexts> contexts) : contexts_(std::move(contexts)) {}
AesGcmKey::AesGcmKey(AesGcmKey&&) noexcept = default;
AesGcmKey& AesGcmKey::operator=(AesGcmKey&&) noexcept = default;
AesGcmKey::~AesGcmKey() = default;  // EVP_CIPHER_CTX_free wipes the key schedule.

Result<AesGcmKey> AesGcmKey::Create(std::span<const std::uint8_t> key) {
  if (key.size() != kAes256KeySize) {
    return Unexpected(ErrorCode::kInvalidArgument, "AES-256-GCM key must be 32 bytes");
  }
  const EVP_CIPHER* cipher = algorithms::Aes256Gcm();
  if (cipher == nullptr) {
    return OpenSslFailure("fetching AES-256-GCM");
  }
  auto contexts = std::make_unique<Contexts>();
  contexts->seal.reset(EVP_CIPHER_CTX_new());
  contexts->open.reset(EVP_CIPHER_CTX_new());
  if (!contexts->seal || !contexts->open ||
      EVP_EncryptInit_ex2(contexts->seal.get(), cipher, key.data(), nullptr, nullptr) != 1 ||
      EVP_DecryptInit_ex2(contexts->open.get(), cipher, key.data(), nullptr, nullptr) != 1) {
    return OpenSslFailure("setting up AES-256-GCM");
  }
  return AesGcmKey(std::move(contexts));
}

Result<void> AesGcmKey::Seal(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                             std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) {
  if (nonce.size() != kGcmNonceSize) {
    return Unexpected(ErrorCode::kInvalidArgument, "AES-GCM nonce must be 12 bytes");
  }
  if (plaintext.size() > INT_MAX - kGcmTagSize || aad.size() > INT_MAX) {
    return Unexpected(ErrorCode::kInvalidArgument, "AES-GCM input too large");
  }
  if (out.size() != plaintext.size() + kGcmTagSize) {
    return Unexpected(ErrorCode::kInvalidArgument, "AES-GCM output buffer has the wrong size");
  }
  EVP_CIPHER_CTX* ctx = contexts_->seal.get();
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      (!plaintext.empty() && EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(),
                                               static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx, out.data() + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize),
                          out.data() + plaintext.size()) != 1) {
    SecureWipe(out.data(), out.size());
    return OpenSslFailure("AES-256-GCM seal");
  }
  return Ok();
}

Result<void> AesGcmKey::Open(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> aad,
                             std::span<const std::uint8_t> ciphertext_and_tag,
                             std::span<std::uint8_t> out) {
  if (nonce.size() != kGcmNonceSize) {
    return Unexpected(ErrorCode::kInvalidArgument, "AES-GCM nonce must be 12 bytes");
  }
  if (ciphertext_and_tag.size() < kGcmTagSize) {
    return Unexpected(ErrorCode::kAuthenticationFailed, "authentication failed");
  }
  if (ciphertext_and_tag.size() > INT_MAX || aad.size() > INT_MAX) {
    return Unexpected(ErrorCode::kInvalidArgument, "AES-GCM input too large");
  }
  const std::size_t ciphertext_size = ciphertext_and_tag.size() - kGcmTagSize;
  if (out.size() != ciphertext_size) {
    return Unexpected(ErrorCode::kInvalidArgument, "AES-GCM output buffer has the wrong size");
  }
  EVP_CIPHER_CTX* ctx = contexts_->open.get();
  // OpenSSL's ctrl takes a non-const pointer but only copies the tag.
  auto* tag = const_cast<std::uint8_t*>(ciphertext_and_tag.data() + ciphertext_size);
  int len = 0;
  if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      (ciphertext_size != 0 && EVP_DecryptUpdate(ctx, out.data(), &len, ciphertext_and_tag.data(),
                                                 static_cast<int>(ciphertext_size)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag) != 1) {
    SecureWipe(out.data(), out.size());
    return OpenSslFailure("AES-256-GCM open");
  }
  if (EVP_DecryptFinal_ex(ctx, out.data() + ciphertext_size, &len) != 1) {
    SecureWipe(out.data(), out.size());
    ClearOpenSslErrors();
    return Unexpected(ErrorCode::kAuthenticationFailed, "authentication failed");
  }
  return Ok();
}

}  // namespace skap::crypto
