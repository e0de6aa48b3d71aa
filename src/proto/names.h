// The names a registry gives tenants, networks, operators and devices: they
// end up in file names, topics and audit entries, so both the hub (which
// gives them) and the endpoint (which looks peers up by them) hold them to
// one rule.
#pragma once

#include <string_view>

namespace skap::proto {

// IsValidName accepts 1 to 64 characters of [A-Za-z0-9._-], not starting
// with '.' or '-'.
bool IsValidName(std::string_view name);

}  // namespace skap::proto
