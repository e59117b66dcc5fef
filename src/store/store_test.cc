#include "store/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <future>
#include <thread>

#include "metrics/metrics.h"
#include "store/pattern.h"
#include "store/postgresql.h"
#include "store/sqlite.h"
#include "store/testing/scratch.h"

namespace steward::store {
namespace {

namespace fs = std::filesystem;

const std::vector<Migration> kMigrations = {
    {"test", 1, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)"},
    {"test", 2, "ALTER TABLE notes ADD COLUMN n INTEGER NOT NULL DEFAULT 0"},
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("steward-store-" + std::to_string(std::random_device()()));
    fs::create_directories(dir_);
    db_ = std::make_unique<testing::TestDatabase>(dir_);
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Store> OpenStore(size_t queue = 10000, const std::vector<Migration>& migrations = kMigrations) {
    Options o = db_->options();
    o.readers = 2;
    o.write_queue = queue;
    o.metrics = &registry_;
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    Status migrated = (*s)->Migrate(migrations);
    EXPECT_TRUE(migrated.ok()) << migrated.error().ToString();
    return std::move(s).value();
  }

  int64_t CountNotes(Store& store) {
    int64_t n = -1;
    EXPECT_TRUE(store
                    .Read([&](Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM notes"));
                      n = rows[0].Int(0);
                      return Ok();
                    })
                    .ok());
    return n;
  }

  fs::path dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  metrics::Registry registry_;
};

// Readers keep the page cache they are given (a month's dashboard reads tens of MiB of rollups);
// the writer keeps SQLite's own.
TEST_F(StoreTest, ReadersKeepTheirPageCache) {
  if (testing::OnPostgresql()) GTEST_SKIP() << "PostgreSQL's cache is the server's (shared_buffers)";
  Options o = db_->options();
  o.readers = 1;
  o.reader_cache_kib = 8192;
  auto store = Store::Open(o);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  int64_t reader = 0, writer = 0;
  auto cache_size = [](int64_t& out) {
    return [&out](Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("PRAGMA cache_size"));
      out = rows.front().Int(0);
      return Ok();
    };
  };
  ASSERT_TRUE((*store)->Read(cache_size(reader)).ok());
  ASSERT_TRUE((*store)->Write(cache_size(writer)).ok());
  EXPECT_EQ(reader, -8192) << "KiB, as SQLite takes a negative size";
  EXPECT_EQ(writer, -2000) << "SQLite's own";
}

TEST_F(StoreTest, MigrationsApplyOnceInOrder) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store
                    ->Write([](Connection& c) {
                      return c.Exec("INSERT INTO notes (body, n) VALUES (?, ?)", {std::string("a"), int64_t{1}}).ok()
                                 ? Ok()
                                 : MakeError(ErrorCode::kInternal, "insert");
                    })
                    .ok());
  }
  auto store = OpenStore();  // re-applying would fail on ALTER TABLE
  ASSERT_TRUE(
      store
          ->Read([](Connection& c) -> Status {
            STEWARD_ASSIGN_OR_RETURN(
                auto rows,
                c.Query("SELECT module, version FROM steward_migrations WHERE module = 'test' ORDER BY version"));
            EXPECT_EQ(rows.size(), 2u);
            STEWARD_ASSIGN_OR_RETURN(auto notes, c.Query("SELECT body, n FROM notes"));
            EXPECT_EQ(notes.at(0).Text(0), "a");
            EXPECT_EQ(notes.at(0).Int(1), 1);
            return Ok();
          })
          .ok());
}

TEST_F(StoreTest, FailingMigrationIsReportedAndNothingApplied) {
  auto s = OpenStore(10000, {});
  Status st = s->Migrate({{"bad", 1, "CREATE TABLE t (x INTEGER)"}, {"bad", 2, "THIS IS NOT SQL"}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("migration bad v2 failed"), std::string::npos) << st.error().message;
  ASSERT_TRUE(s->Read([](Connection& c) -> Status {
                 STEWARD_ASSIGN_OR_RETURN(auto tables, c.TableNames());
                 EXPECT_EQ(tables, std::vector<std::string>{"steward_migrations"})
                     << "the whole migration run rolls back";
                 return Ok();
               }).ok());
}

TEST_F(StoreTest, OneFailingWriteDoesNotUndoItsGroup) {
  auto store = OpenStore();
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  // Duplicates violate UNIQUE: exactly one write per body succeeds, whichever group it lands in.
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string body = "note-" + std::to_string((t * 50 + i) % 200);
        Status s = store->Write([&](Connection& c) -> Status {
          STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {body}));
          return Ok();
        });
        (s.ok() ? ok : failed)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(failed.load(), 200);
  EXPECT_EQ(CountNotes(*store), 200);
  EXPECT_GT(registry_.Render().find("steward_store_commits_total{outcome=\"ok\"}"), 0u);
}

TEST_F(StoreTest, AFailingWriteAloneInItsTransactionLeavesNothing) {
  auto store = OpenStore();
  // One write at a time, so each is alone in its group and runs without a savepoint.
  Status failed = store->Write([](Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?), (?)", {std::string("a"), std::string("b")}));
    return MakeError(ErrorCode::kInvalidArgument, "changed its mind");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "changed its mind");
  EXPECT_EQ(CountNotes(*store), 0);
  ASSERT_TRUE(store
                  ->Write([](Connection& c) -> Status {
                    STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {std::string("a")}));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(CountNotes(*store), 1) << "the next write has a transaction of its own";
}

// SQLite rolls a whole transaction back on some errors (disk full, I/O). The writes of the group
// before it are then lost and reported so; those after it commit in a transaction of their own and
// are reported as committed, so a client that retries on failure makes no duplicates.
TEST_F(StoreTest, AWholeGroupRolledBackReportsEachWriteAsItEnded) {
  auto store = OpenStore();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> first_done;
  // The first write holds the writer until the rest are queued, so they share the next group.
  ASSERT_TRUE(store
                  ->Submit(
                      [released](Connection&) -> Status {
                        released.wait();
                        return Ok();
                      },
                      [&](const Status&) { first_done.set_value(); })
                  .ok());
  std::vector<std::promise<Status>> done(4);
  auto insert = [](const std::string& body) {
    return [body](Connection& c) -> Status {
      STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {body}));
      return Ok();
    };
  };
  std::vector<store::WriteFn> writes = {
      insert("before"),
      [](Connection& c) -> Status {
        // As SQLite does after SQLITE_FULL or SQLITE_IOERR: the whole transaction is gone.
        STEWARD_RETURN_IF_ERROR(c.ExecScript("ROLLBACK"));
        return MakeError(ErrorCode::kIo, "database or disk is full");
      },
      insert("after-1"),
      insert("after-2"),
  };
  for (size_t i = 0; i < writes.size(); ++i) {
    ASSERT_TRUE(store->Submit(writes[i], [&done, i](Status s) { done[i].set_value(std::move(s)); }).ok());
  }
  release.set_value();
  first_done.get_future().wait();
  std::vector<Status> results;
  results.reserve(done.size());
  for (auto& d : done) results.push_back(d.get_future().get());
  EXPECT_FALSE(results[0].ok()) << "rolled back with the transaction";
  EXPECT_FALSE(results[1].ok());
  EXPECT_TRUE(results[2].ok()) << results[2].error().message;
  EXPECT_TRUE(results[3].ok()) << results[3].error().message;
  std::vector<std::string> bodies;
  ASSERT_TRUE(store
                  ->Read([&](Connection& c) -> Status {
                    return c.ForEach("SELECT body FROM notes ORDER BY body", {}, [&](const Row& r) {
                      bodies.push_back(r.Text(0));
                      return true;
                    });
                  })
                  .ok());
  EXPECT_EQ(bodies, (std::vector<std::string>{"after-1", "after-2"})) << "what is reported committed is there";
}

TEST_F(StoreTest, FullQueueIsRefusedAtOnce) {
  auto store = OpenStore(/*queue=*/2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> done{0};
  // The first write holds the writer; the next two fill the queue; the fourth is refused.
  ASSERT_TRUE(store
                  ->Submit(
                      [gate](Connection&) {
                        gate.wait();
                        return Ok();
                      },
                      [&](const Status&) { done++; })
                  .ok());
  while (store->write_queue_depth() != 0) std::this_thread::yield();
  ASSERT_TRUE(store->Submit([](Connection&) { return Ok(); }, [&](const Status&) { done++; }).ok());
  ASSERT_TRUE(store->Submit([](Connection&) { return Ok(); }, [&](const Status&) { done++; }).ok());
  Status refused = store->Submit([](Connection&) { return Ok(); }, [&](const Status&) { done++; });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  release.set_value();
  store->Close();
  EXPECT_EQ(done.load(), 3) << "Close commits what was queued";
}

TEST_F(StoreTest, CloseDrainsQueuedWritesAndRefusesNewOnes) {
  auto store = OpenStore();
  std::atomic<int> committed{0};
  for (int i = 0; i < 100; ++i) {
    std::string body = "n" + std::to_string(i);
    ASSERT_TRUE(store
                    ->Submit(
                        [body](Connection& c) -> Status {
                          STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {body}));
                          return Ok();
                        },
                        [&](const Status& s) {
                          if (s.ok()) committed++;
                        })
                    .ok());
  }
  store->Close();
  EXPECT_EQ(committed.load(), 100);
  EXPECT_EQ(store->Submit([](Connection&) { return Ok(); }, nullptr).error().code, ErrorCode::kUnavailable);
  auto reopened = OpenStore();
  EXPECT_EQ(CountNotes(*reopened), 100);
}

// A process killed outright loses nothing it reported done: a write is done once committed (on
// SQLite, its log replayed at the next open).
TEST_F(StoreTest, KillingTheProcessLosesNoWriteReportedDone) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Options o = db_->options();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    auto s = Store::Open(o);
    if (!s.ok() || !(*s)->Migrate(kMigrations).ok()) ::_exit(2);
    // Writers on several threads, so groups hold several writes; each reports its done ones.
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          std::string body = std::to_string(t) + "-" + std::to_string(i);
          Status w = (*s)->Write([&body](Connection& c) -> Status {
            STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {body}));
            return Ok();
          });
          if (!w.ok()) ::_exit(3);
          char one = 1;
          if (::write(pipe_fds[1], &one, 1) != 1) ::_exit(4);
        }
      });
    }
    for (auto& th : threads) th.join();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  int done = 0;
  char buf[256];
  while (done < 2000) {
    ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    ASSERT_GT(n, 0) << "the writing process ended early";
    done += static_cast<int>(n);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  // Writes reported done after the count was read, before the kill, count too.
  while (true) {
    ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n <= 0) break;
    done += static_cast<int>(n);
  }
  ::close(pipe_fds[0]);
  auto reopened = OpenStore();
  EXPECT_GE(CountNotes(*reopened), done);
}

TEST_F(StoreTest, BackupIsACompleteReadableCopy) {
  auto store = OpenStore();
  if (testing::OnPostgresql()) {
    Status refused = store->Backup((dir_ / "backup.db").string());
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(refused.error().message.find("pg_dump"), std::string::npos) << "says what to use instead";
    EXPECT_FALSE(fs::exists(dir_ / "backup.db")) << "and pretends nothing";
    return;
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store
                    ->Write([i](Connection& c) -> Status {
                      STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {"b" + std::to_string(i)}));
                      return Ok();
                    })
                    .ok());
  }
  std::string to = (dir_ / "backup.db").string();
  ASSERT_TRUE(store->Backup(to).ok());
  EXPECT_EQ(store->Backup(to).error().code, ErrorCode::kAlreadyExists) << "never overwrites";
  EXPECT_EQ(fs::status(to).permissions() & fs::perms::others_read, fs::perms::none);
  auto copy = Store::Open({.path = to});
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(CountNotes(**copy), 20);
}

TEST_F(StoreTest, ABackupCanLeaveATableOutLeavingNoTraceOfItsRows) {
  if (testing::OnPostgresql()) GTEST_SKIP() << "steward backup copies SQLite files; PostgreSQL is backed up by pg_dump";
  auto store = OpenStore();
  Status made = store->Write([](Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.ExecScript("CREATE TABLE secrets (v TEXT)"));
    for (int i = 0; i < 200; ++i) {
      STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO secrets VALUES (?)", {"SECRET-" + std::to_string(i)}));
      STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {"kept-" + std::to_string(i)}));
    }
    return Ok();
  });
  ASSERT_TRUE(made.ok()) << made.error().message;
  std::string to = (dir_ / "backup.db").string();
  ASSERT_TRUE(store->Backup(to, {"secrets", "no_such_table"}).ok());
  auto copy = Store::Open({.path = to});
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(CountNotes(**copy), 200);
  int64_t secrets = -1;
  ASSERT_TRUE((*copy)
                  ->Read([&](Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM secrets"));
                    secrets = rows.front().Int(0);
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(secrets, 0) << "the table is there, empty";
  (*copy)->Close();
  std::ifstream in(to, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find("SECRET-"), std::string::npos) << "and no row of it is left in the file";
  EXPECT_NE(bytes.find("kept"), std::string::npos);
}

TEST_F(StoreTest, CorruptFileFailsTheIntegrityCheck) {
  if (testing::OnPostgresql()) GTEST_SKIP() << "a SQLite file's check; PostgreSQL checks its own pages";
  std::string path = (dir_ / "corrupt.db").string();
  {
    auto s = Store::Open({.path = path});
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Migrate({{"t", 1, "CREATE TABLE big (x TEXT); CREATE INDEX big_x ON big(x);"}}).ok());
    for (int batch = 0; batch < 5; ++batch) {
      ASSERT_TRUE((*s)->Write([](Connection& c) -> Status {
                        for (int i = 0; i < 200; ++i)
                          STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO big VALUES (hex(randomblob(64)))"));
                        return Ok();
                      })
                      .ok());
    }
  }
  // Overwrite pages in the middle of the file, past the header.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff{4096} * 3);
    std::string junk(size_t{4096} * 4, '\x5a');
    f.write(junk.data(), junk.size());
  }
  auto s = Store::Open({.path = path});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kDataLoss) << s.error().ToString();
}

TEST_F(StoreTest, ParametersAreBoundNotSpliced) {
  auto store = OpenStore();
  std::string hostile = "x'); DROP TABLE notes; --";
  ASSERT_TRUE(store
                  ->Write([&](Connection& c) -> Status {
                    STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {hostile}));
                    return Ok();
                  })
                  .ok());
  ASSERT_TRUE(store
                  ->Read([&](Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT body FROM notes WHERE body = ?", {hostile}));
                    EXPECT_EQ(rows.size(), 1u);
                    return Ok();
                  })
                  .ok());
}

TEST_F(StoreTest, ReadersCannotWrite) {
  auto store = OpenStore();
  Status s = store->Read([](Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES ('x')"));
    return Ok();
  });
  EXPECT_FALSE(s.ok());
}

// REGEXP on SQLite, by PCRE2: a pattern compiled once a statement, a bad one an error, and one that
// would backtrack for ever gives up as no match.
TEST_F(StoreTest, SqliteMatchesRegularExpressionsWithinALimit) {
  if (testing::OnPostgresql()) GTEST_SKIP() << "PostgreSQL has its own ~";
  auto store = OpenStore();
  Status s = store->Read([](Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT ? REGEXP ?, ? REGEXP ?, ? REGEXP ?, NULL REGEXP 'a'",
                           {"/economy/page1", "^/economy/", "/releases", "^/economy/", "/ECONOMY", "(?i)^/economy$"}));
    EXPECT_EQ(rows.front().Int(0), 1);
    EXPECT_EQ(rows.front().Int(1), 0);
    EXPECT_EQ(rows.front().Int(2), 1);
    EXPECT_TRUE(rows.front().IsNull(3));
    STEWARD_ASSIGN_OR_RETURN(auto slow, c.Query("SELECT ? REGEXP ?", {std::string(40, 'a') + "b", "^(a+)+$"}));
    EXPECT_EQ(slow.front().Int(0), 0) << "given up, as no match";
    EXPECT_FALSE(c.Query("SELECT 'a' REGEXP '('").ok());
    return Ok();
  });
  EXPECT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(CheckPattern("^/[a-z]+$").ok());
  EXPECT_EQ(CheckPattern("(").error().code, ErrorCode::kInvalidArgument);
}

// The same matcher in memory (the Stats API's `matches`, on either store): found anywhere in the
// value, with or without case, a value that is not UTF-8 matched as far as it can be, a pattern
// that would backtrack for ever given up as no match.
TEST(PatternTest, MatchesAsSqliteRegexpDoes) {
  auto prefix = Pattern::Compile("^/economy/");
  ASSERT_TRUE(prefix.ok());
  EXPECT_TRUE(prefix->Matches("/economy/page1"));
  EXPECT_FALSE(prefix->Matches("/releases/economy/"));
  EXPECT_FALSE(prefix->Matches("/ECONOMY/page1"));
  auto caseless = Pattern::Compile("^/economy$", /*case_sensitive=*/false);
  ASSERT_TRUE(caseless.ok());
  EXPECT_TRUE(caseless->Matches("/ECONOMY"));
  auto word = Pattern::Compile("caf\\x{e9}");
  ASSERT_TRUE(word.ok());
  EXPECT_TRUE(word->Matches("un caf\xc3\xa9 noir"));
  EXPECT_FALSE(word->Matches("caf\xe9"));
  auto broken = Pattern::Compile("page");
  ASSERT_TRUE(broken.ok());
  EXPECT_TRUE(broken->Matches(std::string_view("\xff\xfe/page", 7))) << "invalid UTF-8 before the match";
  auto slow = Pattern::Compile("^(a+)+$");
  ASSERT_TRUE(slow.ok());
  EXPECT_FALSE(slow->Matches(std::string(40, 'a') + "b")) << "given up, as no match";
  EXPECT_TRUE(slow->Matches("aaa"));
  Pattern moved = std::move(*slow);
  EXPECT_TRUE(moved.Matches("aa"));
  auto bad = Pattern::Compile("(");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("offset"), std::string::npos) << bad.error().message;
}

// What the backends must agree on: every kind of value comes back as it went in, and the results of
// expressions (comparisons, sums, counts) have the types SQLite gives them.
TEST_F(StoreTest, ValuesRoundTripAlikeOnEveryBackend) {
  auto store = OpenStore(10000, {{"types", 1,
                                  "CREATE TABLE kinds (i INTEGER, r REAL, t TEXT, b BLOB, n INTEGER);"
                                  "CREATE TABLE counted (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"}});
  const char raw[] = "\0\x01\xff\x80 'quoted' ?";
  std::string bytes(raw, sizeof raw - 1);
  std::string text = "caf\xc3\xa9 \xe2\x80\x94 'single' \"double\" ? $1 --not a comment";
  ASSERT_TRUE(
      store
          ->Write([&](Connection& c) -> Status {
            STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO kinds (i, r, t, b, n) VALUES (?, ?, ?, ?, ?)",
                                           {int64_t{9'007'199'254'740'993}, 0.1, text, Blob{bytes}, std::monostate{}}));
            STEWARD_RETURN_IF_ERROR(
                c.Exec("INSERT INTO kinds (i, r, t, b, n) VALUES (?, ?, ?, ?, ?)",
                       {int64_t{-9'223'372'036'854'775'807}, -2.5, std::string(""), Blob{""}, int64_t{0}}));
            for (int64_t v : {3, 4, 5}) {
              STEWARD_ASSIGN_OR_RETURN(auto id, c.Query("INSERT INTO counted (v) VALUES (?) RETURNING id", {v}));
              EXPECT_EQ(id.at(0).Int(0), v - 2) << "ids are assigned from 1, in order";
            }
            return Ok();
          })
          .ok());
  ASSERT_TRUE(store
                  ->Read([&](Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT i, r, t, b, n FROM kinds ORDER BY i DESC"));
                    EXPECT_EQ(rows.size(), 2u);
                    EXPECT_EQ(rows[0].Int(0), 9'007'199'254'740'993);
                    EXPECT_DOUBLE_EQ(rows[0].Real(1), 0.1);
                    EXPECT_EQ(rows[0].Text(2), text);
                    EXPECT_EQ(std::get<Blob>(rows[0].at(3)).bytes, bytes);
                    EXPECT_TRUE(rows[0].IsNull(4));
                    EXPECT_EQ(rows[1].Int(0), -9'223'372'036'854'775'807);
                    EXPECT_EQ(rows[1].Text(2), "");
                    EXPECT_TRUE(std::holds_alternative<Blob>(rows[1].at(3)));
                    // Parameters of every kind in a WHERE clause, a blob found by its bytes.
                    STEWARD_ASSIGN_OR_RETURN(
                        auto found, c.Query("SELECT count(*) FROM kinds WHERE b = ? AND t = ?", {Blob{bytes}, text}));
                    EXPECT_EQ(found.at(0).Int(0), 1);
                    // Aggregates and comparisons come back as integers, as on SQLite.
                    STEWARD_ASSIGN_OR_RETURN(
                        auto sums, c.Query("SELECT sum(v), count(*), max(v), min(v) = 3, sum(v) * 1.5 FROM counted"));
                    const Row& r = sums.at(0);
                    EXPECT_TRUE(std::holds_alternative<int64_t>(r.at(0)));
                    EXPECT_EQ(r.Int(0), 12);
                    EXPECT_EQ(r.Int(1), 3);
                    EXPECT_EQ(r.Int(2), 5);
                    EXPECT_EQ(r.Int(3), 1);
                    EXPECT_DOUBLE_EQ(r.Real(4), 18.0);
                    // A statement run again with other values reuses its prepared form.
                    for (int64_t v : {3, 4, 5, 6}) {
                      STEWARD_ASSIGN_OR_RETURN(auto n, c.Query("SELECT count(*) FROM counted WHERE v >= ?", {v}));
                      EXPECT_EQ(n.at(0).Int(0), std::max<int64_t>(0, 6 - v));
                    }
                    return Ok();
                  })
                  .ok());
}

TEST_F(StoreTest, TableNamesListTheSchemaOnly) {
  auto store = OpenStore();
  ASSERT_TRUE(store
                  ->Read([](Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto tables, c.TableNames());
                    EXPECT_EQ(tables, (std::vector<std::string>{"notes", "steward_migrations"}));
                    return Ok();
                  })
                  .ok());
}

TEST_F(StoreTest, ConstraintViolationsAreAlreadyExistsAndNameNoValue) {
  auto store = OpenStore();
  std::string secret = "person@example.org";
  auto insert = [&](Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {secret}));
    return Ok();
  };
  ASSERT_TRUE(store->Write(insert).ok());
  Status again = store->Write(insert);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().message.find(secret), std::string::npos) << again.error().message;
  Status bad_type = store->Write([&](Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE notes SET n = CAST(? AS BIGINT)", {secret}));
    return Ok();
  });
  if (testing::OnPostgresql()) {
    ASSERT_FALSE(bad_type.ok());
    EXPECT_EQ(bad_type.error().message.find(secret), std::string::npos) << bad_type.error().message;
  }
}

// The server drops every connection (a restart, a failover): the store connects again by itself, and
// no write it acknowledged is lost.
TEST_F(StoreTest, ConnectionsLostToTheServerAreMadeAgain) {
  if (!testing::OnPostgresql()) GTEST_SKIP() << "a server's connections";
  auto store = OpenStore();
  auto insert = [](const std::string& body) {
    return [body](Connection& c) -> Status {
      STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO notes (body) VALUES (?)", {body}));
      return Ok();
    };
  };
  ASSERT_TRUE(store->Write(insert("before")).ok());
  Options admin = db_->options();
  auto killer = PostgresqlConnection::Open(admin.postgresql);
  ASSERT_TRUE(killer.ok());
  ASSERT_TRUE((*killer)
                  ->Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND pid <> pg_backend_pid()")
                  .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Status s = store->Write(insert("after"));
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_TRUE(store->Check().ok());
  EXPECT_EQ(CountNotes(*store), s.ok() ? 2 : 1);
}

TEST(PostgresqlDialectTest, PlaceholdersAreNumberedOutsideQuotesAndComments) {
  EXPECT_EQ(NumberPlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  EXPECT_EQ(NumberPlaceholders("SELECT '?', \"a?\", ? -- what?\n, ? /* ? */"),
            "SELECT '?', \"a?\", $1 -- what?\n, $2 /* ? */");
  EXPECT_EQ(NumberPlaceholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
}

TEST(PostgresqlDialectTest, SchemaTypesAreTranslated) {
  EXPECT_EQ(TranslateSchema("CREATE TABLE t (id INTEGER PRIMARY KEY, n integer NOT NULL, b BLOB, r REAL, "
                            "s TEXT DEFAULT 'INTEGER') WITHOUT ROWID; -- a BLOB\n"),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT NOT NULL, b BYTEA, "
            "r DOUBLE PRECISION, s TEXT DEFAULT 'INTEGER') ; -- a BLOB\n");
  EXPECT_EQ(TranslateSchema("CREATE TABLE t (a INTEGER, b INTEGER, PRIMARY KEY (a, b))"),
            "CREATE TABLE t (a BIGINT, b BIGINT, PRIMARY KEY (a, b))");
  EXPECT_EQ(TranslateSchema("CREATE TABLE t (realm TEXT, blobs INTEGER)"), "CREATE TABLE t (realm TEXT, blobs BIGINT)");
}

}  // namespace
}  // namespace steward::store
