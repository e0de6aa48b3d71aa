#include "crypto/ctr_drbg.h"

#include <gtest/gtest.h>

#include "common/hex.h"
#include "crypto/drbg_self_test.h"

namespace skap::crypto {
namespace {

std::vector<std::uint8_t> H(std::string_view hex) { return *HexDecode(hex); }

// NIST CAVP DRBGVS, drbgvectors_no_reseed/CTR_DRBG.rsp, [AES-256 use df],
// PredictionResistance = False, no personalization, no additional input,
// ReturnedBitsLen = 512, COUNT = 0: instantiate, generate twice, compare the
// second output.
TEST(CtrDrbgTest, CavpNoReseedAes256UseDf) {
  auto drbg =
      CtrDrbg::CreateFromSeed(H("36401940fa8b1fba91a1661f211d78a0b9389a74e5bccfece8d766af1a6d3b14"),
                              H("496f25b0f1301b4f501be30380a137eb"), {});
  ASSERT_TRUE(drbg) << drbg.error().message;
  std::vector<std::uint8_t> out(64);
  ASSERT_TRUE((*drbg)->Generate(out));
  ASSERT_TRUE((*drbg)->Generate(out));
  EXPECT_EQ(HexEncode(out),
            "5862eb38bd558dd978a696e6df164782ddd887e7e9a6c9f3f1fbafb78941b535"
            "a64912dfd224c6dc7454e5250b3d97165e16260c2faf1cc7735cb75fb4f07e1d");
}

// The self-test the entropy service runs at start (the pr_false vector with
// personalization and an explicit reseed) passes on this OpenSSL.
TEST(CtrDrbgTest, SelfTestPasses) { EXPECT_TRUE(RunCtrDrbgSelfTest()); }

TEST(CtrDrbgTest, ReseedChangesTheStream) {
  const std::vector<std::uint8_t> entropy(32, 1), nonce(16, 2);
  auto a = CtrDrbg::CreateFromSeed(entropy, nonce, {});
  auto b = CtrDrbg::CreateFromSeed(entropy, nonce, {});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE((*b)->Reseed(std::vector<std::uint8_t>(32, 3)));
  std::vector<std::uint8_t> out_a(32), out_b(32);
  ASSERT_TRUE((*a)->Generate(out_a));
  ASSERT_TRUE((*b)->Generate(out_b));
  EXPECT_NE(out_a, out_b);
}

TEST(CtrDrbgTest, RefusesThinReseeds) {
  auto drbg = CtrDrbg::Create({});
  ASSERT_TRUE(drbg);
  EXPECT_EQ((*drbg)->Reseed(std::vector<std::uint8_t>(31, 1)).error().code,
            ErrorCode::kInvalidArgument);
}

TEST(CtrDrbgTest, SystemSeededInstancesDiffer) {
  auto a = CtrDrbg::Create({});
  auto b = CtrDrbg::Create({});
  ASSERT_TRUE(a && b);
  std::vector<std::uint8_t> out_a(32), out_b(32);
  ASSERT_TRUE((*a)->Generate(out_a));
  ASSERT_TRUE((*b)->Generate(out_b));
  EXPECT_NE(out_a, out_b);
}

TEST(CtrDrbgTest, RequestsLargerThanOneCallAreSplit) {
  auto drbg = CtrDrbg::Create({});
  ASSERT_TRUE(drbg);
  std::vector<std::uint8_t> out(3 * CtrDrbg::kMaxRequest + 5, 0);
  ASSERT_TRUE((*drbg)->Generate(out));
  EXPECT_NE(std::vector<std::uint8_t>(out.end() - 32, out.end()), std::vector<std::uint8_t>(32, 0));
}

}  // namespace
}  // namespace skap::crypto
