#include "retention/retention.h"

#include <gtest/gtest.h>

#include <set>

#include "register/versions.h"
#include "staff/accounts.h"
#include "staff/storage.h"
#include "store/testing/scratch.h"

namespace steward::retention {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRegister = R"(
[register]
stored_in = "the UK"
service = "a test site"
[register.controller]
name = "Test Council"
email = "privacy@example.gov.uk"
[register.dpo]
email = "dpo@example.gov.uk"
[[register.purposes]]
id = "running"
description = "Run the service"
lawful_basis = "public-task"
[[register.datasets]]
id = "staff-accounts"
module = "staff"
audience = "staff"
description = "Staff accounts"
categories = ["user.contact.email"]
subjects = ["staff"]
purposes = ["running"]
retention = "1 year after the account is disabled"
[[register.datasets]]
id = "audit-trail"
module = "audit"
audience = "staff"
description = "The audit trail"
categories = ["user.identifier.pseudonym"]
subjects = ["staff"]
purposes = ["running"]
retention = "6 years"
[[register.datasets]]
id = "feedback"
module = "feedback"
description = "Feedback"
categories = ["user.content.feedback"]
subjects = ["people"]
purposes = ["running"]
retention = { criteria = "While needed", review = "1 year", maximum = "2 years" }
)";

std::vector<store::Migration> AllMigrations() {
  std::vector<store::Migration> all = audit::Migrations();
  for (const auto& m : processing::VersionMigrations()) all.push_back(m);
  for (const auto& m : staff::Accounts::Migrations()) all.push_back(m);
  return all;
}

processing::Register Parse(const std::string& text) {
  auto doc = config::Document::Parse(text, "test.toml");
  EXPECT_TRUE(doc.ok());
  auto reg = processing::FromDocument(*doc);
  EXPECT_TRUE(reg.ok()) << reg.error().message;
  return *reg;
}

class RetentionTest : public ::testing::Test {
 protected:
  RetentionTest() : site_(AllMigrations()), trail_(site_.store(), site_.key(), clock_), reg_(Parse(kRegister)) {
    auto policy = staff::PasswordPolicy{};
    accounts_ = std::make_unique<staff::Accounts>(site_.store(), trail_, clock_, site_.key(), std::move(policy));
  }
  std::vector<ModuleStorage> Modules() {
    auto m = CoreStorage(&trail_);
    m.push_back(staff::Storage());
    return m;
  }

  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  store::testing::ScratchSite site_;
  audit::Trail trail_;
  processing::Register reg_;
  std::unique_ptr<staff::Accounts> accounts_;
};

TEST_F(RetentionTest, CheckPassesWhenRegisterAndStorageAgree) {
  Runner runner(site_.store(), trail_, clock_, reg_, Modules());
  Status s = runner.Check();
  EXPECT_TRUE(s.ok()) << s.error().message;
}

TEST_F(RetentionTest, CheckRefusesPersonalDataNoDatasetDeclares) {
  std::string without_staff = kRegister;
  without_staff.replace(without_staff.find("module = \"staff\""), 16, "module = \"accounts\"");
  processing::Register reg = Parse(without_staff);
  Runner runner(site_.store(), trail_, clock_, reg, Modules());
  Status s = runner.Check();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("module 'staff' stores personal data (staff, staff_sessions"), std::string::npos)
      << s.error().message;
}

TEST_F(RetentionTest, CheckRefusesATableNoModuleDeclares) {
  ASSERT_TRUE(site_.store()
                  .Write([](store::Connection& c) { return c.ExecScript("CREATE TABLE mailing_list (email TEXT)"); })
                  .ok());
  Runner runner(site_.store(), trail_, clock_, reg_, Modules());
  Status s = runner.Check();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("table 'mailing_list' is declared by no module"), std::string::npos);
}

TEST_F(RetentionTest, CheckRefusesAModuleWithNoPurge) {
  auto modules = Modules();
  modules.back().purge = nullptr;
  Runner runner(site_.store(), trail_, clock_, reg_, modules);
  EXPECT_NE(runner.Check().error().message.find("module 'staff' stores personal data but has no purge"),
            std::string::npos);
}

TEST_F(RetentionTest, PurgesOnTimeAndAuditsCountsOnly) {
  auto boss = accounts_->Create("boss@example.gov.uk", {staff::Role::kAdmin}, {});
  auto leaver = accounts_->Create("leaver@example.gov.uk", {staff::Role::kAnalyst}, {});
  ASSERT_TRUE(accounts_->SetDisabled(*leaver, true, {}).ok());
  Runner runner(site_.store(), trail_, clock_, reg_, Modules());

  clock_.Advance(24h * 364);
  auto early = runner.Run(false);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->at(0).count, 0) << "not yet a year";
  EXPECT_TRUE(accounts_->Find(*leaver).ok());

  clock_.Advance(48h);
  auto dry = runner.Run(/*dry_run=*/true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->at(0).dataset, "staff-accounts");
  EXPECT_EQ(dry->at(0).count, 1);
  EXPECT_TRUE(accounts_->Find(*leaver).ok()) << "a dry run deletes nothing";

  auto real = runner.Run(false);
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->at(0).count, 1);
  EXPECT_EQ(accounts_->Find(*leaver).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(accounts_->Find(*boss).ok()) << "active accounts stay";
  EXPECT_EQ(real->at(0).cutoff.substr(0, 10), "2027-01-16") << "a year before now, in calendar terms";
  EXPECT_EQ(real->at(2).note, "not stored by this Steward: the 'feedback' module is not part of this build");

  auto purged = trail_.List({.action = "retention.purged", .limit = 10});
  ASSERT_TRUE(purged.ok());
  ASSERT_EQ(purged->size(), 4u) << "every run audits every dataset it ran, even with nothing due";
  bool saw_staff = false;
  for (const auto& r : *purged) {  // newest first
    if (r.entry.target != "dataset:staff-accounts" || saw_staff) continue;
    saw_staff = true;
    for (const auto& [k, v] : r.entry.details) EXPECT_EQ(v.find('@'), std::string::npos) << "counts, never contents";
    EXPECT_EQ(r.entry.details.at(0), (std::pair<std::string, std::string>{"count", "1"}));
  }
  EXPECT_TRUE(saw_staff);
}

TEST_F(RetentionTest, DryRunListsEveryDatasetWithItsCutoff) {
  processing::Register reg = Parse(kRegister);  // the runner keeps a reference: it must outlive it
  Runner runner(site_.store(), trail_, clock_, reg, Modules());
  auto r = runner.Run(true);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(r->at(1).dataset, "audit-trail");
  EXPECT_EQ(r->at(1).cutoff.substr(0, 10), "2021-01-15") << "6 years before 15 January 2027";
  EXPECT_TRUE(r->at(2).cutoff.empty());
}

// One dataset's purge failing does not keep the others' data past its time.
TEST_F(RetentionTest, AFailingPurgeIsReportedAndTheOthersStillRun) {
  std::string text = kRegister;
  const std::string from = "id = \"feedback\"\nmodule = \"feedback\"";
  text.replace(text.find(from), from.size(), "id = \"broken\"\nmodule = \"broken\"");
  text.replace(text.find("retention = { criteria"), std::string::npos, "retention = \"1 day\"\n");
  processing::Register reg = Parse(text);
  std::vector<ModuleStorage> modules = Modules();
  modules.insert(modules.begin(),
                 ModuleStorage{.module = "broken",
                               .personal_tables = {"broken_table"},
                               .purge = [](store::Connection&, const processing::Dataset&, const std::string&,
                                           const std::string&, bool, int64_t) -> Result<int64_t> {
                                 return MakeError(ErrorCode::kIo, "disk on fire");
                               }});
  Runner runner(site_.store(), trail_, clock_, reg, modules);
  auto r = runner.Run(/*dry_run=*/false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  int failed = 0, ran = 0;
  for (const auto& o : *r) {
    if (o.dataset == "broken") {
      EXPECT_TRUE(o.failed);
      EXPECT_NE(o.note.find("disk on fire"), std::string::npos);
      ++failed;
    } else if (!o.failed) {
      ++ran;
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(ran, 2) << "staff accounts and the audit trail still purged";
  auto entries = trail_.List({.action = "retention.purged", .limit = 10});
  ASSERT_TRUE(entries.ok());
  bool failure_audited = false;
  for (const auto& e : *entries) failure_audited |= e.entry.target == "dataset:broken" && e.entry.outcome == "failure";
  EXPECT_TRUE(failure_audited);
}

// "As long as needed" is a promise only beside a maximum, and the runner deletes at it.
TEST_F(RetentionTest, DataKeptByCriteriaGoesAtItsMaximum) {
  std::string text = kRegister;
  const std::string from = "id = \"feedback\"\nmodule = \"feedback\"";
  text.replace(text.find(from), from.size(), "id = \"kept\"\nmodule = \"kept\"");
  processing::Register reg = Parse(text);
  std::string given;
  std::vector<ModuleStorage> modules = Modules();
  modules.push_back(
      ModuleStorage{.module = "kept",
                    .personal_tables = {"kept_table"},
                    .purge = [&given](store::Connection&, const processing::Dataset&, const std::string& cutoff,
                                      const std::string&, bool, int64_t) -> Result<int64_t> {
                      given = cutoff;
                      return 0;
                    }});
  Runner runner(site_.store(), trail_, clock_, reg, modules);
  auto r = runner.Run(/*dry_run=*/true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(given.substr(0, 10), "2025-01-15") << "2 years before 15 January 2027";
  auto without = config::Document::Parse(
      std::string(kRegister).replace(std::string(kRegister).find(", maximum = \"2 years\""), 21, ""), "test.toml");
  ASSERT_TRUE(without.ok());
  auto refused = processing::FromDocument(*without);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("test.toml:39:13: 'register.datasets[2].retention' keeps data by criteria, "
                                         "so it needs a 'maximum'"),
            std::string::npos)
      << refused.error().message;
}

// A backlog goes in batches, each its own transaction with its own audit record, so that a write
// queued meanwhile waits for one batch, not for the whole purge.
TEST_F(RetentionTest, ABacklogGoesInBatchesThatLetOtherWritesThrough) {
  std::string text = kRegister;
  const std::string from = "id = \"feedback\"\nmodule = \"feedback\"";
  text.replace(text.find(from), from.size(), "id = \"kept\"\nmodule = \"kept\"");
  text.replace(text.find("retention = { criteria"), std::string::npos, "retention = \"1 year\"\n");
  processing::Register reg = Parse(text);
  const std::string old_at = FormatRfc3339Millis(clock_.Now() - 24h * 400);
  const std::string new_at = FormatRfc3339Millis(clock_.Now() - 24h);
  constexpr int64_t kOld = 3 * Runner::kFirstBatch + 500;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_RETURN_IF_ERROR(
                        c.ExecScript("CREATE TABLE kept_items (id INTEGER PRIMARY KEY, at TEXT NOT NULL);"
                                     "CREATE TABLE kept_marks (id INTEGER PRIMARY KEY)"));
                    for (int64_t i = 1; i <= kOld + 10; ++i) {
                      STEWARD_RETURN_IF_ERROR(
                          c.Exec("INSERT INTO kept_items (id, at) VALUES (?, ?)", {i, i <= kOld ? old_at : new_at}));
                    }
                    return Ok();
                  })
                  .ok());

  std::vector<int64_t> limits, deleted;
  bool submitted = false, marked_between = false;
  std::vector<ModuleStorage> modules = Modules();
  modules.push_back(ModuleStorage{
      .module = "kept",
      .personal_tables = {"kept_items", "kept_marks"},
      .purge = [&](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                   bool dry_run, int64_t limit) -> Result<int64_t> {
        if (dry_run) return int64_t{0};
        if (submitted) {
          // Someone's write, queued during the first batch, went in before this one.
          STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM kept_marks"));
          marked_between |= rows.front().Int(0) == 1;
        } else {
          submitted = true;
          EXPECT_TRUE(site_.store()
                          .Submit(
                              [](store::Connection& w) -> Status {
                                STEWARD_ASSIGN_OR_RETURN(auto n, w.Exec("INSERT INTO kept_marks (id) VALUES (1)"));
                                (void)n;
                                return Ok();
                              },
                              [](const Status&) {})
                          .ok());
        }
        limits.push_back(limit);
        STEWARD_ASSIGN_OR_RETURN(int64_t n, DeleteAtMost(c, "kept_items", "id", "at < ?", {cutoff}, limit));
        deleted.push_back(n);
        return n;
      },
      .batched = true});
  Runner runner(site_.store(), trail_, clock_, reg, modules);
  auto r = runner.Run(/*dry_run=*/false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Outcome& kept = r->at(2);
  ASSERT_EQ(kept.dataset, "kept");
  EXPECT_FALSE(kept.failed) << kept.note;
  EXPECT_EQ(kept.count, kOld);
  ASSERT_GE(kept.batches, 3) << "a first batch of " << Runner::kFirstBatch << ", then at most twice the one before";
  ASSERT_EQ(static_cast<int>(limits.size()), kept.batches);
  EXPECT_EQ(limits.front(), Runner::kFirstBatch);
  for (size_t i = 0; i < limits.size(); ++i) EXPECT_LE(deleted[i], limits[i]) << "batch " << i + 1;
  EXPECT_LT(deleted.back(), limits.back()) << "the last batch is the one that found less than it might delete";
  EXPECT_TRUE(marked_between);
  int64_t left = -1;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM kept_items"));
                    left = rows.front().Int(0);
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(left, 10) << "what is not yet past its time stays";

  // One audit record a batch, numbered, whose counts add up to the purge.
  auto entries = trail_.List({.action = "retention.purged", .limit = 100});
  ASSERT_TRUE(entries.ok());
  int64_t audited = 0;
  std::set<std::string> numbers;
  for (const auto& e : *entries) {
    if (e.entry.target != "dataset:kept") continue;
    for (const auto& [k, v] : e.entry.details) {
      if (k == "count") audited += std::stoll(v);
      if (k == "batch") numbers.insert(v);
    }
  }
  EXPECT_EQ(audited, kOld);
  EXPECT_EQ(static_cast<int>(numbers.size()), kept.batches);
  EXPECT_TRUE(numbers.count("1") && numbers.count(std::to_string(kept.batches)));

  // A module that does not batch is called once, with no bound.
  EXPECT_EQ(r->at(0).batches, 1) << "staff accounts";
}

TEST_F(RetentionTest, DeleteAtMostKeepsToItsLimit) {
  int64_t first = -1, rest = -1, left = -1;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_RETURN_IF_ERROR(
                        c.ExecScript("CREATE TABLE kept_items (id INTEGER PRIMARY KEY, n INTEGER)"));
                    for (int64_t i = 1; i <= 30; ++i) {
                      STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO kept_items (id, n) VALUES (?, ?)", {i, i % 3}));
                    }
                    // Parenthesised, an OR in the condition stays within it.
                    STEWARD_ASSIGN_OR_RETURN(first, DeleteAtMost(c, "kept_items", "id", "n = ? OR n = ?", {0, 1}, 7));
                    STEWARD_ASSIGN_OR_RETURN(rest, DeleteAtMost(c, "kept_items", "id", "n = ? OR n = ?", {0, 1}, 0));
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM kept_items WHERE n = 2"));
                    left = rows.front().Int(0);
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(first, 7);
  EXPECT_EQ(rest, 13);
  EXPECT_EQ(left, 10);
}

// check-config says what keeps each dataset, and refuses a register that promises what the build
// does not do.
TEST(KeepingTest, SaysWhatKeepsEachDatasetAndRefusesWhatNothingKeeps) {
  const std::string head = std::string(kRegister).substr(0, std::string(kRegister).find("[[register.datasets]]"));
  auto keeping = [&](const std::string& datasets) {
    auto doc = config::Document::Parse(head + datasets, "site.toml");
    EXPECT_TRUE(doc.ok());
    auto reg = processing::FromDocument(*doc);
    EXPECT_TRUE(reg.ok()) << reg.error().message;
    std::vector<ModuleStorage> modules = {
        {.module = "seen",
         .personal_tables = {"seen_table"},
         .purge = [](store::Connection&, const processing::Dataset&, const std::string&, const std::string&, bool,
                     int64_t) -> Result<int64_t> { return 0; },
         .stores = {"user.device.ip_address", "user.contact"},
         .observed = true}};
    return DescribeKeeping(*reg, modules, "site.toml");
  };
  constexpr const char* kGood = R"(
[[register.datasets]]
id = "visits"
module = "seen"
description = "Visits"
categories = ["user.device.ip_address", "user.contact.email"]
collection = "From each request"
subjects = ["visitors"]
purposes = ["running"]
retention = "1 year"
[[register.datasets]]
id = "accounts"
module = "accounts"
kept_by = "the council's account system"
description = "Accounts"
categories = ["user.contact.email"]
subjects = ["residents"]
purposes = ["running"]
retention = "6 years"
)";
  Keeping good = keeping(kGood);
  EXPECT_TRUE(good.problems.empty()) << good.problems.Joined();
  ASSERT_EQ(good.lines.size(), 2u);
  EXPECT_EQ(good.lines[0], "dataset 'visits': kept by module 'seen', deleted after 1 year");
  EXPECT_EQ(good.lines[1],
            "dataset 'accounts': kept by the council's account system (outside Steward, which deletes nothing of it)");

  Keeping bad = keeping(R"(
[[register.datasets]]
id = "visits"
module = "seen"
description = "Visits"
categories = ["user.device.ip_address"]
subjects = ["visitors"]
purposes = ["running"]
retention = "1 year"
[[register.datasets]]
id = "accounts"
module = "accounts"
description = "Accounts"
categories = ["user.contact.email"]
subjects = ["residents"]
purposes = ["running"]
retention = "6 years"
[[register.datasets]]
id = "both"
module = "seen"
kept_by = "somewhere else"
description = "Both"
categories = ["user.device.ip_address", "user.contact.email"]
collection = "From each request"
subjects = ["visitors"]
purposes = ["running"]
retention = "1 year"
)");
  const std::string m = bad.problems.Joined();
  for (const char* want : {
           "site.toml:15:1: dataset 'visits' leaves out data categories that module 'seen' stores: user.contact",
           "site.toml:15:1: dataset 'visits' is collected automatically by module 'seen', not given: say how in "
           "'collection'",
           "site.toml:23:1: dataset 'accounts' names module 'accounts', which this build does not have, so nothing "
           "keeps it or deletes it",
           "site.toml:31:1: dataset 'both' names module 'seen', which this build has, and kept_by 'somewhere else'",
       }) {
    EXPECT_NE(m.find(want), std::string::npos) << "want: " << want << "\n" << m;
  }
  EXPECT_EQ(bad.problems.size(), 4u) << m;
}

}  // namespace
}  // namespace steward::retention
