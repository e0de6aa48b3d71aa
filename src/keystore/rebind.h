// Binding the keys that were wrapped before bindings existed (keystore.h):
// the one loop every store's migration runs over its wrapped columns.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "keystore/keystore.h"
#include "store/database.h"

namespace skap::keystore {

// WrappedColumn names one column of wrapped keys, the columns of its row's
// key (one to four: the whole key, so that it names one row), and the
// binding of a row given those key columns' values, in order.
struct WrappedColumn {
  std::string_view table;
  std::string_view column;
  std::vector<std::string_view> key_columns;
  std::function<WrapBinding(const store::Row& key)> binding;
};

// BindWrappedColumn unwraps every non-NULL key of `c` under the bare KEK and
// rewraps it under its row's binding, in the caller's transaction. A key
// that does not unwrap under the bare KEK fails the whole migration
// (kFailedPrecondition, naming the table and column, never the key).
Result<void> BindWrappedColumn(store::Database& db, Keystore& kek, const WrappedColumn& c);

}  // namespace skap::keystore
