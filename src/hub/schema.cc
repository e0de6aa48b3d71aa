#include "hub/schema.h"

#include <array>
#include <initializer_list>
#include <string>

#include "hub/channel/agreement_relay.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/channel_keys.h"
#include "hub/registry/devices.h"
#include "hub/registry/networks.h"
#include "hub/registry/operators.h"
#include "hub/registry/tenants.h"
#include "keystore/rebind.h"

namespace skap::hub {
namespace {

// The hub's own tables (HubNode's): the keys it keeps wrapped under its KEK
// (version 1) and its id (version 2).
constexpr std::string_view kHubV1 = R"sql(
CREATE TABLE hub_keys (
  name TEXT PRIMARY KEY,          -- e.g. 'audit-mac'
  wrapped BLOB NOT NULL,          -- RFC 5649 under the keystore's KEK
  created_at_ms BIGINT NOT NULL
);
)sql";
constexpr std::string_view kHubV2 = R"sql(
CREATE TABLE hub_info (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  hub_id TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
)sql";

std::string Join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const auto part : parts) out += part;
  return out;
}

// Sql is schema version `version`: each owner's part of it, in the order
// the version runs them (a table before one that refers to it; a released
// version never changes).
std::string Sql(int version) {
  switch (version) {
    case 1:
      return Join({kHubV1, AuditLog::MigrationSql(1)});
    case 2:
      return Join({kHubV2, Tenants::MigrationSql(2), Networks::MigrationSql(2),
                   Operators::MigrationSql(2), Devices::MigrationSql(2),
                   ChannelKeys::MigrationSql(2)});
    case 3:
      return Join({ChannelKeys::MigrationSql(3), Devices::MigrationSql(3)});
    case 4:
      return Join({Operators::MigrationSql(4)});
    case 5:
      return Join(
          {Networks::MigrationSql(5), Devices::MigrationSql(5), AgreementRelay::MigrationSql(5)});
    case 6:
      return Join({ChannelKeys::MigrationSql(6)});
    case 7:
      return Join({AgreementRelay::MigrationSql(7)});
    case 8:
      return Join({Operators::MigrationSql(8)});
    case 9:
      return Join({AuditLog::MigrationSql(9)});
    case 10:
      return "-- every wrapped key is bound to its row: rows change, the schema does not\n";
    case 11:
      return Join({Operators::MigrationSql(11)});
    case 12:
      return Join({Operators::MigrationSql(12)});
    default:
      return {};
  }
}

constexpr std::array<std::string_view, 12> kDescriptions = {
    "audit log and hub keys",
    "registry",
    "channel key ratchet",
    "operator admin psk",
    "pairwise agreements",
    "the ratchet request belongs to the channel key",
    "the mailbox stores kinds as numbers",
    "operator tokens may expire",
    "audit entries carry their tenant",
    "wrapped keys bound to their rows",
    "dual control",
    "an off request for dual control lapses",
};

}  // namespace

keystore::WrapBinding HubKeyBinding(std::string_view name) {
  return {keystore::kPurposeHubKey, keystore::RowOf({name})};
}

std::vector<store::Migration> HubMigrations(keystore::Keystore& kek) {
  static const auto sql_of = [] {
    std::array<std::string, kDescriptions.size()> sql;
    for (std::size_t i = 0; i < sql.size(); ++i) sql[i] = Sql(static_cast<int>(i + 1));
    return sql;
  }();
  std::vector<store::Migration> out;
  for (std::size_t i = 0; i < sql_of.size(); ++i) {
    out.push_back({static_cast<std::int64_t>(i + 1), kDescriptions[i], sql_of[i], nullptr});
  }
  // Version 10: each owner binds the keys of its tables.
  out[9].convert = [&kek](store::Database& db) -> Result<void> {
    SKAP_RETURN_IF_ERROR(keystore::BindWrappedColumn(
        db, kek, {"hub_keys", "wrapped", {"name"}, [](const store::Row& key) {
                    return HubKeyBinding(store::AsText(key[0]).value_or(""));
                  }}));
    SKAP_RETURN_IF_ERROR(Operators::BindWrappedKeys(db, kek));
    SKAP_RETURN_IF_ERROR(ChannelKeys::BindWrappedKeys(db, kek));
    return AgreementRelay::BindWrappedKeys(db, kek);
  };
  return out;
}

}  // namespace skap::hub
