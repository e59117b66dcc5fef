// The analyst's dashboard (/admin/analytics): what its query string means, and the template data
// and CSV it turns into. Kept apart from the page handlers (staff_pages.cc), which only route.
//
// Query string: period = today | 7d | 30d | month | custom (from, to as YYYY-MM-DD, inclusive),
// site (one of the configured domains), and the filters page, source, country, device.
#pragma once

#include <string>
#include <vector>

#include "analytics/stats.h"
#include "module/staff_page.h"
#include "core/clock.h"
#include "core/result.h"
#include "html/template.h"
#include "http/request.h"

namespace steward::analytics {

struct DashboardRange {
  Query current, previous;  // the previous period has the same length, just before
  std::string period;       // as asked for
  std::string label;        // "Last 7 days (16 to 22 November 2026)"
};

// Errors: kInvalidArgument naming the field (never echoing it) for an unknown period, a bad date,
// a range that ends before it starts or is longer than 2 years, or a site that is not configured.
Result<DashboardRange> ParseDashboardRange(const http::Params& query, const std::vector<std::string>& sites,
                                           SystemTime now);

// The template data for admin_analytics.html.
Result<html::Object> DashboardData(Stats& stats, const DashboardRange& range, const std::vector<std::string>& sites,
                                   const std::string& query_string);

// One breakdown as CSV: a header row, then one row per key (up to 1,000).
Result<std::string> DashboardCsv(Stats& stats, const DashboardRange& range, Dimension d);

}  // namespace steward::analytics
