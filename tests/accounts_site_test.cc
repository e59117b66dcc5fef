// Citizen accounts through the whole site in process, on the National Careers example, with a real
// SMTP server (aiosmtpd) receiving what the mail worker sends: a person registers on the form,
// ticking the survey box and not the equality box, confirms from the received email and signs in;
// an adviser finds them and records equality information with their agreement; the person sees
// it, withdraws the survey consent, downloads their data and closes the account; only the declared
// minimum remains, restricted, until the fake clock passes six years.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "analytics/api_keys.h"
#include "app/modules.h"
#include "http/testing/raw_client.h"
#include "in_process_site.h"
#include "mail/testing/smtp_server.h"
#include "retention/retention.h"
#include "subject/subject.h"

namespace steward {
namespace {

using http::testing::Fetch;
using nlohmann::json;
using subject::Key;
using subject::KeyKind;

class AccountsSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::WriteExample("national-careers.toml", server_.port());
    ASSERT_NO_FATAL_FAILURE(s_.Open(path_, clock_));
    s_.site().StartTasks();
  }
  void TearDown() override { std::filesystem::remove(path_); }

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
  static std::string PathIn(const std::string& text, const std::string& prefix) {
    std::smatch match;
    if (!std::regex_search(text, match, std::regex("https?://[^/\\s]+(" + prefix + "[a-f0-9]+)"))) return "";
    return match[1].str();
  }
  std::optional<http::testing::RawResponse> Post(const std::string& target, const std::string& body,
                                                 const std::string& cookie = "") {
    std::vector<http::HeaderField> headers = {{"Sec-Fetch-Site", "same-origin"},
                                              {"Content-Type", "application/x-www-form-urlencoded"}};
    if (!cookie.empty()) headers.push_back({"Cookie", cookie});
    return Fetch(s_.port(), "POST", target, headers, body);
  }
  std::optional<http::testing::RawResponse> Get(const std::string& target, const std::string& cookie = "") {
    std::vector<http::HeaderField> headers;
    if (!cookie.empty()) headers.push_back({"Cookie", cookie});
    return Fetch(s_.port(), "GET", target, headers);
  }
  static std::string Csrf(const std::string& body) {
    std::smatch match;
    if (!std::regex_search(body, match, std::regex("name=\"csrf_token\" value=\"([a-f0-9]+)\""))) return "";
    return match[1].str();
  }

  mail::testing::SmtpServer server_;
  std::string path_;
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  steward::testing::InProcessSite s_;
};

TEST_F(AccountsSiteTest, NationalCareersCustomerRegistersIsHelpedByAnAdviserAndClosesTheAccount) {
  auto form = Get("/account/register");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200);
  EXPECT_NE(form->body.find("Contact me for customer satisfaction surveys"), std::string::npos);
  EXPECT_EQ(form->body.find("checked"), std::string::npos) << "no box is ticked for the person";

  // Too young: refused, nothing kept.
  std::string person =
      "name=Sam+Taylor&date-of-birth-day=1&date-of-birth-month=6&date-of-birth-year=2016"
      "&email=sam%40example.org&password=" +
      http::PercentEncode("correct horse battery");
  auto young = Post("/account/register", person);
  ASSERT_TRUE(young);
  EXPECT_EQ(young->status, 403);
  EXPECT_NE(young->body.find("We have not kept anything you typed"), std::string::npos);

  person = std::regex_replace(person, std::regex("2016"), "2001") + "&phone=07700+900123&consents=surveys";
  auto registered = Post("/account/register", person);
  ASSERT_TRUE(registered);
  EXPECT_EQ(registered->status, 200) << registered->body;
  EXPECT_NE(registered->body.find("Check your email"), std::string::npos);
  auto mails = WaitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  std::string confirm = PathIn(Text(mails[0]), "/account/confirm/");
  ASSERT_FALSE(confirm.empty()) << Text(mails[0]);
  auto confirmed = Get(confirm);
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(confirmed->status, 200);
  EXPECT_NE(confirmed->body.find("Your email address is confirmed"), std::string::npos);

  auto in =
      Post("/account/sign-in", "email=sam%40example.org&password=" + http::PercentEncode("correct horse battery"));
  ASSERT_TRUE(in);
  ASSERT_EQ(in->status, 303) << in->body;
  std::string set_cookie(in->Header("Set-Cookie"));
  ASSERT_EQ(set_cookie.rfind("steward_account=", 0), 0u) << set_cookie;
  std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  auto home = Get("/account", cookie);
  ASSERT_TRUE(home);
  ASSERT_EQ(home->status, 200) << home->body;
  EXPECT_NE(home->body.find("Sam Taylor"), std::string::npos);
  EXPECT_NE(home->body.find("ticked the box when registering"), std::string::npos);

  // An adviser finds the customer and records the equality information with their agreement.
  auto adviser = s_.SignedIn("adviser@example.gov.uk", {staff::Role::kCaseworker});
  auto found = Get("/admin/customers?email=sam%40example.org", adviser.cookie);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->status, 200) << found->body;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(found->body, match, std::regex("href=\"(/admin/customers/[0-9]+)\"")));
  std::string customer = match[1].str();
  auto recorded =
      Post(customer + "/consents",
           "csrf_token=" + adviser.csrf + "&box=equality&action=give&how=telephone&ethnicity=White", adviser.cookie);
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->status, 200) << recorded->body;
  EXPECT_NE(recorded->body.find("consent is recorded"), std::string::npos);
  EXPECT_NE(recorded->body.find("Special category information"), std::string::npos) << "hidden until asked";
  auto shown = Post(customer + "/special", "csrf_token=" + adviser.csrf, adviser.cookie);
  ASSERT_TRUE(shown);
  EXPECT_NE(shown->body.find(">White<"), std::string::npos);
  EXPECT_EQ(s_.site().trail().List({.action = "account.special_viewed"})->size(), 1u);
  // Another permission does not open the adviser's pages.
  auto analyst = s_.SignedIn("analyst@example.gov.uk", {staff::Role::kAnalyst});
  EXPECT_EQ(Get(customer, analyst.cookie)->status, 403);

  // The person sees what the adviser did, and withdraws the survey consent.
  home = Get("/account", cookie);
  EXPECT_NE(home->body.find("An adviser"), std::string::npos);
  EXPECT_NE(home->body.find("told an adviser by telephone"), std::string::npos);
  std::string csrf = Csrf(home->body);
  ASSERT_FALSE(csrf.empty());
  EXPECT_EQ(Post("/account/consents", "box=surveys&action=withdraw", cookie)->status, 403) << "no CSRF token";
  auto withdrawn = Post("/account/consents", "csrf_token=" + csrf + "&box=surveys&action=withdraw", cookie);
  ASSERT_TRUE(withdrawn);
  EXPECT_EQ(withdrawn->status, 200) << withdrawn->body;
  EXPECT_NE(withdrawn->body.find("You have withdrawn your consent"), std::string::npos);

  // The person's data, as JSON.
  auto download = Get("/account/download?format=json", cookie);
  ASSERT_TRUE(download);
  ASSERT_EQ(download->status, 200);
  auto data = json::parse(download->body);
  bool ethnicity = false;
  for (const auto& r : data["records"]) {
    for (const auto& f : r["fields"]) ethnicity = ethnicity || f["value"] == "White";
  }
  EXPECT_TRUE(ethnicity);

  // Closing: the person is told what is kept, why and until when.
  auto closed = Post("/account/close", "csrf_token=" + csrf, cookie);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, 200) << closed->body;
  EXPECT_NE(closed->body.find("Your account is closed"), std::string::npos);
  mails = WaitFor(2);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[1]["headers"]["Subject"], "Your account is closed");
  EXPECT_NE(Text(mails[1]).find("except your full name"), std::string::npos) << Text(mails[1]);
  EXPECT_EQ(Get("/account", cookie)->status, 303);
  EXPECT_EQ(Get(customer, adviser.cookie)->status, 404) << "restricted: no one acts on it";

  Key email = *Key::Make(KeyKind::kEmail, "sam@example.org");
  auto held = s_.site().subjects().Find(email);
  ASSERT_TRUE(held.ok());
  std::set<std::string> datasets;  // found by the address and by the account it links to
  for (const auto& f : held->findings) {
    if (f.module != "accounts") continue;
    for (const auto& h : f.finding.holdings) {
      datasets.insert(h.dataset);
      EXPECT_TRUE(h.restricted);
    }
  }
  EXPECT_EQ(datasets, std::set<std::string>{"payment-records"});

  // Six years on, retention takes the minimum.
  auto run = [&] {
    retention::Runner runner(s_.site().store(), s_.site().trail(), clock_, s_.site().reg(),
                             app::AllStorage(s_.config(), &s_.site().trail()));
    ASSERT_TRUE(runner.Run(false).ok());
  };
  clock_.Advance(std::chrono::hours(24 * (365 * 6 - 1)));
  run();
  EXPECT_FALSE(s_.site().subjects().Find(email)->findings.empty());
  clock_.Advance(std::chrono::hours(24 * 5));
  run();
  auto after = s_.site().subjects().Find(email);
  ASSERT_TRUE(after.ok());
  for (const auto& f : after->findings) EXPECT_NE(f.module, "accounts");
}

TEST_F(AccountsSiteTest, APartnerRefersACustomerWhoIsEmailedWhatWeHoldAndWhy) {
  auto* keys = s_.site().services().Find<analytics::ApiKeys>();
  ASSERT_NE(keys, nullptr);
  auto jobcentre = keys->Create("Jobcentre Plus", "staff:1", "", "referrals");
  auto stats = keys->Create("Dashboard", "staff:1", "", "stats");
  ASSERT_TRUE(jobcentre.ok() && stats.ok());
  auto refer = [&](const std::string& key, const std::string& body) {
    std::vector<http::HeaderField> headers = {{"Content-Type", "application/json"}};
    if (!key.empty()) headers.push_back({"Authorization", "Bearer " + key});
    return Fetch(s_.port(), "POST", "/api/referrals", headers, body);
  };
  std::string body =
      R"({"email":"Referred@Example.org","details":{"name":"Alex Referred","date-of-birth":"1994-02-03","phone":"07700 900456"}})";
  EXPECT_EQ(refer("", body)->status, 401);
  EXPECT_EQ(refer(stats->secret, body)->status, 401) << "a key of another scope";
  auto bad =
      refer(jobcentre->secret,
            R"({"email":"x@example.org","details":{"name":"A","date-of-birth":"1994-02-03","ethnicity":"White"}})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("ethnicity"), std::string::npos) << "a partner cannot agree for the person";
  EXPECT_EQ(refer(jobcentre->secret, R"({"email":"x@example.org","password":"p"})")->status, 400);
  EXPECT_EQ(refer(jobcentre->secret, "not json")->status, 400);
  auto young =
      refer(jobcentre->secret, R"({"email":"y@example.org","details":{"name":"A","date-of-birth":"2018-02-03"}})");
  EXPECT_EQ(young->status, 422);

  auto ok = refer(jobcentre->secret, body);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202) << ok->body;
  auto mails = WaitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["rcpt_tos"][0], "referred@example.org");
  EXPECT_EQ(mails[0]["headers"]["Subject"], "We have your details from Jobcentre Plus");
  std::string text = Text(mails[0]);
  // Article 14 from the National Careers register: who, what, from whom, why, recipients, how long, rights.
  for (const char* part : {"Jobcentre Plus has given us your details", "Department for Education", "date of birth",
                           "Where it came from: Jobcentre Plus", "Who we share it with: ", "How long we keep it: ",
                           "ask for a copy", "Information Commissioner", "/account/password/", "/privacy"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  }
  // The adviser sees the referral and that the customer was told.
  auto adviser = s_.SignedIn("adviser@example.gov.uk", {staff::Role::kCaseworker});
  auto found = Get("/admin/customers?email=referred%40example.org", adviser.cookie);
  std::smatch match;
  ASSERT_TRUE(std::regex_search(found->body, match, std::regex("href=\"(/admin/customers/[0-9]+)\"")));
  auto page = Get(match[1].str(), adviser.cookie);
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("Referred by Jobcentre Plus"), std::string::npos);
  EXPECT_NE(page->body.find("was emailed what we hold and why"), std::string::npos);
  // The person takes the account on from the link, and sees who referred them.
  std::string link = PathIn(text, "/account/password/");
  ASSERT_FALSE(link.empty());
  auto set = Post(link, "password=" + http::PercentEncode("correct horse battery"));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, 200) << set->body;
  auto in =
      Post("/account/sign-in", "email=referred%40example.org&password=" + http::PercentEncode("correct horse battery"));
  ASSERT_TRUE(in);
  ASSERT_EQ(in->status, 303);
  std::string cookie = in->Header("Set-Cookie").substr(0, in->Header("Set-Cookie").find(';'));
  auto home = Get("/account", cookie);
  ASSERT_TRUE(home);
  EXPECT_NE(home->body.find("A partner organisation"), std::string::npos);
  EXPECT_NE(home->body.find("Referred you to us: Jobcentre Plus"), std::string::npos);
  EXPECT_NE(home->body.find("Emailed you what we hold and why"), std::string::npos);
}

}  // namespace
}  // namespace steward
