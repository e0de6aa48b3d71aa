// Versioned schema migrations.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "store/database.h"

namespace skap::store {

// Migration is one step of a schema's history. Versions start at 1 and
// increase by one; a released migration is never edited, only followed.
struct Migration {
  std::int64_t version;
  std::string_view description;
  std::string_view sql;
  // convert, when set, runs after `sql` in the same transaction: for the
  // rows that SQL alone cannot carry over (a new encoding of a record).
  std::function<Result<void>(Database&)> convert;
};

// Migrate brings the schema up to the last of `migrations`, each step in its
// own transaction, recording it in the schema_migrations table. A database
// whose schema is newer than this program knows is refused
// (kFailedPrecondition) rather than touched. `now` dates each step.
Result<void> Migrate(Database& db, std::span<const Migration> migrations, const Clock& now);

// SchemaVersion returns the highest applied migration (0 for a new database).
Result<std::int64_t> SchemaVersion(Database& db);

}  // namespace skap::store
