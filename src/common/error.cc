#include "common/error.h"

#include <cstring>

namespace skap {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid-argument";
    case ErrorCode::kMalformedInput:
      return "malformed-input";
    case ErrorCode::kAuthenticationFailed:
      return "authentication-failed";
    case ErrorCode::kInconsistentShares:
      return "inconsistent-shares";
    case ErrorCode::kLimitExceeded:
      return "limit-exceeded";
    case ErrorCode::kEntropyUnavailable:
      return "entropy-unavailable";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kIoError:
      return "io-error";
    case ErrorCode::kCryptoFailure:
      return "crypto-failure";
    case ErrorCode::kFailedPrecondition:
      return "failed-precondition";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kPermissionDenied:
      return "permission-denied";
    case ErrorCode::kDeadlineExceeded:
      return "deadline-exceeded";
  }
  return "unknown";
}

std::string ErrnoText(int error_number) {
  char buffer[256] = {};
  // GNU strerror_r returns a pointer to the message (possibly static).
  return strerror_r(error_number, buffer, sizeof buffer);
}

std::string ToString(const Error& error) {
  std::string out(ErrorCodeName(error.code));
  out += ": ";
  out += error.message;
  return out;
}

}  // namespace skap
