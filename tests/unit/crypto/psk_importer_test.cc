#include "crypto/psk_importer.h"

#include <gtest/gtest.h>

#include "common/ct.h"
#include "common/hex.h"

namespace skap::crypto {
namespace {

ImportedIdentity Identity(std::string_view external, std::string_view context) {
  ImportedIdentity id;
  id.external_identity.assign(external.begin(), external.end());
  id.context.assign(context.begin(), context.end());
  return id;
}

TEST(PskImporterTest, EncodingFollowsTheRfcStructure) {
  auto encoded = EncodeImportedIdentity(Identity("dev", "ctx!"));
  ASSERT_TRUE(encoded);
  // uint16 3, "dev", uint16 4, "ctx!", 0x0304 (TLS 1.3), 0x0002 (HKDF_SHA384)
  EXPECT_EQ(HexEncode(*encoded),
            "0003646576000463747821"
            "0304"
            "0002");
  auto decoded = DecodeImportedIdentity(*encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->external_identity, Identity("dev", "").external_identity);
  EXPECT_EQ(decoded->context, Identity("", "ctx!").context);
  EXPECT_EQ(decoded->target_kdf, kTargetKdfHkdfSha384);
}

TEST(PskImporterTest, DecodeRejectsMalformedIdentities) {
  auto good = *EncodeImportedIdentity(Identity("dev", "ctx"));
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeImportedIdentity(std::span(good).first(n))) << "truncated to " << n;
  }
  auto trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(DecodeImportedIdentity(trailing).error().code, ErrorCode::kMalformedInput);
  EXPECT_FALSE(DecodeImportedIdentity(*HexDecode("0000000003040002"))) << "empty identity";
  EXPECT_FALSE(EncodeImportedIdentity(Identity("", "ctx")));
}

TEST(PskImporterTest, ImportedPskIsBoundToEveryField) {
  const std::vector<std::uint8_t> epsk(32, 0x42);
  auto base = ImportPsk(epsk, Identity("dev-1/e1", "hub-a|dev-1"));
  ASSERT_TRUE(base);
  EXPECT_EQ(base->size(), 48u);
  EXPECT_TRUE(
      ct::Equal(base->Expose(), ImportPsk(epsk, Identity("dev-1/e1", "hub-a|dev-1"))->Expose()));
  EXPECT_FALSE(
      ct::Equal(base->Expose(), ImportPsk(epsk, Identity("dev-1/e2", "hub-a|dev-1"))->Expose()));
  EXPECT_FALSE(
      ct::Equal(base->Expose(), ImportPsk(epsk, Identity("dev-1/e1", "hub-b|dev-1"))->Expose()));
  EXPECT_FALSE(ct::Equal(base->Expose(), ImportPsk(std::vector<std::uint8_t>(32, 0x43),
                                                   Identity("dev-1/e1", "hub-a|dev-1"))
                                             ->Expose()));
  auto other_kdf = Identity("dev-1/e1", "hub-a|dev-1");
  other_kdf.target_kdf = 0x0001;
  EXPECT_EQ(ImportPsk(epsk, other_kdf).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ImportPsk(std::vector<std::uint8_t>(16, 1), Identity("d", "c")).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace skap::crypto
