// A network's agreement settings: hub set, threshold, pair policy, device
// ids shared across hubs, and who sees which peers.
#include <gtest/gtest.h>

#include "unit/hub/registry/registry_fixture.h"

namespace skap::hub {
namespace {

TEST_F(RegistryTest, ANetworkStartsWithThisHubAloneAndAnyPair) {
  auto network = registry_->networks().Get(admin_, "plant-1");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->hub_set, std::vector<std::string>{kHubA});
  EXPECT_EQ(network->threshold, 1u);
  EXPECT_EQ(network->pair_policy, PairPolicy::kAny);
  EXPECT_EQ(Provision("sensor-1").network.hub_set, std::vector<std::string>{kHubA});
}

TEST_F(RegistryTest, TheTenantAdminSetsHubsAndThresholdAndBundlesCarryThem) {
  auto set = registry_->networks().SetHubs(admin_, "plant-1", {kHubC, kHubA, kHubB}, 2);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->hub_set, (std::vector<std::string>{kHubA, kHubB, kHubC}));
  EXPECT_EQ(set->threshold, 2u);
  const BootstrapGrant grant = Provision("sensor-1");
  EXPECT_EQ(grant.network.hub_set, set->hub_set);
  EXPECT_EQ(grant.network.threshold, 2u);
  auto entries = audit_->List({.action = "network.set-hubs"});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].record.actor, "alice@acme");
}

TEST_F(RegistryTest, BadHubSetsAreRefusedAuditedAndChangeNothing) {
  const std::string not_a_uuid = "hub-b";
  struct Case {
    std::vector<std::string> hubs;
    unsigned k;
    const char* why;
  };
  const std::vector<Case> cases = {
      {{kHubB, kHubC}, 1, "must include this hub"},
      {{kHubA, kHubB}, 3, "threshold"},
      {{kHubA, kHubB}, 0, "threshold"},
      {{kHubA, kHubA}, 1, "named twice"},
      {{kHubA, not_a_uuid}, 1, "not a hub id"},
      {{}, 1, "1 to 16 hubs"},
  };
  for (const auto& c : cases) {
    const auto before = AuditCount();
    auto refused = registry_->networks().SetHubs(admin_, "plant-1", c.hubs, c.k);
    ASSERT_FALSE(refused) << c.why;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.error().message.find(c.why), std::string::npos) << refused.error().message;
    EXPECT_EQ(AuditCount(), before + 1) << "refusal audited";
  }
  EXPECT_EQ(registry_->networks().Get(admin_, "plant-1")->hub_set, std::vector<std::string>{kHubA});
  EXPECT_EQ(registry_->networks().SetHubs(provisioner_, "plant-1", {kHubA}, 1).error().code,
            ErrorCode::kPermissionDenied);
  // Another tenant's admin does not even find the network.
  EXPECT_EQ(registry_->networks().SetHubs(other_admin_, "plant-2", {kHubA}, 1).error().code,
            ErrorCode::kNotFound);
}

TEST_F(RegistryTest, ADeviceKeepsItsIdAcrossTheHubsOfItsNetwork) {
  const std::string id = "4d3f9c3b-2d74-4a9e-9c8a-6e3a5f7b8d94";
  EXPECT_EQ(Provision("sensor-1", "plant-1", false, id).device.id, id);
  auto taken =
      registry_->devices().Provision(provisioner_, "plant-1", "sensor-2", hours(24), false, id);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kFailedPrecondition);
  auto bad = registry_->devices().Provision(provisioner_, "plant-1", "sensor-3", hours(24), false,
                                            std::string("4D3F9C3B-2D74-4A9E-9C8A-6E3A5F7B8D95"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(RegistryTest, PeersAreTheOtherActiveDevicesOfTheSameNetwork) {
  const BootstrapGrant a = Provision("a");
  const BootstrapGrant b = Provision("b");
  const BootstrapGrant pending = Provision("c");
  const BootstrapGrant elsewhere = Provision("d", "plant-2");
  Enrol(a);
  Enrol(b);
  Enrol(elsewhere);
  auto peers = registry_->devices().PeersOf(a.device.id);
  ASSERT_TRUE(peers);
  ASSERT_EQ(peers->size(), 1u);
  EXPECT_EQ((*peers)[0].id, b.device.id);
  ASSERT_TRUE(registry_->devices().Revoke(admitter_, b.device.id));
  EXPECT_TRUE(registry_->devices().PeersOf(a.device.id)->empty());
  (void)pending;
}

TEST_F(RegistryTest, AnAllowListLetsOnlyTheListedPairsAgree) {
  const BootstrapGrant a = Provision("a");
  const BootstrapGrant b = Provision("b");
  const BootstrapGrant elsewhere = Provision("d", "plant-2");
  auto network = registry_->networks().SetPairPolicy(admin_, "plant-1", PairPolicy::kAllowList);
  ASSERT_TRUE(network);
  EXPECT_FALSE(*registry_->devices().PairAllowed(*network, a.device.id, b.device.id));
  ASSERT_TRUE(registry_->devices().AllowPair(admin_, "plant-1", b.device.id, a.device.id, true));
  EXPECT_TRUE(*registry_->devices().PairAllowed(*network, a.device.id, b.device.id));
  EXPECT_TRUE(registry_->devices().AllowPair(admin_, "plant-1", a.device.id, b.device.id, true))
      << "allowing twice is fine";
  EXPECT_EQ(registry_->devices()
                .AllowPair(admin_, "plant-1", a.device.id, elsewhere.device.id, true)
                .error()
                .code,
            ErrorCode::kNotFound);
  EXPECT_EQ(registry_->devices()
                .AllowPair(admitter_, "plant-1", a.device.id, b.device.id, false)
                .error()
                .code,
            ErrorCode::kPermissionDenied);
  ASSERT_TRUE(registry_->devices().AllowPair(admin_, "plant-1", a.device.id, b.device.id, false));
  EXPECT_FALSE(*registry_->devices().PairAllowed(*network, a.device.id, b.device.id));
}

}  // namespace
}  // namespace skap::hub
