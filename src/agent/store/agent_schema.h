// The schema of the agent's database (agent.db), as numbered migrations: the
// order of versions is here, each table's DDL with the store that owns it.
#pragma once

#include <span>

#include "store/migrations.h"

namespace skap::agent {

// AgentMigrations lists every migration of agent.db in order.
std::span<const store::Migration> AgentMigrations();

}  // namespace skap::agent
