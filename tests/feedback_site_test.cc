// Feedback through the whole site in process (the Civil Service example, whose register lets a
// person allow sharing): the forms with and without errors, "Is this page useful?" on every page,
// the API's answers, and what is kept. Real SQLite files, or PostgreSQL for the postgresql.* copy.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/days.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>

#include "analytics/api_keys.h"
#include "app/modules.h"
#include "app/site.h"
#include "http/server.h"
#include "http/testing/raw_client.h"
#include "retention/retention.h"
#include "in_process_site.h"
#include "store/testing/scratch.h"
#include "subject/subject.h"

namespace steward {
namespace {

namespace fs = std::filesystem;
using http::testing::Fetch;
using subject::Key;
using subject::KeyKind;

class FeedbackSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(s_.Open("examples/civil-service.toml", clock_, [](config::Config& c) {
      c.site.script_origins = {"https://www.civilservice.gov.uk"};
    }));
  }

  std::optional<http::testing::RawResponse> Get(const std::string& target) { return Fetch(s_.port(), "GET", target); }
  std::optional<http::testing::RawResponse> PostForm(const std::string& body,
                                                     const std::string& fetch_site = "same-origin") {
    return Fetch(s_.port(), "POST", "/feedback",
                 {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", fetch_site}}, body);
  }
  std::optional<http::testing::RawResponse> PostApi(const std::string& json, const std::string& origin = "") {
    std::vector<http::HeaderField> headers = {{"Content-Type", "application/json"}};
    if (origin.empty()) {
      headers.push_back({"Sec-Fetch-Site", "same-origin"});
    } else {
      headers.push_back({"Origin", origin});
    }
    return Fetch(s_.port(), "POST", "/api/feedback", headers, json);
  }
  // The form's hidden timer, as the page gave it.
  static std::string Started(const std::string& html) {
    std::smatch m;
    if (!std::regex_search(html, m, std::regex(R"re(name="started" value="([0-9a-f.]+)")re"))) return "";
    return m[1];
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

  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  steward::testing::InProcessSite s_;
};

TEST_F(FeedbackSiteTest, EveryPublicPageAsksWhetherItIsUsefulAndCountsTheAnswer) {
  auto page = Get("/privacy");
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("Is this page useful?"), std::string::npos);
  EXPECT_NE(page->body.find(R"(href="/feedback?kind=problem&amp;page=%2Fprivacy")"), std::string::npos);
  std::string started = Started(page->body);
  ASSERT_FALSE(started.empty());
  auto yes = PostForm("kind=useful&page=%2Fprivacy&useful=yes&started=" + started);
  ASSERT_TRUE(yes);
  EXPECT_EQ(yes->status, 200);
  EXPECT_NE(yes->body.find("Thank you for your feedback"), std::string::npos);
  ASSERT_EQ(PostForm("kind=useful&page=%2Fprivacy&useful=no&started=" + started)->status, 200);
  EXPECT_EQ(Count("SELECT yes FROM feedback_usefulness WHERE page = '/privacy'"), 1);
  EXPECT_EQ(Count("SELECT no FROM feedback_usefulness WHERE page = '/privacy'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items"), 0) << "answers are counted, not kept";
  // A yes/no this site did not show is not counted; another site's post is refused.
  ASSERT_EQ(PostForm("kind=useful&page=%2Fprivacy&useful=yes")->status, 200);
  EXPECT_EQ(Count("SELECT yes FROM feedback_usefulness WHERE page = '/privacy'"), 1);
  EXPECT_EQ(PostForm("kind=useful&page=%2Fprivacy&useful=yes&started=" + started, "cross-site")->status, 403);
}

TEST_F(FeedbackSiteTest, TheContactFormSaysWhatToCorrectThenKeepsItWithPermissionToShare) {
  auto form = Get("/feedback");
  ASSERT_TRUE(form && form->status == 200);
  EXPECT_NE(form->body.find("You may share my feedback with Other government departments and Our technology "
                            "suppliers"),
            std::string::npos)
      << "the register's consent recipients";
  EXPECT_NE(form->body.find("Kept for audit purposes after we have replied"), std::string::npos)
      << "what is kept and for how long, from the register";
  EXPECT_NE(form->body.find(R"(name="giraffe")"), std::string::npos);
  std::string started = Started(form->body);
  clock_.Advance(std::chrono::seconds(30));
  // A name without an email address, and no message: GOV.UK's error summary, what was typed kept.
  auto bad = PostForm("kind=contact&reply=yes&name=Jo+Bloggs&message=&started=" + started);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("There is a problem"), std::string::npos);
  EXPECT_NE(bad->body.find(R"(<a href="#message">Enter your message</a>)"), std::string::npos);
  EXPECT_NE(bad->body.find("Enter your email address"), std::string::npos);
  EXPECT_NE(bad->body.find(R"(value="Jo Bloggs")"), std::string::npos);
  EXPECT_NE(bad->body.find("<title>Error: Contact us"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items"), 0);

  auto good = PostForm(
      "kind=contact&page=%2Fjobs&reply=yes&name=Jo+Bloggs&email=jo%40example.org&share=yes&message=Where+are+the+"
      "jobs%3F+Call+07700+900123&started=" +
      started);
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
  EXPECT_NE(good->body.find("We'll reply to the email address you gave us."), std::string::npos);
  EXPECT_NE(good->body.find("We took out personal details"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items WHERE share = 1 AND status = 'new'"), 1);
  // A second person, without permission and without wanting a reply.
  ASSERT_EQ(PostForm("kind=contact&message=Anonymous+remark&started=" + started)->status, 200);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items WHERE share = 0 AND subject_id IS NOT NULL"), 1);

  auto records = s_.site().subjects().Export(*Key::Make(KeyKind::kEmail, "jo@example.org"));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  std::string all;
  for (const auto& f : (*records)[0].fields) all += f.value + "|";
  EXPECT_NE(all.find("Where are the jobs? Call [telephone number removed]"), std::string::npos) << all;
  EXPECT_EQ(all.find("07700"), std::string::npos);
}

TEST_F(FeedbackSiteTest, AFormSentFasterThanAPersonTypesOrWithTheHoneypotIsSpam) {
  std::string started = Started(Get("/feedback?kind=problem&page=/jobs")->body);
  ASSERT_EQ(PostForm("kind=problem&page=%2Fjobs&doing=applying&wrong=it+broke&started=" + started)->status, 200);
  clock_.Advance(std::chrono::seconds(10));
  ASSERT_EQ(PostForm("kind=problem&page=%2Fjobs&doing=a&wrong=b&giraffe=x&started=" + started)->status, 200);
  ASSERT_EQ(PostForm("kind=problem&page=%2Fjobs&doing=a2&wrong=b2&started=123.forged")->status, 200);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items WHERE status = 'spam'"), 3);
  ASSERT_EQ(PostForm("kind=problem&page=%2Fjobs&doing=paying&wrong=it+failed&started=" + started)->status, 200);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items WHERE status = 'new'"), 1);
}

TEST_F(FeedbackSiteTest, APlainFormOnTheSitesOtherPagesMayPostHere) {
  auto from = [&](const std::string& origin, const std::string& body) {
    return Fetch(s_.port(), "POST", "/feedback",
                 {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", origin}}, body);
  };
  // No timer to carry from another origin: kept; a forged one is still spam; others are refused.
  EXPECT_EQ(from("https://www.civilservice.gov.uk", "kind=contact&message=From+the+main+site")->status, 200);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items WHERE status = 'new'"), 1);
  EXPECT_EQ(from("https://www.civilservice.gov.uk", "kind=contact&message=x&started=1.forged")->status, 200);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items WHERE status = 'spam'"), 1);
  EXPECT_EQ(from("https://elsewhere.example", "kind=contact&message=hi")->status, 403);
}

TEST_F(FeedbackSiteTest, TheApiAnswersEachFieldAndTheSitesOriginsOnly) {
  auto ok = PostApi(R"({"kind":"rating","rating":4,"message":"Quick and clear","page":"/done"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202);
  EXPECT_EQ(nlohmann::json::parse(ok->body)["status"], "stored");
  auto useful = PostApi(R"({"kind":"useful","useful":false,"page":"/a?email=jo@example.org"})");
  EXPECT_EQ(useful->status, 202);
  EXPECT_EQ(nlohmann::json::parse(useful->body)["status"], "counted");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_usefulness WHERE page = '/a?email=[email]'"), 1);

  auto errors = PostApi(R"({"kind":"contact","message":"","name":"Jo"})");
  ASSERT_EQ(errors->status, 400);
  auto j = nlohmann::json::parse(errors->body);
  EXPECT_EQ(j["errors"]["message"], "Enter your message");
  EXPECT_TRUE(j["errors"].contains("email"));
  EXPECT_EQ(PostApi(R"({"kind":"rating","rating":"4"})")->status, 400);
  EXPECT_EQ(PostApi(R"({"kind":"complaint"})")->status, 400);
  EXPECT_EQ(PostApi(R"([1,2,3])")->status, 400);
  EXPECT_EQ(PostApi("{not json")->status, 400);
  auto long_text = PostApi(R"({"kind":"contact","message":")" + std::string(1251, 'a') + R"("})");
  EXPECT_EQ(long_text->status, 400);
  EXPECT_EQ(PostApi(R"({"kind":"contact","message":"hi"})", "https://elsewhere.example")->status, 403);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM feedback_items"), 1) << "only the rating was kept";
}

// What the feedback module counts for partner statistics: kind, rating and outcome of what was kept,
// never spam (tests/rights_site_test.cc: nor anyone restricted).
TEST_F(FeedbackSiteTest, StatisticsCountWhatWasKeptByKindRatingAndOutcome) {
  ASSERT_EQ(PostApi(R"({"kind":"rating","rating":5,"message":"Clear"})")->status, 202);
  ASSERT_EQ(PostApi(R"({"kind":"rating","rating":2})")->status, 202);
  ASSERT_EQ(PostApi(R"({"kind":"contact","message":"A question","name":"Jo Bloggs","email":"jo@example.org"})")->status,
            202);
  ASSERT_EQ(PostForm("kind=contact&message=Buy+now&giraffe=x")->status, 200);
  ASSERT_EQ(Count("SELECT COUNT(*) FROM feedback_items WHERE status = 'spam'"), 1);
  const auto& counters = s_.site().platform().counters();
  auto counter =
      std::find_if(counters.begin(), counters.end(), [](const auto& c) { return c.id == "feedback.received"; });
  ASSERT_NE(counter, counters.end());
  int64_t today = UnixMillis(clock_.Now()) / kDayMillis;
  auto count = [&](const std::string& by) {
    std::map<std::string, int> out;
    EXPECT_TRUE(counter->scan(today, today + 1, by, [&](const module::Counted& r) { ++out[r.category]; }).ok());
    return out;
  };
  EXPECT_EQ(count("kind"), (std::map<std::string, int>{{"Messages", 1}, {"Ratings", 2}}));
  EXPECT_EQ(count("rating"),
            (std::map<std::string, int>{{"Very satisfied", 1}, {"Dissatisfied", 1}, {"No rating", 1}}));
  EXPECT_EQ(count("outcome"), (std::map<std::string, int>{{"Not yet read", 3}}));
}

// The ONS example: a social-media tool posts direct messages with a key of scope "messages".
class MessagesApiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(s_.Open("examples/ons.toml", clock_)); }
  std::optional<http::testing::RawResponse> Post(const std::string& json, const std::string& key) {
    std::vector<http::HeaderField> headers = {{"Content-Type", "application/json"}};
    if (!key.empty()) headers.push_back({"Authorization", "Bearer " + key});
    return Fetch(s_.port(), "POST", "/api/messages", headers, json);
  }
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  steward::testing::InProcessSite s_;
};

TEST_F(MessagesApiTest, AKeyScopedToMessagesPostsThemAndNothingElseDoes) {
  auto* keys = s_.site().services().Find<analytics::ApiKeys>();
  ASSERT_NE(keys, nullptr);
  auto messages_key = keys->Create("Social media tool", "staff:1", "", "messages");
  auto stats_key = keys->Create("Dashboard", "staff:1");
  ASSERT_TRUE(messages_key.ok() && stats_key.ok());
  const std::string one =
      R"({"channel":"x","handle":"@someone","text":"When is the GDP release?","time":"2026-11-30T14:05:00Z"})";
  auto none = Post(one, "");
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->Header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(Post(one, stats_key->secret)->status, 401) << "a Stats API key cannot post messages";
  auto ok = Post(one, messages_key->secret);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202) << ok->body;
  EXPECT_EQ(nlohmann::json::parse(ok->body)["stored"], 1);
  // A batch with one bad message keeps none of them, and says which.
  auto bad = Post(R"({"messages":[)" + one + R"(,{"channel":"x","handle":"a","text":"t","time":"soon"}]})",
                  messages_key->secret);
  ASSERT_EQ(bad->status, 400);
  auto j = nlohmann::json::parse(bad->body);
  EXPECT_EQ(j["errors"][0]["index"], 1);
  EXPECT_EQ(bad->body.find("soon"), std::string::npos) << "never the value";
  EXPECT_EQ(Post(R"({"messages":[]})", messages_key->secret)->status, 400);
  // The Stats API does not take the messages key either.
  auto query = Fetch(s_.port(), "POST", "/api/v2/query",
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + messages_key->secret}},
                     R"({"site_id":"ons.gov.uk","metrics":["visitors"],"date_range":"7d"})");
  EXPECT_EQ(query->status, 401);
  auto found = s_.site().subjects().Find(*Key::Make(KeyKind::kHandle, "x:someone"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->Total(), 1);
}

TEST_F(MessagesApiTest, AMessagePostedIsInTheCaseworkersInboxAndGoneAfterThreeMonths) {
  auto* keys = s_.site().services().Find<analytics::ApiKeys>();
  auto key = keys->Create("Social media tool", "staff:1", "", "messages");
  ASSERT_TRUE(key.ok());
  auto posted = Post(R"({"channel":"x","handle":"@someone","text":"When is the GDP release?",)"
                     R"("time":"2027-01-15T07:55:00Z","link":"https://x.com/i/1"})",
                     key->secret);
  ASSERT_EQ(posted->status, 202) << posted->body;
  auto caseworker = s_.SignedIn("case@example.gov.uk", {staff::Role::kCaseworker});
  auto get = [&](const std::string& path) { return Fetch(s_.port(), "GET", path, {{"Cookie", caseworker.cookie}}); };
  // The inbox lists it without what was written or who wrote it.
  auto inbox = get("/admin/feedback");
  ASSERT_EQ(inbox->status, 200);
  EXPECT_NE(inbox->body.find("message (x)"), std::string::npos);
  EXPECT_NE(inbox->body.find("href=\"/admin/feedback/messages/1\""), std::string::npos);
  EXPECT_EQ(inbox->body.find("GDP release"), std::string::npos);
  EXPECT_EQ(inbox->body.find("@someone"), std::string::npos);
  EXPECT_NE(get("/admin/feedback?kind=message")->body.find("message (x)"), std::string::npos);
  EXPECT_EQ(get("/admin/feedback?kind=contact")->body.find("message (x)"), std::string::npos);
  // Its page opens it for the caseworker, on the record.
  auto page = get("/admin/feedback/messages/1");
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("@someone"), std::string::npos);
  EXPECT_NE(page->body.find("When is the GDP release?"), std::string::npos);
  EXPECT_EQ(s_.site().trail().List({.action = "messages.viewed"})->size(), 1u);
  EXPECT_EQ(get("/admin/feedback/messages/2")->status, 404);
  // Taken on, with a note; the note is sealed and the trail says only that one was written.
  auto post = [&](const std::string& body) {
    return Fetch(s_.port(), "POST", "/admin/feedback/messages/1",
                 {{"Cookie", caseworker.cookie}, {"Content-Type", "application/x-www-form-urlencoded"}},
                 "csrf_token=" + caseworker.csrf + "&" + body);
  };
  EXPECT_EQ(post("status=in-progress&assignee=staff:999&assignee_was=")->status, 400) << "not a caseworker";
  EXPECT_EQ(post("status=in-progress&assignee=&note=" + std::string(2001, 'a'))->status, 400);
  auto saved = post("status=in-progress&assignee=staff:" + std::to_string(caseworker.id) +
                    "&assignee_was=&note=Asked+the+GDP+team");
  ASSERT_EQ(saved->status, 303);
  page = get("/admin/feedback/messages/1");
  EXPECT_NE(page->body.find("Asked the GDP team"), std::string::npos);
  EXPECT_NE(page->body.find("case@example.gov.uk (you)"), std::string::npos);
  auto triaged = s_.site().trail().List({.action = "messages.triaged"});
  ASSERT_EQ(triaged->size(), 1u);
  for (const auto& [k, v] : triaged->at(0).entry.details) EXPECT_EQ(v.find("GDP"), std::string::npos) << k;
  EXPECT_NE(get("/admin/feedback?status=in-progress")->body.find("case@example.gov.uk"), std::string::npos);
  // ONS keeps messages 3 months: past that, on the fake clock, retention takes it.
  clock_.Advance(std::chrono::hours(24 * 93));
  retention::Runner runner(s_.site().store(), s_.site().trail(), clock_, s_.site().reg(),
                           app::AllStorage(s_.config(), &s_.site().trail()));
  ASSERT_TRUE(runner.Run(false).ok());
  caseworker = s_.SignedIn("case2@example.gov.uk", {staff::Role::kCaseworker});  // the first session has expired
  EXPECT_EQ(get("/admin/feedback/messages/1")->status, 404);
  EXPECT_EQ(get("/admin/feedback?kind=message")->body.find("message (x)"), std::string::npos);
  EXPECT_EQ(s_.site().subjects().Find(*Key::Make(KeyKind::kHandle, "x:someone"))->Total(), 0);
}

}  // namespace
}  // namespace steward
