// The hub's database schema, as migrations (portable SQL: SQLite now,
// PostgreSQL later).
#pragma once

#include <string_view>
#include <vector>

#include "keystore/keystore.h"
#include "store/migrations.h"

namespace skap::hub {

// HubMigrations returns the hub schema's history, oldest first; version 10
// rewraps the keys under `kek` bound to their rows.
std::vector<store::Migration> HubMigrations(keystore::Keystore& kek);

// HubKeyBinding binds a key of the hub's own (hub_keys) to its name.
keystore::WrapBinding HubKeyBinding(std::string_view name);

}  // namespace skap::hub
