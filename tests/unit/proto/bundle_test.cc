#include "proto/bundle.h"

#include <gtest/gtest.h>

#include "common/ct.h"
#include "crypto/ctr_drbg.h"

namespace skap::proto {
namespace {

BundleInfo Info() {
  return BundleInfo{"hub-a",    "127.0.0.1:7443",  "t-1",     "acme", "n-1", "plant-1", "d-1",
                    "sensor-1", 1'800'000'000'000, {"hub-a"}, 1};
}

std::string Text(const SecretBytes& s) { return {s.Expose().begin(), s.Expose().end()}; }

TEST(BundleTest, BinaryAndTextRoundTrip) {
  const std::vector<std::uint8_t> key(32, 0x3c);
  auto encoded = EncodeBundle(Info(), key);
  ASSERT_TRUE(encoded);
  auto decoded = DecodeBundle(encoded->Expose());
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->info.hub_address, "127.0.0.1:7443");
  EXPECT_EQ(decoded->info.device_name, "sensor-1");
  EXPECT_EQ(decoded->info.expires_at_ms, 1'800'000'000'000);
  EXPECT_TRUE(ct::Equal(decoded->key.Expose(), key));

  auto text = BundleToText(Info(), key);
  ASSERT_TRUE(text);
  EXPECT_EQ(Text(*text).rfind("SKAPBUNDLE1-", 0), 0u);
  auto from_text = BundleFromText("\n" + Text(*text) + "\n");
  ASSERT_TRUE(from_text);
  EXPECT_TRUE(ct::Equal(from_text->key.Expose(), key));
}

TEST(BundleTest, CarriesTheNetworksHubSetAndThreshold) {
  const std::vector<std::uint8_t> key(32, 0x3c);
  BundleInfo info = Info();
  info.hub_set = {"hub-a", "hub-b", "hub-c"};
  info.threshold = 2;
  auto encoded = EncodeBundle(info, key);
  ASSERT_TRUE(encoded);
  auto decoded = DecodeBundle(encoded->Expose());
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->info.hub_set, info.hub_set);
  EXPECT_EQ(decoded->info.threshold, 2u);
}

TEST(BundleTest, AnyChangedByteIsRefused) {
  const std::vector<std::uint8_t> key(32, 0x3c);
  auto encoded = EncodeBundle(Info(), key);
  ASSERT_TRUE(encoded);
  const auto bytes = encoded->Expose();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::vector<std::uint8_t> bad(bytes.begin(), bytes.end());
    bad[i] ^= 0x04;
    EXPECT_FALSE(DecodeBundle(bad)) << "byte " << i;
  }
  EXPECT_EQ(DecodeBundle(std::vector<std::uint8_t>(10, 0)).error().code,
            ErrorCode::kMalformedInput);
  std::vector<std::uint8_t> tampered(bytes.begin(), bytes.end());
  tampered[20] ^= 0x01;  // inside the metadata: the check value catches it
  EXPECT_EQ(DecodeBundle(tampered).error().code, ErrorCode::kAuthenticationFailed);
  EXPECT_EQ(EncodeBundle(Info(), std::vector<std::uint8_t>(16, 0)).error().code,
            ErrorCode::kInvalidArgument);
}

TEST(BundleTest, SplitIntoPartsAnyThresholdRebuilds) {
  auto rng = crypto::CtrDrbg::Create({});
  ASSERT_TRUE(rng);
  const std::vector<std::uint8_t> key(32, 0x77);
  auto parts = SplitBundle(Info(), key, 3, 5, **rng);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 5u);
  std::vector<std::string> texts;
  for (const auto& p : *parts) texts.push_back(Text(p));
  for (auto pick : {std::vector<int>{0, 1, 2}, {4, 2, 0}, {1, 3, 4}, {0, 1, 2, 3, 4}}) {
    std::vector<std::string> chosen;
    for (int i : pick) chosen.push_back(texts[static_cast<std::size_t>(i)]);
    auto bundle = CombineBundleParts(chosen);
    ASSERT_TRUE(bundle) << bundle.error().message;
    EXPECT_TRUE(ct::Equal(bundle->key.Expose(), key));
    EXPECT_EQ(bundle->info.device_id, "d-1");
  }
  auto two = CombineBundleParts(std::vector<std::string>{texts[0], texts[3]});
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().message, "need 3 shares, got 2");
}

}  // namespace
}  // namespace skap::proto
