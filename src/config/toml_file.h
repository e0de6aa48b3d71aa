// Reading a daemon's TOML configuration file the one way SKAP's daemons do:
// unknown keys and out-of-range values are refused with the file and key
// named, so a typo never falls back to a default silently.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace skap::config {

// ParseTomlFile reads `path`, refusing any top-level key not in `known`.
Result<toml::table> ParseTomlFile(const std::string& path, std::span<const std::string_view> known);

// Integer reads `key` (default `fallback`) and checks it lies in [lo, hi].
Result<std::int64_t> Integer(const toml::table& table, const std::string& path,
                             std::string_view key, std::int64_t fallback, std::int64_t lo,
                             std::int64_t hi);

// String reads `key` (default `fallback`); a value of another type is refused.
Result<std::string> String(const toml::table& table, const std::string& path, std::string_view key,
                           const std::string& fallback);

// Boolean reads `key` (default `fallback`); a value of another type (the
// string "false", say) is refused, never read as the default.
Result<bool> Boolean(const toml::table& table, const std::string& path, std::string_view key,
                     bool fallback);

}  // namespace skap::config
