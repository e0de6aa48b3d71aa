// Result<T>: a value or an Error, without exceptions.
//
// A strict subset of C++23 std::expected<T, Error> (GCC 12 in C++20 mode has
// no <expected>), so that moving to the standard type later is a rename:
// failures are built with skap::Unexpected(...) as with std::unexpected.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/error.h"

namespace skap {

// Unexpected wraps an Error on its way into a Result, like std::unexpected.
class Unexpected {
 public:
  explicit Unexpected(Error error) : error_(std::move(error)) {}
  Unexpected(ErrorCode code, std::string message) : error_{code, std::move(message)} {}
  Error& error() & { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
};

// Result holds either a T or an Error. Check has_value() (or test it as a
// bool) before value(); value() on an error is a broken invariant.
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(const T& value)
      : state_(std::in_place_index<0>, value) {}  // NOLINT(google-explicit-constructor)
  Result(T&& value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Unexpected unexpected)                              // NOLINT(google-explicit-constructor)
      : state_(std::in_place_index<1>, std::move(unexpected).error()) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(state_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(state_));
  }

 private:
  std::variant<T, Error> state_;
};

// Result<void> is success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Unexpected unexpected)  // NOLINT(google-explicit-constructor)
      : error_(std::move(unexpected).error()), failed_(true) {}

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value()); }

  const Error& error() const& {
    assert(!has_value());
    return error_;
  }
  Error&& error() && {
    assert(!has_value());
    return std::move(error_);
  }

 private:
  Error error_{};
  bool failed_ = false;
};

// Ok returns a successful Result<void>.
inline Result<void> Ok() { return {}; }

}  // namespace skap

#define SKAP_INTERNAL_CONCAT2(a, b) a##b
#define SKAP_INTERNAL_CONCAT(a, b) SKAP_INTERNAL_CONCAT2(a, b)

// NOLINTBEGIN(bugprone-macro-parentheses): tmp and lhs are names or
// declarations, which parentheses would break.
// SKAP_RETURN_IF_ERROR(expr) returns the error of a failed Result<...> expr.
// (__COUNTER__ gives nested uses, e.g. inside a lambda argument, their own
// names.)
#define SKAP_RETURN_IF_ERROR(expr) \
  SKAP_INTERNAL_RETURN_IF_ERROR(SKAP_INTERNAL_CONCAT(skap_status_, __COUNTER__), expr)
#define SKAP_INTERNAL_RETURN_IF_ERROR(tmp, expr)         \
  do {                                                   \
    auto tmp = (expr);                                   \
    if (!tmp) {                                          \
      return ::skap::Unexpected(std::move(tmp).error()); \
    }                                                    \
  } while (false)

// SKAP_ASSIGN_OR_RETURN(lhs, expr) evaluates a Result<T> expr, returns its
// error on failure, and otherwise move-assigns the value to lhs (which may be
// a declaration such as `auto key`).
#define SKAP_ASSIGN_OR_RETURN(lhs, expr) \
  SKAP_INTERNAL_ASSIGN_OR_RETURN(SKAP_INTERNAL_CONCAT(skap_result_, __COUNTER__), lhs, expr)
#define SKAP_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp) {                                          \
    return ::skap::Unexpected(std::move(tmp).error()); \
  }                                                    \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
