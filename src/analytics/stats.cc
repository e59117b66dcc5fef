#include "analytics/stats.h"

#include <chrono>
#include <cstdio>
#include <map>

namespace steward::analytics {
namespace {

constexpr struct {
  Dimension d;
  const char* name;
} kDimensions[] = {
    {Dimension::kPage, "page"},         {Dimension::kEntryPage, "entry_page"}, {Dimension::kExitPage, "exit_page"},
    {Dimension::kSource, "source"},     {Dimension::kReferrer, "referrer"},    {Dimension::kCampaign, "utm_campaign"},
    {Dimension::kBrowser, "browser"},   {Dimension::kOs, "os"},                {Dimension::kDevice, "device"},
    {Dimension::kCountry, "country"},   {Dimension::kEvent, "event"},          {Dimension::kEventProperty, "event_property"},
    {Dimension::kSearch, "search"},     {Dimension::kEngagement, "engagement"},
};

// "site = ? AND ts >= ? AND ts < ?" and the filters, as whole visits: a visit is kept when any of
// its events matches every filter (a visit that viewed the page, came from the source, ...).
struct Where {
  std::string sql;
  std::vector<store::Value> params;
};

Where Build(const Query& q) {
  Where w{"site = ? AND ts >= ? AND ts < ?", {q.site, q.from_ms, q.to_ms}};
  for (const auto& [column, value] : {std::pair<const char*, const std::string*>{"path", &q.page},
                                      {"source", &q.source}, {"country", &q.country}, {"device", &q.device}}) {
    if (value->empty()) continue;
    w.sql += std::string(" AND visit IN (SELECT visit FROM analytics_events WHERE site = ? AND ts >= ? AND ts < ? AND ") +
             column + " = ?)";
    w.params.insert(w.params.end(), {q.site, q.from_ms, q.to_ms, *value});
  }
  return w;
}

// The column a simple dimension groups by, over pageviews.
const char* Column(Dimension d) {
  switch (d) {
    case Dimension::kPage: return "path";
    case Dimension::kReferrer: return "referrer";
    case Dimension::kCampaign: return "utm_campaign";
    case Dimension::kBrowser: return "browser";
    case Dimension::kOs: return "os";
    case Dimension::kDevice: return "device";
    case Dimension::kCountry: return "country";
    case Dimension::kSearch: return "search";
    default: return nullptr;
  }
}

}  // namespace

std::optional<int64_t> ParseDay(std::string_view text) {
  namespace chr = std::chrono;
  int y = 0, m = 0, d = 0;
  char tail = 0;
  std::string s(text);
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  chr::year_month_day ymd{chr::year(y), chr::month(static_cast<unsigned>(m)), chr::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return chr::sys_days(ymd).time_since_epoch().count();
}

std::string DayText(int64_t day) {
  namespace chr = std::chrono;
  chr::year_month_day ymd{chr::sys_days(chr::days(day))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

Result<DayRange> ResolvePeriod(std::string_view period, int64_t today) {
  namespace chr = std::chrono;
  chr::year_month_day ymd{chr::sys_days(chr::days(today))};
  if (period == "day" || period == "today") return DayRange{today, today + 1};
  if (period == "7d") return DayRange{today - 6, today + 1};
  if (period == "30d") return DayRange{today - 29, today + 1};
  if (period == "month") {
    return DayRange{chr::sys_days(ymd.year() / ymd.month() / chr::day(1)).time_since_epoch().count(), today + 1};
  }
  if (period == "year") {
    return DayRange{chr::sys_days(ymd.year() / chr::January / chr::day(1)).time_since_epoch().count(), today + 1};
  }
  if (auto dots = period.find(".."); dots != std::string_view::npos) {
    auto a = ParseDay(period.substr(0, dots)), b = ParseDay(period.substr(dots + 2));
    if (!a || !b) return MakeError(ErrorCode::kInvalidArgument, "period: give dates as YYYY-MM-DD..YYYY-MM-DD");
    if (*b < *a) return MakeError(ErrorCode::kInvalidArgument, "period: the end must not be before the start");
    if (*b - *a > 731) return MakeError(ErrorCode::kInvalidArgument, "period: a range can be at most 2 years");
    return DayRange{*a, *b + 1};
  }
  return MakeError(ErrorCode::kInvalidArgument, "period: choose day, 7d, 30d, month, year or FROM..TO (YYYY-MM-DD)");
}

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

Result<Headline> Stats::Aggregate(const Query& q) {
  Where w = Build(q);
  Headline h;
  // Privacy: analytics-events, read as aggregates only.
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    std::string sql =
        "WITH v AS (SELECT visit, min(visitor) AS visitor, max(ts) - min(ts) AS duration, "
        "sum(name = 'pageview') AS pageviews, "
        "sum(name NOT IN ('pageview', 'engagement') AND interactive = 1) AS interactions "
        "FROM analytics_events WHERE " + w.sql + " GROUP BY visit) "
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

Result<std::vector<BreakdownRow>> Stats::Breakdown(const Query& q, Dimension d, int limit) {
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
      sql = "SELECT " + key + ", count(DISTINCT visitor), count(*), 0, 0 FROM (SELECT visitor, path, source, "
            "row_number() OVER (PARTITION BY visit ORDER BY " + order + ") AS n FROM analytics_events WHERE " + w.sql +
            " AND name = 'pageview') WHERE n = 1 GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
      break;
    }
    case Dimension::kEvent:
      sql = "SELECT name, count(DISTINCT visitor), count(*), 0, 0 FROM analytics_events WHERE " + w.sql +
            " AND name NOT IN ('pageview', 'engagement') GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
      break;
    case Dimension::kEventProperty:
      // Poll answers and other custom properties: "Poll answer: answer = yes".
      sql = "SELECT name || ': ' || p.key || ' = ' || p.value, count(DISTINCT visitor), count(*), 0, 0 "
            "FROM analytics_events, json_each(CASE WHEN props = '' THEN '{}' ELSE props END) AS p WHERE " + w.sql +
            " AND name NOT IN ('pageview', 'engagement') GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?";
      break;
    case Dimension::kEngagement:
      sql = "SELECT path, count(DISTINCT visitor), count(*), avg(engaged_ms) / 1000.0, avg(scroll_depth) "
            "FROM analytics_events WHERE " + w.sql + " AND name = 'engagement' GROUP BY 1 "
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
  params.push_back(static_cast<int64_t>(limit));
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

Result<std::vector<DayPoint>> Stats::Daily(const Query& q) {
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
  for (const auto& [d, p] : by_day) out.push_back(p);
  return out;
}

}  // namespace steward::analytics
