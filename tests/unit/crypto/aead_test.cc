#include "crypto/aead.h"

#include <set>

#include <gtest/gtest.h>

#include "common/hex.h"
#include "unit/crypto/test_rng.h"

namespace skap::crypto {
namespace {

const std::vector<std::uint8_t> kKey(32, 0x11);
const CounterNonceAead::FixedField kSender = {0xa1, 0xa2, 0xa3, 0xa4};

TEST(CounterNonceAeadTest, SealsAndOpens) {
  auto aead = CounterNonceAead::Create(kKey, kSender);
  ASSERT_TRUE(aead);
  const auto aad = AsBytes("header");
  const auto msg = AsBytes("attack at dawn");
  auto sealed = aead->Seal(aad, msg);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), msg.size() + kAeadOverhead);
  auto opened = aead->Open(aad, *sealed);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), opened->Expose().begin(), opened->Expose().end()));
}

TEST(CounterNonceAeadTest, NoncesAreFixedFieldThenCounter) {
  auto aead = CounterNonceAead::Create(kKey, kSender, 41);
  ASSERT_TRUE(aead);
  auto first = aead->Seal({}, AsBytes("x"));
  auto second = aead->Seal({}, AsBytes("x"));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(HexEncode(std::span(*first).first(12)), "a1a2a3a40000000000000029");
  EXPECT_EQ(HexEncode(std::span(*second).first(12)), "a1a2a3a4000000000000002a");
  EXPECT_EQ(aead->next_counter(), 43u);
  EXPECT_NE(*first, *second);
}

TEST(CounterNonceAeadTest, RefusesOnceTheCounterIsSpent) {
  auto aead = CounterNonceAead::Create(kKey, kSender, UINT64_MAX - 1);
  ASSERT_TRUE(aead);
  EXPECT_TRUE(aead->Seal({}, AsBytes("last")));
  auto spent = aead->Seal({}, AsBytes("one more"));
  ASSERT_FALSE(spent);
  EXPECT_EQ(spent.error().code, ErrorCode::kLimitExceeded);
  EXPECT_FALSE(aead->Seal({}, AsBytes("and again")));
}

TEST(CounterNonceAeadTest, TamperingIsDetected) {
  auto aead = CounterNonceAead::Create(kKey, kSender);
  ASSERT_TRUE(aead);
  auto sealed = aead->Seal(AsBytes("aad"), AsBytes("message"));
  ASSERT_TRUE(sealed);
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    auto bad = *sealed;
    bad[i] ^= 0x80;
    auto opened = aead->Open(AsBytes("aad"), bad);
    ASSERT_FALSE(opened) << "byte " << i;
    EXPECT_EQ(opened.error().code, ErrorCode::kAuthenticationFailed);
  }
  EXPECT_FALSE(aead->Open(AsBytes("other aad"), *sealed));
  EXPECT_FALSE(aead->Open(AsBytes("aad"), std::span(*sealed).first(sealed->size() - 1)));
  EXPECT_FALSE(aead->Open(AsBytes("aad"), std::span(*sealed).first(5)));
  auto other_key = CounterNonceAead::Create(std::vector<std::uint8_t>(32, 0x12), kSender);
  EXPECT_EQ(other_key->Open(AsBytes("aad"), *sealed).error().code,
            ErrorCode::kAuthenticationFailed);
}

TEST(CounterNonceAeadTest, RejectsBadKeys) {
  EXPECT_EQ(CounterNonceAead::Create(std::vector<std::uint8_t>(16, 1), kSender).error().code,
            ErrorCode::kInvalidArgument);
}

TEST(RandomNonceAeadTest, EnforcesTheSealBudget) {
  auto rng = testing::SeededRng("random nonce budget");
  auto aead = RandomNonceAead::Create(kKey, *rng, 3);
  ASSERT_TRUE(aead);
  std::set<std::vector<std::uint8_t>> nonces;
  for (int i = 0; i < 3; ++i) {
    auto sealed = aead->Seal({}, AsBytes("m"));
    ASSERT_TRUE(sealed);
    nonces.insert(std::vector<std::uint8_t>(sealed->begin(), sealed->begin() + 12));
    EXPECT_TRUE(aead->Open({}, *sealed));
  }
  EXPECT_EQ(nonces.size(), 3u);
  EXPECT_EQ(aead->seals_left(), 0u);
  auto over = aead->Seal({}, AsBytes("m"));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kLimitExceeded);
}

TEST(RandomNonceAeadTest, BudgetCannotBeRaisedPastTheCap) {
  auto rng = testing::SeededRng("cap");
  EXPECT_EQ(RandomNonceAead::Create(kKey, *rng, RandomNonceAead::kMaxSeals + 1).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(RandomNonceAead::Create(kKey, *rng, 0).error().code, ErrorCode::kInvalidArgument);
  auto capped = RandomNonceAead::Create(kKey, *rng);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->seals_left(), std::uint64_t{1} << 24);
  static_assert(RandomNonceAead::kMaxSeals <= (std::uint64_t{1} << 32) / 256,
                "the cap stays well below SP 800-38D's 2^32");
}

TEST(RandomNonceAeadTest, InteroperatesWithCounterFormat) {
  auto rng = testing::SeededRng("interop");
  auto random = RandomNonceAead::Create(kKey, *rng);
  auto counter = CounterNonceAead::Create(kKey, kSender);
  ASSERT_TRUE(random && counter);
  auto sealed = random->Seal(AsBytes("a"), AsBytes("same key, same format"));
  ASSERT_TRUE(sealed);
  EXPECT_TRUE(counter->Open(AsBytes("a"), *sealed));
}

}  // namespace
}  // namespace skap::crypto
