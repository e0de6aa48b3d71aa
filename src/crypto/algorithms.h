// OpenSSL algorithm objects, fetched once per process and reused (OpenSSL 3
// pays heavily for implicit fetches on every call). Private to src/crypto.
#pragma once

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "crypto/hash.h"

namespace skap::crypto::algorithms {

// Each returns the fetched algorithm, or nullptr if the provider lacks it (the
// caller reports that as kCryptoFailure). The objects live for the process.
const EVP_CIPHER* Aes256Gcm();
const EVP_CIPHER* Aes256WrapPad();
const EVP_MD* Md(Hash hash);
EVP_MAC* Hmac();
EVP_KDF* Hkdf();
EVP_RAND* CtrDrbg();
EVP_RAND* TestRand();

// DigestName returns OpenSSL's name for `hash`, for OSSL_PARAM digest fields.
const char* DigestName(Hash hash);

}  // namespace skap::crypto::algorithms
