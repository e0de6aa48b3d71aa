#include "crypto/algorithms.h"

#include "crypto/openssl_ptr.h"

namespace skap::crypto::algorithms {

// Function-local statics: fetched on first use, thread-safe by the language,
// released at exit through the owning pointers.
const EVP_CIPHER* Aes256Gcm() {
  static const CipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  return cipher.get();
}

const EVP_CIPHER* Aes256WrapPad() {
  static const CipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-WRAP-PAD", nullptr));
  return cipher.get();
}

const char* DigestName(Hash hash) { return hash == Hash::kSha256 ? "SHA2-256" : "SHA2-384"; }

const EVP_MD* Md(Hash hash) {
  static const MdPtr sha256(EVP_MD_fetch(nullptr, "SHA2-256", nullptr));
  static const MdPtr sha384(EVP_MD_fetch(nullptr, "SHA2-384", nullptr));
  return hash == Hash::kSha256 ? sha256.get() : sha384.get();
}

EVP_MAC* Hmac() {
  static const MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

EVP_KDF* Hkdf() {
  static const KdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  return kdf.get();
}

EVP_RAND* CtrDrbg() {
  static const RandPtr rand(EVP_RAND_fetch(nullptr, "CTR-DRBG", nullptr));
  return rand.get();
}

EVP_RAND* TestRand() {
  static const RandPtr rand(EVP_RAND_fetch(nullptr, "TEST-RAND", nullptr));
  return rand.get();
}

}  // namespace skap::crypto::algorithms
