#include "crypto/uuid.h"

#include <gtest/gtest.h>

#include "crypto/ctr_drbg.h"

namespace skap::crypto {
namespace {

TEST(UuidTest, NewUuidIsVersion4InCanonicalForm) {
  auto rng = CtrDrbg::Create({});
  ASSERT_TRUE(rng);
  auto id = NewUuid(**rng);
  ASSERT_TRUE(id);
  EXPECT_TRUE(IsCanonicalUuid(*id)) << *id;
  EXPECT_EQ((*id)[14], '4');
  EXPECT_NE(std::string("89ab").find((*id)[19]), std::string::npos);
}

TEST(UuidTest, ParseAndFormatRoundTrip) {
  // RFC 9562 Appendix A.4's example UUIDv4.
  const std::string text = "919108f7-52d1-4320-9bac-f847db4148a8";
  auto bytes = ParseUuid(text);
  ASSERT_TRUE(bytes);
  EXPECT_EQ((*bytes)[0], 0x91);
  EXPECT_EQ((*bytes)[15], 0xa8);
  EXPECT_EQ(FormatUuid(*bytes), text);
  EXPECT_TRUE(ParseUuid("919108F7-52D1-4320-9BAC-F847DB4148A8"));
  EXPECT_FALSE(IsCanonicalUuid("919108F7-52D1-4320-9BAC-F847DB4148A8"));
}

TEST(UuidTest, RefusesAnythingElse) {
  for (const char* bad :
       {"", "919108f7-52d1-4320-9bac-f847db4148a", "919108f7x52d1-4320-9bac-f847db4148a8",
        "919108f7-52d1-4320-9bac-f847db4148a8-", "g19108f7-52d1-4320-9bac-f847db4148a8",
        "919108f752d143209bacf847db4148a80000"}) {
    EXPECT_FALSE(ParseUuid(bad)) << bad;
    EXPECT_FALSE(IsCanonicalUuid(bad)) << bad;
  }
}

}  // namespace
}  // namespace skap::crypto
