// IPsec PPKs (RFC 8784) for strongSwan, from the pairwise sessions
// (docs/ppk.md). For each configured peer, the PPK of the session's current
// epoch (PPK_e, docs/protocol.md) is loaded into the local charon through
// VICI `load-shared` (type PPK, owner = the connection's ppk_id). Loading it
// again under the same credential id replaces the previous epoch's PPK, so
// the old one is unloaded in the same step. On the IKE initiator's side the
// agent then reauthenticates the connection's IKE SA (`rekey` with reauth;
// charon's make_before_break keeps the old SA until the new one is up, and
// keeps it if the new one fails), or initiates it when none is up, and
// checks (`list-sas`) that an IKE SA with a PPK came up; it retries until
// the responder's agent holds the new PPK too.
//
// VICI calls block, so they run on a worker thread of their own; the
// daemon's thread only reads the session and hands the PPK over.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/secret_bytes.h"
#include "skap/endpoint.h"

namespace skap::ppk {

// PpkTarget is one peer's PPK and where it goes.
struct PpkTarget {
  std::string peer;         // the peer device's id
  std::string vici_socket;  // the local charon's VICI socket
  std::string ppk_id;       // the swanctl connection's ppk_id: charon finds the PPK by it
  std::string connection;   // the swanctl connection's name
  std::string child;        // its CHILD_SA to initiate when no IKE SA is up
  bool initiate = false;    // this side is the IKE initiator and brings the SA up
};

class PpkInstaller {
 public:
  // `now` times the retries: a monotonic clock, so a step of the wall clock
  // neither stalls nor hurries them.
  explicit PpkInstaller(std::vector<PpkTarget> targets, Clock now = MonotonicNowMs);
  ~PpkInstaller();
  PpkInstaller(const PpkInstaller&) = delete;
  PpkInstaller& operator=(const PpkInstaller&) = delete;

  const std::vector<PpkTarget>& targets() const { return targets_; }
  // Offer hands target `index` the PPK of session epoch `epoch`; a newer
  // epoch than the one installed gets installed.
  void Offer(std::size_t index, std::uint64_t epoch, SecretBytes ppk);
  // Withdraw takes target `index`'s PPK out of charon (`unload-shared`) and
  // ends the connection's IKE SAs (`terminate`): its peer ended. A later
  // Offer installs again.
  void Withdraw(std::size_t index, std::string why);
  std::vector<PpkStatus> Status() const;

 private:
  struct Slot {
    std::uint64_t offered_epoch = 0;
    SecretBytes offered;
    PpkStatus state;
    std::int64_t next_attempt_ms = 0;
    bool pending_initiate = false;
    std::string withdraw;  // why, while a withdrawal waits to be done
  };
  void Work();
  void Step(std::size_t index, std::int64_t now_ms);

  std::vector<PpkTarget> targets_;
  Clock now_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Slot> slots_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace skap::ppk
