#include "feedback/feedback.h"

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "config/document.h"
#include "store/testing/plan.h"
#include "store/testing/scratch.h"
#include "subject/restrictions.h"
#include "subjects/sealed.h"

namespace steward::feedback {
namespace {

using subject::Key;
using subject::KeyKind;

constexpr const char* kRegister = R"(
[register]
stored_in = "the UK"
service = "a test site"
[register.controller]
name = "Test Department"
email = "privacy@example.gov.uk"
[register.dpo]
email = "dpo@example.gov.uk"
[[register.purposes]]
id = "feedback"
description = "Answer and learn from your feedback"
lawful_basis = "public-task"
[[register.recipients]]
id = "departments"
name = "other government departments"
purpose = "to find the information you asked for"
basis = "consent"
[[register.recipients]]
id = "hosting"
name = "our hosting provider"
purpose = "to run the site"
basis = "processor"
[[register.datasets]]
id = "feedback"
module = "feedback"
description = "Feedback you send us"
categories = ["user.contact.email", "user.contact.name", "user.content.feedback"]
subjects = ["people who send us feedback"]
purposes = ["feedback"]
recipients = ["departments", "hosting"]
retention = "2 years"
)";

std::vector<store::Migration> Migrations() {
  auto all = audit::Migrations();
  for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
  for (auto& m : subject::Restrictions::Migrations()) all.push_back(m);
  for (auto& m : Inbox::Migrations()) all.push_back(m);
  return all;
}

processing::Register Reg() {
  auto reg = processing::FromDocument(*config::Document::Parse(kRegister, "t.toml"));
  EXPECT_TRUE(reg.ok()) << reg.error().message;
  return *reg;
}

Settings Read(const std::string& text, const processing::Register& reg) {
  auto doc = config::Document::Parse(text, "site.toml");
  EXPECT_TRUE(doc.ok());
  auto s = ReadSettings(*doc, reg);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() && *s ? **s : Settings{};
}

TEST(FeedbackSettingsTest, ReadsTheTableAndTheSharingTheRegisterDeclares) {
  auto reg = Reg();
  Settings s = Read("[feedback]\nuseful = false\nmin_seconds = 5\n", reg);
  EXPECT_FALSE(s.useful);
  EXPECT_EQ(s.min_seconds, 5);
  EXPECT_EQ(s.dataset, "feedback");
  EXPECT_EQ(s.share_with, (std::vector<std::string>{"other government departments"})) << "consent recipients only";
  auto none = ReadSettings(*config::Document::Parse("", "site.toml"), reg);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // Declare before collect, with the file and line.
  processing::Register bare = reg;
  bare.datasets.clear();
  auto refused = ReadSettings(*config::Document::Parse("\n[feedback]\nuseful = true\n", "site.toml"), bare);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("site.toml:2:"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("no dataset of module \"feedback\""), std::string::npos);
  auto unknown = ReadSettings(*config::Document::Parse("[feedback]\nusefull = true\n", "site.toml"), reg);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("usefull"), std::string::npos);
}

TEST(FeedbackCheckTest, SaysWhatToCorrectInGovukWords) {
  Submission contact{.kind = Kind::kContact, .message = "  "};
  auto errors = Check(contact);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], (std::pair<std::string, std::string>{"message", "Enter your message"}));
  contact.message = std::string(1250, 'a');
  EXPECT_TRUE(Check(contact).empty());
  contact.message = std::string(1249, 'a') + "é";  // 1,250 characters, 1,251 bytes
  EXPECT_TRUE(Check(contact).empty());
  contact.message += "b";
  EXPECT_EQ(Check(contact).at(0).first, "message");
  contact.message = "hello";
  contact.name = "Jo";
  EXPECT_EQ(Check(contact).at(0).first, "email") << "both or neither";
  contact.email = "not an address";
  EXPECT_EQ(Check(contact).at(0).second, "Enter an email address in the correct format, like name@example.com");
  contact.email = "jo@example.org";
  EXPECT_TRUE(Check(contact).empty());
  EXPECT_EQ(Check({.kind = Kind::kProblem}).at(0).first, "wrong");
  EXPECT_EQ(Check({.kind = Kind::kRating, .rating = 6}).at(0).first, "rating");
  EXPECT_TRUE(Check({.kind = Kind::kRating, .rating = 5}).empty());
  EXPECT_EQ(Check({.kind = Kind::kUseful}).at(0).first, "useful");
  EXPECT_TRUE(Check({.kind = Kind::kUseful, .useful = false}).empty());
}

class InboxTest : public ::testing::Test {
 protected:
  InboxTest()
      : site_(Migrations()),
        trail_(site_.store(), site_.key(), clock_),
        reg_(Reg()),
        restrictions_(site_.key(), clock_, &reg_),
        inbox_(site_.store(), site_.key(), clock_, Read("[feedback]\n", reg_)),
        data_({.module = "feedback",
               .store = site_.store(),
               .trail = trail_,
               .restrictions = restrictions_,
               .reg = &reg_,
               .pseudonym_key = subject::PseudonymKey(site_.key())},
              site_.key(), clock_, Inbox::SealedTables()) {}

  Stored Submit(const Submission& s) {
    EXPECT_TRUE(Check(s).empty());
    auto r = inbox_.Submit(s);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : Stored{};
  }

  std::vector<store::Row> Rows(const std::string& sql) {
    std::vector<store::Row> rows;
    EXPECT_TRUE(site_.store()
                    .Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(rows, c.Query(sql));
                      return Ok();
                    })
                    .ok());
    return rows;
  }

  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  store::testing::ScratchSite site_;
  audit::Trail trail_;
  processing::Register reg_;
  subject::Restrictions restrictions_;
  Inbox inbox_;
  subjects::SealedData data_;
};

TEST_F(InboxTest, UsefulnessIsCountedPerPageAndDayAndNeverKeptOneByOne) {
  for (bool yes : {true, true, false}) Submit({.kind = Kind::kUseful, .page = "/guidance", .useful = yes});
  Submit({.kind = Kind::kUseful, .page = "/search?q=jo@example.org", .useful = false});
  auto rows = Rows("SELECT page, yes, no FROM feedback_usefulness ORDER BY page");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].Text(0), "/guidance");
  EXPECT_EQ(rows[0].Int(1), 2);
  EXPECT_EQ(rows[0].Int(2), 1);
  EXPECT_EQ(rows[1].Text(0), "/search?q=[email]") << "no email address in a page's address";
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM feedback_items")[0].Int(0), 0);
  // The report: most answered first, a page's address matched as text, paged.
  std::string today = FormatRfc3339(clock_.Now()).substr(0, 10);
  auto report = inbox_.UsefulnessReport({.from = today, .to = today});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->second, 2);
  ASSERT_EQ(report->first.size(), 2u);
  EXPECT_EQ(report->first[0].page, "/guidance");
  EXPECT_EQ(report->first[0].yes, 2);
  EXPECT_EQ(inbox_.UsefulnessReport({.from = today, .to = today, .page = "guid"})->second, 1);
  EXPECT_EQ(inbox_.UsefulnessReport({.from = today, .to = today, .page = "%"})->second, 0) << "% is not a wildcard";
  auto second = inbox_.UsefulnessReport({.from = today, .to = today, .limit = 1, .offset = 1});
  ASSERT_EQ(second->first.size(), 1u);
  EXPECT_EQ(second->first[0].page, "/search?q=[email]");
  EXPECT_EQ(inbox_.UsefulnessReport({.from = "2000-01-01", .to = "2000-01-31"})->second, 0);
}

TEST_F(InboxTest, FreeTextIsRedactedThenSealedUnderThePersonsKey) {
  auto stored = Submit({.kind = Kind::kContact,
                        .page = "/apply",
                        .message = "I rang 020 7946 0000 twice. My NI is AB123456C.",
                        .name = "Jo Bloggs",
                        .email = "Jo@Example.org",
                        .share = true});
  EXPECT_GT(stored.id, 0);
  EXPECT_EQ(stored.redacted, (std::vector<std::string>{"National Insurance number", "telephone number"}));
  auto row = Rows("SELECT kind, page, status, redacted, share, message, email, subject_id FROM feedback_items")[0];
  EXPECT_EQ(row.Text(0), "contact");
  EXPECT_EQ(row.Text(2), "new");
  EXPECT_EQ(row.Text(3), "National Insurance number,telephone number");
  EXPECT_EQ(row.Int(4), 1);
  // Whole words: two random bytes of ciphertext spell "Jo" about once in 600 runs.
  for (size_t col : {5u, 6u}) {
    EXPECT_EQ(row.Text(col).find("Example.org"), std::string::npos) << "sealed";
    EXPECT_EQ(row.Text(col).find("I rang"), std::string::npos) << "sealed";
  }
  auto records = data_.Export(*Key::Make(KeyKind::kEmail, "jo@example.org"));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  std::map<std::string, std::string> fields;
  for (const auto& f : (*records)[0].fields) fields[f.name] = f.value;
  EXPECT_EQ(fields["Your message"],
            "I rang [telephone number removed] twice. My NI is [National Insurance number removed].");
  EXPECT_EQ(fields["Your email address"], "Jo@Example.org") << "the contact detail given to be answered stays";
  EXPECT_EQ(fields["Your name"], "Jo Bloggs");
  EXPECT_EQ(fields["Page"], "/apply");
}

TEST_F(InboxTest, SpamIsKeptApartAndTheSameItemAgainIsADuplicate) {
  EXPECT_TRUE(Submit({.kind = Kind::kContact, .message = "buy now", .honeypot = "x"}).spam);
  EXPECT_TRUE(Submit({.kind = Kind::kContact, .message = "fast", .seconds_open = 1}).spam);
  EXPECT_FALSE(Submit({.kind = Kind::kContact, .message = "slow", .seconds_open = 30}).spam);
  EXPECT_TRUE(Submit({.kind = Kind::kProblem, .doing = "WCRTESTINP", .wrong = "x"}).spam);
  EXPECT_TRUE(Submit({.kind = Kind::kProblem, .doing = "same", .wrong = "same"}).spam);
  Submission again{.kind = Kind::kProblem, .page = "/a", .doing = "paying", .wrong = "it failed"};
  EXPECT_FALSE(Submit(again).duplicate);
  clock_.Advance(std::chrono::minutes(4));
  EXPECT_TRUE(Submit(again).duplicate);
  clock_.Advance(std::chrono::minutes(6));
  EXPECT_FALSE(Submit(again).duplicate) << "outside the 5 minutes";
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM feedback_items WHERE status = 'spam'")[0].Int(0), 4);
  EXPECT_EQ(Rows("SELECT spam_reason FROM feedback_items WHERE id = 1")[0].Text(0), "honeypot");
}

TEST_F(InboxTest, RetentionPurgesPastTheCutOffAndSpamWithinAWeek) {
  Submit({.kind = Kind::kContact, .message = "old", .name = "A", .email = "a@example.org"});
  for (const char* text : {"spam", "more spam", "yet more spam"}) {
    Submit({.kind = Kind::kContact, .message = text, .honeypot = "x"});
  }
  clock_.Advance(std::chrono::hours(24 * 8));
  Submit({.kind = Kind::kRating, .rating = 4});
  auto storage = Inbox::Storage();
  EXPECT_TRUE(storage.batched);
  processing::Dataset dataset = reg_.datasets[0];
  int64_t purged = -1;
  std::string now = FormatRfc3339(clock_.Now());
  // A cut-off before everything: only the spam (past a week) goes, two at most a batch.
  for (int64_t expected : {2, 1}) {
    ASSERT_TRUE(site_.store()
                    .Write([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(purged,
                                               storage.purge(c, dataset, "2000-01-01T00:00:00Z", now, false, 2));
                      return Ok();
                    })
                    .ok());
    EXPECT_EQ(purged, expected);
  }
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        purged,
                        storage.purge(c, dataset, FormatRfc3339(clock_.Now() - std::chrono::hours(24)), now, false, 0));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(purged, 1) << "the old item; the rating of today stays";
  // The person's key goes with the sweep, once nothing names them.
  int64_t swept = -1;
  subjects::SubjectStore subjects(site_.key(), clock_);
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(swept, subjects.Sweep(c, now));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(swept, 4) << "the purged item's and the three spam items'";
  // Spam goes within a week even where the dataset is kept by criteria (no purge by date).
  Submit({.kind = Kind::kContact, .message = "more spam", .honeypot = "x"});
  EXPECT_EQ(*inbox_.PurgeSpam(trail_), 0) << "not a week old yet";
  clock_.Advance(std::chrono::hours(24 * 7 + 1));
  EXPECT_EQ(*inbox_.PurgeSpam(trail_), 1);
  EXPECT_EQ(trail_.List({.action = "feedback.spam_purged"})->size(), 1u);
  EXPECT_TRUE(data_.Find(*Key::Make(KeyKind::kEmail, "a@example.org"))->holdings.empty());
}

// Each batch of a purge seeks what may go by an index that holds nothing kept: with spam spread
// among a million items, a batch that scanned would read again, each time, every item the batches
// before it kept.
TEST_F(InboxTest, ThePurgeSeeksWhatMayGoWithoutReadingWhatStays) {
  if (site_.store().backend() != store::Backend::kSqlite) GTEST_SKIP() << "SQLite's query plans";
  Submit({.kind = Kind::kContact, .message = "spam", .honeypot = "x"});
  Submit({.kind = Kind::kRating, .rating = 4});
  clock_.Advance(std::chrono::hours(24 * 8));
  std::vector<std::pair<std::string, std::vector<store::Value>>> deletes;
  store::StatementObserver observer = [&](std::string_view sql, const std::vector<store::Value>& params) {
    if (sql.starts_with("DELETE FROM feedback_items")) deletes.emplace_back(std::string(sql), params);
  };
  store::ObserveStatements(&observer);
  int64_t purged = -1;
  Status s = site_.store().Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(purged, Inbox::Storage().purge(c, reg_.datasets[0], "2000-01-01T00:00:00Z",
                                                            FormatRfc3339(clock_.Now()), false, 100));
    return Ok();
  });
  auto spam = inbox_.PurgeSpam(trail_);
  store::ObserveStatements(nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(spam.ok());
  EXPECT_EQ(purged, 1);
  ASSERT_EQ(deletes.size(), 3u) << "by date, then spam, then the daily spam purge's";
  for (const auto& [sql, params] : deletes) {
    auto plan = store::testing::QueryPlan(site_.store(), sql, params);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const std::string& text = *plan;
    EXPECT_EQ(text.find("SCAN feedback_items"), std::string::npos) << sql << "\n" << text;
    EXPECT_NE(text.find(sql.find("spam") != std::string::npos ? "INDEX feedback_items_spam (status=? AND received_at<?)"
                                                              : "INDEX feedback_items_received (received_at<?)"),
              std::string::npos)
        << sql << "\n"
        << text;
  }
}

TEST_F(InboxTest, ErasingAPersonReachesEveryItemTheySent) {
  Submit({.kind = Kind::kContact, .message = "one", .name = "Jo", .email = "jo@example.org"});
  Submit({.kind = Kind::kRating, .message = "two", .rating = 2, .name = "Jo", .email = "JO@example.org"});
  Submit({.kind = Kind::kContact, .message = "someone else", .name = "Al", .email = "al@example.org"});
  auto key = *Key::Make(KeyKind::kEmail, "jo@example.org");
  EXPECT_EQ(data_.Find(key)->holdings.at(0).count, 2);
  auto erased = data_.Erase(key, {.actor = "staff:1", .reference = "rights:1"});
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->at(0).erased, 2);
  EXPECT_TRUE(data_.Find(key)->holdings.empty());
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM feedback_items")[0].Int(0), 1);
}

TEST_F(InboxTest, NotesAreSealedWithTheItemAndThePersonCanSeeThem) {
  auto jo = Submit({.kind = Kind::kContact, .message = "Where is my form?", .name = "Jo", .email = "jo@example.org"});
  auto rating = Submit({.kind = Kind::kRating, .rating = 4});
  auto note = [&](int64_t id, const std::string& text) -> Result<bool> {
    bool found = false;
    Status s = site_.store().Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(found, inbox_.AddNote(c, id, {"2027-01-15T08:00:00Z", "staff:2", text}));
      return Ok();
    });
    if (!s.ok()) return s.error();
    return found;
  };
  ASSERT_TRUE(*note(jo.id, "Asked the forms team"));
  ASSERT_TRUE(*note(jo.id, "Replied by email"));
  EXPECT_FALSE(*note(999, "No such item"));
  EXPECT_EQ(note(jo.id, "   ").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(note(jo.id, std::string(kMaxNote + 1, 'a')).error().code, ErrorCode::kInvalidArgument);
  // An item with nothing personal in it gets a key of its own for its notes.
  ASSERT_TRUE(*note(rating.id, "Passed to the service team"));
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM feedback_items WHERE subject_id IS NULL")[0].Int(0), 0);
  auto item = inbox_.Get(jo.id);
  ASSERT_TRUE(item.ok() && *item);
  ASSERT_EQ((*item)->notes.size(), 2u);
  EXPECT_EQ((*item)->notes[0].text, "Asked the forms team");
  EXPECT_EQ((*item)->notes[1].by, "staff:2");
  auto raw = Rows("SELECT notes FROM feedback_items WHERE id = " + std::to_string(jo.id));
  EXPECT_EQ(raw[0].Text(0).find("forms team"), std::string::npos) << "sealed, never in the clear";
  // Triage changes the status and the assignee, and leaves the notes as they are.
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(bool found, inbox_.Triage(c, jo.id, "done", std::string("staff:2")));
                    return found ? Ok() : MakeError(ErrorCode::kNotFound, "no item");
                  })
                  .ok());
  item = inbox_.Get(jo.id);
  EXPECT_EQ((*item)->status, "done");
  EXPECT_EQ((*item)->assignee, "staff:2");
  EXPECT_EQ((*item)->notes.size(), 2u);
  // The person's access request shows the notes made on what they sent.
  auto records = data_.Export(*Key::Make(KeyKind::kEmail, "jo@example.org"));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  bool shown = false;
  for (const auto& f : (*records)[0].fields) shown = shown || f.value.find("Replied by email") != std::string::npos;
  EXPECT_TRUE(shown);
}

// A filter by part of a page's address finds old items of the pages it matches without reading
// what came since on other pages, and lists and counts exactly what the whole table holds.
TEST_F(InboxTest, APageFilterFindsOldItemsAsTheWholeTableWould) {
  struct Made {
    int64_t id;
    std::string received_at, kind, page, status;
  };
  std::vector<Made> made;
  auto make = [&](store::Connection& c, const std::string& page, const std::string& kind, const std::string& status) {
    Made m{0, FormatRfc3339(clock_.Now() + std::chrono::seconds(made.size() / 3)), kind, page, status};
    auto rows = c.Query(
        "INSERT INTO feedback_items (received_at, kind, page, status, fingerprint) VALUES (?, ?, ?, ?, ?) RETURNING id",
        {m.received_at, kind, page, status, store::Blob{std::to_string(made.size())}});
    if (!rows.ok()) return Status(rows.error());
    m.id = rows->front().Int(0);
    made.push_back(m);
    return Ok();
  };
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    // Old items on the pages the filter finds, several to a second; then many newer
                    // ones elsewhere.
                    const std::vector<std::string> statuses = {"new", "done", "spam", "in-progress"};
                    for (int i = 0; i < 120; ++i) {
                      std::string page = "/pensions/" + std::string(1, static_cast<char>('a' + i % 7));
                      STEWARD_RETURN_IF_ERROR(make(c, page, i % 5 == 0 ? "contact" : "problem", statuses[i % 4]));
                    }
                    STEWARD_RETURN_IF_ERROR(make(c, "/50%_off", "problem", "new"));
                    STEWARD_RETURN_IF_ERROR(make(c, "/5000_off", "problem", "new"));
                    for (int i = 0; i < 1500; ++i) STEWARD_RETURN_IF_ERROR(make(c, "/jobs/x", "rating", "new"));
                    return Ok();
                  })
                  .ok());
  auto expect = [&](const Filter& f) {
    std::vector<Made> want;
    for (const auto& m : made) {
      if (m.page.find(f.page) == std::string::npos) continue;
      if (f.status.empty() ? m.status == "spam" : m.status != f.status) continue;
      if (!f.kind.empty() && m.kind != f.kind) continue;
      want.push_back(m);
    }
    std::sort(want.begin(), want.end(), [](const Made& a, const Made& b) {
      return a.received_at != b.received_at ? a.received_at > b.received_at : a.id > b.id;
    });
    auto listed = inbox_.List(f);
    ASSERT_TRUE(listed.ok()) << listed.error().ToString();
    EXPECT_EQ(listed->second, std::min<int64_t>(kCountLimit + 1, static_cast<int64_t>(want.size())))
        << "page " << f.page << " status " << f.status << " kind " << f.kind;
    std::vector<int64_t> want_ids, got_ids;
    for (size_t i = static_cast<size_t>(f.offset); i < want.size() && i < static_cast<size_t>(f.offset + f.limit);
         ++i) {
      want_ids.push_back(want[i].id);
    }
    for (const auto& it : listed->first) got_ids.push_back(it.id);
    EXPECT_EQ(got_ids, want_ids) << "page " << f.page << " offset " << f.offset << " limit " << f.limit;
  };
  expect({.page = "/pensions/"});
  expect({.page = "/pensions/", .limit = 15, .offset = 10});
  expect({.page = "/pensions/", .limit = 50, .offset = 80});
  expect({.page = "/pensions/", .limit = 50, .offset = 500});
  expect({.status = "done", .page = "/pensions/"});
  expect({.status = "spam", .page = "/pensions/"});
  expect({.kind = "contact", .page = "/pensions/"});
  expect({.page = "ns/c"});
  expect({.page = "%_"});  // LIKE's wildcards match only themselves
  expect({.page = "nowhere"});
  expect({.page = "/jobs/"});
  expect({.page = "/"});
  expect({.page = "/", .limit = 50, .offset = 900});
  expect({.page = "/", .limit = 50, .offset = 1000});  // deeper than kMergedDepth: read by the scan

  if (site_.store().backend() != store::Backend::kSqlite) return;
  // Each page's newest items come from the page index, and nothing is sorted; the pages are found
  // one seek at a time.
  auto plan = Rows(
      "EXPLAIN QUERY PLAN SELECT received_at, id FROM feedback_items WHERE 1 = 1 AND status <> 'spam' "
      "AND page = '/pensions/a' ORDER BY received_at DESC, id DESC LIMIT 1001");
  std::string text;
  for (const auto& r : plan) text += r.Text(3) + "\n";
  EXPECT_NE(text.find("COVERING INDEX feedback_items_page (page=?)"), std::string::npos) << text;
  EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos) << text;
  plan = Rows("EXPLAIN QUERY PLAN SELECT MIN(page) FROM feedback_items WHERE page > '/jobs/x'");
  text.clear();
  for (const auto& r : plan) text += r.Text(3) + "\n";
  EXPECT_NE(text.find("COVERING INDEX feedback_items_page (page>?)"), std::string::npos) << text;
}

// A filter that matches more than kMergedPages pages is read along the index of when items came:
// the same answer. Retention prunes the pages no item names any more.
TEST_F(InboxTest, APageFilterOverManyPagesGivesTheSameAnswerAndRetentionPrunesPages) {
  constexpr int kPages = 2 * (kMergedPages + 50);  // half of them match
  std::vector<int64_t> matching;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    for (int i = 0; i < kPages; ++i) {
                      std::string page = "/p/" + std::to_string(i) + (i % 2 == 1 ? "/wanted" : "");
                      auto rows = c.Query(
                          "INSERT INTO feedback_items (received_at, kind, page, fingerprint) VALUES (?, ?, ?, ?) "
                          "RETURNING id",
                          {FormatRfc3339(clock_.Now() - std::chrono::hours(24 * 400) + std::chrono::seconds(i)),
                           std::string("problem"), page, store::Blob{std::to_string(i)}});
                      if (!rows.ok()) return rows.error();
                      if (i % 2 == 1) matching.push_back(rows->front().Int(0));
                    }
                    return Ok();
                  })
                  .ok());
  std::reverse(matching.begin(), matching.end());
  auto listed = inbox_.List({.page = "/wanted", .limit = 20, .offset = 5});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->second, kCountLimit + 1);
  std::vector<int64_t> got;
  for (const auto& it : listed->first) got.push_back(it.id);
  EXPECT_EQ(got, std::vector<int64_t>(matching.begin() + 5, matching.begin() + 25));

  Submit({.kind = Kind::kProblem, .page = "/kept", .doing = "reading", .wrong = "a broken link"});
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM feedback_pages")[0].Int(0), kPages + 1)
      << "a page is known once its item is kept";
  // An item whose page changes (a rectification) is found by its new page.
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    auto n = c.Exec("UPDATE feedback_items SET page = '/p/moved/wanted' WHERE page = '/p/0'");
                    return n.ok() ? Ok() : Status(n.error());
                  })
                  .ok());
  EXPECT_EQ(inbox_.List({.page = "/moved/"})->second, 1);
  // The items of a year ago go, and their pages with them; the page of today's item stays.
  int64_t purged = -1;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        purged, Inbox::Storage().purge(c, reg_.datasets[0],
                                                       FormatRfc3339(clock_.Now() - std::chrono::hours(24)),
                                                       FormatRfc3339(clock_.Now()), false, 0));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(purged, kPages);
  auto pages = Rows("SELECT page FROM feedback_pages ORDER BY page");
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].Text(0), "/kept");
  EXPECT_EQ(inbox_.List({.page = "/wanted"})->second, 0);
}

TEST_F(InboxTest, TheInboxCountsUpToItsLimitAndReadsItsFirstPageFromTheIndex) {
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    for (int i = 0; i < kCountLimit + 5; ++i) {
                      STEWARD_RETURN_IF_ERROR(c.Exec(
                          "INSERT INTO feedback_items (received_at, kind, page, fingerprint) VALUES (?, ?, ?, ?)",
                          {FormatRfc3339(clock_.Now() + std::chrono::seconds(i)), std::string("rating"),
                           std::string("/p"), store::Blob{std::to_string(i)}}));
                    }
                    return Ok();
                  })
                  .ok());
  auto listed = inbox_.List({});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->second, kCountLimit + 1) << "the count stops past its limit";
  ASSERT_EQ(listed->first.size(), 50u);
  EXPECT_GT(listed->first[0].received_at, listed->first[49].received_at) << "newest first";
  if (site_.store().backend() != store::Backend::kSqlite) return;
  // The first page walks the index of when items came, newest first, and sorts nothing.
  auto plan = Rows(
      "EXPLAIN QUERY PLAN SELECT id FROM feedback_items WHERE 1 = 1 AND status <> 'spam' "
      "ORDER BY received_at DESC, id DESC LIMIT 50 OFFSET 0");
  std::string text;
  for (const auto& r : plan) text += r.Text(3) + "\n";
  EXPECT_NE(text.find("feedback_items_received"), std::string::npos) << text;
  EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos) << text;
  // A filter by page too many pages match for them to be merged reads the same index: no sort.
  plan = Rows(
      "EXPLAIN QUERY PLAN SELECT id FROM feedback_items WHERE 1 = 1 AND status <> 'spam' "
      "AND page LIKE '%/jobs%' ESCAPE '\\' ORDER BY received_at DESC, id DESC LIMIT 50 OFFSET 0");
  text.clear();
  for (const auto& r : plan) text += r.Text(3) + "\n";
  EXPECT_NE(text.find("feedback_items_received"), std::string::npos) << text;
  EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos) << text;
  // A filtered count reads the index alone, never the items.
  plan = Rows(
      "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM (SELECT 1 FROM feedback_items WHERE 1 = 1 AND kind = 'contact' "
      "AND status = 'done' AND page LIKE '%/jobs%' ESCAPE '\\' AND received_at >= '2027' "
      "ORDER BY received_at, id LIMIT 10001) AS counted");
  text.clear();
  for (const auto& r : plan) text += r.Text(3) + "\n";
  EXPECT_NE(text.find("COVERING INDEX feedback_items_received"), std::string::npos) << text;
  EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos) << text;
  // The duplicate check seeks the content and the time together: the same text sent a million
  // times before costs no more to check than text never seen.
  plan = Rows(
      "EXPLAIN QUERY PLAN SELECT 1 FROM feedback_items WHERE fingerprint = x'00' AND received_at >= '2027' LIMIT 1");
  text.clear();
  for (const auto& r : plan) text += r.Text(3) + "\n";
  EXPECT_NE(text.find("feedback_items_fingerprint (fingerprint=? AND received_at>?)"), std::string::npos) << text;
}

}  // namespace
}  // namespace steward::feedback
