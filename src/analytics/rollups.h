// Rollups: hourly and daily aggregates per site and dimension, so dashboards read a month as 30
// rows per key instead of scanning every event.
//
// Each row holds, for one site, one period (an hour or a UTC day), one dimension ("" for the
// headline, "page", "source", ...) and one key ("/economy", "Google", ...): a visitor sketch
// (sketch.h), the dimension's count (pageviews, visits or events), and for the headline the
// visits, pageviews, bounces and total visit duration, for pages' engagement the engaged time and
// scroll depth. Visit figures belong to the hour a visit began.
//
// Rolling: an hour is rolled once 90 minutes have passed after it ends (visits that began in it
// have ended by then), in one transaction: its hour rows are written and merged into its day's
// rows, and the site's rolled_to mark moves on. Hours due together in one day (catching up) are
// rolled a few to a transaction, their day's rows merged once. Rolling catches up from the first event on a new
// database. Queries read day rows for whole days, hour rows for the rest, and the events after
// rolled_to directly (Window), so nothing is missing while the rollups lag.
//
// Segments: each hour's rows are also kept for each value of the dashboard's filters by source,
// country and device (kSegmentFilters: the values any event of a visit has), under the dimension SegmentPrefix(filter,
// value) + dimension, as day rows only. A filtered dashboard of whole days then reads the day rows
// of its segment as an unfiltered one reads its own, instead of every event of the range.
//
// Page segments: the page filter splits no day (a visit views several pages), so a segment for
// every page would repeat each visit's tables once per page it viewed. A day keeps segments for the
// pages analysts filter by: the kSegmentPages pages with the most pageviews the day before (after
// a day without pageviews, that day's own), chosen when the day's first hour is rolled and recorded
// in analytics_segment_pages. A page-filtered dashboard of whole days each of which kept the page
// reads its segment; any other reads the events.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <array>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "edge/sketch.h"
#include "core/clock.h"
#include "core/result.h"
#include "retention/retention.h"
#include "store/store.h"

namespace steward::analytics {

using edge::VisitorSketch;

inline constexpr int64_t kHourMillis = 3'600'000;
// How long after an hour ends it is rolled, and how far before a window events are read to tell
// where visits began.
inline constexpr int64_t kRollDelayMillis = int64_t{90} * 60'000;
inline constexpr int64_t kVisitLookbackMillis = 2 * kHourMillis;

struct Cell {
  VisitorSketch visitors;
  int64_t count = 0;  // pageviews, visits or events, as the dimension counts
  int64_t visits = 0, pageviews = 0, bounces = 0, duration_ms = 0;      // headline ("")
  int64_t engaged_ms = 0, engaged_n = 0, scroll_sum = 0, scroll_n = 0;  // engagement
  void Merge(const Cell& o);
};
// (dimension, key) -> cell. The dimension "day" (key: the day number) exists only in windows, for
// the daily series of the events not yet rolled.
using Cells = std::map<std::pair<std::string, std::string>, Cell>;

// The dashboard's filters that are rolled up by value: the filter's name and the events' column.
// Each splits a day's visits into a few dozen parts (a visit has one country, device and source),
// so their segments together hold a few times the day's own rows.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kSegmentFilters{
    {{"source", "source"}, {"country", "country"}, {"device", "device"}}};
// The page filter's segments (the events' column "path"): for a day's chosen pages only. On
// bench-query's site a segment for every page would cost 165,000 rows and 20 MB a day against the
// day's own 2,000 rows and 1.6 MB.
inline constexpr std::string_view kPageSegmentFilter = "page";
inline constexpr int64_t kSegmentPages = 50;
// Values longer than this have no segment (their filtered dashboards read the events).
inline constexpr size_t kMaxSegmentValue = 512;
// "country\x1fGB\x1f": what a segment's dimensions begin with; "" when the value has no segment
// (empty, longer than kMaxSegmentValue, or holding the separator).
std::string SegmentPrefix(std::string_view filter, std::string_view value);

// What Window keeps segments for: every value of kSegmentFilters, and these pages.
struct Segments {
  std::unordered_set<std::string> pages;
};

// Aggregates the events of `site` with from_ms <= ts < to_ms (visits: those that began then, with
// their events until visits_until_ms); with `only_visits`, the events of those visits alone. With
// `segments`, each visit's cells also go to each segment of the visit (a visit is in the segment of
// every value its events have, seen from two hours before from_ms to visits_until_ms).
Result<Cells> Window(store::Connection& c, const std::string& site, int64_t from_ms, int64_t to_ms,
                     int64_t visits_until_ms, const std::unordered_set<int64_t>* only_visits = nullptr,
                     const Segments* segments = nullptr);

// The rollup tables (module "analytics-rollups"), and their purge for the retention runner.
std::vector<store::Migration> RollupMigrations();
retention::ModuleStorage RollupStorage();

class Rollups {
 public:
  Rollups(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Rolls every hour of `site` that is due, oldest first. Returns how many.
  Result<int64_t> RollDue(const std::string& site);
  // Hours before this (ms) are rolled; 0 when none are.
  Result<int64_t> RolledTo(const std::string& site);

  // RollDue for each site: the background task, every 30 seconds while serving.
  Status RollAllDue(const std::vector<std::string>& sites);
  // Makes a RollDue in progress stop after its current hour (at shutdown); later calls roll nothing.
  void Stop();

 private:
  // Rolls `hours` hours from first_ms, all in one UTC day, in one transaction: each hour's rows,
  // and their day's rows merged with all of them once.
  Status RollHours(const std::string& site, int64_t first_ms, int64_t hours);
  // At most this many hours a transaction, when many are due (catching up): the day's rows are
  // rewritten once for them, and the writer is not held long.
  static constexpr int64_t kHoursPerRoll = 8;

  store::Store& store_;
  const Clock& clock_;
  std::atomic<bool> stopping_{false};
};

}  // namespace steward::analytics
