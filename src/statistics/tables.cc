#include "statistics/tables.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "core/days.h"
#include "core/json_text.h"
#include "core/strings.h"

namespace steward::statistics {
namespace {

// The first day of month `index` (months since year 0).
int64_t MonthStart(int64_t index) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-01", static_cast<int>(index / 12), static_cast<int>(index % 12 + 1));
  return *ParseDay(text);
}

int64_t MonthsIn(Period p) { return p == Period::kMonth ? 1 : p == Period::kQuarter ? 3 : 12; }

// The period that starts at month `index` (aligned to the period).
PeriodSpan SpanAt(Period p, int64_t index) {
  int64_t y = index / 12, m = index % 12;
  char label[16];
  if (p == Period::kMonth) {
    std::snprintf(label, sizeof label, "%04d-%02d", static_cast<int>(y), static_cast<int>(m + 1));
  } else if (p == Period::kQuarter) {
    std::snprintf(label, sizeof label, "%04d-Q%d", static_cast<int>(y), static_cast<int>(m / 3 + 1));
  } else {
    std::snprintf(label, sizeof label, "%04d", static_cast<int>(y));
  }
  return {label, MonthStart(index), MonthStart(index + MonthsIn(p))};
}

// The month index of a day, aligned down to the period.
int64_t AlignedIndex(Period p, int64_t day) {
  std::string text = DayText(day);
  int64_t index = std::stoll(text.substr(0, 4)) * 12 + std::stoll(text.substr(5, 2)) - 1;
  return index - index % MonthsIn(p);
}

}  // namespace

std::string_view PeriodName(Period p) {
  switch (p) {
    case Period::kMonth:
      return "month";
    case Period::kQuarter:
      return "quarter";
    case Period::kYear:
      return "year";
  }
  return "month";
}

const TableSpec* Settings::Find(std::string_view id) const {
  for (const auto& t : tables) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

Result<std::optional<Settings>> ReadSettings(const config::Config& config, const processing::Register& reg) {
  config::Problems problems(config.document->path());
  config::Table root = config.document->Root(problems);
  auto table = root.Child("statistics");
  if (!table) return std::optional<Settings>();
  Settings s;
  s.file = config.document->path();
  if (table->String("purpose", s.purpose, /*required=*/true) && reg.FindPurpose(s.purpose) == nullptr) {
    problems.Add(table->Where("purpose"),
                 "[statistics] 'purpose' names '" + s.purpose + "', which the register does not declare");
  }
  std::string period = "month";
  table->String("period", period);
  if (period == "month") {
    s.period = Period::kMonth;
  } else if (period == "quarter") {
    s.period = Period::kQuarter;
  } else if (period == "year") {
    s.period = Period::kYear;
  } else {
    problems.Add(table->Where("period"), "[statistics] 'period' is \"month\", \"quarter\" or \"year\"");
  }
  table->Int("threshold", s.rule.threshold, 2, 1000);
  std::string method = "round";
  table->String("method", method);
  if (method == "round") {
    s.rule.method = Method::kRound;
  } else if (method == "cell-key") {
    s.rule.method = Method::kCellKey;
  } else {
    problems.Add(table->Where("method"),
                 "[statistics] 'method' is \"round\" (to the nearest `rounding`) or \"cell-key\" (each count moved by "
                 "up to `spread`, the same way every time)");
  }
  table->Int("rounding", s.rule.rounding, 1, 100);
  table->Int("spread", s.rule.spread, 1, 10);
  std::set<std::string> ids;
  for (auto& t : table->Children("tables")) {
    TableSpec spec{.where = t.where()};
    if (t.String("id", spec.id, /*required=*/true)) {
      bool shaped = !spec.id.empty() && std::all_of(spec.id.begin(), spec.id.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
      });
      if (!shaped) {
        problems.Add(t.Where("id"), "[[statistics.tables]] 'id' is lower-case letters, digits and dashes");
      } else if (!ids.insert(spec.id).second) {
        problems.Add(t.Where("id"), "[[statistics.tables]] 'id' \"" + spec.id + "\" is used twice");
      }
    }
    t.String("title", spec.title, /*required=*/true);
    t.String("count", spec.count, /*required=*/true);
    t.String("by", spec.by);
    t.Finish();
    s.tables.push_back(std::move(spec));
  }
  if (s.tables.empty()) problems.Add(table->where(), "[statistics] declares no [[statistics.tables]]");
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

Status CheckTables(const Settings& s, const processing::Register& reg, const std::vector<module::Counter>& counters) {
  config::Problems problems(s.file);
  for (const auto& t : s.tables) {
    auto c = std::find_if(counters.begin(), counters.end(), [&](const module::Counter& c) { return c.id == t.count; });
    if (c == counters.end()) {
      std::string known;
      for (const auto& k : counters) known += (known.empty() ? "" : ", ") + k.id;
      problems.Add(t.where, "[[statistics.tables]] '" + t.id + "' counts '" + t.count +
                                "', which no module of this site counts (" + (known.empty() ? "none" : known) + ")");
      continue;
    }
    if (!t.by.empty() && std::none_of(c->dimensions.begin(), c->dimensions.end(),
                                      [&](const module::Dimension& d) { return d.id == t.by; })) {
      std::string known;
      for (const auto& d : c->dimensions) known += (known.empty() ? "" : ", ") + d.id;
      problems.Add(t.where, "[[statistics.tables]] '" + t.id + "' is by '" + t.by + "', which '" + t.count +
                                "' cannot be broken down by (" + known + ")");
    }
    const auto* d = reg.FindDataset(c->dataset);
    if (d == nullptr || std::find(d->purposes.begin(), d->purposes.end(), s.purpose) == d->purposes.end()) {
      problems.Add(t.where, "[[statistics.tables]] '" + t.id + "' reads dataset '" + c->dataset +
                                "', which the register does not declare for purpose '" + s.purpose +
                                "': add it to the dataset's purposes, as the notice must say");
    }
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return Ok();
}

std::vector<PeriodSpan> WholePeriods(Period p, int64_t today, std::optional<int64_t> from, size_t limit) {
  std::vector<PeriodSpan> out;
  int64_t current = AlignedIndex(p, today);  // not yet whole
  int64_t first = from ? AlignedIndex(p, *from) : current - MonthsIn(p) * static_cast<int64_t>(limit);
  if (from && MonthStart(first) < *from) first += MonthsIn(p);
  for (int64_t i = first; i < current; i += MonthsIn(p)) out.push_back(SpanAt(p, i));
  if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<ptrdiff_t>(limit));
  return out;
}

std::optional<PeriodSpan> ParsePeriod(Period p, std::string_view label) {
  int y = 0, n = 0;
  char tail = 0;
  std::string text(label);
  if (p == Period::kMonth && text.size() == 7 && std::sscanf(text.c_str(), "%4d-%2d%c", &y, &n, &tail) == 2 && n >= 1 &&
      n <= 12 && y >= 1970 && y < 3000) {
    return SpanAt(p, int64_t{y} * 12 + n - 1);
  }
  if (p == Period::kQuarter && text.size() == 7 && std::sscanf(text.c_str(), "%4d-Q%1d%c", &y, &n, &tail) == 2 &&
      n >= 1 && n <= 4 && y >= 1970 && y < 3000) {
    return SpanAt(p, int64_t{y} * 12 + int64_t{n - 1} * 3);
  }
  if (p == Period::kYear && text.size() == 4 && std::sscanf(text.c_str(), "%4d%c", &y, &tail) == 1 && y >= 1970 &&
      y < 3000) {
    return SpanAt(p, int64_t{y} * 12);
  }
  return std::nullopt;
}

Result<Published> Build(const Settings& s, const TableSpec& spec, const std::vector<module::Counter>& counters,
                        const std::vector<PeriodSpan>& periods) {
  auto c = std::find_if(counters.begin(), counters.end(), [&](const module::Counter& c) { return c.id == spec.count; });
  if (c == counters.end()) return MakeError(ErrorCode::kNotFound, "no module of this site counts " + spec.count);
  Published out{.id = spec.id, .title = spec.title, .counted = c->title, .rule = s.rule.Name()};
  const module::Dimension* dim = nullptr;
  for (const auto& d : c->dimensions) {
    if (d.id == spec.by) dim = &d;
  }
  if (!spec.by.empty() && dim == nullptr) {
    return MakeError(ErrorCode::kNotFound, spec.count + " cannot be broken down by " + spec.by);
  }
  if (dim != nullptr) out.by = dim->title;
  // Counts and cell keys by period and category.
  struct Cell {
    int64_t n = 0;
    uint32_t key = 0;
  };
  std::vector<std::map<std::string, Cell>> by_period(periods.size());
  std::vector<Cell> totals(periods.size());
  for (size_t i = 0; i < periods.size(); ++i) {
    STEWARD_RETURN_IF_ERROR(c->scan(periods[i].from, periods[i].to, spec.by, [&](const module::Counted& r) {
      if (r.day < periods[i].from || r.day >= periods[i].to) return;
      Cell& cell = by_period[i][r.category];
      cell.n += 1;
      cell.key = (cell.key + r.key) & 255u;
      totals[i].n += 1;
      totals[i].key = (totals[i].key + r.key) & 255u;
    }));
  }
  if (dim != nullptr) {
    if (!dim->categories.empty()) {
      out.categories = dim->categories;
    } else {
      // Categories found in the records, each named: a period in which one has none shows a zero,
      // which changes nothing of how the others are protected, so every range publishes the same
      // figures for a period it shares with another.
      std::set<std::string> seen;
      for (const auto& p : by_period) {
        for (const auto& [name, cell] : p) seen.insert(name);
      }
      out.categories.assign(seen.begin(), seen.end());
    }
  }
  for (size_t i = 0; i < periods.size(); ++i) {
    Block b;
    for (const auto& name : out.categories) {
      auto it = by_period[i].find(name);
      b.counts.push_back(it == by_period[i].end() ? 0 : it->second.n);
      b.keys.push_back(it == by_period[i].end() ? 0 : it->second.key);
    }
    // Records whose category a fixed list does not name still count in the total.
    if (dim != nullptr && !dim->categories.empty()) {
      Cell rest;
      for (const auto& [name, cell] : by_period[i]) {
        if (std::find(out.categories.begin(), out.categories.end(), name) == out.categories.end()) {
          rest.n += cell.n;
          rest.key = (rest.key + cell.key) & 255u;
        }
      }
      if (rest.n > 0) {
        // A fixed list ends with its own catch-all ("Other", "Not given"): the rest goes there.
        b.counts.back() += rest.n;
        b.keys.back() = (b.keys.back() + rest.key) & 255u;
      }
    }
    b.total_key = totals[i].key;
    Protected p = Protect(b, s.rule);
    out.rows.push_back({.period = periods[i].label, .cells = std::move(p.cells), .total = p.total});
  }
  return out;
}

std::string ToJson(const Published& t) {
  nlohmann::json rows = nlohmann::json::array();
  auto value = [](const Shown& s) -> nlohmann::json { return s.value ? nlohmann::json(*s.value) : nlohmann::json(); };
  for (const auto& r : t.rows) {
    nlohmann::json counts = nlohmann::json::array();
    for (const auto& c : r.cells) counts.push_back(value(c));
    rows.push_back({{"period", r.period}, {"counts", counts}, {"total", value(r.total)}});
  }
  nlohmann::json j{{"table", t.id},
                   {"title", t.title},
                   {"counted", t.counted},
                   {"by", t.by},
                   {"categories", t.categories},
                   {"rule", t.rule},
                   {"suppressed", "null: a count suppressed by the rule"},
                   {"periods", rows}};
  return JsonText(j, 2);
}

std::string ToCsv(const Published& t) {
  std::string out = "period,category,count,rule\r\n";
  auto value = [](const Shown& s) { return s.value ? std::to_string(*s.value) : std::string("[c]"); };
  for (const auto& r : t.rows) {
    for (size_t i = 0; i < r.cells.size(); ++i) {
      out += CsvField(r.period) + "," + CsvField(t.categories[i]) + "," + value(r.cells[i]) + "," + CsvField(t.rule) +
             "\r\n";
    }
    out += CsvField(r.period) + ",Total," + value(r.total) + "," + CsvField(t.rule) + "\r\n";
  }
  return out;
}

}  // namespace steward::statistics
