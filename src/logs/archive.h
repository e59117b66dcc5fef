// The raw access-log lines, kept for the security role only as long as the register says.
//
// Lines go into one segment file per UTC month (<dir>/2026-11.seg), appended a block at a time:
// a block is some of the month's lines compressed with zstd and sealed (XSalsa20-Poly1305) with
// that month's own random key. The month keys are in the database (logs_raw_months), sealed with
// a key derived from the site's secret key. The purge deletes a month's key and file together once
// the whole month is past the dataset's retention, so a copy of the file in a backup can no longer
// be read.
//
// The database also holds each file's committed length. An import writes and syncs its blocks,
// then commits the new lengths in the same transaction as its statistics; before appending, a
// file is cut back to its committed length, so a crash in between never keeps a line twice. A
// lock on the file keeps two importers (a follower in `steward serve` and a command) apart.
//
//   RawArchive archive(data_dir + "/logs", key);
//   RawPacker packer;                       // one per parsing thread
//   packer.Add(record, line); ... auto blocks = packer.Finish();
//   auto pending = archive.Write(store, blocks);         // files written and synced, still locked
//   store.Write([&](Connection& c) { ...; return pending->Commit(c); });
//   auto found = archive.Search(store, {.ip = "203.0.113.7", .from_ms = ..., .to_ms = ...});
//
// Thread safety: RawPacker is single-threaded; RawArchive's methods are safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "logs/format.h"
#include "store/store.h"

namespace steward::logs {

// Lines packed for one month: records compressed, not yet sealed.
struct RawBlock {
  int64_t month = 0;  // months since 1970-01
  int64_t first_ms = 0, last_ms = 0, lines = 0;
  std::string packed;       // zstd
  bool second_form = true;  // records as Steward writes them now (archive.cc: kSecondForm)
};

// Collects parsed lines by month and compresses them into blocks of about a megabyte.
class RawPacker {
 public:
  RawPacker() = default;
  // `first_form`: records as Steward wrote them before the second form, only so that tests can
  // make the archives those versions left, which are still read.
  explicit RawPacker(bool first_form) : first_form_(first_form) {}
  // Privacy: access-logs. The raw line, with its address, on its way to a sealed segment.
  void Add(const LogRecord& r, std::string_view line);
  // Compresses what is left; the blocks made so far, in order. Resets the packer.
  std::vector<RawBlock> Finish();

 private:
  struct Open {
    std::string records;
    int64_t first_ms = INT64_MAX, last_ms = INT64_MIN, lines = 0;
  };
  void Flush(int64_t month, Open& open);
  bool first_form_ = false;
  std::map<int64_t, Open> open_;
  std::vector<RawBlock> done_;
};

// A search of the raw lines: by address (exact, or a CIDR range such as 203.0.113.0/24), by the
// client label an alert shows ("c-3f2a…"), and/or by path prefix (the path without its query).
struct RawQuery {
  std::string ip, client, path;
  int64_t from_ms = 0, to_ms = INT64_MAX;
  size_t limit = 500;
  int64_t max_scanned = 0;  // stop after reading this many lines (a block at a time); 0: read all
};
// Errors: kInvalidArgument saying what is wrong: nothing to search by, an address or range that
// cannot be read, a client that is not a label ("c-" and 12 hex digits), a path not starting with
// /, or an end before the start. Check before recording the search.
Status CheckQuery(const RawQuery& query);
// A search's bound from a day (YYYY-MM-DD: its start, or with `end` the start of the next) or an
// RFC 3339 time (with `end`, just after it), in ms; nullopt when it is neither.
std::optional<int64_t> SearchBound(std::string_view text, bool end);
// True for a client label as alerts give it: "c-" and twelve lower-case hex digits.
bool IsClientLabel(std::string_view s);

struct RawMatch {
  int64_t time_ms = 0;
  std::string line;
};
struct RawResult {
  std::vector<RawMatch> matches;  // oldest first, at most `limit`
  int64_t total = 0;              // matches in all
  int64_t scanned = 0;            // lines read
  bool stopped = false;           // max_scanned was reached: later lines were not read
};

struct RawMonth {
  std::string month;  // "2026-11"
  int64_t lines = 0, bytes = 0;
};

class RawArchive {
 public:
  // `dir` is created when first written. `client_label` turns an address into the label alerts
  // show (for searches by label); may be empty.
  RawArchive(std::string dir, const crypto::SecretKey& key,
             std::function<std::string(std::string_view)> client_label = {});
  ~RawArchive();

  // Blocks written and synced, their files still locked until this is committed or dropped.
  class Pending {
   public:
    ~Pending();
    // Records the new lengths (and any new month keys): call inside the import's transaction.
    Status Commit(store::Connection& c);

   private:
    friend class RawArchive;
    struct File {
      int fd = -1;
      int64_t month = 0, length = 0, lines = 0;
      std::string sealed_key;  // non-empty for a month new to the database
    };
    std::vector<File> files_;
  };
  // Writes `blocks` to their months' files. Errors: kIo.
  Result<std::unique_ptr<Pending>> Write(store::Store& store, const std::vector<RawBlock>& blocks);

  // Errors: kInvalidArgument for an address or range that cannot be read; kDataLoss when a block
  // fails its seal (altered, or the wrong key).
  Result<RawResult> Search(store::Store& store, const RawQuery& query) const;
  // The months kept, oldest first.
  static Result<std::vector<RawMonth>> Months(store::Store& store);

  // Deletes (or counts, with dry_run) the months in `dir` that ended at or before `cutoff_ms`:
  // their keys in `c`, then their files. Returns the lines they held.
  static Result<int64_t> Purge(store::Connection& c, const std::string& dir, int64_t cutoff_ms, bool dry_run);

  // Erases every line from `ip` (an address, or a range such as 203.0.113.0/24): each month holding
  // any is rewritten without them, every block sealed under a new month key, into a new file. The
  // new key and length commit in one write that also runs `record(c, lines_erased)` (the audit
  // entry); then the new file replaces the old, whose key is gone. Importers of the month wait.
  // Returns the lines erased. Errors: kInvalidArgument (the address), kDataLoss (a block fails its
  // seal), kIo.
  using EraseRecord = std::function<Status(store::Connection& c, int64_t lines)>;
  Result<int64_t> Erase(store::Store& store, std::string_view ip, const EraseRecord& record);
  // Finishes an erasure a crash interrupted: a month's rewritten file (.new) replaces the old when
  // its seal opens with the committed key, and is removed otherwise. Call before serving.
  Status Recover(store::Store& store);

  // The audit record of a search, before it runs: the client's label (for an address, the label
  // the alerts give it), "range/24" for a range, never an address; whether a path was given; the
  // dates as RFC 3339 times.
  audit::Entry SearchRecord(const RawQuery& query, std::string actor, std::string request_id = {}) const;

  static std::vector<store::Migration> Migrations();
  const std::string& dir() const { return dir_; }

 private:
  std::string Path(int64_t month) const;
  // Opens and locks `month`'s file, reopening if an erasure replaced it meanwhile; -1 when absent.
  Result<int> OpenLocked(int64_t month, bool create) const;
  std::string dir_;
  std::string wrap_key_;
  std::function<std::string(std::string_view)> client_label_;
};

// "2026-11" for months since 1970-01, and back.
std::string MonthText(int64_t month);
int64_t MonthOf(int64_t time_ms);
// The first millisecond of a month.
int64_t MonthStartMs(int64_t month);

}  // namespace steward::logs
