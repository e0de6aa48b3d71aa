// The storage interface every hub component talks to. SQLite implements it
// now; PostgreSQL will, with the same SQL: statements use only portable SQL
// and $1, $2, ... placeholders (which both engines accept).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/value.h"

namespace skap::store {

// Database is one connection. Calls are serialised by the implementation, so
// an object may be shared between threads; transactions belong to the
// connection, so a thread that runs one should own the object meanwhile.
class Database {
 public:
  virtual ~Database() = default;

  // Execute runs a statement that returns no rows and returns how many rows
  // it changed. Constraint violations are kFailedPrecondition.
  virtual Result<std::int64_t> Execute(std::string_view sql,
                                       std::initializer_list<Value> params = {}) = 0;

  // Query runs a statement and returns all its rows.
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         std::initializer_list<Value> params = {}) = 0;

  // ExecuteScript runs several statements without parameters (schema).
  virtual Result<void> ExecuteScript(std::string_view sql) = 0;

  // Begin, Commit and Rollback delimit a transaction. Commit returns only
  // once the transaction is durable.
  virtual Result<void> Begin() = 0;
  virtual Result<void> Commit() = 0;
  virtual Result<void> Rollback() = 0;
};

// InTransaction runs `body` inside a transaction: committed if it succeeds,
// rolled back if it fails (its error is returned).
Result<void> InTransaction(Database& db, const std::function<Result<void>()>& body);

}  // namespace skap::store
