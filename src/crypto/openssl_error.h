// Turning OpenSSL's error queue into a SKAP Error.
#pragma once

#include <string_view>

#include "common/result.h"

namespace skap::crypto {

// OpenSslFailure drains OpenSSL's thread-local error queue into the message
// of a kCryptoFailure error, prefixed by `what` (the operation that failed).
// The queue is reported, never branched on.
Unexpected OpenSslFailure(std::string_view what);

// ClearOpenSslErrors empties the error queue after an expected failure (a bad
// tag), so that the detail neither leaks into a later message nor acts as an
// oracle.
void ClearOpenSslErrors();

}  // namespace skap::crypto
