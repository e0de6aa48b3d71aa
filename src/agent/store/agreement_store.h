// Durable records of this device's pairwise agreements (agent.db). A record
// is stored, its secrets wrapped under the local KEK, before anything it
// produced leaves the device, so an agent restarted at any step carries on
// from where it was: it resends what the hubs may not have, and it never
// draws a second contribution for the same sid.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "keystore/keystore.h"
#include "pairwise/agreement.h"
#include "skap/endpoint.h"
#include "store/database.h"

namespace skap::agent {

// AgreementStateName is how a state is stored and shown: "running",
// "confirmed", "failed".
std::string_view AgreementStateName(AgreementState state);

// AgreementRecord is one agreement as the engine keeps it.
struct AgreementRecord {
  pairwise::AgreementParams params;
  pairwise::Role role = pairwise::Role::kInitiator;
  std::string peer;
  AgreementState state = AgreementState::kRunning;
  // The state machine, while running.
  std::optional<pairwise::Agreement> agreement;
  // What to send the peer through every hub (public): tags, or a refusal.
  std::vector<pairwise::Tag> tags_out;
  std::string refusal_out;
  // With a refusal: its kind, this side's session epoch with the peer, and
  // its MAC under that session (empty without one): pairwise::RefusalMac.
  pairwise::RefusalKind refusal_kind = pairwise::RefusalKind::kOther;
  std::uint64_t refusal_epoch = 0;
  std::vector<std::uint8_t> refusal_mac;
  // The hubs whose shares disagreed with the confirmed value, and check
  // values of the shares still to come (pairwise::MissingShareChecks).
  std::vector<unsigned> inconsistent_hubs;
  std::map<unsigned, pairwise::ShareCheckValue> share_checks;
  // Why it failed, or what it waits for.
  std::string reason;
  std::int64_t created_at_ms = 0;
};

class AgreementStore {
 public:
  // MigrationSql is this store's part of agent.db's schema version
  // `version` (its tables' DDL; agent_schema.h orders the whole), empty if
  // it has none.
  static std::string_view MigrationSql(int version);
  // ConvertToRecords rewrites every row of schema version 3 (header, JSON
  // state, packed secrets) as one AgreementRecord, its secrets wrapped one by
  // one under `kek`: schema version 4's conversion.
  static Result<void> ConvertToRecords(store::Database& db, keystore::Keystore& kek);
  // BindWrappedKeys binds the secrets of running agreements wrapped before
  // bindings to their rows (schema version 6; keystore/keystore.h).
  static Result<void> BindWrappedKeys(store::Database& db, keystore::Keystore& kek);

  AgreementStore(store::Database& db, keystore::Keystore& kek, Clock now)
      : db_(db), kek_(kek), now_(std::move(now)) {}

  // SaveInCurrentTransaction stores (or replaces) a record; the caller holds
  // a transaction.
  Result<void> SaveInCurrentTransaction(const AgreementRecord& record);
  // Save stores a record in a transaction of its own.
  Result<void> Save(const AgreementRecord& record);
  // Load returns the record of `sid`, if any.
  Result<std::optional<AgreementRecord>> Load(const pairwise::AgreementId& sid);
  // LoadLive returns the records an agent must still act on: running ones,
  // and ended ones whose tags or refusal may still be on their way (until
  // `grace_ms` after expiry).
  Result<std::vector<AgreementRecord>> LoadLive(std::int64_t grace_ms);
  // Recent returns the newest records, newest first, without secrets.
  Result<std::vector<AgreementRecord>> Recent(std::int64_t limit);
  // Purge forgets records that ended and expired before `before_ms`.
  Result<std::int64_t> Purge(std::int64_t before_ms);

 private:
  Result<AgreementRecord> FromRow(const store::Row& row, bool with_secrets);

  store::Database& db_;
  keystore::Keystore& kek_;
  Clock now_;
};

}  // namespace skap::agent
