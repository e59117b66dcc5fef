#include "analytics/dashboard.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/strings.h"
#include "register/versions.h"

namespace steward::analytics {
namespace {

namespace chr = std::chrono;

constexpr int64_t kDayMs = kDayMillis;

using module::LongDay;
using module::Thousands;

std::string Duration(double seconds) {
  auto s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return std::to_string(s) + "s";
  char buf[32];
  if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  }
  return buf;
}

std::string Percent(double share) { return std::to_string(static_cast<int64_t>(std::llround(share * 100))) + "%"; }

std::string Decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// "+12%", "-5%", "no change", or "new" when there was nothing before.
std::string Change(double now, double before) {
  if (before == 0) return now == 0 ? "no change" : "new";
  auto pct = static_cast<int64_t>(std::llround((now - before) / before * 100));
  if (pct == 0) return "no change";
  return (pct > 0 ? "+" : "") + std::to_string(pct) + "%";
}

struct TableSpec {
  Dimension d;
  const char* title;
  const char* key_heading;
  const char* count_heading;
};

constexpr TableSpec kTables[] = {
    {Dimension::kPage, "Top pages", "Page", "Pageviews"},
    {Dimension::kEntryPage, "Entry pages", "Page", "Visits"},
    {Dimension::kExitPage, "Exit pages", "Page", "Visits"},
    {Dimension::kSource, "Sources", "Source", "Visits"},
    {Dimension::kReferrer, "Referrers", "Referrer", "Pageviews"},
    {Dimension::kCampaign, "Campaigns (utm_campaign)", "Campaign", "Pageviews"},
    {Dimension::kEvent, "Custom events and goals", "Event", "Events"},
    {Dimension::kEventProperty, "Poll results and event properties", "Event and property", "Events"},
    {Dimension::kSearch, "Site searches", "Search term", "Searches"},
    {Dimension::kSearchNoResults, "Searches with no results", "Search term", "Searches"},
    {Dimension::kEngagement, "Time on page and scroll depth", "Page", "Reports"},
    {Dimension::kDevice, "Devices", "Device", "Pageviews"},
    {Dimension::kBrowser, "Browsers", "Browser", "Pageviews"},
    {Dimension::kOs, "Operating systems", "Operating system", "Pageviews"},
    {Dimension::kCountry, "Countries", "Country", "Pageviews"},
};

}  // namespace

Result<DashboardRange> ParseDashboardRange(const http::Params& query, const std::vector<std::string>& sites,
                                           SystemTime now) {
  if (sites.empty()) return MakeError(ErrorCode::kFailedPrecondition, "analytics is not set up for this site");
  auto field = [&](std::string_view name) {
    const std::string* v = http::Find(query, name);
    return v ? std::string(Trim(*v)) : std::string();
  };
  DashboardRange r;
  std::string site = field("site");
  if (site.empty()) site = sites.front();
  if (std::find(sites.begin(), sites.end(), site) == sites.end()) {
    return MakeError(ErrorCode::kInvalidArgument, "site: not one of this Steward's analytics domains");
  }
  int64_t today = UnixMillis(now) / kDayMs;
  r.period = field("period").empty() ? "7d" : field("period");
  static constexpr std::pair<std::string_view, std::string_view> kLabels[] = {{"today", "Today"},
                                                                              {"7d", "Last 7 days"},
                                                                              {"30d", "Last 30 days"},
                                                                              {"month", "This month"},
                                                                              {"custom", "Custom range"}};
  auto label = std::find_if(std::begin(kLabels), std::end(kLabels), [&](const auto& l) { return l.first == r.period; });
  if (label == std::end(kLabels)) {
    return MakeError(ErrorCode::kInvalidArgument, "period: choose today, 7d, 30d, month or custom");
  }
  r.label = std::string(label->second);
  std::string spec = r.period;
  if (r.period == "custom") {
    // Each date named on its own, for the form's messages; the range rules are ResolvePeriod's.
    if (!ParseDay(field("from"))) return MakeError(ErrorCode::kInvalidArgument, "from: enter a date as YYYY-MM-DD");
    if (!ParseDay(field("to"))) return MakeError(ErrorCode::kInvalidArgument, "to: enter a date as YYYY-MM-DD");
    spec = field("from") + ".." + field("to");
  }
  auto days = ResolvePeriod(spec, today);
  if (!days.ok()) {
    const std::string& m = days.error().message;
    return MakeError(ErrorCode::kInvalidArgument, "to: " + m.substr(m.find(':') + 2));
  }
  int64_t from = days->from, to = days->to;  // days, [from, to)
  r.label += " (" + (to - from == 1 ? LongDay(from) : LongDay(from) + " to " + LongDay(to - 1)) + ")";
  r.current = {.site = site,
               .from_ms = from * kDayMs,
               .to_ms = to * kDayMs,
               .page = field("page"),
               .source = field("source"),
               .country = field("country"),
               .device = field("device")};
  r.previous = r.current;
  r.previous.from_ms = (2 * from - to) * kDayMs;
  r.previous.to_ms = from * kDayMs;
  return r;
}

Result<html::Object> DashboardData(Stats& stats, const DashboardRange& range, const std::vector<std::string>& sites,
                                   const std::string& query_string) {
  STEWARD_ASSIGN_OR_RETURN(Headline now, stats.Aggregate(range.current));
  STEWARD_ASSIGN_OR_RETURN(Headline before, stats.Aggregate(range.previous));
  html::List headline;
  auto metric = [&](const char* name, std::string value, std::string previous, double a, double b,
                    bool lower_is_better) {
    std::string change = Change(a, b);
    bool better = change != "no change" && change != "new" && ((a > b) != lower_is_better);
    headline.push_back(html::Object{{"name", name},
                                    {"value", std::move(value)},
                                    {"previous", std::move(previous)},
                                    {"change", change},
                                    {"better", better}});
  };
  metric("Unique visitors", Thousands(now.visitors), Thousands(before.visitors), now.visitors, before.visitors, false);
  metric("Visits", Thousands(now.visits), Thousands(before.visits), now.visits, before.visits, false);
  metric("Pageviews", Thousands(now.pageviews), Thousands(before.pageviews), now.pageviews, before.pageviews, false);
  metric("Views per visit", Decimal(now.views_per_visit), Decimal(before.views_per_visit), now.views_per_visit,
         before.views_per_visit, false);
  metric("Bounce rate", Percent(now.bounce_rate), Percent(before.bounce_rate), now.bounce_rate, before.bounce_rate,
         true);
  metric("Visit duration", Duration(now.visit_duration_s), Duration(before.visit_duration_s), now.visit_duration_s,
         before.visit_duration_s, false);

  STEWARD_ASSIGN_OR_RETURN(auto days, stats.Daily(range.current));
  std::vector<module::ChartPoint> points;
  points.reserve(days.size());
  for (const auto& d : days) points.push_back({d.day, {d.pageviews, d.visitors}});
  html::Object chart = module::DailyChart("Pageviews per day, " + range.label, {"Pageviews", "Visitors"}, points);

  html::List tables;
  for (const auto& spec : kTables) {
    STEWARD_ASSIGN_OR_RETURN(auto rows, stats.Breakdown(range.current, spec.d, 10));
    html::List list;
    for (const auto& r : rows) {
      std::string extra;
      if (spec.d == Dimension::kEngagement) extra = Duration(r.mean_seconds) + ", " + Percent(r.mean_scroll / 100);
      list.push_back(html::Object{
          {"key", r.key}, {"visitors", Thousands(r.visitors)}, {"count", Thousands(r.count)}, {"extra", extra}});
    }
    std::string name(DimensionName(spec.d));
    tables.push_back(
        html::Object{{"id", name},
                     {"title", spec.title},
                     {"key_heading", spec.key_heading},
                     {"count_heading", spec.count_heading},
                     {"engagement", spec.d == Dimension::kEngagement},
                     {"rows", list},
                     {"empty", list.empty()},
                     {"csv", "/admin/analytics.csv?table=" + name + (query_string.empty() ? "" : "&" + query_string)}});
  }
  html::List site_options;
  for (const auto& s : sites) site_options.push_back(html::Object{{"site", s}, {"selected", s == range.current.site}});
  html::List periods;
  for (const auto& [value, text] : std::vector<std::pair<std::string, std::string>>{{"today", "Today"},
                                                                                    {"7d", "Last 7 days"},
                                                                                    {"30d", "Last 30 days"},
                                                                                    {"month", "This month"},
                                                                                    {"custom", "Custom range"}}) {
    periods.push_back(html::Object{{"value", value}, {"text", text}, {"selected", value == range.period}});
  }
  return html::Object{{"label", range.label},
                      {"site", range.current.site},
                      {"sites", site_options},
                      {"many_sites", sites.size() > 1},
                      {"periods", periods},
                      {"from", DayText(range.current.from_ms / kDayMs)},
                      {"to", DayText(range.current.to_ms / kDayMs - 1)},
                      {"page", range.current.page},
                      {"source", range.current.source},
                      {"country", range.current.country},
                      {"device", range.current.device},
                      {"headline", headline},
                      {"chart", chart},
                      {"tables", tables}};
}

Result<std::string> DashboardCsv(Stats& stats, const DashboardRange& range, Dimension d) {
  STEWARD_ASSIGN_OR_RETURN(auto rows, stats.Breakdown(range.current, d, 1000));
  std::string out = std::string(DimensionName(d)) + ",visitors,count";
  if (d == Dimension::kEngagement) out += ",mean_seconds_on_page,mean_scroll_depth_percent";
  out += "\r\n";
  for (const auto& r : rows) {
    out += CsvField(r.key) + "," + std::to_string(r.visitors) + "," + std::to_string(r.count);
    if (d == Dimension::kEngagement) out += "," + Decimal(r.mean_seconds) + "," + Decimal(r.mean_scroll);
    out += "\r\n";
  }
  return out;
}

}  // namespace steward::analytics
