// For tests of a query's shape: SQLite's EXPLAIN QUERY PLAN of a statement, one step a line
// ("SEARCH t USING INDEX i (a=? AND b<?)"), read on one of the store's readers. Pairs with
// store::ObserveStatements, which catches the statements a piece of code runs, with their
// parameters.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"

namespace steward::store::testing {

inline Result<std::string> QueryPlan(Store& store, const std::string& sql, const std::vector<Value>& params = {}) {
  std::string text;
  STEWARD_RETURN_IF_ERROR(store.Read([&](Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto plan, c.Query("EXPLAIN QUERY PLAN " + sql, params));
    for (const auto& r : plan) text += r.Text(3) + "\n";
    return Ok();
  }));
  return text;
}

}  // namespace steward::store::testing
