// Random identifiers.
#pragma once

#include <string>

#include "common/result.h"
#include "crypto/rng.h"

namespace skap::crypto {

// NewUuid returns a version 4 (random) UUID in its canonical lowercase text
// form (RFC 9562 §5.4), drawn from `rng`.
Result<std::string> NewUuid(Rng& rng);

}  // namespace skap::crypto
