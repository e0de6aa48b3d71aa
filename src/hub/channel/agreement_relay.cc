#include "hub/channel/agreement_relay.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/crash_point.h"
#include "common/ct.h"
#include "common/hex.h"
#include "keystore/rebind.h"
#include "pairwise/agreement.h"
#include "proto/agreement_header.h"

namespace skap::hub {
namespace {

// This class's part of hub.db's schema (hub/schema.cc orders the whole):
// version 5 made the mailbox: what one device sent for another, shares wrapped
// under the KEK, until the recipient acknowledges them; then a tombstone
// without the share stays until the agreement expires, so a replay is
// recognised. Version 7 stores the kind as DeliveryKind's number.
constexpr std::string_view kAgreementRelayV5 = R"sql(CREATE TABLE mailbox (
  sid BLOB NOT NULL,                -- the agreement's session id
  sender TEXT NOT NULL,             -- device id
  kind TEXT NOT NULL CHECK (kind IN ('share', 'confirm')),
  recipient TEXT NOT NULL,          -- device id
  message BLOB NOT NULL,            -- the ShareOffer or ConfirmOffer (public fields only)
  wrapped_share BLOB,               -- y_i, RFC 5649 under the KEK; NULL once delivered
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
  expires_at_ms BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  changed_at_ms BIGINT NOT NULL,
  PRIMARY KEY (sid, sender, kind)
);
CREATE INDEX mailbox_recipient ON mailbox (recipient, state);
CREATE INDEX mailbox_expiry ON mailbox (expires_at_ms);
)sql";
constexpr std::string_view kAgreementRelayV7 = R"sql(
CREATE TABLE mailbox_v7 (
  sid BLOB NOT NULL,
  sender TEXT NOT NULL,
  kind BIGINT NOT NULL CHECK (kind IN (1, 2)),  -- DeliveryKind (channel.proto): 1 share, 2 confirm
  recipient TEXT NOT NULL,
  message BLOB NOT NULL,
  wrapped_share BLOB,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
  expires_at_ms BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  changed_at_ms BIGINT NOT NULL,
  PRIMARY KEY (sid, sender, kind)
);
INSERT INTO mailbox_v7 (sid, sender, kind, recipient, message, wrapped_share, state,
                        expires_at_ms, created_at_ms, changed_at_ms)
  SELECT sid, sender, CASE kind WHEN 'share' THEN 1 ELSE 2 END, recipient, message,
         wrapped_share, state, expires_at_ms, created_at_ms, changed_at_ms FROM mailbox;
DROP TABLE mailbox;
ALTER TABLE mailbox_v7 RENAME TO mailbox;
CREATE INDEX mailbox_recipient ON mailbox (recipient, state);
CREATE INDEX mailbox_expiry ON mailbox (expires_at_ms);
)sql";

namespace pb = skap::channel::v1;
using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

constexpr std::size_t kMaxTagBytes = 64;
constexpr std::size_t kShareMacBytes = 48;  // HMAC-SHA-384 (pairwise::ShareMac)
constexpr std::size_t kMaxRefusal = 256;

// SidText names an agreement in the audit log (the sid in hex, bounded).
std::string SidText(const std::string& sid) {
  return HexEncode(AsBytes(std::string_view(sid).substr(0, 16)));
}

Blob BytesOf(const std::string& s) { return Blob(s.begin(), s.end()); }

// Kind is how the mailbox stores a delivery's kind: its number on the wire.
std::int64_t Kind(pb::DeliveryKind kind) { return static_cast<std::int64_t>(kind); }

}  // namespace

keystore::WrapBinding AgreementRelay::ShareBinding(const Blob& sid, const std::string& sender,
                                                   const std::string& recipient) {
  return {keystore::kPurposeMailboxShare,
          keystore::RowOf({std::string_view(reinterpret_cast<const char*>(sid.data()), sid.size()),
                           sender, recipient})};
}

std::string_view AgreementRelay::MigrationSql(int version) {
  switch (version) {
    case 5:
      return kAgreementRelayV5;
    case 7:
      return kAgreementRelayV7;
    default:
      return {};
  }
}

Result<void> AgreementRelay::BindWrappedKeys(store::Database& db, keystore::Keystore& kek) {
  // A share's row is (sid, sender, kind); its recipient completes the
  // binding (the sender's confirmation has the same sid, sender and
  // recipient, and no share).
  return keystore::BindWrappedColumn(db, kek,
                                     {"mailbox",
                                      "wrapped_share",
                                      {"sid", "sender", "kind", "recipient"},
                                      [](const store::Row& key) {
                                        return ShareBinding(AsBlob(key[0]).value_or(Blob{}),
                                                            AsText(key[1]).value_or(""),
                                                            AsText(key[3]).value_or(""));
                                      }});
}

Result<AgreementRelay::Route> AgreementRelay::RouteFor(const std::string& sender,
                                                       const std::string& recipient) {
  auto self = registry_.devices().Get(Principal::Hub(), sender);
  if (!self || self->state != DeviceState::kActive) {
    return Unexpected(ErrorCode::kFailedPrecondition, "only an active device takes part");
  }
  Principal as_device = Principal::DeviceChannel(sender);
  as_device.tenant_id = self->tenant_id;
  as_device.network_id = self->network_id;
  // A device of another network gets the same answer as one that does not
  // exist: no device learns what lies outside its network.
  auto peer = registry_.devices().Get(as_device, recipient);
  if (!peer) return Unexpected(ErrorCode::kNotFound, "no such peer in this network");
  if (peer->state != DeviceState::kActive) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "the peer is " + std::string(DeviceStateName(peer->state)) + ", not active");
  }
  SKAP_ASSIGN_OR_RETURN(auto network, registry_.networks().ById(self->network_id));
  SKAP_ASSIGN_OR_RETURN(const bool allowed,
                        registry_.devices().PairAllowed(network, sender, recipient));
  if (!allowed) {
    return Unexpected(ErrorCode::kPermissionDenied,
                      "the network's policy does not allow this pair to agree keys");
  }
  return Route{recipient, std::move(network)};
}

Result<void> AgreementRelay::CheckRoom(const std::string& sender, const std::string& recipient) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        db_.Query("SELECT COUNT(*), COALESCE(SUM(CASE WHEN sender = $2 THEN 1 ELSE"
                                  " 0 END), 0) FROM mailbox WHERE recipient = $1 AND state ="
                                  " 'pending'",
                                  {recipient, sender}));
  if (AsInt(rows[0][0]).value_or(0) >= limits_.max_pending) {
    return Unexpected(ErrorCode::kLimitExceeded, "the peer has too many undelivered offers");
  }
  // One sender's flood fills only its own room: the recipient's from
  // everyone else stays open (a responder leaves an offer undelivered, not
  // acknowledged, until k hubs carry its header).
  if (AsInt(rows[0][1]).value_or(0) >= limits_.max_pending_per_sender) {
    return Unexpected(ErrorCode::kLimitExceeded,
                      "too many of this device's offers to the peer are undelivered");
  }
  return Ok();
}

Result<Delivery> AgreementRelay::MakeDelivery(const std::string& recipient,
                                              const std::string& sender, const Blob& sid,
                                              pb::DeliveryKind kind,
                                              std::span<const std::uint8_t> message,
                                              const std::optional<Blob>& wrapped_share) {
  Delivery d;
  d.recipient = recipient;
  d.message.set_sender(sender);
  const auto size = static_cast<int>(message.size());
  if (kind == pb::DELIVERY_KIND_SHARE) {
    if (!wrapped_share || !d.message.mutable_share()->ParseFromArray(message.data(), size)) {
      return Unexpected(ErrorCode::kMalformedInput, "stored share offer");
    }
    SKAP_ASSIGN_OR_RETURN(d.share,
                          keystore_.Unwrap(*wrapped_share, ShareBinding(sid, sender, recipient)));
  } else if (!d.message.mutable_confirm()->ParseFromArray(message.data(), size)) {
    return Unexpected(ErrorCode::kMalformedInput, "stored confirmation");
  }
  return d;
}

Result<Delivery> AgreementRelay::OfferShare(const std::string& sender, const pb::ShareOffer& offer,
                                            std::span<const std::uint8_t> share) {
  Delivery delivery;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto params, proto::ParamsFromHeader(offer.header()));
    if (share.size() != pairwise::kSecretBytes) {
      return Unexpected(ErrorCode::kInvalidArgument, "a share is 32 bytes");
    }
    if (!offer.share_mac().empty() && offer.share_mac().size() != kShareMacBytes) {
      return Unexpected(ErrorCode::kInvalidArgument, "a share's MAC is 48 bytes");
    }
    const auto& checks = offer.share_checks();
    if (!checks.empty() && (static_cast<std::size_t>(checks.size()) != params.hub_count() ||
                            std::any_of(checks.begin(), checks.end(), [](const std::string& c) {
                              return c.size() != pairwise::kShareCheckBytes;
                            }))) {
      return Unexpected(ErrorCode::kInvalidArgument, "share checks: one of 32 bytes for each hub");
    }
    if (sender != params.initiator && sender != params.responder) {
      return Unexpected(ErrorCode::kPermissionDenied, "a device offers only its own shares");
    }
    const std::string& recipient = sender == params.initiator ? params.responder : params.initiator;
    const auto deliver = [&](SecretBytes plain) {
      delivery.recipient = recipient;
      delivery.message.set_sender(sender);
      *delivery.message.mutable_share() = offer;
      delivery.share = std::move(plain);
    };
    SKAP_ASSIGN_OR_RETURN(auto route, RouteFor(sender, recipient));
    // The network's own settings decide, not the sender's word.
    if (params.hub_set != route.network.hub_set || params.threshold != route.network.threshold) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        "threshold mismatch: the network agrees keys " +
                            std::to_string(route.network.threshold) + " of " +
                            std::to_string(route.network.hub_set.size()) +
                            " over its hubs; the offer says " + std::to_string(params.threshold) +
                            " of " + std::to_string(params.hub_count()) + " or other hubs");
    }
    const unsigned index = params.HubIndex(registry_.hub_id());
    if (offer.hub_index() != index) {
      return Unexpected(ErrorCode::kInvalidArgument, "this hub carries share " +
                                                         std::to_string(index) + ", not " +
                                                         std::to_string(offer.hub_index()));
    }
    if (!checks.empty() && index >= 1) {
      // The one check value a hub can verify: its own share's.
      SKAP_ASSIGN_OR_RETURN(const auto own, pairwise::ShareCheck(params, index, share));
      const auto& listed = checks[static_cast<int>(index) - 1];
      if (!std::equal(own.begin(), own.end(), listed.begin(), listed.end(),
                      [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); })) {
        return Unexpected(ErrorCode::kInvalidArgument,
                          "share checks: the check value of this hub's share does not match it");
      }
    }
    const std::int64_t now = now_();
    if (params.expires_at_ms <= now) {
      return Unexpected(ErrorCode::kFailedPrecondition, "the agreement has expired");
    }
    if (params.expires_at_ms > now + limits_.max_lifetime.count()) {
      return Unexpected(ErrorCode::kInvalidArgument, "the agreement expires too far ahead");
    }
    const Blob sid(params.sid.begin(), params.sid.end());
    const Blob message = BytesOf(offer.SerializeAsString());
    SKAP_ASSIGN_OR_RETURN(auto existing,
                          db_.Query("SELECT message, wrapped_share, state FROM mailbox WHERE"
                                    " sid = $1 AND sender = $2 AND kind = $3",
                                    {sid, sender, Kind(pb::DELIVERY_KIND_SHARE)}));
    if (!existing.empty()) {
      // The same offer again (the sender restarted, or lost the answer) is
      // accepted and changes nothing; anything else under a used sid is a
      // replay or an alteration. Once delivered, the share is gone: an offer
      // with the same header is accepted and dropped (the recipient has the
      // share already).
      const auto wrapped = AsBlob(existing[0][1]);
      if (AsBlob(existing[0][0]).value_or(Blob{}) != message) {
        return Unexpected(ErrorCode::kFailedPrecondition,
                          "agreement id already used (a replayed or altered share)");
      }
      if (!wrapped) return Ok();
      SKAP_ASSIGN_OR_RETURN(auto stored,
                            keystore_.Unwrap(*wrapped, ShareBinding(sid, sender, recipient)));
      if (!ct::Equal(stored.Expose(), share)) {
        return Unexpected(ErrorCode::kFailedPrecondition,
                          "agreement id already used (a replayed or altered share)");
      }
      // Still undelivered: it goes out again (one unwrap for both uses).
      deliver(std::move(stored));
      return Ok();
    }
    SKAP_RETURN_IF_ERROR(CheckRoom(sender, recipient));
    SKAP_ASSIGN_OR_RETURN(auto wrapped,
                          keystore_.Wrap(share, ShareBinding(sid, sender, recipient)));
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO mailbox (sid, sender, kind, recipient, message, wrapped_share, state,"
        " expires_at_ms, created_at_ms, changed_at_ms)"
        " VALUES ($1, $2, $8, $3, $4, $5, 'pending', $6, $7, $7)",
        {sid, sender, recipient, message, Blob(wrapped), params.expires_at_ms, now,
         Kind(pb::DELIVERY_KIND_SHARE)}));
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {"device:" + sender, "agreement.share", SidText(offer.header().sid()), "ok",
         nlohmann::json{{"from", sender},
                        {"to", recipient},
                        {"hub_index", index},
                        {"k", params.threshold},
                        {"n", params.hub_count()},
                        {"session_epoch", params.session_epoch}}
             .dump(),
         route.network.tenant_id},
        now));
    // The share goes on as it came: it was just wrapped, not to be unwrapped
    // again in the same call.
    deliver(SecretBytes::Copy(share));
    CrashPoint("hub.share.before-commit");
    return Ok();
  });
  if (!done) {
    return registry_.Refuse(registry_.devices().ChannelActor(sender), "agreement.share",
                            SidText(offer.header().sid()), std::move(done).error());
  }
  // After the commit that makes the share durable: with group commit, the
  // batch's (store/group_commit.h), before the batch answers.
  db_.AfterCommit([] { CrashPoint("hub.share.after-commit"); });
  return delivery;
}

Result<Delivery> AgreementRelay::OfferConfirm(const std::string& sender,
                                              const pb::ConfirmOffer& offer) {
  Delivery delivery;
  auto done = store::InTransaction(db_, [&]() -> Result<void> {
    if (offer.sid().size() != pairwise::AgreementId{}.size()) {
      return Unexpected(ErrorCode::kInvalidArgument, "agreement: sid must be 16 bytes");
    }
    const bool tags_ok =
        static_cast<std::size_t>(offer.tags_size()) <= pairwise::kMaxTags &&
        std::all_of(offer.tags().begin(), offer.tags().end(),
                    [](const std::string& t) { return !t.empty() && t.size() <= kMaxTagBytes; });
    if (!tags_ok || offer.refusal().size() > kMaxRefusal ||
        (offer.tags().empty() == offer.refusal().empty())) {
      return Unexpected(ErrorCode::kInvalidArgument, "a confirmation carries up to " +
                                                         std::to_string(pairwise::kMaxTags) +
                                                         " tags or a refusal");
    }
    if (!offer.responder_x25519().empty() && offer.responder_x25519().size() != 32) {
      return Unexpected(ErrorCode::kInvalidArgument, "an X25519 public key is 32 bytes");
    }
    // A refusal's fields (protocol version 2) only with a refusal, and as
    // the protocol sizes them: the hub carries nothing it cannot bound.
    const bool refusal_fields = offer.refusal_kind() != 0 || offer.responder_epoch() != 0 ||
                                !offer.refusal_mac().empty() || !offer.refused_transcript().empty();
    if ((refusal_fields && offer.refusal().empty()) ||
        offer.refusal_kind() > channel::v1::REFUSAL_KIND_DIVERGED || offer.refusal_kind() < 0 ||
        offer.refusal_mac().size() > kMaxTagBytes ||
        offer.refused_transcript().size() > kMaxTagBytes) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        "a refusal's kind, MAC (at most " + std::to_string(kMaxTagBytes) +
                            " bytes) and transcript come with a refusal only");
    }
    SKAP_ASSIGN_OR_RETURN(auto route, RouteFor(sender, offer.recipient()));
    const std::int64_t now = now_();
    const std::int64_t keep_until = offer.expires_at_ms() + limits_.confirm_grace.count();
    if (keep_until <= now) {
      return Unexpected(ErrorCode::kFailedPrecondition, "the agreement has expired");
    }
    if (offer.expires_at_ms() > now + limits_.max_lifetime.count()) {
      return Unexpected(ErrorCode::kInvalidArgument, "the agreement expires too far ahead");
    }
    const Blob sid = BytesOf(offer.sid());
    const Blob message = BytesOf(offer.SerializeAsString());
    // Tags that replace the sender's own row take no new room (a full room
    // must not stop a sender from updating, or repeating, what it sent).
    SKAP_ASSIGN_OR_RETURN(auto existing,
                          db_.Query("SELECT 1 FROM mailbox WHERE sid = $1 AND sender = $2 AND"
                                    " kind = $3",
                                    {sid, sender, Kind(pb::DELIVERY_KIND_CONFIRM)}));
    if (existing.empty()) SKAP_RETURN_IF_ERROR(CheckRoom(sender, route.recipient));
    // Tags may be sent again with more candidates once more shares arrived:
    // the newest set replaces the last and goes out again.
    SKAP_ASSIGN_OR_RETURN(
        const auto changed,
        db_.Execute("INSERT INTO mailbox (sid, sender, kind, recipient, message, state,"
                    " expires_at_ms, created_at_ms, changed_at_ms)"
                    " VALUES ($1, $2, $7, $3, $4, 'pending', $5, $6, $6)"
                    " ON CONFLICT (sid, sender, kind) DO UPDATE SET message = excluded.message,"
                    " state = 'pending', changed_at_ms = excluded.changed_at_ms"
                    " WHERE mailbox.message <> excluded.message",
                    {sid, sender, route.recipient, message, keep_until, now,
                     Kind(pb::DELIVERY_KIND_CONFIRM)}));
    // The same tags again (the sender restarted) change nothing and go out
    // no second time.
    if (changed == 0) return Ok();
    nlohmann::json detail{{"from", sender}, {"to", route.recipient}, {"tags", offer.tags_size()}};
    if (!offer.refusal().empty()) detail["refusal"] = offer.refusal();
    SKAP_RETURN_IF_ERROR(audit_.AppendInCurrentTransaction(
        {"device:" + sender, "agreement.confirm", SidText(offer.sid()), "ok", detail.dump(),
         route.network.tenant_id},
        now));
    SKAP_ASSIGN_OR_RETURN(delivery, MakeDelivery(route.recipient, sender, sid,
                                                 pb::DELIVERY_KIND_CONFIRM, message, std::nullopt));
    return Ok();
  });
  if (!done) {
    return registry_.Refuse(registry_.devices().ChannelActor(sender), "agreement.confirm",
                            SidText(offer.sid()), std::move(done).error());
  }
  return delivery;
}

Result<std::vector<Delivery>> AgreementRelay::PendingFor(const std::string& recipient) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT sender, kind, message, wrapped_share, sid FROM mailbox"
                           " WHERE recipient = $1 AND state = 'pending' AND expires_at_ms > $2"
                           " ORDER BY kind, created_at_ms LIMIT $3",  // shares first
                           {recipient, now_(), limits_.max_pending}));
  std::vector<Delivery> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    SKAP_ASSIGN_OR_RETURN(
        auto d,
        MakeDelivery(recipient, AsText(row[0]).value_or(""), AsBlob(row[4]).value_or(Blob{}),
                     static_cast<pb::DeliveryKind>(AsInt(row[1]).value_or(0)),
                     AsBlob(row[2]).value_or(Blob{}), AsBlob(row[3])));
    out.push_back(std::move(d));
  }
  return out;
}

Result<void> AgreementRelay::Acknowledge(const std::string& recipient, const pb::DeliveryAck& ack) {
  // An agent of 0.2 names the kind only as text (channel.proto).
  pb::DeliveryKind kind = ack.kind();
  if (kind == pb::DELIVERY_KIND_UNSPECIFIED) {
    if (ack.kind_name() == "share") kind = pb::DELIVERY_KIND_SHARE;
    if (ack.kind_name() == "confirm") kind = pb::DELIVERY_KIND_CONFIRM;
  }
  if (kind != pb::DELIVERY_KIND_SHARE && kind != pb::DELIVERY_KIND_CONFIRM) {
    return Unexpected(ErrorCode::kInvalidArgument, "a delivery is a share or a confirm");
  }
  // The share itself goes now (secure_delete overwrites it); the public
  // offer stays as a tombstone until expiry, so a replay is recognised.
  SKAP_RETURN_IF_ERROR(
      db_.Execute("UPDATE mailbox SET state = 'delivered', wrapped_share = NULL, changed_at_ms = $5"
                  " WHERE sid = $1 AND sender = $2 AND kind = $3 AND recipient = $4",
                  {BytesOf(ack.sid()), ack.sender(), Kind(kind), recipient, now_()}));
  db_.AfterCommit([] { CrashPoint("hub.ack.after-commit"); });
  return Ok();
}

Result<std::int64_t> AgreementRelay::Purge() {
  return db_.Execute("DELETE FROM mailbox WHERE expires_at_ms <= $1", {now_()});
}

}  // namespace skap::hub
