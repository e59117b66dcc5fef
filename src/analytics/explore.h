// The Stats API's queries that the dashboard's own do not answer: several dimensions, time by the
// hour, week or month, filters of every kind and custom properties, counted from the events of the
// range as Plausible counts them:
//
//  - each visit with a pageview in the range has the attributes of its events there: entry and
//    exit page, source, referrer and campaign of its first pageview; country, browser, operating
//    system and device;
//  - filters on an event dimension (event:page, event:props:KEY ...) keep the events that match;
//    filters on a visit dimension keep the events of the visits that match;
//  - event metrics (pageviews, events) count the events kept; visit metrics (visits, bounce_rate,
//    visit_duration) count each visit with an event kept in the group once, with the whole
//    visit's figures; visitors are the distinct visitors of the events kept; views_per_visit is
//    the pageviews kept over the visits; time_on_page and scroll_depth average the engagement
//    events kept; percentage is a group's share of all the visitors the filters keep.
//
// The answer is exact (the rollups' visitor sketches are not used). It is counted in one pass over
// the events of the range, sorted by visitor and visit: a visit's events are read together, so
// what the visit was (entry and exit page, length, bounce) is known before its events are
// counted, and a visitor's visits together, so each group counts a visitor once without keeping
// every visitor it has seen. The store sorts (SQLite into a temporary file, PostgreSQL past its
// work_mem), so memory is the groups' and one visit's events. On a site of millions of events a
// month, it takes seconds. A visit is one visitor's, as Steward records
// them (analytics.h: a visit continued past midnight keeps the visitor it began with).
//
// Filters compare as SQLite does: `is` and `contains` ignoring case by ASCII letters, `matches` by
// PCRE2 (store::Pattern), on either store.
//
// Thread safety: safe for concurrent use (each call reads in its own transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/query_request.h"
#include "core/result.h"
#include "store/store.h"

namespace steward::analytics {

// Groups a query may have at most; more is a 400 asking for fewer dimensions or a filter.
inline constexpr size_t kMaxExploreGroups = 100'000;

struct ExploreRow {
  std::vector<std::string> dimensions;
  std::vector<std::optional<double>> metrics;  // as the request names them; nullopt: nothing to average
};

struct ExploreResult {
  std::vector<ExploreRow> rows;  // ordered, and only the page asked for
  int64_t total_rows = 0;        // before paging
};

// Errors: kInvalidArgument (too many groups) with a message for the client; a store's error.
Result<ExploreResult> Explore(store::Store& store, const QueryRequest& r);

// The labels of `bucket` over the range, in order ("2026-11-02", "2026-11-02 13:00:00", the
// Monday of a week or the range's first day, "2026-11-01" for a month).
std::vector<std::string> TimeLabels(TimeBucket bucket, const DayRange& days);

}  // namespace steward::analytics
