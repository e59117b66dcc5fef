// Access-log statistics: what an import keeps of each line, with no IP address.
//
// Per UTC day, by dimension and key, and per hour for the totals and status codes (the time of
// day, without a row for every path each hour): hits, bytes and a visitor sketch. A visitor is,
// as GoAccess counts them, the same client address, day (as written in the log) and user agent,
// through a keyed hash; requests answered 4xx do not count as visitors (GoAccess's default). The
// totals count visitors exactly, from each day's set of those hashes; tables use the sketches.
// Dimensions: "" (all valid requests), "status" ("404"), "request" (pages), "static" (files by
// extension), "not_found" (404 paths), "referrer" (referring site), "browser" ("Firefox 128"),
// "os" ("Linux"), "crawler" (crawlers and scripts, apart from browsers). Paths are kept without their
// query strings, which may carry personal data.
//
//   LogAggregator agg(visitor_key);
//   for (...) agg.Add(record);
//   STEWARD_RETURN_IF_ERROR(SaveStats(store, agg));          // merged into what is stored
//   auto report = Report(store, from_ms, to_ms);             // GoAccess's general totals + tables
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edge/device.h"
#include "edge/sketch.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "logs/format.h"
#include "retention/retention.h"
#include "store/store.h"

namespace steward::logs {

struct LogCell {
  int64_t hits = 0, bytes = 0;
  edge::VisitorSketch visitors;
  void Merge(const LogCell& o);
};

class LogAggregator {
 public:
  // `visitor_key`: at least 16 bytes, from the site's secret key. `agents` (may be null) tells
  // browsers, operating systems and crawlers apart.
  explicit LogAggregator(const std::string& visitor_key, edge::UserAgents* agents = nullptr)
      : hash_(visitor_key), agents_(agents) {}
  // Moved, not copied: it keeps pointers to its own cells (which a move carries along).
  LogAggregator(const LogAggregator&) = delete;
  LogAggregator& operator=(const LogAggregator&) = delete;
  LogAggregator(LogAggregator&&) = default;
  LogAggregator& operator=(LogAggregator&&) = default;
  void Add(const LogRecord& r);
  void Merge(const LogAggregator& other);
  // (period start in ms, dimension, key) -> cell: hours of the totals ("") and status codes, and
  // UTC days of the other dimensions. Looked up by views, without making strings.
  struct CellKey {
    int64_t start = 0;
    std::string dimension, key;
  };
  struct CellKeyView {
    int64_t start = 0;
    std::string_view dimension, key;
  };
  struct CellHash {
    using is_transparent = void;
    size_t operator()(const CellKeyView& k) const;
    size_t operator()(const CellKey& k) const { return (*this)(CellKeyView{k.start, k.dimension, k.key}); }
  };
  struct CellEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.start == b.start && std::string_view(a.dimension) == std::string_view(b.dimension) &&
             std::string_view(a.key) == std::string_view(b.key);
    }
  };
  using Cells = std::unordered_map<CellKey, LogCell, CellHash, CellEq>;
  const Cells& hours() const { return hours_; }
  const Cells& days() const { return days_; }    // the referrers, browsers, systems and crawlers
  const Cells& paths() const { return paths_; }  // the requests, static files and 404s (by day)
  // day (as written in the log) -> the visitors' keyed hashes, for exact unique counts; a hash
  // may be there more than once (SaveStats keeps one).
  const std::map<int64_t, std::vector<int64_t>>& day_visitors() const { return day_visitors_; }
  int64_t records() const { return records_; }

 private:
  crypto::ShortHash hash_;  // SipHash: every line with a visitor is hashed
  edge::UserAgents* agents_ = nullptr;
  // The paths apart from the other days' cells: there are far more of them, and the others are
  // then found in a table small enough to stay in the core's cache.
  Cells hours_, days_, paths_;
  // The cells of the hour of the last line: its totals, and its status codes by number.
  int64_t hour_ = 0;
  LogCell* hour_total_ = nullptr;
  std::array<LogCell*, 600> hour_statuses_{};
  std::string scratch_;  // a key being built, reused from line to line
  std::string site_;     // the referring site, reused from line to line
  std::string valid_;    // a key from the line made valid UTF-8, when it was not
  std::map<int64_t, std::vector<int64_t>> day_visitors_;
  int64_t records_ = 0;
};

// True for a path GoAccess counts as a static file (by its extension).
bool IsStatic(std::string_view path);

// The logs module's tables and their purge (module "logs" in the register): statistics by period,
// and the raw lines' segment files in `raw_dir` by whole month (see archive.h).
std::vector<store::Migration> Migrations();
retention::ModuleStorage Storage(const std::string& raw_dir);

// Merges `agg` into the stored hour and day rows, in one transaction with `also` (the import's
// bookkeeping), so a crash never counts lines twice.
Status SaveStats(store::Store& store, const LogAggregator& agg,
                 const std::function<Status(store::Connection&)>& also = nullptr);

struct ReportRow {
  std::string key;
  int64_t hits = 0, visitors = 0, bytes = 0;
};
struct LogReport {
  std::string start_date, end_date;  // "2026-12-01", of the requests found
  int64_t total_requests = 0, valid_requests = 0, failed_requests = 0, unique_visitors = 0, bandwidth = 0;
  int64_t unique_files = 0, unique_static_files = 0, unique_not_found = 0, unique_referrers = 0;
  std::vector<ReportRow> requests, static_requests, not_found, status_codes, referring_sites, browsers, os, crawlers;
  std::vector<ReportRow> visitors;    // one row a day ("2026-12-01"), oldest first
  std::vector<ReportRow> visit_time;  // one row an hour of the day, UTC ("00" to "23"), in order
};
// The statistics for requests with from_ms <= time < to_ms (whole UTC days), top `limit` rows a
// table. failed_requests counts the skipped lines of the imports made in that time.
Result<LogReport> Report(store::Store& store, int64_t from_ms, int64_t to_ms, int limit = 10);

// The report as JSON (GoAccess's `general` names, then the tables), CSV (table,key,hits,visitors,
// bytes) or text for a terminal.
std::string ReportJson(const LogReport& r);
std::string ReportCsv(const LogReport& r);
std::string ReportText(const LogReport& r);

}  // namespace steward::logs
