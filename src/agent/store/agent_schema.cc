#include "agent/store/agent_schema.h"

#include <array>
#include <string>

#include "agent/store/agreement_store.h"
#include "agent/store/peer_store.h"
#include "agent/store/session_store.h"

namespace skap::agent {
namespace {

constexpr std::array<std::string_view, 7> kDescriptions = {"pairwise agreements and sessions",
                                                           "a chain per direction",
                                                           "the peer channel",
                                                           "agreements as one record",
                                                           "agreements' old columns dropped",
                                                           "wrapped keys bound to their rows",
                                                           "keys aged out of the window counted"};

// Sql is schema version `version`: each store's part of it, in the order
// the version first ran them (a released version never changes).
std::string Sql(int version) {
  if (version == 6)
    return "-- every wrapped key is bound to its row: rows change, the schema does not\n";
  return std::string(AgreementStore::MigrationSql(version)) +
         std::string(SessionStore::MigrationSql(version)) +
         std::string(PeerStore::MigrationSql(version));
}

}  // namespace

std::vector<store::Migration> AgentMigrations(keystore::Keystore& kek) {
  static const auto sql = [] {
    std::array<std::string, kDescriptions.size()> out;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = Sql(static_cast<int>(i + 1));
    return out;
  }();
  std::vector<store::Migration> out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    out.push_back({static_cast<std::int64_t>(i + 1), kDescriptions[i], sql[i], nullptr});
  }
  // Version 4 carries the agreements over to their one encoding.
  out[3].convert = [&kek](store::Database& db) {
    return AgreementStore::ConvertToRecords(db, kek);
  };
  // Version 6 binds every wrapped key to its row (keystore/keystore.h).
  out[5].convert = [&kek](store::Database& db) -> Result<void> {
    SKAP_RETURN_IF_ERROR(AgreementStore::BindWrappedKeys(db, kek));
    return SessionStore::BindWrappedKeys(db, kek);
  };
  return out;
}

}  // namespace skap::agent
