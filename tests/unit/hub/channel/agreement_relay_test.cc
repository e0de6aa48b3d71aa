// The hub's side of pairwise agreements on a real SQLite hub database: what
// it accepts, stores (wrapped), hands over and erases, and every refusal.
#include "hub/channel/agreement_relay.h"

#include <gtest/gtest.h>

#include "common/ct.h"
#include "pairwise/hub_shares.h"
#include "proto/agreement_header.h"
#include "unit/hub/registry/registry_fixture.h"

namespace skap::hub {
namespace {

namespace pb = skap::channel::v1;

class AgreementRelayTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    ASSERT_TRUE(registry_->networks().SetHubs(admin_, "plant-1", {kHubA, kHubB, kHubC}, 2));
    a_ = Active("a");
    b_ = Active("b");
    elsewhere_ = Active("e", "plant-2");
    pending_ = Provision("p").device.id;
    relay_ = std::make_unique<AgreementRelay>(
        *registry_, *db_, *keystore_, *audit_, [this] { return now_ms_; }, limits_);
    share_.assign(32, 0x42);
  }

  std::string Active(const std::string& name, const std::string& network = "plant-1") {
    const BootstrapGrant grant = Provision(name, network);
    Enrol(grant);
    return grant.device.id;
  }

  pb::ShareOffer Offer(const std::string& from, const std::string& to, std::uint8_t sid_byte = 1) {
    pairwise::AgreementParams p;
    p.sid.fill(sid_byte);
    p.initiator = from;
    p.responder = to;
    p.hub_set = {kHubA, kHubB, kHubC};
    p.threshold = 2;
    p.expires_at_ms = now_ms_ + 60'000;
    pb::ShareOffer offer;
    proto::FillHeader(p, *offer.mutable_header());
    offer.set_hub_index(1);  // kHubA sorts first
    return offer;
  }

  std::int64_t MailboxRows() {
    return store::AsInt((*db_->Query("SELECT COUNT(*) FROM mailbox"))[0][0]).value_or(-1);
  }

  // ExpectRefused checks that `result` failed with `code` and a message
  // containing `why`, was audited, and left the mailbox as it was.
  template <typename T>
  void ExpectRefused(const std::function<Result<T>()>& call, ErrorCode code, const char* why) {
    const auto rows = MailboxRows();
    const auto audited = AuditCount();
    auto result = call();
    ASSERT_FALSE(result) << why;
    EXPECT_EQ(result.error().code, code) << result.error().message;
    EXPECT_NE(result.error().message.find(why), std::string::npos) << result.error().message;
    EXPECT_EQ(MailboxRows(), rows) << why;
    EXPECT_EQ(AuditCount(), audited + 1) << why << ": the refusal is audited";
  }

  RelayLimits limits_;
  std::unique_ptr<AgreementRelay> relay_;
  std::string a_, b_, elsewhere_, pending_;
  std::vector<std::uint8_t> share_;
};

TEST_F(AgreementRelayTest, AShareIsStoredWrappedDeliveredOnceAndErasedOnAck) {
  auto delivery = relay_->OfferShare(a_, Offer(a_, b_), share_);
  ASSERT_TRUE(delivery) << delivery.error().message;
  EXPECT_EQ(delivery->recipient, b_);
  EXPECT_EQ(delivery->message.sender(), a_);
  EXPECT_TRUE(ct::Equal(delivery->share.Expose(), share_));

  // At rest the share is wrapped under the KEK: its bytes are not in the row.
  auto rows = db_->Query("SELECT message, wrapped_share FROM mailbox");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  const auto wrapped = store::AsBlob((*rows)[0][1]).value_or(store::Blob{});
  EXPECT_EQ(std::search(wrapped.begin(), wrapped.end(), share_.begin(), share_.end()),
            wrapped.end());

  auto pending = relay_->PendingFor(b_);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_TRUE(ct::Equal((*pending)[0].share.Expose(), share_));
  EXPECT_TRUE(relay_->PendingFor(a_)->empty()) << "nothing for the sender";

  pb::DeliveryAck ack;
  ack.set_sid(Offer(a_, b_).header().sid());
  ack.set_sender(a_);
  ack.set_kind(channel::v1::DELIVERY_KIND_SHARE);
  ASSERT_TRUE(relay_->Acknowledge(b_, ack));
  EXPECT_TRUE(relay_->PendingFor(b_)->empty());
  rows = db_->Query("SELECT wrapped_share, state FROM mailbox");
  EXPECT_FALSE(store::AsBlob((*rows)[0][0])) << "the share is gone, only a tombstone stays";
  EXPECT_EQ(store::AsText((*rows)[0][1]), "delivered");

  auto audited = audit_->List({.action = "agreement.share"});
  ASSERT_TRUE(audited);
  ASSERT_EQ(audited->size(), 1u);
  EXPECT_EQ((*audited)[0].record.actor, "device:" + a_);
  EXPECT_EQ((*audited)[0].record.detail.find("42424242"), std::string::npos)
      << "no share in the log";
}

// An agent of 0.2 names the kind of what it acknowledges only as text; the
// hub erases the share all the same, and refuses a kind it does not know.
TEST_F(AgreementRelayTest, AnAckThatNamesItsKindAsTextErasesTheShare) {
  ASSERT_TRUE(relay_->OfferShare(a_, Offer(a_, b_), share_));
  pb::DeliveryAck ack;
  ack.set_sid(Offer(a_, b_).header().sid());
  ack.set_sender(a_);
  ack.set_kind_name("sharing");
  auto unknown = relay_->Acknowledge(b_, ack);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(relay_->PendingFor(b_)->size(), 1u) << "an unknown kind erases nothing";
  ack.set_kind_name("share");
  ASSERT_TRUE(relay_->Acknowledge(b_, ack));
  EXPECT_TRUE(relay_->PendingFor(b_)->empty());
  auto rows = db_->Query("SELECT wrapped_share, state FROM mailbox");
  EXPECT_FALSE(store::AsBlob((*rows)[0][0])) << "the share is gone";
  EXPECT_EQ(store::AsText((*rows)[0][1]), "delivered");
}

TEST_F(AgreementRelayTest, TheSameOfferAgainIsFineAReplayUnderAUsedSidIsNot) {
  ASSERT_TRUE(relay_->OfferShare(a_, Offer(a_, b_), share_));
  ASSERT_TRUE(relay_->OfferShare(a_, Offer(a_, b_), share_)) << "a retry after a lost answer";
  EXPECT_EQ(MailboxRows(), 1);
  const std::vector<std::uint8_t> other(32, 0x43);
  ExpectRefused<Delivery>([&] { return relay_->OfferShare(a_, Offer(a_, b_), other); },
                          ErrorCode::kFailedPrecondition, "already used");
  pb::DeliveryAck ack;
  ack.set_sid(Offer(a_, b_).header().sid());
  ack.set_sender(a_);
  ack.set_kind(channel::v1::DELIVERY_KIND_SHARE);
  ASSERT_TRUE(relay_->Acknowledge(b_, ack));
  // Once delivered, the share is erased: the same header again is accepted
  // and dropped, an altered one refused; neither is delivered.
  auto again = relay_->OfferShare(a_, Offer(a_, b_), other);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->recipient.empty());
  auto altered = Offer(a_, b_);
  altered.mutable_header()->set_session_epoch(7);
  ExpectRefused<Delivery>([&] { return relay_->OfferShare(a_, altered, share_); },
                          ErrorCode::kFailedPrecondition, "already used");
  EXPECT_TRUE(relay_->PendingFor(b_)->empty()) << "a replay is never delivered";
}

TEST_F(AgreementRelayTest, OffersThatBreakTheNetworksRulesAreRefused) {
  using Call = std::function<Result<Delivery>()>;
  auto offer = Offer(a_, b_);
  offer.set_hub_index(2);
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kInvalidArgument, "this hub carries share 1");
  offer = Offer(a_, b_);
  offer.mutable_header()->set_threshold(3);
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kFailedPrecondition, "threshold mismatch");
  offer = Offer(a_, b_);
  offer.set_share_mac(std::string(47, 'm'));
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kInvalidArgument, "a share's MAC is 48 bytes");
  offer = Offer(a_, b_);
  offer.add_share_checks(std::string(32, 'c'));  // one value, for three hubs
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kInvalidArgument, "one of 32 bytes for each hub");
  offer = Offer(a_, b_);
  for (int i = 0; i < 3; ++i) offer.add_share_checks(std::string(32, 'c'));
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kInvalidArgument, "does not match");
  {  // the right value for this hub's share (1) is taken; the others it cannot check
    const auto params = proto::ParamsFromHeader(offer.header());
    ASSERT_TRUE(params);
    const auto own = pairwise::ShareCheck(*params, 1, share_);
    ASSERT_TRUE(own);
    offer.set_share_checks(0, std::string(own->begin(), own->end()));
    EXPECT_TRUE(relay_->OfferShare(a_, offer, share_));
  }
  offer = Offer(a_, b_);
  offer.mutable_header()->clear_protocol_version();  // as a version 1 agent sends it
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kInvalidArgument, "protocol version 0 (0: version 1)");
  offer = Offer(a_, b_);
  offer.mutable_header()->clear_hub_set();
  offer.mutable_header()->add_hub_set(kHubA);
  offer.mutable_header()->set_threshold(1);
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kFailedPrecondition, "threshold mismatch");
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(b_, Offer(a_, pending_), share_); }),
                          ErrorCode::kPermissionDenied, "only its own shares");
  ExpectRefused<Delivery>(
      Call([&] { return relay_->OfferShare(a_, Offer(a_, elsewhere_), share_); }),
      ErrorCode::kNotFound, "no such peer in this network");
  ExpectRefused<Delivery>(Call([&] {
                            return relay_->OfferShare(
                                a_, Offer(a_, "5e4fad4c-3e85-4baf-8d9b-7f4b6a8c9ea5"), share_);
                          }),
                          ErrorCode::kNotFound, "no such peer in this network");
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, Offer(a_, pending_), share_); }),
                          ErrorCode::kFailedPrecondition, "the peer is provisioned");
  ExpectRefused<Delivery>(
      Call([&] { return relay_->OfferShare(a_, Offer(a_, b_), std::vector<std::uint8_t>(31)); }),
      ErrorCode::kInvalidArgument, "32 bytes");
  offer = Offer(a_, b_);
  offer.mutable_header()->set_expires_at_ms(now_ms_);
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kFailedPrecondition, "expired");
  offer.mutable_header()->set_expires_at_ms(now_ms_ + 3'600'000);
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kInvalidArgument, "too far ahead");
  offer = Offer(a_, b_);
  offer.mutable_header()->set_sid("short");
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, offer, share_); }),
                          ErrorCode::kInvalidArgument, "sid");

  ASSERT_TRUE(registry_->devices().Revoke(admitter_, b_));
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(a_, Offer(a_, b_), share_); }),
                          ErrorCode::kFailedPrecondition, "the peer is revoked");
  ExpectRefused<Delivery>(Call([&] { return relay_->OfferShare(b_, Offer(b_, a_), share_); }),
                          ErrorCode::kFailedPrecondition, "only an active device");
}

TEST_F(AgreementRelayTest, AnAllowListDecidesWhichPairsMayAgree) {
  ASSERT_TRUE(registry_->networks().SetPairPolicy(admin_, "plant-1", PairPolicy::kAllowList));
  ExpectRefused<Delivery>([&] { return relay_->OfferShare(a_, Offer(a_, b_), share_); },
                          ErrorCode::kPermissionDenied, "does not allow this pair");
  ASSERT_TRUE(registry_->devices().AllowPair(admin_, "plant-1", a_, b_, true));
  EXPECT_TRUE(relay_->OfferShare(a_, Offer(a_, b_), share_));
}

TEST_F(AgreementRelayTest, ConfirmationsAreRelayedAndTheNewestReplacesTheLast) {
  pb::ConfirmOffer confirm;
  confirm.set_sid(Offer(a_, b_).header().sid());
  confirm.set_recipient(a_);
  confirm.set_expires_at_ms(now_ms_ + 60'000);
  confirm.add_tags(std::string(48, 't'));
  ASSERT_TRUE(relay_->OfferConfirm(b_, confirm));
  confirm.add_tags(std::string(48, 'u'));
  auto delivery = relay_->OfferConfirm(b_, confirm);
  ASSERT_TRUE(delivery);
  EXPECT_EQ(delivery->message.confirm().tags_size(), 2);
  auto pending = relay_->PendingFor(a_);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].message.confirm().tags_size(), 2);
  EXPECT_TRUE((*pending)[0].share.empty());
  auto again = relay_->OfferConfirm(b_, confirm);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->recipient.empty()) << "the same tags again go out no second time";

  pb::ConfirmOffer refusal = confirm;
  refusal.clear_tags();
  refusal.set_refusal("session epoch mismatch");
  EXPECT_TRUE(relay_->OfferConfirm(b_, refusal));
  pb::ConfirmOffer empty = refusal;
  empty.clear_refusal();
  ExpectRefused<Delivery>([&] { return relay_->OfferConfirm(b_, empty); },
                          ErrorCode::kInvalidArgument, "up to 16 tags or a refusal");
  pb::ConfirmOffer tagged_refusal = confirm;  // a refusal's fields on tags
  tagged_refusal.set_refusal_mac(std::string(48, 'm'));
  ExpectRefused<Delivery>([&] { return relay_->OfferConfirm(b_, tagged_refusal); },
                          ErrorCode::kInvalidArgument, "come with a refusal only");
  pb::ConfirmOffer odd_kind = refusal;
  odd_kind.set_refusal_kind(static_cast<pb::RefusalKind>(257));
  ExpectRefused<Delivery>([&] { return relay_->OfferConfirm(b_, odd_kind); },
                          ErrorCode::kInvalidArgument, "a refusal's kind");
  pb::ConfirmOffer long_mac = refusal;
  long_mac.set_refusal_mac(std::string(65, 'm'));
  ExpectRefused<Delivery>([&] { return relay_->OfferConfirm(b_, long_mac); },
                          ErrorCode::kInvalidArgument, "at most 64 bytes");
  pb::ConfirmOffer many = confirm;
  for (int i = 0; i < 16; ++i) many.add_tags(std::string(48, 'v'));
  ExpectRefused<Delivery>([&] { return relay_->OfferConfirm(b_, many); },
                          ErrorCode::kInvalidArgument, "up to 16 tags");
  pb::ConfirmOffer far = confirm;
  far.set_recipient(elsewhere_);
  ExpectRefused<Delivery>([&] { return relay_->OfferConfirm(b_, far); }, ErrorCode::kNotFound,
                          "no such peer");
}

TEST_F(AgreementRelayTest, ExpiredAgreementsArePurgedAndStayRefused) {
  const auto offer = Offer(a_, b_);
  ASSERT_TRUE(relay_->OfferShare(a_, offer, share_));
  now_ms_ += 61'000;
  EXPECT_TRUE(relay_->PendingFor(b_)->empty()) << "an expired share is not delivered";
  auto purged = relay_->Purge();
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(MailboxRows(), 0);
  ExpectRefused<Delivery>([&] { return relay_->OfferShare(a_, offer, share_); },
                          ErrorCode::kFailedPrecondition, "expired");
}

TEST_F(AgreementRelayTest, AFullMailboxRefusesMore) {
  limits_.max_pending = 2;
  relay_ = std::make_unique<AgreementRelay>(
      *registry_, *db_, *keystore_, *audit_, [this] { return now_ms_; }, limits_);
  ASSERT_TRUE(relay_->OfferShare(a_, Offer(a_, b_, 1), share_));
  ASSERT_TRUE(relay_->OfferShare(a_, Offer(a_, b_, 2), share_));
  ExpectRefused<Delivery>([&] { return relay_->OfferShare(a_, Offer(a_, b_, 3), share_); },
                          ErrorCode::kLimitExceeded, "too many undelivered");
}

// One sender's undelivered offers fill only its own room at the recipient:
// another sender's still get through.
TEST_F(AgreementRelayTest, OneSendersFloodLeavesTheOthersRoom) {
  limits_.max_pending_per_sender = 2;
  const std::string c = Active("c");
  relay_ = std::make_unique<AgreementRelay>(
      *registry_, *db_, *keystore_, *audit_, [this] { return now_ms_; }, limits_);
  ASSERT_TRUE(relay_->OfferShare(a_, Offer(a_, b_, 1), share_));
  ASSERT_TRUE(relay_->OfferShare(a_, Offer(a_, b_, 2), share_));
  ExpectRefused<Delivery>([&] { return relay_->OfferShare(a_, Offer(a_, b_, 3), share_); },
                          ErrorCode::kLimitExceeded, "this device's offers to the peer");
  EXPECT_TRUE(relay_->OfferShare(c, Offer(c, b_, 4), share_)) << "another sender to b";
  EXPECT_TRUE(relay_->OfferShare(a_, Offer(a_, c, 5), share_)) << "a to another peer";
}

}  // namespace
}  // namespace skap::hub
