// Known-answer self-test of the CTR_DRBG configuration.
#pragma once

#include "common/result.h"

namespace skap::crypto {

// RunCtrDrbgSelfTest instantiates CtrDrbg from a NIST CAVP CTR_DRBG vector
// (AES-256, derivation function, no prediction resistance), reseeds and
// generates as the vector prescribes, and compares the output. The entropy
// service runs it before serving (as SP 800-90A §11.3 asks of a DRBG); a
// mismatch is kCryptoFailure and the service does not start.
Result<void> RunCtrDrbgSelfTest();

}  // namespace skap::crypto
