// The Stats API's counting from the events (explore.h) against a reference: the same counted by
// one SQL statement over the events, as Steward first counted them, on a few hundred random events
// and every kind of dimension and filter. The SQL is slow on millions of events but plain to read,
// so each figure Explore gives is checked against what the statement says it should be.
#include "analytics/explore.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "analytics/analytics.h"
#include "analytics/query_request.h"
#include "store/testing/scratch.h"

namespace steward::analytics {
namespace {

constexpr int64_t kT0 = 1'798'790'400'000;  // 2027-01-01T08:00:00Z
constexpr int64_t kDay = 86'400'000;

struct Sql {
  std::string text;
  std::vector<store::Value> params;
};

bool IsTimeName(const std::string& name) { return name == "time" || name.starts_with("time:"); }

std::string ValueSql(const EventDimension& d) {
  std::string column = d.column, value;
  switch (d.from) {
    case EventDimension::From::kEvent:
      value = "e." + column;
      break;
    case EventDimension::From::kEntry:
      value = column == "path" ? "v.entry_page" : "v." + column;
      break;
    case EventDimension::From::kExit:
      value = "v.exit_page";
      break;
    case EventDimension::From::kLeast:
      value = "v." + column;
      break;
  }
  if (d.empty_as != nullptr) value = "CASE WHEN " + value + " = '' THEN '" + d.empty_as + "' ELSE " + value + " END";
  return value;
}

std::string OnlySql(const EventDimension& d) {
  switch (d.only) {
    case EventDimension::Only::kAny:
      return "";
    case EventDimension::Only::kPagesSeen:
      return "e.name IN ('pageview', 'engagement')";
    case EventDimension::Only::kNotEngaged:
      return "e.name != 'engagement'";
    case EventDimension::Only::kGoals:
      return "e.name NOT IN ('pageview', 'engagement')";
    case EventDimension::Only::kSearches:
      return "e.name = 'pageview' AND e.search != ''";
    case EventDimension::Only::kWithAValue:
      return ValueSql(d) + " != ''";
  }
  return "";
}

void AppendValue(const std::string& name, const QueryRequest& r, Sql& out) {
  if (IsTimeName(name)) {
    switch (TimeBucketOf(name, r.days)) {
      case TimeBucket::kHour:
        out.text += "e.ts / 3600000";
        return;
      case TimeBucket::kWeek:
        out.text += "(e.ts / 86400000 + 3) / 7";
        return;
      case TimeBucket::kMonth: {
        // The month's place among the range's months.
        std::vector<std::string> starts = TimeLabels(TimeBucket::kMonth, r.days);
        if (starts.size() <= 1) {
          out.text += "0";
          return;
        }
        out.text += "CASE";
        for (size_t i = 1; i < starts.size(); ++i) {
          out.text += " WHEN e.ts < ? THEN " + std::to_string(i - 1);
          out.params.emplace_back(*ParseDay(starts[i]) * kDay);
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
    out.text += ValueSql(*d);
    return;
  }
  out.text += "coalesce(CASE WHEN e.props = '' THEN NULL ELSE CAST(json_extract(e.props, ?) AS TEXT) END, '(none)')";
  out.params.emplace_back("$." + std::string(PropertyKey(name)));
}

void AppendCondition(const QueryFilter& f, const QueryRequest& r, store::Backend backend, Sql& out) {
  using Op = QueryFilter::Op;
  if (f.op == Op::kAnd || f.op == Op::kOr) {
    out.text += "(";
    for (size_t i = 0; i < f.children.size(); ++i) {
      if (i > 0) out.text += f.op == Op::kAnd ? " AND " : " OR ";
      AppendCondition(f.children[i], r, backend, out);
    }
    out.text += ")";
    return;
  }
  if (f.op == Op::kNot) {
    out.text += "NOT ";
    AppendCondition(f.children.front(), r, backend, out);
    return;
  }
  bool negated = f.op == Op::kIsNot || f.op == Op::kContainsNot || f.op == Op::kMatchesNot;
  auto value = [&] {
    if (!f.case_sensitive) out.text += "lower(";
    AppendValue(f.dimension, r, out);
    if (!f.case_sensitive) out.text += ")";
  };
  auto parameter = [&](const std::string& v) {
    out.text += f.case_sensitive ? "?" : "lower(?)";
    out.params.emplace_back(v);
  };
  out.text += negated ? "NOT (" : "(";
  for (size_t i = 0; i < f.values.size(); ++i) {
    if (i > 0) out.text += " OR ";
    const std::string& v = f.values[i];
    if (f.op == Op::kIs || f.op == Op::kIsNot) {
      value();
      out.text += " = ";
      parameter(v);
    } else if (f.op == Op::kContains || f.op == Op::kContainsNot) {
      out.text += "replace(";
      value();
      out.text += ", ";
      parameter(v);
      out.text += ", '') != ";
      value();
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

// visitors, visits, pageviews, events, duration, bounces, engaged ms and count, scroll sum and count
using Sums = std::array<double, 10>;

// The groups, by their dimensions' labels, as the statement counts them.
std::map<std::vector<std::string>, Sums> Reference(store::Store& store, const QueryRequest& r) {
  Sql sql;
  sql.text =
      "WITH ev AS (SELECT id, ts, name, hostname, path, source, referrer, utm_medium, utm_campaign, utm_content, "
      "utm_term, search, visitor, visit, interactive, engaged_ms, scroll_depth, props, country, browser, "
      "browser_version, os, os_version, device FROM analytics_events WHERE site = ? AND ts >= ? AND ts < ?), "
      "pv AS (SELECT visit, path, source, referrer, utm_medium, utm_campaign, utm_content, utm_term, "
      "row_number() OVER (PARTITION BY visit ORDER BY ts, id) AS first_n, "
      "row_number() OVER (PARTITION BY visit ORDER BY ts DESC, id DESC) AS last_n FROM ev WHERE name = 'pageview'), "
      "va AS (SELECT visit, max(ts) - min(ts) AS duration, "
      "sum(CASE WHEN name = 'pageview' THEN 1 ELSE 0 END) AS pageviews, "
      "sum(CASE WHEN name NOT IN ('pageview', 'engagement') AND interactive = 1 THEN 1 ELSE 0 END) AS interactions, "
      "min(country) AS country, min(browser) AS browser, min(browser_version) AS browser_version, min(os) AS os, "
      "min(os_version) AS os_version, min(device) AS device FROM ev GROUP BY visit), "
      "v AS (SELECT va.visit, va.duration, va.country, va.browser, va.browser_version, va.os, va.os_version, "
      "va.device, f.path AS entry_page, l.path AS exit_page, f.source, f.referrer, f.utm_medium, f.utm_campaign, "
      "f.utm_content, f.utm_term, CASE WHEN va.pageviews <= 1 AND va.interactions = 0 THEN 1 ELSE 0 END AS bounce "
      "FROM va JOIN pv f ON f.visit = va.visit AND f.first_n = 1 JOIN pv l ON l.visit = va.visit AND l.last_n = 1), "
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
    if (spec != nullptr && !OnlySql(*spec).empty()) sql.text += " AND (" + OnlySql(*spec) + ")";
    if (spec == nullptr && !IsTimeName(d)) sql.text += " AND e.name != 'engagement'";
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

  std::vector<std::string> months = TimeLabels(TimeBucket::kMonth, r.days);
  std::map<std::vector<std::string>, Sums> out;
  Status s = store.Read([&](store::Connection& c) {
    return c.ForEach(sql.text, sql.params, [&](const store::Row& row) {
      std::vector<std::string> labels;
      for (size_t i = 0; i < n; ++i) {
        int64_t k = row.Int(i);
        char hour[16];
        switch (IsTimeName(r.dimensions[i]) ? TimeBucketOf(r.dimensions[i], r.days) : TimeBucket::kNone) {
          case TimeBucket::kNone:
            labels.push_back(row.Text(i));
            break;
          case TimeBucket::kHour:
            std::snprintf(hour, sizeof hour, " %02d:00:00", static_cast<int>(k % 24));
            labels.push_back(DayText(k / 24) + hour);
            break;
          case TimeBucket::kDay:
            labels.push_back(DayText(k));
            break;
          case TimeBucket::kWeek:
            labels.push_back(DayText(std::max(k * 7 - 3, r.days.from)));
            break;
          case TimeBucket::kMonth:
            labels.push_back(months.at(static_cast<size_t>(k)));
            break;
        }
      }
      Sums sums;
      for (size_t c = 0; c < sums.size(); ++c) sums[c] = row.Real(n + c);
      out[labels] = sums;
      return true;
    });
  });
  EXPECT_TRUE(s.ok()) << s.error().message << "\n" << sql.text;
  return out;
}

// Each metric from the sums, as Plausible reports it.
std::optional<double> Metric(const std::string& name, const Sums& g, double total_visitors) {
  auto round2 = [](double x) { return std::round(x * 100.0) / 100.0; };
  double visits = g[1];
  if (name == "visitors") return g[0];
  if (name == "visits") return visits;
  if (name == "pageviews") return g[2];
  if (name == "events") return g[3];
  if (name == "views_per_visit") return visits > 0 ? round2(g[2] / visits) : 0.0;
  if (name == "bounce_rate") return visits > 0 ? round2(g[5] / visits * 100.0) : 0.0;
  if (name == "visit_duration") return visits > 0 ? std::round(g[4] / visits / 1000.0) : 0.0;
  if (name == "time_on_page") return g[7] == 0 ? std::nullopt : std::optional(std::round(g[6] / g[7] / 1000.0));
  if (name == "scroll_depth") return g[9] == 0 ? std::nullopt : std::optional(std::round(g[8] / g[9]));
  if (name == "percentage") return total_visitors > 0 ? round2(g[0] / total_visitors * 100.0) : 0.0;
  return std::nullopt;
}

class ExploreTest : public ::testing::Test {
 protected:
  // Visitors with one to three visits over three days; each visit a few events, some with no
  // pageview, some at the same millisecond; pages, sources, campaigns, searches, countries and
  // browsers from short lists with empty values and letters of both cases among them.
  void SetUp() override {
    std::mt19937_64 rng(20261206);
    auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
    const std::vector<std::string> names = {
        "pageview",   "pageview", "pageview", "engagement", "engagement", "File Download", "Outbound Link: Click",
        "Poll answer"};
    const std::vector<std::string> paths = {"/", "/a", "/b", "/Economy", "/economy/inflation", "/census/2021"};
    const std::vector<std::string> sources = {"", "", "Google", "Bing", "Newsletter", "bbc.co.uk"};
    const std::vector<std::string> campaigns = {"", "", "", "gdp-release", "CPI"};
    const std::vector<std::string> countries = {"GB", "GB", "FR", "", "IE"};
    const std::vector<std::string> browsers = {"Chrome", "Firefox", "Safari", ""};
    const std::vector<std::string> devices = {"Desktop", "Mobile", "Tablet", ""};
    const std::vector<std::string> props = {"", "", R"({"answer":"yes"})", R"({"answer":"No"})", R"({"n":"5"})"};
    int64_t visit = 100;
    for (int64_t visitor = 1; visitor <= 70; ++visitor) {
      int visits = 1 + static_cast<int>(rng() % 3);
      std::string country = pick(countries), browser = pick(browsers), device = pick(devices);
      for (int v = 0; v < visits; ++v, ++visit) {
        int64_t ts = kT0 - int64_t{6} * 3'600'000 + static_cast<int64_t>(rng() % (3 * kDay));
        int events = 1 + static_cast<int>(rng() % 5);
        std::string source = pick(sources), campaign = pick(campaigns);
        for (int e = 0; e < events; ++e) {
          std::string name = pick(names);
          bool engagement = name == "engagement";
          bool goal = !engagement && name != "pageview";
          store::Value engaged =
              engagement && rng() % 4 ? store::Value(static_cast<int64_t>(rng() % 90'000)) : store::Value();
          store::Value scroll =
              engagement && rng() % 3 ? store::Value(static_cast<int64_t>(rng() % 101)) : store::Value();
          std::string search = name == "pageview" && rng() % 4 == 0 ? (rng() % 2 ? "cpi" : "Population") : "";
          Add({ts, "ons.gov.uk", name, rng() % 5 ? "www.ons.gov.uk" : "ons.gov.uk", pick(paths), e == 0 ? source : "",
               e == 0 && !source.empty() ? "https://" + source + "/" : "", "", e == 0 ? campaign : "", search, visitor,
               visit, static_cast<int64_t>(rng() % 4 != 0), engaged, scroll, goal ? pick(props) : "", country, browser,
               device});
          if (rng() % 4 != 0) ts += static_cast<int64_t>(rng() % 600'000);  // else the same millisecond
        }
      }
    }
    // Another site's, never counted here.
    Add({kT0, "elsewhere.uk", "pageview", "elsewhere.uk", "/", "", "", "", "", "", int64_t{999}, int64_t{999},
         int64_t{1}, store::Value(), store::Value(), "", "GB", "Chrome", "Desktop"});
  }

  void Add(std::vector<store::Value> row) {
    ASSERT_TRUE(site_.store()
                    .Write([&](store::Connection& c) -> Status {
                      auto n = c.Exec(
                          "INSERT INTO analytics_events (ts, site, name, hostname, path, source, referrer, "
                          "utm_medium, utm_campaign, search, visitor, visit, interactive, engaged_ms, scroll_depth, "
                          "props, country, browser, device) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                          "?, ?, ?)",
                          row);
                      if (!n.ok()) return n.error();
                      return Ok();
                    })
                    .ok());
  }

  // Explore's answer to `body` with every metric, against the reference's.
  void Agrees(const std::string& dimensions, const std::string& filters,
              const std::string& range = R"(["2026-12-31","2027-01-04"])") {
    std::string body = R"({"site_id":"ons.gov.uk","date_range":)" + range +
                       R"(,"metrics":[)"
                       R"("visitors","visits","pageviews","events","views_per_visit","bounce_rate","visit_duration",)"
                       R"("time_on_page","scroll_depth","percentage"],"dimensions":)" +
                       dimensions + R"(,"filters":)" + filters + R"(,"pagination":{"limit":1000}})";
    auto request = ReadQuery(body, {"ons.gov.uk"}, SystemTime(std::chrono::milliseconds(kT0 + 2 * kDay)));
    ASSERT_TRUE(request.ok()) << request.error().message << " " << body;
    auto explored = Explore(site_.store(), *request);
    ASSERT_TRUE(explored.ok()) << explored.error().message << " " << body;

    auto expected = Reference(site_.store(), *request);
    QueryRequest all = *request;
    all.dimensions.clear();
    auto whole = Reference(site_.store(), all);
    double total = whole.empty() ? 0 : whole.begin()->second[0];
    std::map<std::vector<std::string>, std::vector<std::optional<double>>> want, got;
    for (const auto& [labels, sums] : expected) {
      for (const auto& m : request->metrics) want[labels].push_back(Metric(m, sums, total));
    }
    for (const auto& row : explored->rows) got[row.dimensions] = row.metrics;
    EXPECT_EQ(got, want) << dimensions << " " << filters;
    EXPECT_EQ(explored->total_rows, static_cast<int64_t>(expected.size())) << dimensions << " " << filters;
    ++checked_;
    if (!expected.empty()) ++answered_;
  }

  store::testing::ScratchSite site_{Migrations()};
  int checked_ = 0, answered_ = 0;
};

TEST_F(ExploreTest, EveryDimensionAndFilterAgreesWithTheReference) {
  const std::vector<std::string> dimensions = {
      "[]",
      R"(["event:page"])",
      R"(["visit:source","event:page"])",
      R"(["visit:entry_page","visit:exit_page"])",
      R"(["event:goal"])",
      R"(["event:name","event:hostname"])",
      R"(["event:search"])",
      R"(["visit:referrer"])",
      R"(["visit:utm_campaign","visit:country"])",
      R"(["visit:browser","visit:device"])",
      R"(["event:props:answer"])",
      R"(["event:props:n","event:page"])",
      R"(["time:hour"])",
      R"(["time:day","visit:source"])",
      R"(["time:week"])",
      R"(["time:month","event:page"])",
  };
  const std::vector<std::string> filters = {
      "[]",
      R"([["is","event:page",["/a","/b"]]])",
      R"([["is","event:page",["/economy"],{"case_sensitive":false}]])",
      R"([["contains","event:page",["econ"],{"case_sensitive":false}]])",
      R"([["contains_not","event:page",["/a"]]])",
      R"([["matches","event:page",["^/[ab]$"]]])",
      R"([["matches_not","event:page",["^/E"],{"case_sensitive":false}]])",
      R"([["is","visit:source",["Direct / None"]]])",
      R"([["is_not","visit:source",["Google"]]])",
      R"j([["is","visit:country",["(not known)","FR"]]])j",
      R"([["is","visit:entry_page",["/"]],["is","visit:exit_page",["/a","/b"]]])",
      R"([["or",[["is","visit:device",["Mobile"]],["contains","event:goal",["Poll"]]]]])",
      R"([["not",["and",[["is","visit:browser",["Chrome"]],["is","event:page",["/"]]]]]])",
      R"j([["is","event:props:answer",["yes","(none)"]]])j",
      R"([["is","event:props:answer",["no"],{"case_sensitive":false}]])",
      R"([["is","event:hostname",["ons.gov.uk"]],["is_not","visit:utm_campaign",["CPI"]]])",
  };
  for (const auto& d : dimensions) {
    for (const auto& f : filters) Agrees(d, f);
  }
  // One day, cutting visits that crossed midnight: each visit is what its events of the day say.
  for (const auto& d : {R"(["visit:entry_page","visit:exit_page"])", R"(["time"])", R"(["visit:source"])"}) {
    Agrees(d, "[]", R"(["2027-01-02","2027-01-02"])");
    Agrees(d, R"([["is_not","event:page",["/"]]])", R"(["2027-01-02","2027-01-02"])");
  }
  EXPECT_EQ(checked_, static_cast<int>(dimensions.size() * filters.size()) + 6);
  EXPECT_GT(answered_, checked_ * 3 / 4) << "most requests have something to count";
}

// A visit's attributes come from its own events in the range; a visit of the range with no
// pageview is no visit; the groups of a visitor's visits count the visitor once.
TEST_F(ExploreTest, VisitsAndVisitorsAreCountedOnce) {
  Agrees(R"(["visit:source"])", "[]");
  auto request = ReadQuery(R"({"site_id":"ons.gov.uk","date_range":["2026-12-31","2027-01-04"],)"
                           R"("metrics":["visitors","visits"]})",
                           {"ons.gov.uk"}, SystemTime(std::chrono::milliseconds(kT0 + 2 * kDay)));
  ASSERT_TRUE(request.ok());
  auto explored = Explore(site_.store(), *request);
  ASSERT_TRUE(explored.ok());
  ASSERT_EQ(explored->rows.size(), 1u);
  int64_t visitors = 0, visits = 0;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        auto rows,
                        c.Query("SELECT count(DISTINCT visitor), count(DISTINCT visit) FROM analytics_events "
                                "WHERE site = 'ons.gov.uk' AND name = 'pageview' AND ts >= ? AND ts < ?",
                                {request->query.from_ms, request->query.to_ms}));
                    visitors = rows.front().Int(0), visits = rows.front().Int(1);
                    return Ok();
                  })
                  .ok());
  EXPECT_GT(visits, visitors);
  EXPECT_EQ(explored->rows.front().metrics,
            (std::vector<std::optional<double>>{static_cast<double>(visitors), static_cast<double>(visits)}));
}

}  // namespace
}  // namespace steward::analytics
