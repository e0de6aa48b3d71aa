#include "pairwise/agreement.h"

#include <algorithm>

#include "common/ct.h"
#include "pairwise/hub_shares.h"

namespace skap::pairwise {

Result<Agreement> Agreement::Start(AgreementParams params, Role role, crypto::Rng& rng,
                                   bool hybrid) {
  Agreement a;
  if ((role == Role::kInitiator && hybrid) || (role == Role::kResponder && params.hybrid())) {
    SKAP_ASSIGN_OR_RETURN(a.own_x25519_, crypto::GenerateX25519(rng));
    if (role == Role::kInitiator) params.initiator_x25519 = a.own_x25519_.public_key;
  }
  SKAP_RETURN_IF_ERROR(params.Validate());
  a.role_ = role;
  SKAP_ASSIGN_OR_RETURN(a.transcript_, TranscriptHash(params));
  a.own_secret_ = SecretBytes(kSecretBytes);
  SKAP_RETURN_IF_ERROR(rng.Fill(a.own_secret_.MutableExpose()));
  SKAP_ASSIGN_OR_RETURN(a.own_shares_, SplitForHubs(a.own_secret_.Expose(), params.threshold,
                                                    params.hub_count(), rng));
  a.params_ = std::move(params);
  return a;
}

Result<Agreement::Snapshot> Agreement::TakeSnapshot() const {
  if (confirmed_) {
    return Unexpected(ErrorCode::kFailedPrecondition, "a confirmed agreement keeps only its key");
  }
  Snapshot s;
  s.params = params_;
  s.role = role_;
  s.own_secret = own_secret_.Clone();
  for (const auto& share : own_shares_) s.own_shares.push_back(share.Clone());
  for (const auto& [index, y] : peer_shares_) s.peer_shares.emplace(index, y.Clone());
  s.peer_tags = peer_tags_;
  s.own_x25519 = own_x25519_.private_key.Clone();
  s.peer_x25519 = peer_x25519_;
  s.rejected_hubs = rejected_;
  s.peer_checks = peer_checks_;
  return s;
}

Result<Agreement> Agreement::Restore(Snapshot snapshot) {
  SKAP_RETURN_IF_ERROR(snapshot.params.Validate());
  const bool sizes_ok = snapshot.own_secret.size() == kSecretBytes &&
                        snapshot.own_shares.size() == snapshot.params.hub_count() &&
                        std::all_of(snapshot.own_shares.begin(), snapshot.own_shares.end(),
                                    [](const SecretBytes& y) { return y.size() == kSecretBytes; });
  if (!sizes_ok) return Unexpected(ErrorCode::kMalformedInput, "agreement record: bad secrets");
  Agreement a;
  a.role_ = snapshot.role;
  SKAP_ASSIGN_OR_RETURN(a.transcript_, TranscriptHash(snapshot.params));
  a.own_secret_ = std::move(snapshot.own_secret);
  a.own_shares_ = std::move(snapshot.own_shares);
  a.params_ = std::move(snapshot.params);
  for (auto& [index, y] : snapshot.peer_shares) {
    SKAP_RETURN_IF_ERROR(a.AddPeerShare(index, y.Expose()));
  }
  // As stored: the caps applied when they arrived.
  a.peer_tags_ = std::move(snapshot.peer_tags);
  for (auto& [index, checks] : snapshot.peer_checks) {
    // As AddPeerShare takes them: one 32-byte value per hub, or none.
    if (!a.peer_shares_.contains(index)) continue;
    if (!a.WellFormed(checks)) checks.clear();
    a.peer_checks_[index] = std::move(checks);
  }
  if (a.params_.hybrid()) {  // both sides hold their key pair until confirmation
    if (snapshot.own_x25519.size() != crypto::kX25519KeySize) {
      return Unexpected(ErrorCode::kMalformedInput, "agreement record: X25519 key");
    }
    SKAP_ASSIGN_OR_RETURN(a.own_x25519_.public_key,
                          crypto::X25519PublicKey(snapshot.own_x25519.Expose()));
    a.own_x25519_.private_key = std::move(snapshot.own_x25519);
  }
  a.peer_x25519_ = std::move(snapshot.peer_x25519);
  a.rejected_ = std::move(snapshot.rejected_hubs);
  std::sort(a.rejected_.begin(), a.rejected_.end());
  return a;
}

std::span<const std::uint8_t> Agreement::OwnShare(unsigned hub_index) const {
  if (hub_index < 1 || hub_index > own_shares_.size()) return {};
  return own_shares_[hub_index - 1].Expose();
}

Result<std::vector<ShareCheckValue>> Agreement::OwnShareChecks() const {
  std::vector<ShareCheckValue> out;
  for (unsigned i = 1; i <= own_shares_.size(); ++i) {
    SKAP_ASSIGN_OR_RETURN(auto check, ShareCheck(params_, i, own_shares_[i - 1].Expose()));
    out.push_back(std::move(check));
  }
  return out;
}

Result<void> Agreement::AuthenticateShares(std::span<const std::uint8_t> previous_peer_secret) {
  SKAP_ASSIGN_OR_RETURN(share_mac_key_, ShareMacKey(previous_peer_secret));
  return Ok();
}

Result<std::vector<std::uint8_t>> Agreement::OwnShareMac(unsigned hub_index) const {
  if (share_mac_key_.empty()) {
    return Unexpected(ErrorCode::kFailedPrecondition, "shares are not authenticated");
  }
  return ShareMac(share_mac_key_.Expose(), role_, transcript_, hub_index, OwnShare(hub_index));
}

void Agreement::NameHub(unsigned hub_index) {
  if (confirmed_ || hub_index < 1 || hub_index > params_.hub_count()) return;
  const auto at = std::lower_bound(rejected_.begin(), rejected_.end(), hub_index);
  if (at != rejected_.end() && *at == hub_index) return;
  rejected_.insert(at, hub_index);
  // Whatever it delivered before counts no more.
  peer_shares_.erase(hub_index);
  peer_checks_.erase(hub_index);
  peer_tags_.erase(hub_index);
  peer_x25519_.erase(hub_index);
}

Result<void> Agreement::AddPeerShare(unsigned hub_index, std::span<const std::uint8_t> y,
                                     std::span<const std::uint8_t> mac,
                                     std::vector<ShareCheckValue> checks) {
  if (confirmed_) return Ok();  // a late share changes nothing any more
  if (hub_index < 1 || hub_index > params_.hub_count() || y.size() != kSecretBytes) {
    return Unexpected(ErrorCode::kInvalidArgument, "share: hub index or size out of range");
  }
  if (const auto named = std::lower_bound(rejected_.begin(), rejected_.end(), hub_index);
      named != rejected_.end() && *named == hub_index) {
    return Unexpected(ErrorCode::kPermissionDenied,
                      "share: hub " + std::to_string(hub_index) + " altered a share already");
  }
  if (!share_mac_key_.empty()) {
    SKAP_ASSIGN_OR_RETURN(const auto expected,
                          ShareMac(share_mac_key_.Expose(), PeerRole(), transcript_, hub_index, y));
    if (!ct::Equal(expected, mac)) {
      NameHub(hub_index);
      return Unexpected(ErrorCode::kPermissionDenied,
                        "share: hub " + std::to_string(hub_index) + "'s share fails its MAC");
    }
  }
  if (auto it = peer_shares_.find(hub_index); it != peer_shares_.end()) {
    if (ct::Equal(it->second.Expose(), y)) return Ok();
    return Unexpected(ErrorCode::kInvalidArgument,
                      "share: hub " + std::to_string(hub_index) + " already delivered another one");
  }
  peer_shares_.emplace(hub_index, SecretBytes::Copy(y));
  if (!WellFormed(checks)) checks.clear();
  if (share_mac_key_.empty()) peer_checks_.insert_or_assign(hub_index, std::move(checks));
  return Ok();
}

bool Agreement::AddPeerTags(unsigned source, const std::vector<Tag>& tags,
                            std::span<const std::uint8_t> responder_public) {
  // A hub named for altering a share is believed in nothing else.
  if (std::binary_search(rejected_.begin(), rejected_.end(), source)) return false;
  bool changed = false;
  if (role_ == Role::kInitiator && params_.hybrid() &&
      responder_public.size() == crypto::kX25519KeySize && !peer_x25519_.contains(source)) {
    peer_x25519_.emplace(
        source, std::vector<std::uint8_t>(responder_public.begin(), responder_public.end()));
    changed = true;
  }
  std::vector<Tag> kept;
  for (const auto& tag : tags) {
    if (kept.size() >= kMaxTags) break;
    const bool known =
        std::any_of(kept.begin(), kept.end(), [&](const Tag& t) { return ct::Equal(t, tag); });
    if (!known) kept.push_back(tag);
  }
  auto it = peer_tags_.find(source);
  const bool same = it != peer_tags_.end() ? it->second == kept : kept.empty();
  if (same) return changed;
  if (kept.empty()) {
    peer_tags_.erase(source);
  } else {
    peer_tags_[source] = std::move(kept);
  }
  return true;
}

std::span<const std::uint8_t> Agreement::responder_public() const {
  if (role_ != Role::kResponder) return {};
  return own_x25519_.public_key;
}

std::vector<std::vector<std::uint8_t>> Agreement::ResponderPublics() const {
  if (!params_.hybrid()) return {{}};
  if (role_ == Role::kResponder) return {own_x25519_.public_key};
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& [source, p] : peer_x25519_) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

Result<SecretBytes> Agreement::KeyFor(std::span<const std::uint8_t> peer_secret,
                                      std::span<const std::uint8_t> responder_public) const {
  SKAP_ASSIGN_OR_RETURN(auto pair_key,
                        role_ == Role::kInitiator
                            ? DerivePairKey(params_, own_secret_.Expose(), peer_secret)
                            : DerivePairKey(params_, peer_secret, own_secret_.Expose()));
  if (!params_.hybrid()) return pair_key;
  const auto peer_public =
      role_ == Role::kInitiator ? responder_public : std::span(params_.initiator_x25519);
  SKAP_ASSIGN_OR_RETURN(auto shared, crypto::X25519(own_x25519_.private_key.Expose(), peer_public));
  return HybridPairKey(pair_key.Expose(), shared.Expose(), params_.initiator_x25519,
                       responder_public);
}

bool Agreement::WellFormed(const std::vector<ShareCheckValue>& checks) const {
  return checks.size() == params_.hub_count() &&
         std::all_of(checks.begin(), checks.end(),
                     [](const ShareCheckValue& c) { return c.size() == kShareCheckBytes; });
}

Result<std::vector<Candidate>> Agreement::CheckedCandidates() const {
  const std::size_t k = params_.threshold;
  // Each distinct list the hubs carried, with how many carried it.
  std::vector<std::pair<const std::vector<ShareCheckValue>*, std::size_t>> lists;
  for (const auto& carried : peer_checks_) {
    const std::vector<ShareCheckValue>& checks = carried.second;
    const auto at = std::find_if(lists.begin(), lists.end(),
                                 [&](const auto& list) { return *list.first == checks; });
    if (at == lists.end()) {
      lists.emplace_back(&checks, 1);
    } else {
      ++at->second;
    }
  }
  std::vector<Candidate> out;
  bool unchecked = false;
  for (const auto& [checks, carriers] : lists) {
    if (carriers < k) continue;
    if (checks->empty()) {
      unchecked = true;
      continue;
    }
    Candidate candidate;
    std::map<unsigned, SecretBytes> first_k;
    for (const auto& [index, y] : peer_shares_) {
      SKAP_ASSIGN_OR_RETURN(const auto value, ShareCheck(params_, index, y.Expose()));
      if (value != (*checks)[index - 1]) continue;  // check values are public
      candidate.support.push_back(index);
      if (first_k.size() < k) first_k.emplace(index, y.Clone());
    }
    if (candidate.support.size() < k) continue;
    SKAP_ASSIGN_OR_RETURN(auto rebuilt, RebuildCandidates(params_, first_k));
    if (rebuilt.size() != 1) {
      return Unexpected(ErrorCode::kFailedPrecondition, "k shares rebuild one value");
    }
    candidate.secret = std::move(rebuilt.front().secret);
    candidate.rebuilt_by = candidate.support;
    candidate.checks = *checks;
    out.push_back(std::move(candidate));
  }
  if (unchecked) {
    SKAP_ASSIGN_OR_RETURN(auto every, RebuildCandidates(params_, peer_shares_));
    for (auto& candidate : every) out.push_back(std::move(candidate));
  }
  return out;
}

Result<std::vector<Candidate>> Agreement::Candidates() const {
  if (!shares_authenticated()) return CheckedCandidates();
  // Every share held is the peer's own: any k of them rebuild its value,
  // and all of them lie on its polynomial. One rebuild, whatever n is.
  std::vector<Candidate> out;
  if (peer_shares_.size() < params_.threshold) return out;
  std::map<unsigned, SecretBytes> first_k;
  Candidate only;
  for (const auto& [index, y] : peer_shares_) {
    if (first_k.size() < params_.threshold) first_k.emplace(index, y.Clone());
    only.support.push_back(index);
  }
  SKAP_ASSIGN_OR_RETURN(auto rebuilt, RebuildCandidates(params_, first_k));
  if (rebuilt.size() != 1)
    return Unexpected(ErrorCode::kFailedPrecondition, "k shares rebuild one value");
  only.secret = std::move(rebuilt.front().secret);
  only.rebuilt_by = only.support;
  out.push_back(std::move(only));
  return out;
}

Result<bool> Agreement::TryConfirm() {
  if (confirmed_) return true;
  if (peer_tags_.empty()) return false;
  SKAP_ASSIGN_OR_RETURN(auto candidates, Candidates());
  for (auto& candidate : candidates) {
    for (const auto& responder_public : ResponderPublics()) {
      // A key X25519 refuses (a small-order P_B a hub slipped in) matches nothing.
      auto key = KeyFor(candidate.secret.Expose(), responder_public);
      if (!key) continue;
      SKAP_ASSIGN_OR_RETURN(auto expected,
                            ConfirmTag(key->Expose(), PeerRole(), transcript_, responder_public));
      const bool match = std::any_of(peer_tags_.begin(), peer_tags_.end(), [&](const auto& kept) {
        return std::any_of(kept.second.begin(), kept.second.end(),
                           [&](const Tag& t) { return ct::Equal(t, expected); });
      });
      if (!match) continue;
      confirmed_responder_public_ = responder_public;
      // Blame must never fall on an honest hub. The sender's polynomial F
      // goes through the confirmed value, but so may one of the liars'
      // making (over GF(2^8) the same offset on two shares can keep f(0)).
      // Another polynomial through the value shares at most k - 2 honest
      // shares with F, so at most n - k + k - 2 = n - 2 shares lie on it:
      // a polynomial with n - 1 or more shares is F. With every share at
      // hand, F's shares all belong to k-subsets that rebuild the value
      // (rebuilt_by), so when rebuilt_by is one polynomial's support, that
      // polynomial is F. With k = 1 every honest share is the value itself.
      const std::size_t k = params_.threshold;
      const bool all_at_hand = peer_shares_.size() == params_.hub_count();
      // Authenticated shares are all the sender's: F is the polynomial
      // they lie on, and the hubs named are those whose share failed its MAC.
      // Shares verified by the sender's check values (a list k hubs
      // carried) are exactly the sender's.
      const bool checked = !candidate.checks.empty();
      const bool certain = k == 1 || shares_authenticated() || checked ||
                           candidate.support.size() + 1 >= params_.hub_count() ||
                           (all_at_hand && candidate.rebuilt_by == candidate.support);
      share_checks_.clear();
      inconsistent_.clear();
      if (certain) {
        // Shares off F name their hubs; hubs yet to deliver are judged later
        // by one-way checks of the shares F says they carry.
        if (checked) {
          for (unsigned index = 1; index <= params_.hub_count(); ++index) {
            if (!peer_shares_.contains(index)) share_checks_[index] = candidate.checks[index - 1];
          }
        } else {
          SKAP_ASSIGN_OR_RETURN(share_checks_,
                                MissingShareChecks(params_, peer_shares_, candidate.support));
        }
        for (const auto& [index, y] : peer_shares_) {
          // Off the polynomial, or carrying a list of check values of its
          // own making with it.
          const auto carried = peer_checks_.find(index);
          const bool altered_checks = checked && carried != peer_checks_.end() &&
                                      !carried->second.empty() &&
                                      carried->second != candidate.checks;
          if (altered_checks ||
              !std::binary_search(candidate.support.begin(), candidate.support.end(), index)) {
            inconsistent_.push_back(index);
          }
        }
      } else if (all_at_hand) {
        // F is among the polynomials through the value: only a share that
        // lies on none of them is surely a liar's.
        for (const auto& [index, y] : peer_shares_) {
          if (!std::binary_search(candidate.rebuilt_by.begin(), candidate.rebuilt_by.end(),
                                  index)) {
            inconsistent_.push_back(index);
          }
        }
      }  // otherwise F cannot be told yet, and shares are not kept to tell it later
      for (unsigned index : rejected_) {
        const auto at = std::lower_bound(inconsistent_.begin(), inconsistent_.end(), index);
        if (at == inconsistent_.end() || *at != index) inconsistent_.insert(at, index);
      }
      confirmed_ = true;
      key_ = std::move(*key);
      // The contributions are no longer needed: only K_AB goes on.
      own_secret_ = SecretBytes();
      own_shares_.clear();
      peer_shares_.clear();
      peer_checks_.clear();
      own_x25519_.private_key = SecretBytes();
      return true;
    }
  }
  return false;
}

Result<std::vector<Tag>> Agreement::TagsToSend() const {
  std::vector<Tag> tags;
  if (confirmed_) {
    SKAP_ASSIGN_OR_RETURN(
        auto tag, ConfirmTag(key_.Expose(), role_, transcript_, confirmed_responder_public_));
    tags.push_back(std::move(tag));
    return tags;
  }
  if (role_ == Role::kInitiator) return tags;  // the initiator speaks only once sure
  SKAP_ASSIGN_OR_RETURN(auto candidates, Candidates());
  const auto responder_public = ResponderPublics().front();
  // The best supported first. Up to n = 5 there are never more than
  // C(5, 2) = 10 candidates, so none is dropped; with more hubs, enough
  // corrupted shares can push the right one out (docs/protocol.md, "Known
  // limits").
  if (candidates.size() > kMaxTags) candidates.resize(kMaxTags);
  for (const auto& candidate : candidates) {
    SKAP_ASSIGN_OR_RETURN(auto key, KeyFor(candidate.secret.Expose(), responder_public));
    SKAP_ASSIGN_OR_RETURN(auto tag, ConfirmTag(key.Expose(), role_, transcript_, responder_public));
    tags.push_back(std::move(tag));
  }
  return tags;
}

std::string Agreement::Status() const {
  if (confirmed_) return "confirmed";
  if (peer_shares_.size() < params_.threshold) {
    return "waiting for shares (" + std::to_string(peer_shares_.size()) + " of " +
           std::to_string(params_.threshold) + " needed)";
  }
  return "waiting for key confirmation";
}

}  // namespace skap::pairwise
