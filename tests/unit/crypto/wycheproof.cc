#include "unit/crypto/wycheproof.h"

#include <fstream>

#include <gtest/gtest.h>

#include "common/hex.h"

namespace skap::testing {
namespace {

nlohmann::json ReadFile(const std::string& file) {
  const std::string path = std::string(SKAP_SHARED_DIR) + "/vectors/wycheproof/" + file;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open Wycheproof vectors at " << path
                  << " (the shared/ folder must sit beside the clone)";
    return {};
  }
  return nlohmann::json::parse(in);
}

}  // namespace

std::vector<std::uint8_t> WycheproofCase::Bytes(const char* name) const {
  auto decoded = HexDecode(test.at(name).get<std::string>());
  EXPECT_TRUE(decoded.has_value()) << Label() << ": bad hex in " << name;
  return decoded ? *decoded : std::vector<std::uint8_t>{};
}

std::string WycheproofCase::Label() const {
  return "tcId " + std::to_string(tc_id) + " (" + comment + ")";
}

std::vector<WycheproofCase> LoadWycheproof(const std::string& file) {
  const nlohmann::json doc = ReadFile(file);
  std::vector<WycheproofCase> cases;
  if (doc.is_null()) return cases;
  for (const auto& group : doc.at("testGroups")) {
    nlohmann::json params = group;
    params.erase("tests");
    for (const auto& test : group.at("tests")) {
      cases.push_back(WycheproofCase{test.at("tcId").get<int>(),
                                     test.at("result").get<std::string>(),
                                     test.value("comment", ""), params, test});
    }
  }
  return cases;
}

int ExpectedTestCount(const std::string& file) {
  const nlohmann::json doc = ReadFile(file);
  return doc.is_null() ? -1 : doc.at("numberOfTests").get<int>();
}

}  // namespace skap::testing
