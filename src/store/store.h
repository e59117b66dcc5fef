// Store: the database of one Steward site, shared by every module.
//
// Reads run on the calling thread with a connection from a small pool; writes go through one writer
// thread that commits them in groups (each write in its own savepoint, so one failing write does
// not undo the others in its group). The queue to the writer is bounded: a full queue is
// kResourceExhausted, which the HTTP layer answers with 503 and Retry-After.
//
// Never call Read or Write from an I/O thread: both block. Handlers that use the store run on the
// server's worker pool.
//
//   auto store = Store::Open({.path = "var/steward.db"});   // or .backend = Backend::kPostgresql
//   STEWARD_RETURN_IF_ERROR((*store)->Migrate(kMigrations));
//   Status s = (*store)->Write([&](Connection& c) { return c.Exec("INSERT ...", {...}).ok() ? ... });
//
// Thread safety: every method is safe for concurrent use. Close() waits for queued writes.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.h"
#include "store/connection.h"
#include "store/postgresql.h"

namespace steward::metrics {
class Registry;
class Counter;
class Histogram;
}  // namespace steward::metrics

namespace steward::store {

class Engine;

// One step of a module's schema. Versions of a module apply in order, once each.
struct Migration {
  std::string module;  // "core", "audit", "consent", ...
  int version;         // 1, 2, 3 ... within the module
  std::string sql;     // may hold several statements; written for SQLite
  // The step for PostgreSQL where it must differ (triggers); empty: `sql`, its types translated
  // (store/postgresql.h, TranslateSchema).
  std::string postgresql = {};
};

enum class Backend { kSqlite, kPostgresql };

// Whether `pattern` is a regular expression that SQLite's `value REGEXP pattern` takes: Steward
// gives every SQLite connection REGEXP, by PCRE2, giving up (as no match) past 100,000 steps.
// PostgreSQL's `~` is its own. Errors: kInvalidArgument saying what is wrong.
Status CheckPattern(std::string_view pattern);

struct Options {
  Backend backend = Backend::kSqlite;
  std::string path;              // SQLite: the database file; created when absent
  PostgresqlOptions postgresql;  // PostgreSQL: the server and database
  int readers = 4;               // reader connections
  // SQLite: each reader's page cache. SQLite's own 2 MiB holds a fraction of the rollup rows a
  // month's dashboard reads, and every other page is a system call.
  int64_t reader_cache_kib = int64_t{32} * 1024;
  size_t write_queue = 10000;            // writes waiting before Submit refuses
  size_t max_group = 512;                // writes committed together at most
  metrics::Registry* metrics = nullptr;  // optional
  bool check_integrity = true;           // SQLite: PRAGMA quick_check at open (reads the whole file)
};

using WriteFn = std::function<Status(Connection&)>;
using ReadFn = std::function<Status(Connection&)>;

class Store {
 public:
  // Opens the database, checks its integrity (SQLite: PRAGMA quick_check) and starts the writer.
  // Errors: kIo (cannot open or create), kDataLoss (integrity check failed), kUnavailable
  // (PostgreSQL cannot be reached).
  static Result<std::unique_ptr<Store>> Open(const Options& options);
  ~Store();  // Close()s

  // Applies, in one transaction, every migration not yet recorded in steward_migrations. On
  // PostgreSQL, instances starting together take turns (an advisory lock held by the transaction).
  Status Migrate(const std::vector<Migration>& migrations);

  // Runs `fn` on a read-only connection on this thread (waits for a free one).
  Status Read(const ReadFn& fn);

  // Queues `fn` for the writer. `done` runs on the writer thread once the group holding `fn` has
  // committed (with Ok) or failed (with the error). Returns kResourceExhausted at once when the
  // queue is full, and kUnavailable after Close(); `done` is not called then.
  Status Submit(WriteFn fn, std::function<void(Status)> done);
  // Submit and wait for the commit.
  Status Write(WriteFn fn);

  // A cheap probe for /healthz: a reader answers and the writer is running.
  Status Check();
  // SQLite: copies the database to a new file with the online backup API; the tables in
  // `leave_out` are empty in the copy, and nothing of their rows stays in its free pages.
  // PostgreSQL: kFailedPrecondition, saying what to use instead (pg_dump, the service's own backups).
  Status Backup(const std::string& to, const std::vector<std::string>& leave_out = {});

  // Whether this process runs the site's once-only work (retention, rollups, followed logs). On
  // PostgreSQL, several instances share the database and one of them leads: the one holding an
  // advisory lock on a connection of its own, taken here when free. When the leader dies its
  // connection closes, the server lets the lock go, and the next instance to ask takes it. On
  // SQLite, one process serves the file: always true.
  bool Leads();

  Backend backend() const { return options_.backend; }
  // The database, for messages: "database var/steward.db", "PostgreSQL at host:5432/steward".
  std::string Describe() const;

  size_t write_queue_depth() const;
  // Stops taking writes, commits what is queued, stops the writer and closes every connection.
  void Close();

 private:
  struct Job {
    WriteFn fn;
    std::function<void(Status)> done;
  };
  explicit Store(const Options& options);
  // Runs `fn` with a reader connection checked out of the pool (waits for one).
  Status WithReader(const std::function<Status(Connection&)>& fn);
  void WriterLoop();
  void CommitGroup(std::vector<Job>& group);

  Options options_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Connection> writer_conn_;

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> free_readers_;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;
  bool closing_ = false;
  bool closed_ = false;
  std::thread writer_;

  std::mutex leader_mu_;
  std::unique_ptr<Connection> leader_conn_;  // holds the lock while this instance leads
  metrics::Counter* commits_ = nullptr;
  metrics::Histogram* group_sizes_ = nullptr;
};

}  // namespace steward::store
