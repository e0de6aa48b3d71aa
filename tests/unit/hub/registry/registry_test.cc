#include "hub/registry/registry.h"

#include <algorithm>
#include <limits>

#include <gtest/gtest.h>

#include "common/ct.h"
#include "crypto/channel_key.h"
#include "crypto/hash.h"
#include "proto/admin_identity.h"
#include "unit/hub/registry/registry_fixture.h"

namespace skap::hub {
namespace {

TEST_F(RegistryTest, DeviceLifecycleFromBundleToRevocation) {
  BootstrapGrant grant = Provision("sensor-1");
  EXPECT_EQ(grant.device.state, DeviceState::kProvisioned);
  EXPECT_EQ(grant.device.provisioned_by, "pat@acme");
  EXPECT_EQ(grant.bootstrap_key.size(), 32u);
  EXPECT_EQ(grant.hub_id, kHubA);
  EXPECT_EQ(grant.tenant_name, "acme");

  auto epoch0 = registry_->channel_keys().KeyFor(grant.device.id, 0);
  ASSERT_TRUE(epoch0);
  EXPECT_TRUE(ct::Equal(epoch0->key.Expose(), grant.bootstrap_key.Expose()));

  std::vector<std::uint8_t> device_nonce = Enrol(grant);
  auto admitted = registry_->devices().Get(admin_, grant.device.id);
  ASSERT_TRUE(admitted);
  EXPECT_EQ(admitted->state, DeviceState::kActive);
  EXPECT_EQ(admitted->admitted_by, "adam@acme");

  // The device derives epoch 1 from its bootstrap key and the hub's nonce
  // and gets the same key the hub stored.
  auto hub_nonce = registry_->devices().HubNonceFor(grant.device.id);
  ASSERT_TRUE(hub_nonce);
  auto device_side = crypto::NextChannelKey(grant.bootstrap_key.Expose(), 1, *hub_nonce,
                                            device_nonce, kHubA, grant.device.id);
  auto epoch1 = registry_->channel_keys().KeyFor(grant.device.id, 1);
  ASSERT_TRUE(device_side && epoch1);
  EXPECT_TRUE(ct::Equal(device_side->Expose(), epoch1->key.Expose()));

  // The bootstrap key stays until epoch 1 is proven, then it is gone.
  EXPECT_TRUE(registry_->channel_keys().KeyFor(grant.device.id, 0));
  ASSERT_TRUE(registry_->channel_keys().ConfirmEpoch(grant.device.id, 1));
  EXPECT_EQ(registry_->channel_keys().KeyFor(grant.device.id, 0).error().code,
            ErrorCode::kAuthenticationFailed);

  std::vector<std::string> closed;
  registry_->devices().OnRevoked([&](const std::string& id) { closed.push_back(id); });
  auto revoked = registry_->devices().Revoke(admin_, grant.device.id);
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->state, DeviceState::kRevoked);
  EXPECT_EQ(closed, std::vector<std::string>{grant.device.id});
  EXPECT_FALSE(registry_->channel_keys().KeyFor(grant.device.id, 1));
  EXPECT_TRUE(
      db_->Query("SELECT * FROM channel_keys WHERE device_id = $1", {grant.device.id})->empty());
  EXPECT_EQ(registry_->devices().Revoke(admin_, grant.device.id).error().code,
            ErrorCode::kFailedPrecondition);

  auto verification = audit_->Verify();
  ASSERT_TRUE(verification);
  EXPECT_TRUE(verification->intact);
  auto story = audit_->List({.target = grant.device.id});
  ASSERT_TRUE(story);
  std::vector<std::string> actions;
  for (const auto& e : *story) actions.push_back(e.record.action + "/" + e.record.outcome);
  EXPECT_EQ(actions, (std::vector<std::string>{"device.provision/ok", "device.preflight/ok",
                                               "device.admit/ok", "device.revoke/ok",
                                               "device.revoke/refused:failed-precondition"}));
}

TEST_F(RegistryTest, ABatchProvisionsEachDeviceAloneInOneTransaction) {
  Provision("taken");
  const std::int64_t entries = AuditCount();
  const std::vector<Devices::NewDevice> batch{
      {"gw-1", true}, {"taken", false}, {"bad name!", false}, {"sensor-9", false}};
  auto grants = registry_->devices().ProvisionBatch(provisioner_, "plant-1", hours(24), batch);
  ASSERT_TRUE(grants) << grants.error().message;
  ASSERT_EQ(grants->size(), 4u);
  ASSERT_TRUE((*grants)[0]);
  EXPECT_TRUE((*grants)[0]->device.can_provision);
  EXPECT_FALSE((*grants)[1]) << "a taken name is refused alone";
  EXPECT_FALSE((*grants)[2]) << "so is a bad one";
  ASSERT_TRUE((*grants)[3]);
  EXPECT_NE((*grants)[0]->device.id, (*grants)[3]->device.id);
  // Each provisioned device has its bootstrap key stored, and each device,
  // provisioned or refused, its own audit entry in an intact chain.
  for (const std::size_t i : {0U, 3U}) {
    const auto& g = *(*grants)[i];
    auto key = registry_->channel_keys().KeyFor(g.device.id, 0);
    ASSERT_TRUE(key);
    EXPECT_TRUE(ct::Equal(key->key.Expose(), g.bootstrap_key.Expose()));
  }
  EXPECT_EQ(AuditCount(), entries + 4);
  EXPECT_TRUE(audit_->Verify()->intact);
  auto listed = registry_->devices().List(admin_, "plant-1", std::nullopt);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 3u) << "taken, gw-1 and sensor-9";
  // Bounds, and a caller without the role, whose every row is refused.
  EXPECT_EQ(
      registry_->devices().ProvisionBatch(provisioner_, "plant-1", hours(24), {}).error().code,
      ErrorCode::kInvalidArgument);
  const std::vector<Devices::NewDevice> too_many(Devices::kMaxBatch + 1, {"x", false});
  EXPECT_EQ(registry_->devices()
                .ProvisionBatch(provisioner_, "plant-1", hours(24), too_many)
                .error()
                .code,
            ErrorCode::kInvalidArgument);
  auto denied = registry_->devices().ProvisionBatch(
      auditor_, "plant-1", hours(24), std::vector<Devices::NewDevice>{{"spy", false}});
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->front().error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(registry_->devices().List(admin_, "plant-1", std::nullopt)->size(), 3u);
}

TEST_F(RegistryTest, ProvisionerCannotAdmitEvenAfterARoleChange) {
  BootstrapGrant grant = Provision("sensor-2");
  std::vector<std::uint8_t> nonce(32, 9);
  ASSERT_TRUE(registry_->devices().RecordPreflight(grant.device.id, "{}", nonce));
  auto by_role = registry_->devices().Admit(provisioner_, grant.device.id);
  ASSERT_FALSE(by_role);
  EXPECT_EQ(by_role.error().code, ErrorCode::kPermissionDenied);

  // Pat is made an admitter later: still never for the devices pat provisioned.
  ASSERT_TRUE(db_->Execute("UPDATE operators SET role = 'admitter' WHERE name = 'pat@acme'"));
  Principal pat_now = provisioner_;
  pat_now.role = Role::kAdmitter;
  auto own = registry_->devices().Admit(pat_now, grant.device.id);
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(own.error().message.find("separation of duties"), std::string::npos);
  EXPECT_EQ(registry_->devices().Get(admin_, grant.device.id)->state, DeviceState::kPending);
  auto refusals = audit_->List({.actor = "pat@acme"});
  ASSERT_TRUE(refusals);
  EXPECT_EQ(refusals->back().record.outcome, "refused:permission-denied");
}

TEST_F(RegistryTest, RefusalsAreAuditedAndChangeNothing) {
  BootstrapGrant grant = Provision("sensor-3");
  const auto before = AuditCount();
  auto early = registry_->devices().Admit(admitter_, grant.device.id);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(registry_->devices().Get(admin_, grant.device.id)->state, DeviceState::kProvisioned);
  EXPECT_EQ(AuditCount(), before + 1);
  EXPECT_EQ(registry_->networks().Create(provisioner_, "sneaky").error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(registry_->devices().Provision(admitter_, "plant-1", "x", hours(1), false).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(registry_->devices().Revoke(auditor_, grant.device.id).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(registry_->tenants().Create(admin_, "mine").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(AuditCount(), before + 5);
  EXPECT_TRUE(audit_->Verify()->intact);
}

TEST_F(RegistryTest, TheReportIsFrozenAdmissionNamesItAndAPendingBundleExpires) {
  BootstrapGrant grant = Provision("sensor-5");  // 24 h bootstrap lifetime
  const std::vector<std::uint8_t> nonce(32, 5);
  auto& devices = registry_->devices();
  ASSERT_TRUE(devices.RecordPreflight(grant.device.id, R"({"agent_version":"0.2.0"})", nonce));
  const auto first = devices.Get(admitter_, grant.device.id)->preflight;
  // Reporting again (a restart, or whoever holds the bundle) changes nothing.
  ASSERT_TRUE(devices.RecordPreflight(grant.device.id, R"({"agent_version":"9.9.9"})", nonce));
  EXPECT_EQ(devices.Get(admitter_, grant.device.id)->preflight, first) << "frozen";
  const auto sha = Devices::ReportSha256(*first);
  ASSERT_TRUE(sha);
  auto other = Devices::ReportSha256(R"({"agent_version":"9.9.9"})");
  auto wrong = devices.Admit(admitter_, grant.device.id, *other);
  ASSERT_FALSE(wrong) << "admission names the report the admitter saw";
  EXPECT_EQ(wrong.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(devices.Get(admitter_, grant.device.id)->state, DeviceState::kPending);
  // A second device, pending past its bundle's lifetime: no report, no admission.
  BootstrapGrant late = Provision("sensor-6");
  ASSERT_TRUE(devices.RecordPreflight(late.device.id, "{}", nonce));
  now_ms_ += 24 * 3'600'000;
  EXPECT_EQ(devices.RecordPreflight(late.device.id, "{}", nonce).error().code,
            ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(registry_->channel_keys().KeyFor(late.device.id, 0))
      << "nor does its bootstrap key open a channel";
  auto expired = devices.Admit(admitter_, late.device.id);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  now_ms_ -= 24 * 3'600'000;
  ASSERT_TRUE(devices.Admit(admitter_, grant.device.id, *sha)) << "the report seen is admitted";
}

TEST_F(RegistryTest, TenantsAndNetworksAreSealedFromEachOther) {
  BootstrapGrant grant = Provision("sensor-4");
  std::vector<std::uint8_t> nonce(32, 1);
  ASSERT_TRUE(registry_->devices().RecordPreflight(grant.device.id, "{}", nonce));
  auto seen = registry_->devices().Get(other_admitter_, grant.device.id);
  ASSERT_FALSE(seen);
  EXPECT_EQ(seen.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(seen.error().message,
            registry_->devices().Get(other_admitter_, "no-such-id").error().message)
      << "another tenant's device looks exactly like a missing one";
  EXPECT_EQ(registry_->devices().Admit(other_admitter_, grant.device.id).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(registry_->devices().Revoke(other_admin_, grant.device.id).error().code,
            ErrorCode::kNotFound);
  EXPECT_TRUE(registry_->devices().List(other_admin_, "plant-1")->empty());
  EXPECT_EQ(registry_->devices().List(admin_, "plant-1")->size(), 1u);

  // A device sees its own network only.
  BootstrapGrant peer = Provision("peer", "plant-2");
  ASSERT_TRUE(registry_->devices().Admit(admitter_, grant.device.id));
  Principal as_device;
  as_device.kind = Principal::Kind::kDevice;
  as_device.name = grant.device.id;
  as_device.tenant_id = tenant_;
  as_device.network_id = grant.device.network_id;
  EXPECT_EQ(registry_->devices().Get(as_device, peer.device.id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(registry_->devices().Get(as_device, grant.device.id));
}

TEST_F(RegistryTest, ExpiredAndReusedBundlesAreRefused) {
  BootstrapGrant late = Provision("late");
  now_ms_ = late.device.bootstrap_expires_at_ms;  // the first instant it is no longer valid
  std::vector<std::uint8_t> nonce(32, 3);
  auto expired = registry_->devices().RecordPreflight(late.device.id, "{}", nonce);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  EXPECT_FALSE(registry_->channel_keys().KeyFor(late.device.id, 0));

  BootstrapGrant once = Provision("once");
  std::vector<std::uint8_t> first(32, 4), copy(32, 5);
  ASSERT_TRUE(registry_->devices().RecordPreflight(once.device.id, "{}", first));
  ASSERT_TRUE(registry_->devices().RecordPreflight(once.device.id, R"({"retry":true})", first))
      << "the same enrolment may report again";
  auto reused = registry_->devices().RecordPreflight(once.device.id, "{}", copy);
  ASSERT_FALSE(reused);
  EXPECT_NE(reused.error().message.find("already used"), std::string::npos);
  EXPECT_EQ(registry_->devices().RecordPreflight(once.device.id, "not json", first).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(RegistryTest, DelegatedProvisioningRecordsTheParent) {
  BootstrapGrant gateway = Provision("gateway", "plant-1", /*can_provision=*/true);
  Principal as_gateway;
  as_gateway.kind = Principal::Kind::kDevice;
  as_gateway.name = gateway.device.id;
  as_gateway.tenant_id = tenant_;
  as_gateway.network_id = gateway.device.network_id;
  EXPECT_EQ(
      registry_->devices().Provision(as_gateway, "plant-1", "child", hours(1), false).error().code,
      ErrorCode::kPermissionDenied)
      << "not active yet";
  Enrol(gateway);
  auto child = registry_->devices().Provision(as_gateway, "plant-1", "child", hours(1), false);
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ(child->device.parent_device, gateway.device.id);
  EXPECT_EQ(child->device.provisioned_by, "device:" + gateway.device.id);
  EXPECT_EQ(registry_->devices()
                .Provision(as_gateway, "plant-2", "elsewhere", hours(1), false)
                .error()
                .code,
            ErrorCode::kPermissionDenied);

  BootstrapGrant plain = Provision("plain");
  Enrol(plain);
  Principal as_plain = as_gateway;
  as_plain.name = plain.device.id;
  as_plain.can_provision = true;  // a forged flag does not help: the registry decides
  EXPECT_EQ(registry_->devices().Provision(as_plain, "plant-1", "x", hours(1), false).error().code,
            ErrorCode::kPermissionDenied);
}

TEST_F(RegistryTest, OperatorTokensAuthenticate) {
  auto token = registry_->operators().Add(admin_, tenant_, "newbie", Role::kAuditor);
  ASSERT_TRUE(token);
  std::string text(token->token.Expose().begin(), token->token.Expose().end());
  EXPECT_EQ(text.rfind("skapop1-", 0), 0u);
  EXPECT_EQ(text.size(), 8u + 64u);
  auto who = registry_->operators().Authenticate(text);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "newbie@acme");
  EXPECT_EQ(who->role, Role::kAuditor);
  text.back() = text.back() == '0' ? '1' : '0';
  EXPECT_EQ(registry_->operators().Authenticate(text).error().code,
            ErrorCode::kAuthenticationFailed);
  EXPECT_EQ(registry_->operators().Authenticate("garbage").error().code,
            ErrorCode::kAuthenticationFailed);
  ASSERT_TRUE(db_->Execute("UPDATE operators SET disabled = 1 WHERE name = 'newbie@acme'"));
  text.back() = text.back() == '0' ? '1' : '0';
  EXPECT_FALSE(registry_->operators().Authenticate(text)) << "disabled operators are refused";
  EXPECT_EQ(registry_->operators().Add(admin_, other_tenant_, "spy", Role::kAuditor).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_FALSE(registry_->operators().Add(admin_, tenant_, "alice", Role::kAuditor))
      << "names are unique";
}

TEST_F(RegistryTest, TenantsChooseOperatorNamesApartAndLearnNothingOfEachOthers) {
  auto& ops = registry_->operators();
  // globex may have its own alice: the name is qualified by the tenant's.
  auto globex_alice = ops.Add(other_admin_, other_tenant_, "alice", Role::kAuditor);
  ASSERT_TRUE(globex_alice) << globex_alice.error().message;
  EXPECT_EQ(globex_alice->name, "alice@globex");
  const auto t = globex_alice->token.Expose();
  auto who = ops.Authenticate(std::string(t.begin(), t.end()));
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "alice@globex");
  EXPECT_EQ(who->tenant_id, other_tenant_);
  const auto acme_alice = ops.Named("alice@acme");
  ASSERT_TRUE(acme_alice);
  EXPECT_EQ(acme_alice->tenant_id, tenant_) << "acme's alice is untouched";
  // The qualified form is the same name; within the tenant, taken is taken.
  const auto taken = ops.Add(admin_, tenant_, "pat@acme", Role::kAuditor);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ops.Add(admin_, tenant_, "pat", Role::kAuditor).error().code,
            ErrorCode::kFailedPrecondition);
  const auto adds = audit_->List({.target = "pat@acme", .action = "operator.add"});
  ASSERT_TRUE(adds);
  std::vector<std::string> outcomes;
  for (const auto& e : *adds) outcomes.push_back(e.record.outcome);
  std::sort(outcomes.begin(), outcomes.end());
  EXPECT_EQ(outcomes, (std::vector<std::string>{"ok", "refused:failed-precondition",
                                                "refused:failed-precondition"}))
      << "the add and both refusals, under the name the operator has";
  // Naming another tenant is refused alike whether that tenant, or an
  // operator of that name in it, exists or not: no oracle.
  const auto existing = ops.Add(other_admin_, other_tenant_, "pat@acme", Role::kAuditor);
  const auto missing = ops.Add(other_admin_, other_tenant_, "nobody@acme", Role::kAuditor);
  const auto no_tenant = ops.Add(other_admin_, other_tenant_, "pat@initech", Role::kAuditor);
  ASSERT_FALSE(existing);
  ASSERT_FALSE(missing);
  ASSERT_FALSE(no_tenant);
  EXPECT_EQ(existing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(existing.error().code, missing.error().code);
  EXPECT_EQ(existing.error().message, missing.error().message);
  EXPECT_EQ(existing.error().message, no_tenant.error().message);
  EXPECT_EQ(ops.Add(admin_, tenant_, "a@b@acme", Role::kAuditor).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ops.Add(admin_, tenant_, "@acme", Role::kAuditor).error().code,
            ErrorCode::kInvalidArgument);
  // Each tenant's list holds its own alice only.
  auto listed = ops.List(other_admin_);
  ASSERT_TRUE(listed);
  std::vector<std::string> names;
  for (const auto& o : *listed) names.push_back(o.name);
  EXPECT_EQ(names, (std::vector<std::string>{"alice@globex", "olga@globex", "oscar@globex"}));
}

TEST_F(RegistryTest, OperatorsHaveAnAdminPskFromTheirToken) {
  auto token = registry_->operators().Add(admin_, tenant_, "remote", Role::kAuditor);
  ASSERT_TRUE(token);
  auto stored = registry_->operators().AdminPsk("remote@acme");
  ASSERT_TRUE(stored);
  auto derived = proto::AdminPskFromToken(token->token.Expose());
  ASSERT_TRUE(derived);
  EXPECT_TRUE(ct::Equal(stored->Expose(), derived->Expose()));
  auto rows = db_->Query("SELECT wrapped_admin_psk FROM operators WHERE name = 'remote@acme'");
  ASSERT_TRUE(rows);
  const auto wrapped = store::AsBlob((*rows)[0][0]);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(std::search(wrapped->begin(), wrapped->end(), derived->Expose().begin(),
                        derived->Expose().end()),
            wrapped->end())
      << "stored wrapped, not in clear";
  EXPECT_EQ(registry_->operators().Named("remote@acme")->role, Role::kAuditor);

  EXPECT_EQ(registry_->operators().AdminPsk("nobody@acme").error().code,
            ErrorCode::kAuthenticationFailed);
  // Operators from before the TLS listener have no PSK: socket only.
  ASSERT_TRUE(
      db_->Execute("UPDATE operators SET wrapped_admin_psk = NULL WHERE name = 'pat@acme'"));
  EXPECT_EQ(registry_->operators().AdminPsk("pat@acme").error().code,
            ErrorCode::kAuthenticationFailed);
  ASSERT_TRUE(db_->Execute("UPDATE operators SET disabled = 1 WHERE name = 'remote@acme'"));
  EXPECT_FALSE(registry_->operators().AdminPsk("remote@acme"));
  EXPECT_FALSE(registry_->operators().Named("remote@acme"));
}

// The TLS listener's name for a handshake made with `name`'s current PSK.
std::string TlsPeerNow(Registry& registry, const std::string& name) {
  auto epsk = registry.operators().AdminPsk(name);
  EXPECT_TRUE(epsk);
  auto imported = proto::ImportAdminPsk(name, epsk->Expose());
  auto hash = crypto::Digest(crypto::Hash::kSha256, imported->psk.Expose());
  return Operators::TlsPeer(name, *hash);
}

std::string TextOf(const SecretBytes& token) {
  const auto t = token.Expose();
  return {t.begin(), t.end()};
}

// PendingBy is who granted `name` a role awaiting approval, as listed.
std::optional<std::string> PendingBy(Operators& ops, const Principal& actor,
                                     const std::string& name) {
  const auto list = ops.List(actor);
  for (const auto& o : *list) {
    if (o.name == name) return o.pending_approval_by;
  }
  return std::nullopt;
}

// Dual control against one tenant-admin: whatever they grant alone (a role,
// a sock-puppet tenant-admin, a new token for an operator with a role) does
// not authenticate until a second tenant-admin approves, and turning dual
// control off takes two as well.
TEST_F(RegistryTest, DualControlMakesEveryGrantWaitForASecondTenantAdmin) {
  auto& ops = registry_->operators();
  EXPECT_EQ(ops.SetDualControl(admin_, tenant_, true).error().code, ErrorCode::kFailedPrecondition)
      << "with one tenant-admin nobody could approve";
  // A second tenant-admin alice makes alone may be alice herself: it does
  // not count. One the hub makes does.
  auto bob_token = ops.Add(admin_, tenant_, "bob", Role::kTenantAdmin);
  ASSERT_TRUE(bob_token);
  EXPECT_FALSE(bob_token->pending_approval) << "dual control is off";
  ASSERT_TRUE(ops.Authenticate(TextOf(bob_token->token)));
  EXPECT_EQ(ops.SetDualControl(admin_, tenant_, true).error().code, ErrorCode::kFailedPrecondition);
  auto hal_token = ops.Add(Principal::Hub(), tenant_, "hal", Role::kTenantAdmin);
  ASSERT_TRUE(hal_token);
  const auto hal = ops.Authenticate(TextOf(hal_token->token));
  ASSERT_TRUE(hal);
  EXPECT_EQ(ops.SetDualControl(provisioner_, tenant_, true).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(ops.SetDualControl(other_admin_, tenant_, true).error().code,
            ErrorCode::kPermissionDenied);
  auto on = ops.SetDualControl(admin_, tenant_, true);
  ASSERT_TRUE(on) << on.error().message;
  EXPECT_TRUE(on->on);
  EXPECT_FALSE(ops.DualControlOf(other_tenant_)->on) << "one tenant's setting only";

  // A provisioner alice grants waits for a second tenant-admin, and neither
  // of them holds its token: each is given a part, and only the two joined
  // authenticate.
  auto prov = ops.Add(admin_, tenant_, "prov2", Role::kProvisioner);
  ASSERT_TRUE(prov);
  EXPECT_TRUE(prov->pending_approval);
  EXPECT_FALSE(ops.Authenticate(TextOf(prov->token))) << "the granter's part is no token";
  EXPECT_FALSE(ops.AdminPsk("prov2@acme")) << "nothing authenticates, over TLS neither";
  EXPECT_FALSE(ops.Named("prov2@acme"));
  EXPECT_EQ(PendingBy(ops, admin_, "prov2@acme"), "alice@acme");
  EXPECT_EQ(ops.Approve(admin_, "prov2@acme").error().code, ErrorCode::kPermissionDenied)
      << "not by the tenant-admin who granted it";
  EXPECT_EQ(ops.Approve(provisioner_, "prov2@acme").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(ops.Approve(other_admin_, "prov2@acme").error().code, ErrorCode::kNotFound)
      << "another tenant's operator is not there";
  auto approved = ops.Approve(*hal, "prov2@acme");
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_FALSE(ops.Authenticate(TextOf(approved->token))) << "nor is the approver's";
  EXPECT_FALSE(proto::JoinOperatorTokenParts(approved->token.Expose(), approved->token.Expose()));
  auto joined = proto::JoinOperatorTokenParts(prov->token.Expose(), approved->token.Expose());
  ASSERT_TRUE(joined);
  EXPECT_TRUE(ops.Authenticate(TextOf(*joined))) << "the two joined are";
  // Neither part's bytes are the token's, now the operator is live.
  for (const auto* part : {&prov->token, &approved->token}) {
    std::string as_token = TextOf(*part);
    as_token.replace(0, proto::kOperatorTokenPartPrefix.size(), proto::kOperatorTokenPrefix);
    EXPECT_FALSE(ops.Authenticate(as_token));
  }
  EXPECT_TRUE(ops.AdminPsk("prov2@acme"));
  EXPECT_EQ(ops.Approve(*hal, "prov2@acme").error().code, ErrorCode::kFailedPrecondition);

  // A tenant-admin of alice's making waits too (else she would approve her
  // grants with it); an auditor does not.
  auto carol = ops.Add(admin_, tenant_, "carol", Role::kTenantAdmin);
  ASSERT_TRUE(carol);
  EXPECT_TRUE(carol->pending_approval);
  EXPECT_FALSE(ops.Named("carol@acme"));
  auto watcher = ops.Add(admin_, tenant_, "watcher", Role::kAuditor);
  ASSERT_TRUE(watcher);
  EXPECT_FALSE(watcher->pending_approval);
  EXPECT_TRUE(ops.Authenticate(TextOf(watcher->token)));

  // A new token alice asks for pat would let her act as pat: pat's old one
  // stops, and the new one comes in two parts.
  const auto pat_before = TlsPeerNow(*registry_, "pat@acme");
  auto pat = ops.NewToken(admin_, "pat@acme", std::nullopt);
  ASSERT_TRUE(pat);
  EXPECT_TRUE(pat->pending_approval);
  EXPECT_FALSE(ops.FromTlsPeer(pat_before));
  EXPECT_FALSE(ops.Named("pat@acme"));
  auto pat_part = ops.Approve(*hal, "pat@acme");
  ASSERT_TRUE(pat_part);
  const auto pat_token =
      proto::JoinOperatorTokenParts(pat->token.Expose(), pat_part->token.Expose());
  ASSERT_TRUE(pat_token);
  const auto pat_now = ops.Authenticate(TextOf(*pat_token));
  ASSERT_TRUE(pat_now);
  // Renewing one's own token needs nobody; the hub's token lets a pending
  // operator in (the hub is trusted) but does not count as an approval.
  auto renewed = ops.NewToken(*pat_now, "pat@acme", std::nullopt);
  ASSERT_TRUE(renewed);
  EXPECT_FALSE(renewed->pending_approval);
  EXPECT_TRUE(ops.Authenticate(TextOf(renewed->token)));
  auto from_hub = ops.NewToken(Principal::Hub(), "carol@acme", std::nullopt);
  ASSERT_TRUE(from_hub);
  const auto carol_now = ops.Authenticate(TextOf(from_hub->token));
  ASSERT_TRUE(carol_now);

  // An off request not completed within a day lapses: carol's, then a day.
  ASSERT_TRUE(ops.SetDualControl(*carol_now, tenant_, false));
  EXPECT_EQ(ops.DualControlOf(tenant_)->off_requested_by, "carol@acme");
  now_ms_ += Operators::kOffRequestLifetime.count();
  EXPECT_FALSE(ops.DualControlOf(tenant_)->off_requested_by) << "lapsed";
  // Off takes two: alice asks (again: still asked), hal completes it.
  auto asked = ops.SetDualControl(admin_, tenant_, false);
  ASSERT_TRUE(asked);
  EXPECT_TRUE(asked->on) << "carol's lapsed request does not complete alice's";
  EXPECT_EQ(asked->off_requested_by, "alice@acme");
  // Asking again renews it: 23 hours on, then asked again, 2 more hours on.
  now_ms_ += Operators::kOffRequestLifetime.count() - 3600 * 1000;
  EXPECT_TRUE(ops.SetDualControl(admin_, tenant_, false)->on);
  now_ms_ += 2 * 3600 * 1000;
  EXPECT_EQ(ops.DualControlOf(tenant_)->off_requested_by, "alice@acme") << "renewed, not lapsed";
  // A request by a tenant-admin disabled since counts for nothing.
  ASSERT_TRUE(ops.Disable(*hal, "alice@acme"));
  auto after_disable = ops.SetDualControl(*hal, tenant_, false);
  ASSERT_TRUE(after_disable);
  EXPECT_TRUE(after_disable->on);
  EXPECT_EQ(after_disable->off_requested_by, "hal@acme");
  auto off = ops.SetDualControl(*carol_now, tenant_, false);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->on);
  auto plain = ops.Add(*hal, tenant_, "prov3", Role::kProvisioner);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->pending_approval);
  EXPECT_TRUE(ops.Authenticate(TextOf(plain->token)));
  // Each step is in the tenant's audit log, and so is each refusal.
  const auto outcomes = [&](const char* action) {
    AuditFilter filter;
    filter.action = action;
    filter.tenant = tenant_;
    std::vector<std::string> out;
    const auto entries = audit_->List(filter);
    for (const auto& e : *entries) out.push_back(e.record.outcome);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(outcomes("operator.approve"),
            (std::vector<std::string>{"ok", "ok", "refused:failed-precondition",
                                      "refused:permission-denied", "refused:permission-denied"}));
  EXPECT_EQ(
      outcomes("tenant.dual_control"),
      (std::vector<std::string>{"ok", "ok", "ok", "ok", "ok", "ok", "refused:failed-precondition",
                                "refused:failed-precondition", "refused:permission-denied"}))
      << "on, off asked (by carol, lapsed; by alice, renewed; then by hal), off; another tenant's "
         "refusal "
         "is its own";
}

TEST_F(RegistryTest, OperatorsAreListedDisabledGivenNewTokensAndExpire) {
  auto& ops = registry_->operators();
  // Listing: a tenant's own operators to its tenant-admin and auditor only.
  auto listed = ops.List(admin_);
  ASSERT_TRUE(listed);
  std::vector<std::string> names;
  for (const auto& o : *listed) names.push_back(o.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"adam@acme", "alice@acme", "audrey@acme", "pat@acme"}));
  EXPECT_TRUE(ops.List(auditor_));
  EXPECT_EQ(ops.List(provisioner_).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(ops.List(Principal::Hub())->size(), 6u) << "the hub sees every tenant's";

  // A new token: the old token, and a TLS connection made with it, stop.
  auto first = ops.Add(admin_, tenant_, "remote", Role::kAuditor);
  ASSERT_TRUE(first);
  const std::string old_peer = TlsPeerNow(*registry_, "remote@acme");
  EXPECT_TRUE(ops.FromTlsPeer(old_peer));
  EXPECT_EQ(ops.NewToken(provisioner_, "remote@acme", std::nullopt).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(ops.NewToken(other_admin_, "remote@acme", std::nullopt).error().code,
            ErrorCode::kNotFound)
      << "another tenant's operator is not there";
  auto second = ops.NewToken(admin_, "remote@acme", std::nullopt);
  ASSERT_TRUE(second);
  EXPECT_FALSE(ops.Authenticate(TextOf(first->token))) << "the old token is dead";
  EXPECT_FALSE(ops.FromTlsPeer(old_peer)) << "so is a connection made with it";
  auto remote = ops.Authenticate(TextOf(second->token));
  ASSERT_TRUE(remote);
  EXPECT_TRUE(ops.FromTlsPeer(TlsPeerNow(*registry_, "remote@acme")));
  EXPECT_TRUE(ops.NewToken(*remote, "remote@acme", std::nullopt)) << "anyone may renew their own";
  EXPECT_FALSE(ops.FromTlsPeer("remote@acme")) << "a name alone is no TLS peer";

  // Disabling: at once, for the token and the TLS PSK; not oneself.
  EXPECT_EQ(ops.Disable(admin_, "alice@acme").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ops.Disable(provisioner_, "adam@acme").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(ops.Disable(other_admin_, "adam@acme").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ops.Disable(admin_, "nobody@acme").error().code, ErrorCode::kNotFound);
  const std::string pat_peer = TlsPeerNow(*registry_, "pat@acme");
  ASSERT_TRUE(ops.Disable(admin_, "pat@acme"));
  EXPECT_FALSE(ops.Named("pat@acme"));
  EXPECT_FALSE(ops.AdminPsk("pat@acme"));
  EXPECT_FALSE(ops.FromTlsPeer(pat_peer));
  EXPECT_EQ(ops.NewToken(admin_, "pat@acme", std::nullopt).error().code,
            ErrorCode::kFailedPrecondition);
  auto after = ops.List(admin_);
  ASSERT_TRUE(after);
  const auto pat = std::find_if(after->begin(), after->end(),
                                [](const OperatorInfo& o) { return o.name == "pat@acme"; });
  ASSERT_NE(pat, after->end());
  EXPECT_TRUE(pat->disabled) << "listed as disabled";

  // Expiry: the token works until its lifetime ends, then neither it nor the PSK does.
  auto brief = ops.Add(admin_, tenant_, "brief", Role::kAuditor, std::chrono::hours(1));
  ASSERT_TRUE(brief);
  EXPECT_EQ(
      ops.Add(admin_, tenant_, "too-brief", Role::kAuditor, std::chrono::seconds(5)).error().code,
      ErrorCode::kInvalidArgument);
  EXPECT_TRUE(ops.Authenticate(TextOf(brief->token)));
  now_ms_ += 3'600'000 - 1;
  EXPECT_TRUE(ops.Named("brief@acme"));
  now_ms_ += 1;
  EXPECT_FALSE(ops.Authenticate(TextOf(brief->token)));
  EXPECT_FALSE(ops.AdminPsk("brief@acme"));
  EXPECT_EQ(ops.NewToken(admin_, "brief@acme", std::nullopt).error().code,
            ErrorCode::kInvalidArgument)
      << "a lapsed token is not made permanent by a renewal that says nothing";
  auto renewed = ops.NewToken(admin_, "brief@acme", std::chrono::hours(2));
  ASSERT_TRUE(renewed) << "a tenant-admin renews an expired operator, for a lifetime";
  EXPECT_TRUE(ops.Authenticate(TextOf(renewed->token)));

  // Each change is audited, and so is each refusal.
  auto entries = audit_->List({});
  ASSERT_TRUE(entries);
  int disables = 0, tokens = 0, refused = 0;
  for (const auto& e : *entries) {
    const auto& r = e.record;
    if (r.action == "operator.disable" && r.outcome == "ok") ++disables;
    if (r.action == "operator.token" && r.outcome == "ok") ++tokens;
    if ((r.action == "operator.disable" || r.action == "operator.token") && r.outcome != "ok") {
      ++refused;
    }
  }
  EXPECT_EQ(disables, 1);
  EXPECT_EQ(tokens, 3);
  EXPECT_EQ(refused, 8);

  // Renewing one's own token never lifts or moves its expiry later.
  const auto expiry_of = [&](const std::string& name) {
    auto list = ops.List(admin_);
    for (const auto& o : *list) {
      if (o.name == name) return o.expires_at_ms;
    }
    return std::optional<std::int64_t>();
  };
  auto limited = ops.Add(admin_, tenant_, "limited", Role::kAuditor, std::chrono::hours(2));
  ASSERT_TRUE(limited);
  const auto until = expiry_of("limited@acme");
  ASSERT_TRUE(until);
  auto me = ops.Authenticate(TextOf(limited->token));
  ASSERT_TRUE(me);
  ASSERT_TRUE(ops.NewToken(*me, "limited@acme", std::nullopt));
  EXPECT_EQ(expiry_of("limited@acme"), until) << "no lifetime: the same expiry, not none";
  ASSERT_TRUE(ops.NewToken(*me, "limited@acme", std::chrono::hours(100)));
  EXPECT_EQ(expiry_of("limited@acme"), until) << "not later";
  ASSERT_TRUE(ops.NewToken(*me, "limited@acme", std::chrono::hours(1)));
  EXPECT_EQ(expiry_of("limited@acme"), now_ms_ + 3'600'000) << "sooner is fine";
  EXPECT_EQ(ops.NewToken(admin_, "limited@acme",
                         std::chrono::seconds(std::numeric_limits<std::int64_t>::max() / 1000 + 1))
                .error()
                .code,
            ErrorCode::kInvalidArgument)
      << "a lifetime beyond 10 years is refused, not overflowed";
  // One tenant-admin cannot take another's identity by giving them a token.
  ASSERT_TRUE(ops.Add(Principal::Hub(), tenant_, "alice2", Role::kTenantAdmin));
  EXPECT_EQ(ops.NewToken(admin_, "alice2@acme", std::nullopt).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_TRUE(ops.NewToken(Principal::Hub(), "alice2@acme", std::nullopt));
  // A connection of a disabled operator that keeps asking is audited under its name.
  auto before = audit_->List({.target = "pat@acme"})->size();
  EXPECT_FALSE(ops.FromTlsPeer(pat_peer));
  EXPECT_EQ(audit_->List({.target = "pat@acme"})->size(), before + 1);
}

TEST_F(RegistryTest, NamesAreValidated) {
  for (const char* bad : {"", "-x", ".x", "has space", "semi;colon", "a/b"}) {
    EXPECT_EQ(
        registry_->devices().Provision(provisioner_, "plant-1", bad, hours(1), false).error().code,
        ErrorCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(registry_->devices()
                .Provision(provisioner_, "plant-1", std::string(65, 'a'), hours(1), false)
                .error()
                .code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      registry_->devices().Provision(provisioner_, "plant-1", "ok", minutes(0), false).error().code,
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      registry_->devices().Provision(provisioner_, "nowhere", "ok", hours(1), false).error().code,
      ErrorCode::kNotFound);
  Provision("dup");
  EXPECT_EQ(
      registry_->devices().Provision(provisioner_, "plant-1", "dup", hours(1), false).error().code,
      ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace skap::hub
