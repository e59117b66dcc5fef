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
  // The worker runs a second after the start, on the site's clock.
  for (int i = 0; i < 100 && server_.Received().size() < 2; ++i) {
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

}  // namespace
}  // namespace steward
