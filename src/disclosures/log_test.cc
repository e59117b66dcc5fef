#include "disclosures/log.h"

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "core/days.h"
#include "store/testing/scratch.h"
#include "subjects/subjects.h"

namespace steward::disclosures {
namespace {

using subject::Key;
using subject::KeyKind;

std::vector<store::Migration> AllMigrations() {
  std::vector<store::Migration> all = audit::Migrations();
  for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
  for (auto& m : Log::Migrations()) all.push_back(m);
  return all;
}

class DisclosureLogTest : public ::testing::Test {
 protected:
  DisclosureLogTest()
      : site_(AllMigrations()),
        clock_(*ParseRfc3339("2026-11-02T10:00:00Z")),
        trail_(site_.store(), site_.key(), clock_),
        log_(site_.store(), trail_, site_.key(), clock_) {}

  int64_t RecordOne(const Actor& by = {.id = "staff:1"}) {
    auto id = log_.Record({.requester = "Metropolitan Police Service",
                           .their_reference = "MPS/2026/1234",
                           .basis = Basis::kCrimeAndTaxation,
                           .received = *ParseDay("2026-11-01"),
                           .basis_detail = "A fraud investigation; form DP2 signed by an inspector",
                           .people = {*Key::Make(KeyKind::kEmail, "Suspect@Example.org")},
                           .asked = "Account details and sign-in times from March to June"},
                          by);
    EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error().message);
    return id.ok() ? *id : 0;
  }

  store::testing::ScratchSite site_;
  FakeClock clock_;
  audit::Trail trail_;
  Log log_;
};

TEST_F(DisclosureLogTest, ASecondPersonMustApproveTheDecision) {
  int64_t id = RecordOne({.id = "staff:1"});
  // Nothing to approve before a decision.
  EXPECT_EQ(log_.Approve(id, true, "", {.id = "staff:3"}).error().code, ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(log_.Decide(id, Decision::kDisclose, "Necessary for the investigation named; limited to the account",
                          {"customer-records"}, {.id = "staff:2"})
                  .ok());
  // Neither the one who recorded it nor the one who decided may approve.
  EXPECT_EQ(log_.Approve(id, true, "", {.id = "staff:1"}).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(log_.Approve(id, true, "", {.id = "staff:2"}).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(log_.Get(id)->status, "awaiting-approval");
  // Nothing can be given yet.
  EXPECT_EQ(log_.MarkDisclosed(id, "secure email", 3, {.id = "staff:2"}).error().code, ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(log_.Approve(id, true, "", {.id = "staff:3"}).ok());
  auto d = log_.Get(id);
  EXPECT_EQ(d->status, "approved");
  EXPECT_EQ(d->approved_by, "staff:3");
  ASSERT_TRUE(log_.MarkDisclosed(id, "secure email to the officer", 3, {.id = "staff:2"}).ok());
  d = log_.Get(id);
  EXPECT_EQ(d->status, "disclosed");
  EXPECT_EQ(d->disclosed_records, 3);
  EXPECT_TRUE(d->Closed());
  // The refused approvals are on the record too.
  auto denied = trail_.List({.action = "disclosure.approved"});
  ASSERT_TRUE(denied.ok());
  int refused = 0;
  for (const auto& r : *denied) refused += r.entry.outcome == "denied";
  EXPECT_EQ(refused, 2);
}

TEST_F(DisclosureLogTest, SentBackItIsDecidedAgainAndARefusalApprovedCloses) {
  int64_t id = RecordOne();
  ASSERT_TRUE(log_.Decide(id, Decision::kDisclose, "Needed", {"customer-records"}, {.id = "staff:2"}).ok());
  EXPECT_EQ(log_.Approve(id, false, "", {.id = "staff:3"}).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(log_.Approve(id, false, "The form is not signed by an inspector", {.id = "staff:3"}).ok());
  auto d = log_.Get(id);
  EXPECT_EQ(d->status, "awaiting-decision");
  EXPECT_FALSE(d->decision);
  EXPECT_EQ(d->note, "The form is not signed by an inspector");
  // A refusal needs no datasets; approved, it closes.
  EXPECT_EQ(log_.Decide(id, Decision::kDisclose, "Needed", {}, {.id = "staff:2"}).error().code,
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(log_.Decide(id, Decision::kRefuse, "No signed form after asking", {}, {.id = "staff:2"}).ok());
  ASSERT_TRUE(log_.Approve(id, true, "", {.id = "staff:3"}).ok());
  EXPECT_EQ(log_.Get(id)->status, "refused");
}

TEST_F(DisclosureLogTest, ThePeopleAreFoundByHashAndSealed) {
  int64_t id = RecordOne();
  auto about = log_.About({*Key::Make(KeyKind::kEmail, "suspect@example.org")});
  ASSERT_TRUE(about.ok());
  EXPECT_EQ(*about, std::vector<int64_t>{id});
  EXPECT_TRUE(log_.About({*Key::Make(KeyKind::kEmail, "someone@example.org")})->empty());
  auto d = log_.Get(id);
  ASSERT_EQ(d->people.size(), 1u);
  EXPECT_EQ(d->people[0].value(), "suspect@example.org");
  EXPECT_EQ(d->asked, "Account details and sign-in times from March to June");
  // The address is nowhere in the database in the clear.
  auto conn = site_.database().Connect();
  for (const char* sql : {"SELECT people FROM disclosures", "SELECT asked FROM disclosures",
                          "SELECT person_hash FROM disclosure_people"}) {
    auto rows = conn->Query(sql);
    ASSERT_TRUE(rows.ok());
    for (const auto& r : *rows) {
      std::string text =
          std::holds_alternative<store::Blob>(r.at(0)) ? std::get<store::Blob>(r.at(0)).bytes : r.Text(0);
      EXPECT_EQ(text.find("suspect"), std::string::npos) << sql;
      EXPECT_EQ(text.find("March"), std::string::npos) << sql;
    }
  }
}

TEST_F(DisclosureLogTest, ARequestSaysWhatIsMissing) {
  NewRequest r{.requester = "", .basis = Basis::kCourtOrder, .asked = "x"};
  EXPECT_EQ(log_.Record(r, {.id = "staff:1"}).error().message.rfind("requester:", 0), 0u);
  r.requester = "The Crown Court";
  EXPECT_EQ(log_.Record(r, {.id = "staff:1"}).error().message.rfind("basis_detail:", 0), 0u);
  r.basis_detail = "Order 123";
  EXPECT_EQ(log_.Record(r, {.id = "staff:1"}).error().message.rfind("people:", 0), 0u);
  auto people = ParsePeople("jo@example.org\n\n07700 900123\naccount:accounts:12\nnonsense here");
  ASSERT_FALSE(people.ok());
  EXPECT_EQ(people.error().message.rfind("people: line 5", 0), 0u) << people.error().message;
  people = ParsePeople("jo@example.org\n07700 900123\naccount:accounts:12\nJO@example.org");
  ASSERT_TRUE(people.ok());
  EXPECT_EQ(people->size(), 3u);
  EXPECT_EQ((*people)[1].kind(), KeyKind::kTelephone);
  EXPECT_EQ(Log::ParseReference("D-000012"), 12);
  EXPECT_EQ(Log::Reference(12), "D-000012");
}

TEST_F(DisclosureLogTest, AClosedRequestGoesAfterTheRetentionAnOpenOneNever) {
  int64_t open = RecordOne();
  int64_t closed = RecordOne();
  ASSERT_TRUE(log_.Decide(closed, Decision::kRefuse, "Not necessary", {}, {.id = "staff:2"}).ok());
  ASSERT_TRUE(log_.Approve(closed, true, "", {.id = "staff:3"}).ok());
  auto storage = Log::Storage();
  auto purged = site_.store().Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        int64_t n, storage.purge(c, processing::Dataset{}, "2099-01-01T00:00:00Z", "2099-01-01T00:00:00Z", false, 0));
    EXPECT_EQ(n, 1);
    return Ok();
  });
  ASSERT_TRUE(purged.ok());
  EXPECT_TRUE(log_.Get(open).ok());
  EXPECT_EQ(log_.Get(closed).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(log_.About({*Key::Make(KeyKind::kEmail, "suspect@example.org")})->size() == 1);
}

}  // namespace
}  // namespace steward::disclosures
