#include "entropy/entropy_service.h"

#include <gtest/gtest.h>

#include "entropy/os_source.h"
#include "unit/entropy/test_sources.h"

namespace skap::entropy {
namespace {

using std::chrono::seconds;

// FakeClock is an injected steady clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  std::function<std::chrono::steady_clock::time_point()> Function() {
    return [this] { return now; };
  }
};

std::vector<std::unique_ptr<EntropySource>> Sources(std::unique_ptr<EntropySource> a,
                                                    std::unique_ptr<EntropySource> b = nullptr) {
  std::vector<std::unique_ptr<EntropySource>> out;
  out.push_back(std::move(a));
  if (b) out.push_back(std::move(b));
  return out;
}

TEST(EntropyServiceTest, ServesFromTheOperatingSystem) {
  auto service = EntropyService::Create(EntropyService::DefaultSources());
  ASSERT_TRUE(service) << service.error().message;
  std::vector<std::uint8_t> a(64), b(64);
  ASSERT_TRUE((*service)->Generate(a));
  ASSERT_TRUE((*service)->Generate(b, PredictionResistance::kYes));
  EXPECT_NE(a, b);
  const auto status = (*service)->Status();
  EXPECT_TRUE(status.operational);
  ASSERT_EQ(status.sources.size(), 2u);
  EXPECT_EQ(status.sources[0].name, "os-getrandom");
  EXPECT_EQ(status.sources[0].state, SourceState::kHealthy);
  EXPECT_EQ(status.reseeds, 2u);  // the initial seed, then prediction resistance
  EXPECT_EQ(status.bytes_generated, 128u);
  const std::string report = FormatStatus(status);
  EXPECT_NE(report.find("OPERATIONAL"), std::string::npos);
  EXPECT_NE(report.find("os-getrandom"), std::string::npos);
}

TEST(EntropyServiceTest, RefusesToStartWithoutAHealthySource) {
  auto service = EntropyService::Create(Sources(std::make_unique<testing::StuckSource>(0),
                                                std::make_unique<testing::MissingSource>()));
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().code, ErrorCode::kEntropyUnavailable);
}

TEST(EntropyServiceTest, OneBadSourceIsReportedAndTheOtherCarriesOn) {
  auto service = EntropyService::Create(Sources(std::make_unique<testing::StuckSource>(0x99),
                                                std::make_unique<testing::GoodSource>()));
  ASSERT_TRUE(service);
  std::vector<std::uint8_t> out(32);
  EXPECT_TRUE((*service)->Generate(out, PredictionResistance::kYes));
  const auto status = (*service)->Status();
  EXPECT_TRUE(status.operational);
  EXPECT_EQ(status.sources[0].state, SourceState::kFailed);
  EXPECT_EQ(status.sources[0].rct_failures, 1u);
  EXPECT_EQ(status.sources[1].state, SourceState::kHealthy);
}

TEST(EntropyServiceTest, FailsClosedWhenTheLastSourceBreaksAndRecovers) {
  FakeClock clock;
  EntropyServiceOptions options;
  options.max_requests_between_reseeds = 4;
  options.retest_failed_after = seconds(30);
  options.now = clock.Function();
  auto owned = std::make_unique<testing::GoodSource>();
  testing::GoodSource* source = owned.get();
  auto service = EntropyService::Create(Sources(std::move(owned)), options);
  ASSERT_TRUE(service);

  std::vector<std::uint8_t> out(32);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE((*service)->Generate(out));
  source->Stick(0x00);
  std::fill(out.begin(), out.end(), 0xee);
  auto refused = (*service)->Generate(out);  // fifth request: a reseed is due
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kEntropyUnavailable);
  EXPECT_EQ(out, std::vector<std::uint8_t>(32, 0xee)) << "no output when failed closed";
  auto status = (*service)->Status();
  EXPECT_FALSE(status.operational);
  EXPECT_EQ(status.sources[0].state, SourceState::kFailed);
  EXPECT_NE(FormatStatus(status).find("FAILED CLOSED"), std::string::npos);

  // Repaired, but not retested before the back-off: still closed.
  source->Unstick();
  clock.now += seconds(10);
  EXPECT_FALSE((*service)->Generate(out));
  clock.now += seconds(30);
  EXPECT_TRUE((*service)->Generate(out));
  EXPECT_TRUE((*service)->Status().operational);
}

TEST(EntropyServiceTest, HubEntropyIsMixedInButNeverStandsInForTheSources) {
  auto owned = std::make_unique<testing::GoodSource>();
  testing::GoodSource* source = owned.get();
  auto service = EntropyService::Create(Sources(std::move(owned)));
  ASSERT_TRUE(service);
  const std::vector<std::uint8_t> hub_bytes(32, 0x5c);
  ASSERT_TRUE((*service)->MixIn(hub_bytes));
  EXPECT_EQ((*service)->Status().reseeds, 2u) << "mixing in is a reseed from the sources";
  std::vector<std::uint8_t> out(32);
  ASSERT_TRUE((*service)->Generate(out));
  // With its only source broken, hub bytes cannot keep the service going.
  source->Stick(0x00);
  auto refused = (*service)->MixIn(hub_bytes);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kEntropyUnavailable);
  EXPECT_FALSE((*service)->Generate(out, PredictionResistance::kYes));
}

TEST(EntropyServiceTest, ReseedsOnCountTimeAndDemand) {
  FakeClock clock;
  EntropyServiceOptions options;
  options.max_requests_between_reseeds = 3;
  options.max_time_between_reseeds = seconds(60);
  options.now = clock.Function();
  auto owned = std::make_unique<testing::GoodSource>();
  testing::GoodSource* source = owned.get();
  auto service = EntropyService::Create(Sources(std::move(owned)), options);
  ASSERT_TRUE(service);
  EXPECT_EQ((*service)->Status().reseeds, 1u);
  std::vector<std::uint8_t> out(16);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*service)->Generate(out));
  EXPECT_EQ((*service)->Status().reseeds, 1u);
  ASSERT_TRUE((*service)->Generate(out));  // the 4th request reseeds first
  EXPECT_EQ((*service)->Status().reseeds, 2u);
  clock.now += seconds(61);
  ASSERT_TRUE((*service)->Generate(out));
  EXPECT_EQ((*service)->Status().reseeds, 3u);
  const auto read_before = source->bytes_read();
  ASSERT_TRUE((*service)->Reseed());
  EXPECT_EQ((*service)->Status().reseeds, 4u);
  EXPECT_EQ(source->bytes_read() - read_before, 43u) << "256 bits at 6 bits per sample";
}

TEST(EntropyServiceTest, LargeRequestsSpanSeveralDrbgCalls) {
  auto service = EntropyService::Create(Sources(std::make_unique<OsSource>()));
  ASSERT_TRUE(service);
  std::vector<std::uint8_t> out(200000, 0);
  ASSERT_TRUE((*service)->Generate(out));
  // 200000 zero bytes surviving would be a 2^-1600000 event.
  EXPECT_NE(std::count(out.begin(), out.end(), 0), static_cast<long>(out.size()));
  EXPECT_NE(std::vector<std::uint8_t>(out.end() - 64, out.end()), std::vector<std::uint8_t>(64, 0));
}

}  // namespace
}  // namespace skap::entropy
