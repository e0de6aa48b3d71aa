// A hub's data directory and everything opened from it.
//
//   DIR/          mode 0700
//     kek         the key-encryption key (file keystore, 0600)
//     hub.db      SQLite database (WAL, 0600): registry, audit log, wrapped keys
//     audit.checkpoint  the audit chain's anchor (skapd run; audit_checkpoint.h)
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "entropy/entropy_service.h"
#include "hub/channel/agreement_relay.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/registry.h"
#include "keystore/file_keystore.h"
#include "store/sqlite/sqlite_database.h"

namespace skap::hub {

// HubNode owns an open hub: store, keystore, entropy, audit log, registry.
class HubNode {
 public:
  // Init creates a new hub in `dir` (created if missing, must not hold a
  // hub already) and returns its id. It draws the hub id, the KEK and the
  // audit key from a freshly started entropy service.
  static Result<std::string> Init(const std::string& dir, const Clock& clock = SystemClock());

  // Open opens the hub in `dir`, upgrading its schema if this program is
  // newer. `clock` is the time every part of the hub reads.
  static Result<std::unique_ptr<HubNode>> Open(const std::string& dir,
                                               const RelayLimits& relay_limits = {},
                                               Clock clock = SystemClock());

  const std::string& hub_id() const { return hub_id_; }
  Registry& registry() { return *registry_; }
  AgreementRelay& relay() { return *relay_; }
  AuditLog& audit() { return *audit_; }
  entropy::EntropyService& entropy() { return *entropy_; }
  keystore::Keystore& keystore() { return *keystore_; }
  // database is the hub's one connection; whoever uses the registry, the
  // relay or the audit log from a thread of its own holds it (Database::Hold).
  store::Database& database() { return *db_; }
  const Clock& clock() const { return clock_; }

 private:
  HubNode() = default;
  std::string hub_id_;
  Clock clock_;
  std::unique_ptr<entropy::EntropyService> entropy_;
  std::unique_ptr<keystore::FileKeystore> keystore_;
  std::unique_ptr<store::SqliteDatabase> db_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<AgreementRelay> relay_;
};

}  // namespace skap::hub
