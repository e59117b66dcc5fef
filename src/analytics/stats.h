// The numbers analysts read: headline metrics, breakdowns and a daily series, over a date range
// with optional filters, computed from the stored events.
//
//   analytics::Stats stats(store);
//   auto headline = stats.Aggregate({.site = "ons.gov.uk", .from_ms = a, .to_ms = b});
//   auto pages = stats.Breakdown(query, analytics::Dimension::kPage, 10);
//
// Without filters the numbers come from the rollups (rollups.h) and the events not yet rolled:
// visitors are then a sketch's estimate (exact up to 256, then within about 2%), visits belong to
// the hour they began, and a breakdown ranks its keys by their count before counting the visitors
// of the leading ones. A filter keeps whole visits: a visit is kept when any of its events matches
// each filter. With one filter over whole days, the numbers come from the filter value's segment
// (rollups.h), read as the unfiltered rollups are. With several filters, or days rolled before
// segments were, from one pass over the events of the visits the filters keep, counted as the
// rollups count and kept 30 seconds, so a dashboard's every table costs one pass. With
// Query::raw, each comes from its own SQL over the events.
//
// Definitions (as Plausible's): a visitor is a distinct visitor hash; a visit is a run of events
// with no gap over 30 minutes; bounce rate is the share of visits with one pageview and no
// interactive custom event; visit duration is the time from a visit's first to its last event;
// time on page is the mean engaged time the tracker reports for the page.
//
// Thread safety: safe for concurrent use (reads only).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/days.h"
#include "core/result.h"
#include "store/store.h"

namespace steward::analytics {

struct Query {
  std::string site;
  int64_t from_ms = 0;  // inclusive
  int64_t to_ms = 0;    // exclusive
  // Filters: visits with an event whose value is exactly this ("" = any).
  std::string page, source, country, device;
  // Each answer from its own SQL over the events, not from the rollups or the filtered pass.
  bool raw = false;
  bool Filtered() const { return !page.empty() || !source.empty() || !country.empty() || !device.empty(); }
};

struct Headline {
  int64_t visitors = 0;
  int64_t visits = 0;
  int64_t pageviews = 0;
  double views_per_visit = 0;
  double bounce_rate = 0;       // 0..1
  double visit_duration_s = 0;  // mean
};

enum class Dimension {
  kPage,
  kEntryPage,
  kExitPage,
  kSource,
  kReferrer,
  kCampaign,
  kBrowser,
  kOs,
  kDevice,
  kCountry,
  kEvent,
  kEventProperty,
  kSearch,
  kSearchNoResults,
  kEngagement,
};
// "page", "entry_page", ...; for CSV names and the query API.
std::string_view DimensionName(Dimension d);
std::optional<Dimension> ParseDimension(std::string_view name);

struct BreakdownRow {
  std::string key;  // the page, source, event name, "event: property = value", ...
  int64_t visitors = 0;
  int64_t count = 0;        // pageviews, visits (entry/exit/source), events or searches
  double mean_seconds = 0;  // kEngagement: time on page
  double mean_scroll = 0;   // kEngagement: scroll depth %
};

struct DayPoint {
  int64_t day = 0;  // days since 1970-01-01 (UTC)
  int64_t visitors = 0;
  int64_t pageviews = 0;
};

// Days and periods (core/days.h), as analytics has always named them.
using ::steward::DayRange;
using ::steward::DayText;
using ::steward::kDayMillis;
using ::steward::ParseDay;
using ::steward::ResolvePeriod;

struct Cell;

class Stats {
 public:
  explicit Stats(store::Store& store) : store_(store) {}

  Result<Headline> Aggregate(const Query& q);
  // The top `limit` rows, most visitors first.
  Result<std::vector<BreakdownRow>> Breakdown(const Query& q, Dimension d, int limit = 10);
  // One point per day of the range, days without events included.
  Result<std::vector<DayPoint>> Daily(const Query& q);

  store::Store& store() { return store_; }

 private:
  Result<Headline> AggregateEvents(const Query& q);
  Result<std::vector<BreakdownRow>> BreakdownEvents(const Query& q, Dimension d, int limit);
  Result<std::vector<DayPoint>> DailyEvents(const Query& q);
  // From the rollups' rows; with a segment (SegmentPrefix), from that segment's day rows, the
  // events after them read for the segment's visits.
  Result<Headline> AggregateRollups(const Query& q, const std::string& segment);
  Result<std::vector<BreakdownRow>> BreakdownRollups(const Query& q, Dimension d, int limit,
                                                     const std::string& segment);
  Result<std::vector<DayPoint>> DailyRollups(const Query& q, const std::string& segment);
  // The segment that answers a filtered query: one filter, whole days, all rolled with segments
  // (analytics_rollup_state.segments_from). "" when none does.
  Result<std::string> RolledSegment(const Query& q);

  // What a range reads: whole days, single hours and the events after the rollups.
  struct Plan {
    int64_t days_from = 0, days_to = 0;              // day rows with start in [from, to)
    std::vector<std::pair<int64_t, int64_t>> hours;  // hour rows with start in each [from, to)
    int64_t tail_from = 0, tail_to = 0;              // events, when tail_from < tail_to
  };
  // A segment's plan reads day rows only, the day rolled_to falls in included (its row holds the
  // hours rolled), and the events after rolled_to.
  Result<Plan> MakePlan(store::Connection& c, const Query& q, const std::string& segment);
  // The events after the rollups, aggregated (a segment's: its visits' events); kept a second, as a
  // dashboard asks many questions.
  Result<std::shared_ptr<const std::map<std::pair<std::string, std::string>, Cell>>> Tail(store::Connection& c,
                                                                                          const Query& q,
                                                                                          const Plan& plan,
                                                                                          const std::string& segment);

  // A filtered range, every table at once: the visits each filter keeps, then one pass over their
  // events (Window). Kept 30 seconds, as a dashboard asks every table of a range at once.
  Result<std::shared_ptr<const std::map<std::pair<std::string, std::string>, Cell>>> FilteredCells(const Query& q);
  static constexpr std::chrono::seconds kFilteredFor{30};

  store::Store& store_;
  std::mutex tail_mu_;
  struct CachedTail {
    std::chrono::steady_clock::time_point at;
    std::shared_ptr<const std::map<std::pair<std::string, std::string>, Cell>> cells;
  };
  std::map<std::tuple<std::string, int64_t, int64_t, std::string>, CachedTail> tails_;
  std::map<std::tuple<std::string, int64_t, int64_t, std::string, std::string, std::string, std::string>, CachedTail>
      filtered_;
};

}  // namespace steward::analytics
