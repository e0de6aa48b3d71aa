// The request target of SKAP's HTTP surfaces: path segments and query
// parameters, percent-decoded.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skap::api {

// Target is a parsed request target.
struct Target {
  std::vector<std::string> segments;         // "/v1/keys/x" -> {"v1", "keys", "x"}
  std::map<std::string, std::string> query;  // decoded keys and values
};

// ParseTarget splits `target`; nullopt if its percent-encoding is malformed.
std::optional<Target> ParseTarget(std::string_view target);

}  // namespace skap::api
