// For tests: the one value a query such as `SELECT count(*) FROM t` answers, read on one of the
// store's readers.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"

namespace steward::store::testing {

// Errors: the query's; kNotFound when it answers no row.
inline Result<int64_t> Scalar(Store& store, const std::string& sql, const std::vector<Value>& params = {}) {
  int64_t n = 0;
  STEWARD_RETURN_IF_ERROR(store.Read([&](Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "the query answered no row");
    n = rows.front().Int(0);
    return Ok();
  }));
  return n;
}

}  // namespace steward::store::testing
