#include "agent/store/peer_store.h"

namespace skap::agent {
namespace {

// This store's part of agent.db's schema (agent_schema.cc orders the whole):
// version 3 made the peer channel's tables (docs/peer.md). The messages
// waiting for the peer's acknowledgement are not secret (key ids, SAE ids,
// confirmation tags) and are kept in clear.
constexpr std::string_view kPeerV3 =
    R"sql(-- Per peer and epoch: sealing counters, reserved in runs so that a restart
-- resumes past every counter that may have been used (nonces never
-- repeat), and the next message id.
CREATE TABLE peer_counters (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  reserved_until BIGINT NOT NULL,
  next_message_id BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch)
);
-- Messages sent, kept until the peer acknowledges them or they expire.
CREATE TABLE peer_outbox (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  body BLOB NOT NULL,               -- PeerMessage (peer.proto)
  expires_at_ms BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch, message_id)
);
-- The peer's message ids acted on: all up to `through`, and those above it.
CREATE TABLE peer_delivered (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  through BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch)
);
CREATE TABLE peer_delivered_ids (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  PRIMARY KEY (peer, epoch, message_id)
);
-- Runs of keys the peer handed out to one of its SAEs, for a named SAE here
-- (the key-id sync of ETSI GS QKD 014).
CREATE TABLE peer_issued (
  peer TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  direction INTEGER NOT NULL,
  first_index BIGINT NOT NULL,
  count BIGINT NOT NULL,
  master_sae TEXT NOT NULL,
  slave_sae TEXT NOT NULL,
  PRIMARY KEY (peer, epoch, direction, first_index)
);
)sql";

using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

std::int64_t Int(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::uint64_t U64(const store::Value& v) {
  return static_cast<std::uint64_t>(AsInt(v).value_or(0));
}

// The tables of the peer channel that are kept per (peer, epoch).
constexpr const char* kEpochTables[] = {"peer_outbox", "peer_counters", "peer_delivered",
                                        "peer_delivered_ids", "peer_issued"};

}  // namespace

std::string_view PeerStore::MigrationSql(int version) {
  switch (version) {
    case 3:
      return kPeerV3;
    default:
      return {};
  }
}

Result<std::uint64_t> PeerStore::ReserveCounters(const std::string& peer, std::uint64_t epoch,
                                                 std::uint64_t run, std::uint64_t* first) {
  std::uint64_t until = 0;
  SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT reserved_until FROM peer_counters"
                                               " WHERE peer = $1 AND epoch = $2",
                                               {peer, Int(epoch)}));
    const std::uint64_t from = rows.empty() ? 1 : U64(rows[0][0]);
    until = from + run;
    *first = from;
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO peer_counters (peer, epoch, reserved_until, next_message_id)"
        " VALUES ($1, $2, $3, 1) ON CONFLICT (peer, epoch) DO UPDATE SET reserved_until = $3",
        {peer, Int(epoch), Int(until)}));
    return Ok();
  }));
  return until;
}

Result<std::uint64_t> PeerStore::Enqueue(
    const std::string& peer, std::uint64_t epoch,
    const std::function<std::vector<std::uint8_t>(std::uint64_t)>& body, std::int64_t expires_at_ms,
    const std::vector<MessageKey>& acked) {
  std::uint64_t id = 0;
  SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_RETURN_IF_ERROR(RemoveInCurrentTransaction(acked));
    SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT next_message_id FROM peer_counters"
                                               " WHERE peer = $1 AND epoch = $2",
                                               {peer, Int(epoch)}));
    id = rows.empty() ? 1 : U64(rows[0][0]);
    SKAP_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO peer_counters (peer, epoch, reserved_until, next_message_id)"
        " VALUES ($1, $2, 1, $3) ON CONFLICT (peer, epoch) DO UPDATE SET next_message_id = $3",
        {peer, Int(epoch), Int(id + 1)}));
    SKAP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO peer_outbox (peer, epoch, message_id, body, expires_at_ms)"
                    " VALUES ($1, $2, $3, $4, $5)",
                    {peer, Int(epoch), Int(id), Blob(body(id)), expires_at_ms}));
    return Ok();
  }));
  return id;
}

Result<std::vector<Outgoing>> PeerStore::Outbox(const std::string& peer) {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT epoch, message_id, body, expires_at_ms"
                                             " FROM peer_outbox WHERE peer = $1"
                                             " ORDER BY epoch, message_id",
                                             {peer}));
  std::vector<Outgoing> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back({peer, U64(row[0]), U64(row[1]), AsBlob(row[2]).value_or(Blob{}),
                   AsInt(row[3]).value_or(0)});
  }
  return out;
}

Result<std::uint64_t> PeerStore::LowWater(const std::string& peer, std::uint64_t epoch) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("SELECT (SELECT MIN(message_id) FROM peer_outbox WHERE peer = $1 AND epoch = $2),"
                " (SELECT next_message_id FROM peer_counters WHERE peer = $1 AND epoch = $2)",
                {peer, Int(epoch)}));
  if (const auto lowest = AsInt(rows[0][0])) return static_cast<std::uint64_t>(*lowest);
  return AsInt(rows[0][1]) ? U64(rows[0][1]) : 1;
}

Result<void> PeerStore::RemoveInCurrentTransaction(const std::vector<MessageKey>& acked) {
  for (const auto& m : acked) {
    SKAP_RETURN_IF_ERROR(
        db_.Execute("DELETE FROM peer_outbox WHERE peer = $1 AND epoch = $2 AND message_id = $3",
                    {m.peer, Int(m.epoch), Int(m.message_id)}));
  }
  return Ok();
}

Result<void> PeerStore::Remove(const std::vector<MessageKey>& acked) {
  if (acked.empty()) return Ok();
  return store::InTransaction(db_, [&] { return RemoveInCurrentTransaction(acked); });
}

Result<void> PeerStore::ForgetInCurrentTransaction(const std::string& peer) {
  for (const std::string table : kEpochTables) {
    SKAP_RETURN_IF_ERROR(db_.Execute("DELETE FROM " + table + " WHERE peer = $1", {peer}));
  }
  return Ok();
}

Result<std::int64_t> PeerStore::Expire(std::int64_t now_ms) {
  std::int64_t dropped = 0;
  SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(
        dropped, db_.Execute("DELETE FROM peer_outbox WHERE expires_at_ms < $1", {now_ms}));
    // A closed epoch can no longer be sealed to, nor opened from.
    for (const std::string table : kEpochTables) {
      std::string sql = "DELETE FROM " + table;
      sql += " WHERE NOT EXISTS (SELECT 1 FROM peer_secrets s WHERE s.peer = " + table;
      sql += ".peer AND s.epoch = " + table + ".epoch)";
      SKAP_ASSIGN_OR_RETURN(const auto n, db_.Execute(sql));
      if (table == "peer_outbox") dropped += n;
    }
    return Ok();
  }));
  return dropped;
}

Result<DeliveryLog> PeerStore::LoadLog(const std::string& peer, std::uint64_t epoch) {
  DeliveryLog log;
  SKAP_ASSIGN_OR_RETURN(auto through, db_.Query("SELECT through FROM peer_delivered"
                                                " WHERE peer = $1 AND epoch = $2",
                                                {peer, Int(epoch)}));
  if (!through.empty()) log.through = U64(through[0][0]);
  SKAP_ASSIGN_OR_RETURN(auto ids, db_.Query("SELECT message_id FROM peer_delivered_ids"
                                            " WHERE peer = $1 AND epoch = $2",
                                            {peer, Int(epoch)}));
  for (const auto& row : ids) log.above.insert(U64(row[0]));
  return log;
}

Result<void> PeerStore::SaveLogInCurrentTransaction(const std::string& peer, std::uint64_t epoch,
                                                    const DeliveryLog& log) {
  SKAP_RETURN_IF_ERROR(
      db_.Execute("INSERT OR REPLACE INTO peer_delivered (peer, epoch, through)"
                  " VALUES ($1, $2, $3)",
                  {peer, Int(epoch), Int(log.through)}));
  SKAP_RETURN_IF_ERROR(db_.Execute("DELETE FROM peer_delivered_ids WHERE peer = $1 AND epoch = $2",
                                   {peer, Int(epoch)}));
  for (const std::uint64_t id : log.above) {
    SKAP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO peer_delivered_ids (peer, epoch, message_id) VALUES ($1, $2, $3)",
                    {peer, Int(epoch), Int(id)}));
  }
  return Ok();
}

Result<void> PeerStore::RecordIssuedInCurrentTransaction(const std::string& peer, const Issued& r) {
  SKAP_RETURN_IF_ERROR(
      db_.Execute("INSERT OR REPLACE INTO peer_issued (peer, epoch, direction, first_index, count,"
                  " master_sae, slave_sae) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                  {peer, Int(r.epoch), static_cast<std::int64_t>(r.direction),
                   static_cast<std::int64_t>(r.first_index), static_cast<std::int64_t>(r.count),
                   r.master_sae, r.slave_sae}));
  return Ok();
}

Result<std::optional<Issued>> PeerStore::FindIssued(const std::string& peer, std::uint64_t epoch,
                                                    unsigned direction, std::uint32_t index) {
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("SELECT first_index, count, master_sae, slave_sae FROM peer_issued"
                " WHERE peer = $1 AND epoch = $2 AND direction = $3 AND first_index <= $4"
                " ORDER BY first_index DESC LIMIT 1",
                {peer, Int(epoch), static_cast<std::int64_t>(direction),
                 static_cast<std::int64_t>(index)}));
  if (rows.empty()) return std::optional<Issued>{};
  Issued r{epoch,
           direction,
           static_cast<std::uint32_t>(U64(rows[0][0])),
           static_cast<std::uint32_t>(U64(rows[0][1])),
           AsText(rows[0][2]).value_or(""),
           AsText(rows[0][3]).value_or("")};
  if (index >= r.first_index + r.count) return std::optional<Issued>{};
  return std::optional<Issued>{std::move(r)};
}

}  // namespace skap::agent
