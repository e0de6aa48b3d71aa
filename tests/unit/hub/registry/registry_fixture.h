// A registry on a fresh SQLite hub database, with one tenant's operators in
// every role and a second tenant to check isolation against.
#pragma once

#include <gtest/gtest.h>

#include "crypto/ctr_drbg.h"
#include "hub/registry/registry.h"
#include "keystore/file_keystore.h"
#include "unit/hub/test_hub_db.h"

namespace skap::hub {

using std::chrono::hours;
using std::chrono::minutes;

// kHubA is the hub under test; kHubB and kHubC stand for its network's other hubs.
inline const std::string kHubA = "1a0c6f0e-9a41-4d6b-8f57-3b0d2c4e5a61";
inline const std::string kHubB = "2b1d7a1f-0b52-4e7c-9a68-4c1e3d5f6b72";
inline const std::string kHubC = "3c2e8b2a-1c63-4f8d-8b79-5d2f4e6a7c83";

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_ = std::move(*crypto::CtrDrbg::Create({}));
    keystore_ = std::move(*keystore::FileKeystore::Create(dir_.File("kek"), *rng_));
    db_ = OpenTestHubDb(dir_, *keystore_);
    ASSERT_TRUE(db_);
    audit_ = std::make_unique<AuditLog>(*db_, SecretBytes::Copy(std::vector<std::uint8_t>(48, 7)),
                                        SystemClock());
    registry_ = std::make_unique<Registry>(*db_, *keystore_, *rng_, *audit_, kHubA,
                                           [this] { return now_ms_; });
    const Principal hub = Principal::Hub();
    tenant_ = *registry_->tenants().Create(hub, "acme");
    other_tenant_ = *registry_->tenants().Create(hub, "globex");
    admin_ = Operator(tenant_, "alice", Role::kTenantAdmin);
    provisioner_ = Operator(tenant_, "pat", Role::kProvisioner);
    admitter_ = Operator(tenant_, "adam", Role::kAdmitter);
    auditor_ = Operator(tenant_, "audrey", Role::kAuditor);
    other_admin_ = Operator(other_tenant_, "olga", Role::kTenantAdmin);
    other_admitter_ = Operator(other_tenant_, "oscar", Role::kAdmitter);
    ASSERT_TRUE(registry_->networks().Create(admin_, "plant-1"));
    ASSERT_TRUE(registry_->networks().Create(admin_, "plant-2"));
    ASSERT_TRUE(registry_->networks().Create(other_admin_, "plant-1"));
  }

  Principal Operator(const std::string& tenant, const std::string& name, Role role) {
    auto token = registry_->operators().Add(Principal::Hub(), tenant, name, role);
    EXPECT_TRUE(token) << token.error().message;
    const auto t = token->token.Expose();
    auto principal = registry_->operators().Authenticate(std::string(t.begin(), t.end()));
    EXPECT_TRUE(principal);
    return *principal;
  }

  BootstrapGrant Provision(const std::string& name, const std::string& network = "plant-1",
                           bool can_provision = false,
                           const std::optional<std::string>& id = std::nullopt) {
    auto grant =
        registry_->devices().Provision(provisioner_, network, name, hours(24), can_provision, id);
    EXPECT_TRUE(grant) << grant.error().message;
    return std::move(*grant);
  }

  // Enrol plays the device: pre-flight with a fresh nonce, then admission.
  std::vector<std::uint8_t> Enrol(const BootstrapGrant& grant) {
    std::vector<std::uint8_t> nonce(32);
    EXPECT_TRUE(rng_->Fill(nonce));
    EXPECT_TRUE(
        registry_->devices().RecordPreflight(grant.device.id, R"({"agent":"test"})", nonce));
    EXPECT_TRUE(registry_->devices().Admit(admitter_, grant.device.id));
    return nonce;
  }

  std::int64_t AuditCount() { return audit_->Verify()->entries; }

  testing::TempDir dir_;
  std::unique_ptr<store::SqliteDatabase> db_;
  std::unique_ptr<crypto::CtrDrbg> rng_;
  std::unique_ptr<keystore::FileKeystore> keystore_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Registry> registry_;
  std::int64_t now_ms_ = 1'700'000'000'000;
  std::string tenant_, other_tenant_;
  Principal admin_, provisioner_, admitter_, auditor_, other_admin_, other_admitter_;
};

}  // namespace skap::hub
