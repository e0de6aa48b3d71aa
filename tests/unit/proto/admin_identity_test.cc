#include "proto/admin_identity.h"

#include <gtest/gtest.h>

#include "common/ct.h"
#include "common/hex.h"
#include "crypto/psk_importer.h"
#include "proto/channel_identity.h"

namespace skap::proto {
namespace {

const std::string kToken =
    "skapop1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(AdminIdentityTest, EpskMatchesAnIndependentHkdf) {
  // Expected value computed with Python's hmac/hashlib (RFC 5869 by hand):
  // HKDF-SHA-384(salt = "", IKM = kToken, info = "skap admin psk v1", L = 32).
  auto epsk = AdminPskFromToken(AsBytes(kToken));
  ASSERT_TRUE(epsk);
  EXPECT_EQ(HexEncode(epsk->Expose()),
            "1b7968c356194e7a98cb10d5acf734c53da3de8d618c5c9e22d4964917f23d3a");
  EXPECT_FALSE(AdminPskFromToken({}));
}

TEST(AdminIdentityTest, IdentityNamesTheOperator) {
  auto epsk = AdminPskFromToken(AsBytes(kToken));
  ASSERT_TRUE(epsk);
  auto imported = ImportAdminPsk("alice", epsk->Expose());
  ASSERT_TRUE(imported);
  auto name = ParseAdminIdentity(imported->wire_identity);
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "alice");
}

TEST(AdminIdentityTest, TheNameIsBoundIntoThePsk) {
  auto epsk = AdminPskFromToken(AsBytes(kToken));
  ASSERT_TRUE(epsk);
  auto alice = ImportAdminPsk("alice", epsk->Expose());
  auto bob = ImportAdminPsk("bob", epsk->Expose());
  ASSERT_TRUE(alice && bob);
  EXPECT_FALSE(ct::Equal(alice->psk.Expose(), bob->psk.Expose()));
}

TEST(AdminIdentityTest, OtherIdentitiesAreRefused) {
  // A name whose context names someone else.
  crypto::ImportedIdentity forged;
  const std::string external = "skap-admin/alice";
  forged.external_identity.assign(external.begin(), external.end());
  const std::string context = std::string("skap admin v1") + std::string("\0\3bob", 5);
  forged.context.assign(context.begin(), context.end());
  auto wire = crypto::EncodeImportedIdentity(forged);
  ASSERT_TRUE(wire);
  EXPECT_EQ(ParseAdminIdentity(*wire).error().code, ErrorCode::kAuthenticationFailed);

  // A device's channel identity is not an operator's.
  auto channel = ImportChannelKey({"hub-a", "device-1", 1}, std::vector<std::uint8_t>(32, 1));
  ASSERT_TRUE(channel);
  EXPECT_FALSE(ParseAdminIdentity(channel->wire_identity));

  // Garbage, and an empty name.
  EXPECT_FALSE(ParseAdminIdentity(AsBytes("skap-admin/alice")));
  EXPECT_FALSE(ImportAdminPsk("", std::vector<std::uint8_t>(32, 1)));
}

}  // namespace
}  // namespace skap::proto
