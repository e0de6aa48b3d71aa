#include "store/sqlite/sqlite_database.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace skap::store {
namespace {

// kBusyTimeoutMs is how long a statement waits for another connection's
// lock before failing (kUnavailable).
constexpr int kBusyTimeoutMs = 5000;

}  // namespace

SqliteDatabase::~SqliteDatabase() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Unexpected SqliteDatabase::Failure(int code, std::string_view what) {
  ErrorCode kind = ErrorCode::kIoError;
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
      kind = ErrorCode::kFailedPrecondition;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      kind = ErrorCode::kUnavailable;
      break;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_ERROR:
      kind = ErrorCode::kInvalidArgument;
      break;
    default:
      break;
  }
  // errmsg describes the statement or constraint, never the bound values.
  return Unexpected(kind, std::string("sqlite: ") + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path, bool create) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(raw));
  if (rc != SQLITE_OK) {
    return Unexpected(ErrorCode::kIoError,
                      "sqlite: cannot open " + path + ": " +
                          (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  // WAL and its -wal/-shm files inherit the database file's permissions.
  if (chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0) {
    return Unexpected(ErrorCode::kIoError, "chmod " + path + ": " + ErrnoText(errno));
  }
  SKAP_RETURN_IF_ERROR(
      db->ExecuteScript("PRAGMA journal_mode = WAL;"
                        "PRAGMA synchronous = FULL;"
                        "PRAGMA foreign_keys = ON;"
                        "PRAGMA secure_delete = ON;"
                        "PRAGMA journal_size_limit = 0;"));
  sqlite3_busy_timeout(db->db_, kBusyTimeoutMs);
  return db;
}

Result<sqlite3_stmt*> SqliteDatabase::Prepare(std::string_view sql) {
  const std::string key(sql);
  if (auto it = statements_.find(key); it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Failure(rc, "prepare");
  statements_.emplace(key, stmt);
  return stmt;
}

Result<std::int64_t> SqliteDatabase::Run(std::string_view sql, std::initializer_list<Value> params,
                                         std::vector<Row>* rows) {
  SKAP_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
  // Always leave the statement reset and unbound, whatever happens below.
  struct Reset {
    sqlite3_stmt* stmt;
    explicit Reset(sqlite3_stmt* s) : stmt(s) {}
    Reset(const Reset&) = delete;
    Reset& operator=(const Reset&) = delete;
    ~Reset() {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    }
  } reset{stmt};

  if (sqlite3_bind_parameter_count(stmt) != static_cast<int>(params.size())) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "sqlite: statement takes " +
                          std::to_string(sqlite3_bind_parameter_count(stmt)) + " parameters, " +
                          std::to_string(params.size()) + " given");
  }
  int position = 0;
  for (const Value& value : params) {
    ++position;
    // Appended, not "$" + ...: GCC 12 at -O3 warns falsely (-Wrestrict)
    // about operator+ of a literal and a temporary (GCC bug 105329).
    std::string name(1, '$');
    name += std::to_string(position);
    const int index = sqlite3_bind_parameter_index(stmt, name.c_str());
    if (index == 0) {
      return Unexpected(ErrorCode::kInvalidArgument, "sqlite: statement has no parameter " + name);
    }
    int rc = SQLITE_OK;
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
      rc = sqlite3_bind_int64(stmt, index, *i);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else if (const auto* b = std::get_if<Blob>(&value)) {
      // An empty blob must stay a blob, not become NULL.
      rc = b->empty() ? sqlite3_bind_zeroblob(stmt, index, 0)
                      : sqlite3_bind_blob64(stmt, index, b->data(), b->size(), SQLITE_TRANSIENT);
    } else {
      rc = sqlite3_bind_null(stmt, index);
    }
    if (rc != SQLITE_OK) return Failure(rc, "bind");
  }

  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return Failure(rc, "step");
    if (rows == nullptr) continue;
    Row row;
    const int columns = sqlite3_column_count(stmt);
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_TEXT: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          row.emplace_back(
              std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
          break;
        }
        case SQLITE_BLOB: {
          const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, c));
          const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
          row.emplace_back(data == nullptr ? Blob{} : Blob(data, data + size));
          break;
        }
        case SQLITE_NULL:
          row.emplace_back(Null{});
          break;
        default:
          return Unexpected(ErrorCode::kInvalidArgument,
                            "sqlite: floating-point columns are not used by SKAP");
      }
    }
    rows->push_back(std::move(row));
  }
  return static_cast<std::int64_t>(sqlite3_changes64(db_));
}

Result<std::int64_t> SqliteDatabase::Execute(std::string_view sql,
                                             std::initializer_list<Value> params) {
  const std::lock_guard lock(mutex_);
  auto changed = Run(sql, params, nullptr);
  // A statement outside a transaction commits by itself.
  if (changed && *changed > 0 && sqlite3_get_autocommit(db_) != 0) unscrubbed_ = true;
  return changed;
}

Result<std::vector<Row>> SqliteDatabase::Query(std::string_view sql,
                                               std::initializer_list<Value> params) {
  const std::lock_guard lock(mutex_);
  std::vector<Row> rows;
  SKAP_RETURN_IF_ERROR(Run(sql, params, &rows));
  return rows;
}

Result<void> SqliteDatabase::ExecuteScript(std::string_view sql) {
  const std::lock_guard lock(mutex_);
  const std::string script(sql);
  const int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Failure(rc, "exec");
  return Ok();
}

// BEGIN IMMEDIATE takes the write lock at once, so two writers never both
// read and then deadlock on upgrading.
Result<void> SqliteDatabase::BeginTransaction() { return ExecuteScript("BEGIN IMMEDIATE"); }

Result<void> SqliteDatabase::CommitTransaction() {
  const std::lock_guard lock(mutex_);
  const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Failure(rc, "exec");
  unscrubbed_ = true;
  if (std::chrono::steady_clock::now() - scrubbed_at_ >= kScrubInterval) {
    // The commit is durable already: a scrub that fails now is retried by
    // the next commit or timer, and must not read as a failed commit.
    (void)ScrubLocked();
  }
  return Ok();
}

Result<void> SqliteDatabase::RollbackTransaction() { return ExecuteScript("ROLLBACK"); }

std::int64_t SqliteDatabase::changes() {
  const std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(sqlite3_total_changes64(db_));
}

Result<void> SqliteDatabase::ScrubLog() {
  const std::lock_guard lock(mutex_);
  if (sqlite3_get_autocommit(db_) == 0) {
    return Unexpected(ErrorCode::kFailedPrecondition, "sqlite: no scrub inside a transaction");
  }
  if (!unscrubbed_) return Ok();
  return ScrubLocked();
}

Result<void> SqliteDatabase::ScrubLocked() {
  // Tried once per interval, done or not: a reader on another connection
  // (a one-off command, a backup) holding an old snapshot makes the
  // checkpoint wait, and nothing here may wait for it (busy_timeout 0).
  scrubbed_at_ = std::chrono::steady_clock::now();
  sqlite3_busy_timeout(db_, 0);
  std::vector<Row> rows;
  auto ran = Run("PRAGMA wal_checkpoint(TRUNCATE)", {}, &rows);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  SKAP_RETURN_IF_ERROR(ran);
  // (busy, frames in the log, frames checkpointed): busy = 1 means a reader
  // or writer kept the checkpoint from completing, so the log still holds
  // old pages.
  if (rows.empty() || rows[0].empty() || AsInt(rows[0][0]).value_or(1) != 0) {
    return Unexpected(ErrorCode::kUnavailable, "sqlite: the WAL checkpoint could not complete");
  }
  unscrubbed_ = false;
  return Ok();
}

}  // namespace skap::store
