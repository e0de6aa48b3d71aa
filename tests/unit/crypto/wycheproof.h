// Loading Project Wycheproof vectors from ../shared/vectors/wycheproof/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace skap::testing {

// WycheproofCase is one test case with its group's parameters merged in.
struct WycheproofCase {
  int tc_id = 0;
  std::string result;  // "valid", "invalid" or "acceptable"
  std::string comment;
  nlohmann::json group;  // the test group (keySize, ivSize, tagSize, ...)
  nlohmann::json test;   // the test case itself

  // Bytes returns the hex field `name` of the test case, decoded.
  std::vector<std::uint8_t> Bytes(const char* name) const;
  // Label is "tcId N (comment)" for failure messages.
  std::string Label() const;
};

// LoadWycheproof reads `file` (e.g. "aes_gcm_test.json") from the shared
// vectors folder and returns every test case. A missing or unreadable file
// fails the calling test: vectors are never silently skipped.
std::vector<WycheproofCase> LoadWycheproof(const std::string& file);

// ExpectedTestCount returns the file's "numberOfTests".
int ExpectedTestCount(const std::string& file);

}  // namespace skap::testing
