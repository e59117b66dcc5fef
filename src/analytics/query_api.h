// POST /api/v2/query: the Stats API in the shape of Plausible's v2, for scripts and dashboards
// elsewhere, with bearer keys from ApiKeys.
//
//   {"site_id": "ons.gov.uk", "metrics": ["visitors", "pageviews"], "date_range": "7d",
//    "dimensions": ["event:page"], "filters": [["is", "visit:country", ["GB"]]],
//    "order_by": [["visitors", "desc"]], "pagination": {"limit": 10, "offset": 0}}
//
// answers {"results": [{"metrics": [12, 40], "dimensions": ["/economy"]}, ...], "meta": {...},
// "query": {...}} with the date range resolved. What Steward answers:
//
//  - date_range: "day", "7d", "30d", "month", "year", or ["YYYY-MM-DD", "YYYY-MM-DD"].
//  - dimensions: none, or one of event:page, event:goal, event:search, visit:entry_page,
//    visit:exit_page, visit:source, visit:referrer, visit:utm_campaign, visit:browser, visit:os,
//    visit:device, visit:country, time:day (time is time:day).
//  - metrics: without a dimension visitors, visits, pageviews, views_per_visit, bounce_rate,
//    visit_duration; with one, visitors and the dimension's count (pageviews for pages, search,
//    referrers, campaigns and devices; visits for entry and exit pages and sources; events for
//    goals); with event:page also time_on_page and scroll_depth.
//  - filters: ["is", D, [value]] for D in event:page, visit:source, visit:country, visit:device;
//    several are ANDed. A visit counts when any of its events matches.
//  - order_by: [[metric or dimension, "asc"|"desc"], ...]; pagination: limit (at most 1,000),
//    offset.
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
