#include "analytics/stats.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "analytics/rollups.h"

namespace steward::analytics {
namespace {

constexpr struct {
  Dimension d;
  const char* name;
} kDimensions[] = {
    {Dimension::kPage, "page"},
    {Dimension::kEntryPage, "entry_page"},
    {Dimension::kExitPage, "exit_page"},
    {Dimension::kSource, "source"},
    {Dimension::kReferrer, "referrer"},
    {Dimension::kCampaign, "utm_campaign"},
    {Dimension::kBrowser, "browser"},
    {Dimension::kOs, "os"},
    {Dimension::kDevice, "device"},
    {Dimension::kCountry, "country"},
    {Dimension::kEvent, "event"},
    {Dimension::kEventProperty, "event_property"},
    {Dimension::kSearch, "search"},
    {Dimension::kSearchNoResults, "search_no_results"},
    {Dimension::kEngagement, "engagement"},
};

// "site = ? AND ts >= ? AND ts < ?" and the filters, as whole visits: a visit is kept when any of
// its events matches every filter (a visit that viewed the page, came from the source, ...).
struct Where {
  std::string sql;
  std::vector<store::Value> params;
};

// Each filter of a query: the events' column and the value it must have.
std::vector<std::pair<const char*, const std::string*>> Filters(const Query& q) {
  std::vector<std::pair<const char*, const std::string*>> out;
  for (auto [column, value] : {std::pair<const char*, const std::string*>{"path", &q.page},
                               {"source", &q.source},
                               {"country", &q.country},
                               {"device", &q.device}}) {
    if (!value->empty()) out.emplace_back(column, value);
  }
  return out;
}

Where Build(const Query& q) {
  Where w{"site = ? AND ts >= ? AND ts < ?", {q.site, q.from_ms, q.to_ms}};
  for (const auto& [column, value] : Filters(q)) {
    w.sql +=
        std::string(" AND visit IN (SELECT visit FROM analytics_events WHERE site = ? AND ts >= ? AND ts < ? AND ") +
        column + " = ?)";
    w.params.insert(w.params.end(), {q.site, q.from_ms, q.to_ms, *value});
  }
  return w;
}

// The column a simple dimension groups by, over pageviews.
const char* Column(Dimension d) {
  switch (d) {
    case Dimension::kPage:
      return "path";
    case Dimension::kReferrer:
      return "referrer";
    case Dimension::kCampaign:
      return "utm_campaign";
    case Dimension::kBrowser:
      return "browser";
    case Dimension::kOs:
      return "os";
    case Dimension::kDevice:
      return "device";
    case Dimension::kCountry:
      return "country";
    case Dimension::kSearch:
      return "search";
    default:
      return nullptr;
  }
}

}  // namespace

std::string_view DimensionName(Dimension d) {
  for (const auto& x : kDimensions) {
    if (x.d == d) return x.name;
  }
  return "";
}

std::optional<Dimension> ParseDimension(std::string_view name) {
  for (const auto& x : kDimensions) {
    if (x.name == name) return x.d;
  }
  return std::nullopt;
}

Result<Headline> Stats::AggregateEvents(const Query& q) {
  Where w = Build(q);
  Headline h;
  // Privacy: analytics-events, read as aggregates only.
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    std::string sql =
        "WITH v AS (SELECT visit, min(visitor) AS visitor, max(ts) - min(ts) AS duration, "
        "sum(CASE WHEN name = 'pageview' THEN 1 ELSE 0 END) AS pageviews, "
        "sum(CASE WHEN name NOT IN ('pageview', 'engagement') AND interactive = 1 THEN 1 ELSE 0 END) AS interactions "
        "FROM analytics_events WHERE " +
        w.sql +
        " GROUP BY visit) "
        "SELECT count(DISTINCT visitor), count(*), coalesce(sum(pageviews), 0), "
        "coalesce(avg(CASE WHEN pageviews <= 1 AND interactions = 0 THEN 1.0 ELSE 0.0 END), 0), "
        "coalesce(avg(duration), 0) FROM v WHERE pageviews > 0";
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(sql, w.params));
    const auto& r = rows.front();
    h.visitors = r.Int(0);
    h.visits = r.Int(1);
    h.pageviews = r.Int(2);
    h.bounce_rate = r.Real(3);
    h.visit_duration_s = r.Real(4) / 1000.0;
    h.views_per_visit = h.visits > 0 ? static_cast<double>(h.pageviews) / static_cast<double>(h.visits) : 0;
    return Ok();
  }));
  return h;
}

Result<std::vector<BreakdownRow>> Stats::BreakdownEvents(const Query& q, Dimension d, int limit) {
  Where w = Build(q);
  std::string sql;
  std::vector<store::Value> params = w.params;
  switch (d) {
    case Dimension::kEntryPage:
    case Dimension::kExitPage:
    case Dimension::kSource: {
      // The first (or last) pageview of each visit.
      std::string order = d == Dimension::kExitPage ? "ts DESC, id DESC" : "ts, id";
      std::string key = d == Dimension::kSource ? "CASE WHEN source = '' THEN 'Direct / None' ELSE source END" : "path";
      sql = "SELECT " + key +
            ", count(DISTINCT visitor), count(*), 0, 0 FROM (SELECT visitor, path, source, "
            "row_number() OVER (PARTITION BY visit ORDER BY " +
            order + ") AS n FROM analytics_events WHERE " + w.sql +
            " AND name = 'pageview') AS firsts WHERE n = 1 GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
      break;
    }
    case Dimension::kEvent:
      sql = "SELECT name, count(DISTINCT visitor), count(*), 0, 0 FROM analytics_events WHERE " + w.sql +
            " AND name NOT IN ('pageview', 'engagement') GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
      break;
    case Dimension::kEventProperty:
      // Poll answers and other custom properties: "Poll answer: answer = yes".
      sql =
          "SELECT name || ': ' || p.key || ' = ' || p.value, count(DISTINCT visitor), count(*), 0, 0 "
          "FROM analytics_events, json_each(CASE WHEN props = '' THEN '{}' ELSE props END) AS p WHERE " +
          w.sql + " AND name NOT IN ('pageview', 'engagement') GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
      break;
    case Dimension::kSearchNoResults:
      // Searches on pages that said they found nothing (the tracker's search_results property).
      sql = "SELECT search, count(DISTINCT visitor), count(*), 0, 0 FROM analytics_events WHERE " + w.sql +
            " AND name = 'pageview' AND search != '' AND props != '' AND "
            "CAST(json_extract(props, '$.search_results') AS TEXT) = '0' GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
      break;
    case Dimension::kEngagement:
      sql =
          "SELECT path, count(DISTINCT visitor), count(*), avg(engaged_ms) / 1000.0, avg(scroll_depth) "
          "FROM analytics_events WHERE " +
          w.sql +
          " AND name = 'engagement' GROUP BY 1 "
          "ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
      break;
    default: {
      const char* column = Column(d);
      // Searches, referrers and campaigns list only what there was; the device dimensions say
      // "(not known)" for what could not be told.
      bool only_present = d == Dimension::kSearch || d == Dimension::kReferrer || d == Dimension::kCampaign;
      sql = std::string("SELECT CASE WHEN ") + column + " = '' THEN '(not known)' ELSE " + column +
            " END, count(DISTINCT visitor), count(*), 0, 0 FROM analytics_events WHERE " + w.sql +
            " AND name = 'pageview'" + (only_present ? std::string(" AND ") + column + " != ''" : "") +
            " GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
    }
  }
  params.emplace_back(static_cast<int64_t>(limit));
  std::vector<BreakdownRow> out;
  // Privacy: analytics-events, read as aggregates only.
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) {
    return c.ForEach(sql, params, [&](const store::Row& r) {
      out.push_back({r.Text(0), r.Int(1), r.Int(2), r.Real(3), r.Real(4)});
      return true;
    });
  }));
  return out;
}

Result<std::vector<DayPoint>> Stats::DailyEvents(const Query& q) {
  Where w = Build(q);
  std::map<int64_t, DayPoint> by_day;
  auto day_of = [](int64_t ms) { return ms >= 0 ? ms / 86'400'000 : (ms - 86'399'999) / 86'400'000; };
  for (int64_t d = day_of(q.from_ms); d <= day_of(q.to_ms - 1) && by_day.size() < 400; ++d) by_day[d] = {d, 0, 0};
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) {
    return c.ForEach("SELECT ts / 86400000, count(DISTINCT visitor), count(*) FROM analytics_events WHERE " + w.sql +
                         " AND name = 'pageview' GROUP BY 1",
                     w.params, [&](const store::Row& r) {
                       by_day[r.Int(0)] = {r.Int(0), r.Int(1), r.Int(2)};
                       return true;
                     });
  }));
  std::vector<DayPoint> out;
  out.reserve(by_day.size());
  for (const auto& [d, p] : by_day) out.push_back(p);
  return out;
}

// ---- From the rollups ------------------------------------------------------------------------

namespace {

// Ranges that do not start and end on whole hours need the events (filtered ones take Segment first).
bool Raw(const Query& q) { return q.raw || q.from_ms % kHourMillis != 0 || q.to_ms % kHourMillis != 0; }

// A filtered range is read once for every table (FilteredCells), unless the events' own SQL is asked for.
bool Segment(const Query& q) { return !q.raw && q.Filtered(); }

Headline HeadlineOf(const Cell& total) {
  Headline h;
  h.visitors = total.visitors.Estimate();
  h.visits = total.visits;
  h.pageviews = total.pageviews;
  if (h.visits > 0) {
    double visits = static_cast<double>(h.visits);
    h.views_per_visit = static_cast<double>(h.pageviews) / visits;
    h.bounce_rate = static_cast<double>(total.bounces) / visits;
    h.visit_duration_s = static_cast<double>(total.duration_ms) / visits / 1000.0;
  }
  return h;
}

BreakdownRow RowOf(const std::string& key, const Cell& cell) {
  BreakdownRow row{key, cell.visitors.Estimate(), cell.count, 0, 0};
  if (cell.engaged_n > 0)
    row.mean_seconds = static_cast<double>(cell.engaged_ms) / static_cast<double>(cell.engaged_n) / 1000.0;
  if (cell.scroll_n > 0) row.mean_scroll = static_cast<double>(cell.scroll_sum) / static_cast<double>(cell.scroll_n);
  return row;
}

// Most visitors first, then the most counted, then by key; the first `limit`.
void Rank(std::vector<BreakdownRow>& rows, int limit) {
  std::sort(rows.begin(), rows.end(), [](const BreakdownRow& a, const BreakdownRow& b) {
    if (a.visitors != b.visitors) return a.visitors > b.visitors;
    if (a.count != b.count) return a.count > b.count;
    return a.key < b.key;
  });
  if (rows.size() > static_cast<size_t>(limit)) rows.resize(static_cast<size_t>(limit));
}

int64_t DayOf(int64_t ms) { return ms >= 0 ? ms / kDayMillis : (ms - kDayMillis + 1) / kDayMillis; }

}  // namespace

Result<Headline> Stats::Aggregate(const Query& q) {
  if (Segment(q)) {
    STEWARD_ASSIGN_OR_RETURN(std::string segment, RolledSegment(q));
    if (!segment.empty()) return AggregateRollups(q, segment);
    STEWARD_ASSIGN_OR_RETURN(auto cells, FilteredCells(q));
    auto it = cells->find({"", ""});
    return it == cells->end() ? Headline{} : HeadlineOf(it->second);
  }
  return Raw(q) ? AggregateEvents(q) : AggregateRollups(q, "");
}

Result<std::vector<BreakdownRow>> Stats::Breakdown(const Query& q, Dimension d, int limit) {
  if (Segment(q)) {
    STEWARD_ASSIGN_OR_RETURN(std::string segment, RolledSegment(q));
    if (!segment.empty()) return BreakdownRollups(q, d, limit, segment);
    STEWARD_ASSIGN_OR_RETURN(auto cells, FilteredCells(q));
    std::string dimension(DimensionName(d));
    std::vector<BreakdownRow> rows;
    for (auto it = cells->lower_bound({dimension, ""}); it != cells->end() && it->first.first == dimension; ++it)
      rows.push_back(RowOf(it->first.second, it->second));
    Rank(rows, limit);
    return rows;
  }
  return Raw(q) ? BreakdownEvents(q, d, limit) : BreakdownRollups(q, d, limit, "");
}

Result<std::vector<DayPoint>> Stats::Daily(const Query& q) {
  if (Segment(q)) {
    STEWARD_ASSIGN_OR_RETURN(std::string segment, RolledSegment(q));
    if (!segment.empty()) return DailyRollups(q, segment);
    STEWARD_ASSIGN_OR_RETURN(auto cells, FilteredCells(q));
    std::vector<DayPoint> out;
    for (int64_t d = DayOf(q.from_ms); d <= DayOf(q.to_ms - 1) && out.size() < 400; ++d) {
      auto it = cells->find({"day", std::to_string(d)});
      out.push_back(it == cells->end() ? DayPoint{d, 0, 0}
                                       : DayPoint{d, it->second.visitors.Estimate(), it->second.count});
    }
    return out;
  }
  return Raw(q) ? DailyEvents(q) : DailyRollups(q, "");
}

Result<std::shared_ptr<const Cells>> Stats::FilteredCells(const Query& q) {
  auto key = std::make_tuple(q.site, q.from_ms, q.to_ms, q.page, q.source, q.country, q.device);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(tail_mu_);
    auto it = filtered_.find(key);
    if (it != filtered_.end() && now - it->second.at < kFilteredFor) return it->second.cells;
  }
  Cells cells;
  // Privacy: analytics-events, read to aggregate; only counts and sketches leave.
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    // The visits each filter keeps (any of their events matches), then those all keep.
    std::optional<std::unordered_set<int64_t>> kept;
    for (const auto& [column, value] : Filters(q)) {
      std::unordered_set<int64_t> visits;
      STEWARD_RETURN_IF_ERROR(c.ForEach(
          std::string("SELECT DISTINCT visit FROM analytics_events WHERE site = ? AND ts >= ? AND ts < ? AND ") +
              column + " = ?",
          {q.site, q.from_ms, q.to_ms, *value}, [&](const store::Row& r) {
            if (!kept || kept->contains(r.Int(0))) visits.insert(r.Int(0));
            return true;
          }));
      kept = std::move(visits);
    }
    STEWARD_ASSIGN_OR_RETURN(cells, Window(c, q.site, q.from_ms, q.to_ms, q.to_ms, &*kept));
    return Ok();
  }));
  auto shared = std::make_shared<const Cells>(std::move(cells));
  std::lock_guard<std::mutex> lock(tail_mu_);
  std::erase_if(filtered_, [&](const auto& kv) { return now - kv.second.at >= kFilteredFor; });
  if (filtered_.size() < 4) filtered_[key] = {now, shared};
  return shared;
}

Result<std::string> Stats::RolledSegment(const Query& q) {
  auto filters = Filters(q);
  // One filter, whole days: a segment's day rows. Several filters read the events (FilteredCells).
  if (filters.size() != 1 || q.from_ms % kDayMillis != 0 || q.to_ms % kDayMillis != 0) return std::string();
  auto [column, value] = filters.front();
  bool page = std::string_view(column) == "path";
  std::string prefix = page ? SegmentPrefix(kPageSegmentFilter, *value) : std::string();
  for (const auto& [filter, filter_column] : kSegmentFilters) {
    if (filter_column == column) prefix = SegmentPrefix(filter, *value);
  }
  if (prefix.empty()) return prefix;
  bool covered = false;
  STEWARD_RETURN_IF_ERROR(store_.Read([&, &value = value](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT rolled_to, segments_from FROM analytics_rollup_state WHERE site = ?", {q.site}));
    // Nothing rolled yet: the events after the rollups are the whole range, read as a segment's tail.
    if (rows.empty()) {
      covered = true;
      return Ok();
    }
    if (!page) {
      covered = !std::holds_alternative<std::monostate>(rows.front().at(1)) && rows.front().Int(1) <= q.from_ms;
      return Ok();
    }
    // The page's: every day the plan reads as day rows kept the page (the day rolled_to falls in too).
    int64_t rolled_end = std::min(q.to_ms, rows.front().Int(0));
    if (rolled_end <= q.from_ms) {
      covered = true;
      return Ok();
    }
    int64_t days_to = (rolled_end + kDayMillis - 1) / kDayMillis * kDayMillis;
    STEWARD_ASSIGN_OR_RETURN(auto kept, c.Query("SELECT count(*) FROM analytics_segment_pages WHERE site = ? AND "
                                                "day >= ? AND day < ? AND path = ?",
                                                {q.site, q.from_ms, days_to, *value}));
    covered = kept.front().Int(0) == (days_to - q.from_ms) / kDayMillis;
    return Ok();
  }));
  return covered ? prefix : std::string();
}

Result<Stats::Plan> Stats::MakePlan(store::Connection& c, const Query& q, const std::string& segment) {
  Plan plan;
  int64_t rolled = 0;
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT rolled_to FROM analytics_rollup_state WHERE site = ?", {q.site}));
  if (!rows.empty()) rolled = rows.front().Int(0);
  if (!segment.empty()) {
    // Whole days; a segment's day row of the day rolled_to falls in holds the hours before it.
    int64_t rolled_end = std::min(q.to_ms, rolled);
    if (rolled_end <= q.from_ms) {
      plan.tail_from = q.from_ms;
    } else {
      plan.days_from = q.from_ms;
      plan.days_to = (rolled_end + kDayMillis - 1) / kDayMillis * kDayMillis;
      plan.tail_from = rolled_end;
    }
    plan.tail_to = q.to_ms;
    return plan;
  }
  // Rolled hours inside the range; ranges start and end on whole hours.
  int64_t from = (q.from_ms + kHourMillis - 1) / kHourMillis * kHourMillis;
  int64_t rolled_end = std::min(q.to_ms, rolled);
  if (from >= rolled_end) {
    plan.tail_from = q.from_ms;
  } else {
    int64_t first_day = (from + kDayMillis - 1) / kDayMillis * kDayMillis;
    int64_t last_day = rolled_end / kDayMillis * kDayMillis;
    if (first_day < last_day) {
      plan.days_from = first_day, plan.days_to = last_day;
      if (from < first_day) plan.hours.emplace_back(from, first_day);
      if (last_day < rolled_end) plan.hours.emplace_back(last_day, rolled_end);
    } else {
      plan.hours.emplace_back(from, rolled_end);
    }
    plan.tail_from = rolled_end;
  }
  plan.tail_to = q.to_ms;
  return plan;
}

Result<std::shared_ptr<const Cells>> Stats::Tail(store::Connection& c, const Query& q, const Plan& plan,
                                                 const std::string& segment) {
  static const auto kEmpty = std::make_shared<const Cells>();
  if (plan.tail_from >= plan.tail_to) return kEmpty;
  auto key = std::make_tuple(q.site, plan.tail_from, plan.tail_to, segment);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(tail_mu_);
    auto it = tails_.find(key);
    if (it != tails_.end() && now - it->second.at < std::chrono::seconds(1)) return it->second.cells;
  }
  std::optional<std::unordered_set<int64_t>> kept;
  if (!segment.empty()) {
    // The segment's visits: those with an event that has the value, as rolling tells them.
    auto [column, value] = Filters(q).front();
    kept.emplace();
    STEWARD_RETURN_IF_ERROR(c.ForEach(
        std::string("SELECT DISTINCT visit FROM analytics_events WHERE site = ? AND ts >= ? AND ts < ? AND ") + column +
            " = ?",
        {q.site, plan.tail_from - kVisitLookbackMillis, plan.tail_to + kRollDelayMillis, *value},
        [&](const store::Row& r) {
          kept->insert(r.Int(0));
          return true;
        }));
  }
  STEWARD_ASSIGN_OR_RETURN(Cells cells, Window(c, q.site, plan.tail_from, plan.tail_to, plan.tail_to + kRollDelayMillis,
                                               kept ? &*kept : nullptr));
  auto shared = std::make_shared<const Cells>(std::move(cells));
  std::lock_guard<std::mutex> lock(tail_mu_);
  std::erase_if(tails_, [&](const auto& kv) { return now - kv.second.at >= std::chrono::seconds(1); });
  if (tails_.size() < 16) tails_[key] = {now, shared};
  return shared;
}

namespace {

// The rows of one dimension a plan covers, read a span and range at a time: each statement reads
// one range of the primary key (site, dimension, span, start). One statement with an OR of the
// ranges reads every row the dimension has ever had, every day and hour since the first event.
Status ForEachRow(store::Connection& c, const std::string& columns, const std::string& site,
                  const std::string& dimension, int64_t days_from, int64_t days_to,
                  const std::vector<std::pair<int64_t, int64_t>>& hours, const std::string& and_sql,
                  const std::vector<store::Value>& and_params, const std::function<bool(const store::Row&)>& each) {
  std::vector<std::tuple<int64_t, int64_t, int64_t>> parts;
  if (days_from < days_to) parts.emplace_back(kDayMillis, days_from, days_to);
  for (const auto& [a, b] : hours) parts.emplace_back(kHourMillis, a, b);
  std::string sql = "SELECT " + columns +
                    " FROM analytics_rollups WHERE site = ? AND dimension = ? AND span = ? AND start >= ? AND "
                    "start < ?" +
                    and_sql;
  for (const auto& [span, from, to] : parts) {
    std::vector<store::Value> params{site, dimension, span, from, to};
    params.insert(params.end(), and_params.begin(), and_params.end());
    STEWARD_RETURN_IF_ERROR(c.ForEach(sql, params, each));
  }
  return Ok();
}

// A row's visitors into `into`; a sketch that cannot be read adds none.
void MergeSketch(VisitorSketch& into, const store::Value& v) {
  if (const auto* b = std::get_if<store::Blob>(&v)) (void)into.MergeSerialized(b->bytes);
}

}  // namespace

Result<Headline> Stats::AggregateRollups(const Query& q, const std::string& segment) {
  Cell total;
  // Privacy: analytics-rollups and analytics-events, read as aggregates only.
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Plan plan, MakePlan(c, q, segment));
    STEWARD_RETURN_IF_ERROR(ForEachRow(c, "visitors, visits, pageviews, bounces, duration_ms", q.site, segment,
                                       plan.days_from, plan.days_to, plan.hours, "", {}, [&](const store::Row& r) {
                                         MergeSketch(total.visitors, r.at(0));
                                         total.visits += r.Int(1), total.pageviews += r.Int(2);
                                         total.bounces += r.Int(3), total.duration_ms += r.Int(4);
                                         return true;
                                       }));
    STEWARD_ASSIGN_OR_RETURN(auto tail, Tail(c, q, plan, segment));
    if (auto it = tail->find({"", ""}); it != tail->end()) total.Merge(it->second);
    return Ok();
  }));
  return HeadlineOf(total);
}

Result<std::vector<BreakdownRow>> Stats::BreakdownRollups(const Query& q, Dimension d, int limit,
                                                          const std::string& segment) {
  std::string dimension(DimensionName(d));
  std::string rows_dimension = segment + dimension;  // the rollups' rows; the tail's cells are the dimension's
  std::unordered_map<std::string, Cell> cells;       // counts first; sketches only for the leaders
  // Privacy: analytics-rollups and analytics-events, read as aggregates only.
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Plan plan, MakePlan(c, q, segment));
    // Summed here rather than by GROUP BY: the rows come in key order within each period, and a
    // hash map beats SQLite's sort for tens of thousands of them.
    bool engagement = d == Dimension::kEngagement;
    cells.reserve(4096);
    STEWARD_RETURN_IF_ERROR(
        ForEachRow(c, engagement ? "key, count, engaged_ms, engaged_n, scroll_sum, scroll_n" : "key, count", q.site,
                   rows_dimension, plan.days_from, plan.days_to, plan.hours, "", {}, [&](const store::Row& r) {
                     Cell& cell = cells[r.Text(0)];
                     cell.count += r.Int(1);
                     if (engagement) {
                       cell.engaged_ms += r.Int(2), cell.engaged_n += r.Int(3);
                       cell.scroll_sum += r.Int(4), cell.scroll_n += r.Int(5);
                     }
                     return true;
                   }));
    STEWARD_ASSIGN_OR_RETURN(auto tail, Tail(c, q, plan, segment));
    for (auto it = tail->lower_bound({dimension, ""}); it != tail->end() && it->first.first == dimension; ++it) {
      Cell counts = it->second;
      counts.visitors = {};
      cells[it->first.second].Merge(counts);
    }
    // The leaders by count; their visitors decide the order.
    std::vector<std::pair<std::string, int64_t>> order;
    order.reserve(cells.size());
    for (const auto& [key, cell] : cells) order.emplace_back(key, cell.count);
    size_t leaders = std::min(order.size(), static_cast<size_t>(std::max(limit * 3, limit + 20)));
    std::partial_sort(
        order.begin(), order.begin() + static_cast<std::ptrdiff_t>(leaders), order.end(),
        [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    order.resize(leaders);
    if (order.empty()) return Ok();
    std::string and_sql;
    std::vector<store::Value> and_params;
    if (leaders <= 200) {
      and_sql = " AND key IN (";
      for (size_t i = 0; i < order.size(); ++i) {
        and_sql += i ? ", ?" : "?";
        and_params.emplace_back(order[i].first);
      }
      and_sql += ")";
    }
    std::unordered_map<std::string, VisitorSketch> sketches;
    for (const auto& [key, count] : order) sketches[key];
    STEWARD_RETURN_IF_ERROR(ForEachRow(c, "key, visitors", q.site, rows_dimension, plan.days_from, plan.days_to,
                                       plan.hours, and_sql, and_params, [&](const store::Row& r) {
                                         auto it = sketches.find(r.Text(0));
                                         if (it != sketches.end()) MergeSketch(it->second, r.at(1));
                                         return true;
                                       }));
    for (auto& [key, sketch] : sketches) {
      if (auto it = tail->find({dimension, key}); it != tail->end()) sketch.Merge(it->second.visitors);
      cells[key].visitors = std::move(sketch);
    }
    // Only the leaders go on.
    std::unordered_map<std::string, Cell> kept;
    for (const auto& [key, count] : order) kept[key] = std::move(cells[key]);
    cells.swap(kept);
    return Ok();
  }));
  std::vector<BreakdownRow> out;
  out.reserve(cells.size());
  for (const auto& [key, cell] : cells) out.push_back(RowOf(key, cell));
  Rank(out, limit);
  return out;
}

Result<std::vector<DayPoint>> Stats::DailyRollups(const Query& q, const std::string& segment) {
  std::map<int64_t, std::pair<VisitorSketch, int64_t>> by_day;
  auto day_of = DayOf;
  // Privacy: analytics-rollups and analytics-events, read as aggregates only.
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Plan plan, MakePlan(c, q, segment));
    STEWARD_RETURN_IF_ERROR(ForEachRow(c, "start, visitors, pageviews", q.site, segment, plan.days_from, plan.days_to,
                                       plan.hours, "", {}, [&](const store::Row& r) {
                                         auto& [sketch, pageviews] = by_day[day_of(r.Int(0))];
                                         MergeSketch(sketch, r.at(1));
                                         pageviews += r.Int(2);
                                         return true;
                                       }));
    STEWARD_ASSIGN_OR_RETURN(auto tail, Tail(c, q, plan, segment));
    for (auto it = tail->lower_bound({"day", ""}); it != tail->end() && it->first.first == "day"; ++it) {
      auto& [sketch, pageviews] = by_day[std::stoll(it->first.second)];
      sketch.Merge(it->second.visitors);
      pageviews += it->second.count;
    }
    return Ok();
  }));
  std::vector<DayPoint> out;
  for (int64_t d = day_of(q.from_ms); d <= day_of(q.to_ms - 1) && out.size() < 400; ++d) {
    auto it = by_day.find(d);
    out.push_back(it == by_day.end() ? DayPoint{d, 0, 0} : DayPoint{d, it->second.first.Estimate(), it->second.second});
  }
  return out;
}

}  // namespace steward::analytics
