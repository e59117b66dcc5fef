// Subscriptions through the whole site in process, on the Hantsweb and Civil Service examples, with
// a real SMTP server (aiosmtpd) receiving what the workers send: sign up on the form, confirm from
// the received email, a message published through the API, the one-click unsubscribe taken from
// the received header and posted as a mail provider would; a username and password that open the
// subscriber's page; the staff page behind its permission.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "analytics/api_keys.h"
#include "http/testing/raw_client.h"
#include "in_process_site.h"
#include "mail/testing/smtp_server.h"

namespace steward {
namespace {

using http::testing::Fetch;
using nlohmann::json;

// The example's site file with its relay on the test server's port and its web folder absolute.
class SubscriptionsSiteTest : public ::testing::Test {
 protected:
  void Open(const std::string& example) {
    path_ = testing::WriteExample(example, server_.port());
    ASSERT_NO_FATAL_FAILURE(s_.Open(path_, clock_));
    s_.site().StartTasks();
  }
  void TearDown() override {
    if (!path_.empty()) std::filesystem::remove(path_);
  }

  // Runs the site's clock until the server has received `n` messages in all; returns them.
  std::vector<json> WaitFor(size_t n) {
    for (int i = 0; i < 200 && server_.Received().size() < n; ++i) {
      clock_.Advance(std::chrono::seconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto all = server_.Received();
    EXPECT_EQ(all.size(), n);
    return all;
  }

  static std::string Text(const json& m) { return m["parts"][1]["content"]; }
  // The path of the first link in `text` to `prefix` ("/subscriptions/confirm/").
  static std::string PathIn(const std::string& text, const std::string& prefix) {
    std::smatch match;
    if (!std::regex_search(text, match, std::regex("https?://[^/\\s]+(" + prefix + "[A-Za-z0-9.\\-]+)"))) return "";
    return match[1].str();
  }

  std::optional<http::testing::RawResponse> Form(const std::string& target, const std::string& body,
                                                 std::vector<http::HeaderField> headers = {
                                                     {"Sec-Fetch-Site", "same-origin"}}) {
    headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    return Fetch(s_.port(), "POST", target, headers, body);
  }

  // Signs `email` up to `topics` on the form and confirms from the email received. Returns the
  // path of the subscriber's page.
  std::string SubscribeAndConfirm(const std::string& email, const std::string& topics, size_t received_before) {
    auto r = Form("/subscriptions", "email=" + http::PercentEncode(email) + "&" + topics + "&frequency=immediately");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    EXPECT_NE(r->body.find("Check your email"), std::string::npos);
    auto mails = WaitFor(received_before + 1);
    if (mails.size() != received_before + 1) return "";
    std::string confirm = PathIn(Text(mails.back()), "/subscriptions/confirm/");
    EXPECT_FALSE(confirm.empty()) << Text(mails.back());
    auto page = Fetch(s_.port(), "GET", confirm);
    EXPECT_TRUE(page && page->status == 200);
    EXPECT_NE(page->body.find("You have subscribed"), std::string::npos);
    std::smatch match;
    EXPECT_TRUE(std::regex_search(page->body, match, std::regex("action=\"(/subscriptions/manage/[^\"]+)\"")));
    return match.size() > 1 ? match[1].str() : "";
  }

  mail::testing::SmtpServer server_;
  std::string path_;
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  steward::testing::InProcessSite s_;
};

TEST_F(SubscriptionsSiteTest, HantswebSubscribeConfirmGetAMessageAndUnsubscribeInOneClick) {
  ASSERT_NO_FATAL_FAILURE(Open("hantsweb.toml"));
  auto form = Fetch(s_.port(), "GET", "/subscriptions");
  ASSERT_TRUE(form && form->status == 200);
  EXPECT_NE(form->body.find("Roads and travel"), std::string::npos);
  // Refused with a reason, and nothing sent: no topic, a bad address.
  auto bad = Form("/subscriptions", "email=not-an-address&topics=roads&frequency=immediately");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("Enter an email address in the correct format"), std::string::npos);
  auto none = Form("/subscriptions", "email=resident%40example.com&frequency=immediately");
  EXPECT_EQ(none->status, 400);
  // Another site's page cannot sign anyone up.
  auto cross = Form("/subscriptions", "email=resident%40example.com&topics=roads&frequency=immediately",
                    {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(cross->status, 403);

  std::string manage = SubscribeAndConfirm("resident@example.com", "topics=roads&topics=schools", 0);
  ASSERT_FALSE(manage.empty());

  // A CMS publishes to the topic with a key of scope "topics".
  auto* keys = s_.site().services().Find<analytics::ApiKeys>();
  ASSERT_NE(keys, nullptr);
  auto key = keys->Create("Website CMS", "cli", "", "topics");
  ASSERT_TRUE(key.ok());
  auto refused = Fetch(s_.port(), "POST", "/api/topics/roads/messages", {{"Content-Type", "application/json"}},
                       R"({"subject": "x", "body": "y"})");
  EXPECT_EQ(refused->status, 401);
  auto published = Fetch(s_.port(), "POST", "/api/topics/roads/messages",
                         {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key->secret}},
                         R"({"subject": "Winter gritting starts tonight", "body": "Gritters go out at 6pm."})");
  ASSERT_TRUE(published);
  EXPECT_EQ(published->status, 202) << published->body;
  auto mails = WaitFor(2);
  ASSERT_EQ(mails.size(), 2u);
  const json& m = mails[1];
  EXPECT_EQ(m["headers"]["Subject"], "Winter gritting starts tonight");
  EXPECT_EQ(m["rcpt_tos"], json::array({"resident@example.com"}));
  EXPECT_EQ(m["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
  std::string header = m["headers"]["List-Unsubscribe"];
  std::smatch match;
  ASSERT_TRUE(std::regex_search(header, match, std::regex("<https?://[^/]+(/subscriptions/unsubscribe/[^>]+)>")))
      << header;
  std::string unsubscribe = match[1].str();

  // A scanner's GET unsubscribes nobody: it shows a button.
  auto get = Fetch(s_.port(), "GET", unsubscribe);
  ASSERT_TRUE(get && get->status == 200);
  EXPECT_NE(get->body.find("Roads and travel"), std::string::npos);
  EXPECT_EQ(s_.site().reg().datasets.empty(), false);
  // The mail provider's POST (RFC 8058): no Origin, no cookie, the body as the RFC gives it.
  auto post = Form(unsubscribe, "List-Unsubscribe=One-Click", {});
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 200) << post->body;
  EXPECT_NE(post->body.find("You have unsubscribed"), std::string::npos);
  // Schools stays; the subscriber's page says so.
  auto page = Fetch(s_.port(), "GET", manage);
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("value=\"schools\" checked"), std::string::npos);
  EXPECT_EQ(page->body.find("value=\"roads\" checked"), std::string::npos);
  // A second one-click on the same link changes nothing more and fails no one.
  EXPECT_EQ(Form(unsubscribe, "List-Unsubscribe=One-Click", {})->status, 200);
  auto metrics = Fetch(s_.port(), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("steward_subscriptions_total{event=\"confirmed\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("steward_subscriptions_total{event=\"unsubscribed\"} 1"), std::string::npos);
  EXPECT_EQ(metrics->body.find("resident@"), std::string::npos);
}

TEST_F(SubscriptionsSiteTest, ARestrictedSubscriberIsKeptButNotMailed) {
  ASSERT_NO_FATAL_FAILURE(Open("demo.toml"));
  ASSERT_FALSE(SubscribeAndConfirm("kept@example.com", "topics=service-news", 0).empty());
  ASSERT_FALSE(SubscribeAndConfirm("mailed@example.com", "topics=service-news", 1).empty());
  // A rights request restricts the first one's data: kept, not used (UK GDPR Article 18).
  auto kept = *subject::Key::Make(subject::KeyKind::kEmail, "kept@example.com");
  auto restricted = s_.site().subjects().Restrict(kept, true, {.actor = "staff:1", .reference = "rights:1"});
  ASSERT_TRUE(restricted.ok()) << restricted.error().message;
  EXPECT_GT(*restricted, 0);

  auto* keys = s_.site().services().Find<analytics::ApiKeys>();
  ASSERT_NE(keys, nullptr);
  auto key = keys->Create("Website CMS", "cli", "", "topics");
  ASSERT_TRUE(key.ok());
  auto published = Fetch(s_.port(), "POST", "/api/topics/service-news/messages",
                         {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key->secret}},
                         R"({"subject": "The service is moving", "body": "From Monday it is at a new address."})");
  ASSERT_TRUE(published && published->status == 202) << (published ? published->body : "");
  auto mails = WaitFor(3);
  ASSERT_EQ(mails.size(), 3u);
  EXPECT_EQ(mails[2]["rcpt_tos"], json::array({"mailed@example.com"}));
  // Nothing more arrives for the restricted subscriber.
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(std::chrono::seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(server_.Received().size(), 3u);
  // Lifted, they are mailed again.
  ASSERT_TRUE(s_.site().subjects().Restrict(kept, false, {.actor = "staff:1", .reference = "rights:1"}).ok());
  published = Fetch(s_.port(), "POST", "/api/topics/service-news/messages",
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key->secret}},
                    R"({"subject": "The move is done", "body": "We are at the new address."})");
  ASSERT_TRUE(published && published->status == 202);
  mails = WaitFor(5);
  ASSERT_EQ(mails.size(), 5u);
}

TEST_F(SubscriptionsSiteTest, CivilServiceSubscriberSignsInWithAUsernameAndChangesTopics) {
  ASSERT_NO_FATAL_FAILURE(Open("civil-service.toml"));
  std::string manage = SubscribeAndConfirm("applicant@example.com", "topics=news", 0);
  ASSERT_FALSE(manage.empty());
  auto weak = Form(manage, "action=credentials&username=applicant&password=short");
  ASSERT_TRUE(weak);
  EXPECT_EQ(weak->status, 400);
  EXPECT_NE(weak->body.find("at least 12 characters"), std::string::npos);
  auto set = Form(
      manage, "action=credentials&username=applicant&password=" + http::PercentEncode("a sensible long passphrase"));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, 200) << set->body;
  EXPECT_NE(set->body.find("Your username and password are set"), std::string::npos);

  auto wrong = Form("/subscriptions/sign-in", "username=applicant&password=not+the+passphrase");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_NE(wrong->body.find("The username or password is not right"), std::string::npos);
  auto in = Form("/subscriptions/sign-in",
                 "username=Applicant&password=" + http::PercentEncode("a sensible long passphrase"));
  ASSERT_TRUE(in);
  ASSERT_EQ(in->status, 303) << in->body;
  std::string session(in->Header("Location"));
  ASSERT_EQ(session.rfind("/subscriptions/manage/s.", 0), 0u) << session;
  auto changed = Form(session, "action=update&topics=jobs&frequency=weekly");
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 200) << changed->body;
  EXPECT_NE(changed->body.find("Your subscriptions are updated"), std::string::npos);
  EXPECT_NE(changed->body.find("value=\"jobs\" checked"), std::string::npos);
  EXPECT_EQ(changed->body.find("value=\"news\" checked"), std::string::npos);
  EXPECT_NE(changed->body.find("value=\"weekly\" checked"), std::string::npos);
  // The session link lasts an hour.
  clock_.Advance(std::chrono::minutes(61));
  EXPECT_EQ(Fetch(s_.port(), "GET", session)->status, 404);
}

TEST_F(SubscriptionsSiteTest, TheStaffPageNeedsTheCommunicationsPermission) {
  ASSERT_NO_FATAL_FAILURE(Open("hantsweb.toml"));
  auto caseworker = s_.SignedIn("case@hants.gov.uk", {staff::Role::kCaseworker});
  EXPECT_EQ(Fetch(s_.port(), "GET", "/admin/subscriptions", {{"Cookie", caseworker.cookie}})->status, 403);
  auto comms = s_.SignedIn("comms@hants.gov.uk", {staff::Role::kCommunications});
  auto page = Fetch(s_.port(), "GET", "/admin/subscriptions", {{"Cookie", comms.cookie}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200) << page->body;
  EXPECT_NE(page->body.find("Subscribers by topic"), std::string::npos);
  std::string draft = "csrf_token=" + comms.csrf + "&topic=council-news&subject=Budget+agreed&body=" +
                      http::PercentEncode("The budget for 2027 was agreed today.");
  auto preview = Fetch(s_.port(), "POST", "/admin/subscriptions/preview",
                       {{"Cookie", comms.cookie}, {"Content-Type", "application/x-www-form-urlencoded"}}, draft);
  ASSERT_TRUE(preview);
  EXPECT_EQ(preview->status, 200);
  EXPECT_NE(preview->body.find("Check your message"), std::string::npos);
  auto test = Fetch(s_.port(), "POST", "/admin/subscriptions/test",
                    {{"Cookie", comms.cookie}, {"Content-Type", "application/x-www-form-urlencoded"}}, draft);
  EXPECT_EQ(test->status, 200);
  auto mails = WaitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["rcpt_tos"], json::array({"comms@hants.gov.uk"}));
  EXPECT_EQ(mails[0]["headers"]["Subject"], "[Test] Budget agreed");
  auto sent = Fetch(s_.port(), "POST", "/admin/subscriptions/send",
                    {{"Cookie", comms.cookie}, {"Content-Type", "application/x-www-form-urlencoded"}}, draft);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->status, 200);
  EXPECT_NE(sent->body.find("Budget agreed"), std::string::npos) << "the send is listed";
}

}  // namespace
}  // namespace steward
