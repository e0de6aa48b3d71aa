#include "crypto/openssl_error.h"

#include <array>
#include <string>

#include <openssl/err.h>

namespace skap::crypto {

Unexpected OpenSslFailure(std::string_view what) {
  std::string message(what);
  bool first = true;
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    message += first ? ": " : "; ";
    message += text.data();
    first = false;
  }
  return Unexpected(ErrorCode::kCryptoFailure, std::move(message));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace skap::crypto
