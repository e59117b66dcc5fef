// Rights requests through the whole site in process (the demo example): a caseworker records a
// request that came by letter, searches what every module holds about the person (feedback, an
// account, mail), works the clock (a clarification, an extension) and closes it; the queue, the
// figures, the errors a form shows, the permission to see it, and an audit trail that names no
// one. Real SQLite files, or PostgreSQL for the postgresql.* copy.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "core/days.h"
#include "mail/testing/smtp_server.h"
#include "http/server.h"
#include "http/testing/raw_client.h"
#include "in_process_site.h"
#include "retention/retention.h"
#include "rights/actions.h"
#include "rights/calendar.h"
#include "rights/cases.h"
#include "rights/letters.h"
#include "rights/testing/read_zip.h"

namespace steward {
namespace {

using http::testing::Fetch;

class RightsSiteTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(s_.Open("examples/demo.toml", clock_)); }

  std::optional<http::testing::RawResponse> Get(const std::string& target, const std::string& cookie) {
    return Fetch(s_.port(), "GET", target, {{"Cookie", cookie}});
  }
  std::optional<http::testing::RawResponse> Post(const std::string& target, const std::string& body,
                                                 const testing::InProcessSite::Staff& who) {
    return Fetch(s_.port(), "POST", target,
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Sec-Fetch-Site", "same-origin"},
                  {"Cookie", who.cookie}},
                 body + "&csrf_token=" + who.csrf);
  }

  // Today in the UK as the site's clock has it, as date-input fields named `name`.
  std::string DateFields(const std::string& name, int64_t day) {
    std::string t = DayText(day);
    return name + "-day=" + t.substr(8, 2) + "&" + name + "-month=" + t.substr(5, 2) + "&" + name +
           "-year=" + t.substr(0, 4);
  }
  int64_t Today() { return rights::UkDay(clock_.Now()); }

  // 2026-12-04 10:00 UTC, a Friday.
  FakeClock clock_{*ParseRfc3339("2026-12-04T10:00:00Z")};
  testing::InProcessSite s_;
};

TEST_F(RightsSiteTest, ACaseworkerRecordsALetterFindsWhatIsHeldWorksTheClockAndAnswersOnTime) {
  // The person gave feedback with their address and has an account.
  auto feedback = Fetch(
      s_.port(), "POST", "/api/feedback", {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "same-origin"}},
      R"({"kind":"contact","message":"Please call me back","name":"Sam Example","email":"sam@example.org"})");
  ASSERT_TRUE(feedback && feedback->status == 202) << (feedback ? feedback->body : "");
  auto registered = Fetch(s_.port(), "POST", "/account/register",
                          {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "same-origin"}},
                          "email=sam%40example.org&password=purple+tractor+umbrella+sky&name=Sam+Example");
  ASSERT_TRUE(registered && registered->status == 200) << (registered ? registered->body : "");

  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto form = Get("/admin/rights/new", worker.cookie);
  ASSERT_TRUE(form && form->status == 200);
  EXPECT_NE(form->body.find("Record a rights request"), std::string::npos);

  // A letter that arrived on Monday 30 November: due on Wednesday 30 December.
  auto made = Post("/admin/rights/new",
                   "rights=access&rights=erasure&channel=letter&" + DateFields("received", *ParseDay("2026-11-30")) +
                       "&name=Sam+Example&email=Sam%40Example.org&ip=203.0.113.7&identity=known&details=All+you+hold",
                   worker);
  ASSERT_TRUE(made && made->status == 303) << (made ? made->body : "");
  std::string base = made->Header("Location");
  ASSERT_EQ(base.rfind("/admin/rights/", 0), 0u);

  auto page = Get(base, worker.cookie);
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("Access, Erasure"), std::string::npos);
  EXPECT_NE(page->body.find("30 December 2026"), std::string::npos);
  EXPECT_NE(page->body.find("sam@example.org"), std::string::npos);
  EXPECT_NE(page->body.find("ip: 203.0.113.7"), std::string::npos);

  // What every module holds about the person, before anything is done.
  auto found = Post(base + "/search", "", worker);
  ASSERT_TRUE(found && found->status == 200);
  EXPECT_NE(found->body.find("<td class=\"govuk-table__cell\">feedback"), std::string::npos) << found->body;
  EXPECT_NE(found->body.find("<td class=\"govuk-table__cell\">accounts"), std::string::npos);
  EXPECT_NE(found->body.find("Searched what we hold"), std::string::npos);

  // A clarification asked for on 1 December, arriving today: three days added.
  auto stop = Post(base + "/clock", "action=stop&" + DateFields("clock", *ParseDay("2026-12-01")), worker);
  ASSERT_TRUE(stop && stop->status == 303) << (stop ? stop->body : "");
  page = Get(base, worker.cookie);
  EXPECT_NE(page->body.find("waiting for a clarification"), std::string::npos);
  auto start = Post(base + "/clock", "action=start&" + DateFields("clock", Today()), worker);
  ASSERT_TRUE(start && start->status == 303);
  page = Get(base, worker.cookie);
  EXPECT_NE(page->body.find("4 January 2027"), std::string::npos) << "30 December + 3 days, a Saturday";
  EXPECT_NE(page->body.find("A month on is 2 January 2027, a Saturday"), std::string::npos);
  EXPECT_NE(page->body.find("3 day(s) added"), std::string::npos);

  // An extension without a reason is refused at its field; with one, three months from the start.
  auto bare = Post(base + "/extend", "reason=", worker);
  ASSERT_TRUE(bare && bare->status == 400);
  EXPECT_NE(bare->body.find("href=\"#reason\""), std::string::npos);
  auto extended = Post(base + "/extend", "reason=Eight+years+of+records+across+three+systems", worker);
  ASSERT_TRUE(extended && extended->status == 303);
  page = Get(base, worker.cookie);
  EXPECT_NE(page->body.find("3 March 2027"), std::string::npos) << "28 February 2027 + 3 days is a Wednesday";
  EXPECT_NE(page->body.find("Eight years of records"), std::string::npos);

  // Two identifiers leading to the same holding count it once.
  auto sam = *subject::Key::Make(subject::KeyKind::kEmail, "sam@example.org");
  auto once = rights::SurveyKeys(s_.site().subjects(), {sam});
  auto twice = rights::SurveyKeys(s_.site().subjects(), {sam, sam});
  ASSERT_TRUE(once.ok() && twice.ok());
  EXPECT_GT(once->total, 0);
  EXPECT_EQ(twice->total, once->total);

  // The copy: a zip another reader opens, with the person's records and why each is held.
  auto copy = Post(base + "/export", "", worker);
  ASSERT_TRUE(copy && copy->status == 200);
  EXPECT_EQ(copy->Header("Content-Type"), "application/zip");
  std::string unzipped = rights::testing::ReadZip(copy->body);
  EXPECT_NE(unzipped.find("bad: None"), std::string::npos) << unzipped;
  EXPECT_NE(unzipped.find("Please call me back"), std::string::npos) << "the feedback, opened";
  EXPECT_NE(unzipped.find("sam@example.org"), std::string::npos);
  EXPECT_NE(unzipped.find("lawful basis"), std::string::npos) << "index.html says why";
  EXPECT_NE(unzipped.find("records.csv"), std::string::npos);
  EXPECT_NE(unzipped.find("datasets/feedback.json"), std::string::npos);

  // Erasure: confirmed, then every module's, and the search finds nothing of the person after.
  auto unconfirmed = Post(base + "/erase", "", worker);
  ASSERT_TRUE(unconfirmed && unconfirmed->status == 400);
  auto erased = Post(base + "/erase", "confirm=yes", worker);
  ASSERT_TRUE(erased && erased->status == 200) << (erased ? erased->body : "");
  EXPECT_NE(erased->body.find("erased or anonymised"), std::string::npos);
  EXPECT_NE(erased->body.find("<td class=\"govuk-table__cell\">feedback</td>"), std::string::npos) << erased->body;
  EXPECT_NE(erased->body.find("rights-requests: the record of a rights request"), std::string::npos)
      << "the request itself is kept, and says why";
  auto after = Post(base + "/search", "", worker);
  EXPECT_EQ(after->body.find("<td class=\"govuk-table__cell\">feedback"), std::string::npos);
  auto left = s_.site().subjects().Find(*subject::Key::Make(subject::KeyKind::kEmail, "sam@example.org"));
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->findings.size(), 1u) << "only the request";
  EXPECT_EQ(left->findings[0].module, "rights");
  EXPECT_EQ(left->Total(), 1);

  auto assign = Post(base + "/assign", "assignee=" + std::to_string(worker.id), worker);
  ASSERT_TRUE(assign && assign->status == 303);
  auto queue = Get("/admin/rights?show=mine", worker.cookie);
  ASSERT_TRUE(queue && queue->status == 200);
  EXPECT_NE(queue->body.find("worker@example.gov.uk"), std::string::npos);
  EXPECT_NE(queue->body.find("running (extended)"), std::string::npos);

  // A refusal needs its reason; answering closes it on time.
  auto refused = Post(base + "/close", "status=refused&outcome=", worker);
  ASSERT_TRUE(refused && refused->status == 400);
  EXPECT_NE(refused->body.find("Enter why the request is refused"), std::string::npos);
  auto answered = Post(base + "/close", "status=answered&outcome=Sent+the+copy+by+post", worker);
  ASSERT_TRUE(answered && answered->status == 303);
  auto closed = Get("/admin/rights?show=closed", worker.cookie);
  EXPECT_NE(closed->body.find("(on time)"), std::string::npos);
  auto figures = Get("/admin/rights", worker.cookie);
  EXPECT_NE(figures->body.find("No request is open."), std::string::npos);

  // The audit trail has every step by case id, and never the person.
  auto entries = s_.site().trail().List({.limit = 500});
  ASSERT_TRUE(entries.ok());
  std::set<std::string> actions;
  for (const auto& r : *entries) {
    if (r.entry.action.rfind("rights.", 0) != 0) continue;
    actions.insert(r.entry.action);
    for (const auto& [k, v] : r.entry.details) {
      EXPECT_EQ(v.find("example.org"), std::string::npos) << r.entry.action << " " << k;
      EXPECT_EQ(v.find("203.0.113"), std::string::npos) << r.entry.action << " " << k;
    }
  }
  for (const char* a : {"rights.opened", "rights.viewed", "rights.searched", "rights.found", "rights.paused",
                        "rights.resumed", "rights.extended", "rights.assigned", "rights.answered"}) {
    EXPECT_TRUE(actions.count(a)) << a;
  }
}

TEST_F(RightsSiteTest, RestrictionKeepsThePersonsDataOutOfUseUntilItIsLiftedAfterTellingThem) {
  auto feedback = Fetch(s_.port(), "POST", "/api/feedback",
                        {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "same-origin"}},
                        R"({"kind":"contact","message":"My address is wrong","name":"Kim","email":"kim@example.org"})");
  ASSERT_TRUE(feedback && feedback->status == 202);
  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto made = Post(
      "/admin/rights/new",
      "rights=restriction&channel=telephone&" + DateFields("received", Today()) + "&email=kim%40example.org", worker);
  ASSERT_TRUE(made && made->status == 303);
  std::string base = made->Header("Location");
  auto key = *subject::Key::Make(subject::KeyKind::kEmail, "kim@example.org");
  auto restricted = [&] {
    auto found = s_.site().subjects().Find(key);
    bool any = false;
    for (const auto& f : found->findings) {
      for (const auto& h : f.finding.holdings) any = any || (f.module == "feedback" && h.restricted);
    }
    return any;
  };
  // What the partner statistics count of the feedback: the person's message, until restricted.
  const auto& counters = s_.site().platform().counters();
  auto counter =
      std::find_if(counters.begin(), counters.end(), [](const auto& c) { return c.id == "feedback.received"; });
  ASSERT_NE(counter, counters.end());
  auto counted = [&] {
    int n = 0;
    int64_t today = UnixMillis(clock_.Now()) / kDayMillis;
    EXPECT_TRUE(counter->scan(today, today + 1, "", [&](const module::Counted&) { ++n; }).ok());
    return n;
  };
  EXPECT_EQ(counted(), 1);
  EXPECT_FALSE(restricted());
  EXPECT_NE(Get(base, worker.cookie)->body.find("Restrict the person's data"), std::string::npos);
  auto on = Post(base + "/restrict", "action=on", worker);
  ASSERT_TRUE(on && on->status == 303) << (on ? on->body : "");
  EXPECT_TRUE(restricted());
  EXPECT_EQ(counted(), 0) << "someone restricted is not counted";
  auto page = Get(base, worker.cookie);
  EXPECT_NE(page->body.find("Data restricted: kept, not used"), std::string::npos);
  // Lifting it needs the person told first.
  EXPECT_NE(page->body.find("Lift the restriction"), std::string::npos);
  auto untold = Post(base + "/restrict", "action=off", worker);
  ASSERT_TRUE(untold && untold->status == 400);
  EXPECT_NE(untold->body.find("href=\"#told\""), std::string::npos);
  EXPECT_TRUE(restricted());
  auto off = Post(base + "/restrict", "action=off&told=yes", worker);
  ASSERT_TRUE(off && off->status == 303);
  EXPECT_FALSE(restricted());
  EXPECT_NE(Get(base, worker.cookie)->body.find("Restriction lifted"), std::string::npos);
}

TEST_F(RightsSiteTest, ACorrectionReachesEveryModuleThatCanMakeItAndSaysWhomToTell) {
  auto feedback = Fetch(
      s_.port(), "POST", "/api/feedback", {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "same-origin"}},
      R"({"kind":"contact","message":"Please call me back","name":"Sam Exmaple","email":"sam@example.org"})");
  ASSERT_TRUE(feedback && feedback->status == 202);
  auto registered = Fetch(s_.port(), "POST", "/account/register",
                          {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "same-origin"}},
                          "email=sam%40example.org&password=purple+tractor+umbrella+sky&name=Sam+Exmaple");
  ASSERT_TRUE(registered && registered->status == 200);
  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto made = Post("/admin/rights/new",
                   "rights=rectification&channel=email&" + DateFields("received", Today()) +
                       "&email=sam%40example.org&identity=known&details=My+name+is+misspelt",
                   worker);
  ASSERT_TRUE(made && made->status == 303);
  std::string base = made->Header("Location");
  auto page = Get(base, worker.cookie);
  EXPECT_NE(page->body.find("Correct the person's data"), std::string::npos) << page->body;
  EXPECT_NE(page->body.find("<option value=\"user.contact.name\""), std::string::npos);

  auto empty = Post(base + "/rectify", "category=user.contact.name&value=", worker);
  ASSERT_TRUE(empty && empty->status == 400);
  EXPECT_NE(empty->body.find("href=\"#value\""), std::string::npos);
  auto bad = Post(base + "/rectify", "category=user.contact.email&value=not-an-address", worker);
  ASSERT_TRUE(bad && bad->status == 400);

  auto fixed = Post(base + "/rectify", "category=user.contact.name&value=Sam+Example", worker);
  ASSERT_TRUE(fixed && fixed->status == 200) << (fixed ? fixed->body : "");
  EXPECT_NE(fixed->body.find("record(s) corrected"), std::string::npos);
  EXPECT_NE(fixed->body.find("<td class=\"govuk-table__cell\">accounts</td>"), std::string::npos) << fixed->body;
  auto sam = *subject::Key::Make(subject::KeyKind::kEmail, "sam@example.org");
  auto records = s_.site().subjects().Export(sam);
  ASSERT_TRUE(records.ok());
  bool corrected = false, misspelt = false;
  for (const auto& r : *records) {
    for (const auto& f : r.fields) {
      if (f.category != "user.contact.name") continue;
      corrected = corrected || f.value == "Sam Example";
      misspelt = misspelt || (r.dataset != "rights-requests" && f.value == "Sam Exmaple");
    }
  }
  EXPECT_TRUE(corrected);
  EXPECT_FALSE(misspelt) << "every module that holds the name corrected it";
  page = Get(base, worker.cookie);
  EXPECT_NE(page->body.find("Name corrected to &quot;Sam Example&quot;"), std::string::npos) << "in the timeline";
}

TEST_F(RightsSiteTest, ARestrictedVisitorIsNoLongerCountedAndAnUpheldObjectionStopsWhatServesThePurpose) {
  auto chose =
      Fetch(s_.port(), "POST", "/api/consent", {{"Content-Type", "text/plain"}, {"Sec-Fetch-Site", "same-origin"}},
            R"({"additional":"yes","method":"banner"})");
  ASSERT_TRUE(chose && chose->status == 200);
  std::string policy;
  for (const auto& line : chose->Headers("Set-Cookie")) {
    if (line.rfind("cookies_policy=", 0) == 0) policy = line.substr(0, line.find(';'));
  }
  const std::string visitor(32, 'c'), other(32, 'd');
  auto event = [&](const std::string& cookie) {
    return Fetch(s_.port(), "POST", "/api/event",
                 {{"Content-Type", "text/plain"},
                  {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
                  {"Cookie", policy + "; steward_visitor=" + cookie}},
                 R"({"n":"pageview","u":"http://127.0.0.1/careers","d":"127.0.0.1"})");
  };
  auto counted = event(visitor);
  ASSERT_TRUE(counted && counted->status == 202);
  EXPECT_TRUE(counted->Header("x-plausible-dropped").empty()) << "counted before";

  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto made = Post("/admin/rights/new",
                   "rights=restriction&rights=objection&channel=email&" + DateFields("received", Today()) +
                       "&email=visitor%40example.org&visitor_id=" + visitor + "&ip=203.0.113.9&identity=known",
                   worker);
  ASSERT_TRUE(made && made->status == 303) << (made ? made->body : "");
  std::string base = made->Header("Location");
  auto restricted = Post(base + "/restrict", "action=on", worker);
  ASSERT_TRUE(restricted && restricted->status == 303) << (restricted ? restricted->body : "");
  auto after = event(visitor);
  ASSERT_TRUE(after && after->status == 202);
  EXPECT_EQ(after->Header("x-plausible-dropped"), "1") << "kept, not used: nothing more counted";
  auto someone = event(other);
  EXPECT_TRUE(someone->Header("x-plausible-dropped").empty()) << "everyone else is counted";

  // The objection: what rests on legitimate interests (security monitoring of the logs).
  auto page = Get(base, worker.cookie);
  EXPECT_NE(page->body.find("value=\"security\""), std::string::npos) << "legitimate interests";
  EXPECT_EQ(page->body.find("value=\"analytics\""), std::string::npos) << "consent is withdrawn, not objected to";
  auto bare = Post(base + "/object", "decision=refused&purposes=security&objection_reason=", worker);
  ASSERT_TRUE(bare && bare->status == 400);
  EXPECT_NE(bare->body.find("href=\"#objection_reason\""), std::string::npos) << bare->body;
  auto upheld = Post(base + "/object", "decision=upheld&purposes=security", worker);
  ASSERT_TRUE(upheld && upheld->status == 303) << (upheld ? upheld->body : "");
  int64_t marks = -1;
  ASSERT_TRUE(s_.site()
                  .store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        auto rows, c.Query("SELECT COUNT(*) FROM subject_restrictions WHERE module = 'logs'"));
                    marks = rows.front().Int(0);
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(marks, 1) << "the IP address marked in the access logs, though nothing is held yet";
  page = Get(base, worker.cookie);
  EXPECT_NE(page->body.find("Objection upheld"), std::string::npos);
}

TEST_F(RightsSiteTest, TheFormSaysWhatIsWrongAndKeepsWhatWasTyped) {
  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto empty = Post("/admin/rights/new", "received-day=&received-month=&received-year=", worker);
  ASSERT_TRUE(empty && empty->status == 400);
  for (const char* field : {"#rights", "#channel", "#received"}) {
    EXPECT_NE(empty->body.find(std::string("href=\"") + field + "\""), std::string::npos) << field;
  }
  auto bad = Post("/admin/rights/new",
                  "rights=access&channel=telephone&" + DateFields("received", Today()) +
                      "&email=&postal_address=&ip=not-an-address&name=Pat",
                  worker);
  ASSERT_TRUE(bad && bad->status == 400);
  EXPECT_NE(bad->body.find("href=\"#ip\""), std::string::npos);
  EXPECT_NE(bad->body.find("value=\"Pat\""), std::string::npos);
  EXPECT_NE(bad->body.find("value=\"not-an-address\""), std::string::npos);
  // Tomorrow is refused; so is a request with no way to answer it.
  auto future =
      Post("/admin/rights/new",
           "rights=access&channel=telephone&" + DateFields("received", Today() + 1) + "&email=a%40b.org", worker);
  ASSERT_TRUE(future && future->status == 400);
  EXPECT_NE(future->body.find("cannot be in the future"), std::string::npos);
  auto nowhere =
      Post("/admin/rights/new", "rights=access&channel=telephone&" + DateFields("received", Today()), worker);
  ASSERT_TRUE(nowhere && nowhere->status == 400);
  EXPECT_NE(nowhere->body.find("postal address to answer"), std::string::npos);
}

TEST_F(RightsSiteTest, OnlyTheDpoAndCaseworkersSeeRightsRequests) {
  auto analyst = s_.SignedIn("analyst@example.gov.uk", {staff::Role::kAnalyst});
  auto dpo = s_.SignedIn("dpo@example.gov.uk", {staff::Role::kDpo});
  EXPECT_EQ(Get("/admin/rights", analyst.cookie)->status, 403);
  EXPECT_EQ(Get("/admin/rights", dpo.cookie)->status, 200);
  auto home = Get("/admin", dpo.cookie);
  EXPECT_NE(home->body.find("Rights requests"), std::string::npos);
  EXPECT_EQ(Get("/admin/rights/999", dpo.cookie)->status, 404);
}

// A member of the public asks on the National Careers site, with a real SMTP server receiving what
// the mail worker sends.
class YourDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::WriteExample("national-careers.toml", server_.port());
    ASSERT_NO_FATAL_FAILURE(s_.Open(path_, clock_));
    s_.site().StartTasks();
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::vector<nlohmann::json> WaitFor(size_t n) {
    for (int i = 0; i < 200 && server_.Received().size() < n; ++i) {
      clock_.Advance(std::chrono::seconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto all = server_.Received();
    EXPECT_EQ(all.size(), n);
    return all;
  }
  // The first message whose subject holds `subject`, waiting for it as the mail queue sends.
  std::optional<nlohmann::json> WaitForSubject(const std::string& subject) {
    for (int i = 0; i < 300; ++i) {
      for (const auto& m : server_.Received()) {
        if (std::string(m["headers"]["Subject"]).find(subject) != std::string::npos) return m;
      }
      clock_.Advance(std::chrono::seconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no message about " << subject;
    return std::nullopt;
  }
  // Asks at /your-data and opens the emailed link: the case's page path.
  std::string AskAndConfirm(const std::string& body, const std::string& reference) {
    size_t before = server_.Received().size();
    auto asked = Ask(body);
    EXPECT_TRUE(asked && asked->status == 200);
    std::string link;
    for (int i = 0; i < 300 && link.empty(); ++i) {
      auto all = server_.Received();
      for (size_t k = before; k < all.size() && link.empty(); ++k) link = PathIn(Text(all[k]));
      if (link.empty()) {
        clock_.Advance(std::chrono::seconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    auto confirmed = Fetch(s_.port(), "GET", link);
    EXPECT_TRUE(confirmed && confirmed->status == 200);
    EXPECT_NE(confirmed->body.find(reference), std::string::npos);
    return "/admin/rights/" + std::to_string(*rights::Cases::ParseReference(reference));
  }
  std::optional<http::testing::RawResponse> StaffPost(const std::string& target, const std::string& body,
                                                      const testing::InProcessSite::Staff& who) {
    return Fetch(s_.port(), "POST", target,
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Sec-Fetch-Site", "same-origin"},
                  {"Cookie", who.cookie}},
                 body + "&csrf_token=" + who.csrf);
  }
  // The draft on a letter's page, sent as it stands (after `edit`).
  std::optional<http::testing::RawResponse> SendDraft(const std::string& base, const std::string& letter,
                                                      const testing::InProcessSite::Staff& who,
                                                      const std::string& extra,
                                                      std::function<void(std::string&)> edit = nullptr) {
    auto page = Fetch(s_.port(), "GET", base + "/write?letter=" + letter, {{"Cookie", who.cookie}});
    EXPECT_TRUE(page && page->status == 200);
    std::smatch subject, text;
    EXPECT_TRUE(
        std::regex_search(page->body, subject, std::regex("name=\"subject\" type=\"text\" value=\"([^\"]*)\"")));
    EXPECT_TRUE(std::regex_search(page->body, text, std::regex("name=\"text\"[^>]*>([^<]*)</textarea>")));
    std::string body = Unescape(text[1].str());
    if (edit) edit(body);
    return StaffPost(base + "/write",
                     "letter=" + letter + "&subject=" + http::PercentEncode(Unescape(subject[1].str())) +
                         "&text=" + http::PercentEncode(body) + extra,
                     who);
  }
  static std::string Unescape(std::string s) {
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"&#39;", "'"}, {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#x2F;", "/"}, {"&amp;", "&"}}) {
      for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
      }
    }
    return s;
  }
  static std::string Text(const nlohmann::json& m) { return m["parts"][1]["content"]; }
  static std::string PathIn(const std::string& text) {
    std::smatch match;
    if (!std::regex_search(text, match, std::regex("https?://[^/\\s]+(/your-data/confirm/[a-f0-9]+)"))) return "";
    return match[1].str();
  }
  std::optional<http::testing::RawResponse> Ask(const std::string& body, const std::string& cookie = "") {
    std::vector<http::HeaderField> headers = {{"Sec-Fetch-Site", "same-origin"},
                                              {"Content-Type", "application/x-www-form-urlencoded"}};
    if (!cookie.empty()) headers.push_back({"Cookie", cookie});
    return Fetch(s_.port(), "POST", "/your-data", headers, body);
  }
  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(s_.site()
                    .store()
                    .Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
                      n = rows.front().Int(0);
                      return Ok();
                    })
                    .ok());
    return n;
  }

  mail::testing::SmtpServer server_;
  std::string path_;
  FakeClock clock_{*ParseRfc3339("2026-12-04T10:00:00Z")};
  testing::InProcessSite s_;
};

TEST_F(YourDataTest, APersonAsksConfirmsTheirAddressAndIsToldTheReferenceAndTheDueDate) {
  const std::string consent_id(32, 'a');
  auto form = Fetch(s_.port(), "GET", "/your-data");
  ASSERT_TRUE(form && form->status == 200);
  EXPECT_EQ(form->body.find("this browser's cookies"), std::string::npos) << "a browser with no cookie of ours";
  form = Fetch(s_.port(), "GET", "/your-data", {{"Cookie", "steward_consent=" + consent_id}});
  EXPECT_NE(form->body.find("this browser's cookies"), std::string::npos);
  // The privacy notice says it can be done here.
  EXPECT_NE(Fetch(s_.port(), "GET", "/privacy")->body.find("href=\"/your-data\""), std::string::npos);

  auto empty = Ask("name=&email=");
  ASSERT_TRUE(empty && empty->status == 400);
  EXPECT_NE(empty->body.find("href=\"#rights\""), std::string::npos);
  EXPECT_NE(empty->body.find("href=\"#email\""), std::string::npos);
  auto bad = Ask("rights=access&email=not-an-address&name=Lee");
  ASSERT_TRUE(bad && bad->status == 400);
  EXPECT_NE(bad->body.find("value=\"Lee\""), std::string::npos);

  auto asked =
      Ask("rights=access&rights=erasure&name=Lee+Learner&email=Lee%40Example.com&browser=yes&details=All+of+it",
          "steward_consent=" + consent_id);
  ASSERT_TRUE(asked && asked->status == 200) << (asked ? asked->body : "");
  EXPECT_NE(asked->body.find("Check your email"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM rights_cases"), 0) << "nothing is a case until the address is proved";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM rights_pending"), 1);

  auto mails = WaitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["rcpt_tos"][0], "lee@example.com");
  std::string link = PathIn(Text(mails[0]));
  ASSERT_FALSE(link.empty()) << Text(mails[0]);
  EXPECT_NE(Text(mails[0]).find("see what we hold about you and delete what we hold about you"), std::string::npos);

  // Friday 4 December: due Monday 4 January 2027.
  auto confirmed = Fetch(s_.port(), "GET", link);
  ASSERT_TRUE(confirmed && confirmed->status == 200) << (confirmed ? confirmed->body : "");
  EXPECT_NE(confirmed->body.find("R-000001"), std::string::npos);
  EXPECT_NE(confirmed->body.find("4 January 2027"), std::string::npos);
  auto again = Fetch(s_.port(), "GET", link);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404) << "a link works once";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM rights_pending"), 0);

  mails = WaitFor(2);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_NE(std::string(mails[1]["headers"]["Subject"]).find("R-000001"), std::string::npos);
  EXPECT_NE(Text(mails[1]).find("We will answer by 4 January 2027"), std::string::npos);

  // The caseworker sees it, with the browser's reference to search by.
  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto page = Fetch(s_.port(), "GET", "/admin/rights/1", {{"Cookie", worker.cookie}});
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("On the website"), std::string::npos);
  EXPECT_NE(page->body.find("consent-id: " + consent_id), std::string::npos);
  EXPECT_NE(page->body.find("Lee Learner"), std::string::npos);
  EXPECT_NE(page->body.find("Acknowledgement emailed"), std::string::npos);
}

TEST_F(YourDataTest, ALinkNotOpenedWithinADayLeadsNowhereAndTheRequestGoes) {
  auto asked = Ask("rights=access&email=late%40example.com");
  ASSERT_TRUE(asked && asked->status == 200);
  auto mails = WaitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  std::string link = PathIn(Text(mails[0]));
  clock_.Advance(std::chrono::hours(25));
  auto late = Fetch(s_.port(), "GET", link);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 404);
  EXPECT_NE(late->body.find("This link has expired"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM rights_cases"), 0);
  // Retention deletes what was never confirmed.
  retention::Runner runner(s_.site().store(), s_.site().trail(), clock_, s_.site().reg(),
                           app::AllStorage(s_.config(), &s_.site().trail()));
  ASSERT_TRUE(runner.Run(false).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM rights_pending"), 0);
}

// Done when: on the National Careers example a person asks for a copy and then for erasure; the
// caseworker sees both due dates, extends one with a reason (the person told by email), sends the
// copy through a link only the person can open, and erases; the DPO's page shows both answered on
// time.
TEST_F(YourDataTest, NationalCareersAnswersACopyAndAnErasureOnTime) {
  std::string copy_case = AskAndConfirm("rights=access&name=Lee+Learner&email=lee%40example.com", "R-000001");
  std::string erase_case = AskAndConfirm("rights=erasure&name=Lee+Learner&email=lee%40example.com", "R-000002");
  auto dpo = s_.SignedIn("dpo@example.gov.uk", {staff::Role::kDpo});

  // Both in the queue, due on Monday 4 January 2027.
  auto queue = Fetch(s_.port(), "GET", "/admin/rights", {{"Cookie", dpo.cookie}});
  ASSERT_TRUE(queue && queue->status == 200);
  EXPECT_NE(queue->body.find("R-000001"), std::string::npos);
  EXPECT_NE(queue->body.find("R-000002"), std::string::npos);
  EXPECT_NE(queue->body.find("4 January 2027"), std::string::npos);

  // The copy needs longer: extended with the reason, and the caseworker is taken to the letter.
  auto extended = StaffPost(copy_case + "/extend", "reason=Records+held+by+three+area+contractors", dpo);
  ASSERT_TRUE(extended && extended->status == 303);
  EXPECT_EQ(extended->Header("Location"), copy_case + "/write?letter=extension");
  auto told = SendDraft(copy_case, "extension", dpo, "&by=email");
  ASSERT_TRUE(told && told->status == 303) << (told ? told->body : "");
  auto extension = WaitForSubject("We need more time for your request: R-000001");
  ASSERT_TRUE(extension);
  EXPECT_EQ((*extension)["rcpt_tos"][0], "lee@example.com");
  EXPECT_NE(Text(*extension).find("Records held by three area contractors"), std::string::npos);
  EXPECT_NE(Text(*extension).find("We will now answer by 4 March 2027"), std::string::npos) << Text(*extension);

  // A draft still holding what the caseworker must fill in is not sent.
  auto unfilled = SendDraft(copy_case, "answer", dpo, "&by=email", [](std::string& t) { t += "\n[Say what]"; });
  ASSERT_TRUE(unfilled && unfilled->status == 400);
  EXPECT_NE(unfilled->body.find("square brackets"), std::string::npos);

  // The copy: not without the review, and not without the link's place.
  auto unread = SendDraft(copy_case, "copy", dpo, "&by=email");
  ASSERT_TRUE(unread && unread->status == 400);
  EXPECT_NE(unread->body.find("href=\"#reviewed\""), std::string::npos);
  auto linkless = SendDraft(copy_case, "copy", dpo, "&by=email&reviewed=yes", [](std::string& t) {
    t.replace(t.find(rights::kLinkPlaceholder), rights::kLinkPlaceholder.size(), "");
  });
  ASSERT_TRUE(linkless && linkless->status == 400);
  auto sent = SendDraft(copy_case, "copy", dpo, "&by=email&reviewed=yes");
  ASSERT_TRUE(sent && sent->status == 303) << (sent ? sent->body : "");
  auto copy_mail = WaitForSubject("A copy of your data: R-000001");
  ASSERT_TRUE(copy_mail);
  std::smatch match;
  std::string copy_text = Text(*copy_mail);
  ASSERT_TRUE(std::regex_search(copy_text, match, std::regex("https?://[^/\\s]+(/your-data/copy/[a-f0-9]{48})")))
      << copy_text;
  std::string link = match[1].str();

  // Only the person opens it: another address is refused, theirs downloads the zip.
  auto form = Fetch(s_.port(), "GET", link);
  ASSERT_TRUE(form && form->status == 200);
  EXPECT_NE(form->body.find("Download a copy of your data"), std::string::npos);
  auto post = [&](const std::string& email) {
    return Fetch(s_.port(), "POST", link,
                 {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "same-origin"}},
                 "email=" + http::PercentEncode(email));
  };
  auto wrong = post("someone@example.com");
  ASSERT_TRUE(wrong && wrong->status == 400);
  EXPECT_EQ(wrong->Header("Content-Type").find("zip"), std::string::npos);
  auto zip = post("Lee@Example.com");
  ASSERT_TRUE(zip && zip->status == 200);
  EXPECT_EQ(zip->Header("Content-Type"), "application/zip");
  EXPECT_EQ(zip->Header("Cache-Control"), "no-store");
  std::string unzipped = rights::testing::ReadZip(zip->body);
  EXPECT_NE(unzipped.find("bad: None"), std::string::npos) << unzipped;
  EXPECT_NE(unzipped.find("R-000001"), std::string::npos);
  EXPECT_NE(unzipped.find("lee@example.com"), std::string::npos);
  auto closed = StaffPost(copy_case + "/close", "status=answered&outcome=Copy+sent+and+downloaded", dpo);
  ASSERT_TRUE(closed && closed->status == 303);

  // Erasure: every module's, the requests themselves kept as the law's record.
  auto erased = StaffPost(erase_case + "/erase", "confirm=yes", dpo);
  ASSERT_TRUE(erased && erased->status == 200) << (erased ? erased->body : "");
  EXPECT_NE(erased->body.find("Kept by law"), std::string::npos);
  auto gone = Fetch(s_.port(), "GET", link);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404) << "the copy went with the erasure";
  closed = StaffPost(erase_case + "/close", "status=answered&outcome=Erased", dpo);
  ASSERT_TRUE(closed && closed->status == 303);

  // The DPO's page: both answered on time.
  auto done = Fetch(s_.port(), "GET", "/admin/rights?show=closed", {{"Cookie", dpo.cookie}});
  ASSERT_TRUE(done && done->status == 200);
  EXPECT_NE(done->body.find("R-000001"), std::string::npos);
  EXPECT_NE(done->body.find("R-000002"), std::string::npos);
  EXPECT_EQ(done->body.find("(late)"), std::string::npos) << done->body;
  auto figures = Fetch(s_.port(), "GET", "/admin/rights", {{"Cookie", dpo.cookie}});
  EXPECT_NE(figures->body.find("Answered on time</dt><dd class=\"govuk-summary-list__value\">2<"), std::string::npos)
      << figures->body;
  EXPECT_NE(figures->body.find("Answered late</dt><dd class=\"govuk-summary-list__value\">0<"), std::string::npos);
  auto timeline = Fetch(s_.port(), "GET", copy_case, {{"Cookie", dpo.cookie}});
  EXPECT_NE(timeline->body.find("Copy downloaded by the person"), std::string::npos);
  EXPECT_NE(timeline->body.find("Tell the person of the extension (by email)"), std::string::npos);
}

TEST_F(YourDataTest, CaseworkersAreRemindedAWeekBeforeTheDueDate) {
  std::string base = AskAndConfirm("rights=access&email=lee%40example.com", "R-000001");
  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto assigned = StaffPost(base + "/assign", "assignee=" + std::to_string(worker.id), worker);
  ASSERT_TRUE(assigned && assigned->status == 303) << (assigned ? assigned->body : "");
  // Due Monday 4 January 2027: a week before is 28 December.
  clock_.Set(*ParseRfc3339("2026-12-28T09:00:00Z"));
  auto reminder = WaitForSubject("Rights request R-000001 is due on 4 January 2027");
  ASSERT_TRUE(reminder);
  EXPECT_EQ((*reminder)["rcpt_tos"][0], "worker@example.gov.uk");
  EXPECT_EQ(Text(*reminder).find("lee@example.com"), std::string::npos) << "names no requester";
  EXPECT_NE(Text(*reminder).find("/admin/rights/1"), std::string::npos);
}

TEST_F(YourDataTest, ASignedInAccountHolderAsksWithoutALinkAndTheirAccountIsSearched) {
  std::string person =
      "name=Sam+Taylor&date-of-birth-day=1&date-of-birth-month=6&date-of-birth-year=2001"
      "&email=sam%40example.org&password=" +
      http::PercentEncode("correct horse battery");
  auto made = Fetch(s_.port(), "POST", "/account/register",
                    {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "same-origin"}}, person);
  ASSERT_TRUE(made && made->status == 200) << (made ? made->body : "");
  std::string confirm;
  for (int i = 0; i < 300 && confirm.empty(); ++i) {
    for (const auto& m : server_.Received()) {
      std::smatch match;
      std::string text = Text(m);
      if (std::regex_search(text, match, std::regex("https?://[^/\\s]+(/account/confirm/[A-Za-z0-9]+)"))) {
        confirm = match[1].str();
      }
    }
    if (confirm.empty()) {
      clock_.Advance(std::chrono::seconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_FALSE(confirm.empty());
  ASSERT_EQ(Fetch(s_.port(), "GET", confirm)->status, 200);
  auto in = Fetch(s_.port(), "POST", "/account/sign-in",
                  {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "same-origin"}},
                  "email=sam%40example.org&password=" + http::PercentEncode("correct horse battery"));
  ASSERT_TRUE(in && in->status == 303);
  std::string cookie = in->Header("Set-Cookie").substr(0, in->Header("Set-Cookie").find(';'));

  auto form = Fetch(s_.port(), "GET", "/your-data", {{"Cookie", cookie}});
  ASSERT_TRUE(form && form->status == 200);
  EXPECT_NE(form->body.find("You are signed in"), std::string::npos);
  EXPECT_NE(form->body.find("sam@example.org"), std::string::npos);
  EXPECT_NE(form->body.find("value=\"Sam Taylor\""), std::string::npos) << "the account's name";
  std::smatch match;
  ASSERT_TRUE(std::regex_search(form->body, match, std::regex("name=\"csrf_token\" value=\"([a-f0-9]+)\"")));
  std::string csrf = match[1].str();

  std::vector<http::HeaderField> headers = {
      {"Sec-Fetch-Site", "same-origin"}, {"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookie}};
  auto forged = Fetch(s_.port(), "POST", "/your-data", headers,
                      "rights=erasure&name=Sam+Taylor&csrf_token=" + std::string(64, '0'));
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403) << "the session's token, or nothing";
  auto asked = Fetch(s_.port(), "POST", "/your-data", headers,
                     "rights=access&name=Sam+Taylor&email=someone-else%40example.org&csrf_token=" + csrf);
  ASSERT_TRUE(asked && asked->status == 200) << (asked ? asked->body : "");
  EXPECT_NE(asked->body.find("R-000001"), std::string::npos) << "a case at once, no link";
  EXPECT_NE(asked->body.find("4 January 2027"), std::string::npos) << "the month from today";
  auto ack = WaitForSubject("We have your request: R-000001");
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["rcpt_tos"][0], "sam@example.org") << "the account's address, not one typed";

  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto page = Fetch(s_.port(), "GET", "/admin/rights/1", {{"Cookie", worker.cookie}});
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("account: accounts:"), std::string::npos) << "the account is searched";
  EXPECT_EQ(page->body.find("someone-else"), std::string::npos);
}

}  // namespace
}  // namespace steward
