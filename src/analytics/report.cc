#include "analytics/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/json_text.h"

namespace steward::analytics {
namespace {

// The tables, in the order an analyst reads them, with what their count column counts.
constexpr struct {
  Dimension dimension;
  const char* count;
} kTables[] = {
    {Dimension::kPage, "pageviews"},
    {Dimension::kEntryPage, "visits"},
    {Dimension::kSource, "visits"},
    {Dimension::kCampaign, "pageviews"},
    {Dimension::kCountry, "pageviews"},
    {Dimension::kDevice, "pageviews"},
    {Dimension::kBrowser, "pageviews"},
    {Dimension::kOs, "pageviews"},
    {Dimension::kEvent, "events"},
    {Dimension::kSearch, "searches"},
    {Dimension::kSearchNoResults, "searches"},
};

std::string Fixed(double v, int places) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", places, v);
  return buf;
}

}  // namespace

Result<std::string> Report(Stats& stats, const std::string& site, DayRange days, std::string_view format, int top) {
  if (format != "text" && format != "json" && format != "csv") {
    return MakeError(ErrorCode::kInvalidArgument, "format: choose text, json or csv");
  }
  Query q{.site = site, .from_ms = days.from * kDayMillis, .to_ms = days.to * kDayMillis};
  STEWARD_ASSIGN_OR_RETURN(Headline h, stats.Aggregate(q));
  std::vector<std::pair<std::string, std::string>> headline = {
      {"visitors", std::to_string(h.visitors)},         {"visits", std::to_string(h.visits)},
      {"pageviews", std::to_string(h.pageviews)},       {"views_per_visit", Fixed(h.views_per_visit, 2)},
      {"bounce_rate", Fixed(h.bounce_rate * 100.0, 0)}, {"visit_duration", Fixed(h.visit_duration_s, 0)},
  };
  std::vector<std::pair<size_t, std::vector<BreakdownRow>>> tables;
  for (size_t i = 0; i < std::size(kTables); ++i) {
    STEWARD_ASSIGN_OR_RETURN(auto rows, stats.Breakdown(q, kTables[i].dimension, top));
    tables.emplace_back(i, std::move(rows));
  }
  std::string from = DayText(days.from), to = DayText(days.to - 1);

  if (format == "json") {
    nlohmann::ordered_json out = {{"site", site}, {"from", from}, {"to", to}};
    out["headline"] = {{"visitors", h.visitors},
                       {"visits", h.visits},
                       {"pageviews", h.pageviews},
                       {"views_per_visit", h.views_per_visit},
                       {"bounce_rate", h.bounce_rate * 100.0},
                       {"visit_duration", h.visit_duration_s}};
    out["tables"] = nlohmann::ordered_json::object();
    for (const auto& [i, rows] : tables) {
      auto list = nlohmann::ordered_json::array();
      for (const auto& r : rows)
        list.push_back({{"key", r.key}, {"visitors", r.visitors}, {kTables[i].count, r.count}});
      out["tables"][std::string(DimensionName(kTables[i].dimension))] = std::move(list);
    }
    return JsonText(out, 2) + "\n";
  }
  if (format == "csv") {
    std::string out = "table,key,metric,value\r\n";
    for (const auto& [name, value] : headline) out += "headline,," + name + "," + value + "\r\n";
    for (const auto& [i, rows] : tables) {
      std::string table(DimensionName(kTables[i].dimension));
      for (const auto& r : rows) {
        out += table + "," + CsvField(r.key) + ",visitors," + std::to_string(r.visitors) + "\r\n";
        out += table + "," + CsvField(r.key) + "," + kTables[i].count + "," + std::to_string(r.count) + "\r\n";
      }
    }
    return out;
  }
  std::string out = site + ", " + from + " to " + to + " (UTC)\n\n";
  for (const auto& [name, value] : headline) {
    std::string unit = name == "bounce_rate" ? "%" : name == "visit_duration" ? " s" : "";
    char line[128];
    std::snprintf(line, sizeof line, "  %-16s %12s%s\n", name.c_str(), value.c_str(), unit.c_str());
    out += line;
  }
  for (const auto& [i, rows] : tables) {
    out += "\n" + std::string(DimensionName(kTables[i].dimension)) + "\n";
    if (rows.empty()) out += "  (nothing)\n";
    for (const auto& r : rows) {
      // Keys come from visitors' browsers: only printable characters reach the terminal.
      std::string key;
      for (char c : r.key.substr(0, 60)) key += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
      char line[256];
      std::snprintf(line, sizeof line, "  %-60s %10lld visitors %10lld %s\n", key.c_str(),
                    static_cast<long long>(r.visitors), static_cast<long long>(r.count), kTables[i].count);
      out += line;
    }
  }
  return out;
}

}  // namespace steward::analytics
