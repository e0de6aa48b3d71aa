// Pairwise sessions on a real agent.db: each side hands out keys of its own
// chain and fetches the other's by id, each key once, never the same key to
// both; the window; re-seeds.
#include "agent/store/session_store.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "agent/store/agent_schema.h"
#include "common/byte_writer.h"
#include "common/ct.h"
#include "common/hex.h"
#include "common/secret_file.h"
#include "crypto/key_wrap.h"
#include "store/migrations.h"
#include "unit/agent/store/agent_dir_fixture.h"

namespace skap::agent {
namespace {

std::string AsBlobText(const store::Value& v) {
  const auto blob = store::AsBlob(v).value_or(store::Blob{});
  return {blob.begin(), blob.end()};
}

// Two devices' sessions with each other, each in its own agent.db.
class SessionStoreTest : public AgentDirTest {
 protected:
  void SetUp() override {
    AgentDirTest::SetUp();
    auto peer = AgentDir::Open(dir_.File("peer"), true, rng_.get());
    ASSERT_TRUE(peer);
    peer_store_ = std::move(*peer);
    // Device "me" sorts before "peer": it hands out chain d = 0.
    mine_ = std::make_unique<SessionStore>(
        store_->db(), store_->kek(), "me", [this] { return now_ms_; }, kWindow);
    theirs_ = std::make_unique<SessionStore>(
        peer_store_->db(), peer_store_->kek(), "peer", [this] { return now_ms_; }, kWindow);
  }

  // Apply makes epoch `epoch` from the same K_AB on both sides.
  void Apply(std::uint64_t epoch, std::uint8_t pair_key_byte) {
    const std::vector<std::uint8_t> key(32, pair_key_byte);
    ApplyOn(*mine_, store_->db(), "peer", epoch, key);
    ApplyOn(*theirs_, peer_store_->db(), "me", epoch, key);
  }
  static void ApplyOn(SessionStore& sessions, store::Database& db, const std::string& peer,
                      std::uint64_t epoch, const std::vector<std::uint8_t>& key) {
    auto applied = store::InTransaction(
        db, [&] { return sessions.ApplyInCurrentTransaction(peer, epoch, key); });
    ASSERT_TRUE(applied) << applied.error().message;
  }

  static constexpr std::uint32_t kWindow = 4;
  std::unique_ptr<AgentDir> peer_store_;
  std::unique_ptr<SessionStore> mine_, theirs_;
};

TEST_F(SessionStoreTest, BothSidesHandOutKeysAtOnceAndNeverTheSameOne) {
  Apply(1, 0x11);
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    // Both sides hand out a next key at the same time, then each fetches the
    // other's by id: each pair matches, and no id comes out twice.
    auto a = mine_->NextKey("peer");
    auto b = theirs_->NextKey("me");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->id.epoch, 1u);
    EXPECT_EQ(a->id.direction, pairwise::ChainDirection::kLowerIssues);
    EXPECT_EQ(b->id.direction, pairwise::ChainDirection::kHigherIssues);
    EXPECT_EQ(a->id.index, static_cast<std::uint32_t>(i));
    EXPECT_EQ(b->id.index, static_cast<std::uint32_t>(i));
    EXPECT_EQ(a->key.size(), 32u);
    EXPECT_FALSE(ct::Equal(a->key.Expose(), b->key.Expose()));
    EXPECT_TRUE(ids.insert(a->key_id).second);
    EXPECT_TRUE(ids.insert(b->key_id).second);
    auto a_at_peer = theirs_->KeyById("me", a->key_id);
    auto b_at_me = mine_->KeyById("peer", b->key_id);
    ASSERT_TRUE(a_at_peer && b_at_me);
    EXPECT_TRUE(ct::Equal(a->key.Expose(), a_at_peer->key.Expose()));
    EXPECT_EQ(a->fingerprint, a_at_peer->fingerprint);
    EXPECT_TRUE(ct::Equal(b->key.Expose(), b_at_me->key.Expose()));
  }
  const auto info = *mine_->Get("peer");
  EXPECT_EQ(info->next_index, 3u);
  EXPECT_EQ(info->peer_next_index, 3u);
}

TEST_F(SessionStoreTest, AKeyGoesOncePerSideAndThePeerFetchesItById) {
  Apply(1, 0x22);
  auto a = mine_->NextKey("peer");
  ASSERT_TRUE(a);
  auto b = theirs_->KeyById("me", a->key_id);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_TRUE(ct::Equal(a->key.Expose(), b->key.Expose()));
  auto again = theirs_->KeyById("me", a->key_id);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  // The side that handed a key out as "next" does not fetch it by id.
  auto own = mine_->KeyById("peer", a->key_id);
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().code, ErrorCode::kNotFound);
  // The fetching side's own next key is the first of its own chain.
  auto next = theirs_->NextKey("me");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id.index, 0u);
  EXPECT_NE(next->key_id, a->key_id);
}

// WithIndex is `key_id` with its index replaced: what a consumer holding
// one id of a chain can forge (the index is not authenticated).
std::string WithIndex(const std::string& key_id, std::uint32_t index) {
  const auto id = pairwise::ParseKeyId(key_id);
  char last[9];
  std::snprintf(last, sizeof last, "%08x",
                (static_cast<std::uint32_t>(id->direction) << 31) | index);
  return key_id.substr(0, key_id.size() - 8) + last;
}

TEST_F(SessionStoreTest, KeysAheadAreFetchedAndOnlyTheOldestUnfetchedAgeOut) {
  Apply(1, 0x33);
  std::vector<IssuedKey> ahead;
  ahead.reserve(25);
  for (int i = 0; i < 4; ++i) ahead.push_back(std::move(*mine_->NextKey("peer")));
  // The peer fetches key 3 first, then 1: both come out right, and 0 and 2
  // wait.
  auto third = theirs_->KeyById("me", ahead[3].key_id);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_TRUE(ct::Equal(third->key.Expose(), ahead[3].key.Expose()));
  auto first = theirs_->KeyById("me", ahead[1].key_id);
  ASSERT_TRUE(first);
  EXPECT_TRUE(ct::Equal(first->key.Expose(), ahead[1].key.Expose()));
  EXPECT_EQ(theirs_->Get("me")->value().keys_waiting, 2);
  // The master runs 20 keys ahead, five times the window of 4: the key it
  // handed out last comes out, and so does every later one.
  for (int i = 0; i < 20; ++i) ahead.push_back(std::move(*mine_->NextKey("peer")));
  auto last = theirs_->KeyById("me", ahead[23].key_id);
  ASSERT_TRUE(last) << last.error().message;
  EXPECT_TRUE(ct::Equal(last->key.Expose(), ahead[23].key.Expose()));
  ahead.push_back(std::move(*mine_->NextKey("peer")));
  auto after = theirs_->KeyById("me", ahead[24].key_id);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_TRUE(ct::Equal(after->key.Expose(), ahead[24].key.Expose()));
  // The window keeps the last four stepped over (19 to 22); the two that
  // waited (0, 2) and the fifteen before 19 aged out, and status says so.
  const auto info = theirs_->Get("me")->value();
  EXPECT_EQ(info.keys_waiting, 4);
  EXPECT_EQ(info.keys_aged_out, 17);
  for (const int i : {19, 20, 21, 22}) {
    auto kept = theirs_->KeyById("me", ahead[static_cast<std::size_t>(i)].key_id);
    ASSERT_TRUE(kept) << i << ": " << kept.error().message;
    EXPECT_TRUE(ct::Equal(kept->key.Expose(), ahead[static_cast<std::size_t>(i)].key.Expose()));
  }
  for (const int i : {0, 2, 18}) {
    auto gone = theirs_->KeyById("me", ahead[static_cast<std::size_t>(i)].key_id);
    ASSERT_FALSE(gone) << i;
    EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  }
  // An id past the most keys a chain hands out in an epoch is no key: a
  // forged index costs no stepping.
  auto forged = theirs_->KeyById("me", WithIndex(ahead[0].key_id, pairwise::kMaxKeysPerEpoch));
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(theirs_->Get("me")->value().keys_aged_out, 17);
}

// What a forged index may cost: one stepping per epoch, never a repeated
// one. A key far ahead is not shown without being taken, and a request with
// a bad id anywhere in it steps nothing.
TEST_F(SessionStoreTest, AFarIdIsNeitherShownNorSteppedByARequestThatFails) {
  Apply(1, 0x35);
  std::vector<IssuedKey> ahead;
  ahead.reserve(24);
  for (int i = 0; i < 12; ++i) ahead.push_back(std::move(*mine_->NextKey("peer")));
  auto far = theirs_->PeekKeyById("me", ahead[10].key_id);
  ASSERT_FALSE(far);
  EXPECT_EQ(far.error().code, ErrorCode::kLimitExceeded) << "10 ahead, window 4";
  EXPECT_TRUE(theirs_->PeekKeyById("me", ahead[4].key_id)) << "within the window it is shown";
  // A far id, then one of this side's own chain: refused whole, and nothing
  // changes (every id is checked before any steps).
  auto mine = theirs_->NextKey("me");
  ASSERT_TRUE(mine);
  auto refused = theirs_->KeysById("me", {ahead[10].key_id, mine->key_id});
  ASSERT_FALSE(refused);
  const auto after = theirs_->Get("me")->value();
  EXPECT_EQ(after.peer_next_index, 0u);
  EXPECT_EQ(after.keys_aged_out, 0);
  EXPECT_EQ(after.keys_waiting, 0);
  EXPECT_EQ(theirs_->KeysById("me", {ahead[3].key_id, ahead[3].key_id}).error().code,
            ErrorCode::kInvalidArgument)
      << "one id twice";
  // Later ids before earlier ones in one request: all come out, in the
  // order asked, though stepping to 11 with a window of 4 would age 3 out.
  auto both = theirs_->KeysById("me", {ahead[11].key_id, ahead[3].key_id, ahead[7].key_id});
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ((*both)[0].key_id, ahead[11].key_id);
  EXPECT_TRUE(ct::Equal((*both)[0].key.Expose(), ahead[11].key.Expose()));
  EXPECT_TRUE(ct::Equal((*both)[1].key.Expose(), ahead[3].key.Expose()));
  EXPECT_TRUE(ct::Equal((*both)[2].key.Expose(), ahead[7].key.Expose()));
  // A waiting key, then one far enough ahead to age it out: both come out.
  // (Within one epoch chain order alone gives this; the waiting-first order
  // matters across epochs, which this does not reach.)
  for (int i = 0; i < 12; ++i) ahead.push_back(std::move(*mine_->NextKey("peer")));
  auto fetched = theirs_->KeysById("me", {ahead[16].key_id});  // 12 to 15 wait
  ASSERT_TRUE(fetched) << fetched.error().message;
  auto pair = theirs_->KeysById("me", {ahead[23].key_id, ahead[12].key_id});
  ASSERT_TRUE(pair) << pair.error().message;
  EXPECT_TRUE(ct::Equal((*pair)[1].key.Expose(), ahead[12].key.Expose()));
}

TEST_F(SessionStoreTest, APeekShowsTheKeyThatWillBeHandedOutAndTakesNothing) {
  Apply(1, 0x37);
  // This side's next key: shown twice, the same; then handed out, the same.
  auto shown = mine_->PeekNextKey("peer");
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_EQ(mine_->PeekNextKey("peer")->key_id, shown->key_id);
  auto taken = mine_->NextKey("peer");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->key_id, shown->key_id);
  EXPECT_TRUE(ct::Equal(taken->key.Expose(), shown->key.Expose()));
  EXPECT_NE(mine_->PeekNextKey("peer")->key_id, shown->key_id) << "the next is another";
  // The peer's side, by id, ahead of its chain and then skipped: the peek
  // writes no skipped key and moves no chain, so the window stays whole.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(mine_->NextKey("peer"));
  auto fourth = mine_->NextKey("peer");  // index 4
  ASSERT_TRUE(fourth);
  for (int i = 0; i < 3; ++i) {
    auto peeked = theirs_->PeekKeyById("me", fourth->key_id);
    ASSERT_TRUE(peeked) << peeked.error().message;
    EXPECT_EQ(peeked->fingerprint, fourth->fingerprint);
  }
  EXPECT_EQ((*theirs_->Get("me"))->peer_next_index, 0u) << "a peek moves no chain";
  auto got = theirs_->KeyById("me", fourth->key_id);
  ASSERT_TRUE(got);
  EXPECT_TRUE(ct::Equal(got->key.Expose(), fourth->key.Expose()));
  // A skipped key is shown and stays; a key handed out is gone for a peek too.
  const auto& first = taken->key_id;
  EXPECT_EQ(theirs_->PeekKeyById("me", first)->fingerprint, taken->fingerprint);
  EXPECT_TRUE(theirs_->KeyById("me", first));
  auto gone = theirs_->PeekKeyById("me", first);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  // A key reserved in memory is the one shown.
  SessionStore reserving(
      store_->db(), store_->kek(), "me", [this] { return now_ms_; }, kWindow, 8);
  ASSERT_TRUE(reserving.NextKey("peer"));
  auto next_reserved = reserving.PeekNextKey("peer");
  ASSERT_TRUE(next_reserved);
  EXPECT_EQ(reserving.NextKey("peer")->key_id, next_reserved->key_id);
  auto none = mine_->PeekNextKey("nobody");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
}

TEST_F(SessionStoreTest, ASessionPastItsMaxAgeServesNoKeyUntilReSeeded) {
  constexpr std::chrono::milliseconds kMaxAge{3'600'000};
  SessionStore mine(
      store_->db(), store_->kek(), "me", [this] { return now_ms_; }, kWindow, 8, kMaxAge);
  SessionStore theirs(
      peer_store_->db(), peer_store_->kek(), "peer", [this] { return now_ms_; }, kWindow, 1,
      kMaxAge);
  Apply(1, 0x38);
  auto later = mine_->NextKey("peer");  // the peer fetches it by id below
  ASSERT_TRUE(later);
  ASSERT_TRUE(mine.NextKey("peer"));  // reserves 8 in memory
  now_ms_ += kMaxAge.count();
  EXPECT_TRUE(mine.NextKey("peer")) << "at the bound itself it still serves";
  EXPECT_FALSE((*mine.Get("peer"))->expired);
  now_ms_ += 1;
  EXPECT_TRUE((*mine.Get("peer"))->expired);
  const auto refused = [](const auto& result, const char* what) {
    ASSERT_FALSE(result) << what;
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable) << what;
    EXPECT_NE(result.error().message.find("session_max_age_s"), std::string::npos);
  };
  refused(mine.NextKey("peer"), "a next key, even one reserved in memory");
  refused(mine.PeekNextKey("peer"), "a peek");
  refused(theirs.KeyById("me", later->key_id), "a key by id");
  refused(theirs.PeekKeyById("me", later->key_id), "a peek by id");
  refused(mine.CurrentPpk("peer"), "the PPK");
  // A re-seed serves again, the previous epoch's keys by id too.
  Apply(2, 0x39);
  EXPECT_FALSE((*mine.Get("peer"))->expired);
  EXPECT_TRUE(mine.NextKey("peer"));
  auto by_id = theirs.KeyById("me", later->key_id);
  ASSERT_TRUE(by_id) << by_id.error().message;
  EXPECT_TRUE(ct::Equal(by_id->key.Expose(), later->key.Expose()));
  EXPECT_TRUE(mine.CurrentPpk("peer"));
}

TEST_F(SessionStoreTest, AReSeedMakesNewKeysAndKeepsThePreviousEpochById) {
  Apply(1, 0x44);
  auto old = mine_->NextKey("peer");
  ASSERT_TRUE(old);
  Apply(2, 0x55);
  auto a = mine_->NextKey("peer");
  ASSERT_TRUE(a);
  auto b = theirs_->KeyById("me", a->key_id);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(a->id.epoch, 2u);
  EXPECT_TRUE(ct::Equal(a->key.Expose(), b->key.Expose()));
  EXPECT_NE(a->key_id.substr(0, 18), old->key_id.substr(0, 18)) << "a new T_e";
  // The peer can still fetch epoch 1's key by id until the next re-seed.
  auto late = theirs_->KeyById("me", old->key_id);
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_TRUE(ct::Equal(late->key.Expose(), old->key.Expose()));
  // Only the next epoch follows; epoch 1 starts afresh.
  auto skipped = store::InTransaction(store_->db(), [&] {
    return mine_->ApplyInCurrentTransaction("peer", 4, std::vector<std::uint8_t>(32, 1));
  });
  ASSERT_FALSE(skipped);
  EXPECT_NE(skipped.error().message.find("session epoch mismatch"), std::string::npos);
  Apply(1, 0x66);
  EXPECT_EQ((*mine_->Get("peer"))->epoch, 1u);
  EXPECT_FALSE((*mine_->Get("peer"))->previous_epoch);
}

// The peer hands out keys of an epoch as soon as it confirmed it; a key of
// the epoch after the one held, asked for here before this side confirms, is
// "not yet" (retry), not "gone", and is handed out once the epoch is here.
TEST_F(SessionStoreTest, AKeyOfTheNextEpochIsNotYetHereRatherThanGone) {
  const std::vector<std::uint8_t> first(32, 0x31);
  const std::vector<std::uint8_t> second(32, 0x32);
  ApplyOn(*mine_, store_->db(), "peer", 1, first);
  auto early = mine_->NextKey("peer");
  ASSERT_TRUE(early);
  auto none = theirs_->KeyById("me", early->key_id);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound) << "no session: no re-seed under way";
  ApplyOn(*theirs_, peer_store_->db(), "me", 1, first);
  ApplyOn(*mine_, store_->db(), "peer", 2, second);
  auto ahead = mine_->NextKey("peer");
  ASSERT_TRUE(ahead);
  auto wait = theirs_->KeyById("me", ahead->key_id);
  ASSERT_FALSE(wait);
  EXPECT_EQ(wait.error().code, ErrorCode::kUnavailable) << wait.error().message;
  EXPECT_NE(wait.error().message.find("retry"), std::string::npos);
  // Two epochs ahead is no re-seed under way: not found.
  const std::string far = pairwise::FormatKeyId({1, 2, 3, 4, 5, 6, 7, 8},
                                                {4, pairwise::ChainDirection::kLowerIssues, 0});
  EXPECT_EQ(theirs_->KeyById("me", far).error().code, ErrorCode::kNotFound);
  ApplyOn(*theirs_, peer_store_->db(), "me", 2, second);
  auto got = theirs_->KeyById("me", ahead->key_id);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_TRUE(ct::Equal(got->key.Expose(), ahead->key.Expose()));
  auto first_key = theirs_->KeyById("me", early->key_id);
  ASSERT_TRUE(first_key) << "epoch 1's key is still there by id";
  EXPECT_TRUE(ct::Equal(first_key->key.Expose(), early->key.Expose()));
}

TEST_F(SessionStoreTest, NoSessionNoKeyAndForeignIdsAreRefused) {
  EXPECT_EQ(mine_->NextKey("peer").error().code, ErrorCode::kNotFound);
  Apply(1, 0x77);
  EXPECT_EQ(mine_->KeyById("peer", "not-an-id").error().code, ErrorCode::kInvalidArgument);
  // An id of another session (another tag) is not found, not derived.
  const std::string foreign = pairwise::FormatKeyId(
      {9, 9, 9, 9, 9, 9, 9, 9}, {1, pairwise::ChainDirection::kHigherIssues, 0});
  EXPECT_EQ(mine_->KeyById("peer", foreign).error().code, ErrorCode::kNotFound);
}

TEST_F(SessionStoreTest, ManyKeysAtOnceAllOrNone) {
  Apply(1, 0x13);
  auto batch = mine_->NextKeys("peer", 3);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 3u);
  // One id the peer cannot hand out (its own chain's) spoils the request,
  // and leaves the other keys where they were.
  auto own = theirs_->NextKey("me");
  ASSERT_TRUE(own);
  auto spoiled = theirs_->KeysById("me", {(*batch)[0].key_id, own->key_id});
  ASSERT_FALSE(spoiled);
  EXPECT_EQ(spoiled.error().code, ErrorCode::kNotFound);
  auto all = theirs_->KeysById("me", {(*batch)[2].key_id, (*batch)[0].key_id, (*batch)[1].key_id});
  ASSERT_TRUE(all) << all.error().message;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& want = (*batch)[i == 0 ? 2 : i - 1];
    EXPECT_EQ((*all)[i].key_id, want.key_id);
    EXPECT_TRUE(ct::Equal((*all)[i].key.Expose(), want.key.Expose()));
  }
  EXPECT_FALSE(theirs_->KeysById("me", {(*batch)[1].key_id})) << "handed out once";
}

TEST_F(SessionStoreTest, KeysReservedInOneCommitAreNeverHandedOutTwice) {
  Apply(1, 0x14);
  SessionStore reserving(
      store_->db(), store_->kek(), "me", [this] { return now_ms_; }, kWindow, 8);
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_EQ(reserving.NextKey("peer")->id.index, i);
  EXPECT_EQ((*reserving.Get("peer"))->next_index, 8u) << "one commit took 8 keys off the chain";
  // A restart (a new store on the same database) drops the 5 reserved but
  // not handed out: this side goes on after them, never back.
  SessionStore restarted(
      store_->db(), store_->kek(), "me", [this] { return now_ms_; }, kWindow, 8);
  auto next = restarted.NextKey("peer");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id.index, 8u);
  // The peer can still fetch a dropped key by id (key 3: the id's last 8
  // hex digits are d·2^31 + j), though nobody on this side was given it.
  const std::string dropped = next->key_id.substr(0, 28) + "00000003";
  EXPECT_TRUE(theirs_->KeyById("me", dropped));
  // A re-seed drops the old epoch's reserve: the next key is the new epoch's first.
  Apply(2, 0x15);
  auto fresh = restarted.NextKey("peer");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->id.epoch, 2u);
  EXPECT_EQ(fresh->id.index, 0u);
  auto at_peer = theirs_->KeyById("me", fresh->key_id);
  ASSERT_TRUE(at_peer);
  EXPECT_TRUE(ct::Equal(at_peer->key.Expose(), fresh->key.Expose()));
}

TEST_F(SessionStoreTest, EachPoolReservesItsOwnRunAndNamesItOnceInItsCommit) {
  Apply(1, 0x16);
  SessionStore reserving(
      store_->db(), store_->kek(), "me", [this] { return now_ms_; }, kWindow, 8);
  std::vector<std::pair<std::string, std::vector<pairwise::KeyId>>> runs;
  auto record = [&runs](const std::string& pool) {
    return [&runs, pool](const std::vector<pairwise::KeyId>& run) -> Result<void> {
      runs.emplace_back(pool, run);
      return Ok();
    };
  };
  // Pool "a" takes a run of 8 and is told so once; its next keys commit
  // nothing and name nothing.
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto k = reserving.NextKeys("peer", 1, "a", record("a"));
    ASSERT_TRUE(k);
    EXPECT_EQ(k->front().id.index, i);
  }
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_EQ(runs[0].second.size(), 8u);
  EXPECT_EQ(runs[0].second.front().index, 0u);
  EXPECT_EQ(runs[0].second.back().index, 7u);
  // Pool "b" never gets a key of "a"'s run: its own run starts after it.
  auto b = reserving.NextKeys("peer", 2, "b", record("b"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->front().id.index, 8u);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].first, "b");
  EXPECT_EQ(runs[1].second.front().index, 8u);
  // A request larger than what is left takes one more run of at least
  // what is missing, named in its own commit.
  auto many = reserving.NextKeys("peer", 12, "a", record("a"));
  ASSERT_TRUE(many);
  EXPECT_EQ(many->front().id.index, 3u);
  EXPECT_EQ(many->back().id.index, 22u) << "5 left of the first run, then 7 of 16..23";
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[2].second.front().index, 16u);
  EXPECT_EQ(runs[2].second.size(), 8u);
  // A run whose notice fails is not taken: the chain stays where it was.
  const auto before = (*reserving.Get("peer"))->next_index;
  auto refused = reserving.NextKeys("peer", 1, "c", [](const std::vector<pairwise::KeyId>&) {
    return Result<void>(Unexpected(ErrorCode::kIoError, "no room for the notice"));
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "no room for the notice");
  EXPECT_EQ((*reserving.Get("peer"))->next_index, before);
  auto c = reserving.NextKeys("peer", 1, "c", record("c"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->front().id.index, before);
  // The peek of a pool shows that pool's next key, not another pool's.
  auto peek = reserving.PeekNextKey("peer", "a");
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->id.index, 23u);
  auto peek_b = reserving.PeekNextKey("peer", "b");
  ASSERT_TRUE(peek_b);
  EXPECT_EQ(peek_b->id.index, 10u);
}

TEST_F(SessionStoreTest, SessionKeysAreStoredWrapped) {
  Apply(1, 0x12);
  auto key = mine_->NextKey("peer");
  ASSERT_TRUE(key);
  auto rows = store_->db().Query(
      "SELECT wrapped_root, 'session root', peer || '/' || epoch FROM sessions UNION ALL"
      " SELECT wrapped_chain, 'chain key', peer || '/' || epoch || '/' || direction FROM chains");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 3u) << "the root and two chains";
  for (const auto& row : *rows) {
    const auto blob = store::AsBlob(row[0]).value_or(store::Blob{});
    EXPECT_EQ(blob.size(), 56u) << "48 bytes wrapped with RFC 5649 padding";
    // Bound to the row (keystore.h): RowOf(peer, epoch[, direction]).
    std::vector<std::string> parts;
    std::stringstream in(store::AsText(row[2]).value_or(""));
    for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
    const std::string purpose = store::AsText(row[1]).value_or("");
    const std::string bound = parts.size() == 2 ? keystore::RowOf({parts[0], parts[1]})
                                                : keystore::RowOf({parts[0], parts[1], parts[2]});
    EXPECT_TRUE(store_->kek().Unwrap(blob, {purpose, bound})) << purpose;
    EXPECT_FALSE(store_->kek().Unwrap(blob, {purpose, keystore::RowOf({"another peer", "1"})}));
    EXPECT_FALSE(store_->kek().UnwrapUnbound(blob)) << purpose;
  }
}

// Forward secrecy on disk: once a key is handed out, the wrapped chain key
// that derived it is in no file of the data directory (a later theft of the
// KEK and the files must not rebuild keys handed out).
TEST_F(SessionStoreTest, AChainKeyRatchetedPastLeavesEveryFile) {
  Apply(1, 0x13);
  const auto wrapped_chain = [&] {
    auto rows = store_->db().Query("SELECT wrapped_chain FROM chains WHERE direction = 0");
    return std::string(AsBlobText((*rows)[0][0]));
  };
  const std::string before = wrapped_chain();
  ASSERT_TRUE(mine_->NextKey("peer"));
  ASSERT_NE(wrapped_chain(), before);
  ASSERT_TRUE(store_->db().ScrubLog());
  for (const auto& entry : std::filesystem::directory_iterator(dir_.File("agent"))) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(before), std::string::npos) << entry.path() << " holds the old chain key";
  }
}

// The peer channel's PS_e: the same on both sides, one per epoch held (the
// current and the previous), stored wrapped, and gone with its epoch.
TEST_F(SessionStoreTest, PeerSecretsFollowTheEpochsHeld) {
  Apply(1, 0x21);
  auto mine = mine_->PeerSecrets("peer");
  auto theirs = theirs_->PeerSecrets("me");
  ASSERT_TRUE(mine && theirs);
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].epoch, 1u);
  EXPECT_EQ(HexEncode((*mine)[0].secret.Expose()), HexEncode((*theirs)[0].secret.Expose()));
  Apply(2, 0x22);
  Apply(3, 0x23);
  mine = mine_->PeerSecrets("peer");
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].epoch, 3u) << "current first";
  EXPECT_EQ((*mine)[1].epoch, 2u);
  EXPECT_NE(HexEncode((*mine)[0].secret.Expose()), HexEncode((*mine)[1].secret.Expose()));
  auto rows = store_->db().Query("SELECT wrapped_secret FROM peer_secrets");
  ASSERT_TRUE(rows);
  for (const auto& row : *rows) {
    const auto blob = store::AsBlob(row[0]).value_or(store::Blob{});
    EXPECT_EQ(blob.size(), 40u) << "32 bytes wrapped (RFC 5649)";
  }
  EXPECT_FALSE(mine_->PeerSecrets("stranger"));
}

// An agent of schema version 5 wrapped every key under the bare KEK.
// Version 6 rewraps each bound to its row, and the session goes on with the
// same keys; a skipped key (out of order) is carried over too.
TEST_F(SessionStoreTest, KeysWrappedBeforeBindingsAreBoundByTheUpgrade) {
  Apply(1, 0x21);
  auto first = theirs_->NextKey("me");
  auto second = theirs_->NextKey("me");
  ASSERT_TRUE(first && second);
  // "me" fetches the second by id first: the first becomes a skipped key.
  ASSERT_TRUE(mine_->KeyById("peer", second->key_id));
  auto next = mine_->PeekNextKey("peer");
  ASSERT_TRUE(next);
  auto ppk = mine_->CurrentPpk("peer");
  ASSERT_TRUE(ppk);

  // Back to version 5: each key of sessions, chains, peer_secrets and
  // skipped_keys wrapped as version 5 wrapped it.
  const auto kek = ReadSecretFile(dir_.File("agent") + "/local.kek");
  ASSERT_TRUE(kek);
  store::Database& db = store_->db();
  struct Column {
    const char* table;
    const char* column;
    const char* purpose;
    const char* key;  // the row's key, as SQL that joins it with '/'
    const char* where;
  };
  const Column columns[] = {
      {"sessions", "wrapped_root", "session root", "peer || '/' || epoch",
       "peer = $2 AND epoch = $3"},
      {"peer_secrets", "wrapped_secret", "peer secret", "peer || '/' || epoch",
       "peer = $2 AND epoch = $3"},
      {"chains", "wrapped_chain", "chain key", "peer || '/' || epoch || '/' || direction",
       "peer = $2 AND epoch = $3 AND direction = $4"},
      {"skipped_keys", "wrapped_key", "skipped key",
       "peer || '/' || epoch || '/' || direction || '/' || idx",
       "peer = $2 AND epoch = $3 AND direction = $4 AND idx = $5"}};
  int rewrapped = 0;
  for (const Column& c : columns) {
    auto rows = db.Query(std::string("SELECT ") + c.column + ", " + c.key + " FROM " + c.table);
    ASSERT_TRUE(rows);
    for (const auto& row : *rows) {
      std::vector<std::string> parts;
      std::stringstream in(store::AsText(row[1]).value_or(""));
      for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
      std::vector<std::uint8_t> joined;
      for (const auto& part : parts) AppendField32(joined, part);
      const std::string bound(joined.begin(), joined.end());
      auto key =
          store_->kek().Unwrap(store::AsBlob(row[0]).value_or(store::Blob{}), {c.purpose, bound});
      ASSERT_TRUE(key) << c.table;
      auto unbound = crypto::WrapKey(kek->Expose(), key->Expose());
      ASSERT_TRUE(unbound);
      const std::string sql =
          std::string("UPDATE ") + c.table + " SET " + c.column + " = $1 WHERE " + c.where;
      const store::Blob value(*unbound);
      const std::int64_t epoch = std::stoll(parts[1]);
      auto done = parts.size() == 2 ? db.Execute(sql, {value, parts[0], epoch})
                  : parts.size() == 3
                      ? db.Execute(sql, {value, parts[0], epoch, std::stoll(parts[2])})
                      : db.Execute(sql, {value, parts[0], epoch, std::stoll(parts[2]),
                                         std::stoll(parts[3])});
      ASSERT_TRUE(done && *done == 1) << c.table;
      ++rewrapped;
    }
  }
  EXPECT_EQ(rewrapped, 1 + 1 + 2 + 1) << "root, PS_1, two chains, one skipped key";
  ASSERT_TRUE(db.Execute("ALTER TABLE sessions DROP COLUMN keys_aged_out"));  // version 7's
  ASSERT_TRUE(db.Execute("DELETE FROM schema_migrations WHERE version >= 6"));
  EXPECT_FALSE(mine_->PeekNextKey("peer")) << "unbound keys are refused";

  ASSERT_TRUE(store::Migrate(db, AgentMigrations(store_->kek()), SystemClock()));
  EXPECT_EQ(*store::SchemaVersion(db), 7);
  auto same_next = mine_->PeekNextKey("peer");
  ASSERT_TRUE(same_next) << same_next.error().message;
  EXPECT_TRUE(ct::Equal(same_next->key.Expose(), next->key.Expose()));
  auto same_ppk = mine_->CurrentPpk("peer");
  ASSERT_TRUE(same_ppk);
  EXPECT_TRUE(ct::Equal(same_ppk->ppk.Expose(), ppk->ppk.Expose()));
  auto skipped = mine_->KeyById("peer", first->key_id);
  ASSERT_TRUE(skipped) << skipped.error().message;
  EXPECT_TRUE(ct::Equal(skipped->key.Expose(), first->key.Expose()));
}

}  // namespace
}  // namespace skap::agent
