// The request target of SKAP's HTTP surfaces: path segments and query
// parameters, by one of two sets of rules:
//   kForm    the admin API and the control socket: path segments as sent,
//            empty ones skipped ("//v1/x" is "/v1/x"); the query
//            percent-decoded (RFC 3986, section 2.1) with '+' as a space
//            (HTML forms), a parameter without '=' empty, and a repeated
//            parameter keeping its last value;
//   kStrict  ETSI GS QKD 014: every path segment percent-decoded and none
//            skipped ("/a//b" has an empty segment); in the query '+' is
//            itself, every parameter has '=', and none may appear twice.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skap::net {

enum class TargetRules { kForm, kStrict };

// Target is a parsed request target.
struct Target {
  std::vector<std::string> segments;         // "/v1/keys/x" -> {"v1", "keys", "x"}
  std::map<std::string, std::string> query;  // decoded names and values
};

// ParseTarget splits and decodes `target`; nullopt if it breaks `rules`
// (malformed percent-encoding included).
std::optional<Target> ParseTarget(std::string_view target, TargetRules rules = TargetRules::kForm);

// PercentDecode undoes percent-encoding; with `plus_is_space`, '+' becomes
// ' '. nullopt if a '%' is not followed by two hex digits.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace skap::net
