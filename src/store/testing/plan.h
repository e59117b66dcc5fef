// For tests of a query's shape: SQLite's EXPLAIN QUERY PLAN of a statement, one step a line
// ("SEARCH t USING INDEX i (a=? AND b<?)"), read on one of the store's readers. Pairs with
// store::ObserveStatements, which catches the statements a piece of code runs, with their
// parameters, and CaughtStatements, which keeps those that begin a certain way.
#pragma once

#include <string>
#include <utility>
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

// Keeps every statement that begins with one of `prefixes` ("DELETE FROM logs_visitors") from its
// construction to Stop() or its end, with its parameters. One at a time, as ObserveStatements.
class CaughtStatements {
 public:
  explicit CaughtStatements(std::vector<std::string> prefixes)
      : prefixes_(std::move(prefixes)), observer_([this](std::string_view sql, const std::vector<Value>& params) {
          for (const auto& p : prefixes_) {
            if (sql.starts_with(p)) {
              caught_.emplace_back(std::string(sql), params);
              return;
            }
          }
        }) {
    ObserveStatements(&observer_);
  }
  ~CaughtStatements() { Stop(); }
  CaughtStatements(const CaughtStatements&) = delete;
  CaughtStatements& operator=(const CaughtStatements&) = delete;

  void Stop() { ObserveStatements(nullptr); }
  size_t size() const { return caught_.size(); }
  // Each statement caught, its SQL on the first line and then its plan (QueryPlan).
  Result<std::vector<std::string>> Plans(Store& store) const {
    std::vector<std::string> plans;
    for (const auto& [sql, params] : caught_) {
      STEWARD_ASSIGN_OR_RETURN(auto plan, QueryPlan(store, sql, params));
      plans.push_back(sql + "\n" + plan);
    }
    return plans;
  }
  // The plans (as Plans gives them) that scan a table or search by none of `searches` (each a
  // plan's words, "analytics_events_by_site_time (site=? AND ts<?)"): empty when every statement
  // caught reads a range of an intended index. Errors: kNotFound when none was caught.
  Result<std::vector<std::string>> Stray(Store& store, const std::vector<std::string>& searches) const {
    if (caught_.empty()) return MakeError(ErrorCode::kNotFound, "no statement was caught");
    STEWARD_ASSIGN_OR_RETURN(auto plans, Plans(store));
    std::vector<std::string> stray;
    for (auto& plan : plans) {
      bool searched = false;
      for (const auto& s : searches) searched = searched || plan.find(s) != std::string::npos;
      if (plan.find("SCAN ") != std::string::npos || !searched) stray.push_back(std::move(plan));
    }
    return stray;
  }

 private:
  std::vector<std::string> prefixes_;
  std::vector<std::pair<std::string, std::vector<Value>>> caught_;
  StatementObserver observer_;
};

}  // namespace steward::store::testing
