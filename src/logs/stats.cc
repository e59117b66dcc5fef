#include "logs/stats.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/clock.h"
#include "core/strings.h"
#include "core/days.h"
#include "crypto/crypto.h"
#include "logs/archive.h"
#include "logs/security.h"
#include "core/json_text.h"

namespace steward::logs {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 86'400'000;

// The referring site: the host of the referrer, lower-cased, without "www.", valid UTF-8; empty
// when there is none. In `out`, whose buffer is kept from line to line.
std::string_view ReferringSite(std::string_view referrer, std::string& out) {
  out.clear();
  size_t scheme = referrer.find("://");
  if (scheme == std::string_view::npos) return out;
  std::string_view rest = referrer.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  rest = CutUtf8(rest.substr(0, rest.find(':')), 255);
  for (char c : rest) out += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  if (out.starts_with("www.")) out.erase(0, 4);
  if (!IsUtf8(out)) out = ValidUtf8(out);
  return out;
}

// `text` from a log line as a key: at most `max` bytes, cut between characters, and valid UTF-8
// (in `valid` when it had to change), so that no report or export meets invalid text.
std::string_view KeyText(std::string_view text, size_t max, std::string& valid) {
  text = CutUtf8(text, max);
  if (IsUtf8(text)) return text;
  valid = ValidUtf8(text);
  return valid;
}

int64_t VisitorHash(const crypto::ShortHash& hash, const LogRecord& r) {
  // Privacy: access-logs. The address and user agent live only in this keyed hash.
  char day[24];
  auto end = std::to_chars(day, day + sizeof day, r.local_day).ptr;
  return static_cast<int64_t>(
      hash.Digest64({r.host, std::string_view("\0", 1), std::string_view(day, static_cast<size_t>(end - day)),
                     std::string_view("\0", 1), r.user_agent}));
}

// The start of the hour or day (`span` ms) that holds `ms`, before 1970 too.
int64_t PeriodStart(int64_t ms, int64_t span) { return (ms >= 0 ? ms : ms - span + 1) / span * span; }

// A cell from a row's hits, bytes and visitors, in that order from column `at`.
LogCell CellAt(const store::Row& r, int at) {
  LogCell cell;
  cell.hits = r.Int(at);
  cell.bytes = r.Int(at + 1);
  if (const auto* b = std::get_if<store::Blob>(&r.at(at + 2))) {
    if (auto s = edge::VisitorSketch::Parse(b->bytes)) cell.visitors = std::move(*s);
  }
  return cell;
}

}  // namespace

void LogCell::Merge(const LogCell& o) {
  hits += o.hits;
  bytes += o.bytes;
  visitors.Merge(o.visitors);
}

bool IsStatic(std::string_view path) {
  // GoAccess's default static-file extensions.
  static constexpr std::array<std::string_view, 40> kExtensions = {
      ".css",  ".js",   ".jpg", ".jpeg", ".png",  ".gif",   ".ico", ".svg",  ".bmp", ".webp",
      ".tif",  ".tiff", ".ttf", ".otf",  ".woff", ".woff2", ".eot", ".pdf",  ".txt", ".csv",
      ".zip",  ".gz",   ".tar", ".tgz",  ".rar",  ".7z",    ".mp3", ".mp4",  ".ogg", ".avi",
      ".mpeg", ".mpg",  ".flv", ".swf",  ".doc",  ".docx",  ".xls", ".xlsx", ".ppt", ".pptx"};
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) return false;
  std::string ext = ToLower(path.substr(dot));
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

size_t LogAggregator::CellHash::operator()(const CellKeyView& k) const {
  size_t h = std::hash<std::string_view>()(k.key);
  h ^= std::hash<std::string_view>()(k.dimension) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= std::hash<int64_t>()(k.start) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

void LogAggregator::Add(const LogRecord& r) {
  ++records_;
  int64_t hour = PeriodStart(r.time_ms, kHourMs);
  bool counts_visitor = r.status < 400 || r.status >= 500;
  int64_t visitor = counts_visitor ? VisitorHash(hash_, r) : 0;
  int64_t day = PeriodStart(r.time_ms, kDayMs);
  auto count = [&](LogCell& cell) {
    ++cell.hits;
    cell.bytes += r.bytes;
    if (counts_visitor) cell.visitors.Add(visitor);
  };
  // Found without making strings; a key is copied only when it is new to the batch.
  auto cell = [](Cells& cells, int64_t start, std::string_view dimension, std::string_view key) -> LogCell& {
    auto it = cells.find(CellKeyView{start, dimension, key});
    if (it != cells.end()) return it->second;
    return cells.try_emplace(CellKey{start, std::string(dimension), std::string(key)}).first->second;
  };
  auto add = [&](std::string_view dimension, std::string_view key) { count(cell(days_, day, dimension, key)); };
  // The hour's totals and status codes: most lines fall in the hour of the line before, whose
  // cells are kept at hand (an unordered_map's elements stay where they are).
  if (hour != hour_ || hour_total_ == nullptr) {
    hour_ = hour;
    hour_total_ = &cell(hours_, hour, "", "");
    hour_statuses_.fill(nullptr);
  }
  count(*hour_total_);
  if (counts_visitor) day_visitors_[r.local_day].push_back(visitor);
  LogCell** by_status = r.status >= 0 && r.status < static_cast<int>(hour_statuses_.size())
                            ? &hour_statuses_[static_cast<size_t>(r.status)]
                            : nullptr;
  if (by_status == nullptr || *by_status == nullptr) {
    char status[12];
    auto status_end = std::to_chars(status, status + sizeof status, r.status).ptr;
    LogCell& c = cell(hours_, hour, "status", std::string_view(status, static_cast<size_t>(status_end - status)));
    if (by_status != nullptr) *by_status = &c;
    count(c);
  } else {
    count(**by_status);
  }
  std::string_view path = KeyText(r.path, 1000, valid_);
  std::string_view path_dimension = r.status == 404 ? "not_found" : IsStatic(r.path) ? "static" : "request";
  count(cell(paths_, day, path_dimension, path));
  if (!r.referrer.empty()) {
    std::string_view site = ReferringSite(r.referrer, site_);
    if (!site.empty()) add("referrer", site);
  }
  if (agents_ != nullptr) {
    edge::Agent agent = agents_->Parse(r.user_agent);
    if (agent.bot) {
      add("crawler", agent.browser.empty() ? KeyText(r.user_agent, 60, valid_) : std::string_view(agent.browser));
    } else if (agent.browser.empty()) {
      add("browser", "Others");
    } else {
      scratch_.assign(agent.browser);
      if (!agent.browser_version.empty()) scratch_.append(" ").append(agent.browser_version);
      add("browser", scratch_);
    }
    if (!agent.bot) add("os", agent.os.empty() ? std::string_view("Unknown") : std::string_view(agent.os));
  }
}

void LogAggregator::Merge(const LogAggregator& other) {
  if (agents_ == nullptr) agents_ = other.agents_;
  for (const auto& [k, cell] : other.hours_) hours_[k].Merge(cell);
  for (const auto& [k, cell] : other.days_) days_[k].Merge(cell);
  for (const auto& [k, cell] : other.paths_) paths_[k].Merge(cell);
  for (const auto& [day, visitors] : other.day_visitors_) {
    auto& mine = day_visitors_[day];
    mine.insert(mine.end(), visitors.begin(), visitors.end());
  }
  records_ += other.records_;
}

std::vector<store::Migration> Migrations() {
  std::vector<store::Migration> all = {{"logs", 1, R"sql(
    -- Privacy: access-logs. Statistics from the web server's logs: hits, bytes and visitor sketches
    -- (of keyed hashes of address, day and user agent) per hour or day, dimension and key.
    CREATE TABLE logs_rollups (
      span INTEGER NOT NULL,
      start INTEGER NOT NULL,
      dimension TEXT NOT NULL,
      key TEXT NOT NULL,
      hits INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      visitors BLOB NOT NULL,
      PRIMARY KEY (dimension, span, start, key)
    ) WITHOUT ROWID;
    CREATE INDEX logs_rollups_by_period ON logs_rollups (span, start);
    -- Each day's visitors (keyed hashes of address, day and user agent), for exact unique counts.
    CREATE TABLE logs_visitors (
      day INTEGER NOT NULL,
      visitor INTEGER NOT NULL,
      PRIMARY KEY (day, visitor)
    ) WITHOUT ROWID;
    -- Each imported file, by a keyed hash of its first line, and how far it has been read.
    CREATE TABLE logs_files (
      fingerprint BLOB PRIMARY KEY,
      name TEXT NOT NULL,
      "offset" INTEGER NOT NULL,
      updated_at TEXT NOT NULL
    );
    -- Each import run: counts only.
    CREATE TABLE logs_imports (
      id INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      lines INTEGER NOT NULL,
      imported INTEGER NOT NULL,
      skipped INTEGER NOT NULL,
      first_ms INTEGER,
      last_ms INTEGER
    );
  )sql"}};
  for (auto& m : Monitor::Migrations()) all.push_back(std::move(m));
  for (auto& m : RawArchive::Migrations()) all.push_back(std::move(m));
  all.push_back({"logs", 4, R"sql(
    -- The rollups keyed by period first: one B-tree serves both the merge of an import (by the
    -- whole key) and a report (by span and start), with no second index to keep up to date.
    CREATE TABLE logs_rollups_v4 (
      span INTEGER NOT NULL,
      start INTEGER NOT NULL,
      dimension TEXT NOT NULL,
      key TEXT NOT NULL,
      hits INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      visitors BLOB NOT NULL,
      PRIMARY KEY (span, start, dimension, key)
    ) WITHOUT ROWID;
    INSERT INTO logs_rollups_v4 SELECT span, start, dimension, key, hits, bytes, visitors FROM logs_rollups;
    DROP TABLE logs_rollups;
    ALTER TABLE logs_rollups_v4 RENAME TO logs_rollups;
  )sql"});
  all.push_back({"logs", 5, R"sql(
    -- Retention deletes alerts by when they were last seen, a batch at a time: a scan brings
    -- tens of thousands a month, and without this each batch would read them all.
    CREATE INDEX logs_alerts_by_last ON logs_alerts (last_ms);
  )sql"});
  return all;
}

retention::ModuleStorage Storage(const std::string& raw_dir) {
  return {.module = "logs",
          .personal_tables = {"logs_rollups", "logs_visitors", "logs_alerts", "logs_raw_months"},
          .other_tables = {"logs_files", "logs_imports"},
          .purge = [raw_dir](store::Connection& c, const processing::Dataset&, const std::string& cutoff,
                             const std::string&, bool dry_run, int64_t limit) -> Result<int64_t> {
            STEWARD_ASSIGN_OR_RETURN(int64_t ms, retention::CutoffMillis(cutoff));
            // Privacy: access-logs. Raw lines by whole month; then statistics whose whole period is
            // past the retention.
            STEWARD_ASSIGN_OR_RETURN(int64_t raw, RawArchive::Purge(c, raw_dir, ms, dry_run));
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(
                  auto rows, c.Query("SELECT (SELECT count(*) FROM logs_alerts WHERE last_ms < ?) + "
                                     "(SELECT count(*) FROM logs_visitors WHERE day < ?) + "
                                     "(SELECT count(*) FROM logs_rollups WHERE start < ? AND start + span <= ?)",
                                     {ms, ms / kDayMs, ms, ms}));
              return raw + rows.front().Int(0);
            }
            // Imports are a few a day. Alerts (one a client, rule and hour: a scan brings thousands),
            // the day's visitors and the rollups grow with the traffic, so they go by at most `limit`
            // rows a call, each by a range of an index.
            STEWARD_ASSIGN_OR_RETURN(auto imports, c.Exec("DELETE FROM logs_imports WHERE last_ms < ?", {ms}));
            (void)imports;
            auto left = [&](int64_t deleted) { return limit == 0 ? 0 : limit - deleted; };
            STEWARD_ASSIGN_OR_RETURN(int64_t deleted,
                                     retention::DeleteAtMost(c, "logs_alerts", "id", "last_ms < ?", {ms}, limit));
            if (limit > 0 && deleted >= limit) return raw + deleted;
            STEWARD_ASSIGN_OR_RETURN(
                int64_t visitors,
                retention::DeleteAtMost(c, "logs_visitors", "day, visitor", "day < ?", {ms / kDayMs}, left(deleted)));
            deleted += visitors;
            if (limit > 0 && deleted >= limit) return raw + deleted;
            // Span by span (hours, days), so that a batch reads the oldest periods and nothing kept.
            STEWARD_ASSIGN_OR_RETURN(
                int64_t rollups, retention::DeleteEndedPeriods(c, "logs_rollups", "span, start, dimension, key", "", {},
                                                               ms, left(deleted)));
            deleted += rollups;
            return raw + deleted;
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "logs"; });
              },
          // The raw lines (sealed) and security alerts hold addresses; the statistics hold pages,
          // referrers and user agents.
          .stores = {"user.device.ip_address", "user.device.browser", "user.behavior.browsing"},
          .observed = true,
          .batched = true};
}

Status SaveStats(store::Store& store, const LogAggregator& agg, const std::function<Status(store::Connection&)>& also) {
  // Privacy: access-logs (the write: statistics only).
  return store.Write([&](store::Connection& c) -> Status {
    if (also) STEWARD_RETURN_IF_ERROR(also(c));
    auto merge_into = [&](int64_t span, int64_t start, std::string_view dimension_view, std::string_view key_view,
                          const LogCell& cell) -> Status {
      std::string dimension(dimension_view), key(key_view);
      // Most cells are new: one statement. A cell an earlier import began is read and merged.
      STEWARD_ASSIGN_OR_RETURN(
          auto added,
          c.Exec("INSERT INTO logs_rollups (span, start, dimension, key, hits, "
                 "bytes, visitors) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                 {span, start, dimension, key, cell.hits, cell.bytes, store::Blob{cell.visitors.Serialize()}}));
      if (added == 1) return Ok();
      LogCell merged = cell;
      STEWARD_RETURN_IF_ERROR(
          c.ForEach("SELECT hits, bytes, visitors FROM logs_rollups WHERE span = ? AND start = ? "
                    "AND dimension = ? AND key = ?",
                    {span, start, dimension, key}, [&](const store::Row& r) {
                      merged.Merge(CellAt(r, 0));
                      return false;
                    }));
      STEWARD_ASSIGN_OR_RETURN(auto n, c.Exec("UPDATE logs_rollups SET hits = ?, bytes = ?, visitors = ? WHERE "
                                              "span = ? AND start = ? AND dimension = ? AND key = ?",
                                              {merged.hits, merged.bytes, store::Blob{merged.visitors.Serialize()},
                                               span, start, dimension, key}));
      (void)n;
      return Ok();
    };
    // The hourly dimensions' days from their hours, so each day row is read and written once.
    LogAggregator::Cells days;
    for (const auto& [k, cell] : agg.hours()) {
      days[{PeriodStart(k.start, kDayMs), k.dimension, k.key}].Merge(cell);
    }
    // Written in the primary key's order (span, start, dimension, key): each B-tree page is then
    // visited once, in turn, rather than at random.
    // The first eight bytes of each text, big-endian, settle most comparisons without reading the
    // strings themselves (scattered over the heap).
    auto prefix = [](std::string_view text) {
      uint64_t p = 0;
      for (size_t i = 0; i < 8; ++i) p = p << 8 | (i < text.size() ? static_cast<unsigned char>(text[i]) : 0u);
      return p;
    };
    struct Row {
      int64_t span, start;
      uint64_t dimension_prefix, key_prefix;
      std::string_view dimension, key;
      const LogCell* cell;
    };
    std::vector<Row> rows;
    rows.reserve(agg.hours().size() + days.size() + agg.days().size() + agg.paths().size());
    auto add_row = [&](int64_t span, const LogAggregator::CellKey& k, const LogCell& cell) {
      rows.push_back({span, k.start, prefix(k.dimension), prefix(k.key), k.dimension, k.key, &cell});
    };
    for (const auto& [k, cell] : agg.hours()) add_row(kHourMs, k, cell);
    for (const LogAggregator::Cells* cells :
         {static_cast<const LogAggregator::Cells*>(&days), &agg.days(), &agg.paths()}) {
      for (const auto& [k, cell] : *cells) add_row(kDayMs, k, cell);
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      if (a.span != b.span) return a.span < b.span;
      if (a.start != b.start) return a.start < b.start;
      if (a.dimension_prefix != b.dimension_prefix) return a.dimension_prefix < b.dimension_prefix;
      if (a.dimension.size() > 8 || b.dimension.size() > 8) {
        if (int d = a.dimension.compare(b.dimension); d != 0) return d < 0;
      } else if (a.dimension.size() != b.dimension.size()) {
        return a.dimension.size() < b.dimension.size();
      }
      if (a.key_prefix != b.key_prefix) return a.key_prefix < b.key_prefix;
      return a.key < b.key;
    });
    // Many rows a statement where none can meet a stored row: the periods (span and start) this
    // batch is the first to write, which is most of them when a log is imported whole. A period an
    // earlier import began (a log followed through the day, a file imported in parts) is merged
    // row by row.
    static const store::RowStatements insert_cells(
        "INSERT INTO logs_rollups (span, start, dimension, key, hits, bytes, visitors)", 7, 128,
        "ON CONFLICT DO NOTHING");
    std::vector<store::Value> values;
    for (size_t from = 0; from < rows.size();) {
      size_t to = from;
      while (to < rows.size() && rows[to].span == rows[from].span && rows[to].start == rows[from].start) ++to;
      STEWARD_ASSIGN_OR_RETURN(auto stored, c.Query("SELECT 1 FROM logs_rollups WHERE span = ? AND start = ? LIMIT 1",
                                                    {rows[from].span, rows[from].start}));
      for (size_t at = from, n = 0; at < to; at += n) {
        if (!stored.empty()) {
          n = 1;
          const Row& r = rows[at];
          STEWARD_RETURN_IF_ERROR(merge_into(r.span, r.start, r.dimension, r.key, *r.cell));
          continue;
        }
        n = insert_cells.Fit(to - at);
        values.clear();
        for (size_t i = at; i < at + n; ++i) {
          const Row& r = rows[i];
          values.insert(values.end(), {r.span, r.start, std::string(r.dimension), std::string(r.key), r.cell->hits,
                                       r.cell->bytes, store::Blob{r.cell->visitors.Serialize()}});
        }
        STEWARD_ASSIGN_OR_RETURN(auto added, c.Exec(insert_cells.Sql(n), values));
        if (added != static_cast<int64_t>(n))
          return MakeError(ErrorCode::kInternal, "access-log statistics met rows of a period thought new");
      }
      from = to;
    }
    // In key order: the B-tree's pages are then visited once each, in turn, not at random.
    static const store::RowStatements insert_visitors("INSERT INTO logs_visitors (day, visitor)", 2, 128,
                                                      "ON CONFLICT DO NOTHING");
    for (const auto& [day, seen] : agg.day_visitors()) {
      std::vector<int64_t> visitors(seen);
      std::sort(visitors.begin(), visitors.end());
      visitors.erase(std::unique(visitors.begin(), visitors.end()), visitors.end());
      for (size_t v = 0, n = 0; v < visitors.size(); v += n) {
        n = insert_visitors.Fit(visitors.size() - v);
        values.clear();
        for (size_t i = v; i < v + n; ++i) values.insert(values.end(), {day, visitors[i]});
        STEWARD_ASSIGN_OR_RETURN(auto added, c.Exec(insert_visitors.Sql(n), values));
        (void)added;
      }
    }
    return Ok();
  });
}

Result<LogReport> Report(store::Store& store, int64_t from_ms, int64_t to_ms, int limit) {
  LogReport report;
  // Privacy: access-logs, read as statistics.
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
    std::unordered_map<std::string, std::unordered_map<std::string, LogCell>> tables;
    int64_t first_day = -1, last_day = -1;
    STEWARD_RETURN_IF_ERROR(
        c.ForEach("SELECT start, dimension, key, hits, bytes, visitors FROM logs_rollups WHERE span = ? AND start >= ? "
                  "AND start < ?",
                  {kDayMs, from_ms, to_ms}, [&](const store::Row& r) {
                    LogCell cell = CellAt(r, 3);
                    if (r.Text(1).empty()) {
                      int64_t day = r.Int(0) / kDayMs;
                      if (first_day < 0 || day < first_day) first_day = day;
                      if (day > last_day) last_day = day;
                      report.visitors.push_back({DayText(day), cell.hits, cell.visitors.Estimate(), cell.bytes});
                    }
                    tables[r.Text(1)][r.Text(2)].Merge(cell);
                    return true;
                  }));
    // The time of day, from the totals' hours.
    std::array<LogCell, 24> by_hour;
    STEWARD_RETURN_IF_ERROR(
        c.ForEach("SELECT start, hits, bytes, visitors FROM logs_rollups WHERE dimension = '' AND span = ? AND start "
                  ">= ? AND start < ?",
                  {kHourMs, from_ms, to_ms}, [&](const store::Row& r) {
                    LogCell cell = CellAt(r, 1);
                    by_hour[static_cast<size_t>(((r.Int(0) % kDayMs) + kDayMs) % kDayMs / kHourMs)].Merge(cell);
                    return true;
                  }));
    for (size_t h = 0; h < by_hour.size(); ++h) {
      char name[24];  // two digits: h < 24
      std::snprintf(name, sizeof name, "%02zu", h);
      report.visit_time.push_back({name, by_hour[h].hits, by_hour[h].visitors.Estimate(), by_hour[h].bytes});
    }
    const LogCell& total = tables[""][""];
    report.valid_requests = total.hits;
    report.bandwidth = total.bytes;
    std::map<std::string, int64_t> exact;  // per day
    STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT day, count(*) FROM logs_visitors WHERE day >= ? AND day < ? GROUP BY day",
                                      {from_ms / kDayMs, (to_ms + kDayMs - 1) / kDayMs}, [&](const store::Row& r) {
                                        exact[DayText(r.Int(0))] = r.Int(1);
                                        report.unique_visitors += r.Int(1);
                                        return true;
                                      }));
    for (auto& row : report.visitors) {
      auto it = exact.find(row.key);
      if (it != exact.end()) row.visitors = it->second;
    }
    STEWARD_RETURN_IF_ERROR(
        c.ForEach("SELECT coalesce(sum(skipped), 0) FROM logs_imports WHERE first_ms < ? AND last_ms >= ?",
                  {to_ms, from_ms}, [&](const store::Row& r) {
                    report.failed_requests = r.Int(0);
                    return false;
                  }));
    report.total_requests = report.valid_requests + report.failed_requests;
    auto rows = [&](const std::string& dimension, std::vector<ReportRow>& out, int64_t* unique) {
      const auto& table = tables[dimension];
      if (unique) *unique = static_cast<int64_t>(table.size());
      for (const auto& [key, cell] : table) out.push_back({key, cell.hits, cell.visitors.Estimate(), cell.bytes});
      std::sort(out.begin(), out.end(), [](const ReportRow& a, const ReportRow& b) {
        return a.hits != b.hits ? a.hits > b.hits : a.key < b.key;
      });
      if (limit > 0 && out.size() > static_cast<size_t>(limit)) out.resize(static_cast<size_t>(limit));
    };
    rows("request", report.requests, &report.unique_files);
    rows("static", report.static_requests, &report.unique_static_files);
    rows("not_found", report.not_found, &report.unique_not_found);
    rows("referrer", report.referring_sites, &report.unique_referrers);
    rows("status", report.status_codes, nullptr);
    rows("browser", report.browsers, nullptr);
    rows("os", report.os, nullptr);
    rows("crawler", report.crawlers, nullptr);
    if (first_day >= 0) {
      report.start_date = DayText(first_day);
      report.end_date = DayText(last_day);
    }
    return Ok();
  }));
  return report;
}

namespace {

const std::vector<std::pair<const char*, const std::vector<ReportRow> LogReport::*>>& Tables() {
  static const std::vector<std::pair<const char*, const std::vector<ReportRow> LogReport::*>> kTables = {
      {"requests", &LogReport::requests},
      {"static_requests", &LogReport::static_requests},
      {"not_found", &LogReport::not_found},
      {"status_codes", &LogReport::status_codes},
      {"referring_sites", &LogReport::referring_sites},
      {"browsers", &LogReport::browsers},
      {"os", &LogReport::os},
      {"crawlers", &LogReport::crawlers},
      {"visitors", &LogReport::visitors},
      {"visit_time", &LogReport::visit_time}};
  return kTables;
}

}  // namespace

std::string ReportJson(const LogReport& r) {
  nlohmann::ordered_json out;
  out["general"] = {{"start_date", r.start_date},
                    {"end_date", r.end_date},
                    {"total_requests", r.total_requests},
                    {"valid_requests", r.valid_requests},
                    {"failed_requests", r.failed_requests},
                    {"unique_visitors", r.unique_visitors},
                    {"unique_files", r.unique_files},
                    {"unique_static_files", r.unique_static_files},
                    {"unique_not_found", r.unique_not_found},
                    {"unique_referrers", r.unique_referrers},
                    {"bandwidth", r.bandwidth}};
  for (const auto& [name, member] : Tables()) {
    auto rows = nlohmann::ordered_json::array();
    for (const auto& row : r.*member) {
      rows.push_back({{"data", row.key}, {"hits", row.hits}, {"visitors", row.visitors}, {"bytes", row.bytes}});
    }
    out[name] = std::move(rows);
  }
  return JsonText(out, 2) + "\n";
}

std::string ReportCsv(const LogReport& r) {
  std::string out = "table,key,hits,visitors,bytes\r\n";
  auto line = [&](const std::string& table, const std::string& key, int64_t hits, int64_t visitors, int64_t bytes) {
    out += table + "," + CsvField(key) + "," + std::to_string(hits) + "," + std::to_string(visitors) + "," +
           std::to_string(bytes) + "\r\n";
  };
  line("general", "all requests", r.total_requests, r.unique_visitors, r.bandwidth);
  line("general", "failed requests", r.failed_requests, 0, 0);
  for (const auto& [name, member] : Tables()) {
    for (const auto& row : r.*member) line(name, row.key, row.hits, row.visitors, row.bytes);
  }
  return out;
}

std::string ReportText(const LogReport& r) {
  char buf[256];
  std::string out = r.start_date.empty() ? "No requests in this period.\n"
                                         : "Requests from " + r.start_date + " to " + r.end_date + "\n\n";
  for (auto [name, value] : {std::pair<const char*, int64_t>{"total requests", r.total_requests},
                             {"valid requests", r.valid_requests},
                             {"failed requests", r.failed_requests},
                             {"unique visitors", r.unique_visitors},
                             {"bandwidth (bytes)", r.bandwidth}}) {
    std::snprintf(buf, sizeof buf, "  %-20s %14lld\n", name, static_cast<long long>(value));
    out += buf;
  }
  for (const auto& [name, member] : Tables()) {
    out += std::string("\n") + name + "\n";
    if ((r.*member).empty()) out += "  (nothing)\n";
    for (const auto& row : r.*member) {
      std::string key;
      for (char c : row.key.substr(0, 60)) key += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
      std::snprintf(buf, sizeof buf, "  %-60s %10lld hits %8lld visitors\n", key.c_str(),
                    static_cast<long long>(row.hits), static_cast<long long>(row.visitors));
      out += buf;
    }
  }
  return out;
}

}  // namespace steward::logs
