// The one mapping of SKAP's error codes to HTTP status codes, for every
// HTTP surface (the hub's admin API, the agent's control socket).
#pragma once

#include "common/error.h"

namespace skap::net {

// HttpStatusFor returns the status that answers a request failing with `code`.
inline int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kMalformedInput:
      return 400;
    case ErrorCode::kAuthenticationFailed:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kLimitExceeded:
      return 429;
    case ErrorCode::kUnavailable:
    case ErrorCode::kEntropyUnavailable:
      return 503;
    case ErrorCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

}  // namespace skap::net
