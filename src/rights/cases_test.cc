#include "rights/cases.h"
#include "rights/copies.h"
#include "rights/letters.h"
#include "rights/requests.h"

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "core/days.h"
#include "store/testing/scratch.h"
#include "subjects/subjects.h"

namespace steward::rights {
namespace {

using subject::Key;
using subject::KeyKind;

int64_t D(const char* text) { return *ParseDay(text); }
SystemTime At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

std::vector<store::Migration> AllMigrations() {
  std::vector<store::Migration> all = audit::Migrations();
  for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
  for (auto& m : Cases::Migrations()) all.push_back(m);
  for (auto& m : Requests::Migrations()) all.push_back(m);
  for (auto& m : Copies::Migrations()) all.push_back(m);
  return all;
}

const BankHolidays& Holidays() {
  static const BankHolidays h = *BankHolidays::Load(std::string(STEWARD_SOURCE_DIR) + "/web/data/bank-holidays.json");
  return h;
}

class CasesTest : public ::testing::Test {
 protected:
  CasesTest()
      : site_(AllMigrations()),
        clock_(At("2026-03-02T10:00:00Z")),
        trail_(site_.store(), site_.key(), clock_),
        cases_(site_.store(), trail_, site_.key(), clock_, Settings{.dataset = "rights-requests"}, Holidays()) {}

  int64_t OpenOne(NewCase c = {}) {
    if (c.rights.empty()) c.rights = {Right::kAccess};
    if (c.received == 0) c.received = UkDay(clock_.Now());
    if (c.email.empty() && c.postal_address.empty()) c.email = "Person@Example.org";
    auto id = cases_.Open(c, staff_);
    EXPECT_TRUE(id.ok()) << id.error().ToString();
    return id.ok() ? *id : 0;
  }

  std::vector<std::string> RawColumn(const std::string& sql) {
    std::vector<std::string> out;
    auto conn = site_.database().Connect();
    auto rows = conn->Query(sql);
    for (const auto& r : *rows) {
      if (const auto* b = std::get_if<store::Blob>(&r.at(0)))
        out.push_back(b->bytes);
      else if (!r.IsNull(0))
        out.push_back(r.Text(0));
    }
    return out;
  }

  store::testing::ScratchSite site_;
  FakeClock clock_;
  audit::Trail trail_;
  Cases cases_;
  Actor staff_{.id = "staff:3"};
};

TEST_F(CasesTest, ACaseKeepsWhoAskedSealedAndItsDueDateFromTheDayItArrived) {
  int64_t id = OpenOne({.rights = {Right::kErasure, Right::kAccess},
                        .channel = "letter",
                        .name = "Sam Example",
                        .email = "Sam@Example.org",
                        .identifiers = {*Key::Make(KeyKind::kIpAddress, "203.0.113.7")},
                        .details = "Everything you hold since 2024"});
  auto c = cases_.Get(id);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->reference, "R-" + std::string(6 - std::to_string(id).size(), '0') + std::to_string(id));
  EXPECT_EQ(c->rights, (std::vector<Right>{Right::kAccess, Right::kErasure}));
  EXPECT_EQ(c->name, "Sam Example");
  EXPECT_EQ(c->email, "sam@example.org");
  ASSERT_EQ(c->identifiers.size(), 2u);
  EXPECT_EQ(c->identifiers[0].kind(), KeyKind::kEmail);
  EXPECT_EQ(c->identifiers[1].value(), "203.0.113.7");
  EXPECT_EQ(DayText(c->due.day), "2026-04-02");
  EXPECT_EQ(c->ClockText(), "running");
  ASSERT_EQ(c->timeline.size(), 1u);
  EXPECT_EQ(c->timeline[0].kind, "opened");
  // Nothing the person gave is readable in the database.
  for (const auto& v : RawColumn("SELECT name FROM rights_cases UNION ALL SELECT email FROM rights_cases UNION ALL "
                                 "SELECT details FROM rights_cases UNION ALL SELECT identifiers FROM rights_cases")) {
    EXPECT_EQ(v.find("Sam"), std::string::npos);
    EXPECT_EQ(v.find("example.org"), std::string::npos);
    EXPECT_EQ(v.find("203.0.113.7"), std::string::npos);
    EXPECT_EQ(v.find("since 2024"), std::string::npos);
  }
  // The audit trail holds the case id and counts only.
  auto entries = trail_.List({});
  ASSERT_TRUE(entries.ok());
  bool opened = false;
  for (const auto& r : *entries) {
    if (r.entry.action != "rights.opened") continue;
    opened = true;
    EXPECT_EQ(r.entry.target, "rights:" + std::to_string(id));
    for (const auto& [k, v] : r.entry.details) EXPECT_EQ(v.find("example"), std::string::npos) << k;
  }
  EXPECT_TRUE(opened);
  // The person's cases are found by their address, in any case of letters.
  auto mine = cases_.OfEmail("SAM@example.org");
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(*mine, std::vector<int64_t>{id});
}

TEST_F(CasesTest, OpeningRefusesWhatCannotBeACase) {
  auto none = cases_.Open({.received = D("2026-03-02"), .email = "a@example.org"}, staff_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message.rfind("rights: ", 0), 0u);
  auto future =
      cases_.Open({.rights = {Right::kAccess}, .received = D("2026-03-03"), .email = "a@example.org"}, staff_);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().message.rfind("received: ", 0), 0u);
  auto nowhere = cases_.Open({.rights = {Right::kAccess}, .received = D("2026-03-02")}, staff_);
  ASSERT_FALSE(nowhere.ok());
  EXPECT_NE(nowhere.error().message.find("postal address"), std::string::npos);
  auto bad = cases_.Open({.rights = {Right::kAccess}, .received = D("2026-03-02"), .email = "not an address"}, staff_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find("not an address"), std::string::npos) << "never the value given";
  auto channel = cases_.Open(
      {.rights = {Right::kAccess}, .channel = "pigeon", .received = D("2026-03-02"), .email = "a@e.org"}, staff_);
  EXPECT_FALSE(channel.ok());
  // By post only is fine.
  EXPECT_TRUE(cases_
                  .Open({.rights = {Right::kAccess},
                         .channel = "letter",
                         .received = D("2026-03-02"),
                         .postal_address = "1 High Street"},
                        staff_)
                  .ok());
}

TEST_F(CasesTest, TheClockWaitsForProofThenForAClarificationAndAnExtensionIsToldInTheFirstMonth) {
  int64_t id = OpenOne({.identity_known = false});
  auto c = cases_.Get(id);
  EXPECT_EQ(c->ClockText(), "waiting for proof of identity");
  EXPECT_EQ(DayText(c->due.day), "2026-04-02") << "if proof came today";
  // A clarification cannot be asked for before the clock starts.
  EXPECT_EQ(cases_.Pause(id, D("2026-03-02"), staff_).error().code, ErrorCode::kFailedPrecondition);
  clock_.Set(At("2026-03-10T09:00:00Z"));
  EXPECT_EQ(DayText(cases_.Get(id)->due.day), "2026-04-10") << "the month has still not started";
  ASSERT_TRUE(cases_.ProofReceived(id, D("2026-03-09"), staff_).ok());
  c = cases_.Get(id);
  EXPECT_EQ(c->ClockText(), "running");
  EXPECT_EQ(DayText(c->due.day), "2026-04-09");
  // A clarification asked for on the 10th arrives on the 14th: four days added.
  ASSERT_TRUE(cases_.Pause(id, D("2026-03-10"), staff_).ok());
  EXPECT_EQ(cases_.Pause(id, D("2026-03-10"), staff_).error().code, ErrorCode::kFailedPrecondition);
  clock_.Set(At("2026-03-14T09:00:00Z"));
  c = cases_.Get(id);
  EXPECT_EQ(c->ClockText(), "waiting for a clarification");
  EXPECT_EQ(DayText(c->due.day), "2026-04-13");
  ASSERT_TRUE(cases_.Resume(id, D("2026-03-14"), staff_).ok());
  c = cases_.Get(id);
  EXPECT_EQ(DayText(c->due.day), "2026-04-13");
  EXPECT_EQ(c->pauses.size(), 1u);
  // Extended, with the reason the person is told: three months from the start, plus the pause.
  EXPECT_EQ(cases_.Extend(id, "  ", staff_).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(cases_.Extend(id, "Your request covers eight years of records", staff_).ok());
  c = cases_.Get(id);
  EXPECT_TRUE(c->extended);
  EXPECT_EQ(DayText(c->due.day), "2026-06-15") << "9 June + 4 days is Saturday 13 June";
  EXPECT_EQ(c->ClockText(), "running (extended)");
  EXPECT_EQ(cases_.Extend(id, "again", staff_).error().code, ErrorCode::kFailedPrecondition);
  // The timeline tells the story, the reason sealed.
  std::vector<std::string> kinds;
  for (const auto& e : c->timeline) kinds.push_back(e.kind);
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"opened", "proof_asked", "proof_received", "paused", "resumed", "extended"}));
  EXPECT_EQ(c->timeline.back().text, "Your request covers eight years of records");
  for (const auto& v : RawColumn("SELECT text FROM rights_events")) EXPECT_EQ(v.find("eight years"), std::string::npos);
}

TEST_F(CasesTest, AnExtensionAfterTheFirstMonthIsTooLate) {
  int64_t id = OpenOne();
  clock_.Set(At("2026-04-03T09:00:00Z"));
  auto late = cases_.Extend(id, "complex", staff_);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("within it"), std::string::npos);
}

TEST_F(CasesTest, TheQueueIsByDueDateAndTheFiguresCountOnTimeAndOverdue) {
  int64_t a = OpenOne({.received = D("2026-02-20")});
  int64_t b = OpenOne({.received = D("2026-02-10")});
  int64_t c = OpenOne({.rights = {Right::kErasure}, .received = D("2026-03-01")});
  ASSERT_TRUE(cases_.Assign(c, 7, staff_).ok());
  auto queue = cases_.Queue({});
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 3u);
  EXPECT_EQ((*queue)[0].id, b);
  EXPECT_EQ((*queue)[1].id, a);
  EXPECT_EQ((*queue)[2].id, c);
  auto sevens = cases_.Queue({.assignee = 7});
  ASSERT_EQ(sevens->size(), 1u);
  EXPECT_EQ(sevens->front().id, c);

  ASSERT_TRUE(cases_.Close(a, "answered", "Sent the copy by email", staff_).ok());
  EXPECT_EQ(cases_.Close(a, "answered", "again", staff_).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(cases_.Close(c, "refused", "", staff_).error().code, ErrorCode::kInvalidArgument);
  clock_.Set(At("2026-03-12T09:00:00Z"));  // b was due on 10 March
  ASSERT_TRUE(cases_.Close(b, "answered", "Late, sorry", staff_).ok());
  auto figures = cases_.Count(D("2026-02-01"), D("2026-04-01"));
  ASSERT_TRUE(figures.ok());
  EXPECT_EQ(figures->received, 3);
  EXPECT_EQ(figures->answered, 2);
  EXPECT_EQ(figures->answered_on_time, 1);
  EXPECT_EQ(figures->open, 1);
  EXPECT_EQ(figures->overdue, 0);
  EXPECT_EQ(figures->by_right[0].second, 2);  // access
  EXPECT_EQ(figures->by_right[2].second, 1);  // erasure
  clock_.Set(At("2026-04-02T09:00:00Z"));     // c was due on 1 April
  EXPECT_EQ(cases_.Count(D("2026-02-01"), D("2026-04-01"))->overdue, 1);
  auto closed = cases_.Queue({.open = false});
  ASSERT_EQ(closed->size(), 2u);
  EXPECT_TRUE((*closed)[1].on_time);
  EXPECT_FALSE((*closed)[0].on_time);
  EXPECT_EQ(cases_.Get(a)->outcome, "Sent the copy by email");
}

TEST_F(CasesTest, RetentionPurgesClosedCasesOnlyAndTheirKeysGoWithTheSweep) {
  int64_t open = OpenOne();
  int64_t done = OpenOne();
  ASSERT_TRUE(cases_.AddNote(done, "Phoned them back", staff_).ok());
  ASSERT_TRUE(cases_.Close(done, "withdrawn", "", staff_).ok());
  auto storage = Cases::Storage();
  processing::Dataset dataset;
  clock_.Advance(std::chrono::hours(24));
  std::string cutoff = FormatRfc3339Millis(clock_.Now());
  Result<int64_t> purged = 0;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    purged = storage.purge(c, dataset, cutoff, cutoff, false, 0);
                    return purged.ok() ? Ok() : Status(purged.error());
                  })
                  .ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_TRUE(cases_.Get(open).ok());
  EXPECT_EQ(cases_.Get(done).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(RawColumn("SELECT text FROM rights_events WHERE text IS NOT NULL").empty());
  subjects::SubjectStore subjects(site_.key(), clock_);
  Result<int64_t> swept = 0;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    swept = subjects.Sweep(c, cutoff);
                    return swept.ok() ? Ok() : Status(swept.error());
                  })
                  .ok());
  EXPECT_EQ(*swept, 1) << "the closed case's key; the open one's is still named";
}

TEST_F(CasesTest, CaseworkersAreRemindedOnceAWeekBeforeAndOnceWhenOverdueAndNotWhileTheClockWaits) {
  // Received Monday 2 March 2026: due Thursday 2 April.
  int64_t id = OpenOne();
  int64_t waiting = OpenOne({.identity_known = false});
  std::vector<std::pair<int64_t, bool>> reminded;
  auto remind = [&](store::Connection&, const Summary& s, bool overdue) -> Status {
    reminded.emplace_back(s.id, overdue);
    return Ok();
  };
  EXPECT_EQ(*cases_.Remind(remind), 0) << "a month away";
  clock_.Set(At("2026-03-26T09:00:00Z"));  // 7 days before
  EXPECT_EQ(*cases_.Remind(remind), 1);
  EXPECT_EQ(*cases_.Remind(remind), 0) << "once";
  ASSERT_EQ(reminded.size(), 1u);
  EXPECT_EQ(reminded[0], std::make_pair(id, false));
  clock_.Set(At("2026-04-02T09:00:00Z"));  // the due day: not yet overdue
  EXPECT_EQ(*cases_.Remind(remind), 0);
  clock_.Set(At("2026-04-03T09:00:00Z"));
  EXPECT_EQ(*cases_.Remind(remind), 1);
  EXPECT_EQ(*cases_.Remind(remind), 0);
  ASSERT_EQ(reminded.size(), 2u);
  EXPECT_EQ(reminded[1], std::make_pair(id, true));
  for (const auto& [which, overdue] : reminded) EXPECT_NE(which, waiting) << "no due date while proof is awaited";
  auto c = cases_.Get(id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::count_if(c->timeline.begin(), c->timeline.end(), [](const Event& e) { return e.kind == "reminded"; }),
            2);
}

TEST_F(CasesTest, AnExtendedCaseIsRemindedAgainBeforeItsNewDueDate) {
  int64_t id = OpenOne();
  int64_t n = 0;
  auto remind = [&](store::Connection&, const Summary&, bool) -> Status {
    ++n;
    return Ok();
  };
  clock_.Set(At("2026-03-27T09:00:00Z"));
  EXPECT_EQ(*cases_.Remind(remind), 1);
  ASSERT_TRUE(cases_.Extend(id, "Eight years of records", staff_).ok());
  EXPECT_EQ(*cases_.Remind(remind), 0) << "due on 2 June now";
  clock_.Set(At("2026-05-27T09:00:00Z"));
  EXPECT_EQ(*cases_.Remind(remind), 1);
}

TEST_F(CasesTest, ACopyOpensOnlyForTheAddressTheRequestCameFromAndLocksAfterFiveWrongOnes) {
  int64_t id = OpenOne({.email = "Sam@Example.org"});
  auto c = cases_.Get(id);
  ASSERT_TRUE(c.ok());
  Copies copies(site_.store(), site_.key(), clock_, cases_);
  Result<Copies::Kept> kept = MakeError(ErrorCode::kInternal, "not run");
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& conn) -> Status {
                    kept = copies.KeepIn(conn, *c, "PK zip bytes: Sam's records", 28);
                    return kept.ok() ? Ok() : Status(kept.error());
                  })
                  .ok());
  EXPECT_EQ(kept->token.size(), 48u);
  for (const auto& stored : RawColumn("SELECT bundle FROM rights_copies")) {
    EXPECT_EQ(stored.find("Sam's records"), std::string::npos) << "sealed";
  }
  EXPECT_TRUE(*copies.Live(kept->token));
  EXPECT_FALSE(*copies.Live(std::string(48, 'a')));

  auto mine = copies.Open(kept->token, " sam@EXAMPLE.org ", {.id = "self"});
  ASSERT_TRUE(mine.ok()) << mine.error().ToString();
  EXPECT_EQ(mine->zip, "PK zip bytes: Sam's records");
  EXPECT_EQ(mine->reference, c->reference);
  auto after = cases_.Get(id);
  EXPECT_EQ(after->timeline.back().kind, "downloaded");

  for (int i = 0; i < Copies::kTries; ++i) {
    auto wrong = copies.Open(kept->token, "someone@example.org", {.id = "self"});
    EXPECT_EQ(wrong.error().code, ErrorCode::kPermissionDenied) << i;
  }
  EXPECT_FALSE(*copies.Live(kept->token)) << "locked";
  EXPECT_EQ(copies.Open(kept->token, "sam@example.org", {.id = "self"}).error().code, ErrorCode::kNotFound);
}

TEST_F(CasesTest, ACopysLinkExpiresAndRetentionDeletesIt) {
  int64_t id = OpenOne();
  auto c = cases_.Get(id);
  Copies copies(site_.store(), site_.key(), clock_, cases_);
  std::string token;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& conn) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto kept, copies.KeepIn(conn, *c, "zip", 2));
                    token = kept.token;
                    return Ok();
                  })
                  .ok());
  clock_.Advance(std::chrono::hours(47));
  EXPECT_TRUE(*copies.Live(token));
  clock_.Advance(std::chrono::hours(2));
  EXPECT_FALSE(*copies.Live(token));
  EXPECT_EQ(copies.Open(token, "person@example.org", {.id = "self"}).error().code, ErrorCode::kNotFound);
  std::string now = FormatRfc3339Millis(clock_.Now());
  ASSERT_TRUE(
      site_.store()
          .Write([&](store::Connection& conn) -> Status {
            return Cases::Storage().purge(conn, processing::Dataset{}, "2020-01-01T00:00:00Z", now, false, 0).ok()
                       ? Ok()
                       : MakeError(ErrorCode::kInternal, "purge");
          })
          .ok());
  EXPECT_TRUE(RawColumn("SELECT bundle FROM rights_copies").empty());
  EXPECT_TRUE(cases_.Get(id).ok()) << "the open case stays";
}

TEST(LettersTest, DraftsSayTheReferenceTheDatesAndWhatIsLeftToFillIn) {
  Case c;
  c.id = 17;
  c.reference = "R-000017";
  c.rights = {Right::kAccess, Right::kErasure};
  c.received = D("2026-03-02");
  c.due.day = D("2026-04-02");
  c.name = "Sam Example";
  LetterContext ctx{.site_name = "National Careers Service", .today = D("2026-03-20"), .copy_days = 28};
  auto ack = Draft(Letter::kAcknowledgement, c, ctx);
  EXPECT_EQ(ack.subject, "We have your request: R-000017");
  EXPECT_NE(ack.text.find("Dear Sam Example"), std::string::npos);
  EXPECT_NE(ack.text.find("2 March 2026"), std::string::npos);
  EXPECT_NE(ack.text.find("We will answer by 2 April 2026"), std::string::npos);
  EXPECT_NE(ack.text.find("see what we hold about you and delete what we hold about you"), std::string::npos)
      << ack.text;
  EXPECT_NE(ack.text.find("ico.org.uk"), std::string::npos);
  auto copy = Draft(Letter::kCopy, c, ctx);
  EXPECT_NE(copy.text.find(kLinkPlaceholder), std::string::npos);
  EXPECT_NE(copy.text.find("until 17 April 2026"), std::string::npos) << "28 days from 20 March";
  c.status = "refused";
  c.outcome = "You have asked the same question weekly since January.";
  auto refusal = Draft(Letter::kRefusal, c, ctx);
  EXPECT_NE(refusal.text.find(c.outcome), std::string::npos);
  EXPECT_NE(refusal.text.find("ask a court"), std::string::npos);
  c.timeline.push_back({.kind = "extended", .text = "Eight years of records"});
  c.due.day = D("2026-06-02");
  auto extension = Draft(Letter::kExtension, c, ctx);
  EXPECT_NE(extension.text.find("Eight years of records"), std::string::npos);
  EXPECT_NE(extension.text.find("2 June 2026"), std::string::npos);
  auto clarification = Draft(Letter::kClarification, c, ctx);
  EXPECT_NE(clarification.text.find("[What you need to know"), std::string::npos) << "for the caseworker to fill in";
  for (Letter l : AllLetters()) {
    EXPECT_EQ(ParseLetter(LetterName(l)), l);
    EXPECT_FALSE(Draft(l, c, ctx).subject.empty());
    EXPECT_EQ(Draft(l, c, ctx).subject.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace steward::rights
