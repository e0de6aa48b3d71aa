// The request target parser under both of its rule sets: what the admin API
// and the control socket have always read (form rules), and what ETSI GS QKD
// 014 asks for (strict rules, RFC 3986).
#include "net/http/target.h"

#include <gtest/gtest.h>

namespace skap::net {
namespace {

using Segments = std::vector<std::string>;

TEST(TargetTest, FormRulesDecodeTheQueryAndKeepTheSegmentsAsSent) {
  auto t = ParseTarget("//v1/devices/%41b?network=plant+1&state=act%69ve&flag&state=pending");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->segments, (Segments{"v1", "devices", "%41b"}))
      << "empty segments skipped, not decoded";
  EXPECT_EQ(t->query.at("network"), "plant 1") << "'+' is a space in a form";
  EXPECT_EQ(t->query.at("state"), "pending") << "a repeated parameter keeps its last value";
  EXPECT_EQ(t->query.at("flag"), "") << "a parameter without '=' is empty";
  EXPECT_FALSE(ParseTarget("/v1/audit?actor=%4")) << "a broken escape in the query";
  EXPECT_FALSE(ParseTarget("/v1/audit?actor=%zz"));
  EXPECT_TRUE(ParseTarget("/v1/%zz")) << "segments are not decoded, so not checked";
}

TEST(TargetTest, StrictRulesDecodeEverySegmentAndRefuseLooseQueries) {
  auto t = ParseTarget("/api/v1/keys/sae%2Fb+c/enc_keys?number=2&size=256", TargetRules::kStrict);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->segments, (Segments{"api", "v1", "keys", "sae/b+c", "enc_keys"}))
      << "decoded after splitting, '+' itself";
  EXPECT_EQ(t->query.at("number"), "2");
  auto plus = ParseTarget("/x?key_ID=a+b", TargetRules::kStrict);
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->query.at("key_ID"), "a+b") << "'+' is itself in a strict query";
  EXPECT_EQ(ParseTarget("/api//keys/", TargetRules::kStrict)->segments,
            (Segments{"api", "", "keys", ""}))
      << "no segment skipped";
  EXPECT_FALSE(ParseTarget("/x?number", TargetRules::kStrict)) << "a parameter without '='";
  EXPECT_FALSE(ParseTarget("/x?n=1&n=2", TargetRules::kStrict)) << "a parameter twice";
  EXPECT_FALSE(ParseTarget("/sae%2", TargetRules::kStrict)) << "a broken escape in the path";
  EXPECT_FALSE(ParseTarget("api/v1", TargetRules::kStrict)) << "a path that is not absolute";
}

TEST(TargetTest, PercentDecodeKnowsBothPlusRules) {
  EXPECT_EQ(*PercentDecode("a+b%20c", true), "a b c");
  EXPECT_EQ(*PercentDecode("a+b%20c", false), "a+b c");
  EXPECT_EQ(*PercentDecode("%e2%82%AC", false), "\xe2\x82\xac") << "either case of hex";
  EXPECT_FALSE(PercentDecode("%g0", false));
  EXPECT_FALSE(PercentDecode("%", false));
}

}  // namespace
}  // namespace skap::net
