// This device's side of pairwise agreements through its hubs
// (docs/protocol.md, "Through the hubs"): it starts agreements, answers the
// peer's, moves shares and confirmation tags over every hub link, keeps each
// agreement durable at every step, and turns a confirmed agreement into the
// next epoch of the pairwise session. Runs on the daemon's one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/hub/hub_port.h"
#include "agent/store/agreement_store.h"
#include "agent/store/session_store.h"
#include "common/clock.h"
#include "crypto/rng.h"

namespace skap::agent {

// Identity is what the device's bundles say about it and its network.
struct Identity {
  std::string device_id;
  std::string device_name;
  std::string network_name;
  std::vector<std::string> hub_set;  // sorted
  unsigned threshold = 1;
};

// EngineOptions tune agreements.
struct EngineOptions {
  // lifetime is how long an agreement may take (its expiry at the hubs).
  std::chrono::milliseconds lifetime{30000};
  // confirm_grace is how long after expiry a responder that has sent its
  // tags still waits for the initiator's (the hubs relay tags as long).
  std::chrono::milliseconds confirm_grace{30000};
  // Scheduled re-seeds of every session (0: not by that measure).
  std::chrono::milliseconds reseed_interval{0};
  std::int64_t reseed_after_keys = 0;
  // hybrid: scheduled re-seeds add the endpoints' X25519 step.
  bool hybrid = false;
};

class AgreementEngine final : public HubPortListener {
 public:
  using Done = std::function<void(const AgreementOutcome&)>;

  // `db` holds both stores: a confirmation commits to both at once.
  AgreementEngine(store::Database& db, AgreementStore& agreements, SessionStore& sessions,
                  crypto::Rng& rng, Identity identity, EngineOptions options, Clock now);

  // SetLinks names the hub links (one per hub of the set this device is
  // enrolled at); Resume then loads what was running before a restart.
  void SetLinks(std::vector<HubPort*> links) { links_ = std::move(links); }
  Result<void> Resume();

  // Agree starts an agreement with `peer` (a device id): the next epoch of
  // the session, or epoch 1 with `fresh` or without a session; with
  // `hybrid`, the endpoints add an X25519 exchange. `done` runs
  // when it ends (at once, if it cannot start). An agreement with the peer
  // already running is joined instead. `done` must not call back into the
  // engine (it runs from inside the engine's own handlers).
  void Agree(const std::string& peer, bool fresh, bool hybrid, Done done);

  // Tick ends what expired and starts scheduled re-seeds; the daemon calls
  // it about once a second.
  void Tick();

  // Live lists the agreements running now and the newest ended ones.
  std::vector<AgreementOutcome> Recent(std::size_t limit);
  const Identity& identity() const { return identity_; }
  // UpLinks counts the hubs reachable now.
  unsigned UpLinks() const;

  // PeerConfirmSink sends an agreement's tags to the peer over the peer
  // channel, sealed under `epoch` (agent/peer/peer_channel.h).
  using PeerConfirmSink = std::function<void(const std::string& peer, std::uint64_t epoch,
                                             const channel::v1::ConfirmOffer& confirm)>;
  void SetPeerConfirmSink(PeerConfirmSink sink) { peer_confirm_ = std::move(sink); }
  // OnPeerConfirm takes tags or a refusal from `sender` over the peer
  // channel (sealed end to end, so a refusal counts at once).
  void OnPeerConfirm(const std::string& sender, const channel::v1::ConfirmOffer& confirm);

  // A peer ends for this device (its session erased, its agreements failed
  // and refused) once more than n − k hubs of the set say it was revoked,
  // rejected or disallowed: n − k lying hubs cannot end a pair, the k honest
  // ones can (with n = k, one hub). Each link-up asks its hub again about
  // every session peer (CheckPeers), and so does every kPeerCheckInterval;
  // a hub's answer also withdraws its earlier word on peers it no longer
  // names (a pair allowed again).
  static constexpr std::chrono::milliseconds kPeerCheckInterval{60000};
  // PeerEndedSink hears, once per ending, that `peer` ended (after its
  // session was erased): the daemon closes its links and unloads its PPK.
  using PeerEndedSink = std::function<void(const std::string& peer, const std::string& reason)>;
  void SetPeerEndedSink(PeerEndedSink sink) { peer_ended_ = std::move(sink); }
  // EndedReason is why `peer` ended for this device, if it did.
  std::optional<std::string> EndedReason(const std::string& peer) const;

  // A scheduled re-seed that fails is kept (why, and the hubs whose shares
  // were wrong where that is certain) until a re-seed with the peer
  // succeeds: status shows it, and ReseedFailedSink hears each one.
  struct ReseedFailure {
    std::int64_t at_ms = 0;
    std::string reason;
    std::vector<std::string> blamed_hubs;
  };
  std::optional<ReseedFailure> LastReseedFailure(const std::string& peer) const;
  using ReseedFailedSink = std::function<void(const std::string& peer, const ReseedFailure&)>;
  void SetReseedFailedSink(ReseedFailedSink sink) { reseed_failed_ = std::move(sink); }

  void OnLinkUp(HubPort& link) override;
  void OnDelivery(HubPort& link, const channel::v1::PeerDelivery& delivery,
                  SecretBytes share) override;
  void OnPeersEnded(HubPort& link, const channel::v1::PeersEnded& ended) override;

 private:
  using Sid = pairwise::AgreementId;

  static AgreementOutcome OutcomeOf(const AgreementRecord& record);
  // Start creates, stores and sends a new agreement as initiator.
  Result<Sid> Start(const std::string& peer, bool fresh, bool hybrid);
  // Answer handles the first share of an agreement the peer started; false
  // when what it must store could not be (the delivery is not acknowledged).
  bool Answer(HubPort& link, const pairwise::AgreementParams& params, SecretBytes share,
              std::span<const std::uint8_t> share_mac,
              std::vector<pairwise::ShareCheckValue> checks);
  // OwnHubIndex is `link`'s hub's position (1-based) in this device's hub
  // set, 0 if it is not in it.
  unsigned OwnHubIndex(const HubPort& link) const;
  // ShareIsTheInitiators is true when `share_mac` proves that the
  // initiator made `share` for hub `index` under `params` (a re-seed's MAC,
  // keyed under the epoch before the offer's, which this side holds).
  bool ShareIsTheInitiators(const pairwise::AgreementParams& params, unsigned index,
                            const SecretBytes& share, std::span<const std::uint8_t> share_mac);
  // NoteUnproven remembers that hub `index` delivered a share of `params`'s
  // sid that proved nothing (refused, or failing its MAC), until expiry.
  // With `mac_failed`, its share failed its MAC.
  void NoteUnproven(const pairwise::AgreementParams& params, unsigned index,
                    bool mac_failed = false);
  // AuthenticateShares keys a re-seed's share MACs (pairwise::ShareMac)
  // under the epoch before the one it makes, which this side must hold.
  Result<void> AuthenticateShares(AgreementRecord& record);
  // Progress stores what arrived, sends what is due and confirms if it can;
  // false when the store failed.
  bool Progress(AgreementRecord& record);
  // OnConfirm takes the peer's tags or refusal as `source` delivered them
  // (a hub index, or pairwise::kPeerChannelSource); false when the store
  // failed.
  bool OnConfirm(const std::string& sender, const channel::v1::ConfirmOffer& confirm,
                 unsigned source);
  void SendShares(const AgreementRecord& record, HubPort* only);
  void SendConfirm(const AgreementRecord& record, HubPort* only);
  // JudgeLateShare names the hub of a share that arrives after
  // confirmation if it is not the share the confirmed value implies; false
  // when the verdict could not be stored.
  bool JudgeLateShare(AgreementRecord& record, unsigned index, const SecretBytes& share);
  void Fail(AgreementRecord& record, const std::string& reason);
  void Finish(const AgreementRecord& record);
  // Refuse answers an agreement this device will not take part in; false
  // when the refusal could not be stored.
  // A refusal is authenticated under this side's session with the
  // initiator when there is one (pairwise::RefusalMac).
  bool Refuse(const pairwise::AgreementParams& params, const std::string& reason,
              pairwise::RefusalKind kind = pairwise::RefusalKind::kOther);
  // RefusalIsThePeers is true when `confirm`'s refusal carries a MAC that
  // one of the epochs this side holds with the peer verifies.
  bool RefusalIsThePeers(const AgreementRecord& record, const channel::v1::ConfirmOffer& confirm);
  // TakeRefusal ends `record` on the peer's counted refusal; an epoch
  // mismatch that shows this side ahead of the peer (the split the last
  // message of a re-seed can leave) starts the session afresh from here.
  void TakeRefusal(AgreementRecord& record, const std::string& reason, pairwise::RefusalKind kind,
                   std::uint64_t responder_epoch);
  // Reseed starts an agreement with `peer` that is not a person's: its
  // failure is kept for status (LastReseedFailure).
  void Reseed(const std::string& peer, bool fresh, bool hybrid);
  // Adopted is true when k hubs carried `params` as the header of its sid.
  bool Adopted(const pairwise::AgreementParams& params) const;
  // Hold keeps a share under a header not proven yet, unacknowledged, and
  // adopts the header once k hubs carry it.
  void Hold(HubPort& link, const channel::v1::PeerDelivery& delivery, SecretBytes share,
            const pairwise::AgreementParams& params, unsigned index);
  // ReleaseHeld hands the shares held for `sid` over again (OnDelivery).
  void ReleaseHeld(const Sid& sid);
  static void Ack(HubPort& link, const std::string& sender, const std::string& sid,
                  channel::v1::DeliveryKind kind);
  // Unstored notes a delivery left unacknowledged because the store failed.
  void Unstored();
  void OnOfferRefused(const Sid& sid, const std::string& hub_id, const std::string& message);
  std::uint64_t SessionEpoch(const std::string& peer);
  // CheckPeers asks `link`'s hub which session peers ended.
  void CheckPeers(HubPort& link);
  // TakeNotice counts `hub_id`'s word that `peer` ended (or, with no
  // reason, withdraws it) and ends the peer when enough hubs say so.
  void TakeNotice(const std::string& hub_id, const std::string& peer,
                  const std::optional<std::string>& reason);
  // EndPeer fails the agreements with an ended peer and erases its session;
  // false when the store failed (Tick tries again).
  bool EndPeer(const std::string& peer);

  store::Database& db_;
  AgreementStore& agreements_;
  SessionStore& sessions_;
  crypto::Rng& rng_;
  Identity identity_;
  EngineOptions options_;
  Clock now_;
  std::vector<HubPort*> links_;
  PeerConfirmSink peer_confirm_;
  PeerEndedSink peer_ended_;
  ReseedFailedSink reseed_failed_;
  // What each hub said of peers that ended: peer -> hub id -> reason.
  std::map<std::string, std::map<std::string, std::string>> ended_notices_;
  std::set<std::string> ended_;          // peers that reached the count
  std::set<std::string> erase_pending_;  // ended peers whose erasure failed
  std::int64_t last_peer_check_ms_ = 0;
  std::map<Sid, AgreementRecord> live_;
  std::map<Sid, std::vector<Done>> waiters_;
  std::map<Sid, std::map<std::string, std::string>> refusals_;  // hub id -> why
  // The peer's refusals as each hub carried them (hub index -> why).
  struct CarriedRefusal {
    std::string reason;
    int kind = 0;
    std::uint64_t responder_epoch = 0;
  };
  std::map<Sid, std::map<unsigned, CarriedRefusal>> peer_refusals_;
  // Peers whose offer showed them an epoch behind this side: this side
  // re-seeds with them at the next Tick, so that they can refuse it under
  // the epoch both hold and the split heals (TakeRefusal).
  std::set<std::string> catch_up_;
  // Re-seed shares that proved nothing before this side held the agreement
  // (refused, or failing their MAC; sid -> hub index -> the header they
  // came under): once a share the initiator made starts the agreement, the
  // hubs of other headers or failed MACs are named. In memory, at most
  // kMaxUnproven / n notes per hub, each kept at most kUnprovenKeep.
  static constexpr std::size_t kMaxUnproven = 1024;
  static constexpr std::chrono::milliseconds kUnprovenKeep{600'000};
  struct Unproven {
    std::int64_t expires_at_ms = 0;
    std::vector<std::uint8_t> transcript;  // th of the header it came under
    bool mac_failed = false;               // (else refused)
  };
  std::map<Sid, std::map<unsigned, Unproven>> unproven_;
  // Shares under a header this side could answer but that is not proven
  // yet (sid -> hub index), unacknowledged: once k hubs carry one header it
  // is adopted (adopted_) and they are handed over again, its own first
  // (ReleaseHeld). In memory, kMaxUnproven / n per hub and
  // kMaxHeldPerSender of those per sender, until expiry.
  struct HeldShare {
    HubPort* link = nullptr;
    channel::v1::PeerDelivery delivery;
    SecretBytes share;
    std::vector<std::uint8_t> transcript;  // th of its header
    std::int64_t expires_at_ms = 0;
  };
  std::map<Sid, std::map<unsigned, HeldShare>> held_;
  static constexpr std::size_t kMaxHeldPerSender = 64;  // per hub
  struct AdoptedHeader {
    std::vector<std::uint8_t> transcript;
    std::int64_t expires_at_ms = 0;
  };
  std::map<Sid, AdoptedHeader> adopted_;
  // The hubs that have stored this agreement's share or current tags: a link
  // that comes back up resends only what its hub does not hold yet.
  std::map<Sid, std::set<std::string>> shares_held_;
  std::map<Sid, std::set<std::string>> confirm_held_;
  std::map<std::string, std::int64_t> reseed_tried_ms_;   // peer -> last scheduled attempt
  std::map<std::string, ReseedFailure> reseed_failures_;  // peer -> last failed scheduled re-seed
  std::int64_t last_purge_ms_ = 0;
  bool refetch_ = false;  // a delivery went unacknowledged: fetch again at the next Tick
  // Agreements whose latest state is in memory only (a store failed): the
  // next delivery stores it even if it brings nothing new.
  std::set<Sid> unsaved_;
};

}  // namespace skap::agent
