#include "store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <future>
#include <thread>

#include "metrics/metrics.h"
#include "store/sqlite.h"

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
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> OpenStore(size_t queue = 10000) {
    auto s = Store::Open(
        {.path = (dir_ / "steward.db").string(), .readers = 2, .write_queue = queue, .metrics = &registry_});
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    EXPECT_TRUE((*s)->Migrate(kMigrations).ok());
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
  metrics::Registry registry_;
};

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
  ASSERT_TRUE(store
                  ->Read([](Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        auto rows, c.Query("SELECT module, version FROM steward_migrations ORDER BY version"));
                    EXPECT_EQ(rows.size(), 2u);
                    STEWARD_ASSIGN_OR_RETURN(auto notes, c.Query("SELECT body, n FROM notes"));
                    EXPECT_EQ(notes.at(0).Text(0), "a");
                    EXPECT_EQ(notes.at(0).Int(1), 1);
                    return Ok();
                  })
                  .ok());
}

TEST_F(StoreTest, FailingMigrationIsReportedAndNothingApplied) {
  auto s = Store::Open({.path = (dir_ / "m.db").string()});
  ASSERT_TRUE(s.ok());
  Status st = (*s)->Migrate({{"bad", 1, "CREATE TABLE t (x)"}, {"bad", 2, "THIS IS NOT SQL"}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("migration bad v2 failed"), std::string::npos) << st.error().message;
  ASSERT_TRUE((*s)->Read([](Connection& c) -> Status {
                    auto rows = c.Query("SELECT count(*) FROM sqlite_master WHERE name = 't'");
                    EXPECT_EQ(rows->at(0).Int(0), 0) << "the whole migration run rolls back";
                    return Ok();
                  })
                  .ok());
}

TEST_F(StoreTest, OneFailingWriteDoesNotUndoItsGroup) {
  auto store = OpenStore();
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  // Duplicates violate UNIQUE: exactly one write per body succeeds, whichever group it lands in.
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
                      [&](Status) { first_done.set_value(); })
                  .ok());
  std::vector<std::promise<Status>> done(4);
  auto insert = [](std::string body) {
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
                      [&](Status) { done++; })
                  .ok());
  while (store->write_queue_depth() != 0) std::this_thread::yield();
  ASSERT_TRUE(store->Submit([](Connection&) { return Ok(); }, [&](Status) { done++; }).ok());
  ASSERT_TRUE(store->Submit([](Connection&) { return Ok(); }, [&](Status) { done++; }).ok());
  Status refused = store->Submit([](Connection&) { return Ok(); }, [&](Status) { done++; });
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
                        [&](Status s) {
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

TEST_F(StoreTest, BackupIsACompleteReadableCopy) {
  auto store = OpenStore();
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

TEST_F(StoreTest, CorruptFileFailsTheIntegrityCheck) {
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
    f.seekp(4096 * 3);
    std::string junk(4096 * 4, '\x5a');
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

}  // namespace
}  // namespace steward::store
