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

// Version 9 gives each entry its tenant, bound into its MAC (v2); entries
// from before keep their v1 MAC and no tenant.
constexpr std::string_view kAuditLogV9 = R"sql(
ALTER TABLE audit_log ADD COLUMN tenant_id TEXT;
ALTER TABLE audit_log ADD COLUMN mac_version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX audit_log_tenant ON audit_log (tenant_id);
)sql";

constexpr std::string_view kChainLabelV1 = "skap audit v1";
constexpr std::string_view kChainLabel = "skap audit v2";
constexpr std::string_view kCheckpointLabel = "skap audit checkpoint v1";
constexpr std::int64_t kMacVersion = 2;
constexpr std::size_t kMacSize = 48;

Result<std::vector<std::uint8_t>> ChainMac(std::span<const std::uint8_t> key,
                                           std::span<const std::uint8_t> previous_mac,
                                           std::int64_t seq, std::int64_t at_ms,
                                           const AuditRecord& r, std::int64_t version) {
  const std::string_view label = version == 1 ? kChainLabelV1 : kChainLabel;
  std::vector<std::uint8_t> message(label.begin(), label.end());
  message.insert(message.end(), previous_mac.begin(), previous_mac.end());
  AppendU64(message, static_cast<std::uint64_t>(seq));
  AppendU64(message, static_cast<std::uint64_t>(at_ms));
  for (std::string_view field :
       {std::string_view(r.actor), std::string_view(r.action), std::string_view(r.target),
        std::string_view(r.outcome), std::string_view(r.detail)}) {
    AppendField32(message, field);
  }
  if (version != 1) AppendField32(message, r.tenant);
  return crypto::HmacTag(crypto::Hash::kSha384, key, message);
}

Result<std::vector<std::uint8_t>> CheckpointMac(std::span<const std::uint8_t> key,
                                                const AuditCheckpoint& c) {
  std::vector<std::uint8_t> message(kCheckpointLabel.begin(), kCheckpointLabel.end());
  AppendField32(message, c.hub_id);
  AppendU64(message, static_cast<std::uint64_t>(c.counter));
  AppendU64(message, static_cast<std::uint64_t>(c.seq));
  AppendU64(message, static_cast<std::uint64_t>(c.at_ms));
  message.insert(message.end(), c.head_mac.begin(), c.head_mac.end());
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
  if (row.size() > 7) e.record.tenant = store::AsText(row[7]).value_or("");
  return e;
}

}  // namespace

std::string_view AuditLog::MigrationSql(int version) {
  switch (version) {
    case 1:
      return kAuditLogV1;
    case 9:
      return kAuditLogV9;
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
  SKAP_ASSIGN_OR_RETURN(auto mac,
                        ChainMac(mac_key_.Expose(), previous, seq, at_ms, record, kMacVersion));
  SKAP_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO audit_log (seq, at_ms, actor, action, target, outcome, detail, mac, tenant_id,"
      " mac_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''), $10)",
      {seq, at_ms, record.actor, record.action, record.target, record.outcome, record.detail,
       store::Blob(mac), record.tenant, kMacVersion}));
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

Result<AuditCheckpoint> AuditLog::Checkpoint(const std::string& hub_id, std::int64_t counter) {
  SKAP_ASSIGN_OR_RETURN(auto head, db_.Query("SELECT seq, mac FROM audit_head WHERE id = 1"));
  AuditCheckpoint c;
  c.hub_id = hub_id;
  c.counter = counter;
  c.at_ms = now_();
  c.head_mac.assign(kMacSize, 0);
  if (!head.empty()) {
    c.seq = store::AsInt(head[0][0]).value_or(0);
    c.head_mac = store::AsBlob(head[0][1]).value_or(store::Blob{});
  }
  SKAP_ASSIGN_OR_RETURN(c.mac, CheckpointMac(mac_key_.Expose(), c));
  return c;
}

Result<void> AuditLog::CheckCheckpoint(const AuditCheckpoint& checkpoint) const {
  SKAP_ASSIGN_OR_RETURN(auto mac, CheckpointMac(mac_key_.Expose(), checkpoint));
  if (!ct::Equal(mac, checkpoint.mac)) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "the checkpoint's MAC does not check out: altered, or another hub's");
  }
  return Ok();
}

Result<void> AuditLog::Holds(const AuditCheckpoint& checkpoint) {
  SKAP_RETURN_IF_ERROR(CheckCheckpoint(checkpoint));
  if (checkpoint.seq == 0) return Ok();
  SKAP_ASSIGN_OR_RETURN(auto head, db_.Query("SELECT seq FROM audit_head WHERE id = 1"));
  SKAP_ASSIGN_OR_RETURN(auto entry,
                        db_.Query("SELECT mac FROM audit_log WHERE seq = $1", {checkpoint.seq}));
  const std::int64_t length = head.empty() ? 0 : store::AsInt(head[0][0]).value_or(0);
  if (length < checkpoint.seq || entry.empty()) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "the audit log ends at entry " + std::to_string(length) + " but checkpoint " +
                          std::to_string(checkpoint.counter) + " recorded " +
                          std::to_string(checkpoint.seq) +
                          " entries: entries were cut off the end");
  }
  if (!ct::Equal(store::AsBlob(entry[0][0]).value_or(store::Blob{}), checkpoint.head_mac)) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "audit entry " + std::to_string(checkpoint.seq) +
                          " is not the one checkpoint " + std::to_string(checkpoint.counter) +
                          " recorded: the log was cut and rewritten");
  }
  return Ok();
}

Result<AuditVerification> AuditLog::Verify(const std::optional<std::string>& tenant,
                                           const AuditCheckpoint* checkpoint) {
  if (checkpoint) SKAP_RETURN_IF_ERROR(CheckCheckpoint(*checkpoint));
  AuditVerification v;
  SKAP_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT seq, at_ms, actor, action, target, outcome,"
                                             " detail, tenant_id, mac, mac_version"
                                             " FROM audit_log ORDER BY seq"));
  SKAP_ASSIGN_OR_RETURN(auto head, db_.Query("SELECT seq, mac FROM audit_head WHERE id = 1"));
  store::Blob previous(kMacSize, 0);
  std::int64_t expected_seq = 1;
  std::int64_t all = 0;
  // A tenant is told of a break in its own entries exactly, and of one
  // elsewhere only that it exists: seqs and reasons of other tenants' entries
  // are theirs.
  const auto broken = [&](std::int64_t seq, const std::string& entry_tenant, std::string why) {
    if (!tenant || entry_tenant == *tenant) {
      v.first_broken_seq = seq;
      v.reason = std::move(why);
    } else {
      v.reason = "the hub's chain is broken at an entry that is not this tenant's";
    }
    return v;
  };
  for (const auto& row : rows) {
    const AuditEntry entry = EntryFromRow(row);
    const store::Blob stored = store::AsBlob(row[8]).value_or(store::Blob{});
    const std::int64_t version = store::AsInt(row[9]).value_or(0);
    if (entry.seq != expected_seq) {
      return broken(expected_seq, "", "entry " + std::to_string(expected_seq) + " is missing");
    }
    // A v1 entry has no tenant: one given one later was moved into a view.
    if ((version == 1 && !entry.record.tenant.empty()) ||
        (version != 1 && version != kMacVersion)) {
      return broken(entry.seq, entry.record.tenant,
                    "entry " + std::to_string(entry.seq) + " was altered (its version or tenant)");
    }
    SKAP_ASSIGN_OR_RETURN(auto mac, ChainMac(mac_key_.Expose(), previous, entry.seq, entry.at_ms,
                                             entry.record, version));
    if (!ct::Equal(mac, stored)) {
      return broken(entry.seq, entry.record.tenant,
                    "entry " + std::to_string(entry.seq) + " was altered, or an entry before it");
    }
    previous = std::move(mac);
    if (checkpoint && entry.seq == checkpoint->seq && !ct::Equal(previous, checkpoint->head_mac)) {
      return broken(entry.seq, entry.record.tenant,
                    "entry " + std::to_string(entry.seq) + " is not the one checkpoint " +
                        std::to_string(checkpoint->counter) +
                        " recorded: the log was cut and rewritten");
    }
    ++expected_seq;
    ++all;
    if (!tenant || entry.record.tenant == *tenant) ++v.entries;
  }
  const std::int64_t head_seq = head.empty() ? 0 : store::AsInt(head[0][0]).value_or(-1);
  const store::Blob head_mac =
      head.empty() ? store::Blob(kMacSize, 0) : store::AsBlob(head[0][1]).value_or(store::Blob{});
  if (head_seq != all || !ct::Equal(head_mac, previous)) {
    // Who was cut off is unknown: everyone is told, with the count only to the hub.
    v.first_broken_seq = all + 1;
    v.reason = tenant ? std::string("entries were cut off the end of the hub's chain")
                      : "the log ends at entry " + std::to_string(all) + " but its head records " +
                            std::to_string(head_seq) + " entries: entries were cut off the end";
    if (tenant) v.first_broken_seq.reset();
    return v;
  }
  if (checkpoint && all < checkpoint->seq) {
    // Cut off with the head rewound to match: only the checkpoint knows.
    v.first_broken_seq = all + 1;
    v.reason = tenant
                   ? std::string("entries were cut off the end of the hub's chain")
                   : "the log ends at entry " + std::to_string(all) + " but checkpoint " +
                         std::to_string(checkpoint->counter) + " recorded " +
                         std::to_string(checkpoint->seq) + " entries: entries were cut off the end";
    if (tenant) v.first_broken_seq.reset();
    return v;
  }
  v.intact = true;
  return v;
}

Result<std::vector<AuditEntry>> AuditLog::List(const AuditFilter& filter) {
  // One portable statement: each optional filter is "($n IS NULL OR col ...)".
  SKAP_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("SELECT seq, at_ms, actor, action, target, outcome, detail, tenant_id"
                " FROM audit_log"
                " WHERE ($1 IS NULL OR at_ms >= $1) AND ($2 IS NULL OR at_ms < $2)"
                " AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR target = $4)"
                " AND ($5 IS NULL OR action = $5) AND ($7 IS NULL OR tenant_id = $7)"
                " ORDER BY seq LIMIT $6",
                {store::OrNull(filter.since_ms), store::OrNull(filter.until_ms),
                 store::OrNull(filter.actor), store::OrNull(filter.target),
                 store::OrNull(filter.action), filter.limit, store::OrNull(filter.tenant)}));
  std::vector<AuditEntry> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(EntryFromRow(row));
  return out;
}

}  // namespace skap::hub
