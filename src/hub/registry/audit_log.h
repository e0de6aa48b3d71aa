// The hub's append-only audit log, each entry chained to the previous one by
// an HMAC under a key only the hub holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret_bytes.h"
#include "store/database.h"

namespace skap::hub {

// AuditRecord is what is recorded. `detail` is JSON and must hold no secret.
// `tenant` is the tenant whose auditors and tenant-admins see the entry; ""
// is the hub's own (hub setup, handshakes that proved no one).
struct AuditRecord {
  std::string actor;
  std::string action;
  std::string target;
  std::string outcome = "ok";
  std::string detail = "{}";
  std::string tenant{};
};

// AuditEntry is a stored record with its place in the chain.
struct AuditEntry {
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
  AuditRecord record;
};

// AuditFilter selects entries for List; unset fields match everything.
struct AuditFilter {
  std::optional<std::int64_t> since_ms{};  // at_ms >= since_ms
  std::optional<std::int64_t> until_ms{};  // at_ms < until_ms
  std::optional<std::string> actor{};
  std::optional<std::string> target{};
  std::optional<std::string> action{};
  std::optional<std::string> tenant{};  // only that tenant's entries
  std::int64_t limit = 1000;
};

// AuditVerification is the result of checking the whole chain.
struct AuditVerification {
  bool intact = false;
  std::int64_t entries = 0;  // in the chain (of the tenant, when verified for one)
  std::optional<std::int64_t> first_broken_seq;  // set when !intact
  std::string reason;                            // why, when !intact
};

// AuditCheckpoint anchors the chain's head outside the database, so that a
// database writer who cuts entries off the end and rewinds `audit_head`
// with them is caught by whoever holds a checkpoint:
//   mac = HMAC-SHA-384(K_audit, "skap audit checkpoint v1" ‖ lp(hub_id) ‖
//         u64(counter) ‖ u64(seq) ‖ u64(at_ms) ‖ head_mac)
// where head_mac is mac_seq of the chain. `counter` numbers the checkpoints
// of one checkpoint file (audit_checkpoint.h), so copies can be ordered.
struct AuditCheckpoint {
  std::string hub_id;
  std::int64_t counter = 0;
  std::int64_t seq = 0;  // the chain's length when it was taken
  std::vector<std::uint8_t> head_mac;
  std::int64_t at_ms = 0;
  std::vector<std::uint8_t> mac;
};

// AuditLog appends to and checks the chain
//   mac_0 = 48 zero bytes
//   mac_i = HMAC-SHA-384(K_audit, "skap audit v2" ‖ mac_{i-1} ‖ u64(seq_i) ‖
//           u64(at_ms_i) ‖ lp(actor) ‖ lp(action) ‖ lp(target) ‖ lp(outcome) ‖
//           lp(detail) ‖ lp(tenant))
// with u64 big-endian and lp(x) = u32 big-endian length ‖ x. Entries made
// before schema version 9 carry "skap audit v1" and no tenant (their
// mac_version is 1, and they stay the hub's). The head (last seq and mac)
// is stored beside the log, so deletions anywhere, including at the end,
// break verification, unless the head is rewound with them (a database
// writer can: an AuditCheckpoint taken before catches that).
class AuditLog {
 public:
  // MigrationSql is this class's part of hub.db's schema version `version`
  // (its tables' DDL; hub/schema.cc orders the whole), empty if none.
  static std::string_view MigrationSql(int version);

  // kMacKeySize is the size of K_audit.
  static constexpr std::size_t kMacKeySize = 48;

  AuditLog(store::Database& db, SecretBytes mac_key, Clock now)
      : db_(db), mac_key_(std::move(mac_key)), now_(std::move(now)) {}

  // AppendInCurrentTransaction adds `record` at time `at_ms`; the caller
  // holds a transaction, so the entry commits (or not) with the action it
  // records. Returns the entry's seq.
  Result<std::int64_t> AppendInCurrentTransaction(const AuditRecord& record, std::int64_t at_ms);

  // Append adds `record` now, in a transaction of its own.
  Result<std::int64_t> Append(const AuditRecord& record);

  // Verify walks the whole chain and names the first entry that does not
  // check out. For a tenant (`tenant` set) it walks the same whole chain
  // but counts and names that tenant's entries only: a break elsewhere is
  // reported without saying where.
  // With `checkpoint`, the chain must also still hold the checkpoint's head
  // (its MAC checked first: a forged or foreign checkpoint is kInvalidArgument).
  Result<AuditVerification> Verify(const std::optional<std::string>& tenant = std::nullopt,
                                   const AuditCheckpoint* checkpoint = nullptr);

  // Checkpoint takes a checkpoint of the chain as it stands (`hub_id` and
  // `counter` as the caller numbers them).
  Result<AuditCheckpoint> Checkpoint(const std::string& hub_id, std::int64_t counter);

  // Holds is the quick check a hub makes when it opens: `checkpoint` is
  // authentic and the stored chain still has its head entry, with the MAC it
  // had, and is at least as long. (Verify, with the checkpoint, also
  // recomputes every MAC.)
  Result<void> Holds(const AuditCheckpoint& checkpoint);

  // List returns the entries that match `filter`, oldest first.
  Result<std::vector<AuditEntry>> List(const AuditFilter& filter);

 private:
  Result<void> CheckCheckpoint(const AuditCheckpoint& checkpoint) const;

  store::Database& db_;
  SecretBytes mac_key_;
  Clock now_;
};

}  // namespace skap::hub
