#include "logs/module.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <thread>
#include <tuple>

#include "core/days.h"
#include "core/strings.h"
#include "edge/device.h"
#include "logs/archive.h"
#include "logs/import.h"
#include "logs/security.h"
#include "logs/settings.h"
#include "logs/stats.h"
#include "logs/subject_data.h"

namespace steward::logs {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::CommandContext;
using module::Field;
using module::Option;

constexpr module::Id kLogs("logs");

using module::Fail;

// Where the raw access-log lines are kept (see logs/archive.h).
std::string RawLogsDir(const config::Config& config) { return config.storage.data_dir + "/logs"; }

// The raw lines' archive, labelling clients as the monitor's alerts do.
std::unique_ptr<RawArchive> MakeRawArchive(const module::Platform& p, const Monitor& monitor) {
  return std::make_unique<RawArchive>(RawLogsDir(p.config), p.key,
                                      [&monitor](std::string_view host) { return monitor.ClientLabel(host); });
}

// What `logs import` and `logs follow` need: the format, and an importer watched by the monitor
// that keeps the raw lines when the register allows.
struct LogTools {
  LogFormat format;
  edge::Edge edge;
  std::unique_ptr<Monitor> monitor;
  std::unique_ptr<RawArchive> archive;  // null: raw lines are not kept
  std::unique_ptr<Importer> importer;
};

// Prints the problem and returns nullopt (with the exit code in `code`) when something is wrong.
std::optional<LogTools> OpenLogTools(CommandContext& c, int& code) {
  code = 2;
  std::string log_format = c.args.Text("--log-format");
  auto format = ChooseFormat(log_format.empty() ? c.args.Text("--format") : "", log_format,
                             c.args.Text("--date-format"), c.args.Text("--time-format"));
  if (!format.ok()) {
    std::fprintf(stderr, "steward: --%s\n", format.error().message.c_str());
    return std::nullopt;
  }
  auto settings = ReadLogSettings(*c.config.document);
  if (!settings.ok()) {
    std::fprintf(stderr, "%s\n", settings.error().message.c_str());
    return std::nullopt;
  }
  code = 1;
  auto edge = edge::LoadEdge(c.config.site.web_dir);  // uap-core and the crawler pattern
  if (!edge.ok()) {
    Fail(edge.error());
    return std::nullopt;
  }
  module::Platform& p = *c.platform;
  bool keep_raw = KeepsRawLines(*settings, p.reg);
  LogTools tools{std::move(*format), std::move(*edge), nullptr, nullptr, nullptr};
  tools.monitor = std::make_unique<Monitor>(std::move(settings->security), p.key);
  if (keep_raw) {
    tools.archive = MakeRawArchive(p, *tools.monitor);
    if (Status s = tools.archive->Recover(p.store); !s.ok()) {
      Fail(s.error());
      return std::nullopt;
    }
  }
  tools.importer = std::make_unique<Importer>(p.store, p.key, p.clock, tools.edge.agents.get(), tools.monitor.get(),
                                              tools.archive.get());
  tools.importer->RecordAlertsIn(&p.trail);
  if (auto keep = p.reg.RetentionPeriod("logs")) tools.importer->KeepFor(*keep);
  return tools;
}

int ImportCommand(CommandContext& c) {
  const std::vector<std::string> files = c.args.List("files");
  // An import allocates and frees a batch's statistics over and over: keep freed memory for the
  // next batch rather than handing it back to the system and faulting it in again.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  int code = 0;
  auto tools = OpenLogTools(c, code);
  if (!tools) return code;
  logs::Importer& importer = *tools->importer;
  const logs::LogFormat* format = &tools->format;
  bool terminal = isatty(STDERR_FILENO) != 0;
  auto started = std::chrono::steady_clock::now();
  auto last_shown = started;
  logs::Progress progress = [&](int64_t done, int64_t total, int64_t lines) {
    if (!terminal) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_shown < std::chrono::milliseconds(200) && (total == 0 || done < total)) return;
    last_shown = now;
    double seconds = std::max(0.001, std::chrono::duration<double>(now - started).count());
    double rate = static_cast<double>(lines) / seconds;
    if (total > 0) {
      double left = done > 0 ? seconds * static_cast<double>(total - done) / static_cast<double>(done) : 0;
      std::fprintf(stderr, "\r  %3d%%  %lld of %lld MB  %.0f lines/s  %.0f s left   ",
                   static_cast<int>(100 * done / std::max<int64_t>(total, 1)), static_cast<long long>(done >> 20),
                   static_cast<long long>(total >> 20), rate, left);
    } else {
      std::fprintf(stderr, "\r  %lld MB  %lld lines  %.0f lines/s   ", static_cast<long long>(done >> 20),
                   static_cast<long long>(lines), rate);
    }
  };
  audit::Trail& trail = c.platform->trail;
  int exit_code = 0;
  for (const auto& file : files) {
    started = std::chrono::steady_clock::now();
    auto summary =
        file == "-" ? importer.ImportStream(std::cin, *format, progress) : importer.ImportFile(file, *format, progress);
    if (terminal) std::fprintf(stderr, "\r%70s\r", "");
    if (!summary.ok()) {
      std::fprintf(stderr, "steward: %s\n", summary.error().message.c_str());
      exit_code = 1;
      continue;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%s: %lld lines read, %lld imported, %lld skipped (%.1f s, %.0f lines/s)\n", file.c_str(),
                static_cast<long long>(summary->lines), static_cast<long long>(summary->imported),
                static_cast<long long>(summary->skipped), seconds,
                static_cast<double>(summary->lines) / std::max(seconds, 0.001));
    if (summary->alerts > 0) {
      std::printf("  %lld security alerts raised or added to: steward logs alerts lists them\n",
                  static_cast<long long>(summary->alerts));
    }
    if (summary->bytes_already > 0) {
      std::printf("  %lld bytes were imported before and were not counted again\n",
                  static_cast<long long>(summary->bytes_already));
    }
    for (const auto& [why, reason] : summary->reasons) {
      std::printf("  skipped, %s: %lld\n", why.c_str(), static_cast<long long>(reason.count));
      // Privacy: access-logs. Samples of the operator's own file, on their terminal only.
      for (const auto& sample : reason.samples) std::printf("    %s\n", Printable(sample).c_str());
    }
    if (Status s = trail.Append({.actor = "cli",
                                 .action = "logs.imported",
                                 .details = {{"lines", std::to_string(summary->lines)},
                                             {"imported", std::to_string(summary->imported)},
                                             {"skipped", std::to_string(summary->skipped)}}});
        !s.ok()) {
      std::fprintf(stderr, "steward: the import is done but its audit entry failed: %s\n", s.error().message.c_str());
      exit_code = 1;
    }
  }
  return exit_code;
}

// --from and --to (YYYY-MM-DD, both inclusive; empty: open) as [from, to) in ms, or nullopt with
// the problem printed.
std::optional<std::pair<int64_t, int64_t>> DayBounds(const std::string& from, const std::string& to) {
  int64_t from_ms = 0, to_ms = int64_t{4'102'444'800'000};  // 2100-01-01
  if (!from.empty()) {
    auto d = ParseDay(from);
    if (!d) {
      std::fprintf(stderr, "steward: --from: give a date as YYYY-MM-DD\n");
      return std::nullopt;
    }
    from_ms = *d * kDayMillis;
  }
  if (!to.empty()) {
    auto d = ParseDay(to);
    if (!d || (*d + 1) * kDayMillis <= from_ms) {
      std::fprintf(stderr, "steward: --to: give a date as YYYY-MM-DD, not before --from\n");
      return std::nullopt;
    }
    to_ms = (*d + 1) * kDayMillis;
  }
  return std::make_pair(from_ms, to_ms);
}

int ReportCommand(CommandContext& c) {
  std::string from = c.args.Text("--from"), to = c.args.Text("--to"), format = c.args.Text("--format");
  int top = static_cast<int>(c.args.Integer("--top"));
  auto bounds = DayBounds(from, to);
  if (!bounds) return 2;
  auto [from_ms, to_ms] = *bounds;
  auto report = Report(c.platform->store, from_ms, to_ms, top);
  if (!report.ok()) {
    std::fprintf(stderr, "steward: %s\n", report.error().message.c_str());
    return 1;
  }
  std::string out = format == "json" ? ReportJson(*report) : format == "csv" ? ReportCsv(*report) : ReportText(*report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int AlertsCommand(CommandContext& c) {
  std::string from = c.args.Text("--from"), to = c.args.Text("--to");
  bool evidence = c.args.Flag("--evidence");
  auto bounds = DayBounds(from, to);
  if (!bounds) return 2;
  auto [from_ms, to_ms] = *bounds;
  module::Platform& p = *c.platform;
  auto alerts = Monitor::List(p.store, p.key, from_ms, to_ms, evidence);
  if (!alerts.ok()) {
    std::fprintf(stderr, "steward: %s\n", alerts.error().message.c_str());
    return 1;
  }
  if (evidence) {
    // Opening evidence reads the raw lines (with addresses): it is on the record.
    if (Status s = p.trail.Append({.actor = "cli",
                                   .action = "logs.evidence_opened",
                                   .details = {{"alerts", std::to_string(alerts->size())}}});
        !s.ok()) {
      std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  if (alerts->empty()) std::printf("No alerts.\n");
  for (const auto& a : *alerts) {
    std::printf("%-24s %-16s %-16s %6lld  %s\n",
                FormatRfc3339(SystemTime(std::chrono::milliseconds(a.first_ms))).c_str(), a.rule.c_str(),
                a.client.c_str(), static_cast<long long>(a.count), a.detail.c_str());
    // Privacy: access-logs. Evidence lines on the operator's terminal only, after the audit entry.
    for (const auto& line : a.evidence) std::printf("    %s\n", Printable(line).c_str());
  }
  return 0;
}

int SearchCommand(CommandContext& c) {
  struct {
    std::string ip, client, path, from, to;
    int64_t limit;
  } options{c.args.Text("--ip"),   c.args.Text("--client"), c.args.Text("--path"),
            c.args.Text("--from"), c.args.Text("--to"),     c.args.Integer("--limit")};
  RawQuery query{
      .ip = options.ip, .client = options.client, .path = options.path, .limit = static_cast<size_t>(options.limit)};
  for (auto [text, end, name] : {std::tuple{&options.from, false, "--from"}, std::tuple{&options.to, true, "--to"}}) {
    if (text->empty()) continue;
    auto ms = SearchBound(*text, end);
    if (!ms) {
      std::fprintf(stderr, "steward: %s: give a day (YYYY-MM-DD) or a time (2026-12-01T10:00:00Z)\n", name);
      return 2;
    }
    (end ? query.to_ms : query.from_ms) = *ms;
  }
  if (Status s = CheckQuery(query); !s.ok()) {
    std::fprintf(stderr, "steward: %s (--ip, --client, --path, --from, --to)\n", s.error().message.c_str());
    return 2;
  }
  auto settings = ReadLogSettings(*c.config.document);
  if (!settings.ok()) {
    std::fprintf(stderr, "%s\n", settings.error().message.c_str());
    return 2;
  }
  module::Platform& p = *c.platform;
  Monitor monitor(settings->security, p.key);
  auto archive = MakeRawArchive(p, monitor);
  if (Status s = archive->Recover(p.store); !s.ok()) return Fail(s.error());
  // Searching the raw lines reads addresses: on the record first, naming the client by its label.
  if (Status s = p.trail.Append(archive->SearchRecord(query, "cli")); !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return 1;
  }
  auto found = archive->Search(p.store, query);
  if (!found.ok()) {
    std::fprintf(stderr, "steward: %s\n", found.error().message.c_str());
    return found.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  // Privacy: access-logs. Raw lines on the operator's terminal only, after the audit entry.
  for (const auto& m : found->matches) std::printf("%s\n", Printable(m.line).c_str());
  std::fprintf(stderr, "%lld matching lines (%zu shown) of %lld read\n", static_cast<long long>(found->total),
               found->matches.size(), static_cast<long long>(found->scanned));
  return 0;
}

std::atomic<bool> follow_stop{false};
extern "C" void StopFollowing(int) { follow_stop = true; }

int FollowCommand(CommandContext& c) {
  std::string file = c.args.Text("file");
  int interval_seconds = static_cast<int>(c.args.Integer("--interval"));
  int code = 0;
  auto tools = OpenLogTools(c, code);
  if (!tools) return code;
  Follower follower(*tools->importer, file, tools->format);
  std::signal(SIGINT, StopFollowing);
  std::signal(SIGTERM, StopFollowing);
  std::printf("Following %s every %d s; Ctrl-C stops.\n", file.c_str(), interval_seconds);
  std::fflush(stdout);
  while (!follow_stop) {
    auto s = follower.Poll();
    if (!s.ok()) {
      std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    } else if (s->lines > 0) {
      std::printf("%s: %lld lines, %lld imported, %lld skipped, %lld alerts\n",
                  FormatRfc3339(c.platform->clock.Now()).c_str(), static_cast<long long>(s->lines),
                  static_cast<long long>(s->imported), static_cast<long long>(s->skipped),
                  static_cast<long long>(s->alerts));
      std::fflush(stdout);
    }
    for (int i = 0; i < interval_seconds * 10 && !follow_stop; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return 0;
}

// The analyst's access-log statistics (/admin/logs) and the security role's alerts and raw-line
// search (/admin/security).
class LogPages : public std::enable_shared_from_this<LogPages> {
 public:
  struct Deps {
    store::Store& store;
    const crypto::SecretKey& key;
    audit::Trail& trail;
    const Clock& clock;
    const RawArchive* raw_logs;  // null hides the search
  };
  explicit LogPages(Deps deps) : d_(deps) {}

  std::vector<module::StaffPage> Pages() {
    auto bind = [self = shared_from_this()](Response (LogPages::*h)(Request&, module::StaffContext&)) {
      return module::Bind(self, h);
    };
    const staff::Permission stats = staff::Permission::kReadStatistics, security = staff::Permission::kReadSecurity;
    return {{.method = Method::kGet,
             .pattern = "/admin/logs",
             .permission = stats,
             .handler = bind(&LogPages::LogsPage),
             .nav_title = "Access logs",
             .nav_order = 50},
            {.method = Method::kGet,
             .pattern = "/admin/logs.csv",
             .permission = stats,
             .handler = bind(&LogPages::LogsCsv)},
            {.method = Method::kGet,
             .pattern = "/admin/security",
             .permission = security,
             .handler = bind(&LogPages::SecurityPage),
             .nav_title = "Security alerts",
             .nav_order = 60},
            {.method = Method::kPost,
             .pattern = "/admin/security/{id}/evidence",
             .permission = security,
             .handler = bind(&LogPages::SecurityEvidence)},
            {.method = Method::kGet,
             .pattern = "/admin/security/search",
             .permission = security,
             .handler = bind(&LogPages::RawSearchPage)},
            {.method = Method::kPost,
             .pattern = "/admin/security/search",
             .permission = security,
             .handler = bind(&LogPages::RawSearch)}};
  }

 private:
  // [from, to) in ms from ?period= (day, 7d, 30d, month, year; default 30d) or ?from=&to=.
  Result<std::pair<int64_t, int64_t>> LogsRange(Request& req, html::Object& data) const {
    auto query = req.Query();
    if (!query.ok()) return MakeError(ErrorCode::kInvalidArgument, "the address is not valid");
    std::string period(Trim(Field(*query, "period"))), from(Trim(Field(*query, "from"))), to(Trim(Field(*query, "to")));
    if (period.empty()) period = from.empty() && to.empty() ? "30d" : from + ".." + to;
    int64_t today = UnixMillis(d_.clock.Now()) / kDayMillis;
    auto days = ResolvePeriod(period, today);
    if (!days.ok()) return days.error();
    data["period"] = period.find("..") == std::string::npos ? period : "";
    data["from"] = DayText(days->from);
    data["to"] = DayText(days->to - 1);
    html::List periods;
    for (auto [value, text] : {std::pair<const char*, const char*>{"day", "Today"},
                               {"7d", "Last 7 days"},
                               {"30d", "Last 30 days"},
                               {"month", "This month"},
                               {"year", "This year"}}) {
      periods.push_back(html::Object{{"value", value}, {"text", text}, {"selected", period == value}});
    }
    data["periods"] = std::move(periods);
    return std::make_pair(days->from * kDayMillis, days->to * kDayMillis);
  }

  Response LogsPage(Request& req, module::StaffContext& ctx) {
    html::Object data;
    auto range = LogsRange(req, data);
    if (!range.ok()) {
      return ctx.layout->Page(
          req, ctx, "error", "There is a problem with the dates",
          html::Object{{"heading", "There is a problem with the dates"}, {"message", range.error().message}},
          "/admin/logs", 400);
    }
    // Privacy: access-logs, read as statistics.
    auto report = Report(d_.store, range->first, range->second, 20);
    if (!report.ok()) return ctx.layout->ErrorFor(report.error(), req);
    html::List totals;
    for (auto [name, value] : {std::pair<const char*, int64_t>{"Total requests", report->total_requests},
                               {"Valid requests", report->valid_requests},
                               {"Failed requests", report->failed_requests},
                               {"Unique visitors", report->unique_visitors},
                               {"Bandwidth (bytes)", report->bandwidth}}) {
      totals.push_back(html::Object{{"name", name}, {"value", std::to_string(value)}});
    }
    data["totals"] = std::move(totals);
    html::List tables;
    // Requests and visitors each day of the period, the days without any at zero.
    std::map<std::string, const ReportRow*> by_day;
    for (const auto& r : report->visitors) by_day[r.key] = &r;
    std::vector<module::ChartPoint> points;
    for (int64_t day = range->first / kDayMillis; day < range->second / kDayMillis; ++day) {
      auto it = by_day.find(DayText(day));
      points.push_back(
          {day, {it == by_day.end() ? 0 : it->second->hits, it == by_day.end() ? 0 : it->second->visitors}});
    }
    data["chart"] = module::DailyChart(
        "Requests per day, " + DayText(range->first / kDayMillis) + " to " + DayText(range->second / kDayMillis - 1),
        {"Requests", "Visitors"}, points);
    for (auto [id, title, rows] :
         {std::tuple<const char*, const char*, const std::vector<ReportRow>*>{"requests", "Pages", &report->requests},
          {"static_requests", "Static files", &report->static_requests},
          {"not_found", "Not found (404)", &report->not_found},
          {"status_codes", "Status codes", &report->status_codes},
          {"referring_sites", "Referring sites", &report->referring_sites},
          {"browsers", "Browsers", &report->browsers},
          {"os", "Operating systems", &report->os},
          {"crawlers", "Crawlers and scripts", &report->crawlers},
          {"visit_time", "Time of day (UTC)", &report->visit_time}}) {
      html::List list;
      for (const auto& r : *rows) {
        list.push_back(
            html::Object{{"key", r.key}, {"hits", std::to_string(r.hits)}, {"visitors", std::to_string(r.visitors)}});
      }
      tables.push_back(html::Object{{"id", id}, {"title", title}, {"rows", std::move(list)}, {"empty", rows->empty()}});
    }
    data["tables"] = std::move(tables);
    data["query"] = req.query;
    return ctx.layout->Page(req, ctx, "admin_logs", "Access logs", std::move(data), "/admin/logs");
  }

  Response LogsCsv(Request& req, module::StaffContext& ctx) {
    html::Object data;
    auto range = LogsRange(req, data);
    if (!range.ok()) return ctx.layout->Error(400, req);
    auto report = Report(d_.store, range->first, range->second, 0);
    if (!report.ok()) return ctx.layout->ErrorFor(report.error(), req);
    Response r;
    r.body = ReportCsv(*report);
    r.SetHeader("Content-Type", "text/csv; charset=utf-8");
    r.SetHeader("Content-Disposition", "attachment; filename=\"access-logs.csv\"");
    return r;
  }

  Response SecurityView(Request& req, module::StaffContext& ctx, int64_t open_id) {
    html::Object data;
    auto range = LogsRange(req, data);
    if (!range.ok()) return ctx.layout->Error(400, req);
    auto alerts = Monitor::List(d_.store, d_.key, range->first, range->second, open_id != 0, open_id);
    if (!alerts.ok()) return ctx.layout->ErrorFor(alerts.error(), req);
    html::List rows;
    for (const auto& a : *alerts) {
      html::List lines;
      // Privacy: access-logs. Evidence lines shown to the security role on request, audited.
      for (const auto& l : a.evidence) lines.push_back(html::Object{{"line", l}});
      rows.push_back(html::Object{{"id", std::to_string(a.id)},
                                  {"rule", a.rule},
                                  {"client", a.client},
                                  {"first", FormatRfc3339(SystemTime(std::chrono::milliseconds(a.first_ms)))},
                                  {"count", std::to_string(a.count)},
                                  {"detail", a.detail},
                                  {"evidence", std::move(lines)},
                                  {"opened", !a.evidence.empty()}});
    }
    data["alerts"] = std::move(rows);
    data["any"] = !alerts->empty();
    data["search"] = d_.raw_logs != nullptr;
    data["query"] = req.query;
    return ctx.layout->Page(req, ctx, "admin_security", "Security alerts", std::move(data), "/admin/security");
  }

  Response SecurityPage(Request& req, module::StaffContext& ctx) { return SecurityView(req, ctx, 0); }

  Response SecurityEvidence(Request& req, module::StaffContext& ctx) {
    std::string_view text = req.PathParam("id");
    if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), ::isdigit)) {
      return ctx.layout->Error(404, req);
    }
    int64_t id = std::stoll(std::string(text));
    bool exists = false;
    Status found = d_.store.Read([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1 FROM logs_alerts WHERE id = ?", {id}));
      exists = !rows.empty();
      return Ok();
    });
    if (!found.ok()) return ctx.layout->ErrorFor(found.error(), req);
    if (!exists) return ctx.layout->Error(404, req);  // nothing opened, nothing to audit
    if (Status s = d_.trail.Append({.actor = ctx.actor.id,
                                    .action = "logs.evidence_opened",
                                    .target = "alert:" + std::to_string(id),
                                    .request_id = req.request_id});
        !s.ok()) {
      return ctx.layout->ErrorFor(s.error(), req);
    }
    Response r = SecurityView(req, ctx, id);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  // The raw lines (security role): a search by address or range, client label and/or path prefix,
  // within the months kept. The search is audited before it runs, naming the client by its label.
  Response RawSearchView(Request& req, module::StaffContext& ctx, html::Object data, int status) {
    auto months = RawArchive::Months(d_.store);
    if (!months.ok()) return ctx.layout->ErrorFor(months.error(), req);
    html::List kept;
    for (const auto& m : *months) {
      kept.push_back(html::Object{{"month", m.month}, {"lines", std::to_string(m.lines)}});
    }
    data["kept"] = !kept.empty();
    data["months"] = std::move(kept);
    Response r = ctx.layout->Page(req, ctx, "admin_security_search", "Search access logs", std::move(data),
                                  "/admin/security", status);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  Response RawSearchPage(Request& req, module::StaffContext& ctx) {
    if (d_.raw_logs == nullptr) return ctx.layout->Error(404, req);
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    // From an alert's "search its lines" link.
    std::string client(Trim(Field(*query, "client")));
    html::Object data{{"client", client.size() <= 64 ? client : ""}};
    return RawSearchView(req, ctx, std::move(data), 200);
  }

  Response RawSearch(Request& req, module::StaffContext& ctx) {
    if (d_.raw_logs == nullptr) return ctx.layout->Error(404, req);
    std::string ip(Trim(Field(ctx.form, "ip"))), client(Trim(Field(ctx.form, "client"))),
        path(Trim(Field(ctx.form, "path"))), from(Trim(Field(ctx.form, "from"))), to(Trim(Field(ctx.form, "to")));
    html::Object data{{"ip", ip}, {"client", client}, {"path", path}, {"from", from}, {"to", to}};
    auto refuse = [&](const char* field, const std::string& message) {
      data["error"] = message;
      data["error_field"] = field;
      return RawSearchView(req, ctx, std::move(data), 400);
    };
    if (ip.empty() && client.empty() && path.empty()) return refuse("ip", "Enter an address, a client or a path");
    if (ip.size() > 64) return refuse("ip", "Enter an address such as 203.0.113.7, or a range such as 203.0.113.0/24");
    if (!client.empty() && !IsClientLabel(client))
      return refuse("client", "Enter the client as an alert shows it, such as c-3f2a91c0de41");
    if (!path.empty() && (path.front() != '/' || path.size() > 512))
      return refuse("path", "Enter a path that starts with /, such as /admin");
    // A page answers within seconds: at most 20 million lines read (about 4 GB of them), oldest
    // first; the command line reads them all.
    RawQuery q{.ip = ip, .client = client, .path = path, .limit = 500, .max_scanned = 20'000'000};
    if (!from.empty()) {
      auto ms = SearchBound(from, false);
      if (!ms) return refuse("from", "Enter the first day as YYYY-MM-DD, or a time such as 2026-12-01T10:00:00Z");
      q.from_ms = *ms;
    }
    if (!to.empty()) {
      auto ms = SearchBound(to, true);
      if (!ms || *ms <= q.from_ms)
        return refuse("to", "Enter the last day as YYYY-MM-DD, or a time, not before the first");
      q.to_ms = *ms;
    }
    if (Status s = CheckQuery(q); !s.ok()) {
      return refuse("ip",
                    "Enter an address such as 203.0.113.7, or a range such as 203.0.113.0/24: " + s.error().message);
    }
    if (Status s = d_.trail.Append(d_.raw_logs->SearchRecord(q, ctx.actor.id, req.request_id)); !s.ok()) {
      return ctx.layout->ErrorFor(s.error(), req);
    }
    auto found = d_.raw_logs->Search(d_.store, q);
    if (!found.ok()) return ctx.layout->ErrorFor(found.error(), req);
    html::List lines;
    // Privacy: access-logs. Raw lines shown to the security role on request, audited above.
    for (const auto& m : found->matches) lines.push_back(html::Object{{"line", m.line}});
    data["searched"] = true;
    data["lines"] = std::move(lines);
    data["total"] = std::to_string(found->total);
    data["shown"] = std::to_string(found->matches.size());
    data["scanned"] = std::to_string(found->scanned);
    data["more"] = found->total > static_cast<int64_t>(found->matches.size());
    data["stopped"] = found->stopped;
    return RawSearchView(req, ctx, std::move(data), 200);
  }

  const Deps d_;
};

// The raw lines' archive for the security role's searches, the logs the site follows itself
// ([[logs.follow]], a background task), and their staff pages, while serving.
class LogsServing : public module::Serving {
 public:
  static Result<std::unique_ptr<module::Serving>> Start(module::Platform& p) {
    STEWARD_ASSIGN_OR_RETURN(LogSettings settings, ReadLogSettings(*p.config.document));
    auto s = std::unique_ptr<LogsServing>(new LogsServing(p, std::move(settings)));
    STEWARD_RETURN_IF_ERROR(s->raw_logs_->Recover(p.store));
    if (!s->settings_.follow.empty()) {
      edge::UserAgents* agents = p.services.Find<edge::UserAgents>();
      if (agents == nullptr) {
        STEWARD_ASSIGN_OR_RETURN(s->edge_, edge::LoadEdge(p.config.site.web_dir));
        agents = s->edge_.agents.get();
      }
      s->importer_ = std::make_unique<Importer>(p.store, p.key, p.clock, agents, &s->monitor_,
                                                KeepsRawLines(s->settings_, p.reg) ? s->raw_logs_.get() : nullptr);
      s->importer_->RecordAlertsIn(&p.trail);
      if (auto keep = p.reg.RetentionPeriod("logs")) s->importer_->KeepFor(*keep);
      s->watcher_ = std::make_unique<Watcher>(*s->importer_, s->settings_.follow, p.metrics);
    }
    return std::unique_ptr<module::Serving>(std::move(s));
  }

  std::vector<module::StaffPage> StaffPages() override {
    return std::make_shared<LogPages>(
               LogPages::Deps{platform_.store, platform_.key, platform_.trail, platform_.clock, raw_logs_.get()})
        ->Pages();
  }

  std::vector<module::Task> Tasks() override {
    if (!watcher_) return {};
    return {{.name = "logs.follow",
             .first = std::chrono::seconds(0),
             .every = std::chrono::seconds(settings_.follow_interval_s),
             .run = [this] {
               watcher_->PollAll();
               return Ok();
             }}};
  }

  subject::SubjectData* Subjects() override { return &subjects_; }

 private:
  LogsServing(module::Platform& p, LogSettings settings)
      : platform_(p),
        settings_(std::move(settings)),
        monitor_(settings_.security, p.key),
        raw_logs_(MakeRawArchive(p, monitor_)),
        subjects_(p.SubjectDeps(kLogs), raw_logs_.get()) {}

  module::Platform& platform_;
  LogSettings settings_;
  Monitor monitor_;
  std::unique_ptr<RawArchive> raw_logs_;
  edge::Edge edge_;
  std::unique_ptr<Importer> importer_;
  std::unique_ptr<Watcher> watcher_;
  LogSubjects subjects_;
};

// The archive and its subject data, owned together for a command or a rights request.
class OwnedLogSubjects : public LogSubjects {
 public:
  OwnedLogSubjects(Deps deps, std::unique_ptr<Monitor> monitor, std::unique_ptr<RawArchive> archive)
      : LogSubjects(std::move(deps), archive.get()), monitor_(std::move(monitor)), archive_(std::move(archive)) {}

 private:
  std::unique_ptr<Monitor> monitor_;
  std::unique_ptr<RawArchive> archive_;
};

std::vector<Option> FormatOptions() {
  return {{.name = "--format",
           .help = "combined (default), vcombined, common, vcommon, w3c, caddy, nginx-json, or a format string.",
           .default_value = "combined"},
          {.name = "--log-format", .help = "A GoAccess log format string instead of --format."},
          {.name = "--date-format",
           .help = "With --log-format: the date's format (%d/%b/%Y).",
           .default_value = "%d/%b/%Y"},
          {.name = "--time-format",
           .help = "With --log-format: the time's format (%H:%M:%S).",
           .default_value = "%H:%M:%S"}};
}

std::vector<module::Command> Commands() {
  std::vector<Option> import_options = FormatOptions();
  import_options.push_back({.name = "files",
                            .help = "Log files; - reads standard input.",
                            .kind = Option::Kind::kPositionalList,
                            .required = true});
  std::vector<Option> follow_options = FormatOptions();
  follow_options.push_back({.name = "--interval",
                            .help = "Seconds between reads; default 2.",
                            .kind = Option::Kind::kInteger,
                            .default_value = "2",
                            .min = 1,
                            .max = 3600});
  follow_options.push_back(
      {.name = "file", .help = "The log file.", .kind = Option::Kind::kPositional, .required = true});
  Option from{.name = "--from", .help = "First day (YYYY-MM-DD)."},
      to{.name = "--to", .help = "Last day (YYYY-MM-DD)."};
  return {
      {.path = {"logs", "import"},
       .help = "Import access logs (files, or - for standard input).",
       .options = import_options,
       .makes_site = true,  // statistics like GoAccess's, without serving first
       .run = ImportCommand},
      {.path = {"logs", "report"},
       .help = "Print the access-log statistics.",
       .options = {{.name = "--from", .help = "First day (YYYY-MM-DD); default: the first there is."},
                   {.name = "--to", .help = "Last day (YYYY-MM-DD); default: the last there is."},
                   {.name = "--format",
                    .help = "text, json or csv; default text.",
                    .default_value = "text",
                    .choices = {"text", "json", "csv"}},
                   {.name = "--top",
                    .help = "Rows a table; 0 for all; default 10.",
                    .kind = Option::Kind::kInteger,
                    .default_value = "10",
                    .min = 0,
                    .max = 100000}},
       .run = ReportCommand},
      {.path = {"logs", "follow"},
       .help = "Import what a live log gets, through rotation, until Ctrl-C.",
       .options = follow_options,
       .run = FollowCommand},
      {.path = {"logs", "alerts"},
       .help = "List the security alerts from imported logs.",
       .options = {from,
                   to,
                   {.name = "--evidence",
                    .help = "Also print each alert's evidence lines (audited).",
                    .kind = Option::Kind::kFlag}},
       .run = AlertsCommand},
      {.path = {"logs", "search"},
       .help = "Search the raw lines kept, by address, client or path (audited).",
       .options = {{.name = "--ip", .help = "An address, or a range such as 203.0.113.0/24."},
                   {.name = "--client", .help = "A client label as alerts show it (c-...)."},
                   {.name = "--path", .help = "A path prefix, such as /admin."},
                   {.name = "--from", .help = "First day (YYYY-MM-DD) or time (RFC 3339)."},
                   {.name = "--to", .help = "Last day (YYYY-MM-DD) or time (RFC 3339)."},
                   {.name = "--limit",
                    .help = "Lines shown at most; default 500.",
                    .kind = Option::Kind::kInteger,
                    .default_value = "500",
                    .min = 1,
                    .max = 100000}},
       .run = SearchCommand},
  };
}

}  // namespace

module::Descriptor Module() {
  return {
      .id = kLogs,
      .migrations = [] { return Migrations(); },
      .storage =
          [](const config::Config& config) {
            return std::vector<retention::ModuleStorage>{Storage(RawLogsDir(config))};
          },
      .config_tables = {"logs"},
      .check = [](const config::Config& config, const processing::Register&) -> Status {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadLogSettings(*config.document));
        (void)settings;
        return Ok();
      },
      .command_groups = {{"logs", "Statistics from the web server's access logs."}},
      .commands = Commands,
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        STEWARD_ASSIGN_OR_RETURN(LogSettings settings, ReadLogSettings(*p.config.document));
        auto monitor = std::make_unique<Monitor>(settings.security, p.key);
        auto archive = MakeRawArchive(p, *monitor);
        return std::unique_ptr<subject::SubjectData>(
            std::make_unique<OwnedLogSubjects>(p.SubjectDeps(kLogs), std::move(monitor), std::move(archive)));
      },
      .start = LogsServing::Start,
  };
}

}  // namespace steward::logs
