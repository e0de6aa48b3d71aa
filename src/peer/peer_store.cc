#include "peer/peer_store.h"

namespace skap::peer {
namespace {

using store::AsBlob;
using store::AsInt;
using store::AsText;
using store::Blob;

std::int64_t Int(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::uint64_t U64(const store::Value& v) {
  return static_cast<std::uint64_t>(AsInt(v).value_or(0));
}

}  // namespace

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
        "INSERT OR REPLACE INTO peer_counters (peer, epoch, reserved_until) VALUES ($1, $2, $3)",
        {peer, Int(epoch), Int(until)}));
    return Ok();
  }));
  return until;
}

Result<void> PeerStore::Enqueue(const Outgoing& m) {
  SKAP_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO peer_outbox (peer, epoch, counter, body, expires_at_ms)"
                  " VALUES ($1, $2, $3, $4, $5)",
                  {m.peer, Int(m.epoch), Int(m.counter), Blob(m.body), m.expires_at_ms}));
  return Ok();
}

Result<std::vector<Outgoing>> PeerStore::Outbox(const std::string& peer) {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT epoch, counter, body, expires_at_ms"
                                             " FROM peer_outbox WHERE peer = $1"
                                             " ORDER BY epoch, counter",
                                             {peer}));
  std::vector<Outgoing> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back({peer, U64(row[0]), U64(row[1]), AsBlob(row[2]).value_or(Blob{}),
                   AsInt(row[3]).value_or(0)});
  }
  return out;
}

Result<void> PeerStore::Remove(const std::string& peer, std::uint64_t epoch,
                               std::uint64_t counter) {
  SKAP_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM peer_outbox WHERE peer = $1 AND epoch = $2 AND counter = $3",
                  {peer, Int(epoch), Int(counter)}));
  return Ok();
}

Result<std::int64_t> PeerStore::Expire(std::int64_t now_ms) {
  std::int64_t dropped = 0;
  SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(
        dropped, db_.Execute("DELETE FROM peer_outbox WHERE expires_at_ms < $1", {now_ms}));
    // A closed epoch can no longer be sealed to, nor opened from.
    for (const char* table : {"peer_outbox", "peer_counters", "peer_replay", "peer_issued"}) {
      SKAP_ASSIGN_OR_RETURN(
          const auto n,
          db_.Execute("DELETE FROM " + std::string(table) +
                      " WHERE NOT EXISTS (SELECT 1 FROM peer_secrets s WHERE s.peer = " + table +
                      ".peer AND s.epoch = " + table + ".epoch)"));
      if (std::string_view(table) == "peer_outbox") dropped += n;
    }
    return Ok();
  }));
  return dropped;
}

Result<std::int64_t> PeerStore::Pending(const std::string& peer) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        db_.Query("SELECT COUNT(*) FROM peer_outbox WHERE peer = $1", {peer}));
  return AsInt(rows[0][0]).value_or(0);
}

Result<ReplayWindow> PeerStore::LoadWindow(const std::string& peer, std::uint64_t epoch) {
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT highest, seen_mask FROM peer_replay"
                                             " WHERE peer = $1 AND epoch = $2",
                                             {peer, Int(epoch)}));
  ReplayWindow w;
  if (!rows.empty()) {
    w.highest = U64(rows[0][0]);
    w.seen_mask = U64(rows[0][1]);
  }
  return w;
}

Result<void> PeerStore::SaveWindow(const std::string& peer, std::uint64_t epoch,
                                   const ReplayWindow& w) {
  SKAP_RETURN_IF_ERROR(
      db_.Execute("INSERT OR REPLACE INTO peer_replay (peer, epoch, highest,"
                  " seen_mask) VALUES ($1, $2, $3, $4)",
                  {peer, Int(epoch), Int(w.highest), Int(w.seen_mask)}));
  return Ok();
}

Result<void> PeerStore::RecordIssued(const std::string& peer, const Issued& r) {
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

}  // namespace skap::peer
