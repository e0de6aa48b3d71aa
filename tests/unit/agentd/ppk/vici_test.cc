// The VICI codec against hand-built bytes of the format in strongSwan's
// vici README (element types, 8-bit name and 16-bit value lengths), and
// against malformed input.
#include "agentd/ppk/vici.h"

#include <gtest/gtest.h>

namespace skap::ppk {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes Encoded(const ViciMessage& m) { return {m.Encoded().begin(), m.Encoded().end()}; }

TEST(ViciTest, KeyValuesAndListsEncodeAsTheFormatSays) {
  ViciMessage m;
  ASSERT_TRUE(m.Add("type", "PPK"));
  ASSERT_TRUE(m.AddList("owners", {"ab"}));
  const Bytes want = {3, 4, 't', 'y', 'p', 'e', 0,   3,   'P', 'P', 'K',                // key/value
                      4, 6, 'o', 'w', 'n', 'e', 'r', 's', 5,   0,   2,   'a', 'b', 6};  // list
  EXPECT_EQ(Encoded(m), want);
}

TEST(ViciTest, AnswersAreReadByPathThroughSections) {
  const Bytes answer = {3,   7,   's', 'u', 'c', 'c', 'e', 's', 's', 0,   3,
                        'y', 'e', 's', 1,   4,   's', 'k', 'a', 'p',            // section skap
                        3,   5,   's', 't', 'a', 't', 'e', 0,   2,   'U', 'P',  // skap.state
                        4,   1,   'l', 5,   0,   1,   'x', 6,                   // a list inside
                        2};
  auto m = ViciMessage::Parse(answer);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->Get("success"), "yes");
  EXPECT_EQ(m->Get("skap.state"), "UP");
  EXPECT_FALSE(m->Get("state")) << "a section's key is not a top-level key";
  EXPECT_EQ(m->Sections(), std::vector<std::string>{"skap"});
}

TEST(ViciTest, MalformedAnswersAreRefused) {
  for (const Bytes& bad : {Bytes{3, 9, 'x'},                   // name longer than the bytes
                           Bytes{3, 1, 'k', 0, 9, 'v'},        // value longer than the bytes
                           Bytes{1, 1, 's'},                   // section never ended
                           Bytes{2},                           // end without a start
                           Bytes{5, 0, 0},                     // list item outside a list
                           Bytes{4, 1, 'l', 3, 1, 'k', 0, 0},  // key/value inside a list
                           Bytes{9}}) {                        // no such element
    EXPECT_FALSE(ViciMessage::Parse(bad));
  }
}

TEST(ViciTest, BadNamesAndValuesAreRefused) {
  ViciMessage m;
  EXPECT_FALSE(m.Add("", "v"));
  EXPECT_FALSE(m.Add(std::string(256, 'k'), "v"));
  EXPECT_FALSE(m.Add("k", std::string(65536, 'v')));
}

TEST(ViciTest, NoCharonIsAClearError) {
  auto client = ViciClient::Connect("/nonexistent/charon.vici", 1000);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(client.error().message.find("/nonexistent/charon.vici"), std::string::npos);
}

}  // namespace
}  // namespace skap::ppk
