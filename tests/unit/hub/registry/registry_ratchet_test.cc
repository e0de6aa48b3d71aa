// The hub's side of the channel key ratchet: the derivation both sides
// share, the previous key kept until the new one is proven, an unproven
// epoch replaced when its answer was lost, and refusals that change nothing.
#include <gtest/gtest.h>

#include "common/ct.h"
#include "crypto/channel_key.h"
#include "unit/hub/registry/registry_fixture.h"

namespace skap::hub {
namespace {

class RatchetTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    grant_ = Provision("sensor-1");
    const auto device_nonce = Enrol(grant_);
    const auto hub_nonce = *registry_->devices().HubNonceFor(id());
    key_ = std::move(*crypto::NextChannelKey(grant_.bootstrap_key.Expose(), 1, hub_nonce,
                                             device_nonce, kHubA, id()));
    ASSERT_TRUE(registry_->channel_keys().ConfirmEpoch(id(), 1));
  }

  const std::string& id() const { return grant_.device.id; }

  // DeviceSide derives what the device would from `from` and the step.
  SecretBytes DeviceSide(const SecretBytes& from, const RatchetStep& step,
                         std::span<const std::uint8_t> device_nonce) {
    return std::move(*crypto::NextChannelKey(from.Expose(), static_cast<std::uint64_t>(step.epoch),
                                             step.hub_nonce, device_nonce, kHubA, id()));
  }

  bool HubHolds(std::int64_t epoch, const SecretBytes& key) {
    auto held = registry_->channel_keys().KeyFor(id(), epoch);
    return held && ct::Equal(held->key.Expose(), key.Expose());
  }

  BootstrapGrant grant_;
  SecretBytes key_;  // the device's key of epoch 1
  std::vector<std::uint8_t> nonce_a_ = std::vector<std::uint8_t>(32, 0xa1);
  std::vector<std::uint8_t> nonce_b_ = std::vector<std::uint8_t>(32, 0xb2);
};

TEST_F(RatchetTest, BothSidesDeriveTheSameKeyAndTheOldOneGoesOnlyWhenTheNewIsProven) {
  now_ms_ += 5000;
  auto step = registry_->devices().Ratchet(id(), 1, nonce_a_);
  ASSERT_TRUE(step) << step.error().message;
  EXPECT_EQ(step->epoch, 2);
  EXPECT_FALSE(step->replaced_unproven);
  EXPECT_EQ(step->hub_nonce.size(), 32u);
  SecretBytes epoch2 = DeviceSide(key_, *step, nonce_a_);
  EXPECT_TRUE(HubHolds(2, epoch2));
  EXPECT_TRUE(HubHolds(1, key_)) << "epoch 1 must stay until epoch 2 is proven";
  EXPECT_EQ(registry_->channel_keys().ScheduleFor(id())->started_at_ms, now_ms_);

  ASSERT_TRUE(
      registry_->channel_keys().ConfirmEpoch(id(), 1));  // proving the old epoch changes nothing
  EXPECT_TRUE(HubHolds(1, key_));
  ASSERT_TRUE(registry_->channel_keys().ConfirmEpoch(id(), 2));
  EXPECT_FALSE(registry_->channel_keys().KeyFor(id(), 1));
  EXPECT_TRUE(HubHolds(2, epoch2));
}

TEST_F(RatchetTest, ALostAnswerIsRepairedByAskingAgainOnTheOldEpoch) {
  auto lost = registry_->devices().Ratchet(id(), 1, nonce_a_);
  ASSERT_TRUE(lost);
  // The device never saw `lost`; it asks again with the key it holds.
  auto again = registry_->devices().Ratchet(id(), 1, nonce_b_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->epoch, 2);
  EXPECT_TRUE(again->replaced_unproven);
  EXPECT_FALSE(HubHolds(2, DeviceSide(key_, *lost, nonce_a_))) << "the lost epoch is forgotten";
  EXPECT_TRUE(HubHolds(2, DeviceSide(key_, *again, nonce_b_)));
  EXPECT_TRUE(HubHolds(1, key_));
}

TEST_F(RatchetTest, StaleEpochsAndBadInputAreRefusedAuditedAndChangeNothing) {
  auto step = registry_->devices().Ratchet(id(), 1, nonce_a_);
  ASSERT_TRUE(step);
  SecretBytes epoch2 = DeviceSide(key_, *step, nonce_a_);
  ASSERT_TRUE(registry_->channel_keys().ConfirmEpoch(id(), 2));
  const auto entries = AuditCount();

  EXPECT_EQ(registry_->devices().Ratchet(id(), 1, nonce_b_).error().code,
            ErrorCode::kFailedPrecondition)
      << "epoch 1 is gone: asking on it is refused";
  EXPECT_EQ(registry_->devices().Ratchet(id(), 3, nonce_b_).error().code,
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(registry_->devices().Ratchet(id(), 2, std::vector<std::uint8_t>(31)).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(registry_->devices().Ratchet("no-such-device", 2, nonce_b_).error().code,
            ErrorCode::kNotFound);
  EXPECT_TRUE(HubHolds(2, epoch2));
  EXPECT_EQ(registry_->channel_keys().ScheduleFor(id())->epoch, 2);
  EXPECT_EQ(AuditCount(), entries + 4);

  ASSERT_TRUE(registry_->devices().Revoke(admin_, id()));
  EXPECT_EQ(registry_->devices().Ratchet(id(), 2, nonce_b_).error().code,
            ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(registry_->channel_keys().KeyFor(id(), 2));
}

TEST_F(RatchetTest, OperatorsAskForARatchetWithinTheirRoleAndTenant) {
  std::vector<std::string> told;
  registry_->devices().OnRatchetRequested(
      [&](const std::string& device) { told.push_back(device); });
  EXPECT_EQ(registry_->devices().RequestRatchet(provisioner_, id()).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(registry_->devices().RequestRatchet(other_admin_, id()).error().code,
            ErrorCode::kNotFound);
  EXPECT_FALSE(registry_->channel_keys().ScheduleFor(id())->operator_requested);
  EXPECT_TRUE(told.empty());

  ASSERT_TRUE(registry_->devices().RequestRatchet(admitter_, id()));
  EXPECT_TRUE(registry_->channel_keys().ScheduleFor(id())->operator_requested);
  EXPECT_EQ(told, std::vector<std::string>{id()});
  ASSERT_TRUE(registry_->devices().Ratchet(id(), 1, nonce_a_));
  EXPECT_FALSE(registry_->channel_keys().ScheduleFor(id())->operator_requested)
      << "the ratchet answers it";

  BootstrapGrant pending = Provision("sensor-2");
  EXPECT_EQ(registry_->devices().RequestRatchet(admin_, pending.device.id).error().code,
            ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace skap::hub
