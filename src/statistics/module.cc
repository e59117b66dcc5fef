#include "statistics/module.h"

#include <cstdio>

#include "core/days.h"
#include "core/strings.h"
#include "statistics/tables.h"

namespace steward::statistics {
namespace {

using http::Request;
using http::Response;

constexpr module::Id kStatistics("statistics");
// The most periods one table shows: ten years of months.
constexpr size_t kMostPeriods = 120;

int64_t Today(const Clock& clock) { return UnixMillis(clock.Now()) / kDayMillis; }

// The periods asked for: from FROM to TO (labels, both included), or the last 12 whole periods.
// Errors: kInvalidArgument naming the option and the shape a period has.
Result<std::vector<PeriodSpan>> Periods(const Settings& s, int64_t today, const std::string& from,
                                        const std::string& to) {
  std::string shape = s.period == Period::kMonth ? "YYYY-MM" : s.period == Period::kQuarter ? "YYYY-Qn" : "YYYY";
  auto all = WholePeriods(s.period, today, std::nullopt, kMostPeriods);
  if (from.empty() && to.empty()) {
    size_t keep = s.period == Period::kMonth ? 12 : s.period == Period::kQuarter ? 8 : 5;
    if (all.size() > keep) all.erase(all.begin(), all.end() - static_cast<ptrdiff_t>(keep));
    return all;
  }
  std::optional<PeriodSpan> first = from.empty() ? std::optional<PeriodSpan>(all.front()) : ParsePeriod(s.period, from);
  if (!first)
    return MakeError(ErrorCode::kInvalidArgument, "from: give a " + std::string(PeriodName(s.period)) + " as " + shape);
  std::optional<PeriodSpan> last = to.empty() ? std::optional<PeriodSpan>(all.back()) : ParsePeriod(s.period, to);
  if (!last)
    return MakeError(ErrorCode::kInvalidArgument, "to: give a " + std::string(PeriodName(s.period)) + " as " + shape);
  if (first->to > today) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "from: " + first->label + " is not over yet; only whole periods are published");
  }
  if (last->from < first->from) {
    return MakeError(ErrorCode::kInvalidArgument, "to: the last period comes before the first");
  }
  if (last->to > today) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "to: " + last->label + " is not over yet; only whole periods are published, the last being " +
                         (all.empty() ? std::string("none yet") : all.back().label));
  }
  std::vector<PeriodSpan> out;
  for (const auto& p : WholePeriods(s.period, last->to, first->from, kMostPeriods + 1)) out.push_back(p);
  if (out.size() > kMostPeriods) {
    return MakeError(ErrorCode::kInvalidArgument, "from: at most " + std::to_string(kMostPeriods) + " periods a table");
  }
  return out;
}

// Builds a table and records who published it.
Result<Published> Publish(module::Platform& p, const Settings& s, const TableSpec& spec,
                          const std::vector<PeriodSpan>& periods, const std::string& actor,
                          const std::string& request_id, const std::string& format) {
  STEWARD_ASSIGN_OR_RETURN(Published t, Build(s, spec, p.counters(), periods));
  STEWARD_RETURN_IF_ERROR(p.trail.Append({.actor = actor,
                                          .action = "statistics.published",
                                          .target = "table:" + spec.id,
                                          .request_id = request_id,
                                          .details = {{"periods", std::to_string(periods.size())},
                                                      {"from", periods.empty() ? "" : periods.front().label},
                                                      {"to", periods.empty() ? "" : periods.back().label},
                                                      {"format", format}}}));
  return t;
}

int StatisticsCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  auto settings = ReadSettings(p.config, p.reg);
  if (!settings.ok()) return module::Fail(settings.error(), 2);
  if (!*settings) {
    return module::Fail(MakeError(ErrorCode::kFailedPrecondition,
                                  "this site publishes no statistics: declare [statistics] and its tables"),
                        2);
  }
  const Settings& s = **settings;
  if (Status checked = CheckTables(s, p.reg, p.counters()); !checked.ok()) return module::Fail(checked.error(), 2);
  const TableSpec* spec = s.Find(ctx.args.Text("--table"));
  if (spec == nullptr) {
    std::string known;
    for (const auto& t : s.tables) known += (known.empty() ? "" : ", ") + t.id;
    return module::Fail(MakeError(ErrorCode::kInvalidArgument, "--table: this site's tables are " + known), 2);
  }
  auto periods = Periods(s, Today(p.clock), ctx.args.Text("--from"), ctx.args.Text("--to"));
  if (!periods.ok()) return module::Fail(MakeError(ErrorCode::kInvalidArgument, "--" + periods.error().message), 2);
  std::string format = ctx.args.Text("--format");
  auto t = Publish(p, s, *spec, *periods, "cli", "", format);
  if (!t.ok()) return module::Fail(t.error());
  std::string out = format == "csv" ? ToCsv(*t) : ToJson(*t) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

class Pages {
 public:
  Pages(module::Platform& p, Settings s) : p_(p), s_(std::move(s)) {}

  Response List(Request& req, module::StaffContext& ctx) {
    html::List tables;
    for (const auto& t : s_.tables) {
      std::string counted, by;
      for (const auto& c : p_.counters()) {
        if (c.id != t.count) continue;
        counted = c.title;
        for (const auto& d : c.dimensions) {
          if (d.id == t.by) by = d.title;
        }
      }
      tables.push_back(html::Object{
          {"id", t.id}, {"title", t.title}, {"counted", counted}, {"by", by.empty() ? "Totals only" : by}});
    }
    return ctx.layout->Page(
        req, ctx, "admin_statistics", "Statistics for partners",
        {{"tables", tables}, {"rule", s_.rule.Name()}, {"period", std::string(PeriodName(s_.period))}}, "statistics");
  }

  Response Table(Request& req, module::StaffContext& ctx) { return Show(req, ctx, false); }
  Response Csv(Request& req, module::StaffContext& ctx) { return Show(req, ctx, true); }

 private:
  Response Show(Request& req, module::StaffContext& ctx, bool csv) {
    const TableSpec* spec = s_.Find(req.PathParam("table"));
    if (spec == nullptr) return ctx.layout->Error(404, req);
    int64_t today = Today(p_.clock);
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    std::string from = module::Field(*query, "from"), to = module::Field(*query, "to");
    std::vector<std::pair<std::string, std::string>> errors;
    auto periods = Periods(s_, today, from, to);
    if (!periods.ok()) {
      errors.push_back(module::FieldError(periods.error(), "from"));
      periods = Periods(s_, today, "", "");
      from.clear();
      to.clear();
    }
    if (csv && !errors.empty()) return ctx.layout->Error(400, req);
    auto t = Publish(p_, s_, *spec, *periods, ctx.actor.id, ctx.actor.request_id, csv ? "csv" : "page");
    if (!t.ok()) return ctx.layout->ErrorFor(t.error(), req);
    if (csv) return module::CsvDownload(ToCsv(*t), spec->id + ".csv");
    std::string first = periods->empty() ? "" : periods->front().label;
    std::string last = periods->empty() ? "" : periods->back().label;
    html::List options;
    for (const auto& period : WholePeriods(s_.period, today, std::nullopt, kMostPeriods)) {
      options.push_back(html::Object{{"value", period.label},
                                     {"text", period.label},
                                     {"from_selected", period.label == first},
                                     {"to_selected", period.label == last}});
    }
    html::List categories, rows;
    for (const auto& c : t->categories) categories.push_back(html::Object{{"name", c}});
    auto text = [](const Shown& s) { return s.value ? module::Thousands(*s.value) : std::string("[c]"); };
    for (const auto& r : t->rows) {
      html::List cells;
      for (const auto& c : r.cells) cells.push_back(html::Object{{"text", text(c)}});
      rows.push_back(html::Object{{"period", r.period}, {"cells", cells}, {"total", text(r.total)}});
    }
    html::Object data{{"id", spec->id},
                      {"title", t->title},
                      {"counted", t->counted},
                      {"by", t->by},
                      {"rule", t->rule},
                      {"periods", options},
                      {"from", first},
                      {"to", last},
                      {"categories", categories},
                      {"rows", rows},
                      {"empty", rows.empty()},
                      {"query", "from=" + first + "&to=" + last},
                      {"errors", module::ErrorSummary(errors)}};
    return ctx.layout->Page(req, ctx, "admin_statistics_table", t->title, std::move(data), "statistics",
                            errors.empty() ? 200 : 400);
  }

  module::Platform& p_;
  Settings s_;
};

class Serving : public module::Serving {
 public:
  Serving(module::Platform& p, Settings s) : pages_(std::make_shared<Pages>(p, std::move(s))) {}

  std::vector<module::StaffPage> StaffPages() override {
    using staff::Permission;
    return {{.pattern = "/admin/statistics",
             .permission = Permission::kReadStatistics,
             .handler = module::Bind(pages_, &Pages::List),
             .nav_title = "Statistics for partners",
             .nav_text = "Tables for partner organisations, with small counts suppressed.",
             .nav_order = 32},
            {.pattern = "/admin/statistics/{table}",
             .permission = Permission::kReadStatistics,
             .handler = module::Bind(pages_, &Pages::Table)},
            {.pattern = "/admin/statistics/{table}/csv",
             .permission = Permission::kReadStatistics,
             .handler = module::Bind(pages_, &Pages::Csv)}};
  }

 private:
  std::shared_ptr<Pages> pages_;
};

}  // namespace

module::Descriptor Module() {
  return {
      .id = kStatistics,
      .config_tables = {"statistics"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(config, reg));
        (void)settings;
        return Ok();
      },
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"statistics"},
                 .help = "Print a table of counts for partners, after disclosure control, with the rule applied "
                         "named in it. Audited.",
                 .options = {{.name = "--table",
                              .help = "The table's id, as [[statistics.tables]] declares it.",
                              .required = true},
                             {.name = "--format",
                              .help = "json or csv; default json.",
                              .default_value = "json",
                              .choices = {"json", "csv"}},
                             {.name = "--from",
                              .help = "The first period (YYYY-MM, YYYY-Qn or YYYY, as the site's period is); default: "
                                      "the last 12 months, 8 quarters or 5 years."},
                             {.name = "--to",
                              .help = "The last period; it must be over. Default: the last whole one."}},
                 .run = StatisticsCommand}};
          },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
        if (!settings) return std::unique_ptr<module::Serving>(std::make_unique<module::Serving>());
        STEWARD_RETURN_IF_ERROR(CheckTables(*settings, p.reg, p.counters()));
        return std::unique_ptr<module::Serving>(std::make_unique<Serving>(p, std::move(*settings)));
      },
  };
}

}  // namespace steward::statistics
