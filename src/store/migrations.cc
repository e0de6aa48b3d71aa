#include "store/migrations.h"

#include <string>

namespace skap::store {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY,"
    " description TEXT NOT NULL,"
    " applied_at_ms BIGINT NOT NULL)";

}  // namespace

Result<std::int64_t> SchemaVersion(Database& db) {
  SKAP_RETURN_IF_ERROR(db.Execute(kCreateTable));
  SKAP_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT MAX(version) FROM schema_migrations"));
  if (rows.empty() || rows[0].empty()) return std::int64_t{0};
  return AsInt(rows[0][0]).value_or(0);
}

Result<void> Migrate(Database& db, std::span<const Migration> migrations, const Clock& now) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<std::int64_t>(i + 1)) {
      return Unexpected(ErrorCode::kInvalidArgument, "migrations must be numbered 1, 2, 3, ...");
    }
  }
  SKAP_ASSIGN_OR_RETURN(const std::int64_t current, SchemaVersion(db));
  const auto known = static_cast<std::int64_t>(migrations.size());
  if (current > known) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "database schema is version " + std::to_string(current) +
                          ", newer than this program's " + std::to_string(known) +
                          "; upgrade the program");
  }
  for (const Migration& m : migrations.subspan(static_cast<std::size_t>(current))) {
    SKAP_RETURN_IF_ERROR(InTransaction(db, [&]() -> Result<void> {
      if (auto applied = db.ExecuteScript(m.sql); !applied) {
        return Unexpected(applied.error().code, "migration " + std::to_string(m.version) + " (" +
                                                    std::string(m.description) +
                                                    "): " + applied.error().message);
      }
      if (m.convert) {
        if (auto converted = m.convert(db); !converted) {
          return Unexpected(converted.error().code, "migration " + std::to_string(m.version) +
                                                        " (" + std::string(m.description) +
                                                        "): " + converted.error().message);
        }
      }
      SKAP_RETURN_IF_ERROR(db.Execute(
          "INSERT INTO schema_migrations (version, description, applied_at_ms) VALUES ($1, $2, $3)",
          {m.version, std::string(m.description), now()}));
      return Ok();
    }));
  }
  return Ok();
}

}  // namespace skap::store
