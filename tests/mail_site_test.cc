// Mail through the whole site in process: the queue the mail module provides, sent by the worker
// `steward serve` runs (on the leading instance, once a second of the site's clock), to a real SMTP
// server, and counted on /metrics.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "http/testing/raw_client.h"
#include "in_process_site.h"
#include "mail/mail.h"
#include "mail/testing/smtp_server.h"

namespace steward {
namespace {

class MailSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = mail::testing::WriteSiteWithMail(
        (std::filesystem::temp_directory_path() / ("steward-mail-site-" + crypto::RandomHex(6) + ".toml")).string(),
        server_.port());
    ASSERT_NO_FATAL_FAILURE(s_.Open(path_, clock_));
  }
  void TearDown() override { std::filesystem::remove(path_); }

  mail::testing::SmtpServer server_;
  std::string path_;
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  steward::testing::InProcessSite s_;
};

TEST_F(MailSiteTest, TheWorkerSendsWhatIsQueuedAndMetricsCountIt) {
  auto* queue = s_.site().services().Find<mail::Queue>();
  ASSERT_NE(queue, nullptr) << "the mail module provides its queue to the modules after it";
  auto settings = mail::ReadSettings(*s_.config().document, s_.site().reg());
  ASSERT_TRUE(settings.ok() && settings->has_value());
  for (const char* to : {"one@example.com", "two@example.com"}) {
    ASSERT_TRUE(queue->Enqueue({.to = to, .subject = "Labour market statistics", .text = "Out now."}, **settings).ok());
  }
  s_.site().StartTasks();
  // The worker runs a second after the start, on the site's clock; it marks a message sent just
  // after the server has it, so the wait is for both.
  auto sent = [&] {
    auto count = queue->Count();
    return count.ok() ? count->sent : 0;
  };
  for (int i = 0; i < 100 && (server_.Received().size() < 2 || sent() < 2); ++i) {
    clock_.Advance(std::chrono::seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto received = server_.Received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0]["headers"]["Subject"], "Labour market statistics");
  EXPECT_EQ(queue->Count()->sent, 2);
  auto metrics = http::testing::Fetch(s_.port(), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("steward_mail_messages_total{outcome=\"sent\"} 2"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("steward_mail_messages_total{outcome=\"queued\"} 2"), std::string::npos);
}

TEST_F(MailSiteTest, ACaseworkerRepliesToFeedbackByEmail) {
  s_.site().StartTasks();
  auto sent = http::testing::Fetch(
      s_.port(), "POST", "/api/feedback", {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "same-origin"}},
      R"({"kind":"contact","message":"When are the next labour market figures out?","name":"Jo","email":"jo@example.org"})");
  ASSERT_TRUE(sent && sent->status == 202) << (sent ? sent->body : "no answer");
  auto caseworker = s_.SignedIn("case@ons.gov.uk", {staff::Role::kCaseworker});
  auto post = [&](const std::string& reply) {
    return http::testing::Fetch(s_.port(), "POST", "/admin/feedback/1/reply",
                                {{"Cookie", caseworker.cookie}, {"Content-Type", "application/x-www-form-urlencoded"}},
                                "csrf_token=" + caseworker.csrf + "&reply=" + http::PercentEncode(reply));
  };
  auto empty = post("   ");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400);
  EXPECT_NE(empty->body.find("Enter your reply"), std::string::npos);
  auto long_one = post(std::string(1901, 'a'));
  EXPECT_EQ(long_one->status, 400);
  auto replied = post("They are out on 17 February at 7am.");
  ASSERT_TRUE(replied);
  EXPECT_EQ(replied->status, 303) << replied->body;
  for (int i = 0; i < 100 && server_.Received().empty(); ++i) {
    clock_.Advance(std::chrono::seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto received = server_.Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0]["rcpt_tos"], nlohmann::json::array({"jo@example.org"}));
  std::string text = received[0]["parts"][1]["content"];
  EXPECT_NE(text.find("They are out on 17 February at 7am."), std::string::npos) << text;
  // Kept as a note on the item; on the record without its text.
  auto item = http::testing::Fetch(s_.port(), "GET", "/admin/feedback/1", {{"Cookie", caseworker.cookie}});
  ASSERT_TRUE(item && item->status == 200);
  EXPECT_NE(item->body.find("Replied by email:"), std::string::npos);
  auto entries = s_.site().trail().List({.action = "feedback.replied"});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  for (const auto& [k, v] : (*entries)[0].entry.details) EXPECT_EQ(v.find("February"), std::string::npos) << k;
}

}  // namespace
}  // namespace steward
