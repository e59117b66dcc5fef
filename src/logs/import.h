// Importing access logs: files or a stream, read in large chunks, each chunk's lines parsed on
// every core, the statistics merged into the store with how far each file was read, so importing
// a file again (or after it grew) counts only what is new.
//
//   logs::Importer importer(store, secret_key, clock);
//   auto summary = importer.ImportFile("/var/log/nginx/access.log", *format, on_progress);
//   summary->lines, summary->imported, summary->skipped, summary->reasons["bad status"]
//
// Thread safety: one import at a time per Importer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "edge/device.h"
#include "audit/audit.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "logs/archive.h"
#include "logs/format.h"
#include "logs/security.h"
#include "logs/settings.h"
#include "metrics/metrics.h"
#include "register/register.h"
#include "store/store.h"

namespace steward::logs {

struct SkipReason {
  int64_t count = 0;
  std::vector<std::string> samples;  // the first few lines skipped for it, cut to 200 characters
};

struct ImportSummary {
  int64_t lines = 0, imported = 0, skipped = 0;
  int64_t alerts = 0;  // security alerts raised (or added to) by this import
  int64_t bytes_read = 0;
  int64_t bytes_already = 0;  // skipped because an earlier import read them
  std::map<std::string, SkipReason> reasons;
};

// Bytes done, bytes in all (0 when unknown: a stream), lines so far.
using Progress = std::function<void(int64_t done, int64_t total, int64_t lines)>;

class Importer {
 public:
  // `agents` (may be null) tells browsers, systems and crawlers apart; `monitor` (may be null)
  // watches the requests for attacks and saves its alerts with the statistics; `archive` (may be
  // null: the raw lines are not kept) keeps the raw lines in sealed monthly segments.
  Importer(store::Store& store, const crypto::SecretKey& key, const Clock& clock, edge::UserAgents* agents = nullptr,
           Monitor* monitor = nullptr, RawArchive* archive = nullptr);
  // Alerts raised are recorded in `trail` (one entry a batch, with the new alerts' ids and counts by
  // rule), in the same transaction as the alerts themselves.
  void RecordAlertsIn(audit::Trail* trail) { trail_ = trail; }
  // Lines older than the register keeps access logs for are skipped, with that as the reason, and
  // nothing of them is kept. `period` is the register's retention for the dataset of module "logs".
  void KeepFor(const processing::Period& period) { keep_for_ = period; }

  // Errors: kNotFound / kIo for a file that cannot be read; store errors. Bad lines are counted,
  // never errors.
  Result<ImportSummary> ImportFile(const std::string& path, const LogFormat& format, const Progress& progress = {});
  // A stream has no fingerprint: every line in it is counted.
  Result<ImportSummary> ImportStream(std::istream& in, const LogFormat& format, const Progress& progress = {});
  // The keyed hash of a file's first line that names it ("" when it cannot be read or is empty).
  std::string Fingerprint(const std::string& path);

 private:
  struct Batch;
  Result<ImportSummary> Run(std::istream& in, int64_t start, int64_t total, const std::string& fingerprint,
                            const std::string& name, const LogFormat& format, const Progress& progress);
  Status CommitBatch(Batch& batch, const std::string& fingerprint, const std::string& name, int64_t offset);

  store::Store& store_;
  const Clock& clock_;
  edge::UserAgents* agents_ = nullptr;
  Monitor* monitor_ = nullptr;
  RawArchive* archive_ = nullptr;
  audit::Trail* trail_ = nullptr;
  std::optional<processing::Period> keep_for_;
  std::string visitor_key_, file_key_;
};

// Follows a live log: each Poll imports what was written since the last. When the file was
// rotated (its first line changed), the rest of the old one is read first from PATH.1, where
// logrotate moves it, so nothing written just before the rotation is lost.
class Follower {
 public:
  Follower(Importer& importer, std::string path, const LogFormat& format)
      : importer_(importer), path_(std::move(path)), format_(format) {}
  Result<ImportSummary> Poll();

 private:
  Importer& importer_;
  std::string path_;
  const LogFormat& format_;
  std::string fingerprint_;
};

// Follows the site's configured logs ([[logs.follow]]) for `steward serve`: each PollAll (the
// logs module's background task, every follow_interval_seconds) polls each in turn through one
// importer, and logs the counts (never a line). A log that cannot be read is logged and tried again
// next time.
class Watcher {
 public:
  // With `metrics`, counts the lines imported and skipped and the alerts, and how many logs are
  // failing (steward_logs_followed_*).
  Watcher(Importer& importer, std::vector<FollowedLog> logs, metrics::Registry* metrics = nullptr);
  // One round over every log. Returns the sum.
  ImportSummary PollAll();

 private:
  std::vector<FollowedLog> logs_;  // the followers read their formats here
  std::vector<Follower> followers_;
  std::vector<std::string> problems_;  // each log's last problem, to log it once
  metrics::Counter* lines_ = nullptr;
  metrics::Counter* alerts_ = nullptr;
  metrics::Gauge* failing_ = nullptr;
};

}  // namespace steward::logs
