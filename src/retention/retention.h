// Retention: every dataset in the register purged on time by one generic runner.
//
// Each module that stores data declares its tables (which hold personal data and which do not)
// and, for its personal data, a purge. The runner computes each dataset's cut-off from the register
// with calendar arithmetic on the injected clock, calls the purge, and writes per-dataset counts
// (never contents) to the audit trail. It runs daily inside `steward serve` (a background task) and
// on demand as `steward retention run [--dry-run]`.
//
// The purge of a module whose data grows with the site's traffic (ModuleStorage::batched) goes in
// batches, each its own transaction on the store's writer with its own audit record, so that a
// backlog (the first run on imported data, a retention period shortened) holds the writes queued
// behind it for one batch at a time, not for the whole purge: the site keeps taking events,
// feedback and sign-ins meanwhile. A batch is sized to take about kBatchTime.
//
// Check() refuses a register and a build that disagree: a module that stores personal data with no
// dataset declaring it (or, for a module the register does not use, holds records nobody declares), a dataset whose
// (built) module has no purge, or a table in the database that no module declares.
//
// Thread safety: Run may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "core/result.h"
#include "register/register.h"
#include "store/store.h"

namespace steward::retention {

// Deletes (or, with dry_run, counts) what `dataset` holds from before `cutoff` (RFC 3339).
// `now` is the current time, for housekeeping that needs no cut-off. Runs on the writer's
// connection (or a reader's, for a dry run). Returns how many records.
//
// `limit` bounds the records one call deletes, for a module that says it keeps to it
// (ModuleStorage::batched), with DeleteAtMost: the runner calls again, in a new transaction, while
// a call returns `limit` or more. It is 0 (no bound) for a dry run and for every other module.
using PurgeFn =
    std::function<Result<int64_t>(store::Connection& c, const processing::Dataset& dataset, const std::string& cutoff,
                                  const std::string& now, bool dry_run, int64_t limit)>;

// Deletes at most `limit` rows (every one when `limit` is 0) of `table` that match `where`, whose
// `?` take `params`, naming each row by `key`: a column that identifies it, or the columns of a
// composite primary key ("day, visitor"). Returns how many.
// The names come from the module's own code, never from input. `where` should be a range of an
// index that holds only what may go next (`received_at < ?`, `site = ? AND ts < ?`): otherwise
// each batch reads again the rows the batches before it kept, and a backlog costs its square.
Result<int64_t> DeleteAtMost(store::Connection& c, std::string_view table, std::string_view key, std::string_view where,
                             std::vector<store::Value> params, int64_t limit);

// The distinct values of `column` in `table` among the rows that match `where` (whose `?` take
// `params`; empty for every row), smallest first, by one seek each: a loose index scan, for an
// index that begins with `where`'s equalities and then `column`. For a purge that goes key by key
// (site by site, span by span) so that each DeleteAtMost reads a range of one index.
Result<std::vector<store::Value>> DistinctValues(store::Connection& c, std::string_view table, std::string_view column,
                                                 std::string_view where = {}, std::vector<store::Value> params = {});

// Deletes at most `limit` rows (every one when `limit` is 0) of `table` whose period (columns
// `span` and `start`, in ms) has ended by `cutoff_ms`, among those matching `where` (equalities
// that, followed by span and start, begin an index; empty for the whole table), span by span so
// that each DeleteAtMost reads a range of that index. `key` as for DeleteAtMost. Returns how many.
// Errors: kInternal for a span that is not a positive number, whose rows it would otherwise keep.
Result<int64_t> DeleteEndedPeriods(store::Connection& c, std::string_view table, std::string_view key,
                                   std::string_view where, const std::vector<store::Value>& params, int64_t cutoff_ms,
                                   int64_t limit);

// A purge's cut-off (RFC 3339) as Unix milliseconds. Errors: kInvalidArgument.
Result<int64_t> CutoffMillis(const std::string& cutoff);

struct ModuleStorage {
  std::string module;                        // as datasets name it: "staff"
  std::vector<std::string> personal_tables;  // hold personal data: need a dataset and a purge
  std::vector<std::string> other_tables;     // hold none, declared so that nothing is unaccounted for
  PurgeFn purge;                             // required when personal_tables is not empty
  // Whether this register uses the module (absent: always). A module not in use needs no dataset,
  // as long as its personal tables are empty.
  std::function<bool(const processing::Register&)> in_use;
  // The data categories its personal tables hold (processing::KnownCategories): a dataset naming
  // the module must declare each, or a parent.
  std::vector<std::string> stores;
  // Its data comes from visits and devices rather than from what people give: a dataset naming the
  // module must say how it is collected (`collection`).
  bool observed = false;
  // Its purge keeps to `limit` (see PurgeFn), so it goes in batches. Said by a module whose data
  // grows with the site's traffic or sign-ups (events and their rollups, access-log statistics,
  // consent records, feedback, messages, the mail queue, subscribers, accounts); one whose records are few
  // by nature (staff accounts, cases, disclosures) purges in one transaction, and one that
  // anonymises rather than deletes could not batch by count.
  bool batched = false;
};

// What keeps each dataset of a register, given the storage of this build.
struct Keeping {
  // One line a dataset, for check-config and the start of serve: "dataset 'feedback': kept by
  // module 'feedback', deleted after 12 months", or "kept by SYSTEM (outside Steward ...)".
  std::vector<std::string> lines;
  // Where the register promises what the build does not do, with file and line: a dataset nothing
  // keeps (no module of this build, no kept_by), one kept both here and elsewhere, one that leaves
  // out a category its module stores, and automatically collected data that does not say how.
  config::Problems problems;
};
Keeping DescribeKeeping(const processing::Register& reg, const std::vector<ModuleStorage>& modules,
                        const std::string& path);

struct Outcome {
  std::string dataset, module;
  std::string rule;     // the register's retention, in words
  std::string cutoff;   // RFC 3339; empty when kept by criteria or not stored here
  int64_t count = 0;    // purged, or with a dry run, that would be
  std::string note;     // why nothing was done, when nothing was
  bool failed = false;  // the purge failed (note says why); the others still ran
  int batches = 0;      // transactions the purge took (none with a dry run)
  // The longest of them, as the writes queued behind it waited: commit included.
  std::chrono::milliseconds longest_batch{0};
};

// The storage of the modules built into the core: the store's own bookkeeping, the audit trail,
// notice versions. The trail signs a record of each purge of its oldest entries.
// `trail` may be null where only the declarations are read (check-config).
std::vector<ModuleStorage> CoreStorage(audit::Trail* trail);

class Runner {
 public:
  Runner(store::Store& store, audit::Trail& trail, const Clock& clock, const processing::Register& reg,
         std::vector<ModuleStorage> modules);

  // Errors: kFailedPrecondition listing every mismatch between the register, the modules and the
  // database.
  Status Check();
  // Purges every dataset past its retention (or counts, with dry_run), audited per batch (one a
  // dataset when there is little to delete). A dataset whose purge fails is reported
  // (Outcome::failed, with what its earlier batches deleted) and the others still run; an error
  // only when none could be tried.
  Result<std::vector<Outcome>> Run(bool dry_run);

  // How many records the first batch of each dataset may delete, and how long a batch should hold
  // the writer: each next batch is halved or doubled (between kMinBatch and kMaxBatch) by how long
  // the one before took.
  static constexpr int64_t kFirstBatch = 1000;
  static constexpr int64_t kMinBatch = 100;
  static constexpr int64_t kMaxBatch = 100000;
  static constexpr std::chrono::milliseconds kBatchTime{100};

 private:
  const ModuleStorage* Find(const std::string& module) const;
  store::Store& store_;
  audit::Trail& trail_;
  const Clock& clock_;
  const processing::Register& reg_;
  std::vector<ModuleStorage> modules_;
};

}  // namespace steward::retention
