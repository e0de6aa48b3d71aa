#include "store/database.h"

namespace skap::store {

Result<void> InTransaction(Database& db, const std::function<Result<void>()>& body) {
  SKAP_RETURN_IF_ERROR(db.Begin());
  if (auto result = body(); !result) {
    (void)db.Rollback();  // the body's error is the one worth reporting
    return result;
  }
  if (auto committed = db.Commit(); !committed) {
    (void)db.Rollback();
    return committed;
  }
  return Ok();
}

}  // namespace skap::store
