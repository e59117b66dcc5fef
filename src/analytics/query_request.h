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
// The dashboard's dimension called `name` ("event:page"), or null: the requests the dashboard's
// own queries answer (from the rollups).
const DimensionSpec* FindDimension(std::string_view name);

inline constexpr int kMaxQueryLimit = 1000;
inline constexpr size_t kMaxQueryBody = size_t{16} * 1024;
inline constexpr size_t kMaxQueryDimensions = 4;

// A filter, as a tree: a leaf compares a dimension with values (any of them matches); and, or
// and not combine filters.
struct QueryFilter {
  enum class Op { kIs, kIsNot, kContains, kContainsNot, kMatches, kMatchesNot, kAnd, kOr, kNot };
  Op op = Op::kIs;
  std::string dimension;  // a leaf's
  std::vector<std::string> values;
  bool case_sensitive = true;
  std::vector<QueryFilter> children;  // and, or, not (one)
};

// A dimension the events are grouped and filtered by: event:page, visit:source, ... (not time:*,
// not event:props:KEY, which has a parameter). Its value is a column of analytics_events: the
// event's own, or its visit's (explore.h says which event of the visit gives it).
struct EventDimension {
  enum class From {
    kEvent,  // the event's
    kEntry,  // the visit's first pageview's
    kExit,   // the visit's last pageview's
    kLeast,  // the least of the visit's events' (they all have the same, from one browser)
  };
  // Which events a group by it counts.
  enum class Only {
    kAny,
    kPagesSeen,   // pageviews and engagement (event:page)
    kNotEngaged,  // every event but engagement (event:hostname, event:name)
    kGoals,       // neither pageviews nor engagement (event:goal)
    kSearches,    // pageviews with a search (event:search)
    kWithAValue,  // those whose value is not empty (visit:referrer, visit:utm_*)
  };
  const char* name;
  const char* column;
  From from;
  const char* empty_as;  // what an empty value is given as ("Direct / None"), or null
  Only only;
};
const EventDimension* FindEventDimension(std::string_view name);
// "event:props:KEY": the key, or "" for other names or a key outside [A-Za-z0-9_-]{1,64}.
std::string_view PropertyKey(std::string_view name);

// Time dimensions group by these; kNone for the others.
enum class TimeBucket { kNone, kHour, kDay, kWeek, kMonth };
// The time dimension called `name` ("time:week"; "time" by the range's length), or kNone.
TimeBucket TimeBucketOf(std::string_view name, const DayRange& days);

struct QueryRequest {
  std::string site;
  std::vector<std::string> metrics, dimensions;
  // The dashboard's shape (no filter, or one visit:country or visit:device `is` with one value; at
  // most one of its dimensions; its metrics): answered by Stats from the rollups, a filter's from
  // its value's segment (query.country or query.device). One event:page `is` is too (query.page)
  // for the headline, and for a visit's dimension with its visitors (and visits, where the
  // dashboard counts them). Anything else is answered from the events (explore.h).
  bool dashboard = false;
  const DimensionSpec* spec = nullptr;  // the one dimension of a dashboard request
  DayRange days;
  Query query;                       // the site and range
  std::vector<QueryFilter> filters;  // all must match
  int limit = kMaxQueryLimit, offset = 0;
  std::vector<std::pair<std::string, bool>> order;  // a metric or dimension, descending
  bool total_rows = false, time_labels = false;     // include
  std::string echo;                                 // the request as JSON, with the site, dates and page resolved
};

// Errors: kInvalidArgument with a message for the client (never quoting more than a field name
// it was given).
Result<QueryRequest> ReadQuery(std::string_view body, const std::vector<std::string>& sites, SystemTime now);

}  // namespace steward::analytics
