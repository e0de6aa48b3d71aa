#include "agent/store/agent_schema.h"

#include <array>
#include <string>

#include "agent/store/agreement_store.h"
#include "agent/store/peer_store.h"
#include "agent/store/session_store.h"

namespace skap::agent {
namespace {

constexpr std::array<std::string_view, 3> kDescriptions = {
    "pairwise agreements and sessions", "a chain per direction", "the peer channel"};

// Sql is schema version `version`: each store's part of it, in the order
// the version first ran them (a released version never changes).
std::string Sql(int version) {
  return std::string(AgreementStore::MigrationSql(version)) +
         std::string(SessionStore::MigrationSql(version)) +
         std::string(PeerStore::MigrationSql(version));
}

}  // namespace

std::span<const store::Migration> AgentMigrations() {
  static const std::array<std::string, kDescriptions.size()> sql = {Sql(1), Sql(2), Sql(3)};
  static const std::array<store::Migration, kDescriptions.size()> migrations = {
      store::Migration{1, kDescriptions[0], sql[0]},
      store::Migration{2, kDescriptions[1], sql[1]},
      store::Migration{3, kDescriptions[2], sql[2]},
  };
  return migrations;
}

}  // namespace skap::agent
