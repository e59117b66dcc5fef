// The analyst's dashboard (/admin/analytics): what its query string means, and the template data
// and CSV it turns into. Kept apart from admin.cc, which only routes and guards it.
//
// Query string: period = today | 7d | 30d | month | custom (from, to as YYYY-MM-DD, inclusive),
// site (one of the configured domains), and the filters page, source, country, device.
#pragma once

#include <string>
#include <vector>

#include "analytics/stats.h"
#include "core/clock.h"
#include "core/result.h"
#include "html/template.h"
#include "http/request.h"

namespace steward::admin {

struct DashboardRange {
  analytics::Query current, previous;  // the previous period has the same length, just before
  std::string period;                  // as asked for
  std::string label;                   // "Last 7 days (16 to 22 November 2026)"
};

// Errors: kInvalidArgument naming the field (never echoing it) for an unknown period, a bad date,
// a range that ends before it starts or is longer than 2 years, or a site that is not configured.
Result<DashboardRange> ParseDashboardRange(const http::Params& query, const std::vector<std::string>& sites,
                                           SystemTime now);

// The template data for admin_analytics.html.
Result<html::Object> DashboardData(analytics::Stats& stats, const DashboardRange& range,
                                   const std::vector<std::string>& sites, const std::string& query_string);

// A bar chart of days for admin_chart.html: server-rendered SVG bars of each point's first value,
// with every value in a table beside it under `columns` (after "Day"). The analytics dashboard and
// the access-log statistics share it.
struct ChartPoint {
  int64_t day = 0;  // days since 1970-01-01
  std::vector<int64_t> values;
};
html::Object DailyChart(const std::string& title, const std::vector<std::string>& columns,
                        const std::vector<ChartPoint>& points);

// One breakdown as CSV: a header row, then one row per key (up to 1,000).
Result<std::string> DashboardCsv(analytics::Stats& stats, const DashboardRange& range, analytics::Dimension d);

}  // namespace steward::admin
