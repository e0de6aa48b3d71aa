// What the peer channel keeps in the agent's database (schema version 3,
// agent/agent_schema.cc): sealing counters and message ids, the outbox of
// messages not yet acknowledged, the delivery logs of what the peer sent,
// and the key-id sync of ETSI GS QKD 014. The caller runs on the daemon's
// one thread, outside any transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "agent/store/delivery_log.h"
#include "common/result.h"
#include "store/database.h"

namespace skap::agent {

// Outgoing is one message in the outbox.
struct Outgoing {
  std::string peer;
  std::uint64_t epoch = 0;
  std::uint64_t message_id = 0;
  std::vector<std::uint8_t> body;  // PeerMessage
  std::int64_t expires_at_ms = 0;
};

// MessageKey names a message of the outbox.
struct MessageKey {
  std::string peer;
  std::uint64_t epoch = 0;
  std::uint64_t message_id = 0;
  bool operator<(const MessageKey& o) const {
    return std::tie(peer, epoch, message_id) < std::tie(o.peer, o.epoch, o.message_id);
  }
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
  // MigrationSql is this store's part of agent.db's schema version
  // `version` (its tables' DDL; agent_schema.h orders the whole), empty if
  // it has none.
  static std::string_view MigrationSql(int version);

  explicit PeerStore(store::Database& db) : db_(db) {}

  // ReserveCounters makes the counters [*first, returned) usable: it
  // commits `run` more past what was reserved for (peer, epoch) before.
  // The first counter of an epoch is 1.
  Result<std::uint64_t> ReserveCounters(const std::string& peer, std::uint64_t epoch,
                                        std::uint64_t run, std::uint64_t* first);

  // Enqueue gives the message the next id of (peer, epoch) and stores
  // `body(id)` in the outbox, in one commit; it returns the id.
  // `acked` are messages (of any peer) acknowledged since: they leave the
  // outbox in the same commit, so an ack costs no commit of its own.
  Result<std::uint64_t> Enqueue(const std::string& peer, std::uint64_t epoch,
                                const std::function<std::vector<std::uint8_t>(std::uint64_t)>& body,
                                std::int64_t expires_at_ms,
                                const std::vector<MessageKey>& acked = {});
  Result<std::vector<Outgoing>> Outbox(const std::string& peer);
  // LowWater is the lowest id of (peer, epoch) still in the outbox (the
  // next id if none is).
  Result<std::uint64_t> LowWater(const std::string& peer, std::uint64_t epoch);
  // Remove takes acknowledged messages out of the outbox, in one commit.
  Result<void> Remove(const std::vector<MessageKey>& acked);
  // ForgetInCurrentTransaction drops everything kept for `peer`: its session
  // started afresh (SessionStore::OnFreshSession). The caller holds a
  // transaction.
  Result<void> ForgetInCurrentTransaction(const std::string& peer);
  // Expire drops what expired, and what belongs to epochs no longer held.
  Result<std::int64_t> Expire(std::int64_t now_ms);

  Result<DeliveryLog> LoadLog(const std::string& peer, std::uint64_t epoch);
  // SaveLogInCurrentTransaction writes `log` (the caller holds a transaction).
  Result<void> SaveLogInCurrentTransaction(const std::string& peer, std::uint64_t epoch,
                                           const DeliveryLog& log);

  Result<void> RecordIssuedInCurrentTransaction(const std::string& peer, const Issued& run);
  // FindIssued is the run of the peer's keys that holds (epoch, direction, index).
  Result<std::optional<Issued>> FindIssued(const std::string& peer, std::uint64_t epoch,
                                           unsigned direction, std::uint32_t index);

  store::Database& db() { return db_; }

 private:
  Result<void> RemoveInCurrentTransaction(const std::vector<MessageKey>& acked);
  store::Database& db_;
};

}  // namespace skap::agent
