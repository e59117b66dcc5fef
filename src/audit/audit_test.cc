#include "audit/audit.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "register/register.h"
#include "store/sqlite.h"
#include "store/testing/scratch.h"

namespace steward::audit {
namespace {

namespace fs = std::filesystem;

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    site_ = std::make_unique<store::testing::ScratchSite>(Migrations());
    dir_ = site_->dir();
    store_ = &site_->store();
    trail_ = std::make_unique<Trail>(*store_, site_->key(), clock_, /*checkpoint_every=*/8);
  }
  void TearDown() override {
    trail_.reset();
    site_.reset();
  }
  void AppendMany(Trail& trail, int n, int vary_at = -1) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE(trail
                      .Append({.actor = "staff:" + std::to_string(i % 3),
                               .action = i == vary_at ? "staff.forged" : "staff.signin",
                               .target = "staff:" + std::to_string(i),
                               .details = {{"n", std::to_string(i)}}})
                      .ok());
      clock_.Advance(std::chrono::seconds(1));
    }
  }
  VerifyReport VerifyNow(SystemTime now = SystemTime(std::chrono::seconds(1'900'000'000))) {
    VerifyReport report;
    EXPECT_TRUE(store_
                    ->Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(report,
                                               Verify(c, trail_->public_key(), {.now = now, .rule = "1 minute"}));
                      return Ok();
                    })
                    .ok());
    return report;
  }
  Status Purge(const PurgeRequest& request) {
    return store_->Write([&](store::Connection& c) -> Status {
      STEWARD_RETURN_IF_ERROR(trail_->PurgeIn(c, request, /*dry_run=*/false));
      return Ok();
    });
  }
  // What someone with the database file (or its owner role) can do: drop the triggers and edit rows
  // directly.
  void Tamper(const std::string& sql, const std::function<void(store::Connection&)>& more = nullptr) {
    auto c = site_->database().Connect();
    std::string off = store::testing::OnPostgresql()
                          ? "ALTER TABLE audit_log DISABLE TRIGGER USER; ALTER TABLE audit_checkpoints DISABLE "
                            "TRIGGER USER; ALTER TABLE audit_purges DISABLE TRIGGER USER;"
                          : "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;"
                            "DROP TRIGGER IF EXISTS audit_checkpoints_no_update;"
                            "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;"
                            "DROP TRIGGER IF EXISTS audit_purges_no_update; DROP TRIGGER IF EXISTS "
                            "audit_purges_no_delete;";
    Status s = c->ExecScript(off + sql);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    if (more) more(*c);
  }
  // Puts every row of `table` in `from` in place of the site's.
  void Replace(const std::string& table, store::Store& from) {
    std::vector<store::Row> rows;
    ASSERT_TRUE(from.Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(rows, c.Query("SELECT * FROM " + table + " ORDER BY seq"));
                      return Ok();
                    })
                    .ok());
    Tamper("DELETE FROM " + table + ";", [&](store::Connection& c) {
      for (const auto& r : rows) {
        std::vector<store::Value> values;
        std::string marks;
        for (size_t i = 0; i < r.size(); ++i) {
          values.push_back(r.at(i));
          marks += i ? ", ?" : "?";
        }
        ASSERT_TRUE(c.Exec("INSERT INTO " + table + " VALUES (" + marks + ")", values).ok());
      }
    });
  }

  std::unique_ptr<store::testing::ScratchSite> site_;
  fs::path dir_;
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  store::Store* store_ = nullptr;
  std::unique_ptr<Trail> trail_;
};

TEST_F(AuditTest, AppendsListsAndFilters) {
  AppendMany(*trail_, 20);
  ASSERT_TRUE(
      trail_->Append({.actor = "system", .action = "config.loaded", .details = {{"register_version", "abc"}}}).ok());
  auto newest = trail_->List({.limit = 5});
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 5u);
  EXPECT_EQ((*newest)[0].seq, 21);
  EXPECT_EQ((*newest)[0].entry.action, "config.loaded");
  EXPECT_EQ((*newest)[0].entry.details.at(0).second, "abc");
  auto page2 = trail_->List({.before_seq = (*newest)[4].seq, .limit = 5});
  EXPECT_EQ(page2->front().seq, 16);
  EXPECT_EQ(trail_->List({.actor = "staff:1", .limit = 500})->size(), 7u);
  EXPECT_EQ(trail_->List({.action = "staff.", .limit = 500})->size(), 20u) << "a prefix";
  EXPECT_EQ(trail_->List({.action = "staff", .limit = 500})->size(), 0u) << "without the dot, exact";
  auto window = trail_->List({.since = FormatRfc3339Millis(SystemTime(std::chrono::seconds(1'800'000'005))),
                              .until = FormatRfc3339Millis(SystemTime(std::chrono::seconds(1'800'000'010))),
                              .limit = 500});
  EXPECT_EQ(window->size(), 5u);
  EXPECT_FALSE(trail_->List({.limit = 501}).ok());
  EXPECT_TRUE(VerifyNow().ok());
}

TEST_F(AuditTest, ConcurrentWritersMakeOneUnbrokenChain) {
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        EXPECT_TRUE(trail_->Append({.actor = "staff:" + std::to_string(t), .action = "test.write"}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  VerifyReport r = VerifyNow();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.entries, 320);
  EXPECT_EQ(r.checkpoints, 40);
}

TEST_F(AuditTest, CodeCannotRewriteTheTrail) {
  AppendMany(*trail_, 3);
  Status s = store_->Write([](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE audit_log SET action = 'x' WHERE seq = 2"));
    return Ok();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("append-only"), std::string::npos);
  EXPECT_FALSE(store_
                   ->Write([](store::Connection& c) -> Status {
                     STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM audit_log"));
                     return Ok();
                   })
                   .ok());
}

TEST_F(AuditTest, VerifyNamesAChangedEntry) {
  AppendMany(*trail_, 20);
  Tamper("UPDATE audit_log SET target = 'staff:99' WHERE seq = 11;");
  VerifyReport r = VerifyNow();
  EXPECT_EQ(r.first_bad_seq, 11);
  EXPECT_NE(r.problem.find("entry 11 was changed"), std::string::npos) << r.problem;
}

TEST_F(AuditTest, VerifyNamesARemovedEntry) {
  AppendMany(*trail_, 20);
  Tamper("DELETE FROM audit_log WHERE seq = 13;");
  VerifyReport r = VerifyNow();
  EXPECT_EQ(r.first_bad_seq, 13);
  EXPECT_NE(r.problem.find("entry 13 is missing"), std::string::npos) << r.problem;
}

TEST_F(AuditTest, VerifyNamesSwappedEntries) {
  AppendMany(*trail_, 20);
  Tamper(
      "UPDATE audit_log SET seq = -1 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 6;"
      "UPDATE audit_log SET seq = 6 WHERE seq = -1;");
  VerifyReport r = VerifyNow();
  EXPECT_EQ(r.first_bad_seq, 5) << r.problem;
}

TEST_F(AuditTest, VerifyNamesRemovedTrailingEntriesBeforeACheckpoint) {
  AppendMany(*trail_, 16);  // checkpoints at 8 and 16
  Tamper("DELETE FROM audit_log WHERE seq >= 14;");
  VerifyReport r = VerifyNow();
  EXPECT_EQ(r.first_bad_seq, 14);
  EXPECT_NE(r.problem.find("were removed"), std::string::npos) << r.problem;
}

TEST_F(AuditTest, ARewrittenChainFailsAtTheSignedCheckpoint) {
  AppendMany(*trail_, 20);
  // The forger recomputes a whole, self-consistent chain (here with Steward's own code, under a
  // key of their own) in which entry 12 says something else, and puts it in place of the real one.
  fs::path other = dir_ / "forged";
  fs::create_directories(other);
  auto forger_key = crypto::SecretKey::LoadOrCreate((other / "secret.key").string());
  ASSERT_TRUE(forger_key.ok());
  store::testing::ScratchSite forger(Migrations());
  clock_.Set(SystemTime(std::chrono::seconds(1'800'000'000)));  // the same times as the real entries
  Trail forged(forger.store(), *forger_key, clock_, 8);
  AppendMany(forged, 20, /*vary_at=*/12);
  Replace("audit_log", forger.store());
  VerifyReport r = VerifyNow();
  EXPECT_EQ(r.first_bad_seq, 9) << r.problem;
  EXPECT_NE(r.problem.find("were rewritten"), std::string::npos) << r.problem;

  // Bringing the forger's checkpoints too does not help: their signatures are not the site's.
  Replace("audit_checkpoints", forger.store());
  r = VerifyNow();
  EXPECT_EQ(r.first_bad_seq, 8);
  EXPECT_NE(r.problem.find("bad signature"), std::string::npos) << r.problem;
}

// Entries are one a second from 1'800'000'000; a purge at 1'800'000'072 under "1 minute" may
// remove what is older than 1'800'000'012.
PurgeRequest PurgeAt(int64_t now_seconds, const std::string& rule = "1 minute") {
  SystemTime now{std::chrono::seconds(now_seconds)};
  auto period = processing::ParsePeriod(rule);
  return {.dataset = "audit-trail",
          .rule = rule,
          .cutoff = FormatRfc3339Millis(processing::Subtract(now, *period)),
          .now = FormatRfc3339Millis(now)};
}

TEST_F(AuditTest, RetentionRemovesAPrefixEndingAtACheckpointAndTheRestVerifies) {
  AppendMany(*trail_, 20);  // one a second from 08:00:00; checkpoints at 8 and 16
  int64_t n = 0;
  ASSERT_TRUE(store_
                  ->Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(n, trail_->PurgeIn(c, PurgeAt(1'800'000'072), /*dry_run=*/true));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(n, 8) << "up to the checkpoint at 8; 9 to 12 wait for the next one";
  ASSERT_TRUE(store_
                  ->Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(n, trail_->PurgeIn(c, PurgeAt(1'800'000'072), false));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(n, 8);
  VerifyReport r = VerifyNow();
  EXPECT_TRUE(r.ok()) << r.problem;
  EXPECT_EQ(r.entries, 13) << "9 to 20, and the purge's own entry";
  EXPECT_EQ(r.start_seq, 9);
  EXPECT_NE(r.start.find("retention removed entries up to 8, all older than 2027-01-15T08:00:12.000Z"),
            std::string::npos)
      << r.start;
  auto purged = trail_->List({.action = "audit.purged", .limit = 5});
  ASSERT_EQ(purged->size(), 1u);
  EXPECT_EQ(purged->front().entry.details.at(0), (std::pair<std::string, std::string>{"through", "8"}));
  // Other deletes are still refused, and a hand-made gap after the purge is still found.
  EXPECT_FALSE(store_
                   ->Write([](store::Connection& c) -> Status {
                     STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM audit_log WHERE seq = 12"));
                     return Ok();
                   })
                   .ok());
  Tamper("DELETE FROM audit_log WHERE seq = 10;");
  EXPECT_EQ(VerifyNow().first_bad_seq, 10);
}

TEST_F(AuditTest, AWipeDisguisedAsAPurgeDoesNotVerify) {
  AppendMany(*trail_, 20);
  // Move the purge limit to the newest checkpoint and delete up to it: the triggers allow the
  // delete, and before purges were signed the trail then verified as intact.
  Tamper(
      "UPDATE audit_purge SET limit_seq = (SELECT max(seq) FROM audit_checkpoints);"
      "DELETE FROM audit_log WHERE seq <= (SELECT limit_seq FROM audit_purge);");
  VerifyReport r = VerifyNow();
  EXPECT_EQ(r.first_bad_seq, 17);
  EXPECT_NE(r.problem.find("no signed record of a retention purge"), std::string::npos) << r.problem;
}

TEST_F(AuditTest, APurgeIsBelievedOnlyAsFarAsItsSignedRecordGoes) {
  AppendMany(*trail_, 20);
  ASSERT_TRUE(Purge(PurgeAt(1'800'000'072)).ok());
  AppendMany(*trail_, 20);  // entries 22 to 41: checkpoints at 24, 32, 40
  ASSERT_TRUE(VerifyNow().ok());
  // Pushing the limit past the genuine purge, with or without a copy of its record.
  Tamper(
      "UPDATE audit_purge SET limit_seq = 24; DELETE FROM audit_log WHERE seq <= 24;"
      "INSERT INTO audit_purges SELECT 24, (SELECT hash FROM audit_checkpoints WHERE seq = 24), anchor_at, cutoff,"
      " dataset, rule, removed, purged_at, signature FROM audit_purges WHERE through_seq = 8;");
  VerifyReport r = VerifyNow();
  EXPECT_EQ(r.first_bad_seq, 25);
  EXPECT_NE(r.problem.find("bad signature"), std::string::npos) << r.problem;
}

TEST_F(AuditTest, APurgeLaterThanItsRuleOrDatedInTheFutureIsRefused) {
  AppendMany(*trail_, 20);
  PurgeRequest early = PurgeAt(1'800'000'072);
  early.rule = "1 hour";  // an hour's retention does not allow a cut-off a minute ago
  auto refused = Purge(early);
  EXPECT_FALSE(refused.ok());
  early.rule = "long enough";
  EXPECT_FALSE(Purge(early).ok());
  ASSERT_TRUE(Purge(PurgeAt(1'800'000'072)).ok());
  // Verified on a day before the purge says it ran: a purge from the future is not believed.
  VerifyReport r = VerifyNow(SystemTime(std::chrono::seconds(1'800'000'050)));
  EXPECT_EQ(r.first_bad_seq, 9);
  EXPECT_NE(r.problem.find("dated in the future"), std::string::npos) << r.problem;
}

TEST_F(AuditTest, CheckpointOnDemandAndExport) {
  AppendMany(*trail_, 3);
  ASSERT_TRUE(trail_->Checkpoint().ok());
  ASSERT_TRUE(trail_->Checkpoint().ok()) << "idempotent";
  EXPECT_EQ(VerifyNow().checkpoints, 1);
  std::ostringstream out;
  ASSERT_TRUE(store_
                  ->Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        int64_t n,
                        ExportJsonLines(c, FormatRfc3339Millis(SystemTime(std::chrono::seconds(1'800'000'001))), out));
                    EXPECT_EQ(n, 2);
                    return Ok();
                  })
                  .ok());
  std::string text = out.str();
  EXPECT_NE(text.find(R"("seq":2,"at":"2027-01-15T08:00:01.000Z","actor":"staff:2","action":"staff.signin")"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("details":{"n":"2"})"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

}  // namespace
}  // namespace steward::audit
