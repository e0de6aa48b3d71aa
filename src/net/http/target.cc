#include "net/http/target.h"

#include "common/hex.h"

namespace skap::net {

std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (in[i] == '%') {
      const int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::optional<Target> ParseTarget(std::string_view target, TargetRules rules) {
  const bool strict = rules == TargetRules::kStrict;
  Target t;
  const auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const auto eq = pair.find('=');
      if (strict && eq == std::string_view::npos) return std::nullopt;
      auto name = PercentDecode(pair.substr(0, eq), !strict);
      auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), !strict);
      if (!name || !value) return std::nullopt;
      if (strict && t.query.contains(*name)) return std::nullopt;
      t.query[*name] = *value;
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }
  if (!strict) {
    while (!path.empty()) {
      if (path.front() == '/') {
        path.remove_prefix(1);
        continue;
      }
      const auto slash = path.find('/');
      t.segments.emplace_back(path.substr(0, slash));
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
    return t;
  }
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    // A path segment's '+' is itself (only queries use the form encoding).
    auto segment = PercentDecode(path.substr(0, slash), false);
    if (!segment) return std::nullopt;
    t.segments.push_back(std::move(*segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return t;
}

}  // namespace skap::net
