#include "hub/registry/tenants.h"

#include <nlohmann/json.hpp>

#include "crypto/uuid.h"

namespace skap::hub {
namespace {

// This class's part of hub.db's schema (hub/schema.cc orders the whole):
// version 2 made the tenants.
constexpr std::string_view kTenantsV2 = R"sql(CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at_ms BIGINT NOT NULL
);
)sql";

}  // namespace

std::string_view Tenants::MigrationSql(int version) {
  switch (version) {
    case 2:
      return kTenantsV2;
    default:
      return {};
  }
}

Result<std::string> Tenants::Create(const Principal& actor, const std::string& name) {
  std::string id;
  auto done = store::InTransaction(c_.db, [&]() -> Result<void> {
    if (actor.kind != Principal::Kind::kHub) {
      return Denied("only the hub's own setup creates tenants");
    }
    SKAP_RETURN_IF_ERROR(CheckName("tenant", name));
    SKAP_ASSIGN_OR_RETURN(id, crypto::NewUuid(c_.rng));
    SKAP_RETURN_IF_ERROR(c_.db.Execute(
        "INSERT INTO tenants (id, name, created_at_ms) VALUES ($1, $2, $3)", {id, name, c_.now()}));
    return c_.audit.AppendInCurrentTransaction({actor.AuditName(), "tenant.create", id, "ok",
                                                nlohmann::json{{"name", name}}.dump(), id},
                                               c_.now())
               ? Ok()
               : Unexpected(ErrorCode::kIoError, "audit");
  });
  if (!done) return c_.Refuse(actor, "tenant.create", name, std::move(done).error());
  return id;
}

Result<std::string> Tenants::Name(const std::string& tenant_id) {
  SKAP_ASSIGN_OR_RETURN(auto rows,
                        c_.db.Query("SELECT name FROM tenants WHERE id = $1", {tenant_id}));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, "no such tenant");
  return store::AsText(rows[0][0]).value_or("");
}

Result<std::string> Tenants::IdOf(const std::string& name) {
  SKAP_ASSIGN_OR_RETURN(auto rows, c_.db.Query("SELECT id FROM tenants WHERE name = $1", {name}));
  if (rows.empty()) return Unexpected(ErrorCode::kNotFound, "no such tenant");
  return store::AsText(rows[0][0]).value_or("");
}

}  // namespace skap::hub
