// A change to the privacy notice that affects people, through the whole site in process (the
// National Careers example): the new register staged while the old one is served, read and
// published by a person with the DPO role for a day to come, the banner on public pages and the
// notice to come at /privacy/next, and the account holders emailed what changes (received by the
// test SMTP server), on the fake clock. Real SQLite files, or PostgreSQL for the postgresql.* copy.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <fstream>
#include <thread>

#include "accounts/accounts.h"
#include "changes/changes.h"
#include "config/config.h"
#include "core/days.h"
#include "http/testing/raw_client.h"
#include "in_process_site.h"
#include "mail/testing/smtp_server.h"

namespace steward {
namespace {

using http::testing::Fetch;

class NoticeChangeSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::WriteExample("national-careers.toml", server_.port());
    ASSERT_NO_FATAL_FAILURE(s_.Open(path_, clock_));
    s_.site().StartTasks();
  }
  void TearDown() override {
    std::filesystem::remove(path_);
    if (!next_path_.empty()) std::filesystem::remove(next_path_);
  }

  // The next site file: the same, with a new purpose (a change that affects people).
  processing::Register NextRegister() {
    std::ifstream in(path_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text += R"(
[[register.purposes]]
id = "outcomes-research"
description = "Research with universities into what careers advice leads to"
lawful_basis = "public-task"
)";
    next_path_ = path_ + ".next.toml";
    std::ofstream(next_path_) << text;
    std::vector<std::string> tables = app::ModuleTables();
    auto config = config::Load(next_path_, &tables);
    EXPECT_TRUE(config.ok()) << config.error().message;
    auto reg = processing::FromDocument(*config->document);
    EXPECT_TRUE(reg.ok());
    return *reg;
  }

  std::vector<nlohmann::json> WaitForMail(size_t n) {
    for (int i = 0; i < 300 && server_.Received().size() < n; ++i) {
      clock_.Advance(std::chrono::seconds(5));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return server_.Received();
  }

  mail::testing::SmtpServer server_;
  std::string path_, next_path_;
  FakeClock clock_{*ParseRfc3339("2026-12-04T10:00:00Z")};
  testing::InProcessSite s_;
};

TEST_F(NoticeChangeSiteTest, AMaterialChangeIsPublishedWithABannerAndEmailsBeforeItTakesEffect) {
  // Two account holders, made by an adviser.
  auto settings = accounts::ReadSettings(*s_.config().document, s_.site().reg());
  ASSERT_TRUE(settings.ok() && *settings);
  module::Platform& p = s_.site().platform();
  accounts::Accounts accounts(p.store, p.trail, p.key, clock_, std::move(**settings), nullptr, std::nullopt, p.base_url,
                              "National Careers Service");
  for (const char* email : {"ana@example.org", "ben@example.org"}) {
    ASSERT_TRUE(accounts
                    .CreateForCustomer(email, {{"name", "A Customer"}, {"date-of-birth", "1990-05-01"}}, "in-person",
                                       accounts::Actor{.id = "staff:1"})
                    .ok());
  }
  // Staged while the old register is served: the public notice does not change.
  auto staged = changes::StageRegister(p.store, p.trail, clock_, s_.config().site, NextRegister(), "cli");
  ASSERT_TRUE(staged.ok()) << staged.error().message;
  EXPECT_TRUE(processing::AnyMaterial(*staged));
  EXPECT_EQ(Fetch(s_.port(), "GET", "/privacy/next")->status, 404) << "not before it is published";
  EXPECT_EQ(Fetch(s_.port(), "GET", "/")->body.find("changing our privacy notice"), std::string::npos);

  auto dpo = s_.SignedIn("dpo@example.gov.uk", {staff::Role::kDpo});
  auto page = Fetch(s_.port(), "GET", "/admin/notice", {{"Cookie", dpo.cookie}});
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("Research with universities"), std::string::npos) << page->body;
  EXPECT_NE(page->body.find("Affects people"), std::string::npos);
  auto publish = [&](const std::string& day) {
    return Fetch(s_.port(), "POST", "/admin/notice/publish",
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Sec-Fetch-Site", "same-origin"},
                  {"Cookie", dpo.cookie}},
                 day + "&csrf_token=" + dpo.csrf);
  };
  auto refused = publish("effective-day=1&effective-month=12&effective-year=2026");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << "a day gone";
  // The day refused comes back as it was typed, its three fields marked, as GOV.UK's date input does.
  for (const char* field :
       {R"(id="effective" name="effective-day" type="text" inputmode="numeric" value="1")",
        R"(id="effective-month" name="effective-month" type="text" inputmode="numeric" value="12")",
        R"(id="effective-year" name="effective-year" type="text" inputmode="numeric" value="2026")"}) {
    EXPECT_NE(refused->body.find(std::string("govuk-input--error\" ") + field), std::string::npos) << field;
  }
  EXPECT_NE(refused->body.find(R"(href="#effective")"), std::string::npos) << "the summary links to the day's field";
  auto published = publish("effective-day=4&effective-month=1&effective-year=2027");
  ASSERT_TRUE(published && published->status == 303) << (published ? published->body : "");

  // The banner on public pages, and the notice to come.
  auto home = Fetch(s_.port(), "GET", "/");
  EXPECT_NE(home->body.find("We are changing our privacy notice on 4 January 2027"), std::string::npos);
  auto next = Fetch(s_.port(), "GET", "/privacy/next");
  ASSERT_TRUE(next && next->status == 200);
  EXPECT_NE(next->body.find("Research with universities"), std::string::npos);
  EXPECT_EQ(Fetch(s_.port(), "GET", "/privacy")->body.find("Research with universities"), std::string::npos)
      << "the notice in force is the old one until the new site file is in place";

  // Each account holder is emailed once, with what affects them.
  auto mail = WaitForMail(2);
  ASSERT_EQ(mail.size(), 2u);
  std::set<std::string> to;
  for (const auto& m : mail) {
    EXPECT_EQ(m["headers"]["Subject"], "Changes to how National Careers Service uses your personal data");
    std::string text = m["parts"][1]["content"];
    EXPECT_NE(text.find("from 4 January 2027"), std::string::npos) << text;
    EXPECT_NE(text.find("Research with universities"), std::string::npos) << text;
    EXPECT_NE(text.find("/privacy/next"), std::string::npos);
    to.insert(m["rcpt_tos"][0]);
  }
  EXPECT_EQ(to, (std::set<std::string>{"ana@example.org", "ben@example.org"}));
  // Told once: another minute sends nothing more.
  clock_.Advance(std::chrono::minutes(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(server_.Received().size(), 2u);
  auto told = s_.site().trail().List({.action = "notice."});
  ASSERT_TRUE(told.ok());
  std::set<std::string> actions;
  for (const auto& r : *told) actions.insert(r.entry.action);
  EXPECT_EQ(actions, (std::set<std::string>{"notice.staged", "notice.published", "notice.told"}));
  // Only the DPO publishes.
  auto analyst = s_.SignedIn("analyst@example.gov.uk", {staff::Role::kAnalyst});
  EXPECT_EQ(Fetch(s_.port(), "GET", "/admin/notice", {{"Cookie", analyst.cookie}})->status, 403);
}

// A register that gained purposes resting on consent since someone registered: they are asked, once,
// when they next sign in, with yes and no equally easy.
TEST_F(NoticeChangeSiteTest, ANewPurposeOnConsentIsAskedAtTheNextSignIn) {
  // The version before this one, served since October, had neither the surveys nor the equality purpose.
  auto versions = processing::ListVersions(s_.site().store());
  ASSERT_TRUE(versions.ok() && versions->size() == 1);
  auto older = nlohmann::json::parse(versions->front().notice_json);
  auto& purposes = older["purposes"];
  purposes.erase(std::remove_if(purposes.begin(), purposes.end(),
                                [](const nlohmann::json& p) {
                                  return p["id"] == "satisfaction-surveys" || p["id"] == "equality-monitoring" ||
                                         p["id"] == "priority-groups";
                                }),
                 purposes.end());
  ASSERT_TRUE(s_.site()
                  .store()
                  .Write([&](store::Connection& c) -> Status {
                    auto inserted = c.Exec(
                        "INSERT INTO notice_versions (version, effective_at, notice_json) VALUES (?, ?, ?)",
                        {std::string("0ld0ld0ld0ld0ld0"), std::string("2026-10-01T00:00:00.000Z"), older.dump()});
                    if (!inserted.ok()) return inserted.error();
                    // This version came in at half past ten, after the person below registered.
                    auto moved = c.Exec("UPDATE notice_versions SET effective_at = ? WHERE version = ?",
                                        {std::string("2026-12-04T10:30:00.000Z"), versions->front().version});
                    if (!moved.ok()) return moved.error();
                    return Ok();
                  })
                  .ok());
  auto post = [&](const std::string& path, const std::string& body, const std::string& cookie = "") {
    std::vector<http::HeaderField> headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                                              {"Sec-Fetch-Site", "same-origin"}};
    if (!cookie.empty()) headers.push_back({"Cookie", cookie});
    return Fetch(s_.port(), "POST", path, headers, body);
  };
  auto registered = post("/account/register",
                         "name=Cal+Jones&date-of-birth-day=1&date-of-birth-month=6&date-of-birth-year=2001"
                         "&email=cal%40example.org&password=" +
                             http::PercentEncode("correct horse battery"));
  ASSERT_TRUE(registered && registered->status == 200) << (registered ? registered->body : "");
  auto mail = WaitForMail(1);
  ASSERT_EQ(mail.size(), 1u);
  std::string text = mail[0]["parts"][1]["content"];
  auto at = text.find("/account/confirm/");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(Fetch(s_.port(), "GET", text.substr(at, text.find_first_of(" \r\n", at) - at))->status, 200);

  clock_.Set(*ParseRfc3339("2026-12-04T11:00:00Z"));
  auto sign_in = [&] {
    return post("/account/sign-in", "email=cal%40example.org&password=" + http::PercentEncode("correct horse battery"));
  };
  auto in = sign_in();
  ASSERT_TRUE(in && in->status == 303);
  EXPECT_EQ(in->Header("Location"), "/account/new-consents");
  std::string set_cookie(in->Header("Set-Cookie"));
  std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  auto page = Fetch(s_.port(), "GET", "/account/new-consents", {{"Cookie", cookie}});
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("Contact me for customer satisfaction surveys"), std::string::npos);
  EXPECT_NE(page->body.find("Use my ethnicity and disability information"), std::string::npos);
  std::smatch csrf;
  ASSERT_TRUE(std::regex_search(page->body, csrf, std::regex("name=\"csrf_token\" value=\"([^\"]+)\"")));
  auto unanswered = post("/account/new-consents", "surveys=yes&csrf_token=" + csrf[1].str(), cookie);
  ASSERT_TRUE(unanswered);
  EXPECT_EQ(unanswered->status, 400);
  EXPECT_NE(unanswered->body.find("href=\"#equality\""), std::string::npos);
  auto answered = post("/account/new-consents", "surveys=yes&equality=no&csrf_token=" + csrf[1].str(), cookie);
  ASSERT_TRUE(answered && answered->status == 200) << (answered ? answered->body : "");
  EXPECT_NE(answered->body.find("agreed when asked after signing in"), std::string::npos);
  // Answered: not asked again.
  auto again = sign_in();
  ASSERT_TRUE(again && again->status == 303);
  EXPECT_EQ(again->Header("Location"), "/account");
}

}  // namespace
}  // namespace steward
