// The schema of the agent's database (agent.db), as numbered migrations: the
// order of versions is here, each table's DDL with the store that owns it.
#pragma once

#include <vector>

#include "keystore/keystore.h"
#include "store/migrations.h"

namespace skap::agent {

// AgentMigrations lists every migration of agent.db in order; those that
// re-encode secrets do it under `kek`.
std::vector<store::Migration> AgentMigrations(keystore::Keystore& kek);

}  // namespace skap::agent
