#include "keystore/rebind.h"

#include <string>

namespace skap::keystore {

Result<void> BindWrappedColumn(store::Database& db, Keystore& kek, const WrappedColumn& c) {
  const auto n = c.key_columns.size();
  if (n == 0 || n > 4) {
    return Unexpected(ErrorCode::kInvalidArgument, "a wrapped column's row key has 1 to 4 columns");
  }
  const std::string column(c.column);
  const std::string table(c.table);
  std::string select = "SELECT ";
  std::string update = "UPDATE " + table + " SET " + column + " = $1 WHERE ";
  for (std::size_t i = 0; i < n; ++i) {
    const std::string key(c.key_columns[i]);
    select += key + ", ";
    if (i > 0) update += " AND ";
    update += key + " = $" + std::to_string(i + 2);
  }
  select += column + " FROM " + table + " WHERE " + column + " IS NOT NULL";
  SKAP_ASSIGN_OR_RETURN(auto rows, db.Query(select));
  const std::string named = table + "." + column;
  for (auto& row : rows) {
    const auto wrapped = store::AsBlob(row[n]);
    if (!wrapped) {
      return Unexpected(ErrorCode::kMalformedInput, named + " holds no blob");
    }
    auto key = kek.UnwrapUnbound(*wrapped);
    if (!key) {
      // Refused (the keystore takes no unbound key any more), or not a key
      // wrapped under this KEK at all.
      return Unexpected(ErrorCode::kFailedPrecondition,
                        key.error().code == ErrorCode::kFailedPrecondition
                            ? named + ": " + key.error().message
                            : named + " holds a key that does not unwrap under the KEK");
    }
    row.resize(n);
    SKAP_ASSIGN_OR_RETURN(const auto bound, kek.Wrap(key->Expose(), c.binding(row)));
    const store::Blob value(bound.begin(), bound.end());
    Result<std::int64_t> changed = 0;
    switch (n) {
      case 1:
        changed = db.Execute(update, {value, row[0]});
        break;
      case 2:
        changed = db.Execute(update, {value, row[0], row[1]});
        break;
      case 3:
        changed = db.Execute(update, {value, row[0], row[1], row[2]});
        break;
      default:
        changed = db.Execute(update, {value, row[0], row[1], row[2], row[3]});
        break;
    }
    if (!changed) return Unexpected(std::move(changed).error());
    // The row key names exactly this row (a NULL key column names none, a
    // partial key several): anything else would leave or copy a key.
    if (*changed != 1) {
      return Unexpected(
          ErrorCode::kFailedPrecondition,
          named + ": a row key that names " + std::to_string(*changed) + " rows, not one");
    }
  }
  return Ok();
}

}  // namespace skap::keystore
