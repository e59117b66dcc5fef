#include "store/store.h"

#include <pthread.h>

#include <atomic>

#include <future>

#include "core/clock.h"
#include "core/handoff.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "store/sqlite.h"

namespace steward::store {

namespace {
std::atomic<const StatementObserver*> g_observer{nullptr};
}  // namespace

void ObserveStatements(const StatementObserver* observer) { g_observer.store(observer); }

RowStatements::RowStatements(std::string_view head, size_t columns, size_t max_rows, std::string_view tail)
    : max_rows_(max_rows), sql_(max_rows + 1) {
  std::string row = "(?";
  for (size_t i = 1; i < columns; ++i) row += ", ?";
  row += ")";
  for (size_t n = 1; n <= max_rows; n *= 2) {
    std::string sql = std::string(head) + " VALUES " + row;
    for (size_t i = 1; i < n; ++i) sql += ", " + row;
    if (!tail.empty()) sql += " " + std::string(tail);
    sql_[n] = std::move(sql);
  }
}

size_t RowStatements::Fit(size_t left) const {
  size_t n = 1;
  while (n * 2 <= left && n * 2 <= max_rows_) n *= 2;
  return n;
}

void internal::Observe(std::string_view sql, const std::vector<Value>& params) {
  if (const StatementObserver* o = g_observer.load(std::memory_order_relaxed)) (*o)(sql, params);
}

// What differs between the backends at the level of the whole store: how connections are made,
// how transactions begin, integrity, backups and shutdown. Modules never see it.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual Result<std::unique_ptr<Connection>> Connect(bool writer) = 0;
  virtual Status CheckIntegrity(Connection& writer) = 0;
  // Writes: a group's transaction. Reads: one consistent snapshot.
  virtual const char* BeginWrite() const = 0;
  virtual const char* BeginRead() const = 0;
  // Run first in the migration transaction: instances starting together take turns.
  virtual const char* MigrationLock() const = 0;
  virtual std::string MigrationSql(const Migration& m) const = 0;
  // The backend's own schema, applied before any module's.
  virtual std::vector<Migration> Builtins() const { return {}; }
  virtual Status Backup(Connection& reader, const std::string& to, const std::vector<std::string>& leave_out) = 0;
  virtual void Closing(Connection& writer) = 0;
  virtual std::string Describe() const = 0;
};

namespace {

class SqliteEngine final : public Engine {
 public:
  SqliteEngine(std::string path, int64_t reader_cache_kib)
      : path_(std::move(path)), reader_cache_kib_(reader_cache_kib) {}
  Result<std::unique_ptr<Connection>> Connect(bool writer) override {
    STEWARD_ASSIGN_OR_RETURN(auto c, SqliteConnection::Open(path_, /*create=*/writer, /*read_only=*/!writer,
                                                            writer ? 0 : reader_cache_kib_));
    return std::unique_ptr<Connection>(std::move(c));
  }
  Status CheckIntegrity(Connection& writer) override {
    STEWARD_ASSIGN_OR_RETURN(auto check, writer.Query("PRAGMA quick_check"));
    if (check.empty() || check[0].Text(0) != "ok") {
      return MakeError(ErrorCode::kDataLoss,
                       "database " + path_ + " failed its integrity check; restore from a backup");
    }
    return Ok();
  }
  const char* BeginWrite() const override { return "BEGIN IMMEDIATE"; }
  const char* BeginRead() const override { return "BEGIN"; }
  const char* MigrationLock() const override { return nullptr; }  // BEGIN IMMEDIATE serialises writers
  std::string MigrationSql(const Migration& m) const override { return m.sql; }
  Status Backup(Connection& reader, const std::string& to, const std::vector<std::string>& leave_out) override {
    return static_cast<SqliteConnection&>(reader).BackupTo(to, leave_out);
  }
  void Closing(Connection& writer) override {
    // Fold the write-ahead log back into the database so the file stands alone after shutdown.
    (void)writer.ExecScript("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  std::string Describe() const override { return "database " + path_; }

 private:
  std::string path_;
  int64_t reader_cache_kib_;
};

class PostgresqlEngine final : public Engine {
 public:
  explicit PostgresqlEngine(PostgresqlOptions options) : options_(std::move(options)) {}
  Result<std::unique_ptr<Connection>> Connect(bool writer) override {
    (void)writer;
    STEWARD_ASSIGN_OR_RETURN(auto c, PostgresqlConnection::Open(options_));
    if (where_.empty()) where_ = c->Describe();
    return std::unique_ptr<Connection>(std::move(c));
  }
  // The server checks its own pages (data checksums, if the cluster was made with them).
  Status CheckIntegrity(Connection&) override { return Ok(); }
  const char* BeginWrite() const override { return "BEGIN"; }
  const char* BeginRead() const override { return "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"; }
  const char* MigrationLock() const override { return "SELECT pg_advisory_xact_lock(7415, 1)"; }
  std::vector<Migration> Builtins() const override {
    // SQLite's JSON functions, as modules use them, over PostgreSQL's: json_extract with a path of
    // object keys ("$.a.b"), giving text; json_each of an object, giving key and value as text.
    return {{"store", 1, "", R"sql(
CREATE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN doc = '' THEN NULL
              ELSE doc::json #>> string_to_array(substr(path, 3), '.') END
$$;
CREATE FUNCTION json_each(doc TEXT) RETURNS TABLE (key TEXT, value TEXT) LANGUAGE sql IMMUTABLE AS $$
  SELECT * FROM json_each_text(doc::json)
$$;
)sql"}};
  }
  std::string MigrationSql(const Migration& m) const override {
    return m.postgresql.empty() ? TranslateSchema(m.sql) : m.postgresql;
  }
  Status Backup(Connection&, const std::string&, const std::vector<std::string>&) override {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "this site's data is in " + where_ +
                         ", which Steward cannot copy consistently on its own: use pg_dump --format=custom (or the "
                         "managed service's backups and point-in-time recovery), and keep the secret key file "
                         "with it (docs/backups.md)");
  }
  void Closing(Connection&) override {}
  std::string Describe() const override { return where_.empty() ? "PostgreSQL" : where_; }

 private:
  PostgresqlOptions options_;
  std::string where_;
};

}  // namespace

Store::Store(const Options& options) : options_(options) {
  if (options.backend == Backend::kPostgresql) {
    engine_ = std::make_unique<PostgresqlEngine>(options.postgresql);
  } else {
    engine_ = std::make_unique<SqliteEngine>(options.path, options.reader_cache_kib);
  }
}

Result<std::unique_ptr<Store>> Store::Open(const Options& options) {
  std::unique_ptr<Store> store(new Store(options));
  STEWARD_ASSIGN_OR_RETURN(store->writer_conn_, store->engine_->Connect(/*writer=*/true));
  if (options.check_integrity) STEWARD_RETURN_IF_ERROR(store->engine_->CheckIntegrity(*store->writer_conn_));
  for (int i = 0; i < options.readers; ++i) {
    STEWARD_ASSIGN_OR_RETURN(auto reader, store->engine_->Connect(/*writer=*/false));
    store->free_readers_.push_back(std::move(reader));
  }
  if (options.metrics != nullptr) {
    Store* s = store.get();
    options.metrics->AddSampledGauge("steward_store_write_queue_depth", "Writes waiting for the writer.",
                                     [s] { return static_cast<double>(s->write_queue_depth()); });
    store->commits_ =
        &options.metrics->AddCounter("steward_store_commits_total", "Write groups committed, by outcome.", {"outcome"});
    store->group_sizes_ = &options.metrics->AddHistogram("steward_store_group_size", "Writes per committed group.", {},
                                                         {1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
  }
  store->writer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "store-writer");  // for top -H and perf
    s->WriterLoop();
  });
  return store;
}

std::string Store::Describe() const { return engine_->Describe(); }

bool Store::Leads() {
  if (options_.backend != Backend::kPostgresql) return true;
  std::lock_guard<std::mutex> lock(leader_mu_);
  if (leader_conn_) {
    // Still leading while the connection that holds the lock is alive.
    if (leader_conn_->Query("SELECT 1").ok()) return true;
    leader_conn_.reset();
  }
  auto conn = engine_->Connect(/*writer=*/false);
  if (!conn.ok()) return false;
  auto taken = (*conn)->Query("SELECT pg_try_advisory_lock(?)", {AdvisoryKey("steward.leader")});
  if (!taken.ok() || taken->empty() || taken->front().Int(0) != 1) return false;
  leader_conn_ = std::move(*conn);
  log::Info("store.leading", {{"database", engine_->Describe()}});
  return true;
}

Store::~Store() { Close(); }

Status Store::Migrate(const std::vector<Migration>& migrations) {
  std::string now = FormatRfc3339(SystemClock::Instance().Now());
  return Write([&](Connection& c) -> Status {
    if (const char* lock = engine_->MigrationLock()) STEWARD_RETURN_IF_ERROR(c.ExecScript(lock));
    STEWARD_RETURN_IF_ERROR(
        c.ExecScript("CREATE TABLE IF NOT EXISTS steward_migrations ("
                     " module TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,"
                     " PRIMARY KEY (module, version))"));
    std::vector<Migration> all = engine_->Builtins();
    all.insert(all.end(), migrations.begin(), migrations.end());
    for (const Migration& m : all) {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1 FROM steward_migrations WHERE module = ? AND version = ?",
                                                  {m.module, int64_t{m.version}}));
      if (!rows.empty()) continue;
      Status s = c.ExecScript(engine_->MigrationSql(m));
      if (!s.ok()) {
        return MakeError(s.error().code,
                         "migration " + m.module + " v" + std::to_string(m.version) + " failed: " + s.error().message);
      }
      STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO steward_migrations (module, version, applied_at) VALUES (?, ?, ?)",
                                     {m.module, int64_t{m.version}, now}));
      log::Info("store.migrated", {{"module", m.module}, {"version", m.version}});
    }
    return Ok();
  });
}

namespace {

// Begins a transaction. A connection the server dropped while it was idle (a restart, a failover)
// is only found out by its next statement: when that is BEGIN, nothing has been done yet, so it is
// safe to begin again on the connection made anew.
Status Begin(Connection& c, const char* sql) {
  Status s = c.ExecScript(sql);
  if (!s.ok() && s.error().code == ErrorCode::kUnavailable && !c.InTransaction()) s = c.ExecScript(sql);
  return s;
}

}  // namespace

Status Store::WithReader(const std::function<Status(Connection&)>& fn) {
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock<std::mutex> lock(readers_mu_);
    readers_cv_.wait(lock, [&] { return !free_readers_.empty() || closed_; });
    if (closed_) return MakeError(ErrorCode::kUnavailable, "store is closed");
    conn = std::move(free_readers_.back());
    free_readers_.pop_back();
  }
  Status s = fn(*conn);
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    free_readers_.push_back(std::move(conn));
  }
  readers_cv_.notify_one();
  return s;
}

Status Store::Read(const ReadFn& fn) {
  return WithReader([this, &fn](Connection& conn) -> Status {
    // Each read sees one consistent snapshot.
    STEWARD_RETURN_IF_ERROR(Begin(conn, engine_->BeginRead()));
    Status s = fn(conn);
    (void)conn.ExecScript(s.ok() ? "COMMIT" : "ROLLBACK");
    return s;
  });
}

Status Store::Submit(WriteFn fn, std::function<void(Status)> done) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closing_) return MakeError(ErrorCode::kUnavailable, "store is closing");
    if (queue_.size() >= options_.write_queue) {
      return MakeError(ErrorCode::kResourceExhausted, "write queue is full");
    }
    queue_.push_back(Job{std::move(fn), std::move(done)});
  }
  queue_cv_.notify_one();
  return Ok();
}

Status Store::Write(WriteFn fn) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> result = promise->get_future();
  STEWARD_RETURN_IF_ERROR(Submit(std::move(fn), [promise](Status s) { promise->set_value(std::move(s)); }));
  return result.get();
}

void Store::WriterLoop() {
  std::vector<Job> group;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty() && closing_) return;
      // Take everything waiting, up to a group: the writes that queued while the last group was
      // committing share the next commit (group commit, as in LevelDB's DBImpl::Write).
      while (!queue_.empty() && group.size() < options_.max_group) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    group.clear();
  }
}

void Store::CommitGroup(std::vector<Job>& group) {
  std::vector<Status> results(group.size());
  auto run = [this](const char* sql) -> Status {
    auto r = writer_conn_->Exec(sql);
    if (!r.ok()) return r.error();
    return Ok();
  };
  // The writes since the transaction in progress began: they commit or fail together.
  size_t first = 0;
  bool open = false;
  auto fail_since = [&](size_t from, size_t to, const Status& why) {
    for (size_t k = from; k < to; ++k) results[k] = why;
  };
  int commits_failed = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    if (!open) {
      Status begin = Begin(*writer_conn_, engine_->BeginWrite());
      if (!begin.ok()) {
        fail_since(i, group.size(), begin);
        ++commits_failed;
        break;
      }
      open = true;
      first = i;
    }
    // A write that shares its transaction runs in a savepoint, so that failing it undoes it alone.
    // One alone in its transaction needs none: failing, the transaction is rolled back. The
    // savepoint is not free: SQLite keeps a copy of every page the write changes until it ends, in
    // memory, and walks that copy again at the end of each statement that might have to be undone
    // by itself (an INSERT of many rows), which a large write of many statements pays for
    // quadratically. The savepoint statements are prepared once and kept, like every statement run
    // through Exec.
    const bool alone = i == first && i + 1 == group.size();
    if (!alone) (void)writer_conn_->Exec("SAVEPOINT w");
    Status s;
    try {
      s = group[i].fn(*writer_conn_);
    } catch (const std::exception& e) {
      s = MakeError(ErrorCode::kInternal, std::string("write threw: ") + e.what());
    }
    if (!writer_conn_->InTransaction()) {
      // The backend ended the whole transaction (SQLite on a full disk or an I/O error, PostgreSQL
      // when the connection dropped): the writes before this
      // one in it are gone, and must be reported so. Those after it get a transaction of their
      // own, so they neither run outside one nor are reported failed once committed.
      Status lost = s.ok() ? MakeError(ErrorCode::kIo, "the transaction was rolled back") : s;
      fail_since(first, i + 1, lost);
      log::Error("store.transaction_lost", {{"error", lost.error().ToString()}, {"writes", i + 1 - first}});
      ++commits_failed;
      open = false;
      continue;
    }
    if (alone && !s.ok()) {
      (void)writer_conn_->ExecScript("ROLLBACK");
      open = false;
    } else if (!alone) {
      if (!s.ok()) (void)writer_conn_->Exec("ROLLBACK TO w");
      (void)writer_conn_->Exec("RELEASE w");
    }
    results[i] = std::move(s);
  }
  if (open) {
    Status commit = run("COMMIT");
    if (!commit.ok()) {
      if (writer_conn_->InTransaction()) (void)writer_conn_->ExecScript("ROLLBACK");
      log::Error("store.commit_failed", {{"error", commit.error().ToString()}, {"writes", group.size() - first}});
      fail_since(first, group.size(), commit);
      ++commits_failed;
    }
  }
  if (commits_) {
    commits_->Inc({commits_failed == 0 ? "ok" : "error"});
    group_sizes_->Observe({}, static_cast<double>(group.size()));
  }
  // Each callback may answer a request; the answers go to the I/O threads together.
  HandoffBatch answers;
  for (size_t i = 0; i < group.size(); ++i) {
    if (group[i].done) group[i].done(std::move(results[i]));
  }
}

Status Store::Check() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closing_) return MakeError(ErrorCode::kUnavailable, "store is closing");
  }
  return Read([](Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1"));
    if (rows.size() != 1) return MakeError(ErrorCode::kInternal, "probe query returned nothing");
    return Ok();
  });
}

Status Store::Backup(const std::string& to, const std::vector<std::string>& leave_out) {
  return WithReader([this, &to, &leave_out](Connection& conn) { return engine_->Backup(conn, to, leave_out); });
}

size_t Store::write_queue_depth() const {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return queue_.size();
}

void Store::Close() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closing_ && !writer_.joinable()) return;
    closing_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (closed_) return;
    closed_ = true;
    free_readers_.clear();
  }
  readers_cv_.notify_all();
  {
    std::lock_guard<std::mutex> lock(leader_mu_);
    leader_conn_.reset();  // another instance may lead now
  }
  if (writer_conn_) {
    engine_->Closing(*writer_conn_);
    writer_conn_.reset();
  }
}

}  // namespace steward::store
