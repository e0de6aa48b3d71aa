#include "hub/registry/audit_log.h"

#include <string_view>

#include "common/byte_writer.h"
#include "common/ct.h"
#include "crypto/hmac.h"

namespace skap::hub {
namespace {

// This class's part of hub.db's schema (hub/schema.cc orders the whole):
// version 1 made the log and its head.
constexpr std::string_view kAuditLogV1 = R"sql(CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,         -- 1, 2, 3, ... without gaps
  at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,            -- operator name, 'device:<id>', or 'hub'
  action TEXT NOT NULL,           -- e.g. 'device.provision', 'channel.psk-failed'
  target TEXT NOT NULL,           -- what it was done to, '' if nothing
  outcome TEXT NOT NULL,          -- 'ok' or 'refused:<reason>'
  detail TEXT NOT NULL,           -- JSON without secrets
  mac BLOB NOT NULL               -- HMAC chain, see docs/hub.md
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_target ON audit_log (target);
-- The chain's head, updated in the same transaction as each entry, so that
-- cutting entries off the end is detected too.
CREATE TABLE audit_head (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  mac BLOB NOT NULL
);
)sql";

constexpr std::string_view kChainLabel = "skap audit v1";
constexpr std::size_t kMacSize = 48;

Result<std::vector<std::uint8_t>> ChainMac(std::span<const std::uint8_t> key,
                                           std::span<const std::uint8_t> previous_mac,
                                           std::int64_t seq, std::int64_t at_ms,
                                           const AuditRecord& r) {
  std::vector<std::uint8_t> message(kChainLabel.begin(), kChainLabel.end());
  message.insert(message.end(), previous_mac.begin(), previous_mac.end());
  AppendU64(message, static_cast<std::uint64_t>(seq));
  AppendU64(message, static_cast<std::uint64_t>(at_ms));
  for (std::string_view field :
       {std::string_view(r.actor), std::string_view(r.action), std::string_view(r.target),
        std::string_view(r.outcome), std::string_view(r.detail)}) {
    AppendField32(message, field);
  }
  return crypto::HmacTag(crypto::Hash::kSha384, key, message);
}

AuditEntry EntryFromRow(const store::Row& row) {
  AuditEntry e;
  e.seq = store::AsInt(row[0]).value_or(0);
  e.at_ms = store::AsInt(row[1]).value_or(0);
  e.record.actor = store::AsText(row[2]).value_or("");
  e.record.action = store::AsText(row[3]).value_or("");
  e.record.target = store::AsText(row[4]).value_or("");
  e.record.outcome = store::AsText(row[5]).value_or("");
  e.record.detail = store::AsText(row[6]).value_or("");
  return e;
}

}  // namespace

std::string_view AuditLog::MigrationSql(int version) {
  switch (version) {
    case 1:
      return kAuditLogV1;
    default:
      return {};
  }
}

Result<std::int64_t> AuditLog::AppendInCurrentTransaction(const AuditRecord& record,
                                                          std::int64_t at_ms) {
  SKAP_ASSIGN_OR_RETURN(auto head, db_.Query("SELECT seq, mac FROM audit_head WHERE id = 1"));
  std::int64_t seq = 1;
  store::Blob previous(kMacSize, 0);
  if (!head.empty()) {
    seq = store::AsInt(head[0][0]).value_or(0) + 1;
    previous = store::AsBlob(head[0][1]).value_or(store::Blob{});
  }
  SKAP_ASSIGN_OR_RETURN(auto mac, ChainMac(mac_key_.Expose(), previous, seq, at_ms, record));
  SKAP_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO audit_log (seq, at_ms, actor, action, target, outcome, detail, mac)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                  {seq, at_ms, record.actor, record.action, record.target, record.outcome,
                   record.detail, store::Blob(mac)}));
  if (head.empty()) {
    SKAP_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO audit_head (id, seq, mac) VALUES (1, $1, $2)", {seq, mac}));
  } else {
    SKAP_RETURN_IF_ERROR(
        db_.Execute("UPDATE audit_head SET seq = $1, mac = $2 WHERE id = 1", {seq, mac}));
  }
  return seq;
}

Result<std::int64_t> AuditLog::Append(const AuditRecord& record) {
  std::int64_t seq = 0;
  SKAP_RETURN_IF_ERROR(store::InTransaction(db_, [&]() -> Result<void> {
    SKAP_ASSIGN_OR_RETURN(seq, AppendInCurrentTransaction(record, now_()));
    return Ok();
  }));
  return seq;
}

Result<AuditVerification> AuditLog::Verify() {
  AuditVerification v;
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        db_.Query("SELECT seq, at_ms, actor, action, target, outcome, detail, mac"
                                  " FROM audit_log ORDER BY seq"));
  SKAP_ASSIGN_OR_RETURN(auto head, db_.Query("SELECT seq, mac FROM audit_head WHERE id = 1"));
  store::Blob previous(kMacSize, 0);
  std::int64_t expected_seq = 1;
  for (const auto& row : rows) {
    const AuditEntry entry = EntryFromRow(row);
    const store::Blob stored = store::AsBlob(row[7]).value_or(store::Blob{});
    if (entry.seq != expected_seq) {
      v.first_broken_seq = expected_seq;
      v.reason = "entry " + std::to_string(expected_seq) + " is missing";
      return v;
    }
    SKAP_ASSIGN_OR_RETURN(
        auto mac, ChainMac(mac_key_.Expose(), previous, entry.seq, entry.at_ms, entry.record));
    if (!ct::Equal(mac, stored)) {
      v.first_broken_seq = entry.seq;
      v.reason = "entry " + std::to_string(entry.seq) + " was altered, or an entry before it";
      return v;
    }
    previous = std::move(mac);
    ++expected_seq;
    ++v.entries;
  }
  const std::int64_t head_seq = head.empty() ? 0 : store::AsInt(head[0][0]).value_or(-1);
  const store::Blob head_mac =
      head.empty() ? store::Blob(kMacSize, 0) : store::AsBlob(head[0][1]).value_or(store::Blob{});
  if (head_seq != v.entries || !ct::Equal(head_mac, previous)) {
    v.first_broken_seq = v.entries + 1;
    v.reason = "the log ends at entry " + std::to_string(v.entries) + " but its head records " +
               std::to_string(head_seq) + " entries: entries were cut off the end";
    return v;
  }
  v.intact = true;
  return v;
}

Result<std::vector<AuditEntry>> AuditLog::List(const AuditFilter& filter) {
  // One portable statement: each optional filter is "($n IS NULL OR col ...)".
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("SELECT seq, at_ms, actor, action, target, outcome, detail FROM audit_log"
                " WHERE ($1 IS NULL OR at_ms >= $1) AND ($2 IS NULL OR at_ms < $2)"
                " AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR target = $4)"
                " AND ($5 IS NULL OR action = $5) ORDER BY seq LIMIT $6",
                {store::OrNull(filter.since_ms), store::OrNull(filter.until_ms),
                 store::OrNull(filter.actor), store::OrNull(filter.target),
                 store::OrNull(filter.action), filter.limit}));
  std::vector<AuditEntry> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(EntryFromRow(row));
  return out;
}

}  // namespace skap::hub
