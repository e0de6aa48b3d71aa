// Both sides of an agreement with the hubs simulated in memory: which hubs
// are up, and which corrupt what they carry. (The same runs through real
// skapd hubs are integration tests.)
#include "pairwise/agreement.h"

#include <set>

#include <gtest/gtest.h>

#include "common/ct.h"
#include "unit/crypto/test_rng.h"

namespace skap::pairwise {
namespace {

AgreementParams Params(unsigned k, unsigned n) {
  AgreementParams p;
  p.sid.fill(0x5a);
  p.initiator = "device-a";
  p.responder = "device-b";
  for (unsigned i = 1; i <= n; ++i) p.hub_set.push_back("hub-" + std::to_string(i));
  p.threshold = k;
  p.expires_at_ms = 1'800'000'000'000;
  return p;
}

struct Outcome {
  bool initiator_confirmed = false;
  bool responder_confirmed = false;
  bool same_key = false;
  std::vector<unsigned> initiator_blames, responder_blames;
};

// RunAgreement carries both sides' shares through the hubs in `live`; hubs in
// `corrupt` flip a byte of every share they forward. Tags travel directly.
Outcome RunAgreement(unsigned k, unsigned n, const std::set<unsigned>& live,
                     const std::set<unsigned>& corrupt, crypto::Rng& rng) {
  auto a = Agreement::Start(Params(k, n), Role::kInitiator, rng);
  auto b = Agreement::Start(Params(k, n), Role::kResponder, rng);
  EXPECT_TRUE(a && b);
  const auto carry = [&](const Agreement& from, Agreement& to) {
    for (unsigned hub : live) {
      std::vector<std::uint8_t> y(from.OwnShare(hub).begin(), from.OwnShare(hub).end());
      if (corrupt.count(hub) != 0) y[hub % y.size()] ^= 0x01;
      EXPECT_TRUE(to.AddPeerShare(hub, y));
    }
  };
  carry(*a, *b);
  carry(*b, *a);
  EXPECT_TRUE(b->TryConfirm()) << "no tags yet is not an error";
  a->AddPeerTags(*b->TagsToSend());
  EXPECT_TRUE(a->TryConfirm());
  b->AddPeerTags(*a->TagsToSend());
  EXPECT_TRUE(b->TryConfirm());
  Outcome out;
  out.initiator_confirmed = a->confirmed();
  out.responder_confirmed = b->confirmed();
  out.same_key =
      a->confirmed() && b->confirmed() && ct::Equal(a->key().Expose(), b->key().Expose());
  out.initiator_blames = a->inconsistent_hubs();
  out.responder_blames = b->inconsistent_hubs();
  if (!a->confirmed()) {
    EXPECT_TRUE(a->key().empty()) << "no key before confirmation";
  }
  if (!b->confirmed()) {
    EXPECT_TRUE(b->key().empty()) << "no key before confirmation";
  }
  return out;
}

TEST(AgreementTest, EverySubsetOfAtLeastKLiveHubsAgreesAndFewerFailCleanly) {
  auto rng = testing::SeededRng("agreement subsets");
  for (unsigned n = 1; n <= 5; ++n) {
    for (unsigned k = 1; k <= n; ++k) {
      for (unsigned mask = 0; mask < (1u << n); ++mask) {
        std::set<unsigned> live;
        for (unsigned i = 0; i < n; ++i) {
          if ((mask & (1u << i)) != 0) live.insert(i + 1);
        }
        SCOPED_TRACE(std::to_string(k) + "-of-" + std::to_string(n) + ", live mask " +
                     std::to_string(mask));
        const auto out = RunAgreement(k, n, live, {}, *rng);
        if (live.size() >= k) {
          EXPECT_TRUE(out.same_key);
          EXPECT_TRUE(out.initiator_blames.empty());
          EXPECT_TRUE(out.responder_blames.empty());
        } else {
          EXPECT_FALSE(out.initiator_confirmed);
          EXPECT_FALSE(out.responder_confirmed);
        }
      }
    }
  }
}

TEST(AgreementTest, ACorruptingHubIsNamedAndTheAgreementCompletesWhenNExceedsK) {
  auto rng = testing::SeededRng("agreement corruption");
  for (unsigned n = 1; n <= 5; ++n) {
    for (unsigned k = 1; k <= n; ++k) {
      std::set<unsigned> all;
      for (unsigned i = 1; i <= n; ++i) all.insert(i);
      for (unsigned bad = 1; bad <= n; ++bad) {
        SCOPED_TRACE(std::to_string(k) + "-of-" + std::to_string(n) + ", hub " +
                     std::to_string(bad) + " corrupts");
        const auto out = RunAgreement(k, n, all, {bad}, *rng);
        if (n > k) {
          EXPECT_TRUE(out.same_key);
          EXPECT_EQ(out.initiator_blames, std::vector<unsigned>{bad});
          EXPECT_EQ(out.responder_blames, std::vector<unsigned>{bad});
        } else {
          // Nothing to tell the right value from a wrong one: no key, on
          // either side, rather than two different keys.
          EXPECT_FALSE(out.initiator_confirmed);
          EXPECT_FALSE(out.responder_confirmed);
        }
      }
    }
  }
}

TEST(AgreementTest, TwoCorruptingHubsOfFiveWithThresholdTwo) {
  auto rng = testing::SeededRng("agreement two corrupt");
  const auto out = RunAgreement(2, 5, {1, 2, 3, 4, 5}, {2, 4}, *rng);
  EXPECT_TRUE(out.same_key);
  EXPECT_EQ(out.initiator_blames, (std::vector<unsigned>{2, 4}));
  EXPECT_EQ(out.responder_blames, (std::vector<unsigned>{2, 4}));
}

TEST(AgreementTest, AShareThatArrivesAfterConfirmationIsJudgedByItsCheckValue) {
  auto rng = testing::SeededRng("late share");
  auto a = Agreement::Start(Params(2, 4), Role::kInitiator, *rng);
  auto b = Agreement::Start(Params(2, 4), Role::kResponder, *rng);
  ASSERT_TRUE(a && b);
  // Hubs 1 and 3 deliver before the confirmation; 2 and 4 not yet.
  for (unsigned hub : {1U, 3U}) {
    ASSERT_TRUE(b->AddPeerShare(hub, a->OwnShare(hub)));
    ASSERT_TRUE(a->AddPeerShare(hub, b->OwnShare(hub)));
  }
  ASSERT_TRUE(b->TryConfirm());
  a->AddPeerTags(*b->TagsToSend());
  ASSERT_TRUE(*a->TryConfirm());
  const auto& checks = a->share_checks();
  ASSERT_EQ(checks.size(), 2u);
  ASSERT_EQ(checks.count(2), 1u);
  ASSERT_EQ(checks.count(4), 1u);
  // The late honest share matches its check, a corrupted one does not.
  const std::vector<std::uint8_t> honest(b->OwnShare(2).begin(), b->OwnShare(2).end());
  std::vector<std::uint8_t> corrupted = honest;
  corrupted[7] ^= 0x20;
  EXPECT_TRUE(ct::Equal(*ShareCheck(a->params(), 2, honest), checks.at(2)));
  EXPECT_FALSE(ct::Equal(*ShareCheck(a->params(), 2, corrupted), checks.at(2)));
  EXPECT_FALSE(ct::Equal(*ShareCheck(a->params(), 4, honest), checks.at(4))) << "bound to its hub";
}

TEST(AgreementTest, HybridModeAgreesOneKeyAndIgnoresAForgedResponderKey) {
  auto rng = testing::SeededRng("hybrid");
  auto a = Agreement::Start(Params(2, 3), Role::kInitiator, *rng, /*hybrid=*/true);
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->params().hybrid());
  auto b = Agreement::Start(a->params(), Role::kResponder, *rng);
  ASSERT_TRUE(b);
  ASSERT_EQ(b->responder_public().size(), 32u);
  for (unsigned hub = 1; hub <= 3; ++hub) {
    ASSERT_TRUE(b->AddPeerShare(hub, a->OwnShare(hub)));
    ASSERT_TRUE(a->AddPeerShare(hub, b->OwnShare(hub)));
  }
  ASSERT_TRUE(b->TryConfirm());
  // A P_B a hub slipped in beside the real one is tried and fails to match.
  std::vector<std::uint8_t> forged(b->responder_public().begin(), b->responder_public().end());
  forged[0] ^= 0x40;
  a->AddPeerTags(*b->TagsToSend(), forged);
  EXPECT_FALSE(*a->TryConfirm()) << "tags made with the real P_B do not match a forged one";
  a->AddPeerTags(*b->TagsToSend(), b->responder_public());
  ASSERT_TRUE(*a->TryConfirm());
  b->AddPeerTags(*a->TagsToSend());
  ASSERT_TRUE(*b->TryConfirm());
  EXPECT_TRUE(ct::Equal(a->key().Expose(), b->key().Expose()));
}

TEST(AgreementTest, AHybridAgreementSurvivesASnapshot) {
  auto rng = testing::SeededRng("hybrid snapshot");
  auto a = Agreement::Start(Params(1, 1), Role::kInitiator, *rng, true);
  ASSERT_TRUE(a);
  auto b = Agreement::Start(a->params(), Role::kResponder, *rng);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->AddPeerShare(1, a->OwnShare(1)));
  auto restored_b = Agreement::Restore(*b->TakeSnapshot());
  ASSERT_TRUE(restored_b) << restored_b.error().message;
  EXPECT_TRUE(std::equal(restored_b->responder_public().begin(),
                         restored_b->responder_public().end(), b->responder_public().begin(),
                         b->responder_public().end()));
  ASSERT_TRUE(a->AddPeerShare(1, restored_b->OwnShare(1)));
  a->AddPeerTags(*restored_b->TagsToSend(), restored_b->responder_public());
  auto restored_a = Agreement::Restore(*a->TakeSnapshot());
  ASSERT_TRUE(restored_a) << restored_a.error().message;
  ASSERT_TRUE(*restored_a->TryConfirm());
  restored_b->AddPeerTags(*restored_a->TagsToSend());
  ASSERT_TRUE(*restored_b->TryConfirm());
  EXPECT_TRUE(ct::Equal(restored_a->key().Expose(), restored_b->key().Expose()));
}

TEST(AgreementTest, AReplayedShareIsIgnoredAndAnAlteredOneRefused) {
  auto rng = testing::SeededRng("agreement replay");
  auto a = Agreement::Start(Params(2, 3), Role::kInitiator, *rng);
  auto b = Agreement::Start(Params(2, 3), Role::kResponder, *rng);
  ASSERT_TRUE(a && b);
  std::vector<std::uint8_t> y(a->OwnShare(1).begin(), a->OwnShare(1).end());
  EXPECT_TRUE(b->AddPeerShare(1, y));
  EXPECT_TRUE(b->AddPeerShare(1, y)) << "the same share again is harmless";
  EXPECT_EQ(b->peer_share_count(), 1u);
  y[0] ^= 0xff;
  EXPECT_EQ(b->AddPeerShare(1, y).error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(b->AddPeerShare(4, y)) << "no hub 4 in a set of 3";
  EXPECT_FALSE(b->AddPeerShare(0, y));
  EXPECT_EQ(b->Status(), "waiting for shares (1 of 2 needed)");
}

TEST(AgreementTest, TagsFromAnotherAgreementDoNotConfirm) {
  auto rng = testing::SeededRng("agreement foreign tags");
  auto a = Agreement::Start(Params(1, 1), Role::kInitiator, *rng);
  auto b = Agreement::Start(Params(1, 1), Role::kResponder, *rng);
  auto other = Params(1, 1);
  other.sid.fill(0x77);
  auto c = Agreement::Start(other, Role::kResponder, *rng);
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(b->AddPeerShare(1, a->OwnShare(1)));
  ASSERT_TRUE(c->AddPeerShare(1, a->OwnShare(1)));
  ASSERT_TRUE(a->AddPeerShare(1, b->OwnShare(1)));
  a->AddPeerTags(*c->TagsToSend());  // same shares, another sid
  EXPECT_FALSE(*a->TryConfirm());
  a->AddPeerTags(*b->TagsToSend());
  EXPECT_TRUE(*a->TryConfirm());
  EXPECT_EQ(a->Status(), "confirmed");
}

}  // namespace
}  // namespace skap::pairwise
