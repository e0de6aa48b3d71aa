// One side of one pairwise agreement, as a sans-I/O state machine: the agent
// moves shares and tags between it and the hubs, and persists it before
// anything it produced leaves the device.
//
//   initiator A                         responder B
//   split S_A, one share per hub  ──▶   (first share seen) split S_B
//                                 ◀──   split S_B to every hub
//   rebuild S_B candidates              rebuild S_A candidates (≥ k shares)
//                                 ◀──   tag_responder for each candidate
//   find the candidate whose key
//   matches a tag: confirmed
//   tag_initiator                 ──▶   find the candidate it matches: confirmed
//
// With n > k, up to n − k hubs may withhold or corrupt their share: each
// side tries every value some k shares rebuild (hub_shares.h), and the tags
// tell which is right. Shares that disagree with the confirmed value name
// their hubs. No key is available before confirmation.
//
// Hybrid mode (the initiator's choice): both sides also draw an ephemeral
// X25519 key pair; the key is K_H, which needs the Diffie-Hellman secret as
// well as both contributions (agreement_params.h).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/rng.h"
#include "crypto/x25519.h"
#include "pairwise/agreement_params.h"
#include "pairwise/hub_shares.h"

namespace skap::pairwise {

using Tag = std::vector<std::uint8_t>;

// What arrives from the peer is accounted per source: hub i (1-based, the
// hub that delivered it) or the peer channel, sealed end to end. A hub can
// forge anything "from" the peer on its own copy, so nothing one source
// sends may crowd out another's.
inline constexpr unsigned kPeerChannelSource = 0;
// kLegacySource holds tags stored by releases that did not account sources.
inline constexpr unsigned kLegacySource = 1000;
// kMaxTags bounds the tags one confirmation carries and the tags kept per
// source: a responder tags at most this many candidates.
inline constexpr std::size_t kMaxTags = 16;

class Agreement {
 public:
  // Start draws this side's contribution and splits it over the hubs. An
  // initiator with `hybrid` also draws an X25519 key pair and puts its
  // public key in the parameters (params().initiator_x25519); a responder
  // draws one whenever the parameters carry the initiator's.
  static Result<Agreement> Start(AgreementParams params, Role role, crypto::Rng& rng,
                                 bool hybrid = false);

  // Snapshot is what an unconfirmed agreement holds, for its durable record
  // (the agent stores it, secrets wrapped, before anything it produced
  // leaves the device).
  struct Snapshot {
    AgreementParams params;
    Role role = Role::kInitiator;
    SecretBytes own_secret;
    std::vector<SecretBytes> own_shares;
    std::map<unsigned, SecretBytes> peer_shares;
    std::map<unsigned, std::vector<Tag>> peer_tags;  // by source
    SecretBytes own_x25519;                          // hybrid mode: this side's private key
    // The initiator's view of P_B, by source (one each).
    std::map<unsigned, std::vector<std::uint8_t>> peer_x25519;
    // Hubs whose share failed its MAC (re-seeds), ascending.
    std::vector<unsigned> rejected_hubs;
    // The check values of the peer's shares each hub carried with its share
    // (first agreements; empty: none).
    std::map<unsigned, std::vector<ShareCheckValue>> peer_checks;
  };
  // TakeSnapshot copies the state out (kFailedPrecondition once confirmed:
  // then only the key goes on).
  Result<Snapshot> TakeSnapshot() const;
  // Restore rebuilds an agreement from its snapshot, checking it.
  static Result<Agreement> Restore(Snapshot snapshot);

  const AgreementParams& params() const { return params_; }
  Role role() const { return role_; }
  // OwnShare is y_i for hub i (1-based), to send to that hub.
  std::span<const std::uint8_t> OwnShare(unsigned hub_index) const;

  // AuthenticateShares makes a re-seed's shares authenticated end to end
  // under PS_{e-1} of the session both sides hold (agreement_params.h):
  // from then on OwnShareMac gives each share's MAC, and AddPeerShare takes
  // only a peer share whose MAC holds. Not stored: whoever restores the
  // agreement calls it again.
  Result<void> AuthenticateShares(std::span<const std::uint8_t> previous_peer_secret);
  bool shares_authenticated() const { return !share_mac_key_.empty(); }
  // OwnShareMac is share_mac_i of this side's share for hub i.
  Result<std::vector<std::uint8_t>> OwnShareMac(unsigned hub_index) const;

  // OwnShareChecks are the check values (ShareCheck) of this side's n
  // shares, to send with each share of a first agreement: the peer verifies
  // every share by them once k hubs have carried the same list.
  Result<std::vector<ShareCheckValue>> OwnShareChecks() const;

  // AddPeerShare records the peer's share carried by hub `hub_index`, with
  // the list of check values that hub carried with it (`checks`; ignored
  // with shares authenticated, and taken as none unless it holds one value
  // for each hub). The
  // same share again is ignored; a different one for the same hub is
  // refused (kInvalidArgument), as is an index outside the hub set. With
  // shares authenticated, a share whose `mac` fails names its hub (in
  // rejected_hubs and, once confirmed, inconsistent_hubs) and is refused
  // (kPermissionDenied), as is anything more from a named hub.
  Result<void> AddPeerShare(unsigned hub_index, std::span<const std::uint8_t> y,
                            std::span<const std::uint8_t> mac = {},
                            std::vector<ShareCheckValue> checks = {});
  // NameHub rejects hub `hub_index` as a liar: for a share that failed its
  // MAC, or that came under another header than this agreement's (which only
  // the initiator makes, and which this side holds as made, as proven by a
  // share's MAC, or as k hubs carried it). Nothing more from it counts.
  void NameHub(unsigned hub_index);
  // rejected_hubs are the hubs whose share failed its MAC, ascending.
  const std::vector<unsigned>& rejected_hubs() const { return rejected_; }
  // AddPeerTags records confirmation tags from the peer as `source`
  // delivered them (a hub index, or kPeerChannelSource): at most kMaxTags
  // per source. In hybrid mode the initiator also gets the
  // responder's public key P_B they were made with: the first one each
  // source sends (an honest responder sends one P_B throughout).
  // Each delivery's tags replace what the source sent before (a responder
  // sends all its current tags every time); true if anything changed.
  bool AddPeerTags(unsigned source, const std::vector<Tag>& tags,
                   std::span<const std::uint8_t> responder_public = {});
  // responder_public is P_B, to send with the responder's tags (hybrid
  // mode, responder only; empty otherwise).
  std::span<const std::uint8_t> responder_public() const;

  // TryConfirm looks for the key both sides hold; true once confirmed.
  Result<bool> TryConfirm();
  // TagsToSend is what the peer needs now: the responder's tag for every
  // candidate, the best supported first and at most kMaxTags (just the
  // confirmed one once confirmed); the initiator's tag once confirmed;
  // otherwise nothing.
  Result<std::vector<Tag>> TagsToSend() const;

  bool confirmed() const { return confirmed_; }
  // key is K_AB (K_H in hybrid mode); only once confirmed.
  const SecretBytes& key() const { return key_; }
  // inconsistent_hubs are the indices whose share is surely not the
  // sender's (only meaningful once confirmed): never an honest hub. With
  // authenticated shares, exactly the hubs whose share failed its MAC. A lying
  // hub goes unnamed when the shares at hand cannot tell the sender's
  // polynomial from one that liars made through the same value.
  const std::vector<unsigned>& inconsistent_hubs() const { return inconsistent_; }
  // share_checks are, once confirmed, check values (ShareCheck) of the
  // shares still to come from hubs that had not delivered yet; none unless
  // the sender's polynomial is certain.
  const std::map<unsigned, ShareCheckValue>& share_checks() const { return share_checks_; }
  // peer_share_count is how many hubs' shares have arrived.
  std::size_t peer_share_count() const { return peer_shares_.size(); }
  // Status says where the agreement stands, for people.
  std::string Status() const;

 private:
  Agreement() = default;
  // KeyFor is the key with `peer_secret` as the peer's contribution and
  // `responder_public` as P_B (hybrid mode).
  Result<SecretBytes> KeyFor(std::span<const std::uint8_t> peer_secret,
                             std::span<const std::uint8_t> responder_public) const;
  // ResponderPublics lists the distinct P_B to try: this side's own
  // (responder), those received (initiator), or one empty value outside
  // hybrid mode.
  std::vector<std::vector<std::uint8_t>> ResponderPublics() const;
  // Candidates are the values the peer's shares rebuild (hub_shares.h):
  // with shares authenticated, the one value any k of them rebuild;
  // otherwise CheckedCandidates.
  Result<std::vector<Candidate>> Candidates() const;
  // CheckedCandidates are, for each list of check values that k hubs or
  // more carried, the value its shares rebuild (one rebuild per list, and
  // fewer than k lying hubs cannot carry a list of their own so far); and,
  // when k hubs or more carried none (a sender of an older release), every
  // value some k shares rebuild.
  Result<std::vector<Candidate>> CheckedCandidates() const;
  // WellFormed is true for a list of one check value per hub.
  bool WellFormed(const std::vector<ShareCheckValue>& checks) const;
  Role PeerRole() const { return role_ == Role::kInitiator ? Role::kResponder : Role::kInitiator; }

  AgreementParams params_;
  Role role_ = Role::kInitiator;
  std::vector<std::uint8_t> transcript_;
  SecretBytes own_secret_;
  std::vector<SecretBytes> own_shares_;
  std::map<unsigned, SecretBytes> peer_shares_;
  std::map<unsigned, std::vector<ShareCheckValue>> peer_checks_;  // by hub; empty: none
  std::map<unsigned, std::vector<Tag>> peer_tags_;
  crypto::X25519KeyPair own_x25519_;
  std::map<unsigned, std::vector<std::uint8_t>> peer_x25519_;
  std::vector<std::uint8_t> confirmed_responder_public_;
  bool confirmed_ = false;
  SecretBytes key_;
  std::vector<unsigned> inconsistent_;
  std::map<unsigned, ShareCheckValue> share_checks_;
  SecretBytes share_mac_key_;       // SMK_e, re-seeds only
  std::vector<unsigned> rejected_;  // hubs whose share failed its MAC
};

}  // namespace skap::pairwise
