#include "agent/agreement_engine.h"

#include <algorithm>
#include <utility>

#include "common/crash_point.h"
#include "common/ct.h"
#include "common/hex.h"
#include "proto/agreement_header.h"

namespace skap::agent {
namespace {

namespace pb = skap::channel::v1;
using pairwise::Role;

std::string SidHex(const pairwise::AgreementId& sid) { return HexEncode(sid); }

std::optional<pairwise::AgreementId> SidFrom(const std::string& bytes) {
  pairwise::AgreementId sid{};
  if (bytes.size() != sid.size()) return std::nullopt;
  std::copy(bytes.begin(), bytes.end(), sid.begin());
  return sid;
}

// ChecksOf is the list of share check values a share offer carries.
std::vector<pairwise::ShareCheckValue> ChecksOf(const pb::ShareOffer& offer) {
  std::vector<pairwise::ShareCheckValue> out;
  for (const auto& check : offer.share_checks()) out.emplace_back(check.begin(), check.end());
  return out;
}

bool SameParams(const pairwise::AgreementParams& a, const pairwise::AgreementParams& b) {
  return a.sid == b.sid && a.initiator == b.initiator && a.responder == b.responder &&
         a.hub_set == b.hub_set && a.threshold == b.threshold &&
         a.expires_at_ms == b.expires_at_ms && a.session_epoch == b.session_epoch &&
         a.initiator_x25519 == b.initiator_x25519;
}

}  // namespace

AgreementEngine::AgreementEngine(store::Database& db, AgreementStore& agreements,
                                 SessionStore& sessions, crypto::Rng& rng, Identity identity,
                                 EngineOptions options, Clock now)
    : db_(db),
      agreements_(agreements),
      sessions_(sessions),
      rng_(rng),
      identity_(std::move(identity)),
      options_(options),
      now_(std::move(now)) {}

Result<void> AgreementEngine::Resume() {
  SKAP_ASSIGN_OR_RETURN(auto records, agreements_.LoadLive(options_.confirm_grace.count()));
  for (auto& r : records) live_.emplace(r.params.sid, std::move(r));
  // What arrived before a restart may already be enough to confirm (the
  // agent may have died just before its commit); the hubs hear the rest
  // when the links come up.
  for (auto& [sid, r] : live_) {
    if (r.state != AgreementState::kRunning || !r.agreement) continue;
    // A re-seed started before the session's fresh start is keyed under the
    // session that start replaced (a crash came before it was superseded).
    if (r.params.session_epoch >= 2) {
      auto session = sessions_.Get(r.peer);
      if (session && *session && r.created_at_ms < (*session)->established_at_ms) {
        Fail(r, "superseded by a fresh start of the session");
        continue;
      }
    }
    if (auto authenticated = AuthenticateShares(r); !authenticated) {
      Fail(r, authenticated.error().message);
      continue;
    }
    Progress(r);
  }
  return Ok();
}

Result<void> AgreementEngine::AuthenticateShares(AgreementRecord& r) {
  if (!r.agreement || r.params.session_epoch < 2) return Ok();
  SKAP_ASSIGN_OR_RETURN(const auto secrets, sessions_.PeerSecrets(r.peer));
  const std::uint64_t under = r.params.session_epoch - 1;
  for (const auto& held : secrets) {
    if (held.epoch == under) return r.agreement->AuthenticateShares(held.secret.Expose());
  }
  return Unexpected(ErrorCode::kFailedPrecondition,
                    "the session no longer holds epoch " + std::to_string(under) +
                        ", which this re-seed's shares are authenticated under");
}

unsigned AgreementEngine::UpLinks() const {
  return static_cast<unsigned>(
      std::count_if(links_.begin(), links_.end(), [](const HubPort* l) { return l->up(); }));
}

std::uint64_t AgreementEngine::SessionEpoch(const std::string& peer) {
  auto session = sessions_.Get(peer);
  return session && *session ? (*session)->epoch : 0;
}

AgreementOutcome AgreementEngine::OutcomeOf(const AgreementRecord& r) {
  AgreementOutcome o;
  o.sid = SidHex(r.params.sid);
  o.peer = r.peer;
  o.role = std::string(pairwise::RoleName(r.role));
  o.state = r.state;
  o.session_epoch = r.params.session_epoch;
  o.hybrid = r.params.hybrid();
  for (unsigned i : r.inconsistent_hubs) {
    if (i >= 1 && i <= r.params.hub_set.size())
      o.inconsistent_hubs.push_back(r.params.hub_set[i - 1]);
  }
  o.reason = r.reason;
  if (r.state == AgreementState::kRunning && r.agreement) o.reason = r.agreement->Status();
  return o;
}

void AgreementEngine::Agree(const std::string& peer, bool fresh, bool hybrid, Done done) {
  // An agreement with the peer already under way is joined: this side's
  // own, or the peer's once this side has tagged it (k hubs carried it).
  // An offer that only claims to be the peer's (one hub's forgery) must not
  // hold every later agreement hostage; the both-sides rule settles a clash.
  for (const auto& [sid, r] : live_) {
    if (r.peer == peer && r.state == AgreementState::kRunning &&
        (r.role == Role::kInitiator || !r.tags_out.empty())) {
      waiters_[sid].push_back(std::move(done));
      return;
    }
  }
  auto started = Start(peer, fresh, hybrid);
  if (!started) {
    AgreementOutcome o;
    o.peer = peer;
    o.role = "initiator";
    o.state = AgreementState::kFailed;
    o.reason = started.error().message;
    done(o);
    return;
  }
  waiters_[*started].push_back(std::move(done));
}

Result<AgreementEngine::Sid> AgreementEngine::Start(const std::string& peer, bool fresh,
                                                    bool hybrid) {
  if (peer == identity_.device_id) {
    return Unexpected(ErrorCode::kInvalidArgument, "a device cannot agree a key with itself");
  }
  if (auto why = EndedReason(peer)) {
    return Unexpected(ErrorCode::kFailedPrecondition, "peer " + peer + " ended: " + *why);
  }
  const unsigned up = UpLinks();
  if (up < identity_.threshold) {
    return Unexpected(ErrorCode::kUnavailable, "only " + std::to_string(up) + " of " +
                                                   std::to_string(identity_.hub_set.size()) +
                                                   " hubs are reachable; an agreement needs " +
                                                   std::to_string(identity_.threshold));
  }
  AgreementRecord r;
  r.params.initiator = identity_.device_id;
  r.params.responder = peer;
  r.params.hub_set = identity_.hub_set;
  r.params.threshold = identity_.threshold;
  r.params.expires_at_ms = now_() + options_.lifetime.count();
  const std::uint64_t current = SessionEpoch(peer);
  r.params.session_epoch = fresh || current == 0 ? 1 : current + 1;
  SKAP_RETURN_IF_ERROR(rng_.Fill(r.params.sid));
  r.role = Role::kInitiator;
  r.peer = peer;
  r.created_at_ms = now_();
  SKAP_ASSIGN_OR_RETURN(auto agreement,
                        pairwise::Agreement::Start(r.params, Role::kInitiator, rng_, hybrid));
  r.params = agreement.params();  // with P_A in hybrid mode
  r.agreement.emplace(std::move(agreement));
  SKAP_RETURN_IF_ERROR(AuthenticateShares(r));
  // Stored before any share leaves: a restart resends these same shares.
  SKAP_RETURN_IF_ERROR(agreements_.Save(r));
  CrashPoint("agent.agree.after-start");
  const Sid sid = r.params.sid;
  auto& stored = live_.emplace(sid, std::move(r)).first->second;
  SendShares(stored, nullptr);
  return sid;
}

void AgreementEngine::SendShares(const AgreementRecord& r, HubPort* only) {
  if (r.state != AgreementState::kRunning || !r.agreement) return;
  const auto& held = shares_held_[r.params.sid];
  for (HubPort* link : links_) {
    if ((only != nullptr && link != only) || !link->up() || held.contains(link->hub_id())) {
      continue;
    }
    const unsigned index = r.params.HubIndex(link->hub_id());
    if (index == 0) continue;
    pb::Envelope request;
    auto* offer = request.mutable_share_offer();
    proto::FillHeader(r.params, *offer->mutable_header());
    offer->set_hub_index(index);
    if (r.agreement->shares_authenticated()) {
      if (auto mac = r.agreement->OwnShareMac(index)) {
        offer->set_share_mac(std::string(mac->begin(), mac->end()));
      }
    } else if (auto checks = r.agreement->OwnShareChecks()) {
      for (const auto& check : *checks)
        offer->add_share_checks(std::string(check.begin(), check.end()));
    }
    const Sid sid = r.params.sid;
    const std::string hub = link->hub_id();
    link->Request(std::move(request), SecretBytes::Copy(r.agreement->OwnShare(index)),
                  [this, sid, hub](Result<proto::Frame> answer) {
                    if (!answer) return;  // the link went down: resent when it is back
                    if (answer->envelope.has_error()) {
                      OnOfferRefused(sid, hub, answer->envelope.error().message());
                    } else if (live_.contains(sid)) {
                      shares_held_[sid].insert(hub);
                    }
                  });
  }
}

void AgreementEngine::SendConfirm(const AgreementRecord& r, HubPort* only) {
  if (r.tags_out.empty() && r.refusal_out.empty()) return;
  pb::ConfirmOffer confirm;
  confirm.set_sid(std::string(r.params.sid.begin(), r.params.sid.end()));
  confirm.set_recipient(r.peer);
  confirm.set_expires_at_ms(r.params.expires_at_ms);
  for (const auto& tag : r.tags_out) confirm.add_tags(std::string(tag.begin(), tag.end()));
  confirm.set_refusal(r.refusal_out);
  if (!r.refusal_out.empty()) {
    if (auto th = pairwise::TranscriptHash(r.params)) {
      confirm.set_refused_transcript(std::string(th->begin(), th->end()));
    }
    confirm.set_refusal_kind(static_cast<pb::RefusalKind>(r.refusal_kind));
    confirm.set_responder_epoch(r.refusal_epoch);
    confirm.set_refusal_mac(std::string(r.refusal_mac.begin(), r.refusal_mac.end()));
  }
  if (r.agreement) {  // a responder's tags travel with its public key (hybrid mode)
    const auto p = r.agreement->responder_public();
    confirm.set_responder_x25519(std::string(p.begin(), p.end()));
  }
  // A re-seed's tags also go over the peer channel, sealed under the epoch
  // both sides hold until it confirms; the hubs carry them regardless.
  if (only == nullptr && peer_confirm_ && r.params.session_epoch >= 2) {
    peer_confirm_(r.peer, r.params.session_epoch - 1, confirm);
  }
  const auto& held = confirm_held_[r.params.sid];
  for (HubPort* link : links_) {
    if ((only != nullptr && link != only) || !link->up() || held.contains(link->hub_id())) {
      continue;
    }
    pb::Envelope request;
    *request.mutable_confirm_offer() = confirm;
    const Sid sid = r.params.sid;
    const std::string hub = link->hub_id();
    link->Request(std::move(request), SecretBytes(), [this, sid, hub](Result<proto::Frame> answer) {
      if (answer && answer->envelope.has_offer_accepted() && live_.contains(sid)) {
        confirm_held_[sid].insert(hub);
      }
    });
  }
}

void AgreementEngine::OnOfferRefused(const Sid& sid, const std::string& hub_id,
                                     const std::string& message) {
  auto it = live_.find(sid);
  if (it == live_.end() || it->second.state != AgreementState::kRunning) return;
  auto& refused = refusals_[sid];
  refused[hub_id] = message;
  // While k hubs may still carry the agreement it goes on; once more than
  // n - k have refused it, it cannot complete: say why at once.
  const std::size_t n = it->second.params.hub_count();
  if (refused.size() > n - it->second.params.threshold) {
    Fail(it->second, "refused by hub " + hub_id + ": " + message);
  }
}

void AgreementEngine::OnLinkUp(HubPort& link) {
  // Whatever the hub may have missed goes again (the hubs take a repeat as
  // the same offer); then the hub hands over what waits for this device.
  for (auto& [sid, r] : live_) {
    SendShares(r, &link);
    // A responder that has confirmed has nothing more to say: the
    // initiator confirmed before it sent its tag.
    if (r.state == AgreementState::kConfirmed && r.role == Role::kResponder) continue;
    SendConfirm(r, &link);
  }
  pb::Envelope fetch;
  fetch.mutable_fetch_deliveries();
  link.Request(std::move(fetch), SecretBytes(), [](const Result<proto::Frame>&) {});
  CheckPeers(link);
}

void AgreementEngine::CheckPeers(HubPort& link) {
  std::set<std::string> peers;
  if (auto sessions = sessions_.List()) {
    for (const auto& session : *sessions) peers.insert(session.peer);
  }
  for (const auto& [sid, r] : live_) peers.insert(r.peer);
  for (const auto& [peer, hubs] : ended_notices_) peers.insert(peer);
  if (peers.empty()) return;
  pb::Envelope request;
  for (const auto& peer : peers) request.mutable_check_peers()->add_device_ids(peer);
  link.Request(std::move(request), SecretBytes(),
               [this, peers, hub = link.hub_id()](Result<proto::Frame> answer) {
                 if (!answer || !answer->envelope.has_peers_ended()) return;
                 // The answer covers every peer asked: one it does not name
                 // has not ended, as far as this hub knows now.
                 std::map<std::string, std::string> named;
                 for (const auto& e : answer->envelope.peers_ended().peers()) {
                   if (peers.contains(e.device_id())) named[e.device_id()] = e.reason();
                 }
                 for (const auto& peer : peers) {
                   const auto it = named.find(peer);
                   TakeNotice(
                       hub, peer,
                       it == named.end() ? std::nullopt : std::optional<std::string>(it->second));
                 }
               });
}

void AgreementEngine::OnPeersEnded(HubPort& link, const pb::PeersEnded& ended) {
  for (const auto& e : ended.peers()) TakeNotice(link.hub_id(), e.device_id(), e.reason());
}

void AgreementEngine::TakeNotice(const std::string& hub_id, const std::string& peer,
                                 const std::optional<std::string>& reason) {
  const auto& hubs = identity_.hub_set;
  if (std::find(hubs.begin(), hubs.end(), hub_id) == hubs.end() || peer == identity_.device_id) {
    return;
  }
  if (!reason) {
    if (auto it = ended_notices_.find(peer); it != ended_notices_.end()) {
      it->second.erase(hub_id);
      if (it->second.empty()) ended_notices_.erase(it);
    }
    // Fewer than the count say so now (a pair allowed again): agreements
    // may start afresh; the erased session stays erased.
    if (ended_.contains(peer) && !EndedReason(peer)) ended_.erase(peer);
    return;
  }
  ended_notices_[peer][hub_id] = reason->empty() ? "ended" : *reason;
  if (ended_.contains(peer) || !EndedReason(peer)) return;
  ended_.insert(peer);
  if (!EndPeer(peer)) erase_pending_.insert(peer);
  if (peer_ended_) peer_ended_(peer, *EndedReason(peer));
}

std::optional<std::string> AgreementEngine::EndedReason(const std::string& peer) const {
  const auto it = ended_notices_.find(peer);
  if (it == ended_notices_.end()) return std::nullopt;
  // More than n − k hubs: at least one of them is honest.
  const std::size_t needed = identity_.hub_set.size() - identity_.threshold + 1;
  if (it->second.size() < needed) return std::nullopt;
  // The reason most of them give (ties: the first in hub order).
  std::map<std::string, std::size_t> votes;
  for (const auto& [hub, why] : it->second) ++votes[why];
  std::string reason;
  std::size_t most = 0;
  for (const auto& [hub, why] : it->second) {
    if (votes[why] > most) {
      most = votes[why];
      reason = why;
    }
  }
  return reason + " (say " + std::to_string(it->second.size()) + " of " +
         std::to_string(identity_.hub_set.size()) + " hubs)";
}

bool AgreementEngine::EndPeer(const std::string& peer) {
  const std::string why = "the peer ended: " + EndedReason(peer).value_or("ended");
  for (auto& [sid, r] : live_) {
    if (r.peer == peer) Fail(r, why);
  }
  auto session = sessions_.Get(peer);
  if (!session) return false;
  if (!*session) return true;
  return static_cast<bool>(store::InTransaction(
      db_, [&]() -> Result<void> { return sessions_.EraseInCurrentTransaction(peer); }));
}

void AgreementEngine::Ack(HubPort& link, const std::string& sender, const std::string& sid,
                          channel::v1::DeliveryKind kind) {
  pb::Envelope ack;
  ack.mutable_delivery_ack()->set_sid(sid);
  ack.mutable_delivery_ack()->set_sender(sender);
  ack.mutable_delivery_ack()->set_kind(kind);
  // For hubs of 0.2, which read only the kind's name (channel.proto).
  ack.mutable_delivery_ack()->set_kind_name(kind == pb::DELIVERY_KIND_SHARE ? "share" : "confirm");
  link.Request(std::move(ack), SecretBytes(), [](const Result<proto::Frame>&) {});
}

void AgreementEngine::OnPeerConfirm(const std::string& sender, const pb::ConfirmOffer& confirm) {
  (void)OnConfirm(sender, confirm, pairwise::kPeerChannelSource);
}

bool AgreementEngine::OnConfirm(const std::string& sender, const pb::ConfirmOffer& confirm,
                                unsigned source) {
  // The same tags may come through every hub and the peer channel: the
  // first copy that completes the agreement moves it, the rest find it moved.
  const auto sid = SidFrom(confirm.sid());
  auto it = sid ? live_.find(*sid) : live_.end();
  if (it == live_.end() || it->second.peer != sender ||
      it->second.state != AgreementState::kRunning) {
    return true;  // nothing to store
  }
  AgreementRecord& r = it->second;
  if (!confirm.refusal().empty()) {
    // Only a responder refuses, and only the header it was given: one that
    // names another header than this side's refused what a hub altered.
    if (r.role != Role::kInitiator) return true;
    if (!confirm.refused_transcript().empty()) {
      auto own = pairwise::TranscriptHash(r.params);
      if (!own || !ct::Equal(*own, AsBytes(confirm.refused_transcript()))) return true;
    }
    // Sealed end to end, or under the session both sides hold, a refusal
    // is the peer's own word. Otherwise it may be one hub's forgery: it
    // counts once more than n - k hubs carry it, which no n - k lying hubs
    // can reach on their own (the count is kept in memory: after a restart
    // the agreement ends at expiry).
    const bool known_kind =
        confirm.refusal_kind() >= 0 && confirm.refusal_kind() <= pb::REFUSAL_KIND_DIVERGED;
    const auto kind = known_kind ? static_cast<pairwise::RefusalKind>(confirm.refusal_kind())
                                 : pairwise::RefusalKind::kOther;
    if (source == pairwise::kPeerChannelSource || RefusalIsThePeers(r, confirm)) {
      // A refusal that verifies under this side's session shows the two
      // hold one key: whatever it says, the sessions did not diverge.
      TakeRefusal(r, confirm.refusal(),
                  kind == pairwise::RefusalKind::kDiverged ? pairwise::RefusalKind::kOther : kind,
                  confirm.responder_epoch());
      return true;
    }
    // A hub named for altering a share is believed in nothing else.
    if (r.agreement && std::binary_search(r.agreement->rejected_hubs().begin(),
                                          r.agreement->rejected_hubs().end(), source)) {
      return true;
    }
    auto& carried = peer_refusals_[r.params.sid];
    carried[source] = {confirm.refusal(), confirm.refusal_kind(), confirm.responder_epoch()};
    const std::size_t liars = r.params.hub_count() - r.params.threshold;
    if (carried.size() > liars) {
      // What it says counts only as far as more than n - k copies agree.
      const auto agreeing = std::count_if(carried.begin(), carried.end(), [&](const auto& c) {
        return c.second.kind == confirm.refusal_kind() &&
               c.second.responder_epoch == confirm.responder_epoch();
      });
      TakeRefusal(r, confirm.refusal(),
                  static_cast<std::size_t>(agreeing) > liars ? kind : pairwise::RefusalKind::kOther,
                  confirm.responder_epoch());
    }
    return true;
  }
  std::vector<pairwise::Tag> tags;
  for (const auto& t : confirm.tags()) tags.emplace_back(t.begin(), t.end());
  // A source repeating itself (a hub re-pushing the same forgery, say)
  // costs no new search of the candidates.
  const bool changed = r.agreement->AddPeerTags(source, tags, AsBytes(confirm.responder_x25519()));
  if (!changed && !unsaved_.contains(r.params.sid)) return true;
  return Progress(r);
}

void AgreementEngine::OnDelivery(HubPort& link, const pb::PeerDelivery& delivery,
                                 SecretBytes share) {
  const std::string& sender = delivery.sender();
  // A delivery is acknowledged only once what it brought is stored: a hub
  // that hears no ack keeps it and hands it over again.
  if (delivery.has_confirm()) {
    const auto sid = SidFrom(delivery.confirm().sid());
    auto it = sid ? live_.find(*sid) : live_.end();
    const unsigned source = it != live_.end() ? it->second.params.HubIndex(link.hub_id()) : 0;
    if (it != live_.end() && source == 0) {
      return Ack(link, sender, delivery.confirm().sid(), pb::DELIVERY_KIND_CONFIRM);
    }
    if (!OnConfirm(sender, delivery.confirm(), source)) return Unstored();
    return Ack(link, sender, delivery.confirm().sid(), pb::DELIVERY_KIND_CONFIRM);
  }
  if (!delivery.has_share()) return;
  const auto& offer = delivery.share();
  auto params = proto::ParamsFromHeader(offer.header());
  // The share is the one this hub carries: its position in this device's
  // own hub set, never in the set the header claims (a hub could list a
  // set of its own making to pass for another position).
  const unsigned index = params ? OwnHubIndex(link) : 0;
  if (!params || index == 0 || share.size() != pairwise::kSecretBytes ||
      sender !=
          (params->initiator == identity_.device_id ? params->responder : params->initiator)) {
    return Ack(link, sender, offer.header().sid(),
               pb::DELIVERY_KIND_SHARE);  // nothing this device can use
  }
  auto it = live_.find(params->sid);
  if (it == live_.end()) {
    auto stored = agreements_.Load(params->sid);
    if (stored && *stored) {
      it = live_.emplace(params->sid, std::move(**stored)).first;
      if (auto authenticated = AuthenticateShares(it->second); !authenticated) {
        Fail(it->second, authenticated.error().message);
      }
    } else if (!stored) {
      return Unstored();  // cannot tell whether it is known
    }
  }
  // A header this side may answer (a sid it does not hold, or one whose
  // header it refused) is taken only when it is proven (a re-seed's share
  // MAC) or when k hubs carry it: fewer than k lying hubs cannot make this
  // side answer a header of theirs, nor refuse the real one.
  const bool answerable =
      params->responder == identity_.device_id &&
      (it == live_.end() ||
       (!SameParams(it->second.params, *params) && it->second.role == Role::kResponder &&
        it->second.state == AgreementState::kFailed && !it->second.refusal_out.empty()));
  if (answerable) {
    if (params->expires_at_ms <= now_()) {  // late or replayed: nothing to answer
      return Ack(link, sender, offer.header().sid(), pb::DELIVERY_KIND_SHARE);
    }
    const bool proven = ShareIsTheInitiators(*params, index, share, AsBytes(offer.share_mac()));
    if (!proven && !Adopted(*params)) return Hold(link, delivery, std::move(share), *params, index);
    if (!Answer(link, *params, std::move(share), AsBytes(offer.share_mac()), ChecksOf(offer))) {
      return Unstored();
    }
    Ack(link, sender, offer.header().sid(), pb::DELIVERY_KIND_SHARE);
    return ReleaseHeld(params->sid);  // what other hubs carried is judged against it
  }
  if (it == live_.end()) return Ack(link, sender, offer.header().sid(), pb::DELIVERY_KIND_SHARE);
  AgreementRecord& r = it->second;
  // A share from a hub that altered the header changes nothing, and names
  // that hub: the record's header is the initiator's own, or one proven by
  // a share's MAC, or one k hubs carried (of whom fewer than k lie).
  if (!SameParams(r.params, *params) && r.state == AgreementState::kRunning && r.agreement &&
      std::find(r.agreement->rejected_hubs().begin(), r.agreement->rejected_hubs().end(), index) ==
          r.agreement->rejected_hubs().end()) {
    r.agreement->NameHub(index);
    if (!Progress(r)) return Unstored();
  }
  if (SameParams(r.params, *params)) {
    const std::size_t named = r.agreement ? r.agreement->rejected_hubs().size() : 0;
    if (r.state == AgreementState::kRunning && r.agreement &&
        (r.agreement->AddPeerShare(index, share.Expose(), AsBytes(offer.share_mac()),
                                   ChecksOf(offer)) ||
         r.agreement->rejected_hubs().size() != named)) {
      // A share that failed its MAC names its hub: stored like a share.
      if (!Progress(r)) return Unstored();
    } else if (r.state == AgreementState::kConfirmed) {
      if (!JudgeLateShare(r, index, share)) return Unstored();
    } else if (r.state == AgreementState::kFailed && !r.refusal_out.empty()) {
      // Another hub with the header refused: a faithful carrier if its
      // share is the initiator's.
      NoteUnproven(*params, index,
                   !ShareIsTheInitiators(*params, index, share, AsBytes(offer.share_mac())));
    }
  }
  Ack(link, sender, offer.header().sid(), pb::DELIVERY_KIND_SHARE);
}

bool AgreementEngine::Adopted(const pairwise::AgreementParams& params) const {
  const auto found = adopted_.find(params.sid);
  if (found == adopted_.end()) return false;
  const auto th = pairwise::TranscriptHash(params);
  return th && *th == found->second.transcript;
}

void AgreementEngine::Hold(HubPort& link, const pb::PeerDelivery& delivery, SecretBytes share,
                           const pairwise::AgreementParams& params, unsigned index) {
  auto th = pairwise::TranscriptHash(params);
  if (!th)
    return Ack(link, delivery.sender(), delivery.share().header().sid(), pb::DELIVERY_KIND_SHARE);
  // Each hub has its share of the room, as for unproven notes (a flood of
  // made-up sids through one hub pushes out only that hub's own), and each
  // sender its share of that hub's, as large as a hub's room for one sender
  // (agreement_max_pending_per_sender), so one device's flood pushes out only
  // its own. What is pushed out stays unacknowledged at its hub, which hands
  // it over again at the next link-up.
  const std::size_t quota =
      std::max<std::size_t>(1, kMaxUnproven / std::max<std::size_t>(1, identity_.hub_set.size()));
  if (auto known = held_.find(params.sid); known == held_.end() || !known->second.contains(index)) {
    // Per sender at this hub: how many it holds, and its oldest.
    std::map<std::string, std::pair<std::size_t, decltype(held_)::iterator>> senders;
    std::size_t of_hub = 0;
    for (auto h = held_.begin(); h != held_.end(); ++h) {
      const auto entry = h->second.find(index);
      if (entry == h->second.end()) continue;
      ++of_hub;
      auto [at, fresh] = senders.try_emplace(entry->second.delivery.sender(), 0, h);
      ++at->second.first;
      if (!fresh &&
          entry->second.expires_at_ms < at->second.second->second.at(index).expires_at_ms) {
        at->second.second = h;
      }
    }
    // The sender's own oldest when it holds its most; when the hub's room
    // is full, the oldest of the sender holding most (a flood pushes out
    // its own, never a sender with fewer).
    auto evict = held_.end();
    if (auto mine = senders.find(delivery.sender());
        mine != senders.end() && mine->second.first >= kMaxHeldPerSender) {
      evict = mine->second.second;
    } else if (of_hub >= quota && !senders.empty()) {
      const auto most = std::max_element(
          senders.begin(), senders.end(),
          [](const auto& x, const auto& y) { return x.second.first < y.second.first; });
      evict = most->second.second;
    }
    if (evict != held_.end()) {
      evict->second.erase(index);
      if (evict->second.empty()) held_.erase(evict);
    }
  }
  const std::int64_t keep_until = std::min(params.expires_at_ms, now_() + kUnprovenKeep.count());
  auto& of_sid = held_[params.sid];
  HeldShare held{&link, delivery, std::move(share), *th, keep_until};
  held.delivery.DiscardUnknownFields();  // what OnDelivery reads, no more
  of_sid.insert_or_assign(index, std::move(held));
  // The header of this device's own network sets k (never the one a header
  // claims).
  const auto carriers = std::count_if(of_sid.begin(), of_sid.end(), [&](const auto& entry) {
    return entry.second.transcript == *th;
  });
  if (static_cast<std::size_t>(carriers) < identity_.threshold) return;
  adopted_.insert_or_assign(params.sid, AdoptedHeader{*th, keep_until});
  ReleaseHeld(params.sid);
}

void AgreementEngine::ReleaseHeld(const Sid& sid) {
  auto found = held_.find(sid);
  if (found == held_.end()) return;
  auto entries = std::move(found->second);
  held_.erase(found);
  const auto adopted = adopted_.find(sid);
  // The adopted header's shares first (the first of them starts the
  // agreement), then the others, which name their hubs.
  for (const bool of_adopted : {true, false}) {
    for (auto& [index, held] : entries) {
      const bool same = adopted != adopted_.end() && held.transcript == adopted->second.transcript;
      if (same != of_adopted || held.link == nullptr) continue;
      HubPort& link = *std::exchange(held.link, nullptr);
      OnDelivery(link, held.delivery, std::move(held.share));
    }
  }
}

bool AgreementEngine::JudgeLateShare(AgreementRecord& r, unsigned index, const SecretBytes& share) {
  const auto check = r.share_checks.find(index);
  if (check == r.share_checks.end()) return true;  // judged already
  auto value = pairwise::ShareCheck(r.params, index, share.Expose());
  if (!value) return true;
  const auto before = r.inconsistent_hubs;
  auto expected = std::move(check->second);
  if (!ct::Equal(*value, expected)) {
    r.inconsistent_hubs.insert(
        std::upper_bound(r.inconsistent_hubs.begin(), r.inconsistent_hubs.end(), index), index);
  }
  r.share_checks.erase(check);
  if (agreements_.Save(r)) return true;
  r.inconsistent_hubs = before;  // not stored: judged again when the hub hands it over again
  r.share_checks.emplace(index, std::move(expected));
  return false;
}

bool AgreementEngine::RefusalIsThePeers(const AgreementRecord& r, const pb::ConfirmOffer& confirm) {
  if (confirm.refusal_mac().empty() || confirm.refusal_kind() < 0 ||
      confirm.refusal_kind() > pb::REFUSAL_KIND_DIVERGED) {
    return false;
  }
  auto secrets = sessions_.PeerSecrets(r.peer);
  auto th = pairwise::TranscriptHash(r.params);
  if (!secrets || !th) return false;
  // The responder keys it under the epoch before the offer's if it holds
  // that one, else under its own current epoch: try each this side holds.
  for (const auto& held : *secrets) {
    auto mac = pairwise::RefusalMac(held.secret.Expose(), *th, confirm.responder_epoch(),
                                    static_cast<pairwise::RefusalKind>(confirm.refusal_kind()),
                                    confirm.refusal());
    if (mac && ct::Equal(*mac, AsBytes(confirm.refusal_mac()))) return true;
  }
  return false;
}

void AgreementEngine::TakeRefusal(AgreementRecord& r, const std::string& reason,
                                  pairwise::RefusalKind kind, std::uint64_t responder_epoch) {
  const std::uint64_t own = SessionEpoch(r.peer);
  // Until the agreement that made this side's epoch has expired at the
  // peer too (lifetime and grace after this side committed it), the peer
  // may still take its last tag: it is late, not split.
  auto session = sessions_.Get(r.peer);
  const bool settled = session && *session &&
                       now_() - (*session)->reseeded_at_ms >=
                           options_.lifetime.count() + options_.confirm_grace.count();
  // A re-seed whose last message (the initiator's tag) reached no hub in
  // time leaves its initiator an epoch ahead of its responder. Neither can
  // re-seed the other then, and the responder cannot catch up (it never
  // learnt which candidate was right). The side ahead, told so by the peer
  // itself, starts the session afresh: one side only, so two fresh starts
  // never cross.
  // Sessions that diverged at one epoch heal the same way, from the side
  // with the lower device id (the one that schedules re-seeds), so that two
  // fresh starts never cross; the other side's attempt just fails.
  const bool diverged = kind == pairwise::RefusalKind::kDiverged && r.params.session_epoch != 1;
  if (diverged && identity_.device_id > r.peer) {
    return Fail(r, "the peer refused: " + reason +
                       "; the peer (the lower device id) starts afresh at its next re-seed, or "
                       "agree --fresh");
  }
  const bool split = (kind == pairwise::RefusalKind::kEpochMismatch &&
                      r.params.session_epoch != 1 && responder_epoch < own && settled) ||
                     diverged;
  if (!split) return Fail(r, "the peer refused: " + reason);
  std::vector<Done> waiting;
  if (auto w = waiters_.find(r.params.sid); w != waiters_.end()) {
    waiting = std::move(w->second);
    waiters_.erase(w);
  }
  Fail(r, "the peer refused: " + reason +
              (diverged ? std::string("; the sessions diverged: the session starts afresh")
                        : "; the session split (the peer is at epoch " +
                              std::to_string(responder_epoch) + ", this side at " +
                              std::to_string(own) + "): it starts afresh"));
  auto started = Start(r.peer, true, r.params.hybrid() || options_.hybrid);
  if (!started) {
    AgreementOutcome o = OutcomeOf(r);
    o.reason += "; cannot start afresh: " + started.error().message;
    for (auto& done : waiting) done(o);
    return;
  }
  auto& moved = waiters_[*started];
  for (auto& done : waiting) moved.push_back(std::move(done));
}

unsigned AgreementEngine::OwnHubIndex(const HubPort& link) const {
  const auto& hubs = identity_.hub_set;
  const auto it = std::find(hubs.begin(), hubs.end(), link.hub_id());
  return it == hubs.end() ? 0 : static_cast<unsigned>(it - hubs.begin()) + 1;
}

bool AgreementEngine::ShareIsTheInitiators(const pairwise::AgreementParams& params, unsigned index,
                                           const SecretBytes& share,
                                           std::span<const std::uint8_t> share_mac) {
  if (params.session_epoch < 2 || share_mac.empty()) return false;
  auto secrets = sessions_.PeerSecrets(params.initiator);
  auto th = pairwise::TranscriptHash(params);
  if (!secrets || !th) return false;
  for (const auto& held : *secrets) {
    if (held.epoch != params.session_epoch - 1) continue;
    auto key = pairwise::ShareMacKey(held.secret.Expose());
    if (!key) return false;
    auto mac = pairwise::ShareMac(key->Expose(), Role::kInitiator, *th, index, share.Expose());
    return mac && ct::Equal(*mac, share_mac);
  }
  return false;
}

void AgreementEngine::NoteUnproven(const pairwise::AgreementParams& params, unsigned index,
                                   bool mac_failed) {
  if (params.session_epoch < 2 || index == 0) return;  // only a re-seed's header is ever proven
  // Each hub has its share of the room: a flood of made-up sids through one
  // hub pushes out only that hub's own notes.
  const std::size_t quota =
      std::max<std::size_t>(1, kMaxUnproven / std::max<std::size_t>(1, identity_.hub_set.size()));
  if (auto known = unproven_.find(params.sid);
      known == unproven_.end() || !known->second.contains(index)) {
    std::size_t held = 0;
    auto oldest = unproven_.end();
    for (auto it = unproven_.begin(); it != unproven_.end(); ++it) {
      const auto note = it->second.find(index);
      if (note == it->second.end()) continue;
      ++held;
      if (oldest == unproven_.end() ||
          note->second.expires_at_ms < oldest->second.at(index).expires_at_ms) {
        oldest = it;
      }
    }
    if (held >= quota && oldest != unproven_.end()) {
      oldest->second.erase(index);
      if (oldest->second.empty()) unproven_.erase(oldest);
    }
  }
  auto th = pairwise::TranscriptHash(params);
  // A header may claim any expiry: it is kept no longer than a hub may keep
  // an agreement's shares, so a flood of far-off expiries cannot pin it.
  const std::int64_t keep_until = std::min(params.expires_at_ms, now_() + kUnprovenKeep.count());
  unproven_[params.sid][index] = {keep_until, th ? *th : std::vector<std::uint8_t>{}, mac_failed};
}

bool AgreementEngine::Refuse(const pairwise::AgreementParams& params, const std::string& reason,
                             pairwise::RefusalKind kind) {
  AgreementRecord r;
  r.params = params;
  r.role = Role::kResponder;
  r.peer = params.initiator;
  r.state = AgreementState::kFailed;
  r.reason = "refused: " + reason;
  r.refusal_out = reason;
  r.refusal_kind = kind;
  r.refusal_epoch = SessionEpoch(params.initiator);
  r.created_at_ms = now_();
  if (r.refusal_epoch > 0) {
    // Keyed under the epoch the initiator holds (the one before its
    // offer's) where this side holds it too, else under this side's own.
    auto secrets = sessions_.PeerSecrets(params.initiator);
    auto th = pairwise::TranscriptHash(params);
    if (secrets && th) {
      const std::uint64_t theirs = params.session_epoch - 1;
      const SessionStore::EpochSecret* key = nullptr;
      for (const auto& held : *secrets) {
        if (held.epoch == theirs || (key == nullptr && held.epoch == r.refusal_epoch)) key = &held;
      }
      if (key != nullptr) {
        if (auto mac =
                pairwise::RefusalMac(key->secret.Expose(), *th, r.refusal_epoch, kind, reason)) {
          r.refusal_mac = std::move(*mac);
        }
      }
    }
  }
  if (!agreements_.Save(r)) return false;
  auto& stored = live_.insert_or_assign(params.sid, std::move(r)).first->second;
  SendConfirm(stored, nullptr);
  return true;
}

bool AgreementEngine::Answer(HubPort& link, const pairwise::AgreementParams& params,
                             SecretBytes share, std::span<const std::uint8_t> share_mac,
                             std::vector<pairwise::ShareCheckValue> checks) {
  if (params.expires_at_ms <= now_()) return true;  // late or replayed: nothing to answer
  const unsigned index = OwnHubIndex(link);
  // A header refused here may be one a hub altered: if the sid's real
  // header is proven later (a re-seed's share MAC), that hub is named.
  const auto refuse = [&](const std::string& reason,
                          pairwise::RefusalKind kind = pairwise::RefusalKind::kOther) {
    NoteUnproven(params, index);
    return Refuse(params, reason, kind);
  };
  if (auto why = EndedReason(params.initiator)) {
    return refuse("the responder's hubs say the initiator ended: " + *why);
  }
  if (params.hub_set != identity_.hub_set || params.threshold != identity_.threshold) {
    return refuse("threshold mismatch: the responder's network agrees keys " +
                  std::to_string(identity_.threshold) + " of " +
                  std::to_string(identity_.hub_set.size()) + " over other hubs");
  }
  const std::uint64_t current = SessionEpoch(params.initiator);
  if (params.session_epoch != 1 && params.session_epoch != current + 1) {
    // An agreement this side answered that would bring it to the epoch
    // before the offer's may still confirm (the initiator's tag late, not
    // lost): no split to report yet.
    for (const auto& [sid, mine] : live_) {
      if (mine.peer == params.initiator && mine.role == Role::kResponder &&
          mine.state == AgreementState::kRunning && mine.params.session_epoch == current + 1 &&
          params.session_epoch == current + 2) {
        return refuse("session epoch mismatch: the responder is at epoch " +
                      std::to_string(current) + " and still waits for the tag of epoch " +
                      std::to_string(current + 1));
      }
    }
    // An offer of an epoch this side holds already comes from a peer that
    // is behind (it never got this side's last tag): re-seeding from here
    // lets it refuse under the epoch both hold, and the split heals
    // (TakeRefusal). Only an offer the peer itself made counts (its share's
    // MAC under the epoch before the offer's), so a hub cannot make this
    // side re-seed.
    if (current > 0 && params.session_epoch == current &&
        ShareIsTheInitiators(params, index, share, share_mac)) {
      catch_up_.insert(params.initiator);
    }
    return refuse("session epoch mismatch: the responder is at epoch " + std::to_string(current) +
                      " (a split heals at the next re-seed; if not, agree --fresh)",
                  pairwise::RefusalKind::kEpochMismatch);
  }
  // Both sides re-seeding at once: the agreement of the lower device id goes
  // ahead. The offer came through one hub and may be its forgery, so this
  // side's own agreement is not dropped for it: the peer refuses that one in
  // turn, or the peer's agreement confirms and supersedes it (Progress).
  for (auto& [sid, mine] : live_) {
    if (mine.peer == params.initiator && mine.role == Role::kInitiator &&
        mine.state == AgreementState::kRunning && identity_.device_id < params.initiator) {
      return refuse("both sides started an agreement; the responder's goes ahead",
                    pairwise::RefusalKind::kConcurrent);
    }
  }
  auto agreement = pairwise::Agreement::Start(params, Role::kResponder, rng_);
  if (!agreement) return refuse(agreement.error().message);
  AgreementRecord r;
  r.params = params;
  r.role = Role::kResponder;
  r.peer = params.initiator;
  r.created_at_ms = now_();
  r.agreement.emplace(std::move(*agreement));
  if (!AuthenticateShares(r)) return false;  // this side holds epoch e - 1: only the store failed
  // A re-seed's header is taken only with a share the initiator made for
  // it: one a hub forged or altered (its header included) starts nothing.
  if (!r.agreement->AddPeerShare(index, share.Expose(), share_mac, std::move(checks))) {
    if (!r.agreement->shares_authenticated()) return true;
    NoteUnproven(params, index, /*mac_failed=*/true);
    // More than n - k hubs handing over this header with shares that fail
    // their MACs include an honest one: the initiator made them under
    // another key than this side's. The two sessions diverged at one epoch
    // (a fresh start whose last tag was lost): say so, so that it heals.
    const auto th = pairwise::TranscriptHash(params);
    std::size_t failed = 0;
    if (auto noted = unproven_.find(params.sid); noted != unproven_.end()) {
      for (const auto& [hub, seen] : noted->second) {
        failed += seen.mac_failed && th && seen.transcript == *th ? 1U : 0U;
      }
    }
    // Unless a fresh start this side answered may still confirm: the
    // initiator keyed these under the session that start makes.
    const bool fresh_waiting = std::any_of(live_.begin(), live_.end(), [&](const auto& entry) {
      const auto& mine = entry.second;
      return mine.peer == params.initiator && mine.role == Role::kResponder &&
             mine.state == AgreementState::kRunning && mine.params.session_epoch == 1;
    });
    if (failed > params.hub_count() - params.threshold && !fresh_waiting) {
      // The lower device id heals it (TakeRefusal): as the responder, it
      // re-seeds in turn, which the peer refuses the same way.
      if (identity_.device_id < params.initiator) catch_up_.insert(params.initiator);
      return refuse(
          "the sessions diverged: the initiator's shares fail their MACs under the "
          "responder's epoch " +
              std::to_string(current) + " at " + std::to_string(failed) + " hubs",
          pairwise::RefusalKind::kDiverged);
    }
    return true;
  }
  // Hubs that delivered this sid before with a share that failed its MAC,
  // or under another header, lied: only the initiator makes a share's MAC,
  // and an honest hub hands over the header it was given.
  if (auto before = unproven_.find(params.sid); before != unproven_.end()) {
    const auto th = pairwise::TranscriptHash(params);
    if (r.agreement->shares_authenticated() && th) {
      // Hubs refused under this very header carried it faithfully (the
      // refusal's reason may have gone since): they are not named.
      for (const auto& [hub, seen] : before->second) {
        if (seen.mac_failed || seen.transcript != *th) r.agreement->NameHub(hub);
      }
    }
    unproven_.erase(before);
  }
  if (!agreements_.Save(r)) return false;
  CrashPoint("agent.respond.after-start");
  auto& stored = live_.insert_or_assign(params.sid, std::move(r)).first->second;
  SendShares(stored, nullptr);
  (void)Progress(stored);  // the share is stored already
  return true;
}

bool AgreementEngine::Progress(AgreementRecord& r) {
  auto& agreement = *r.agreement;
  bool tags_changed = false;
  std::vector<pairwise::Tag> tags_before;
  if (r.role == Role::kResponder) {
    // Tags for every candidate rebuilt so far; more shares may add one.
    auto tags = agreement.TagsToSend();
    if (tags && *tags != r.tags_out) {
      tags_before = std::exchange(r.tags_out, std::move(*tags));
      tags_changed = true;
    }
  }
  auto confirmed = agreement.TryConfirm();
  if (!confirmed || !*confirmed) {
    if (!agreements_.Save(r)) {  // stored before the delivery is acknowledged
      if (tags_changed) r.tags_out = std::move(tags_before);  // sent once they are stored
      unsaved_.insert(r.params.sid);  // what arrived is in memory only: store it next time
      return false;
    }
    unsaved_.erase(r.params.sid);
    if (tags_changed) {
      confirm_held_.erase(r.params.sid);  // the hubs hold older tags: send the new ones
      SendConfirm(r, nullptr);
    }
    return true;
  }
  // Confirmed: the session's next epoch and the record's end commit
  // together, before any consumer can see a key of it.
  r.state = AgreementState::kConfirmed;
  r.inconsistent_hubs = agreement.inconsistent_hubs();
  r.share_checks = agreement.share_checks();
  if (r.role == Role::kInitiator) {
    auto tags = agreement.TagsToSend();
    if (tags) r.tags_out = std::move(*tags);
  }
  r.reason.clear();
  confirm_held_.erase(r.params.sid);
  auto committed = store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(sessions_.ApplyInCurrentTransaction(r.peer, r.params.session_epoch,
                                                             agreement.key().Expose()));
    CrashPoint("agent.confirm.before-commit");
    return agreements_.SaveInCurrentTransaction(r);
  });
  if (!committed) {
    // Still running, and confirmed in memory: the hub hands the delivery
    // over again (it was not acknowledged) and the commit is tried again,
    // until the agreement expires.
    r.state = AgreementState::kRunning;
    r.reason = "cannot store the session: " + committed.error().message;
    unsaved_.insert(r.params.sid);
    return false;
  }
  unsaved_.erase(r.params.sid);
  r.agreement.reset();  // K_AB and the contributions are gone from memory too
  CrashPoint("agent.confirm.after-commit");
  if (r.role == Role::kInitiator) SendConfirm(r, nullptr);
  // What else runs with this peer and can no longer apply (its epoch is
  // neither the next one nor a fresh start) ends now. Not in the commit
  // above: after a crash in between, such an agreement fails when it tries
  // to apply its epoch, and a re-seed older than a fresh start is ended
  // by Resume.
  std::vector<Sid> superseded;
  for (const auto& [sid, other] : live_) {
    // A fresh start also ends the re-seeds still running: their shares are
    // MACed under the session it replaced.
    if (sid != r.params.sid && other.peer == r.peer && other.state == AgreementState::kRunning &&
        other.params.session_epoch != 1 &&
        (other.params.session_epoch != r.params.session_epoch + 1 || r.params.session_epoch == 1)) {
      superseded.push_back(sid);
    }
  }
  const std::string by = "superseded by agreement " + SidHex(r.params.sid);
  Finish(r);
  for (const auto& sid : superseded) {
    if (auto it = live_.find(sid); it != live_.end()) Fail(it->second, by);
  }
  return true;
}

void AgreementEngine::Fail(AgreementRecord& r, const std::string& reason) {
  if (r.state != AgreementState::kRunning) return;
  r.state = AgreementState::kFailed;
  r.reason = reason;
  if (r.agreement) {  // hubs whose share failed its MAC are blamed for the failure
    for (unsigned hub : r.agreement->rejected_hubs()) {
      const auto at = std::lower_bound(r.inconsistent_hubs.begin(), r.inconsistent_hubs.end(), hub);
      if (at == r.inconsistent_hubs.end() || *at != hub) r.inconsistent_hubs.insert(at, hub);
    }
  }
  r.agreement.reset();
  (void)agreements_.Save(r);
  Finish(r);
}

void AgreementEngine::Finish(const AgreementRecord& r) {
  unsaved_.erase(r.params.sid);
  refusals_.erase(r.params.sid);
  peer_refusals_.erase(r.params.sid);
  auto it = waiters_.find(r.params.sid);
  if (it == waiters_.end()) return;
  auto waiting = std::move(it->second);
  waiters_.erase(it);
  const AgreementOutcome outcome = OutcomeOf(r);
  for (auto& done : waiting) done(outcome);
}

void AgreementEngine::Unstored() {
  // Not acknowledged: the hub keeps the delivery. It pushes each one once,
  // so ask every hub for what waits again at the next Tick.
  refetch_ = true;
}

void AgreementEngine::Tick() {
  const std::int64_t now = now_();
  for (auto it = erase_pending_.begin(); it != erase_pending_.end();) {
    it = EndPeer(*it) ? erase_pending_.erase(it) : std::next(it);
  }
  if (now - last_peer_check_ms_ >= kPeerCheckInterval.count()) {
    last_peer_check_ms_ = now;
    for (HubPort* link : links_) {
      if (link->up()) CheckPeers(*link);
    }
  }
  if (std::exchange(refetch_, false)) {
    for (HubPort* link : links_) {
      if (!link->up()) continue;
      pb::Envelope fetch;
      fetch.mutable_fetch_deliveries();
      link->Request(std::move(fetch), SecretBytes(), [](const Result<proto::Frame>&) {});
    }
  }
  for (auto& [sid, r] : live_) {
    if (r.state != AgreementState::kRunning) continue;
    // A responder whose tags are out waits a grace period for the
    // initiator's: the initiator may have confirmed just before expiry.
    const bool awaiting_tag = r.role == Role::kResponder && !r.tags_out.empty();
    const std::int64_t deadline =
        r.params.expires_at_ms + (awaiting_tag ? options_.confirm_grace.count() : 0);
    if (now >= deadline) {
      // A store that kept failing says so rather than what the machine had.
      Fail(r, "timed out: " + (!r.reason.empty() ? r.reason
                               : r.agreement     ? r.agreement->Status()
                                                 : ""));
    }
  }
  for (auto h = held_.begin(); h != held_.end();) {
    std::erase_if(h->second, [now](const auto& entry) { return entry.second.expires_at_ms < now; });
    h = h->second.empty() ? held_.erase(h) : std::next(h);
  }
  std::erase_if(adopted_, [now](const auto& entry) { return entry.second.expires_at_ms < now; });
  std::erase_if(unproven_, [now](const auto& entry) {
    return std::all_of(entry.second.begin(), entry.second.end(),
                       [now](const auto& hub) { return hub.second.expires_at_ms < now; });
  });
  for (auto it = live_.begin(); it != live_.end();) {
    const bool gone = it->second.state != AgreementState::kRunning &&
                      it->second.params.expires_at_ms + options_.confirm_grace.count() < now;
    if (gone) {
      shares_held_.erase(it->first);
      confirm_held_.erase(it->first);
    }
    it = gone ? live_.erase(it) : std::next(it);
  }
  if (now - last_purge_ms_ >= 60'000) {
    last_purge_ms_ = now;
    (void)agreements_.Purge(now - options_.confirm_grace.count());
  }
  // Peers found an epoch behind: a re-seed from here, at most one per
  // agreement lifetime each.
  for (auto it = catch_up_.begin(); it != catch_up_.end();) {
    auto& tried = reseed_tried_ms_[*it];
    if (UpLinks() < identity_.threshold || now - tried < options_.lifetime.count()) {
      ++it;
      continue;
    }
    tried = now;
    Reseed(*it, false, options_.hybrid);
    it = catch_up_.erase(it);
  }
  // Scheduled re-seeds; the device with the lower id starts them, so the
  // two sides do not race each other.
  // A chain three quarters spent re-seeds whatever the settings, started by
  // the side that sees it: past kMaxKeysPerEpoch this side hands out
  // nothing, and the peer's chain stepped that far here (by a forged id
  // too) leaves it no key of that epoch to fetch.
  auto sessions = sessions_.List();
  if (!sessions) return;
  for (const auto& s : *sessions) {
    constexpr std::uint32_t kNearlySpent = pairwise::kMaxKeysPerEpoch / 4 * 3;
    const bool spent = s.next_index >= kNearlySpent || s.peer_next_index >= kNearlySpent;
    if (identity_.device_id > s.peer && !spent) continue;
    const bool old = options_.reseed_interval.count() > 0 &&
                     now - s.reseeded_at_ms >= options_.reseed_interval.count();
    const bool used = options_.reseed_after_keys > 0 && s.keys_issued >= options_.reseed_after_keys;
    auto& tried = reseed_tried_ms_[s.peer];
    if ((old || used || spent) && UpLinks() >= identity_.threshold &&
        now - tried >= options_.lifetime.count()) {
      tried = now;
      Reseed(s.peer, false, options_.hybrid);
    }
  }
}

void AgreementEngine::Reseed(const std::string& peer, bool fresh, bool hybrid) {
  Agree(peer, fresh, hybrid, [this, peer](const AgreementOutcome& o) {
    if (o.state != AgreementState::kFailed) return;
    ReseedFailure& f = reseed_failures_[peer];
    f = ReseedFailure{now_(), o.reason, o.inconsistent_hubs};
    if (reseed_failed_) reseed_failed_(peer, f);
  });
}

std::optional<AgreementEngine::ReseedFailure> AgreementEngine::LastReseedFailure(
    const std::string& peer) const {
  const auto f = reseed_failures_.find(peer);
  if (f == reseed_failures_.end()) return std::nullopt;
  // Any re-seed since (scheduled, by hand, or the peer's) answers it.
  auto session = sessions_.Get(peer);
  if (session && *session && (*session)->reseeded_at_ms >= f->second.at_ms) return std::nullopt;
  return f->second;
}

std::vector<AgreementOutcome> AgreementEngine::Recent(std::size_t limit) {
  std::vector<AgreementOutcome> out;
  auto records = agreements_.Recent(static_cast<std::int64_t>(limit));
  if (!records) return out;
  for (const auto& r : *records) {
    auto live = live_.find(r.params.sid);
    out.push_back(OutcomeOf(live != live_.end() ? live->second : r));
  }
  return out;
}

}  // namespace skap::agent
