// A fresh hub database for unit tests: SQLite in a temporary directory, with
// every hub migration applied (under `kek`); null (and a test failure) if
// either fails.
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "hub/schema.h"
#include "keystore/keystore.h"
#include "store/migrations.h"
#include "store/sqlite/sqlite_database.h"
#include "unit/temp_dir.h"

namespace skap::hub {

inline std::unique_ptr<store::SqliteDatabase> OpenTestHubDb(testing::TempDir& dir,
                                                            keystore::Keystore& kek) {
  auto db = store::SqliteDatabase::Open(dir.File("hub.db"), true);
  EXPECT_TRUE(db) << db.error().message;
  if (!db) return nullptr;
  auto migrated = store::Migrate(**db, HubMigrations(kek), SystemClock());
  EXPECT_TRUE(migrated) << migrated.error().message;
  if (!migrated) return nullptr;
  return std::move(*db);
}

}  // namespace skap::hub
