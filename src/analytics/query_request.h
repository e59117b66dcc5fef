// A Stats API query (the body of POST /api/v2/query, see query_api.h) read and checked before
// anything is counted: every field, every metric against its dimension, the order and the page.
// Kept apart from the answering so that its fuzzer needs no database.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analytics/stats.h"
#include "core/clock.h"
#include "core/days.h"
#include "core/result.h"

namespace steward::analytics {

struct DimensionSpec {
  const char* name;
  std::optional<Dimension> dimension;  // nullopt: time:day
  const char* count_metric;
};
// The Stats API's dimension called `name` ("event:page"), or null.
const DimensionSpec* FindDimension(std::string_view name);

inline constexpr int kMaxQueryLimit = 1000;
inline constexpr size_t kMaxQueryBody = 16 * 1024;

struct QueryRequest {
  std::string site;
  std::vector<std::string> metrics, dimensions;
  const DimensionSpec* spec = nullptr;  // the dimension; null for the headline
  DayRange days;
  Query query;
  int limit = kMaxQueryLimit, offset = 0;
  std::vector<std::pair<std::string, bool>> order;  // metric ("" for the dimension), descending
  std::string echo;                                 // the request as JSON, with the site, dates and page resolved
};

// Errors: kInvalidArgument with a message for the client (never quoting more than a field name
// it was given).
Result<QueryRequest> ReadQuery(std::string_view body, const std::vector<std::string>& sites, SystemTime now);

}  // namespace steward::analytics
