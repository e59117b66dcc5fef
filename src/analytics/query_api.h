// POST /api/v2/query: the Stats API in the shape of Plausible's v2, for scripts and dashboards
// elsewhere, with bearer keys from ApiKeys.
//
//   {"site_id": "ons.gov.uk", "metrics": ["visitors", "pageviews"], "date_range": "7d",
//    "dimensions": ["event:page"], "filters": [["is", "visit:country", ["GB"]]],
//    "order_by": [["visitors", "desc"]], "pagination": {"limit": 10, "offset": 0}}
//
// answers {"results": [{"metrics": [12, 40], "dimensions": ["/economy"]}, ...], "meta": {...},
// "query": {...}} with the date range resolved. Every field is read and checked by ReadQuery
// (query_request.h): up to four dimensions (event:*, visit:*, event:props:KEY, one time:*),
// filters is/is_not/contains/contains_not/matches/matches_not combined with and, or and not, every
// metric, order_by, pagination and include (total_rows, time_labels; imports refused). A request
// in the dashboard's shape is answered by Stats from the rollups; any other is counted from the
// events by Explore (explore.h), as Plausible counts. docs/analytics.md says it all for users.
// Anything else is a 400 {"error": "..."} that says what is not supported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analytics/api_keys.h"
#include "analytics/stats.h"
#include "core/clock.h"
#include "core/result.h"
#include "http/router.h"
#include "metrics/metrics.h"

namespace steward::analytics {

// Runs one query (the request body). Errors: kInvalidArgument with a message for the client.
Result<std::string> RunQuery(Stats& stats, const std::vector<std::string>& sites, std::string_view body,
                             SystemTime now);

class QueryApi {
 public:
  // Everything must outlive this; `metrics` may be null.
  QueryApi(Stats& stats, ApiKeys& keys, std::vector<std::string> sites, const Clock& clock, metrics::Registry* metrics);
  // POST /api/v2/query.
  void AddRoutes(http::Router& router);
  http::Response Handle(http::Request& req);

 private:
  Stats& stats_;
  ApiKeys& keys_;
  std::vector<std::string> sites_;
  const Clock& clock_;
  metrics::Counter* queries_ = nullptr;
};

}  // namespace steward::analytics
