#include "common/secret_bytes.h"

// OPENSSL_cleanse is a memory primitive rather than cryptography; this file
// and ct.cc are the only places outside src/crypto that call into libcrypto.
#include <openssl/crypto.h>

namespace skap {

void SecureWipe(void* data, std::size_t size) {
  if (data != nullptr && size != 0) {
    OPENSSL_cleanse(data, size);
  }
}

void SecretBytes::Resize(std::size_t size) {
  if (size < bytes_.size()) {
    SecureWipe(bytes_.data() + size, bytes_.size() - size);
  }
  bytes_.resize(size);
}

}  // namespace skap
