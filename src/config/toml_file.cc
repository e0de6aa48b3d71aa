#include "config/toml_file.h"

#include <algorithm>

namespace skap::config {

Result<toml::table> ParseTomlFile(const std::string& path,
                                  std::span<const std::string_view> known) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Unexpected(ErrorCode::kInvalidArgument, path + ": " + std::string(e.description()));
  }
  for (const auto& [key, value] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        path + ": unknown key '" + std::string(key.str()) + "'");
    }
  }
  return table;
}

Result<std::int64_t> Integer(const toml::table& table, const std::string& path,
                             std::string_view key, std::int64_t fallback, std::int64_t lo,
                             std::int64_t hi) {
  const auto node = table[key];
  if (node && !node.is_integer()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path + ": " + std::string(key) + " must be an integer");
  }
  const std::int64_t value = node.value_or(fallback);
  if (value < lo || value > hi) {
    return Unexpected(ErrorCode::kInvalidArgument, path + ": " + std::string(key) +
                                                       " must be between " + std::to_string(lo) +
                                                       " and " + std::to_string(hi));
  }
  return value;
}

Result<std::string> String(const toml::table& table, const std::string& path, std::string_view key,
                           const std::string& fallback) {
  const auto node = table[key];
  if (node && !node.is_string()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path + ": " + std::string(key) + " must be a string");
  }
  return node.value_or(fallback);
}

Result<bool> Boolean(const toml::table& table, const std::string& path, std::string_view key,
                     bool fallback) {
  const auto node = table[key];
  if (node && !node.is_boolean()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      path + ": " + std::string(key) + " must be true or false");
  }
  return node.value_or(fallback);
}

}  // namespace skap::config
