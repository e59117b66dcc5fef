// The steward binary end to end: its commands, what it serves, what it writes and logs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/strings.h"
#include "http/testing/raw_client.h"
#include "mail/testing/smtp_server.h"
#include "process.h"
#include "store/sqlite.h"

namespace steward::testing {
namespace {

namespace fs = std::filesystem;
using http::testing::Fetch;
using http::testing::RawConnection;

class StewardTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("steward-it"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> ServeArgs() {
    return {"--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/data"};
  }
  std::string dir_;
};

TEST_F(StewardTest, CheckConfigPassesTheDemo) {
  RunResult r = RunSteward({"check-config", "--config", SourcePath("examples/demo.toml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("demo.toml: ok (register version "), std::string::npos) << r.out;
}

TEST_F(StewardTest, CheckConfigPassesEverySiteAndRefusesABrokenRegister) {
  for (const char* site : {"civil-service", "nlc-connect", "hantsweb", "ons", "national-careers"}) {
    RunResult r = RunSteward({"check-config", "--config", SourcePath(std::string("examples/") + site + ".toml")});
    EXPECT_EQ(r.exit_code, 0) << site << ": " << r.err;
  }
  std::string broken = SourcePath("tests/fixtures/register/broken.toml");
  RunResult r = RunSteward({"check-config", "--config", broken});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(broken + ":8:1: purpose 'no-basis' has no lawful basis"), std::string::npos) << r.err;
  EXPECT_GE(std::count(r.err.begin(), r.err.end(), '\n'), 15) << "every problem at once";
  RunResult serve = RunSteward({"serve", "--config", broken, "--data", dir_ + "/data", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(serve.exit_code, 2) << "serve refuses to start";
  EXPECT_FALSE(fs::exists(dir_ + "/data/steward.db")) << "before touching any data";

  RunResult json = RunSteward({"notice", "render", "--config", SourcePath("examples/ons.toml"), "--format", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"id\": \"access-logs\""), std::string::npos);
  EXPECT_NE(json.out.find("\"version\": \""), std::string::npos);
  RunResult md = RunSteward({"notice", "render", "--config", SourcePath("examples/ons.toml"), "--format", "markdown"});
  EXPECT_EQ(md.exit_code, 0) << md.err;
  EXPECT_EQ(md.out.rfind("# Privacy notice", 0), 0u) << md.out.substr(0, 200);
  EXPECT_NE(md.out.find("- How long we keep it: 12 months"), std::string::npos);
  EXPECT_EQ(md.out.find("&#39;"), std::string::npos) << "Markdown, not HTML-escaped";
  RunResult html = RunSteward({"notice", "render", "--config", SourcePath("examples/ons.toml"), "--format", "html"});
  EXPECT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(html.out.find("<h1 class=\"govuk-heading-xl\">Privacy notice</h1>"), std::string::npos);
}

// check-config and serve say what keeps each dataset; the notice's "last updated" is the date its
// version came into force on the site, and a version not served yet is a draft.
TEST_F(StewardTest, SaysWhatKeepsEachDatasetAndDatesTheNoticeByItsVersion) {
  const std::string ons = SourcePath("examples/ons.toml");
  const std::string data = dir_ + "/data";
  RunResult checked = RunSteward({"check-config", "--config", ons});
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  for (const char* line : {"  dataset 'access-logs': kept by module 'logs', deleted after 12 months\n",
                           "  dataset 'feedback': kept by module 'feedback', deleted after 2 years\n",
                           "  analytics: consent mode: counts a visitor only after they accept usage cookies"}) {
    EXPECT_NE(checked.out.find(line), std::string::npos) << line << "\n" << checked.out;
  }
  RunResult draft = RunSteward({"notice", "render", "--config", ons, "--data", data, "--format", "markdown"});
  ASSERT_EQ(draft.exit_code, 0) << draft.err;
  EXPECT_NE(draft.out.find("Last updated (a draft: this version has not been served yet)"), std::string::npos);
  EXPECT_FALSE(fs::exists(data + "/steward.db")) << "rendering makes no site";
  {
    StewardProcess steward(dir_, {"--config", ons, "--data", data});
    ASSERT_TRUE(steward.started()) << steward.Stderr();
    EXPECT_EQ(steward.Stop(SIGTERM), 0);
    EXPECT_NE(steward.Stdout().find("  dataset 'social-media-messages': kept by module 'messages', deleted after 3 "
                                    "months\n"),
              std::string::npos)
        << steward.Stdout();
  }
  RunResult served = RunSteward({"notice", "render", "--config", ons, "--data", data, "--format", "markdown"});
  ASSERT_EQ(served.exit_code, 0) << served.err;
  EXPECT_TRUE(std::regex_search(served.out, std::regex("\nLast updated [0-9]{1,2} [A-Z][a-z]+ [0-9]{4} \\(notice")))
      << served.out.substr(0, 300);

  // A register that says Steward counts visits, on a site that does not configure it, is refused.
  std::ifstream in(SourcePath("examples/national-careers.toml"));
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  size_t from = config.find("[analytics]"), to = config.find("[register]");
  ASSERT_NE(from, std::string::npos);
  config.erase(from, to - from);
  std::string path = dir_ + "/careers-without-analytics.toml";
  std::ofstream(path) << config;
  RunResult refused = RunSteward({"check-config", "--config", path});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(std::regex_search(refused.err, std::regex(path + ":[0-9]+:1: dataset 'analytics-events' says module "
                                                               "'analytics' keeps it, but the site's file has no "
                                                               "\\[analytics\\], so Steward counts nothing")))
      << refused.err;
}

// `steward mail test` sends through the site's relay (a real SMTP server), and `mail status`
// counts without a single address.
TEST_F(StewardTest, MailTestSendsThroughTheRelayAndStatusCountsWithoutAddresses) {
  mail::testing::SmtpServer server;
  auto site_file = [&](int port) {
    return mail::testing::WriteSiteWithMail(dir_ + "/ons-mail-" + std::to_string(port) + ".toml", port);
  };
  std::string path = site_file(server.port());
  std::string data = dir_ + "/data";
  RunResult checked = RunSteward({"check-config", "--config", path});
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_NE(checked.out.find("  dataset 'outgoing-mail': kept by module 'mail', deleted after 30 days\n"),
            std::string::npos)
      << checked.out;
  ASSERT_EQ(RunSteward({"init", "--config", path, "--data", data}).exit_code, 0);
  RunResult sent = RunSteward({"mail", "test", "--config", path, "--data", data, "--to", "dpo@example.gov.uk"});
  EXPECT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_NE(sent.out.find("sent: the relay smtp://127.0.0.1:"), std::string::npos) << sent.out;
  auto received = server.Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0]["rcpt_tos"][0], "dpo@example.gov.uk");
  EXPECT_EQ(received[0]["headers"]["From"], "Office for National Statistics <noreply@ons.gov.uk>");

  // The relay gone: the message waits, and the command says so.
  int closed = 0;
  {
    mail::testing::SmtpServer gone;
    closed = gone.port();
  }
  RunResult waiting =
      RunSteward({"mail", "test", "--config", site_file(closed), "--data", data, "--to", "dpo@example.gov.uk"});
  EXPECT_EQ(waiting.exit_code, 1);
  EXPECT_NE(waiting.out.find("queued: message 2 (no connection to the relay); serve retries it with backoff"),
            std::string::npos)
      << waiting.out;
  // The relay's bounce for the first, piped in as the mail server would: the address is suppressed.
  std::string from = received[0]["mail_from"];
  std::string dsn = "To: " + from +
                    "\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
                    "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
                    "Final-Recipient: rfc822; dpo@example.gov.uk\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n";
  RunResult bounced = RunSteward({"mail", "bounce", "--config", path, "--data", data}, dsn);
  EXPECT_EQ(bounced.exit_code, 0) << bounced.err;
  EXPECT_EQ(bounced.out, "hard bounce for message 1: its address is suppressed\n");
  RunResult refused = RunSteward({"mail", "test", "--config", path, "--data", data, "--to", "dpo@example.gov.uk"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("the address is suppressed"), std::string::npos) << refused.err;
  RunResult status = RunSteward({"mail", "status", "--config", path, "--data", data});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out, "queued 1\nsent 1\nfailed 0\n");
  EXPECT_EQ((sent.out + waiting.out + status.out + bounced.out + refused.err + sent.err + waiting.err).find('@'),
            std::string::npos)
      << "no address in what the commands print";
}

// The accounts commands scripts rely on, on the National Careers example: import from a previous
// system (quoted fields, bad lines counted with their reasons, never a value printed), count as JSON.
TEST_F(StewardTest, AccountCommandsImportAndCount) {
  std::ifstream in(SourcePath("examples/national-careers.toml"));
  std::string site((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string from = "web_dir = \"../web\"";
  ASSERT_NE(site.find(from), std::string::npos);
  site.replace(site.find(from), from.size(), "web_dir = \"" + SourcePath("web") + "\"");
  std::string path = dir_ + "/ncs.toml", data = dir_ + "/data";
  std::ofstream(path) << site;
  ASSERT_EQ(RunSteward({"init", "--config", path, "--data", data}).exit_code, 0);
  std::ofstream(dir_ + "/bad-header.csv") << "email,name,ethnicity\n";
  RunResult refused = RunSteward({"accounts", "import", "--config", path, "--data", data, dir_ + "/bad-header.csv"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("bad-header.csv:1: column 'ethnicity' is given only under consent box 'equality'"),
            std::string::npos)
      << refused.err;
  std::ofstream(dir_ + "/old.csv") << "email,name,date-of-birth,postcode\n"
                                   << "one@example.org,\"Taylor, Sam\",1990-04-12,m1 2wd\n"
                                   << "two@example.org,Jo Smith,1985-11-02,\n"
                                   << "not an address,Al Jones,1980-01-01,\n"
                                   << "three@example.org,Kim Lee,1980-02-31,\n"
                                   << "four@example.org,\"Ann Open,1980-01-01,\n"
                                   << "five@example.org,Five\n"
                                   << "ONE@example.org,Sam Again,1990-04-12,\n";
  RunResult imported = RunSteward(
      {"accounts", "import", "--config", path, "--data", data, "--source", "the old CRM", dir_ + "/old.csv"});
  EXPECT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(imported.out,
            "imported 2; already had an account 1; skipped 4\n"
            "  line 4: Not an email address\n"
            "  line 5: Date of birth must be a real date\n"
            "  line 6: a quote is not closed, or text follows one\n"
            "  line 7: 2 fields where the header has 4\n");
  EXPECT_EQ(imported.out.find("Taylor"), std::string::npos);
  RunResult counted = RunSteward({"accounts", "count", "--config", path, "--data", data, "--format", "json"});
  EXPECT_EQ(counted.exit_code, 0) << counted.err;
  auto counts = nlohmann::json::parse(counted.out);
  EXPECT_EQ(counts["open"], 2);
  EXPECT_EQ(counts["unconfirmed"], 0);
  EXPECT_EQ(counts["closed_kept_to_minimum"], 0);
}

// The subscription commands scripts rely on, on the Hantsweb example: import, count (JSON, no
// addresses), mail send (queued for the topic's subscribers), and the List-Unsubscribe mailto.
TEST_F(StewardTest, SubscriptionCommandsImportCountSendAndUnsubscribeByMail) {
  mail::testing::SmtpServer server;
  std::ifstream in(SourcePath("examples/hantsweb.toml"));
  std::string site((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"web_dir = \"../web\"", "web_dir = \"" + SourcePath("web") + "\""},
        {"relay = \"smtp://127.0.0.1:25\"", "relay = \"smtp://127.0.0.1:" + std::to_string(server.port()) + "\""}}) {
    ASSERT_NE(site.find(from), std::string::npos);
    site.replace(site.find(from), from.size(), to);
  }
  std::string path = dir_ + "/hantsweb.toml", data = dir_ + "/data";
  std::ofstream(path) << site;
  ASSERT_EQ(RunSteward({"init", "--config", path, "--data", data}).exit_code, 0);
  std::ofstream(dir_ + "/old.csv") << "email,topics,frequency\n"
                                   << "one@example.org,roads schools,immediately\n"
                                   << "two@example.org,roads,weekly\n"
                                   << "not an address,roads,daily\n"
                                   << "three@example.org,roads,hourly\n"
                                   << "four@example.org,roads\n";
  RunResult imported = RunSteward({"subscriptions", "import", "--config", path, "--data", data, dir_ + "/old.csv"});
  EXPECT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(imported.out,
            "imported 2; already subscribed or suppressed 0; skipped 3\n"
            "  line 4: Enter an email address in the correct format, like name@example.com\n"
            "  line 5: the frequency is immediately, daily or weekly\n"
            "  line 6: not three fields (email,topics,frequency)\n");
  RunResult counted = RunSteward({"subscriptions", "count", "--config", path, "--data", data, "--format", "json"});
  EXPECT_EQ(counted.exit_code, 0) << counted.err;
  auto counts = nlohmann::json::parse(counted.out);
  EXPECT_EQ(counts["topics"][1]["topic"], "roads");
  EXPECT_EQ(counts["topics"][1]["confirmed"], 2);
  EXPECT_EQ(counts["topics"][2]["confirmed"], 1);
  EXPECT_EQ(counts["topics"][0]["confirmed"], 0);

  std::ofstream(dir_ + "/body.txt") << "The A31 is closed on Tuesday.";
  RunResult send = RunSteward({"mail", "send", "--config", path, "--data", data, "--topic", "roads", "--subject",
                               "A31 closed", "--body-file", dir_ + "/body.txt"});
  EXPECT_EQ(send.exit_code, 0) << send.err;
  EXPECT_EQ(send.out, "send 1: 1 emails queued; serve sends them through the relay\n")
      << "the weekly subscriber gets it in their digest";
  RunResult unknown = RunSteward({"mail", "send", "--config", path, "--data", data, "--topic", "nope", "--subject", "x",
                                  "--body-file", dir_ + "/body.txt"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no such topic"), std::string::npos) << unknown.err;
  RunResult delivered = RunSteward({"mail", "test", "--config", path, "--data", data, "--to", "web@hants.gov.uk"});
  EXPECT_EQ(delivered.exit_code, 0) << delivered.err;
  auto received = server.Received();
  ASSERT_EQ(received.size(), 2u) << "the topic's message, then the test";
  std::string header = received[0]["headers"]["List-Unsubscribe"];
  size_t at = header.find("mailto:");
  ASSERT_NE(at, std::string::npos) << header;
  std::string mailto = header.substr(at + 7, header.find('>', at) - at - 7);
  RunResult left = RunSteward({"subscriptions", "unsubscribe", "--config", path, "--data", data},
                              "From: one@example.org\r\nTo: " + mailto + "\r\nSubject: unsubscribe\r\n\r\n");
  EXPECT_EQ(left.exit_code, 0) << left.err;
  EXPECT_EQ(left.out, "unsubscribed\n");
  RunResult twice =
      RunSteward({"subscriptions", "unsubscribe", "--config", path, "--data", data}, "To: " + mailto + "\r\n\r\n");
  EXPECT_EQ(twice.out, "the link names no subscription now: nothing done\n");
  counts = nlohmann::json::parse(
      RunSteward({"subscriptions", "count", "--config", path, "--data", data, "--format", "json"}).out);
  EXPECT_EQ(counts["topics"][1]["confirmed"], 1);
  std::string printed = imported.out + counted.out + send.out + left.out + imported.err + send.err;
  for (const char* address : {"one@", "two@", "three@", "four@", "not an address"}) {
    EXPECT_EQ(printed.find(address), std::string::npos) << "no address in what the commands print";
  }
}

// A message being sent when Steward is killed is neither lost nor sent twice: the relay had not
// accepted it (it was still waiting for the data's answer), so it is sent once, later.
TEST_F(StewardTest, KillNineMidSendLosesNoMailAndSendsNoneTwice) {
  auto site_file = [&](int port) {
    return mail::testing::WriteSiteWithMail(dir_ + "/ons-kill-" + std::to_string(port) + ".toml", port);
  };
  std::string data = dir_ + "/data";
  mail::testing::SmtpServer stalling({"--stall"});
  std::string stalled_site = site_file(stalling.port());
  ASSERT_EQ(RunSteward({"init", "--config", stalled_site, "--data", data}).exit_code, 0);
  pid_t pid = fork();
  if (pid == 0) {
    std::string bin = std::string(STEWARD_BINARY_DIR) + "/src/app/steward";
    execl(bin.c_str(), bin.c_str(), "mail", "test", "--config", stalled_site.c_str(), "--data", data.c_str(), "--to",
          "first@example.gov.uk", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 200 && !fs::exists(stalling.dir() / "stalled"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(stalling.dir() / "stalled")) << "the message's data reached the relay";
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(stalling.Received().empty()) << "the relay never accepted it";

  // Started again with a relay that answers: the first message goes once, with the second.
  mail::testing::SmtpServer relay;
  RunResult again = RunSteward(
      {"mail", "test", "--config", site_file(relay.port()), "--data", data, "--to", "second@example.gov.uk"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  auto received = relay.Received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0]["rcpt_tos"][0], "first@example.gov.uk");
  EXPECT_EQ(received[1]["rcpt_tos"][0], "second@example.gov.uk");
  EXPECT_NE(received[0]["headers"]["Message-ID"], received[1]["headers"]["Message-ID"]);
  RunResult status_after = RunSteward({"mail", "status", "--config", site_file(relay.port()), "--data", data});
  EXPECT_EQ(status_after.out, "queued 0\nsent 2\nfailed 0\n");
}

TEST_F(StewardTest, CheckConfigNamesFileLineAndColumnOfEveryProblem) {
  std::string unknown = SourcePath("tests/fixtures/config/unknown-keys.toml");
  RunResult r = RunSteward({"check-config", "--config", unknown});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(unknown + ":3:1: unknown key 'site.colour'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(unknown + ":7:1: unknown key 'server.threds'"), std::string::npos) << r.err;

  std::string bad = SourcePath("tests/fixtures/config/bad-values.toml");
  r = RunSteward({"check-config", "--config", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(bad + ":2:10: 'server.listen' port"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad + ":3:19: 'server.trusted_proxies' entry '10.0.0.0/40'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad + ":6:18: 'server.limits.max_body_bytes' must be a whole number"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(bad + ":9:11: 'storage.backend'"), std::string::npos) << r.err;

  std::string syntax = SourcePath("tests/fixtures/config/syntax.toml");
  r = RunSteward({"check-config", "--config", syntax});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind(syntax + ":2:", 0), 0u) << r.err;

  r = RunSteward({"serve", "--config", bad});
  EXPECT_EQ(r.exit_code, 2) << "serve refuses a broken config too";
}

TEST_F(StewardTest, ServesTheDemoSite) {
  StewardProcess steward(dir_, ServeArgs());
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  auto home = Fetch(steward.port(), "GET", "/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  EXPECT_EQ(home->Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(home->body.find("Steward demo service"), std::string::npos);
  EXPECT_NE(home->body.find("/static/govuk/govuk-frontend.min.css"), std::string::npos);
  EXPECT_EQ(Fetch(steward.port(), "GET", "/static/govuk/govuk-frontend.min.css")->status, 200);
  EXPECT_EQ(Fetch(steward.port(), "GET", "/assets/fonts/bold-b542beb274-v2.woff2")->status, 200);

  auto health = Fetch(steward.port(), "GET", "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"ok","checks":{"database":"ok"}})");
  EXPECT_EQ(Fetch(steward.port(), "GET", "/livez")->status, 200);

  auto metrics = Fetch(steward.port(), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("steward_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("steward_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics->body.find("steward_http_open_connections"), std::string::npos);
  EXPECT_NE(metrics->body.find("steward_store_write_queue_depth"), std::string::npos);
  EXPECT_NE(metrics->body.find("steward_http_worker_queue_depth"), std::string::npos);

  auto privacy = Fetch(steward.port(), "GET", "/privacy");
  ASSERT_TRUE(privacy);
  EXPECT_EQ(privacy->status, 200);
  EXPECT_NE(privacy->body.find("Privacy notice"), std::string::npos);
  EXPECT_NE(privacy->body.find("Last updated "), std::string::npos);
  EXPECT_NE(privacy->body.find("dpo@example.gov.uk"), std::string::npos);
  auto cookies = Fetch(steward.port(), "GET", "/cookies");
  ASSERT_TRUE(cookies);
  EXPECT_EQ(cookies->status, 200);
  EXPECT_NE(cookies->body.find("<code>cookies_policy</code>"), std::string::npos);

  auto versions = Fetch(steward.port(), "GET", "/privacy/versions");
  ASSERT_TRUE(versions);
  EXPECT_EQ(versions->status, 200);
  EXPECT_NE(versions->body.find("The first version."), std::string::npos);
  EXPECT_NE(versions->body.find("In force"), std::string::npos);

  auto missing = Fetch(steward.port(), "GET", "/no/such/page");
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("Page not found"), std::string::npos) << "a GOV.UK error page, not a bare status";
  EXPECT_EQ(steward.Stop(SIGTERM), 0);
}

TEST_F(StewardTest, NoPathLeavesTheAssetRoots) {
  StewardProcess steward(dir_, ServeArgs());
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  for (std::string path :
       {"/assets/../../../../etc/passwd", "/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/govuk/..%2F..%2F..%2Fpackage.json", "/static/steward/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/assets/images/..%5c..%5cpackage.json", "/static/..", "/assets/%00", "/assets/.npmrc"}) {
    auto r = Fetch(steward.port(), "GET", path);
    ASSERT_TRUE(r) << path;
    EXPECT_TRUE(r->status == 404 || r->status == 400) << path << " gave " << r->status;
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("\"dependencies\""), std::string::npos) << path;
  }
  EXPECT_EQ(steward.Stop(SIGTERM), 0);
}

TEST_F(StewardTest, DataFilesAreTheOwnersAloneAndSecretsStayOutOfLogs) {
  fs::create_directories(dir_ + "/data");
  fs::permissions(dir_ + "/data", fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  StewardProcess steward(dir_, ServeArgs());
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  for (int i = 0; i < 3; ++i) Fetch(steward.port(), "GET", "/healthz", {{"X-Forwarded-For", "203.0.113.77"}});
  EXPECT_EQ(steward.Stop(SIGTERM), 0);

  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat((dir_ + "/data/secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir_ + "/data/steward.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::string logs = steward.Stdout() + steward.Stderr();
  std::string key_hex = HexEncode(ReadFile(dir_ + "/data/secret.key"));
  EXPECT_EQ(logs.find(key_hex), std::string::npos);
  EXPECT_EQ(logs.find(key_hex.substr(0, 16)), std::string::npos);
  EXPECT_EQ(logs.find("203.0.113.77"), std::string::npos) << "no client address in the logs";
  EXPECT_NE(steward.Stderr().find("event=steward.stopped"), std::string::npos);
}

TEST_F(StewardTest, SecondStartKeepsTheSameKey) {
  {
    StewardProcess first(dir_, ServeArgs());
    ASSERT_TRUE(first.started());
    EXPECT_EQ(first.Stop(SIGINT), 0);
  }
  std::string key = ReadFile(dir_ + "/data/secret.key");
  StewardProcess second(dir_, ServeArgs());
  ASSERT_TRUE(second.started());
  EXPECT_EQ(second.Stop(SIGTERM), 0);
  EXPECT_EQ(ReadFile(dir_ + "/data/secret.key"), key);
}

TEST_F(StewardTest, SigtermWhileClientsAreBusyAnswersEveryRequestItRead) {
  StewardProcess steward(dir_, ServeArgs());
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  std::atomic<bool> stop{false};
  std::atomic<int> complete{0}, broken{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      RawConnection c(steward.port(), std::chrono::seconds(5));
      while (!stop && c.connected()) {
        if (!c.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")) return;  // server closed: fine
        auto r = c.Read();
        if (!r) return;  // closed before a request was read: fine
        if (r->status == 200 && r->body.find("\"ok\"") != std::string::npos)
          complete++;
        else
          broken++;
        if (r->Header("Connection") == "close") return;
      }
    });
  }
  while (complete < 50) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(steward.Stop(SIGTERM), 0);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(broken.load(), 0) << "every answer sent was whole and right";
  EXPECT_NE(steward.Stderr().find("event=http.draining"), std::string::npos);
}

TEST_F(StewardTest, BackupWritesAConsistentCopyWhileServing) {
  StewardProcess steward(dir_, ServeArgs());
  ASSERT_TRUE(steward.started());
  std::string to = dir_ + "/backup.db";
  RunResult r =
      RunSteward({"backup", "--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/data", "--to", to});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(to));
  struct stat st {};
  ASSERT_EQ(stat(to.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The subject keys beside it, in a file of their own, as private.
  ASSERT_EQ(stat((to + ".keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(r.out.find("Subject keys (0) written to " + to + ".keys"), std::string::npos) << r.out;
  RunResult again =
      RunSteward({"backup", "--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/data", "--to", to});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos);
  EXPECT_EQ(steward.Stop(SIGTERM), 0);

  RunResult none = RunSteward(
      {"backup", "--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/empty", "--to", dir_ + "/x.db"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no database"), std::string::npos);
}

TEST_F(StewardTest, AuditTrailRecordsVerifiesAndNamesATamperedEntry) {
  std::vector<std::string> site = {"--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/data"};
  for (int i = 0; i < 2; ++i) {
    StewardProcess steward(dir_, ServeArgs());
    ASSERT_TRUE(steward.started()) << steward.Stderr();
    EXPECT_EQ(steward.Stop(SIGTERM), 0);
  }
  std::vector<std::string> backup = {"backup"};
  backup.insert(backup.end(), site.begin(), site.end());
  backup.insert(backup.end(), {"--to", dir_ + "/backup.db"});
  ASSERT_EQ(RunSteward(backup).exit_code, 0);

  std::vector<std::string> verify = {"audit", "verify"};
  verify.insert(verify.end(), site.begin(), site.end());
  RunResult ok = RunSteward(verify);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  // Two starts (each: config loaded, a first-admin link issued while there are no staff) and a backup.
  EXPECT_NE(ok.out.find("The audit trail is intact: 5 entries, 2 signed checkpoints."), std::string::npos) << ok.out;

  std::vector<std::string> export_cmd = {"audit", "export"};
  export_cmd.insert(export_cmd.end(), site.begin(), site.end());
  RunResult exported = RunSteward(export_cmd);
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(std::count(exported.out.begin(), exported.out.end(), '\n'), 5);
  EXPECT_NE(exported.out.find("\"action\":\"staff.setup_link_issued\""), std::string::npos) << exported.out;
  EXPECT_NE(exported.out.find("\"action\":\"config.loaded\""), std::string::npos) << exported.out;
  EXPECT_NE(exported.out.find("\"action\":\"backup.written\""), std::string::npos) << exported.out;
  std::vector<std::string> since = export_cmd;
  since.insert(since.end(), {"--since", "2999-01-01T00:00:00Z"});
  EXPECT_EQ(RunSteward(since).out, "");

  // Someone edits the second entry in the database file by hand.
  {
    auto c = store::SqliteConnection::Open(dir_ + "/data/steward.db", false, false);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->ExecScript("DROP TRIGGER audit_log_no_update;"
                                 "UPDATE audit_log SET outcome = 'failure' WHERE seq = 2;")
                    .ok());
  }
  RunResult broken = RunSteward(verify);
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.out.find("The audit trail is broken at entry 2: entry 2 was changed"), std::string::npos)
      << broken.out;

  // On the backup, someone moves the purge limit to the newest checkpoint and deletes up to it,
  // which the database's triggers allow: without a signed record of a purge it does not verify.
  std::filesystem::create_directories(dir_ + "/wiped");
  std::filesystem::copy_file(dir_ + "/backup.db", dir_ + "/wiped/steward.db");
  std::filesystem::copy_file(dir_ + "/data/secret.key", dir_ + "/wiped/secret.key");
  {
    auto c = store::SqliteConnection::Open(dir_ + "/wiped/steward.db", false, false);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->ExecScript("UPDATE audit_purge SET limit_seq = (SELECT max(seq) FROM audit_checkpoints);"
                                 "DELETE FROM audit_log WHERE seq <= (SELECT limit_seq FROM audit_purge);")
                    .ok());
  }
  RunResult wiped =
      RunSteward({"audit", "verify", "--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/wiped"});
  EXPECT_EQ(wiped.exit_code, 1) << wiped.out;
  EXPECT_NE(wiped.out.find("with no signed record of a retention purge"), std::string::npos) << wiped.out;
}

TEST_F(StewardTest, StaffCommands) {
  {
    StewardProcess steward(dir_, ServeArgs());
    ASSERT_TRUE(steward.started()) << steward.Stderr();
    EXPECT_NE(steward.Stdout().find("Set up the first administrator"), std::string::npos);
    EXPECT_EQ(steward.Stop(SIGTERM), 0);
  }
  std::vector<std::string> site = {"--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/data"};
  auto cmd = [&](std::vector<std::string> args) {
    args.insert(args.end(), site.begin(), site.end());
    return args;
  };
  RunResult admin =
      RunSteward(cmd({"staff", "add", "--email", "boss@example.gov.uk", "--role", "admin", "--password-stdin"}),
                 "purple tractor umbrella\n");
  EXPECT_EQ(admin.exit_code, 0) << admin.err;
  EXPECT_NE(admin.out.find("They can sign in now"), std::string::npos);
  RunResult weak = RunSteward(cmd({"staff", "add", "--email", "w@example.gov.uk", "--role", "dpo", "--password-stdin"}),
                              "password\n");
  EXPECT_EQ(weak.exit_code, 2);
  EXPECT_NE(weak.err.find("12 characters or more"), std::string::npos) << weak.err;

  RunResult analyst =
      RunSteward(cmd({"staff", "add", "--email", "ana@example.gov.uk", "--role", "analyst", "--role", "dpo"}));
  EXPECT_EQ(analyst.exit_code, 0) << analyst.err;
  EXPECT_NE(analyst.out.find("/admin/setup/"), std::string::npos) << analyst.out;
  EXPECT_EQ(RunSteward(cmd({"staff", "add", "--email", "ana@example.gov.uk", "--role", "analyst"})).exit_code, 2)
      << "exists";
  RunResult bad_role = RunSteward(cmd({"staff", "add", "--email", "x@example.gov.uk", "--role", "wizard"}));
  EXPECT_EQ(bad_role.exit_code, 2);
  EXPECT_NE(bad_role.err.find("unknown role 'wizard'"), std::string::npos);

  EXPECT_EQ(RunSteward(cmd({"staff", "disable", "--email", "ana@example.gov.uk"})).exit_code, 0);
  EXPECT_EQ(RunSteward(cmd({"staff", "disable", "--email", "boss@example.gov.uk"})).exit_code, 1) << "the last admin";
  RunResult list = RunSteward(cmd({"staff", "list"}));
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("ana@example.gov.uk"), std::string::npos);
  EXPECT_NE(list.out.find("dpo,analyst"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("disabled"), std::string::npos);
  EXPECT_NE(list.out.find("active"), std::string::npos);

  RunResult verify = RunSteward(cmd({"audit", "verify"}));
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

TEST_F(StewardTest, RetentionListsEveryDatasetWithItsCutoffAndPurgesABacklogInBatches) {
  std::string ons = SourcePath("examples/ons.toml");
  {
    StewardProcess steward(dir_, {"--config", ons, "--data", dir_ + "/data"});
    ASSERT_TRUE(steward.started()) << steward.Stderr();
    EXPECT_EQ(steward.Stop(SIGTERM), 0);
  }
  RunResult r = RunSteward({"retention", "run", "--config", ons, "--data", dir_ + "/data", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* dataset :
       {"analytics-events", "access-logs", "feedback", "social-media-messages", "staff-accounts", "audit-trail"}) {
    EXPECT_NE(r.out.find(dataset), std::string::npos) << dataset << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("12 months"), std::string::npos);
  EXPECT_NE(r.out.find("3 months"), std::string::npos);
  EXPECT_EQ(r.out.find("not stored by this Steward"), std::string::npos)
      << "every dataset of the ONS example is kept by a module of this build now\n"
      << r.out;
  // A backlog, as on a copy of an older site: 3,000 events from 2020, of two sites, go in batches.
  {
    auto c = store::SqliteConnection::Open(dir_ + "/data/steward.db", false, false);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->ExecScript("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
                                 "INSERT INTO analytics_events (ts, site, name, hostname, path, visitor, visit) "
                                 "SELECT 1600000000000 + i, CASE WHEN i % 6 = 0 THEN 'other.example' "
                                 "ELSE 'www.ons.gov.uk' END, 'pageview', 'www.ons.gov.uk', '/', i, i FROM n")
                    .ok());
  }
  RunResult real = RunSteward({"retention", "run", "--config", ons, "--data", dir_ + "/data"});
  EXPECT_EQ(real.exit_code, 0) << real.err;
  EXPECT_TRUE(
      std::regex_search(real.out, std::regex("analytics-events .* 3000 in [0-9]+ batches, the longest [0-9]+ ms\n")))
      << real.out;
  RunResult verify = RunSteward({"audit", "verify", "--config", ons, "--data", dir_ + "/data"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  RunResult exported = RunSteward({"audit", "export", "--config", ons, "--data", dir_ + "/data"});
  EXPECT_NE(exported.out.find("\"action\":\"retention.purged\""), std::string::npos);
  EXPECT_NE(exported.out.find("\"batch\":\"2\""), std::string::npos) << "each batch on the record";
  auto left = store::SqliteConnection::Open(dir_ + "/data/steward.db", false, true);
  ASSERT_TRUE(left.ok());
  auto rows = (*left)->Query("SELECT count(*) FROM analytics_events");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->front().Int(0), 0);
}

// A new site from the command line: one-off commands on a new directory say exactly what to run;
// `steward init` makes the site; `logs import` makes it itself, for statistics without serving.
TEST_F(StewardTest, ANewSiteFromTheCommandLine) {
  std::string ons = SourcePath("examples/ons.toml");
  std::string data = dir_ + "/fresh";
  RunResult dry = RunSteward({"retention", "run", "--config", ons, "--data", data, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 1) << dry.err;
  EXPECT_NE(dry.err.find("Make one with: steward init --config " + ons + " --data " + data), std::string::npos)
      << dry.err;
  EXPECT_FALSE(fs::exists(data)) << "nothing made by a command that only reads";

  RunResult init = RunSteward({"init", "--config", ons, "--data", data});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.out.find("Made a new site in " + data), std::string::npos) << init.out;
  EXPECT_NE(init.out.find("steward serve --config " + ons), std::string::npos) << init.out;
  EXPECT_TRUE(fs::exists(data + "/steward.db"));
  EXPECT_EQ(fs::status(data).permissions() & fs::perms::all, fs::perms::owner_all);
  RunResult again = RunSteward({"init", "--config", ons, "--data", data});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("already"), std::string::npos) << again.out;
  EXPECT_EQ(RunSteward({"retention", "run", "--config", ons, "--data", data, "--dry-run"}).exit_code, 0);

  std::string log_path = dir_ + "/access.log";
  std::ofstream(log_path) << "203.0.113.5 - - [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl/8\"\n";
  std::string other = dir_ + "/other";
  RunResult imported = RunSteward({"logs", "import", "--config", ons, "--data", other, log_path});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("made a new site in " + other), std::string::npos) << imported.err;
  EXPECT_NE(imported.out.find("1 imported"), std::string::npos) << imported.out;
  RunResult verify = RunSteward({"audit", "verify", "--config", ons, "--data", other});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

TEST_F(StewardTest, AChangedRegisterIsANewNoticeVersionWithItsChangesListed) {
  std::string original = ReadFile(SourcePath("examples/demo.toml"));
  std::string config = dir_ + "/site.toml";
  auto write = [&](const std::string& text) {
    std::string t = text;
    // The copy lives elsewhere: point it back at the web folder.
    t.replace(t.find("web_dir = \"../web\""), 18, "web_dir = \"" + SourcePath("web") + "\"");
    std::ofstream(config) << t;
  };
  write(original);
  {
    StewardProcess steward(dir_, {"--config", config, "--data", dir_ + "/data"});
    ASSERT_TRUE(steward.started()) << steward.Stderr();
    EXPECT_EQ(steward.Stop(SIGTERM), 0);
  }
  std::string changed = original;
  changed.replace(changed.find("retention = \"12 months\""), 23, "retention = \"6 months\"");
  write(changed);
  StewardProcess steward(dir_, {"--config", config, "--data", dir_ + "/data"});
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  auto page = Fetch(steward.port(), "GET", "/privacy/versions");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("is now kept for less time: 6 months (was 12 months)"), std::string::npos) << page->body;
  EXPECT_EQ(page->body.find("Changes that affect you"), std::string::npos) << "kept for less time is editorial";
  EXPECT_EQ(steward.Stop(SIGTERM), 0);
}

TEST_F(StewardTest, EveryExampleSiteServesItsNoticeCookiesAndVersions) {
  for (const char* site : {"demo", "civil-service", "nlc-connect", "hantsweb", "ons", "national-careers"}) {
    std::string data = dir_ + "/" + site;
    StewardProcess steward(dir_, {"--config", SourcePath(std::string("examples/") + site + ".toml"), "--data", data});
    ASSERT_TRUE(steward.started()) << site << ": " << steward.Stderr();
    for (const char* path : {"/privacy", "/cookies", "/privacy/versions"}) {
      auto r = Fetch(steward.port(), "GET", path);
      ASSERT_TRUE(r) << site << path;
      EXPECT_EQ(r->status, 200) << site << path;
    }
    EXPECT_EQ(steward.Stop(SIGTERM), 0) << site;
  }
}

// The ONS example end to end in the real binary: the banner, a choice that passes the gate, its
// record found again through /api/consent, and the gate's refusals counted in /metrics.
TEST_F(StewardTest, OnsConsentEndToEnd) {
  StewardProcess steward(dir_, {"--config", SourcePath("examples/ons.toml"), "--data", dir_ + "/ons"});
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  auto home = Fetch(steward.port(), "GET", "/");
  EXPECT_NE(home->body.find("Cookies on the ONS website"), std::string::npos);
  EXPECT_TRUE(home->Headers("Set-Cookie").empty());
  auto accept = Fetch(steward.port(), "POST", "/cookies",
                      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", "http://localhost"}},
                      "cookies%5Badditional%5D=yes&return=%2Fprivacy");
  ASSERT_TRUE(accept);
  EXPECT_EQ(accept->status, 303);
  std::string jar;
  for (const auto& line : accept->Headers("Set-Cookie"))
    jar += (jar.empty() ? "" : "; ") + line.substr(0, line.find(';'));
  EXPECT_NE(jar.find("cookies_policy="), std::string::npos) << jar;
  EXPECT_NE(jar.find("steward_consent="), std::string::npos) << jar;
  auto state = Fetch(steward.port(), "GET", "/api/consent", {{"Cookie", jar}});
  EXPECT_NE(state->body.find(R"("allowed":{"usage":true})"), std::string::npos) << state->body;
  EXPECT_NE(state->body.find(R"("method":"banner")"), std::string::npos) << state->body;
  auto metrics = Fetch(steward.port(), "GET", "/metrics");
  EXPECT_NE(metrics->body.find("# TYPE steward_http_cookies_refused_total counter"), std::string::npos);
  EXPECT_EQ(steward.Stop(SIGTERM), 0);
}

// A register that leaves out a cookie Steward sets is refused, naming the cookie.
TEST_F(StewardTest, RefusesARegisterThatDoesNotDeclareStewardsCookies) {
  std::ifstream in(SourcePath("examples/ons.toml"));
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  size_t at = config.find("name = \"steward_consent\"");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, std::string("name = \"steward_consent\"").size(), "name = \"steward_consent_renamed\"");
  std::string path = dir_ + "/ons-undeclared.toml";
  std::ofstream(path) << config;
  RunResult r = RunSteward({"check-config", "--config", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("steward_consent\n"), std::string::npos) << r.err;
  RunResult serve = RunSteward({"serve", "--config", path, "--data", dir_ + "/undeclared", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(serve.exit_code, 2) << serve.err;
}

// Events acknowledged with 202 survive kill -9: the answer is sent only after the commit.
TEST_F(StewardTest, KillNineLosesNoAcknowledgedEvent) {
  StewardProcess steward(dir_, ServeArgs());
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  // The demo's analytics rest on consent: accept, in the shape GOV.UK scripts write.
  auto state = Fetch(steward.port(), "GET", "/api/consent");
  std::string version = state->body.substr(state->body.find("\"version\":\"") + 11, 8);
  std::string policy = "cookies_policy={\"essential\":true,\"usage\":true,\"version\":\"" + version + "\"}";
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> killed{false};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < 400 && !killed; ++i) {
        std::string path = "/kill/" + std::to_string(t) + "/" + std::to_string(i);
        auto r = Fetch(steward.port(), "POST", "/api/event",
                       {{"Content-Type", "text/plain"},
                        {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
                        {"Cookie", policy}},
                       R"({"n":"pageview","u":"http://127.0.0.1)" + path + R"(","d":"127.0.0.1"})");
        if (r && r->status == 202 && r->Header("x-plausible-dropped").empty()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(path);
        }
      }
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard<std::mutex> lock(mu);
    if (acknowledged.size() >= 200) break;
  }
  steward.Stop(SIGKILL);
  killed = true;
  for (auto& s : senders) s.join();
  auto db = store::SqliteConnection::Open(dir_ + "/data/steward.db", false, true);
  ASSERT_TRUE(db.ok()) << db.error().message;
  std::set<std::string> stored;
  ASSERT_TRUE((*db)
                  ->ForEach("SELECT path FROM analytics_events", {},
                            [&](const store::Row& r) {
                              stored.insert(r.Text(0));
                              return true;
                            })
                  .ok());
  size_t missing = 0;
  for (const auto& path : acknowledged) missing += stored.count(path) == 0;
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
  EXPECT_GE(acknowledged.size(), 200u);
}

// An analyst's script: a key from the command line, events in, the Stats API and `steward stats`
// agreeing on the numbers; the revoked key refused.
TEST_F(StewardTest, ApiKeysTheStatsApiAndTheStatsCommand) {
  std::vector<std::string> site = {"--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/data"};
  {
    StewardProcess first(dir_, ServeArgs());  // makes the database and key
    ASSERT_TRUE(first.started()) << first.Stderr();
    EXPECT_EQ(first.Stop(SIGTERM), 0);
  }
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), site.begin(), site.end());
    return args;
  };
  RunResult made = RunSteward(with({"apikey", "create", "--name", "Performance dashboard"}));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string key(Trim(made.out));
  ASSERT_EQ(key.rfind("stw_", 0), 0u) << "the key alone on standard output";
  EXPECT_EQ(made.err.find(key), std::string::npos);

  StewardProcess steward(dir_, ServeArgs());
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  auto state = Fetch(steward.port(), "GET", "/api/consent");
  std::string version = state->body.substr(state->body.find("\"version\":\"") + 11, 8);
  std::string policy = "cookies_policy={\"essential\":true,\"usage\":true,\"version\":\"" + version + "\"}";
  for (const char* path : {"/", "/guidance", "/guidance"}) {
    auto r = Fetch(steward.port(), "POST", "/api/event",
                   {{"Content-Type", "text/plain"},
                    {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
                    {"Cookie", policy}},
                   std::string(R"({"n":"pageview","u":"http://127.0.0.1)") + path + R"(","d":"127.0.0.1"})");
    ASSERT_EQ(r->status, 202);
    ASSERT_TRUE(r->Header("x-plausible-dropped").empty());
  }
  // Each event came without the identifier cookie the one before set: counted by the day's hash,
  // one visitor (the same address and browser).
  const std::string query =
      R"({"site_id":"127.0.0.1","date_range":"day","metrics":["visitors","pageviews"],"dimensions":["event:page"]})";
  auto api = Fetch(steward.port(), "POST", "/api/v2/query",
                   {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key}}, query);
  ASSERT_EQ(api->status, 200) << api->body;
  EXPECT_NE(api->body.find(R"({"dimensions":["/guidance"],"metrics":[1,2]})"), std::string::npos) << api->body;

  RunResult json = RunSteward(with({"stats", "--period", "day", "--format", "json"}));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"pageviews\": 3"), std::string::npos) << json.out;
  RunResult csv = RunSteward(with({"stats", "--format", "csv"}));
  EXPECT_NE(csv.out.find("page,/guidance,pageviews,2\r\n"), std::string::npos) << csv.out;
  RunResult text = RunSteward(with({"stats"}));
  EXPECT_NE(text.out.find("pageviews"), std::string::npos);
  EXPECT_EQ(RunSteward(with({"stats", "--period", "fortnight"})).exit_code, 2);
  EXPECT_EQ(RunSteward(with({"stats", "--site", "elsewhere.uk"})).exit_code, 2);

  RunResult list = RunSteward(with({"apikey", "list"}));
  EXPECT_NE(list.out.find("Performance dashboard"), std::string::npos);
  EXPECT_NE(list.out.find(key.substr(0, 8)), std::string::npos);
  EXPECT_EQ(list.out.find(key), std::string::npos);
  EXPECT_EQ(RunSteward(with({"apikey", "revoke", "--id", "1"})).exit_code, 0);
  EXPECT_EQ(RunSteward(with({"apikey", "revoke", "--id", "1"})).exit_code, 2) << "already revoked";
  auto refused = Fetch(steward.port(), "POST", "/api/v2/query",
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key}}, query);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(steward.Stop(SIGTERM), 0);
  RunResult verify = RunSteward(with({"audit", "verify"}));
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

// Text that is not UTF-8 once percent-decoded (a search for %FF%FE), and a path and campaign that
// are: the Stats API and `steward stats --format json` answer, with U+FFFD for the bad bytes.
TEST_F(StewardTest, InvalidUtf8InAnEventNeverBreaksAReport) {
  std::vector<std::string> site = {"--config", SourcePath("examples/demo.toml"), "--data", dir_ + "/data"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), site.begin(), site.end());
    return args;
  };
  {
    StewardProcess first(dir_, ServeArgs());
    ASSERT_TRUE(first.started()) << first.Stderr();
    EXPECT_EQ(first.Stop(SIGTERM), 0);
  }
  RunResult made = RunSteward(with({"apikey", "create", "--name", "Dashboard"}));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string key(Trim(made.out));
  StewardProcess steward(dir_, ServeArgs());
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  // 120 bytes of "é" then one more: a cut by bytes would end inside a character.
  std::string long_campaign;
  for (int i = 0; i < 61; ++i) long_campaign += "%C3%A9";
  auto state = Fetch(steward.port(), "GET", "/api/consent");
  std::string version = state->body.substr(state->body.find("\"version\":\"") + 11, 8);
  std::string policy = "cookies_policy={\"essential\":true,\"usage\":true,\"version\":\"" + version + "\"}";
  for (const std::string& url : {std::string("http://127.0.0.1/search?q=%FF%FE"),
                                 "http://127.0.0.1/search?q=caf%C3%A9&utm_source=" + long_campaign,
                                 std::string("http://127.0.0.1/%FF/page?q=%C0%AF")}) {
    auto r = Fetch(steward.port(), "POST", "/api/event",
                   {{"Content-Type", "text/plain"},
                    {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
                    {"Cookie", policy}},
                   R"({"n":"pageview","u":")" + url + R"(","d":"127.0.0.1"})");
    ASSERT_EQ(r->status, 202) << url << " " << r->body;
    ASSERT_TRUE(r->Header("x-plausible-dropped").empty());
  }
  for (const char* dimension : {"event:search", "visit:source", "event:page"}) {
    auto api = Fetch(steward.port(), "POST", "/api/v2/query",
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key}},
                     std::string(R"({"site_id":"127.0.0.1","date_range":"day","metrics":["visitors"],)") +
                         R"("dimensions":[")" + dimension + R"("]})");
    ASSERT_EQ(api->status, 200) << dimension << ": " << api->body;
    EXPECT_TRUE(IsUtf8(api->body)) << dimension;
    EXPECT_NO_THROW({
      auto parsed = nlohmann::json::parse(api->body);
      (void)parsed;
    }) << dimension;
  }
  auto search =
      Fetch(steward.port(), "POST", "/api/v2/query",
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key}},
            R"({"site_id":"127.0.0.1","date_range":"day","metrics":["pageviews"],"dimensions":["event:search"]})");
  EXPECT_NE(search->body.find("\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos) << "two bad bytes, two U+FFFD";
  EXPECT_EQ(steward.Stop(SIGTERM), 0);
  RunResult json = RunSteward(with({"stats", "--period", "day", "--format", "json"}));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(IsUtf8(json.out));
  EXPECT_NO_THROW({
    auto parsed = nlohmann::json::parse(json.out);
    (void)parsed;
  });
  EXPECT_NE(json.out.find("\"pageviews\": 3"), std::string::npos) << json.out;
  EXPECT_EQ(RunSteward(with({"stats", "--format", "csv"})).exit_code, 0);
}

// Steward's access-log statistics against Debian's GoAccess on the same log: the totals, the
// status codes, the 404s and the top requested paths agree. GoAccess runs with --no-query-string
// because Steward never keeps query strings.
TEST_F(StewardTest, LogStatisticsAgreeWithGoAccess) {
  std::string log_path = dir_ + "/access.log";
  {
    std::ofstream log(log_path);
    uint64_t state = 42;
    auto next = [&] {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return state >> 33;
    };
    const char* agents[] = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
        "Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/7.88.1"};
    const char* paths[] = {"/",       "/economy",  "/economy/inflation", "/census", "/search?q=tax",  "/style.css",
                           "/app.js", "/logo.png", "/wp-login.php",      "/.env",   "/releases/2026", "/about"};
    const int statuses[] = {200, 200, 200, 200, 200, 200, 304, 301, 404, 404, 403, 500};
    const char* referrers[] = {"-", "-", "https://www.google.com/", "https://www.bbc.co.uk/news", "-"};
    for (int i = 0; i < 3000; ++i) {
      if (i % 250 == 7) {
        log << "this line is not a log line " << i << "\n";
        continue;
      }
      // Lines real servers write that GoAccess counts: a TLS handshake sent to a plain port, a
      // request with no protocol or no path, a last field that lost its closing quote.
      if (i % 250 == 100) {
        static const char* kOdd[] = {
            R"("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 157 "-" "-")",
            R"("GET /guidance HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firef)",
            R"("GET /about HTTP/1.1" 200 99 "https://www.google.com/se)",
            R"("-" 400 0 "-" "-")",
            R"("GET /no-protocol" 200 5 "-" "curl/8.5.0")",
            R"("GET" 400 0 "-" "curl/8.5.0")",
        };
        log << "198.51.100." << i % 200 << " - - [0" << 1 + i / 1000 << "/Dec/2026:12:00:00 +0000] "
            << kOdd[(i / 250) % 6] << "\n";
        continue;
      }
      int day = 1 + static_cast<int>(i / 1000);
      int second = i * 17 % 86400;
      std::string ip = next() % 5 == 0 ? "2001:db8::" + std::to_string(next() % 40)
                                       : "203.0." + std::to_string(next() % 4) + "." + std::to_string(next() % 60);
      char when[64];
      std::snprintf(when, sizeof when, "%02d/Dec/2026:%02d:%02d:%02d +0000", day, second / 3600, second / 60 % 60,
                    second % 60);
      log << ip << " - - [" << when << "] \"GET " << paths[next() % 12] << " HTTP/1.1\" " << statuses[next() % 12]
          << " " << next() % 20000 << " \"" << referrers[next() % 5] << "\" \"" << agents[next() % 5] << "\"\n";
    }
  }
  std::string report_path = dir_ + "/goaccess.json";
  std::string command = "goaccess '" + log_path + "' --log-format=COMBINED --no-query-string -o '" + report_path +
                        "' > '" + dir_ + "/goaccess.out' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "goaccess must be installed (scripts/install-deps)";
  auto peer = nlohmann::json::parse(ReadFile(report_path));

  std::vector<std::string> site = {"--config", SourcePath("examples/ons.toml"), "--data", dir_ + "/ons"};
  {
    StewardProcess steward(dir_, site);  // makes the database and key
    ASSERT_TRUE(steward.started()) << steward.Stderr();
    EXPECT_EQ(steward.Stop(SIGTERM), 0);
  }
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), site.begin(), site.end());
    return args;
  };
  RunResult imported = RunSteward(with({"logs", "import", log_path}));
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("3000 lines read, 2988 imported, 12 skipped"), std::string::npos) << imported.out;
  EXPECT_NE(imported.out.find("this line is not a log line 7"), std::string::npos) << "samples of what was skipped";
  EXPECT_NE(imported.out.find("security alerts raised"), std::string::npos) << imported.out;
  RunResult alerts = RunSteward(with({"logs", "alerts"}));
  EXPECT_EQ(alerts.exit_code, 0) << alerts.err;
  EXPECT_NE(alerts.out.find("attack-path"), std::string::npos) << alerts.out;
  EXPECT_NE(alerts.out.find("/wp-login.php"), std::string::npos);
  EXPECT_EQ(alerts.out.find("203.0."), std::string::npos) << "no addresses without --evidence";
  RunResult evidence = RunSteward(with({"logs", "alerts", "--evidence"}));
  EXPECT_NE(evidence.out.find("203.0."), std::string::npos) << "the evidence lines, opened";
  RunResult exported = RunSteward(with({"audit", "export"}));
  EXPECT_NE(exported.out.find("\"action\":\"logs.evidence_opened\""), std::string::npos);
  EXPECT_NE(exported.out.find("\"action\":\"logs.imported\""), std::string::npos);
  EXPECT_NE(exported.out.find("\"action\":\"security.alerts_raised\""), std::string::npos);
  RunResult again = RunSteward(with({"logs", "import", log_path}));
  EXPECT_NE(again.out.find("0 lines read"), std::string::npos) << again.out;

  // The raw lines: kept sealed (ONS declares the addresses), searched by the security role.
  ASSERT_TRUE(fs::exists(dir_ + "/ons/logs/2026-12.seg"));
  EXPECT_EQ(ReadFile(dir_ + "/ons/logs/2026-12.seg").find("203.0."), std::string::npos) << "sealed at rest";
  RunResult by_range = RunSteward(with({"logs", "search", "--ip", "2001:db8::/64", "--path", "/.env", "--limit", "3"}));
  ASSERT_EQ(by_range.exit_code, 0) << by_range.err;
  int shown = 0;
  for (const auto& line : Split(by_range.out, '\n')) {
    if (line.empty()) continue;
    ++shown;
    EXPECT_EQ(line.rfind("2001:db8::", 0), 0u) << line;
    EXPECT_NE(line.find("GET /.env"), std::string::npos) << line;
  }
  EXPECT_EQ(shown, 3);
  int64_t expected = 0;
  {
    std::ifstream log(log_path);
    for (std::string line; std::getline(log, line);) {
      if (line.rfind("2001:db8::", 0) == 0 && line.find("GET /.env ") != std::string::npos) ++expected;
    }
  }
  EXPECT_NE(by_range.err.find(std::to_string(expected) + " matching lines (3 shown) of 2988 read"), std::string::npos)
      << by_range.err;
  RunResult one_day = RunSteward(with({"logs", "search", "--path", "/", "--from", "2026-12-02", "--to", "2026-12-02"}));
  ASSERT_EQ(one_day.exit_code, 0) << one_day.err;
  EXPECT_EQ(one_day.out.find("01/Dec/2026"), std::string::npos);
  EXPECT_NE(one_day.out.find("02/Dec/2026"), std::string::npos);
  EXPECT_EQ(one_day.out.find("03/Dec/2026"), std::string::npos);
  RunResult bad = RunSteward(with({"logs", "search", "--ip", "203.0.0.0/99"}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bits"), std::string::npos) << bad.err;
  EXPECT_EQ(RunSteward(with({"logs", "search"})).exit_code, 2) << "something to search by";
  RunResult trail = RunSteward(with({"audit", "export"}));
  EXPECT_NE(trail.out.find("\"action\":\"logs.raw_searched\""), std::string::npos);
  EXPECT_NE(trail.out.find("range/64"), std::string::npos) << "the range's size, not its address";
  EXPECT_EQ(trail.out.find("2001:db8"), std::string::npos) << "no address in the trail";
  RunResult report = RunSteward(with({"logs", "report", "--format", "json", "--top", "0"}));
  ASSERT_EQ(report.exit_code, 0) << report.err;
  auto ours = nlohmann::json::parse(report.out);

  for (const char* total : {"total_requests", "valid_requests", "failed_requests", "unique_visitors", "bandwidth",
                            "unique_not_found", "unique_files", "unique_static_files"}) {
    EXPECT_EQ(ours["general"][total], peer["general"][total]) << total;
  }
  std::map<std::string, int64_t> peer_status, our_status;
  for (const auto& group : peer["status_codes"]["data"]) {
    for (const auto& item : group["items"]) {
      peer_status[item["data"].get<std::string>().substr(0, 3)] = item["hits"]["count"].get<int64_t>();
    }
  }
  for (const auto& row : ours["status_codes"]) our_status[row["data"].get<std::string>()] = row["hits"].get<int64_t>();
  EXPECT_EQ(our_status, peer_status);
  std::map<std::string, int64_t> peer_hours, our_hours;  // every line is at +0000: local hours are UTC
  for (const auto& row : peer["visit_time"]["data"])
    peer_hours[row["data"].get<std::string>()] = row["hits"]["count"].get<int64_t>();
  for (const auto& row : ours["visit_time"]) {
    if (row["hits"].get<int64_t>() > 0) our_hours[row["data"].get<std::string>()] = row["hits"].get<int64_t>();
  }
  EXPECT_EQ(our_hours, peer_hours) << "time of day";
  for (const char* table : {"requests", "not_found", "static_requests"}) {
    std::map<std::string, int64_t> peer_rows, our_rows;
    for (const auto& row : peer[table]["data"])
      peer_rows[row["data"].get<std::string>()] = row["hits"]["count"].get<int64_t>();
    for (const auto& row : ours[table]) our_rows[row["data"].get<std::string>()] = row["hits"].get<int64_t>();
    EXPECT_EQ(our_rows, peer_rows) << table;
  }
}

TEST_F(StewardTest, ServeFollowsTheConfiguredLogsThroughRotation) {
  std::string log_path = dir_ + "/access.log";
  std::string config = ReadFile(SourcePath("examples/ons.toml"));
  size_t web = config.find("web_dir = \"../web\"");
  ASSERT_NE(web, std::string::npos);
  config.replace(web, std::string("web_dir = \"../web\"").size(), "web_dir = \"" + SourcePath("web") + "\"");
  config +=
      "\n[logs]\nfollow_interval_seconds = 1\n[[logs.follow]]\npath = \"" + log_path + "\"\nformat = \"combined\"\n";
  std::string config_path = dir_ + "/site.toml";
  { std::ofstream(config_path) << config; }
  auto line = [](const std::string& ip, int minute, const std::string& path) {
    char when[64];
    std::snprintf(when, sizeof when, "01/Dec/2026:10:%02d:00 +0000", minute);
    return ip + " - - [" + when + "] \"GET " + path + " HTTP/1.1\" 200 10 \"-\" \"curl/8.0\"\n";
  };
  { std::ofstream(log_path) << line("203.0.113.77", 1, "/") << line("203.0.113.77", 2, "/.env"); }
  std::vector<std::string> site = {"--config", config_path, "--data", dir_ + "/data"};
  StewardProcess steward(dir_, site);
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  // The lines the follower has reported imported so far, from Steward's own log.
  auto followed = [&] {
    int64_t n = 0;
    std::string err = steward.Stderr();
    for (auto l : Split(err, '\n')) {
      size_t at = l.find("event=logs.followed lines=");
      if (at != std::string_view::npos) n += std::stoll(std::string(l.substr(at + 26)));
    }
    return n;
  };
  auto wait_for = [&](int64_t lines) {
    for (int i = 0; i < 200 && followed() < lines; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return followed() == lines;
  };
  ASSERT_TRUE(wait_for(2)) << steward.Stderr();
  // logrotate: the file moves to .1 after one more line, and a new file begins.
  { std::ofstream(log_path, std::ios::app) << line("203.0.113.78", 3, "/about"); }
  fs::rename(log_path, log_path + ".1");
  { std::ofstream(log_path) << line("203.0.113.79", 4, "/census"); }
  ASSERT_TRUE(wait_for(4)) << steward.Stderr();
  auto metrics = Fetch(steward.port(), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("steward_logs_followed_lines_total{outcome=\"imported\"} 4"), std::string::npos)
      << metrics->body;
  EXPECT_EQ(steward.Stop(SIGTERM), 0);
  EXPECT_EQ(steward.Stderr().find("203.0.113"), std::string::npos) << "no address in Steward's own log";

  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), site.begin(), site.end());
    return args;
  };
  RunResult report = RunSteward(with({"logs", "report", "--format", "json"}));
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_EQ(nlohmann::json::parse(report.out)["general"]["total_requests"], 4);
  RunResult alerts = RunSteward(with({"logs", "alerts"}));
  EXPECT_NE(alerts.out.find("attack-path"), std::string::npos) << alerts.out;
  RunResult found = RunSteward(with({"logs", "search", "--ip", "203.0.113.0/24"}));
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(Split(found.out, '\n').size(), 4u + 1u) << found.out;
  EXPECT_NE(found.out.find("GET /about"), std::string::npos) << "the line written just before the rotation";
}

TEST_F(StewardTest, VersionAndHelp) {
  RunResult v = RunSteward({"version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("steward ", 0), 0u);
  RunResult h = RunSteward({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* cmd : {"serve", "check-config", "backup", "audit", "staff", "version"}) {
    EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd;
  }
  EXPECT_NE(RunSteward({"serve"}).exit_code, 0) << "serve without --config is a usage error";
}

// The Civil Service example: one person lets us share their feedback, another does not; the
// export with personal fields holds the first one's only, and says so in the audit trail.
TEST_F(StewardTest, FeedbackWithAndWithoutPermissionToShareAndItsExport) {
  std::vector<std::string> site = {"--config", SourcePath("examples/civil-service.toml"), "--data", dir_ + "/data"};
  {
    StewardProcess steward(dir_, site);
    ASSERT_TRUE(steward.started()) << steward.Stderr();
    for (auto [who, share] : {std::pair{"sharer", true}, std::pair{"private", false}}) {
      std::string body = std::string(R"({"kind":"contact","message":"Question from )") + who +
                         R"(","name":"A Person","email":")" + who + R"(@example.org","share":)" +
                         (share ? "true" : "false") + "}";
      auto r = Fetch(steward.port(), "POST", "/api/feedback",
                     {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "same-origin"}}, body);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 202) << r->body;
    }
    EXPECT_EQ(steward.Stderr().find("example.org"), std::string::npos) << "no personal data in the log";
    EXPECT_EQ(steward.Stop(SIGTERM), 0);
  }
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), site.begin(), site.end());
    return RunSteward(args);
  };
  RunResult plain = run({"feedback", "export"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("example.org"), std::string::npos) << "no personal field unless asked";
  EXPECT_EQ(std::count(plain.out.begin(), plain.out.end(), '\n'), 2);
  RunResult shared = run({"feedback", "export", "--with-personal"});
  ASSERT_EQ(shared.exit_code, 0) << shared.err;
  EXPECT_NE(shared.out.find("sharer@example.org"), std::string::npos) << shared.out;
  EXPECT_NE(shared.out.find("Question from sharer"), std::string::npos);
  EXPECT_EQ(shared.out.find("private@example.org"), std::string::npos) << "not shared: not exported";
  EXPECT_EQ(shared.out.find("Question from private"), std::string::npos);
  RunResult csv = run({"feedback", "export", "--format", "csv", "--all-personal"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find("private@example.org"), std::string::npos);
  EXPECT_EQ(csv.out.rfind("id,received_at,kind,page,", 0), 0u);
  EXPECT_EQ(run({"feedback", "export", "--from", "yesterday"}).exit_code, 2);
  RunResult audit = run({"audit", "export"});
  size_t exports = 0;
  for (size_t at = 0; (at = audit.out.find("\"action\":\"feedback.exported\"", at)) != std::string::npos; ++at)
    ++exports;
  EXPECT_EQ(exports, 3u) << "every export is on the record";
}

// The ONS example keeps direct messages from social media for 3 months: imported from the tool's
// export, the lines it cannot take counted with their reasons and never their text.
TEST_F(StewardTest, MessagesImportedWithTheSkippedLinesExplained) {
  std::vector<std::string> site = {"--config", SourcePath("examples/ons.toml"), "--data", dir_ + "/data"};
  std::string file = dir_ + "/messages.jsonl";
  {
    std::ofstream out(file);
    out << R"({"channel":"x","handle":"@someone","text":"When is the next GDP release?","time":"2026-11-30T14:05:00Z"})"
        << "\n"
        << R"({"channel":"x","handle":"@other","text":"private words","time":"not a time"})"
        << "\n";
  }
  std::vector<std::string> init = {"init"};
  init.insert(init.end(), site.begin(), site.end());
  ASSERT_EQ(RunSteward(init).exit_code, 0);
  std::vector<std::string> import = {"messages", "import"};
  import.insert(import.end(), site.begin(), site.end());
  import.push_back(file);
  RunResult r = RunSteward(import);
  EXPECT_EQ(r.exit_code, 1) << "a line was skipped" << r.err;
  EXPECT_NE(r.out.find("imported 1 messages, skipped 1 lines"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line 2: 'time' is a date and time"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("private words"), std::string::npos);
  std::vector<std::string> dry = {"retention", "run", "--dry-run"};
  dry.insert(dry.end(), site.begin(), site.end());
  RunResult retention = RunSteward(dry);
  EXPECT_NE(retention.out.find("social-media-messages"), std::string::npos) << retention.out;
}

TEST_F(StewardTest, RightsDueFindShowAndListFromTheCommandLine) {
  std::string nc = SourcePath("examples/national-careers.toml");
  RunResult due = RunSteward({"rights", "due", "--config", nc, "--received", "2026-11-25"});
  EXPECT_EQ(due.exit_code, 0) << due.err;
  EXPECT_EQ(due.out, "2026-12-29\n") << "Christmas, then the substitute Boxing Day";
  RunResult scotland = RunSteward(
      {"rights", "due", "--config", nc, "--received", "2026-05-15", "--nation", "scotland", "--format", "json"});
  EXPECT_NE(scotland.out.find(R"("due":"2026-06-16")"), std::string::npos) << scotland.out;
  RunResult stopped = RunSteward({"rights", "due", "--config", nc, "--received", "2026-03-02", "--stopped",
                                  "2026-03-05..2026-03-09", "2026-03-20..2026-03-23", "--extended"});
  EXPECT_EQ(stopped.out, "2026-06-09\n");
  RunResult bad = RunSteward({"rights", "due", "--config", nc, "--received", "2026-03-02", "--stopped", "soon"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--stopped: give FROM..TO"), std::string::npos);

  // A fresh site holds nothing about anyone; a case that is not there is said so.
  std::string data = dir_ + "/data";
  ASSERT_EQ(RunSteward({"init", "--config", nc, "--data", data}).exit_code, 0);
  RunResult found = RunSteward(
      {"rights", "find", "--config", nc, "--data", data, "--email", "someone@example.org", "--format", "json"});
  EXPECT_EQ(found.exit_code, 0) << found.err;
  EXPECT_NE(found.out.find(R"("total": 0)"), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find("someone@"), std::string::npos) << "never the identifier";
  RunResult none = RunSteward({"rights", "show", "--config", nc, "--data", data, "--case", "R-000001"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no rights request R-000001"), std::string::npos);
  RunResult unconfirmed = RunSteward({"rights", "erase", "--config", nc, "--data", data, "--case", "R-1"});
  EXPECT_EQ(unconfirmed.exit_code, 2);
  RunResult list = RunSteward({"rights", "list", "--config", nc, "--data", data});
  EXPECT_EQ(list.out, "No open rights requests.\n");
}

}  // namespace
}  // namespace steward::testing
