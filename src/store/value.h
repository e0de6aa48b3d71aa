// Values that cross the storage interface: SQL NULL, integers, text, blobs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace skap::store {

// Null is SQL NULL.
using Null = std::monostate;
// Blob is a byte string. Only wrapped (encrypted) keys are ever stored as
// blobs; plaintext secrets never reach the store.
using Blob = std::vector<std::uint8_t>;
// Value is one SQL value.
using Value = std::variant<Null, std::int64_t, std::string, Blob>;
// Row is one result row, columns in SELECT order.
using Row = std::vector<Value>;

// AsInt, AsText and AsBlob read a column, or nullopt if it has another type
// (NULL included).
inline std::optional<std::int64_t> AsInt(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return std::nullopt;
}
inline std::optional<std::string> AsText(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return std::nullopt;
}
inline std::optional<Blob> AsBlob(const Value& v) {
  if (const auto* b = std::get_if<Blob>(&v)) return *b;
  return std::nullopt;
}

// OrNull turns an optional into a Value (NULL when empty), for optional
// filters and nullable columns.
template <typename T>
Value OrNull(const std::optional<T>& value) {
  if (value.has_value()) return Value(*value);
  return Value(Null{});
}

}  // namespace skap::store
