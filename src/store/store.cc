#include "store/store.h"

#include <future>

#include "core/log.h"
#include "metrics/metrics.h"
#include "store/sqlite.h"

namespace steward::store {

Store::Store(const Options& options) : options_(options) {}

Result<std::unique_ptr<Store>> Store::Open(const Options& options) {
  std::unique_ptr<Store> store(new Store(options));
  STEWARD_ASSIGN_OR_RETURN(store->writer_conn_, SqliteConnection::Open(options.path, /*create=*/true,
                                                                       /*read_only=*/false));
  if (options.check_integrity) {
    STEWARD_ASSIGN_OR_RETURN(auto check, store->writer_conn_->Query("PRAGMA quick_check"));
    if (check.empty() || check[0].Text(0) != "ok") {
      return MakeError(ErrorCode::kDataLoss,
                       "database " + options.path + " failed its integrity check; restore from a backup");
    }
  }
  for (int i = 0; i < options.readers; ++i) {
    STEWARD_ASSIGN_OR_RETURN(auto reader, SqliteConnection::Open(options.path, false, /*read_only=*/true));
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
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

Store::~Store() { Close(); }

Status Store::Migrate(const std::vector<Migration>& migrations) {
  return Write([&](Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(
        c.ExecScript("CREATE TABLE IF NOT EXISTS steward_migrations ("
                     " module TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,"
                     " PRIMARY KEY (module, version))"));
    for (const Migration& m : migrations) {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1 FROM steward_migrations WHERE module = ? AND version = ?",
                                                  {m.module, int64_t{m.version}}));
      if (!rows.empty()) continue;
      Status s = c.ExecScript(m.sql);
      if (!s.ok()) {
        return MakeError(s.error().code,
                         "migration " + m.module + " v" + std::to_string(m.version) + " failed: " + s.error().message);
      }
      STEWARD_RETURN_IF_ERROR(
          c.Exec("INSERT INTO steward_migrations (module, version, applied_at) VALUES (?, ?, "
                 "strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                 {m.module, int64_t{m.version}}));
      log::Info("store.migrated", {{"module", m.module}, {"version", m.version}});
    }
    return Ok();
  });
}

Status Store::WithReader(const std::function<Status(SqliteConnection&)>& fn) {
  std::unique_ptr<SqliteConnection> conn;
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
  return WithReader([&fn](SqliteConnection& conn) -> Status {
    // Each read sees one consistent snapshot.
    STEWARD_RETURN_IF_ERROR(conn.ExecScript("BEGIN"));
    Status s = fn(conn);
    (void)conn.ExecScript("COMMIT");
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
      Status begin = run("BEGIN IMMEDIATE");
      if (!begin.ok()) {
        fail_since(i, group.size(), begin);
        ++commits_failed;
        break;
      }
      open = true;
      first = i;
    }
    // The savepoint statements are prepared once and kept, like every statement run through Exec.
    (void)writer_conn_->Exec("SAVEPOINT w");
    Status s;
    try {
      s = group[i].fn(*writer_conn_);
    } catch (const std::exception& e) {
      s = MakeError(ErrorCode::kInternal, std::string("write threw: ") + e.what());
    }
    if (!writer_conn_->InTransaction()) {
      // SQLite rolled the whole transaction back (disk full, an I/O error): the writes before this
      // one in it are gone, and must be reported so. Those after it get a transaction of their
      // own, so they neither run outside one nor are reported failed once committed.
      Status lost = s.ok() ? MakeError(ErrorCode::kIo, "the transaction was rolled back") : s;
      fail_since(first, i + 1, lost);
      log::Error("store.transaction_lost", {{"error", lost.error().ToString()}, {"writes", i + 1 - first}});
      ++commits_failed;
      open = false;
      continue;
    }
    if (!s.ok()) (void)writer_conn_->Exec("ROLLBACK TO w");
    (void)writer_conn_->Exec("RELEASE w");
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

Status Store::Backup(const std::string& to) {
  return WithReader([&to](SqliteConnection& conn) { return conn.BackupTo(to); });
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
  if (writer_conn_) {
    // Fold the write-ahead log back into the database so the file stands alone after shutdown.
    (void)writer_conn_->ExecScript("PRAGMA wal_checkpoint(TRUNCATE)");
    writer_conn_.reset();
  }
}

}  // namespace steward::store
