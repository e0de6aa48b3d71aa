#include "entropy/monitored_source.h"

#include <gtest/gtest.h>

#include "unit/entropy/test_sources.h"

namespace skap::entropy {
namespace {

TEST(MonitoredSourceTest, StuckSourceFailsStartUpAtExactlyTheCutoff) {
  auto monitored = MonitoredSource::Create(std::make_unique<testing::StuckSource>(0x42, 6.0));
  ASSERT_TRUE(monitored);
  const unsigned cutoff = monitored->status().rct_cutoff;
  ASSERT_EQ(cutoff, 5u);
  auto started = monitored->StartUp();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kEntropyUnavailable);
  EXPECT_EQ(monitored->state(), SourceState::kFailed);
  EXPECT_EQ(monitored->status().rct_failures, 1u);
  EXPECT_EQ(monitored->status().samples_tested, cutoff)
      << "must trip on the C-th repeat, not later";
  std::uint8_t out[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_FALSE(monitored->Read(out));
}

TEST(MonitoredSourceTest, BiasedSourceIsCaughtByTheProportionTest) {
  auto monitored = MonitoredSource::Create(std::make_unique<testing::BiasedSource>(6.0));
  ASSERT_TRUE(monitored);
  // The bias may or may not show in the two start-up windows; continuous
  // testing must catch it within a few windows either way.
  bool failed = !monitored->StartUp();
  std::vector<std::uint8_t> buffer(kAptWindow);
  for (int window = 0; window < 64 && !failed; ++window) {
    failed = !monitored->Read(buffer);
    if (failed) {
      EXPECT_EQ(buffer, std::vector<std::uint8_t>(kAptWindow, 0))
          << "failed reads hand out nothing";
    }
  }
  ASSERT_TRUE(failed);
  EXPECT_EQ(monitored->state(), SourceState::kFailed);
  EXPECT_EQ(monitored->status().apt_failures, 1u);
  EXPECT_EQ(monitored->status().rct_failures, 0u);
}

TEST(MonitoredSourceTest, GoodSourcePassesAndKeepsPassing) {
  auto monitored = MonitoredSource::Create(std::make_unique<testing::GoodSource>("good", 6.0));
  ASSERT_TRUE(monitored);
  ASSERT_TRUE(monitored->StartUp());
  EXPECT_EQ(monitored->state(), SourceState::kHealthy);
  std::vector<std::uint8_t> buffer(4096);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(monitored->Read(buffer)) << i;
  EXPECT_EQ(monitored->status().samples_tested, kStartupSamples + 64u * 4096u);
  EXPECT_EQ(monitored->status().rct_failures + monitored->status().apt_failures, 0u);
}

TEST(MonitoredSourceTest, SourceThatBreaksInServiceIsTakenOutAndCanComeBack) {
  auto owned = std::make_unique<testing::GoodSource>("flaky", 6.0);
  testing::GoodSource* source = owned.get();
  auto monitored = MonitoredSource::Create(std::move(owned));
  ASSERT_TRUE(monitored && monitored->StartUp());
  source->Stick(0x00);
  std::uint8_t out[64];
  ASSERT_FALSE(monitored->Read(out));
  EXPECT_EQ(monitored->state(), SourceState::kFailed);
  EXPECT_NE(monitored->status().last_failure.find("repetition count"), std::string::npos);
  EXPECT_FALSE(monitored->StartUp()) << "still stuck: must stay out";
  source->Unstick();
  EXPECT_TRUE(monitored->StartUp());
  EXPECT_EQ(monitored->status().startup_tests, 3u);
}

TEST(MonitoredSourceTest, MissingSourceIsUnavailable) {
  auto monitored = MonitoredSource::Create(std::make_unique<testing::MissingSource>());
  ASSERT_TRUE(monitored);
  EXPECT_EQ(monitored->StartUp().error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(monitored->state(), SourceState::kUnavailable);
}

TEST(MonitoredSourceTest, SamplesForCreditsDeclaredEntropy) {
  auto monitored = MonitoredSource::Create(std::make_unique<testing::GoodSource>("g", 6.0));
  ASSERT_TRUE(monitored);
  EXPECT_EQ(monitored->SamplesFor(256), 43u);  // ceil(256 / 6)
}

}  // namespace
}  // namespace skap::entropy
