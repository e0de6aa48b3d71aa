// The hub's database schema, as migrations (portable SQL: SQLite now,
// PostgreSQL later).
#pragma once

#include <span>

#include "store/migrations.h"

namespace skap::hub {

// HubMigrations returns the hub schema's history, oldest first.
std::span<const store::Migration> HubMigrations();

}  // namespace skap::hub
