// The statistics a site publishes for its partners ([statistics] in the site's file): tables of
// counts by period and by one category, from what the modules count (module/counting.h), each
// protected by disclosure control (sdc.h) before anyone sees it, with the rule named on it.
//
// Only whole periods are published (the current month, quarter or year is not yet a period: its
// counts would change and two versions of it would tell the records between them), every period
// is protected on its own and always the same way, and all of a site's tables share one period
// length, so no table's cells add up to another's. A category a period has none of shows a zero,
// which changes nothing of how the others are protected.
//
//   [statistics]
//   purpose = "partner-statistics"
//   period = "month"
//   [[statistics.tables]]
//   id = "registrations-by-route"
//   title = "New accounts by how they came"
//   count = "accounts.registrations"
//   by = "route"
//
// Thread safety: Settings is a value; Build reads through the counters' own snapshots.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/document.h"
#include "core/result.h"
#include "module/counting.h"
#include "register/register.h"
#include "statistics/sdc.h"

namespace steward::statistics {

enum class Period { kMonth, kQuarter, kYear };

struct TableSpec {
  std::string id, title;
  std::string count;  // a counter's id
  std::string by;     // one of the counter's dimensions; "": totals only
  config::Position where;
};

struct Settings {
  std::string purpose;  // the register's purpose the tables serve
  Period period = Period::kMonth;
  Rule rule;
  std::vector<TableSpec> tables;
  std::string file;  // the site's file, for errors found once the counters are known
  const TableSpec* Find(std::string_view id) const;
};

// Reads [statistics]; nullopt when the site has none. Errors: kInvalidArgument with FILE:LINE:COLUMN
// for each problem (an unknown purpose, period or method, a threshold under 2, two tables of one
// id).
Result<std::optional<Settings>> ReadSettings(const config::Config& config, const processing::Register& reg);

// Checks each table against what the modules count: its counter exists, it breaks down by a
// dimension the counter has, and the counter's dataset is declared for the purpose. Errors:
// kInvalidArgument with FILE:LINE:COLUMN for each problem.
Status CheckTables(const Settings& s, const processing::Register& reg, const std::vector<module::Counter>& counters);

// A period's label ("2026-03", "2026-Q1", "2026") and its days [from, to).
struct PeriodSpan {
  std::string label;
  int64_t from = 0, to = 0;
};
// The whole periods that start at or after `from` and end before `today` (days), at most `limit`
// of the latest. `from` nullopt: the last `limit`.
std::vector<PeriodSpan> WholePeriods(Period p, int64_t today, std::optional<int64_t> from, size_t limit);
// The period of that label ("2026-03" for months); nullopt when it is not one.
std::optional<PeriodSpan> ParsePeriod(Period p, std::string_view label);
std::string_view PeriodName(Period p);  // "month", "quarter", "year"

struct PublishedRow {
  std::string period;
  std::vector<Shown> cells;
  Shown total;
};

struct Published {
  std::string id, title;
  std::string counted;  // the counter's title: "New accounts"
  std::string by;       // the dimension's title; "" for totals only
  std::string rule;     // the rule's name
  std::vector<std::string> categories;
  std::vector<PublishedRow> rows;
};

// Counts `spec` over `periods` and protects each period. Errors: kNotFound for a counter the site
// does not have; a counter's own errors.
Result<Published> Build(const Settings& s, const TableSpec& spec, const std::vector<module::Counter>& counters,
                        const std::vector<PeriodSpan>& periods);

// The published table as JSON (suppressed counts as null, the rule named) and as CSV, one row per
// period and category with the rule in each ("[c]" for a suppressed count, as the ONS marks one).
std::string ToJson(const Published& t);
std::string ToCsv(const Published& t);

}  // namespace steward::statistics
