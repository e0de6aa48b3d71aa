// What the peer channel keeps in the agent's database (schema version 3,
// agent/agent_schema.cc): sealing counters, the outbox of messages not yet
// acknowledged, the anti-replay windows and the key-id sync of ETSI GS QKD
// 014. The caller runs on the daemon's one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "peer/replay_window.h"
#include "store/database.h"

namespace skap::peer {

// Outgoing is one message in the outbox.
struct Outgoing {
  std::string peer;
  std::uint64_t epoch = 0;
  std::uint64_t counter = 0;
  std::vector<std::uint8_t> body;  // PeerMessage
  std::int64_t expires_at_ms = 0;
};

// Issued is a run of the peer's keys handed out to a pair of SAEs.
struct Issued {
  std::uint64_t epoch = 0;
  unsigned direction = 0;
  std::uint32_t first_index = 0;
  std::uint32_t count = 0;
  std::string master_sae;
  std::string slave_sae;
};

class PeerStore {
 public:
  explicit PeerStore(store::Database& db) : db_(db) {}

  // ReserveCounters makes every counter below the returned one usable: it
  // commits `run` more past what was reserved for (peer, epoch) before.
  // The first counter of a fresh epoch is 1.
  Result<std::uint64_t> ReserveCounters(const std::string& peer, std::uint64_t epoch,
                                        std::uint64_t run, std::uint64_t* first);

  Result<void> Enqueue(const Outgoing& message);
  Result<std::vector<Outgoing>> Outbox(const std::string& peer);
  Result<void> Remove(const std::string& peer, std::uint64_t epoch, std::uint64_t counter);
  // Expire drops what expired, and what belongs to epochs no longer held.
  Result<std::int64_t> Expire(std::int64_t now_ms);
  Result<std::int64_t> Pending(const std::string& peer);

  Result<ReplayWindow> LoadWindow(const std::string& peer, std::uint64_t epoch);
  Result<void> SaveWindow(const std::string& peer, std::uint64_t epoch, const ReplayWindow& window);

  Result<void> RecordIssued(const std::string& peer, const Issued& run);
  // FindIssued is the run of the peer's keys that holds (epoch, direction, index).
  Result<std::optional<Issued>> FindIssued(const std::string& peer, std::uint64_t epoch,
                                           unsigned direction, std::uint32_t index);

  store::Database& db() { return db_; }

 private:
  store::Database& db_;
};

}  // namespace skap::peer
