// Agreement records survive a restart as they were: an agreement restored
// from agent.db carries on and agrees the same key as one that never
// stopped; its secrets are wrapped at rest.
#include "agent/store/agreement_store.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/store/agent_schema.h"
#include "common/ct.h"
#include "common/hex.h"
#include "common/secret_file.h"
#include "crypto/key_wrap.h"
#include "keystore/file_keystore.h"
#include "proto/agreement_header.h"
#include "proto/agreement_record.pb.h"
#include "store/migrations.h"
#include "store/sqlite/sqlite_database.h"
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

// ExpectSameKey finishes the agreement between `a` (the initiator, which
// never stopped) and `b` (restored), and expects both to hold one key.
void ExpectSameKey(pairwise::Agreement& a, pairwise::Agreement& b) {
  for (unsigned i = 1; i <= 3; ++i) ASSERT_TRUE(a.AddPeerShare(i, b.OwnShare(i)));
  a.AddPeerTags(1, *b.TagsToSend());
  ASSERT_TRUE(*a.TryConfirm());
  b.AddPeerTags(1, *a.TagsToSend());
  ASSERT_TRUE(*b.TryConfirm());
  EXPECT_TRUE(ct::Equal(a.key().Expose(), b.key().Expose()));
}

TEST_F(AgentDirTest, ARestoredAgreementCarriesOnToTheSameKey) {
  AgreementStore records(store_->db(), store_->kek(), [this] { return now_ms_; });
  auto a = pairwise::Agreement::Start(Params(), pairwise::Role::kInitiator, *rng_);
  auto b = pairwise::Agreement::Start(Params(), pairwise::Role::kResponder, *rng_);
  ASSERT_TRUE(a && b);
  // B has two of A's shares when it is stored, with A's check values; A
  // has B's three.
  const auto checks = a->OwnShareChecks();
  ASSERT_TRUE(checks);
  ASSERT_TRUE(b->AddPeerShare(1, a->OwnShare(1), {}, *checks));
  ASSERT_TRUE(b->AddPeerShare(3, a->OwnShare(3), {}, *checks));
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
  const auto snapshot = back.agreement->TakeSnapshot();
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->peer_checks, (std::map<unsigned, std::vector<pairwise::ShareCheckValue>>{
                                       {1, *checks}, {3, *checks}}));

  ExpectSameKey(*a, *back.agreement);

  // A row whose peer or role column is not what its header says is refused
  // (its key would go to another peer's session).
  for (const char* change : {"UPDATE agreements SET peer = 'device-c'",
                             "UPDATE agreements SET role = 'initiator'"}) {
    ASSERT_TRUE(store_->db().Execute("SAVEPOINT s"));
    ASSERT_TRUE(store_->db().Execute(change));
    auto altered = records.Load(Params().sid);
    ASSERT_FALSE(altered) << change;
    EXPECT_NE(altered.error().message.find("peer column"), std::string::npos) << change;
    ASSERT_TRUE(store_->db().Execute("ROLLBACK TO s"));
    ASSERT_TRUE(store_->db().Execute("RELEASE s"));
  }

  // At rest: S_B, B's shares and A's shares are wrapped, none in the clear.
  auto rows = store_->db().Query("SELECT record FROM agreements");
  ASSERT_TRUE(rows);
  const auto stored = store::AsBlob((*rows)[0][0]).value_or(store::Blob{});
  const auto share = a->OwnShare(1);
  EXPECT_TRUE(share.empty() || std::search(stored.begin(), stored.end(), share.begin(),
                                           share.end()) == stored.end());
  v1::AgreementRecord at_rest;
  ASSERT_TRUE(at_rest.ParseFromArray(stored.data(), static_cast<int>(stored.size())));
  // Each secret is bound to the agreement's row and its place in it
  // (keystore.h): RowOf(sid, place, index).
  const auto sid = Params().sid;
  const std::string_view sid_text(reinterpret_cast<const char*>(sid.data()), sid.size());
  const auto binding = [&](std::string_view place, std::uint32_t index) {
    return keystore::WrapBinding{keystore::kPurposeAgreementSecrets,
                                 keystore::RowOf({sid_text, place, std::to_string(index)})};
  };
  EXPECT_TRUE(
      store_->kek().Unwrap(AsBytes(at_rest.wrapped_own_secret()), binding("own secret", 0)));
  EXPECT_FALSE(store_->kek().UnwrapUnbound(AsBytes(at_rest.wrapped_own_secret())));
  ASSERT_EQ(at_rest.wrapped_peer_shares_size(), 2);
  for (const auto& [index, y] : at_rest.wrapped_peer_shares()) {
    EXPECT_TRUE(store_->kek().Unwrap(AsBytes(y), binding("peer share", index)))
        << "the share of hub " << index;
    EXPECT_FALSE(store_->kek().Unwrap(AsBytes(y), binding("peer share", index + 1)))
        << "a share moved to another hub's place";
  }
}

TEST_F(AgentDirTest, EndedRecordsKeepNoSecretsAndArePurgedAfterExpiry) {
  AgreementStore records(store_->db(), store_->kek(), [this] { return now_ms_; });
  AgreementRecord record;
  record.params = Params();
  record.peer = "device-b";
  record.state = AgreementState::kFailed;
  record.reason = "timed out";
  ASSERT_TRUE(records.Save(record));
  auto rows = store_->db().Query("SELECT record FROM agreements");
  const auto stored = store::AsBlob((*rows)[0][0]).value_or(store::Blob{});
  v1::AgreementRecord at_rest;
  ASSERT_TRUE(at_rest.ParseFromArray(stored.data(), static_cast<int>(stored.size())));
  EXPECT_TRUE(at_rest.wrapped_own_secret().empty() && at_rest.wrapped_own_shares().empty() &&
              at_rest.wrapped_peer_shares().empty() && at_rest.wrapped_own_x25519().empty());
  EXPECT_EQ(records.LoadLive(0)->size(), 1u) << "not expired yet";
  EXPECT_EQ(*records.Purge(Params().expires_at_ms), 0);
  EXPECT_EQ(*records.Purge(Params().expires_at_ms + 1), 1);
  EXPECT_FALSE(*records.Load(Params().sid));
}

// SampleHubState is one hub's channel state, at epoch 4.
HubChannelState SampleHubState() {
  HubChannelState state;
  state.hub.hub_id = "1a0c6f0e-9a41-4d6b-8f57-3b0d2c4e5a61";
  state.hub.device_id = "device-a";
  state.hub.hub_set = {state.hub.hub_id};
  state.epoch = 4;
  state.key = SecretBytes::Copy(std::vector<std::uint8_t>(32, 0xab));
  return state;
}

TEST_F(AgentDirTest, ChannelStatesAreWrappedUnderTheLocalKek) {
  const HubChannelState state = SampleHubState();
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

// A channel state file's wrapped keys are bound to its hub, device and epoch;
// a file of version 2 (keys wrapped under the bare KEK) is read once and
// rewritten bound.
TEST_F(AgentDirTest, ChannelStateKeysAreBoundAndOldFilesRewritten) {
  const HubChannelState state = SampleHubState();
  ASSERT_TRUE(store_->SaveHub(state));
  HubChannelState other = state.Clone();
  other.hub.hub_id = "2b1d7a1f-0b52-4e7c-9a68-4c1e3d5f6b72";
  other.key = SecretBytes::Copy(std::vector<std::uint8_t>(32, 0xcd));
  ASSERT_TRUE(store_->SaveHub(other));
  const std::string path = store_->dir() + "/hubs/" + state.hub.hub_id + ".state";
  const std::string other_path = store_->dir() + "/hubs/" + other.hub.hub_id + ".state";
  const auto read = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
  };
  const auto write = [](const std::string& p, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  };
  // The layout: magic ‖ u32 n ‖ n bytes of JSON ‖ u16 ‖ wrapped key ‖ u16 ‖ nonce.
  const auto key_at = [](const std::vector<std::uint8_t>& bytes) {
    const std::size_t n = (std::size_t{bytes[4]} << 24) | (std::size_t{bytes[5]} << 16) |
                          (std::size_t{bytes[6]} << 8) | bytes[7];
    return 8 + n + 2;
  };
  const auto original = read(path);
  ASSERT_EQ(std::string(original.begin(), original.begin() + 4), "SKS3");
  // The other hub's wrapped key put into this hub's file does not unwrap.
  auto swapped = original;
  const auto theirs = read(other_path);
  std::copy_n(theirs.begin() + static_cast<std::ptrdiff_t>(key_at(theirs)), 40,
              swapped.begin() + static_cast<std::ptrdiff_t>(key_at(swapped)));
  write(path, swapped);
  EXPECT_EQ(store_->LoadHub(state.hub.hub_id).error().code, ErrorCode::kAuthenticationFailed);
  // The other hub's whole file in this hub's place is not this hub's state.
  write(path, theirs);
  EXPECT_EQ(store_->LoadHub(state.hub.hub_id).error().code, ErrorCode::kFailedPrecondition);

  // Version 2: the same key wrapped under the bare KEK.
  const auto kek = ReadSecretFile(store_->dir() + "/local.kek");
  ASSERT_TRUE(kek);
  const auto unbound = crypto::WrapKey(kek->Expose(), state.key.Expose());
  ASSERT_TRUE(unbound && unbound->size() == 40);
  auto old = original;
  old[3] = '2';
  std::copy(unbound->begin(), unbound->end(),
            old.begin() + static_cast<std::ptrdiff_t>(key_at(old)));
  write(path, old);
  auto back = store_->LoadHub(state.hub.hub_id);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(ct::Equal(back->key.Expose(), state.key.Expose()));
  const auto rewritten = read(path);
  EXPECT_EQ(std::string(rewritten.begin(), rewritten.begin() + 4), "SKS3");
  EXPECT_TRUE(store_->LoadHub(state.hub.hub_id));
  // Once the daemon has refused unbound keys, a version-2 file is refused.
  ASSERT_TRUE(store_->kek().RefuseUnbound());
  write(path, old);
  EXPECT_EQ(store_->LoadHub(state.hub.hub_id).error().code, ErrorCode::kFailedPrecondition);
}

// An agent of schema version 3 kept a running agreement as a header, a JSON
// text and a packed blob of its secrets (own secret ‖ u8 n ‖ n own shares ‖
// u8 m ‖ m × (u8 hub index ‖ share) ‖ u8 l ‖ own X25519 key, wrapped as one);
// version 4 converts it to one record, and the agreement carries on.
TEST(AgreementUpgradeTest, AVersion3AgreementBecomesOneRecordAndCarriesOn) {
  testing::TempDir dir;
  auto rng = std::move(*crypto::CtrDrbg::Create({}));
  auto kek = keystore::FileKeystore::Create(dir.File("kek"), *rng);
  auto db = store::SqliteDatabase::Open(dir.File("agent.db"), true);
  ASSERT_TRUE(kek && db);
  const auto migrations = AgentMigrations(**kek);
  ASSERT_TRUE(store::Migrate(**db, std::span(migrations).first(3), SystemClock()));

  auto a = pairwise::Agreement::Start(Params(), pairwise::Role::kInitiator, *rng);
  auto b = pairwise::Agreement::Start(Params(), pairwise::Role::kResponder, *rng);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(b->AddPeerShare(1, a->OwnShare(1)));
  ASSERT_TRUE(b->AddPeerShare(3, a->OwnShare(3)));
  auto snapshot = b->TakeSnapshot();
  ASSERT_TRUE(snapshot);
  SecretBytes packed = snapshot->own_secret.Clone();
  packed.Append(std::vector<std::uint8_t>{static_cast<std::uint8_t>(snapshot->own_shares.size())});
  for (const auto& y : snapshot->own_shares) packed.Append(y.Expose());
  packed.Append(std::vector<std::uint8_t>{static_cast<std::uint8_t>(snapshot->peer_shares.size())});
  for (const auto& [index, y] : snapshot->peer_shares) {
    packed.Append(std::vector<std::uint8_t>{static_cast<std::uint8_t>(index)});
    packed.Append(y.Expose());
  }
  packed.Append(std::vector<std::uint8_t>{0});  // no X25519 key
  // Version 3 wrapped under the bare KEK (RFC 5649 with the file's key).
  const auto kek_bytes = ReadSecretFile(dir.File("kek"));
  ASSERT_TRUE(kek_bytes);
  const auto wrapped = crypto::WrapKey(kek_bytes->Expose(), packed.Expose());
  ASSERT_TRUE(wrapped);
  channel::v1::AgreementHeader header;
  proto::FillHeader(Params(), header);
  const std::string header_bytes = header.SerializeAsString();
  const nlohmann::json public_state{{"tags_out", nlohmann::json::array()},
                                    {"refusal_out", ""},
                                    {"inconsistent_hubs", nlohmann::json::array()},
                                    {"share_checks", nlohmann::json::object()},
                                    {"reason", "waiting for shares"},
                                    {"peer_tags", nlohmann::json::array()},
                                    {"peer_x25519", nlohmann::json::array()}};
  const auto sid = Params().sid;
  ASSERT_TRUE((*db)->Execute(
      "INSERT INTO agreements (sid, peer, role, state, header, public_state, wrapped_secrets,"
      " expires_at_ms, created_at_ms, changed_at_ms)"
      " VALUES ($1, 'device-a', 'responder', 'running', $2, $3, $4, $5, 1, 1)",
      {store::Blob(sid.begin(), sid.end()), store::Blob(header_bytes.begin(), header_bytes.end()),
       public_state.dump(), store::Blob(*wrapped), Params().expires_at_ms}));

  ASSERT_TRUE(store::Migrate(**db, migrations, SystemClock()));
  EXPECT_EQ(*store::SchemaVersion(**db), 7);
  EXPECT_FALSE((*db)->Query("SELECT public_state FROM agreements")) << "the old columns are gone";
  AgreementStore records(**db, **kek, [] { return std::int64_t{1'700'000'000'000}; });
  auto loaded = records.Load(sid);
  ASSERT_TRUE(loaded && *loaded) << (loaded ? "" : loaded.error().message);
  AgreementRecord& back = **loaded;
  EXPECT_EQ(back.state, AgreementState::kRunning);
  EXPECT_EQ(back.reason, "waiting for shares");
  ASSERT_TRUE(back.agreement);
  EXPECT_EQ(back.agreement->peer_share_count(), 2u);
  ExpectSameKey(*a, *back.agreement);
}

}  // namespace
}  // namespace skap::agent
