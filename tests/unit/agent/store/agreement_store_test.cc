// Agreement records survive a restart as they were: an agreement restored
// from agent.db carries on and agrees the same key as one that never
// stopped; its secrets are wrapped at rest.
#include "agent/store/agreement_store.h"

#include <gtest/gtest.h>

#include "common/ct.h"
#include "unit/agent/store/agent_dir_fixture.h"

namespace skap::agent {
namespace {

pairwise::AgreementParams Params() {
  pairwise::AgreementParams p;
  p.sid.fill(7);
  p.initiator = "device-a";
  p.responder = "device-b";
  p.hub_set = {"hub-1", "hub-2", "hub-3"};
  p.threshold = 2;
  p.expires_at_ms = 1'700'000'060'000;
  p.session_epoch = 3;
  return p;
}

TEST_F(AgentDirTest, ARestoredAgreementCarriesOnToTheSameKey) {
  AgreementStore records(store_->db(), store_->kek(), [this] { return now_ms_; });
  auto a = pairwise::Agreement::Start(Params(), pairwise::Role::kInitiator, *rng_);
  auto b = pairwise::Agreement::Start(Params(), pairwise::Role::kResponder, *rng_);
  ASSERT_TRUE(a && b);
  // B has two of A's shares when it is stored; A has B's three.
  ASSERT_TRUE(b->AddPeerShare(1, a->OwnShare(1)));
  ASSERT_TRUE(b->AddPeerShare(3, a->OwnShare(3)));
  AgreementRecord record;
  record.params = Params();
  record.role = pairwise::Role::kResponder;
  record.peer = "device-a";
  record.agreement.emplace(std::move(*b));
  record.tags_out = {{1, 2, 3}};
  record.created_at_ms = now_ms_;
  ASSERT_TRUE(records.Save(record));

  auto loaded = records.Load(Params().sid);
  ASSERT_TRUE(loaded && *loaded) << (loaded ? "" : loaded.error().message);
  AgreementRecord& back = **loaded;
  EXPECT_EQ(back.state, AgreementState::kRunning);
  EXPECT_EQ(back.peer, "device-a");
  EXPECT_EQ(back.params.session_epoch, 3u);
  EXPECT_EQ(back.tags_out, record.tags_out);
  ASSERT_TRUE(back.agreement);
  EXPECT_EQ(back.agreement->peer_share_count(), 2u);

  for (unsigned i = 1; i <= 3; ++i) ASSERT_TRUE(a->AddPeerShare(i, back.agreement->OwnShare(i)));
  a->AddPeerTags(*back.agreement->TagsToSend());
  ASSERT_TRUE(*a->TryConfirm());
  back.agreement->AddPeerTags(*a->TagsToSend());
  ASSERT_TRUE(*back.agreement->TryConfirm());
  EXPECT_TRUE(ct::Equal(a->key().Expose(), back.agreement->key().Expose()));

  // At rest: S_B, B's shares and A's shares are wrapped, none in the clear.
  auto rows = store_->db().Query("SELECT wrapped_secrets, public_state FROM agreements");
  ASSERT_TRUE(rows);
  const auto wrapped = store::AsBlob((*rows)[0][0]).value_or(store::Blob{});
  const auto share = a->OwnShare(1);
  EXPECT_TRUE(share.empty() || std::search(wrapped.begin(), wrapped.end(), share.begin(),
                                           share.end()) == wrapped.end());
  EXPECT_TRUE(store_->kek().Unwrap(wrapped));
}

TEST_F(AgentDirTest, EndedRecordsKeepNoSecretsAndArePurgedAfterExpiry) {
  AgreementStore records(store_->db(), store_->kek(), [this] { return now_ms_; });
  AgreementRecord record;
  record.params = Params();
  record.peer = "device-b";
  record.state = AgreementState::kFailed;
  record.reason = "timed out";
  ASSERT_TRUE(records.Save(record));
  auto rows = store_->db().Query("SELECT wrapped_secrets FROM agreements");
  EXPECT_FALSE(store::AsBlob((*rows)[0][0]));
  EXPECT_EQ(records.LoadLive(0)->size(), 1u) << "not expired yet";
  EXPECT_EQ(*records.Purge(Params().expires_at_ms), 0);
  EXPECT_EQ(*records.Purge(Params().expires_at_ms + 1), 1);
  EXPECT_FALSE(*records.Load(Params().sid));
}

TEST_F(AgentDirTest, ChannelStatesAreWrappedUnderTheLocalKek) {
  HubChannelState state;
  state.hub.hub_id = "1a0c6f0e-9a41-4d6b-8f57-3b0d2c4e5a61";
  state.hub.device_id = "device-a";
  state.hub.hub_set = {state.hub.hub_id};
  state.epoch = 4;
  state.key = SecretBytes::Copy(std::vector<std::uint8_t>(32, 0xab));
  ASSERT_TRUE(store_->SaveHub(state));
  auto back = store_->LoadHub(state.hub.hub_id);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->epoch, 4);
  EXPECT_TRUE(ct::Equal(back->key.Expose(), state.key.Expose()));
  EXPECT_EQ(store_->LoadHubs()->size(), 1u);
  EXPECT_EQ(store_->LoadHub("../etc").error().code, ErrorCode::kNotFound);
  // A second process cannot open the same directory.
  auto second = AgentDir::Open(store_->dir(), false);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace skap::agent
