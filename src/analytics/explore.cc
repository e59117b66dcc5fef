#include "analytics/explore.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "analytics/stats.h"

namespace steward::analytics {
namespace {

using store::Value;

struct Sql {
  std::string text;
  std::vector<Value> params;
};

bool IsTimeName(const std::string& name) { return name == "time" || name.starts_with("time:"); }

// The first day of each month the range touches, and the day after the range.
std::vector<int64_t> MonthStarts(const DayRange& days) {
  using namespace std::chrono;
  std::vector<int64_t> out;
  year_month_day first{sys_days{std::chrono::days{days.from}}};
  year_month month = first.year() / first.month();
  for (;;) {
    int64_t start = sys_days{month / 1}.time_since_epoch().count();
    if (start >= days.to) break;
    out.push_back(start);
    month += months{1};
  }
  return out;
}

std::string HourLabel(int64_t hour) {
  char hh[8];
  std::snprintf(hh, sizeof hh, "%02d", static_cast<int>(hour % 24));
  return DayText(hour / 24) + " " + hh + ":00:00";
}

// A dimension's value, as SQL over the event (e) and its visit (v); a time dimension's is its
// bucket's number.
void AppendValue(const std::string& name, const QueryRequest& r, Sql& out) {
  if (IsTimeName(name)) {
    switch (TimeBucketOf(name, r.days)) {
      case TimeBucket::kHour:
        out.text += "e.ts / 3600000";
        return;
      case TimeBucket::kWeek:  // weeks from Monday; 1970-01-01 was a Thursday
        out.text += "(e.ts / 86400000 + 3) / 7";
        return;
      case TimeBucket::kMonth: {
        std::vector<int64_t> starts = MonthStarts(r.days);
        if (starts.size() <= 1) {
          out.text += "0";
          return;
        }
        out.text += "CASE";
        for (size_t i = 1; i < starts.size(); ++i) {
          out.text += " WHEN e.ts < ? THEN " + std::to_string(i - 1);
          out.params.emplace_back(starts[i] * kDayMillis);
        }
        out.text += " ELSE " + std::to_string(starts.size() - 1) + " END";
        return;
      }
      default:
        out.text += "e.ts / 86400000";
        return;
    }
  }
  if (const EventDimension* d = FindEventDimension(name)) {
    out.text += d->sql;
    return;
  }
  // event:props:KEY; "(none)" where the event has no such property.
  out.text += "coalesce(CASE WHEN e.props = '' THEN NULL ELSE CAST(json_extract(e.props, ?) AS TEXT) END, '(none)')";
  out.params.emplace_back("$." + std::string(PropertyKey(name)));
}

void AppendCondition(const QueryFilter& f, const QueryRequest& r, store::Backend backend, Sql& out) {
  using Op = QueryFilter::Op;
  switch (f.op) {
    case Op::kAnd:
    case Op::kOr:
      out.text += "(";
      for (size_t i = 0; i < f.children.size(); ++i) {
        if (i > 0) out.text += f.op == Op::kAnd ? " AND " : " OR ";
        AppendCondition(f.children[i], r, backend, out);
      }
      out.text += ")";
      return;
    case Op::kNot:
      out.text += "NOT ";
      AppendCondition(f.children.front(), r, backend, out);
      return;
    default:
      break;
  }
  bool negated = f.op == Op::kIsNot || f.op == Op::kContainsNot || f.op == Op::kMatchesNot;
  auto value = [&](Sql& s) {
    if (!f.case_sensitive) s.text += "lower(";
    AppendValue(f.dimension, r, s);
    if (!f.case_sensitive) s.text += ")";
  };
  auto parameter = [&](Sql& s, const std::string& v) {
    s.text += f.case_sensitive ? "?" : "lower(?)";
    s.params.emplace_back(v);
  };
  out.text += negated ? "NOT (" : "(";
  for (size_t i = 0; i < f.values.size(); ++i) {
    if (i > 0) out.text += " OR ";
    const std::string& v = f.values[i];
    if (f.op == Op::kIs || f.op == Op::kIsNot) {
      value(out);
      out.text += " = ";
      parameter(out, v);
    } else if (f.op == Op::kContains || f.op == Op::kContainsNot) {
      // replace() is the same in both stores, where instr and strpos are not.
      out.text += "replace(";
      value(out);
      out.text += ", ";
      parameter(out, v);
      out.text += ", '') != ";
      value(out);
    } else if (backend == store::Backend::kPostgresql) {
      AppendValue(f.dimension, r, out);
      out.text += f.case_sensitive ? " ~ ?" : " ~* ?";
      out.params.emplace_back(v);
    } else {
      AppendValue(f.dimension, r, out);
      out.text += " REGEXP ?";
      out.params.emplace_back(f.case_sensitive ? v : "(?i)" + v);
    }
  }
  out.text += ")";
}

// What the groups' query gives after their dimensions.
enum Column {
  kVisitors,
  kVisits,
  kPageviews,
  kEvents,
  kDuration,
  kBounces,
  kEngagedMs,
  kEngagedN,
  kScrollSum,
  kScrollN
};
constexpr int kColumns = 10;

struct Group {
  std::vector<std::string> dimensions;
  double v[kColumns] = {};
};

void CollectPatterns(const QueryFilter& f, std::vector<std::pair<std::string, bool>>& out) {
  if (f.op == QueryFilter::Op::kMatches || f.op == QueryFilter::Op::kMatchesNot) {
    for (const auto& v : f.values) out.emplace_back(v, f.case_sensitive);
  }
  for (const auto& c : f.children) CollectPatterns(c, out);
}

// PostgreSQL's regular expressions are its own: a pattern PCRE2 took (query_request.cc) may still
// be one PostgreSQL refuses, which is the client's error, not the query's.
Status CheckPostgresqlPatterns(store::Store& store, const QueryRequest& r) {
  if (store.backend() != store::Backend::kPostgresql) return Ok();
  std::vector<std::pair<std::string, bool>> patterns;
  for (const auto& f : r.filters) CollectPatterns(f, patterns);
  for (const auto& [pattern, case_sensitive] : patterns) {
    Status s = store.Read([&](store::Connection& c) -> Status {
      auto rows = c.Query(case_sensitive ? "SELECT '' ~ ?" : "SELECT '' ~* ?", {pattern});
      if (!rows.ok()) return rows.error();
      return Ok();
    });
    if (!s.ok()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "filters: a matches value is not a regular expression this site's store (PostgreSQL) takes");
    }
  }
  return Ok();
}

Result<std::vector<Group>> Groups(store::Store& store, const QueryRequest& r) {
  Sql sql;
  sql.text =
      // The events of the range.
      "WITH ev AS (SELECT id, ts, name, hostname, path, source, referrer, utm_medium, utm_campaign, utm_content, "
      "utm_term, search, visitor, visit, interactive, engaged_ms, scroll_depth, props, country, browser, "
      "browser_version, os, os_version, device FROM analytics_events WHERE site = ? AND ts >= ? AND ts < ?), "
      // Each visit's pageviews, first and last.
      "pv AS (SELECT visit, path, source, referrer, utm_medium, utm_campaign, utm_content, utm_term, "
      "row_number() OVER (PARTITION BY visit ORDER BY ts, id) AS first_n, "
      "row_number() OVER (PARTITION BY visit ORDER BY ts DESC, id DESC) AS last_n FROM ev WHERE name = 'pageview'), "
      "va AS (SELECT visit, max(ts) - min(ts) AS duration, "
      "sum(CASE WHEN name = 'pageview' THEN 1 ELSE 0 END) AS pageviews, "
      "sum(CASE WHEN name NOT IN ('pageview', 'engagement') AND interactive = 1 THEN 1 ELSE 0 END) AS interactions, "
      "min(country) AS country, min(browser) AS browser, min(browser_version) AS browser_version, min(os) AS os, "
      "min(os_version) AS os_version, min(device) AS device FROM ev GROUP BY visit), "
      // Each visit that had a pageview, with its attributes.
      "v AS (SELECT va.visit, va.duration, va.country, va.browser, va.browser_version, va.os, va.os_version, "
      "va.device, f.path AS entry_page, l.path AS exit_page, f.source, f.referrer, f.utm_medium, f.utm_campaign, "
      "f.utm_content, f.utm_term, CASE WHEN va.pageviews <= 1 AND va.interactions = 0 THEN 1 ELSE 0 END AS bounce "
      "FROM va JOIN pv f ON f.visit = va.visit AND f.first_n = 1 JOIN pv l ON l.visit = va.visit AND l.last_n = 1), "
      // The events kept, by group and visit.
      "g AS (SELECT ";
  sql.params = {r.site, r.query.from_ms, r.query.to_ms};
  size_t n = r.dimensions.size();
  for (size_t i = 0; i < n; ++i) {
    AppendValue(r.dimensions[i], r, sql);
    sql.text += " AS d" + std::to_string(i) + ", ";
  }
  sql.text +=
      "e.visit AS visit, min(e.visitor) AS visitor, sum(CASE WHEN e.name = 'pageview' THEN 1 ELSE 0 END) AS pageviews, "
      "sum(CASE WHEN e.name != 'engagement' THEN 1 ELSE 0 END) AS events, max(v.duration) AS duration, "
      "max(v.bounce) AS bounce, "
      "sum(CASE WHEN e.name = 'engagement' AND e.engaged_ms IS NOT NULL THEN e.engaged_ms ELSE 0 END) AS engaged_ms, "
      "sum(CASE WHEN e.name = 'engagement' AND e.engaged_ms IS NOT NULL THEN 1 ELSE 0 END) AS engaged_n, "
      "sum(CASE WHEN e.name = 'engagement' AND e.scroll_depth IS NOT NULL THEN e.scroll_depth ELSE 0 END) AS "
      "scroll_sum, sum(CASE WHEN e.name = 'engagement' AND e.scroll_depth IS NOT NULL THEN 1 ELSE 0 END) AS scroll_n "
      "FROM ev e JOIN v ON v.visit = e.visit WHERE 1 = 1";
  for (const auto& f : r.filters) {
    sql.text += " AND ";
    AppendCondition(f, r, store.backend(), sql);
  }
  for (const auto& d : r.dimensions) {
    const EventDimension* spec = FindEventDimension(d);
    if (spec != nullptr && spec->only[0] != '\0') sql.text += std::string(" AND (") + spec->only + ")";
    if (spec == nullptr && !IsTimeName(d)) sql.text += " AND e.name != 'engagement'";  // a property
  }
  std::string by;
  for (size_t i = 0; i < n; ++i) by += (i ? ", " : "") + std::to_string(i + 1);
  sql.text += " GROUP BY " + by + (n ? ", " : "") + std::to_string(n + 1) + ") SELECT ";
  for (size_t i = 0; i < n; ++i) sql.text += "d" + std::to_string(i) + ", ";
  sql.text +=
      "count(DISTINCT visitor), count(*), coalesce(sum(pageviews), 0), coalesce(sum(events), 0), "
      "coalesce(sum(duration), 0), coalesce(sum(bounce), 0), coalesce(sum(engaged_ms), 0), "
      "coalesce(sum(engaged_n), 0), coalesce(sum(scroll_sum), 0), coalesce(sum(scroll_n), 0) FROM g";
  if (n > 0) sql.text += " GROUP BY " + by;
  sql.text += " LIMIT ?";
  sql.params.emplace_back(static_cast<int64_t>(kMaxExploreGroups + 1));

  std::vector<TimeBucket> buckets;
  for (const auto& d : r.dimensions) buckets.push_back(IsTimeName(d) ? TimeBucketOf(d, r.days) : TimeBucket::kNone);
  std::vector<int64_t> month_starts = MonthStarts(r.days);
  std::vector<Group> out;
  // Privacy: analytics-events, read as aggregates only.
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) {
    return c.ForEach(sql.text, sql.params, [&](const store::Row& row) {
      Group g;
      for (size_t i = 0; i < n; ++i) {
        int64_t k = buckets[i] == TimeBucket::kNone ? 0 : row.Int(i);
        switch (buckets[i]) {
          case TimeBucket::kNone:
            g.dimensions.push_back(row.Text(i));
            break;
          case TimeBucket::kHour:
            g.dimensions.push_back(HourLabel(k));
            break;
          case TimeBucket::kDay:
            g.dimensions.push_back(DayText(k));
            break;
          case TimeBucket::kWeek:
            g.dimensions.push_back(DayText(std::max(k * 7 - 3, r.days.from)));
            break;
          case TimeBucket::kMonth:
            g.dimensions.push_back(DayText(
                month_starts.at(std::min(static_cast<size_t>(std::max<int64_t>(k, 0)), month_starts.size() - 1))));
            break;
        }
      }
      for (int c = 0; c < kColumns; ++c) g.v[c] = row.Real(n + static_cast<size_t>(c));
      out.push_back(std::move(g));
      return true;
    });
  }));
  if (out.size() > kMaxExploreGroups) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "dimensions: the answer would have more than 100,000 rows; name fewer dimensions, a shorter "
                     "date_range or a filter");
  }
  return out;
}

std::optional<double> Metric(const std::string& name, const Group& g, double total_visitors) {
  double visits = g.v[kVisits];
  auto round2 = [](double x) { return std::round(x * 100.0) / 100.0; };
  if (name == "visitors") return g.v[kVisitors];
  if (name == "visits") return visits;
  if (name == "pageviews") return g.v[kPageviews];
  if (name == "events") return g.v[kEvents];
  if (name == "views_per_visit") return visits > 0 ? round2(g.v[kPageviews] / visits) : 0.0;
  if (name == "bounce_rate") return visits > 0 ? round2(g.v[kBounces] / visits * 100.0) : 0.0;
  if (name == "visit_duration") return visits > 0 ? std::round(g.v[kDuration] / visits / 1000.0) : 0.0;
  if (name == "time_on_page") {
    if (g.v[kEngagedN] == 0) return std::nullopt;
    return std::round(g.v[kEngagedMs] / g.v[kEngagedN] / 1000.0);
  }
  if (name == "scroll_depth") {
    if (g.v[kScrollN] == 0) return std::nullopt;
    return std::round(g.v[kScrollSum] / g.v[kScrollN]);
  }
  if (name == "percentage") return total_visitors > 0 ? round2(g.v[kVisitors] / total_visitors * 100.0) : 0.0;
  return std::nullopt;
}

}  // namespace

Result<ExploreResult> Explore(store::Store& store, const QueryRequest& r) {
  STEWARD_RETURN_IF_ERROR(CheckPostgresqlPatterns(store, r));
  STEWARD_ASSIGN_OR_RETURN(std::vector<Group> groups, Groups(store, r));
  double total_visitors = 0;
  if (std::find(r.metrics.begin(), r.metrics.end(), "percentage") != r.metrics.end()) {
    if (r.dimensions.empty()) {
      total_visitors = groups.empty() ? 0 : groups.front().v[kVisitors];
    } else {
      QueryRequest all = r;
      all.dimensions.clear();
      STEWARD_ASSIGN_OR_RETURN(std::vector<Group> total, Groups(store, all));
      total_visitors = total.empty() ? 0 : total.front().v[kVisitors];
    }
  }
  ExploreResult result;
  for (const auto& g : groups) {
    ExploreRow row{g.dimensions, {}};
    for (const auto& m : r.metrics) row.metrics.push_back(Metric(m, g, total_visitors));
    result.rows.push_back(std::move(row));
  }
  // The order asked for; by default time first, then each metric in turn, most first (as the
  // dashboard orders its tables); the dimensions last, so the order is always the same.
  std::vector<std::pair<std::string, bool>> order = r.order;
  if (order.empty()) {
    for (const auto& d : r.dimensions) {
      if (IsTimeName(d)) order.emplace_back(d, false);
    }
    for (const auto& m : r.metrics) order.emplace_back(m, true);
  }
  for (const auto& d : r.dimensions) order.emplace_back(d, false);
  auto index_of = [](const std::vector<std::string>& names, const std::string& name) -> int {
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
  };
  std::stable_sort(result.rows.begin(), result.rows.end(), [&](const ExploreRow& a, const ExploreRow& b) {
    for (const auto& [name, desc] : order) {
      if (int d = index_of(r.dimensions, name); d >= 0) {
        const std::string &x = a.dimensions[static_cast<size_t>(d)], &y = b.dimensions[static_cast<size_t>(d)];
        if (x != y) return desc ? x > y : x < y;
      } else if (int m = index_of(r.metrics, name); m >= 0) {
        double x = a.metrics[static_cast<size_t>(m)].value_or(-1), y = b.metrics[static_cast<size_t>(m)].value_or(-1);
        if (x != y) return desc ? x > y : x < y;
      }
    }
    return false;
  });
  result.total_rows = static_cast<int64_t>(result.rows.size());
  size_t from = std::min(result.rows.size(), static_cast<size_t>(r.offset));
  size_t to = std::min(result.rows.size(), from + static_cast<size_t>(r.limit));
  result.rows = std::vector<ExploreRow>(result.rows.begin() + static_cast<std::ptrdiff_t>(from),
                                        result.rows.begin() + static_cast<std::ptrdiff_t>(to));
  return result;
}

std::vector<std::string> TimeLabels(TimeBucket bucket, const DayRange& days) {
  std::vector<std::string> out;
  switch (bucket) {
    case TimeBucket::kHour:
      for (int64_t h = days.from * 24; h < days.to * 24; ++h) out.push_back(HourLabel(h));
      break;
    case TimeBucket::kDay:
      for (int64_t d = days.from; d < days.to; ++d) out.push_back(DayText(d));
      break;
    case TimeBucket::kWeek:
      for (int64_t d = days.from; d < days.to; ++d) {
        if (d == days.from || (d + 3) % 7 == 0) out.push_back(DayText(d));
      }
      break;
    case TimeBucket::kMonth:
      for (int64_t start : MonthStarts(days)) out.push_back(DayText(start));
      break;
    case TimeBucket::kNone:
      break;
  }
  return out;
}

}  // namespace steward::analytics
