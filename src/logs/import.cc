#include "logs/import.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <streambuf>
#include <limits>
#include <thread>
#include <utility>

#include "core/log.h"
#include "logs/stats.h"

namespace steward::logs {
namespace {

constexpr size_t kChunk = 8 << 20;       // bytes read at a time
constexpr int64_t kSaveEvery = 250'000;  // lines between commits: bounds the memory an import holds
constexpr size_t kSamples = 3;

// What one parsing thread keeps over a batch: its statistics and its lines, packed.
struct Shard {
  LogAggregator agg;
  std::vector<RawBlock> raw;
  Shard(const std::string& key, edge::UserAgents* agents) : agg(key, agents) {}
};

// What one thread found in its part of a chunk.
struct Part {
  std::vector<Sighting> sightings;  // for the monitor, in the part's order
  std::map<std::string, SkipReason> reasons;
  int64_t lines = 0, imported = 0, skipped = 0, first_ms = INT64_MAX, last_ms = INT64_MIN;
  int64_t too_old = 0;  // of `skipped`: older than the register keeps; not in the statistics at all
};

// A batch's counts, saved with its statistics.
struct Totals {
  int64_t lines = 0, imported = 0, skipped = 0, first_ms = INT64_MAX, last_ms = INT64_MIN;
};

// Slices `view` at line ends into at most `threads` parts of about equal size.
std::vector<std::string_view> SliceAtLineEnds(std::string_view view, unsigned threads) {
  std::vector<std::string_view> parts;
  size_t from = 0;
  for (unsigned t = 0; t < threads && from < view.size(); ++t) {
    size_t to = t + 1 == threads ? view.size() : std::min(view.size(), from + view.size() / threads);
    if (to < view.size()) {
      size_t nl = view.find('\n', to);
      to = nl == std::string_view::npos ? view.size() : nl + 1;
    }
    parts.push_back(view.substr(from, to - from));
    from = to;
  }
  return parts;
}

// Adds the parts' counts and skipped lines to the import's summary and the batch's totals.
void AddCounts(const std::vector<Part>& found, ImportSummary& summary, Totals& totals, int64_t& since_save) {
  for (const Part& part : found) {
    summary.lines += part.lines, summary.imported += part.imported, summary.skipped += part.skipped;
    // A line too old to keep is said in the summary, but counted nowhere in the statistics.
    totals.lines += part.lines - part.too_old, totals.imported += part.imported;
    totals.skipped += part.skipped - part.too_old;
    totals.first_ms = std::min(totals.first_ms, part.first_ms), totals.last_ms = std::max(totals.last_ms, part.last_ms);
    since_save += part.lines;
    for (const auto& [why, reason] : part.reasons) {
      SkipReason& all = summary.reasons[why];
      all.count += reason.count;
      for (const auto& sample : reason.samples) {
        if (all.samples.size() < kSamples) all.samples.push_back(sample);
      }
    }
  }
}

// What a line older than the register keeps access logs for is skipped as.
std::string TooOld(const processing::Period& period) {
  return "older than the register keeps access logs (" + period.text + ")";
}

// `keep_from_ms`: lines from before it are skipped (INT64_MIN: none are).
void ParseSlice(std::string_view text, const LogFormat& format, const Monitor* monitor, bool keep_raw,
                int64_t keep_from_ms, const std::string& too_old, Part& s, Shard& shard) {
  LogRecord r;
  RawPacker packer;
  if (monitor != nullptr) s.sightings.reserve(text.size() / 128);  // a line is rarely shorter
  size_t p = 0;
  while (p < text.size()) {
    size_t end = text.find('\n', p);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(p, end - p);
    p = end + 1;
    if (line.empty() || line.front() == '#') continue;  // blank lines, W3C directives
    ++s.lines;
    std::string_view why = format.Parse(line, r);
    if (!why.empty()) {
      ++s.skipped;
      SkipReason& reason = s.reasons[std::string(why)];
      ++reason.count;
      // Privacy: access-logs. Samples go to the operator's terminal only, never to logs.
      if (reason.samples.size() < kSamples) reason.samples.emplace_back(line.substr(0, 200));
      continue;
    }
    if (r.time_ms < keep_from_ms) {
      ++s.skipped;
      ++s.too_old;
      SkipReason& reason = s.reasons[too_old];
      ++reason.count;
      // Privacy: access-logs. Samples go to the operator's terminal only, never to logs.
      if (reason.samples.size() < kSamples) reason.samples.emplace_back(line.substr(0, 200));
      continue;
    }
    ++s.imported;
    s.first_ms = std::min(s.first_ms, r.time_ms);
    s.last_ms = std::max(s.last_ms, r.time_ms);
    shard.agg.Add(r);
    if (monitor != nullptr) s.sightings.push_back(monitor->See(r, line));
    if (keep_raw) packer.Add(r, line);
  }
  if (keep_raw) {
    auto blocks = packer.Finish();  // compressed here, on the part's own thread
    std::move(blocks.begin(), blocks.end(), std::back_inserter(shard.raw));
  }
}

// A .gz file read as a stream (zlib's gzread, which also reads concatenated members, as logrotate
// writes them).
class GzBuf : public std::streambuf {
 public:
  explicit GzBuf(const std::string& path) : file_(gzopen(path.c_str(), "rb")) {
    if (file_ != nullptr) gzbuffer(file_, 1 << 18);
  }
  ~GzBuf() override {
    if (file_ != nullptr) gzclose(file_);
  }
  bool ok() const { return file_ != nullptr; }

 protected:
  int_type underflow() override {
    int n = gzread(file_, buffer_, sizeof buffer_);
    if (n <= 0) return traits_type::eof();
    setg(buffer_, buffer_, buffer_ + n);
    return traits_type::to_int_type(buffer_[0]);
  }

 private:
  gzFile file_;
  char buffer_[1 << 16];
};

}  // namespace

// One batch of an import, handed to the thread that saves it.
struct Importer::Batch {
  std::vector<Shard> shards;
  Totals totals;
  Monitor::Findings alerts;
};

Importer::Importer(store::Store& store, const crypto::SecretKey& key, const Clock& clock, edge::UserAgents* agents,
                   Monitor* monitor, RawArchive* archive)
    : store_(store), clock_(clock), agents_(agents), monitor_(monitor), archive_(archive) {
  auto v = key.DeriveKey("logvisit");
  visitor_key_.assign(reinterpret_cast<const char*>(v.data()), v.size());
  auto f = key.DeriveKey("logfiles");
  file_key_.assign(reinterpret_cast<const char*>(f.data()), f.size());
}

Result<ImportSummary> Importer::ImportFile(const std::string& path, const LogFormat& format, const Progress& progress) {
  bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  // One import of a file at a time, across processes (a follower in `steward serve` and a
  // command): the offset is read under the lock, so no line is counted twice. The web server
  // writing the file takes no such lock and is not held up.
  int lock_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (lock_fd < 0) return MakeError(ErrorCode::kNotFound, path + ": cannot be read: " + std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> unlock(&lock_fd, [](int* fd) { ::close(*fd); });
  while (::flock(lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) return MakeError(ErrorCode::kIo, path + ": cannot be locked: " + std::strerror(errno));
  }
  // The file opened above: its size (a compressed file's is not known until it is read).
  int64_t size = 0;
  if (struct stat st{}; !gz && ::fstat(lock_fd, &st) == 0) size = static_cast<int64_t>(st.st_size);
  // A log that grew is the same file; a rotated one is new; a compressed file is known by its
  // content. An empty file has nothing to count yet.
  std::string fingerprint = Fingerprint(path);
  if (fingerprint.empty()) return ImportSummary{};
  int64_t start = 0;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT \"offset\" FROM logs_files WHERE fingerprint = ?", {store::Blob{fingerprint}}));
    if (!rows.empty()) start = gz ? rows.front().Int(0) : std::min(rows.front().Int(0), size);
    return Ok();
  }));
  Result<ImportSummary> summary = ImportSummary{};
  if (gz) {
    GzBuf buf(path);
    std::istream in(&buf);
    in.ignore(start);  // what an earlier import read (offsets count uncompressed bytes)
    summary = Run(in, start, 0, fingerprint, path, format, progress);
  } else {
    std::ifstream in(path, std::ios::binary);
    in.seekg(start);
    summary = Run(in, start, size, fingerprint, path, format, progress);
  }
  if (summary.ok()) summary->bytes_already = start;
  return summary;
}

Result<ImportSummary> Importer::ImportStream(std::istream& in, const LogFormat& format, const Progress& progress) {
  return Run(in, 0, 0, "", "-", format, progress);
}

// Saves one batch in one commit: the raw lines (written and synced first), the statistics, the
// alerts and their audit entry, the file's offset and the import's counts.
Status Importer::CommitBatch(Batch& batch, const std::string& fingerprint, const std::string& name, int64_t offset) {
  LogAggregator& all = batch.shards.front().agg;
  std::vector<RawBlock> blocks;
  for (size_t i = 0; i < batch.shards.size(); ++i) {
    Shard& shard = batch.shards[i];
    if (i > 0) all.Merge(shard.agg);
    std::move(shard.raw.begin(), shard.raw.end(), std::back_inserter(blocks));
  }
  const Totals& t = batch.totals;
  std::string now = FormatRfc3339(clock_.Now());
  // The raw lines are written and synced first; their lengths commit with the statistics.
  std::unique_ptr<RawArchive::Pending> raw;
  if (archive_ != nullptr) {
    STEWARD_ASSIGN_OR_RETURN(raw, archive_->Write(store_, blocks));
  }
  return SaveStats(store_, all, [&](store::Connection& c) -> Status {
    if (raw) STEWARD_RETURN_IF_ERROR(raw->Commit(c));
    if (monitor_ != nullptr) {
      STEWARD_ASSIGN_OR_RETURN(Monitor::Saved alerts, monitor_->SaveFound(c, batch.alerts));
      if (trail_ != nullptr && !alerts.ids.empty()) {
        audit::Entry e{.actor = "system", .action = "security.alerts_raised"};
        auto [lo, hi] = std::minmax_element(alerts.ids.begin(), alerts.ids.end());
        e.target = "alerts:" + std::to_string(*lo) + "-" + std::to_string(*hi);
        e.details.emplace_back("alerts", std::to_string(alerts.ids.size()));
        for (const auto& [rule, count] : alerts.raised) e.details.emplace_back(rule, std::to_string(count));
        STEWARD_RETURN_IF_ERROR(trail_->AppendIn(c, e));
      }
    }
    if (!fingerprint.empty()) {
      STEWARD_ASSIGN_OR_RETURN(auto n,
                               c.Exec("INSERT INTO logs_files (fingerprint, name, \"offset\", updated_at) VALUES "
                                      "(?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET name = excluded.name, "
                                      "\"offset\" = excluded.\"offset\", updated_at = excluded.updated_at",
                                      {store::Blob{fingerprint}, name, offset, now}));
      (void)n;
    }
    if (t.lines > 0) {
      STEWARD_ASSIGN_OR_RETURN(auto n,
                               c.Exec("INSERT INTO logs_imports (at, lines, imported, skipped, first_ms, last_ms) "
                                      "VALUES (?, ?, ?, ?, ?, ?)",
                                      {now, t.lines, t.imported, t.skipped,
                                       t.first_ms == INT64_MAX ? store::Value() : store::Value(t.first_ms),
                                       t.last_ms == INT64_MIN ? store::Value() : store::Value(t.last_ms)}));
      (void)n;
    }
    return Ok();
  });
}

Result<ImportSummary> Importer::Run(std::istream& in, int64_t start, int64_t total, const std::string& fingerprint,
                                    const std::string& name, const LogFormat& format, const Progress& progress) {
  ImportSummary summary;
  unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  // What the register no longer keeps is not taken in: it would only wait for the next purge.
  int64_t keep_from_ms = std::numeric_limits<int64_t>::min();
  std::string too_old;
  if (keep_for_) {
    keep_from_ms = UnixMillis(processing::Subtract(clock_.Now(), *keep_for_));
    too_old = TooOld(*keep_for_);
  }
  int64_t offset = start;  // the end of the last whole line parsed
  int64_t since_save = 0;
  // The chunk being read, after what was left of the one before (a line not yet ended): read
  // into its place, not copied there.
  std::string text;
  // This batch's statistics and lines, one shard a thread, and its counts.
  std::vector<Shard> shards;
  Totals totals;
  auto fresh = [&] {
    shards.clear();
    for (unsigned i = 0; i < threads; ++i) shards.emplace_back(visitor_key_, agents_);
  };
  fresh();

  // Each batch is saved on a thread of its own while the next is parsed; one at a time, in order,
  // so the file's offset only ever moves forward with the lines before it.
  std::future<Status> saving;
  auto saved = [&]() -> Status { return saving.valid() ? saving.get() : Ok(); };
  auto save = [&]() -> Status {
    STEWARD_RETURN_IF_ERROR(saved());
    auto batch = std::make_shared<Batch>();
    batch->shards = std::move(shards);
    batch->totals = std::exchange(totals, {});
    fresh();
    if (monitor_ != nullptr) {
      summary.alerts += static_cast<int64_t>(monitor_->pending());
      batch->alerts = monitor_->Take();
    }
    since_save = 0;
    saving = std::async(std::launch::async, [this, batch, fingerprint, name, offset]() -> Status {
      return CommitBatch(*batch, fingerprint, name, offset);
    });
    return Ok();
  };

  while (true) {
    size_t carried = text.size();
    text.resize(carried + kChunk);
    in.read(text.data() + carried, static_cast<std::streamsize>(kChunk));
    auto got = static_cast<size_t>(in.gcount());
    text.resize(carried + got);
    bool last = got == 0 || !in;
    summary.bytes_read += static_cast<int64_t>(got);
    size_t whole = text.size();
    if (!last) {
      size_t nl = text.rfind('\n');
      whole = nl == std::string::npos ? 0 : nl + 1;
    } else if (!text.empty() && text.back() != '\n' && !fingerprint.empty()) {
      // A file's unfinished last line waits for the rest to be written (next import).
      size_t nl = text.rfind('\n');
      whole = nl == std::string::npos ? 0 : nl + 1;
    }
    std::string_view view(text.data(), whole);
    // Slices at line ends, one thread each.
    std::vector<std::string_view> parts = SliceAtLineEnds(view, threads);
    std::vector<Part> found(parts.size());
    std::vector<std::thread> workers;
    for (size_t i = 1; i < parts.size(); ++i) {
      workers.emplace_back([&, i] {
        ParseSlice(parts[i], format, monitor_, archive_ != nullptr, keep_from_ms, too_old, found[i], shards[i]);
      });
    }
    if (!parts.empty()) {
      ParseSlice(parts[0], format, monitor_, archive_ != nullptr, keep_from_ms, too_old, found[0], shards[0]);
    }
    for (auto& w : workers) w.join();
    // The monitor sees the requests in order, while the chunk they point into is still here.
    if (monitor_ != nullptr) {
      std::vector<const std::vector<Sighting>*> sightings;
      sightings.reserve(found.size());
      for (const Part& part : found) sightings.push_back(&part.sightings);
      monitor_->FeedAll(sightings);
    }
    AddCounts(found, summary, totals, since_save);
    offset += static_cast<int64_t>(whole);
    if (since_save >= kSaveEvery) STEWARD_RETURN_IF_ERROR(save());
    if (progress) progress(offset, total, summary.lines);
    if (last) break;
    text.erase(0, whole);  // what is left of an unended line moves to the front
  }
  STEWARD_RETURN_IF_ERROR(save());
  STEWARD_RETURN_IF_ERROR(saved());
  return summary;
}

namespace {

// The line that names a file: its first line that is not a comment, since W3C (IIS) logs begin
// every daily file with the same "#Software:" and "#Version:" lines; else its first line.
std::string_view NamingLine(std::string_view head) {
  size_t p = 0;
  while (p < head.size()) {
    size_t nl = head.find('\n', p);
    std::string_view line = head.substr(p, nl == std::string_view::npos ? std::string_view::npos : nl - p);
    if (!line.empty() && line[0] != '#') return line;
    if (nl == std::string_view::npos) break;
    p = nl + 1;
  }
  return head.substr(0, head.find('\n'));
}

}  // namespace

std::string Importer::Fingerprint(const std::string& path) {
  // The first 4 KiB name the file; the content's, for a compressed one.
  std::string head(4096, '\0');
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    GzBuf buf(path);
    if (!buf.ok()) return {};
    std::istream in(&buf);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
  }
  std::string_view line = NamingLine(head);
  if (line.empty()) return {};
  return crypto::Hash(line, file_key_);
}

Result<ImportSummary> Follower::Poll() {
  ImportSummary total;
  auto add = [&](const ImportSummary& s) {
    total.lines += s.lines, total.imported += s.imported, total.skipped += s.skipped, total.alerts += s.alerts;
    total.bytes_read += s.bytes_read;
    for (const auto& [why, reason] : s.reasons) {
      SkipReason& all = total.reasons[why];
      all.count += reason.count;
      for (const auto& sample : reason.samples) {
        if (all.samples.size() < 3) all.samples.push_back(sample);
      }
    }
  };
  std::string now = importer_.Fingerprint(path_);
  if (now.empty()) {
    // Not there yet, or empty: wait. There but not readable: say so.
    if (::access(path_.c_str(), R_OK) != 0 && errno != ENOENT) {
      return MakeError(ErrorCode::kPermissionDenied, path_ + ": cannot be read: " + std::strerror(errno));
    }
    return total;
  }
  if (!fingerprint_.empty() && now != fingerprint_) {
    std::string rotated = path_ + ".1";
    if (importer_.Fingerprint(rotated) == fingerprint_) {
      STEWARD_ASSIGN_OR_RETURN(ImportSummary rest, importer_.ImportFile(rotated, format_));
      add(rest);
    }
  }
  fingerprint_ = now;
  STEWARD_ASSIGN_OR_RETURN(ImportSummary fresh, importer_.ImportFile(path_, format_));
  add(fresh);
  return total;
}

Watcher::Watcher(Importer& importer, std::vector<FollowedLog> logs, metrics::Registry* metrics)
    : logs_(std::move(logs)) {
  if (metrics != nullptr) {
    lines_ = &metrics->AddCounter("steward_logs_followed_lines_total",
                                  "Lines of followed access logs read, by outcome.", {"outcome"});
    alerts_ = &metrics->AddCounter("steward_logs_followed_alerts_total",
                                   "Security alerts raised or added to from followed access logs.");
    failing_ = &metrics->AddGauge("steward_logs_followed_failing", "Followed access logs whose last read failed.");
  }
  followers_.reserve(logs_.size());
  for (const FollowedLog& l : logs_) followers_.emplace_back(importer, l.path, l.format);  // formats in logs_
  problems_.resize(followers_.size());
}

ImportSummary Watcher::PollAll() {
  ImportSummary all;
  for (size_t i = 0; i < followers_.size(); ++i) {
    auto s = followers_[i].Poll();
    std::string problem = s.ok() ? "" : s.error().ToString();
    // Said once when it starts and once when it ends, not every round.
    if (problem != problems_[i]) {
      if (!problem.empty())
        log::Warn("logs.follow_failed", {{"log", static_cast<int64_t>(i)}, {"error", problem}});
      else
        log::Info("logs.follow_recovered", {{"log", static_cast<int64_t>(i)}});
      problems_[i] = problem;
    }
    if (!s.ok()) continue;
    all.lines += s->lines, all.imported += s->imported, all.skipped += s->skipped, all.alerts += s->alerts;
  }
  if (lines_ != nullptr) {
    lines_->Inc({"imported"}, static_cast<double>(all.imported));
    lines_->Inc({"skipped"}, static_cast<double>(all.skipped));
    alerts_->Inc({}, static_cast<double>(all.alerts));
    failing_->Set(static_cast<double>(
        std::count_if(problems_.begin(), problems_.end(), [](const std::string& p) { return !p.empty(); })));
  }
  if (all.lines > 0) {
    log::Info("logs.followed",
              {{"lines", all.lines}, {"imported", all.imported}, {"skipped", all.skipped}, {"alerts", all.alerts}});
  }
  return all;
}

}  // namespace steward::logs
