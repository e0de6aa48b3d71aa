// Both sides of an agreement with the hubs simulated in memory: which hubs
// are up, and which corrupt what they carry. (The same runs through real
// skapd hubs are integration tests.)
#include "pairwise/agreement.h"

#include <algorithm>
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
  a->AddPeerTags(1, *b->TagsToSend());
  EXPECT_TRUE(a->TryConfirm());
  b->AddPeerTags(1, *a->TagsToSend());
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

// Every set of up to n - k corrupting hubs, for every k <= n <= 5 (with
// n = 5, k = 3 and hubs 1 and 2 corrupting, ten candidates tie and the
// right one is rebuilt last): one key, and exactly the corrupting hubs named.
TEST(AgreementTest, EverySetOfAtMostNMinusKCorruptingHubs) {
  auto rng = testing::SeededRng("agreement corrupt sets");
  for (unsigned n = 1; n <= 5; ++n) {
    for (unsigned k = 1; k <= n; ++k) {
      std::set<unsigned> all;
      for (unsigned i = 1; i <= n; ++i) all.insert(i);
      for (unsigned mask = 0; mask < (1u << n); ++mask) {
        std::set<unsigned> corrupt;
        for (unsigned i = 0; i < n; ++i) {
          if ((mask & (1u << i)) != 0) corrupt.insert(i + 1);
        }
        if (corrupt.size() > n - k) continue;
        SCOPED_TRACE(std::to_string(k) + "-of-" + std::to_string(n) + ", corrupt mask " +
                     std::to_string(mask));
        const auto out = RunAgreement(k, n, all, corrupt, *rng);
        const std::vector<unsigned> named(corrupt.begin(), corrupt.end());
        EXPECT_TRUE(out.same_key);
        EXPECT_EQ(out.initiator_blames, named);
        EXPECT_EQ(out.responder_blames, named);
      }
    }
  }
}

// Hubs 1 and 2 add the same offset (over GF(2^8) that keeps f(0) for the
// subset {1, 2, 3}) and honest hub 5 is slow: with shares 1 to 4 at hand,
// {1, 2, 3} is the only subset that rebuilds the right value, so the
// shares cannot tell the sender's polynomial from the liars'. Nobody is
// named then, and hub 5's share, when it comes, is not judged against a
// polynomial that may be the liars'. With every share at hand, the liars are
// the ones named, if anyone.
TEST(AgreementTest, CollidingOffsetsNeverGetAnHonestHubNamed) {
  auto rng = testing::SeededRng("colluding offsets");
  for (bool all_at_hand : {false, true}) {
    SCOPED_TRACE(all_at_hand ? "every share at hand" : "hub 5 late");
    auto a = Agreement::Start(Params(3, 5), Role::kInitiator, *rng);
    auto b = Agreement::Start(Params(3, 5), Role::kResponder, *rng);
    ASSERT_TRUE(a && b);
    for (unsigned hub = 1; hub <= 5; ++hub) {
      ASSERT_TRUE(b->AddPeerShare(hub, a->OwnShare(hub)));
      std::vector<std::uint8_t> y(b->OwnShare(hub).begin(), b->OwnShare(hub).end());
      if (hub <= 2) y[3] ^= 0x10;
      if (hub <= 4 || all_at_hand) {
        ASSERT_TRUE(a->AddPeerShare(hub, y));
      }
    }
    ASSERT_TRUE(b->TryConfirm());
    a->AddPeerTags(3, *b->TagsToSend());
    ASSERT_TRUE(*a->TryConfirm());
    b->AddPeerTags(3, *a->TagsToSend());
    ASSERT_TRUE(*b->TryConfirm());
    EXPECT_TRUE(ct::Equal(a->key().Expose(), b->key().Expose()));
    for (unsigned named : a->inconsistent_hubs()) EXPECT_LE(named, 2u) << "an honest hub named";
    if (!all_at_hand) {
      EXPECT_TRUE(a->inconsistent_hubs().empty());
      EXPECT_TRUE(a->share_checks().empty()) << "no polynomial to judge hub 5 by";
    }
  }
}

TEST(AgreementTest, AShareThatArrivesAfterConfirmationIsJudgedByItsCheckValue) {
  auto rng = testing::SeededRng("late share");
  for (const std::vector<unsigned>& early : {std::vector<unsigned>{1, 3}, {1, 2, 3}}) {
    auto a = Agreement::Start(Params(2, 4), Role::kInitiator, *rng);
    auto b = Agreement::Start(Params(2, 4), Role::kResponder, *rng);
    ASSERT_TRUE(a && b);
    for (unsigned hub : early) {
      ASSERT_TRUE(b->AddPeerShare(hub, a->OwnShare(hub)));
      ASSERT_TRUE(a->AddPeerShare(hub, b->OwnShare(hub)));
    }
    ASSERT_TRUE(b->TryConfirm());
    a->AddPeerTags(1, *b->TagsToSend());
    ASSERT_TRUE(*a->TryConfirm());
    const auto& checks = a->share_checks();
    if (early.size() == 2) {
      // Two shares of four, k = 2: they may be two liars' on a polynomial
      // of their own through the right value, so nothing is judged by it.
      EXPECT_TRUE(checks.empty());
      continue;
    }
    // Three of four on one polynomial: the sender's. Hub 4 is judged by it.
    ASSERT_EQ(checks.size(), 1u);
    ASSERT_EQ(checks.count(4), 1u);
    const std::vector<std::uint8_t> honest(b->OwnShare(4).begin(), b->OwnShare(4).end());
    std::vector<std::uint8_t> corrupted = honest;
    corrupted[7] ^= 0x20;
    EXPECT_TRUE(ct::Equal(*ShareCheck(a->params(), 4, honest), checks.at(4)));
    EXPECT_FALSE(ct::Equal(*ShareCheck(a->params(), 4, corrupted), checks.at(4)));
    EXPECT_FALSE(ct::Equal(*ShareCheck(a->params(), 3, honest), checks.at(4)))
        << "bound to its hub";
  }
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
  // A P_B hub 1 slipped in is tried and fails to match; its later copies
  // change nothing (one P_B per source), and hub 2's real one confirms.
  std::vector<std::uint8_t> forged(b->responder_public().begin(), b->responder_public().end());
  forged[0] ^= 0x40;
  a->AddPeerTags(1, *b->TagsToSend(), forged);
  EXPECT_FALSE(*a->TryConfirm()) << "tags made with the real P_B do not match a forged one";
  a->AddPeerTags(1, *b->TagsToSend(), b->responder_public());
  EXPECT_FALSE(*a->TryConfirm()) << "a source's first P_B is the one it is held to";
  a->AddPeerTags(2, *b->TagsToSend(), b->responder_public());
  ASSERT_TRUE(*a->TryConfirm());
  b->AddPeerTags(1, *a->TagsToSend());
  ASSERT_TRUE(*b->TryConfirm());
  EXPECT_TRUE(ct::Equal(a->key().Expose(), b->key().Expose()));
}

// One hub floods the initiator with tags and public keys in the peer's name:
// it fills only its own allowance, and the tags another hub carries confirm.
TEST(AgreementTest, AFloodFromOneHubCrowdsOutNoOtherHub) {
  auto rng = testing::SeededRng("flood");
  auto a = Agreement::Start(Params(2, 3), Role::kInitiator, *rng, /*hybrid=*/true);
  ASSERT_TRUE(a);
  auto b = Agreement::Start(a->params(), Role::kResponder, *rng);
  ASSERT_TRUE(b);
  for (unsigned hub = 1; hub <= 3; ++hub) {
    ASSERT_TRUE(b->AddPeerShare(hub, a->OwnShare(hub)));
    ASSERT_TRUE(a->AddPeerShare(hub, b->OwnShare(hub)));
  }
  for (int round = 0; round < 4; ++round) {
    std::vector<Tag> junk;
    for (std::size_t i = 0; i < 2 * kMaxTags; ++i) {
      junk.emplace_back(48, static_cast<std::uint8_t>(static_cast<std::size_t>(round) * 64 + i));
    }
    a->AddPeerTags(1, junk, std::vector<std::uint8_t>(32, static_cast<std::uint8_t>(round + 9)));
  }
  EXPECT_FALSE(*a->TryConfirm());
  auto snapshot = a->TakeSnapshot();
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->peer_tags.at(1).size(), kMaxTags) << "capped per source";
  EXPECT_EQ(snapshot->peer_x25519.size(), 1u) << "one P_B per source";
  a->AddPeerTags(3, *b->TagsToSend(), b->responder_public());
  ASSERT_TRUE(*a->TryConfirm());
  b->AddPeerTags(kPeerChannelSource, *a->TagsToSend());
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
  a->AddPeerTags(1, *restored_b->TagsToSend(), restored_b->responder_public());
  auto restored_a = Agreement::Restore(*a->TakeSnapshot());
  ASSERT_TRUE(restored_a) << restored_a.error().message;
  ASSERT_TRUE(*restored_a->TryConfirm());
  restored_b->AddPeerTags(1, *restored_a->TagsToSend());
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
  a->AddPeerTags(1, *c->TagsToSend());  // same shares, another sid
  EXPECT_FALSE(*a->TryConfirm());
  a->AddPeerTags(1, *b->TagsToSend());
  EXPECT_TRUE(*a->TryConfirm());
  EXPECT_EQ(a->Status(), "confirmed");
}

}  // namespace
}  // namespace skap::pairwise

namespace skap::pairwise {
namespace {

// ExpectBothConfirm has initiator `a` take responder `b`'s `tags` and `b`
// take a's: both confirm one key and name exactly `liars`.
void ExpectBothConfirm(Agreement& a, Agreement& b, const std::vector<Tag>& tags,
                       const std::vector<unsigned>& liars) {
  a.AddPeerTags(1, tags);
  ASSERT_TRUE(a.TryConfirm());
  ASSERT_TRUE(a.confirmed());
  b.AddPeerTags(1, *a.TagsToSend());
  ASSERT_TRUE(b.TryConfirm());
  ASSERT_TRUE(b.confirmed());
  EXPECT_TRUE(ct::Equal(a.key().Expose(), b.key().Expose()));
  EXPECT_EQ(a.inconsistent_hubs(), liars);
  EXPECT_EQ(b.inconsistent_hubs(), liars);
}

// A re-seed's shares authenticated end to end: with n = 16, k = 8 and the
// n - k = 8 hubs of every other index altering the shares they carry, both
// sides take only the shares whose MAC holds, rebuild one candidate, confirm
// one key, and name exactly the altering hubs; snapshot and restore keep the
// verdict. (Without MACs or check values this case makes C(16, 8) candidates:
// bench/.)
TEST(AgreementTest, AuthenticatedSharesNameEveryAlteredShareAndLeaveOneCandidate) {
  auto rng = testing::SeededRng("authenticated shares");
  auto params = Params(8, 16);
  std::sort(params.hub_set.begin(), params.hub_set.end());  // "hub-10" before "hub-2"
  params.session_epoch = 2;
  const std::vector<std::uint8_t> previous(32, 0x42);  // PS_1, both sides
  auto a = Agreement::Start(params, Role::kInitiator, *rng);
  auto b = Agreement::Start(params, Role::kResponder, *rng);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->AuthenticateShares(previous));
  ASSERT_TRUE(b->AuthenticateShares(previous));
  std::vector<unsigned> liars;
  for (unsigned hub = 2; hub <= 16; hub += 2) liars.push_back(hub);
  const auto carry = [&](const Agreement& from, Agreement& to) {
    for (unsigned hub = 1; hub <= 16; ++hub) {
      std::vector<std::uint8_t> y(from.OwnShare(hub).begin(), from.OwnShare(hub).end());
      const auto mac = from.OwnShareMac(hub);
      ASSERT_TRUE(mac);
      const bool lies = hub % 2 == 0;
      if (lies) y[0] ^= 0x01;
      const auto added = to.AddPeerShare(hub, y, *mac);
      EXPECT_EQ(static_cast<bool>(added), !lies) << "hub " << hub;
      if (lies) {
        EXPECT_EQ(added.error().code, ErrorCode::kPermissionDenied);
      }
    }
  };
  carry(*a, *b);
  carry(*b, *a);
  // The responder tags one candidate: the only value its shares rebuild.
  const auto tags = b->TagsToSend();
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->size(), 1u);
  EXPECT_EQ(b->rejected_hubs(), liars);
  // Kept across a restart, and a named hub's later share is refused too.
  auto snapshot = b->TakeSnapshot();
  ASSERT_TRUE(snapshot);
  auto restored = Agreement::Restore(std::move(*snapshot));
  ASSERT_TRUE(restored);
  ASSERT_TRUE(restored->AuthenticateShares(previous));
  EXPECT_EQ(restored->rejected_hubs(), liars);
  EXPECT_FALSE(restored->AddPeerShare(
      2, std::vector<std::uint8_t>(a->OwnShare(2).begin(), a->OwnShare(2).end()),
      *a->OwnShareMac(2)))
      << "a hub that altered one share is not believed for another";
  ExpectBothConfirm(*a, *restored, *tags, liars);
}

// A first agreement's shares carry the sender's check values: with the list
// k hubs carried alike, every altered share is found exactly and one
// candidate is left, at n = 16, k = 8 with 8 shares altered (colluding or
// not), and with 7 liars that also carry a list of their own (fewer than k:
// it never counts).
TEST(AgreementTest, CheckedSharesNameEveryAlteredShareAndLeaveOneCandidate) {
  for (const bool forged_list : {false, true}) {
    SCOPED_TRACE(forged_list ? "7 liars with a list of their own" : "8 liars altering shares");
    auto rng = testing::SeededRng("checked shares");
    auto params = Params(8, 16);
    std::sort(params.hub_set.begin(), params.hub_set.end());
    auto a = Agreement::Start(params, Role::kInitiator, *rng);
    auto b = Agreement::Start(params, Role::kResponder, *rng);
    ASSERT_TRUE(a && b);
    std::vector<unsigned> liars;
    for (unsigned hub = 2; hub <= (forged_list ? 14U : 16U); hub += 2) liars.push_back(hub);
    const auto carry = [&](const Agreement& from, Agreement& to) {
      auto checks = from.OwnShareChecks();
      ASSERT_TRUE(checks);
      ASSERT_EQ(checks->size(), 16u);
      std::vector<ShareCheckValue> own_list(16, ShareCheckValue(32, 0xee));
      own_list[0] = (*checks)[0];  // a made-up list, right for hub 1
      for (unsigned hub = 1; hub <= 16; ++hub) {
        std::vector<std::uint8_t> y(from.OwnShare(hub).begin(), from.OwnShare(hub).end());
        const bool lies = std::find(liars.begin(), liars.end(), hub) != liars.end();
        if (lies && !forged_list) y[hub % 32] ^= 0x01;  // colluding: offsets of their choice
        ASSERT_TRUE(to.AddPeerShare(hub, y, {}, lies && forged_list ? own_list : *checks));
      }
    };
    carry(*a, *b);
    carry(*b, *a);
    const auto tags = b->TagsToSend();
    ASSERT_TRUE(tags);
    EXPECT_EQ(tags->size(), 1u) << "one candidate: the value the verified shares rebuild";
    // Kept across a restart.
    auto snapshot = b->TakeSnapshot();
    ASSERT_TRUE(snapshot);
    auto restored = Agreement::Restore(std::move(*snapshot));
    ASSERT_TRUE(restored);
    EXPECT_EQ(*restored->TagsToSend(), *tags);
    ExpectBothConfirm(*a, *restored, *tags, liars);
  }
}

// Fewer than k hubs carrying one list is no list: the side waits (no
// candidate, no tag) rather than trust it, and a sender that sends no list
// at all (an older release) is decoded as before.
TEST(AgreementTest, AListFewerThanKHubsCarryCountsForNothing) {
  auto rng = testing::SeededRng("checked shares, few");
  const auto params = Params(2, 3);
  auto a = Agreement::Start(params, Role::kInitiator, *rng);
  auto b = Agreement::Start(params, Role::kResponder, *rng);
  auto old = Agreement::Start(params, Role::kResponder, *rng);
  ASSERT_TRUE(a && b && old);
  const auto checks = a->OwnShareChecks();
  ASSERT_TRUE(checks);
  const auto share = [&](unsigned hub) {
    return std::vector<std::uint8_t>(a->OwnShare(hub).begin(), a->OwnShare(hub).end());
  };
  ASSERT_TRUE(b->AddPeerShare(1, share(1), {}, *checks));
  ASSERT_TRUE(b->AddPeerShare(2, share(2), {}, {}));  // its hub dropped the list
  EXPECT_TRUE(b->TagsToSend()->empty()) << "one hub's list, one hub's none: nothing yet";
  ASSERT_TRUE(b->AddPeerShare(3, share(3), {}, *checks));
  EXPECT_EQ(b->TagsToSend()->size(), 1u);
  for (unsigned hub = 1; hub <= 3; ++hub) ASSERT_TRUE(old->AddPeerShare(hub, share(hub)));
  EXPECT_EQ(old->TagsToSend()->size(), 1u) << "no list anywhere: every k-subset, as before";
  // A stored list of the wrong length (a damaged record) is taken as none.
  auto snapshot = b->TakeSnapshot();
  ASSERT_TRUE(snapshot);
  snapshot->peer_checks[1].resize(1);
  auto restored = Agreement::Restore(std::move(*snapshot));
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->TagsToSend()->size(), 1u) << "hubs 1 and 2 carried none: k, the fallback";
}

// A share MAC binds the sender's role and the header: the initiator's own
// share, handed back to it as the responder's, fails; so does a share under
// an altered header, and one without a MAC.
TEST(AgreementTest, AShareMacBindsTheSenderAndTheHeader) {
  auto rng = testing::SeededRng("share mac binding");
  auto params = Params(2, 3);
  params.session_epoch = 5;
  const std::vector<std::uint8_t> previous(32, 0x17);
  auto a = Agreement::Start(params, Role::kInitiator, *rng);
  ASSERT_TRUE(a && a->AuthenticateShares(previous));
  auto altered = params;
  altered.expires_at_ms -= 1;
  auto b = Agreement::Start(altered, Role::kResponder, *rng);
  ASSERT_TRUE(b && b->AuthenticateShares(previous));
  const auto own = a->OwnShare(1);
  const std::vector<std::uint8_t> y(own.begin(), own.end());
  EXPECT_FALSE(a->AddPeerShare(1, y, *a->OwnShareMac(1))) << "reflected to its sender";
  EXPECT_FALSE(b->AddPeerShare(1, y, *a->OwnShareMac(1))) << "under another header";
  auto d = Agreement::Start(params, Role::kResponder, *rng);
  ASSERT_TRUE(d && d->AuthenticateShares(previous));
  EXPECT_FALSE(d->AddPeerShare(2, y, *a->OwnShareMac(1))) << "hub 1's share and MAC as hub 2's";
  auto c = Agreement::Start(params, Role::kResponder, *rng);
  ASSERT_TRUE(c && c->AuthenticateShares(previous));
  EXPECT_FALSE(
      c->AddPeerShare(2, std::vector<std::uint8_t>(a->OwnShare(2).begin(), a->OwnShare(2).end())))
      << "without its MAC";
  EXPECT_TRUE(
      c->AddPeerShare(3, std::vector<std::uint8_t>(a->OwnShare(3).begin(), a->OwnShare(3).end()),
                      *a->OwnShareMac(3)));
}

}  // namespace
}  // namespace skap::pairwise
