// Error values shared by every SKAP layer.
#pragma once

#include <string>
#include <string_view>

namespace skap {

// ErrorCode is the one enumeration of failure kinds for the whole project.
// Codes are stable: they cross the C API and appear in operator output.
enum class ErrorCode : int {
  kInvalidArgument = 1,       // the caller passed something out of range or malformed
  kMalformedInput = 2,        // bytes from outside (file, network, user) did not parse
  kAuthenticationFailed = 3,  // a tag, MAC or key check failed; never carries detail
  kInconsistentShares = 4,    // secret shares that do not lie on one polynomial
  kLimitExceeded = 5,         // a key's use budget or a size bound is spent
  kEntropyUnavailable = 6,    // no healthy entropy source: the service fails closed
  kUnavailable = 7,           // a device or feature this machine does not have
  kIoError = 8,               // the operating system refused a read or write
  kCryptoFailure = 9,         // OpenSSL reported an internal failure
  kFailedPrecondition = 10,   // the object is not in a state that allows the call
  kNotFound = 11,             // no such thing, or not visible to the caller
  kPermissionDenied = 12,     // the caller's role or duties do not allow the call
  kDeadlineExceeded = 13,     // what the caller waited for did not come in the time it gave
};

// ErrorCodeName returns a stable, human-readable name such as
// "authentication-failed".
std::string_view ErrorCodeName(ErrorCode code);

// Error is a failure: a code to branch on and a message for people. The
// message never contains secret bytes.
struct Error {
  ErrorCode code;
  std::string message;
};

// ErrnoText describes an errno value, thread-safely (strerror is not).
std::string ErrnoText(int error_number);

// ToString renders an error as "<code name>: <message>".
std::string ToString(const Error& error);

}  // namespace skap
