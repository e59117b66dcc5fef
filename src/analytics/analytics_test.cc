// POST /api/event over HTTP, in process, on the ONS register: consent gating, validation, bots,
// visitors and visits with a fake clock, and nothing of the IP address or user agent stored.
#include "analytics/analytics.h"

#include <gtest/gtest.h>

#include <cctype>
#include <future>
#include <set>
#include <thread>

#include "config/config.h"
#include "consent/records.h"
#include "http/server.h"
#include "http/testing/raw_client.h"
#include "store/testing/plan.h"
#include "store/testing/scratch.h"

namespace steward::analytics {
namespace {

using http::testing::Fetch;
using http::testing::RawResponse;
using namespace std::chrono_literals;

constexpr const char* kUa =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
constexpr const char* kPageview =
    R"({"n":"pageview","u":"https://www.ons.gov.uk/economy?q=inflation","d":"www.ons.gov.uk","r":"https://www.google.com/search?q=secret"})";

processing::Register Ons() {
  EXPECT_TRUE(crypto::Init().ok());
  auto c = config::Load(std::string(STEWARD_SOURCE_DIR) + "/examples/ons.toml");
  EXPECT_TRUE(c.ok());
  return processing::FromDocument(*c->document).value();
}

// The uap-core regexes, the isbot pattern and the country database, loaded once for every test.
Edge& SharedEdge() {
  static Edge* edge = [] {
    auto e = LoadEdge(std::string(STEWARD_SOURCE_DIR) + "/web");
    EXPECT_TRUE(e.ok()) << e.error().message;
    return new Edge(std::move(*e));
  }();
  return *edge;
}

class AnalyticsTest : public ::testing::Test {
 protected:
  void Start(processing::Register reg) {
    reg_ = std::move(reg);
    gate_ = std::make_unique<consent::CookieGate>(reg_);
    salts_ = std::make_unique<Salts>(site_.store(), clock_, site_.key());
    Settings settings{.domains = {"ons.gov.uk"}};
    settings.origins = PageOrigins({"https://beta.ons.gov.uk"}, settings.domains);
    analytics_ = std::make_unique<Analytics>(std::move(settings), reg_, *gate_, site_.store(), *salts_, clock_,
                                             site_.key(), &registry_);
    analytics_->SetEdge(SharedEdge().agents.get(), SharedEdge().countries.get());
    http::Router router;
    analytics_->AddRoutes(router);
    http::ServerOptions options;
    options.trusted_proxies = {*Cidr::Parse("127.0.0.1/32")};
    options.cookie_gate = [this](const http::Request& req, const std::vector<http::SetCookie>& all,
                                 const http::SetCookie& c) { return gate_->Allow(req, all, c); };
    server_ = std::make_unique<http::Server>(std::move(options), std::move(router));
    ASSERT_TRUE(server_->Start().ok());
  }
  // Analytics on legitimate interests with the statistics exemption: visitors who have not
  // objected are counted (by the day's hash when no cookie comes back).
  static processing::Register WithoutConsent() {
    auto reg = Ons();
    reg.consent_mode = processing::ConsentMode::kStatisticsExemption;
    for (auto& p : reg.purposes) {
      if (p.id == "analytics") {
        p.basis = processing::LawfulBasis::kLegitimateInterests;
        p.legitimate_interest = "Knowing which statistics people use";
      }
    }
    return reg;
  }
  void TearDown() override { server_.reset(); }

  std::optional<RawResponse> Post(const std::string& body, const std::string& ip = "203.0.113.77",
                                  const std::string& cookies = "", const std::string& ua = kUa, bool gpc = false) {
    std::vector<http::HeaderField> h = {{"Content-Type", "text/plain"}, {"X-Forwarded-For", ip}};
    if (!ua.empty()) h.push_back({"User-Agent", ua});
    if (!cookies.empty()) h.push_back({"Cookie", cookies});
    if (gpc) h.push_back({"Sec-GPC", "1"});
    return Fetch(server_->port(), "POST", "/api/event", h, body);
  }
  std::string Accepted() { return "cookies_policy=" + gate_->PolicyValue({{"usage", true}}); }
  std::vector<store::Row> Rows(const std::string& sql) {
    std::vector<store::Row> out;
    EXPECT_TRUE(site_.store()
                    .Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(out, c.Query(sql));
                      return Ok();
                    })
                    .ok());
    return out;
  }
  int64_t Count() { return Rows("SELECT count(*) FROM analytics_events").front().Int(0); }

  store::testing::ScratchSite site_{Migrations()};
  FakeClock clock_{SystemTime(std::chrono::seconds(1'798'790'400))};  // 2027-01-01T08:00:00Z
  metrics::Registry registry_;
  processing::Register reg_;
  std::unique_ptr<consent::CookieGate> gate_;
  std::unique_ptr<Salts> salts_;
  std::unique_ptr<Analytics> analytics_;
  std::unique_ptr<http::Server> server_;
};

TEST(IsBotTest, FindsEachMarkInAnyCaseAnywhereAndNoBrowser) {
  for (std::string_view mark : {"bot", "spider", "crawl", "curl/", "python-", "go-http-client", "facebookexternalhit",
                                "headless", "validator", "node-fetch"}) {
    std::string upper(mark);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(IsBot(mark)) << mark;
    EXPECT_TRUE(IsBot("Mozilla/5.0 (compatible; " + upper + "/2.1)")) << mark;
    EXPECT_TRUE(IsBot("Something " + std::string(mark))) << mark << " at the end";
    EXPECT_FALSE(IsBot(std::string(mark).substr(0, mark.size() - 1))) << mark << " cut short";
  }
  EXPECT_FALSE(
      IsBot("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36"));
  EXPECT_FALSE(
      IsBot("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.1 Mobile/15E148 Safari/604.1"));
  EXPECT_FALSE(IsBot(""));
  EXPECT_FALSE(IsBot("b"));
}

TEST_F(AnalyticsTest, OnConsentNothingIsKeptUntilTheVisitorAccepts) {
  Start(Ons());
  auto before = Post(kPageview);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 202);
  EXPECT_EQ(before->Header("x-plausible-dropped"), "1");
  EXPECT_TRUE(before->Headers("Set-Cookie").empty());
  auto gpc = Post(kPageview, "203.0.113.77", "", kUa, true);
  EXPECT_EQ(gpc->Header("x-plausible-dropped"), "1");
  EXPECT_EQ(Count(), 0);

  auto after = Post(kPageview, "203.0.113.77", Accepted());
  EXPECT_EQ(after->status, 202);
  EXPECT_EQ(after->body, "ok");
  EXPECT_TRUE(after->Header("x-plausible-dropped").empty());
  auto set = after->Headers("Set-Cookie");
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set[0].rfind("steward_visitor=", 0), 0u) << "the declared identifier, now allowed";
  EXPECT_EQ(Count(), 1) << "acknowledged means committed";
  auto row =
      Rows("SELECT site, name, hostname, path, source, referrer, search, identified FROM analytics_events").front();
  EXPECT_EQ(row.Text(0), "ons.gov.uk");
  EXPECT_EQ(row.Text(1), "pageview");
  EXPECT_EQ(row.Text(3), "/economy");
  EXPECT_EQ(row.Text(4), "Google");
  EXPECT_EQ(row.Text(5), "google.com/search") << "the referrer without its query";
  EXPECT_EQ(row.Text(6), "inflation") << "the site-search term";
  EXPECT_EQ(row.Int(7), 0) << "counted by the day's hash: the identifier was minted by this event";
  EXPECT_NE(registry_.Render().find("steward_analytics_events_total{outcome=\"dropped_consent\"} 2"),
            std::string::npos);
}

TEST_F(AnalyticsTest, TheIdentifierCookieCountsTheSameVisitorAcrossDays) {
  Start(Ons());
  auto first = Post(kPageview, "203.0.113.1", Accepted());
  std::string line = first->Headers("Set-Cookie").at(0);
  std::string cookie = line.substr(0, line.find(';'));
  clock_.Advance(72h);
  ASSERT_EQ(Post(kPageview, "198.51.100.9", Accepted() + "; " + cookie,
                 "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
                ->status,
            202);
  auto rows = Rows("SELECT count(DISTINCT visitor), count(DISTINCT visit) FROM analytics_events");
  EXPECT_EQ(rows.front().Int(0), 1) << "one visitor, though the IP address and browser changed";
  EXPECT_EQ(rows.front().Int(1), 2) << "two visits";
}

// Where usage cookies are allowed, clients that never send the identifier cookie (a tracker on
// another host name, a browser that blocks it, a server) are counted by the day's hash, as when
// cookies are not allowed: three people making six pageviews are three visitors in three visits,
// with one bounce (a visit of one pageview), not six of each.
TEST_F(AnalyticsTest, EventsWithoutTheCookieAreCountedByTheDaysHash) {
  auto reg = WithoutConsent();
  reg.consent_mode = processing::ConsentMode::kStatisticsExemption;
  Start(reg);
  const std::vector<std::pair<std::string, int>> people = {{"203.0.113.1", 3}, {"203.0.113.2", 2}, {"203.0.113.3", 1}};
  for (const auto& [ip, pages] : people) {
    for (int i = 0; i < pages; ++i) {
      auto r = Post(kPageview, ip);
      ASSERT_EQ(r->status, 202);
      ASSERT_TRUE(r->Header("x-plausible-dropped").empty());
      EXPECT_EQ(r->Headers("Set-Cookie").size(), 1u) << "the identifier is offered each time";
      clock_.Advance(1min);
    }
  }
  auto rows =
      Rows("SELECT count(*), count(DISTINCT visitor), count(DISTINCT visit), sum(identified) FROM analytics_events");
  EXPECT_EQ(rows.front().Int(0), 6);
  EXPECT_EQ(rows.front().Int(1), 3) << "three people";
  EXPECT_EQ(rows.front().Int(2), 3) << "three visits";
  EXPECT_EQ(rows.front().Int(3), 0);
  auto bounces =
      Rows("SELECT count(*) FROM (SELECT visit FROM analytics_events GROUP BY visit HAVING count(*) = 1) AS single");
  EXPECT_EQ(bounces.front().Int(0), 1) << "a bounce rate of 33%";

  // The cookie minted for a cookie-less event carries on that same visitor and visit.
  auto first = Post(kPageview, "198.51.100.4");
  std::string line = first->Headers("Set-Cookie").at(0);
  std::string cookie = line.substr(0, line.find(';'));
  clock_.Advance(1min);
  auto second = Post(kPageview, "198.51.100.4", cookie);
  EXPECT_TRUE(second->Headers("Set-Cookie").empty()) << "the cookie was sent: nothing new to set";
  auto pair = Rows(
      "SELECT count(DISTINCT visitor), count(DISTINCT visit), sum(identified) FROM analytics_events "
      "WHERE ts >= (SELECT max(ts) FROM analytics_events) - 60000");
  EXPECT_EQ(pair.front().Int(0), 1);
  EXPECT_EQ(pair.front().Int(1), 1);
  EXPECT_EQ(pair.front().Int(2), 1) << "the second was identified by the cookie";
}

// A page of the site on another host name than Steward's sends events from the browser: the
// answer lets the site's origins read it (or a tracker's fetch fails), and the preflight of a JSON
// send is answered; other origins are not let in.
TEST_F(AnalyticsTest, ARightsRequestFindsAVisitorsEventsThroughTheIndexNotAScan) {
  if (site_.store().backend() != store::Backend::kSqlite) GTEST_SKIP() << "SQLite's plan";
  std::string text;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    // As AnalyticsSubjects asks: found, exported and erased the same way.
                    STEWARD_ASSIGN_OR_RETURN(
                        auto plan,
                        c.Query("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM analytics_events WHERE identified = "
                                "1 AND visitor IN (?, ?)",
                                {int64_t{1}, int64_t{2}}));
                    for (const auto& r : plan) text += r.Text(3) + "\n";
                    return Ok();
                  })
                  .ok());
  EXPECT_NE(text.find("analytics_events_by_visitor"), std::string::npos) << text;
  EXPECT_EQ(text.find("SCAN analytics_events"), std::string::npos) << text;
}

TEST_F(AnalyticsTest, TheSitesOwnOriginsMaySendFromTheBrowser) {
  auto reg = WithoutConsent();
  reg.consent_mode = processing::ConsentMode::kStatisticsExemption;
  Start(reg);
  auto send = [&](const std::string& origin) {
    return Fetch(server_->port(), "POST", "/api/event",
                 {{"Content-Type", "text/plain"}, {"User-Agent", kUa}, {"Origin", origin}}, kPageview);
  };
  for (const char* origin : {"https://www.ons.gov.uk", "https://ons.gov.uk", "https://beta.ons.gov.uk"}) {
    auto r = send(origin);
    EXPECT_EQ(r->status, 202) << origin;
    EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), origin);
    EXPECT_EQ(r->Header("Vary"), "Origin");
  }
  auto other = send("https://evil.example");
  EXPECT_TRUE(other->Header("Access-Control-Allow-Origin").empty());
  auto bad =
      Fetch(server_->port(), "POST", "/api/event", {{"User-Agent", kUa}, {"Origin", "https://www.ons.gov.uk"}}, "{}");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->Header("Access-Control-Allow-Origin"), "https://www.ons.gov.uk") << "errors are readable too";
  auto preflight = Fetch(server_->port(), "OPTIONS", "/api/event",
                         {{"Origin", "https://www.ons.gov.uk"},
                          {"Access-Control-Request-Method", "POST"},
                          {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->Header("Access-Control-Allow-Origin"), "https://www.ons.gov.uk");
  EXPECT_EQ(preflight->Header("Access-Control-Allow-Methods"), "POST");
  EXPECT_EQ(Fetch(server_->port(), "OPTIONS", "/api/event", {{"Origin", "https://evil.example"}})->status, 403);
}

TEST_F(AnalyticsTest, BadEventsAre400WithReasonsAndNothingIsStored) {
  Start(WithoutConsent());
  auto bad = Post(R"({"n":"pageview","d":"www.ons.gov.uk"})");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, R"({"errors":{"url":["can't be blank"]}})");
  auto no_ua = Post(kPageview, "203.0.113.77", "", "");
  EXPECT_EQ(no_ua->status, 400);
  EXPECT_EQ(no_ua->body, R"({"errors":{"user_agent":["can't be blank"]}})");
  auto huge =
      Post(R"({"n":"x","u":"https://www.ons.gov.uk/","d":"ons.gov.uk","p":")" + std::string(20000, 'a') + "\"}");
  EXPECT_EQ(huge->status, 413);
  auto bot =
      Post(kPageview, "203.0.113.77", "", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
  EXPECT_EQ(bot->status, 202);
  EXPECT_EQ(bot->Header("x-plausible-dropped"), "1");
  auto other = Post(R"({"n":"pageview","u":"https://elsewhere.example/","d":"elsewhere.example"})");
  EXPECT_EQ(other->Header("x-plausible-dropped"), "1") << "not one of this site's domains";
  EXPECT_EQ(Count(), 0);
  EXPECT_NE(registry_.Render().find("steward_analytics_events_total{outcome=\"dropped_bot\"} 1"), std::string::npos);
}

TEST_F(AnalyticsTest, VisitsEndAfterThirtyMinutesIdle) {
  Start(WithoutConsent());
  ASSERT_EQ(Post(kPageview)->status, 202);
  clock_.Advance(10min);
  ASSERT_EQ(Post(kPageview)->status, 202);
  clock_.Advance(29min);
  ASSERT_EQ(Post(kPageview)->status, 202);  // still the same visit: 29 minutes idle
  clock_.Advance(31min);
  ASSERT_EQ(Post(kPageview)->status, 202);                   // a new visit
  ASSERT_EQ(Post(kPageview, "198.51.100.20")->status, 202);  // someone else
  auto rows = Rows("SELECT count(DISTINCT visitor), count(DISTINCT visit), sum(identified) FROM analytics_events");
  EXPECT_EQ(rows.front().Int(0), 2);
  EXPECT_EQ(rows.front().Int(1), 3);
  EXPECT_EQ(rows.front().Int(2), 0) << "no cookie: counted by the salted hash";
  auto first = Rows("SELECT visit FROM analytics_events ORDER BY id");
  EXPECT_EQ(first[0].Int(0), first[2].Int(0));
  EXPECT_NE(first[2].Int(0), first[3].Int(0));
}

TEST_F(AnalyticsTest, AVisitCarriesOnAcrossMidnightThenTheSaltChanges) {
  clock_.Advance(15h + 50min);  // 23:50
  Start(WithoutConsent());
  ASSERT_EQ(Post(kPageview)->status, 202);
  clock_.Advance(20min);  // 00:10 the next day: a new salt, the same visit
  ASSERT_EQ(Post(kPageview)->status, 202);
  clock_.Advance(2h);  // a new visit under today's salt: a new visitor as far as anyone can tell
  ASSERT_EQ(Post(kPageview)->status, 202);
  auto rows = Rows("SELECT visitor, visit FROM analytics_events ORDER BY id");
  EXPECT_EQ(rows[0].Int(1), rows[1].Int(1));
  EXPECT_EQ(rows[0].Int(0), rows[1].Int(0));
  EXPECT_NE(rows[1].Int(0), rows[2].Int(0));
}

TEST_F(AnalyticsTest, TheEdgeKeepsCountryBrowserOsAndDeviceOnly) {
  Start(WithoutConsent());
  const std::string iphone =
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
      "Mobile/15E148 Safari/604.1";
  ASSERT_EQ(Post(kPageview, "212.58.244.20", "", iphone)->status, 202);
  ASSERT_EQ(Post(kPageview, "8.8.8.8", "", kUa)->status, 202);
  ASSERT_EQ(
      Post(kPageview, "10.1.2.3", "", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")->status,
      202);
  auto rows =
      Rows("SELECT country, browser, browser_version, os, os_version, device FROM analytics_events ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].Text(0), "GB");
  EXPECT_EQ(rows[0].Text(1), "Mobile Safari");
  EXPECT_EQ(rows[0].Text(2), "17");
  EXPECT_EQ(rows[0].Text(3), "iOS");
  EXPECT_EQ(rows[0].Text(4), "17");
  EXPECT_EQ(rows[0].Text(5), "Mobile");
  EXPECT_EQ(rows[1].Text(0), "US");
  EXPECT_EQ(rows[1].Text(1), "Chrome");
  EXPECT_EQ(rows[1].Text(2), "131");
  EXPECT_EQ(rows[1].Text(3), "Linux");
  EXPECT_EQ(rows[1].Text(5), "Desktop");
  EXPECT_EQ(rows[2].Text(0), "") << "a private address has no country";
  EXPECT_EQ(rows[2].Text(1), "Firefox");
  // Bots by the isbot pattern and by uap-core's spider class alike.
  for (const char* bot : {"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
                          "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                          "HeadlessChrome/131.0.0.0 Safari/537.36",
                          "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)"}) {
    auto r = Post(kPageview, "8.8.8.8", "", bot);
    EXPECT_EQ(r->Header("x-plausible-dropped"), "1") << bot;
  }
  EXPECT_EQ(Count(), 3);
  EXPECT_NE(registry_.Render().find("steward_analytics_events_total{outcome=\"dropped_bot\"} 3"), std::string::npos);
}

// In consent mode the visitor's choice decides whatever the purpose's lawful basis: analytics on
// public task or legitimate interests counts no one before a yes, and no one after a no.
TEST_F(AnalyticsTest, InConsentModeTheChoiceDecidesWhateverTheBasis) {
  auto reg = Ons();
  ASSERT_EQ(reg.consent_mode, processing::ConsentMode::kConsent);
  for (auto& p : reg.purposes) {
    if (p.id == "analytics") p.basis = processing::LawfulBasis::kPublicTask;
  }
  Start(reg);
  std::string refused = "cookies_policy=" + gate_->PolicyValue({{"usage", false}});
  for (const std::string& cookies : {std::string(), refused}) {
    auto r = Post(kPageview, "203.0.113.9", cookies);
    EXPECT_EQ(r->status, 202);
    EXPECT_EQ(r->Header("x-plausible-dropped"), "1") << (cookies.empty() ? "no choice yet" : "refused");
    EXPECT_TRUE(r->Headers("Set-Cookie").empty());
  }
  EXPECT_EQ(Count(), 0);
  auto accepted = Post(kPageview, "203.0.113.9", Accepted());
  EXPECT_TRUE(accepted->Header("x-plausible-dropped").empty());
  EXPECT_EQ(Count(), 1);
  // And with the statistics exemption, a no (or GPC) is an objection whatever the basis.
  reg.consent_mode = processing::ConsentMode::kStatisticsExemption;
  server_.reset();
  Start(reg);
  refused = "cookies_policy=" + gate_->PolicyValue({{"usage", false}});  // this register's version
  EXPECT_EQ(Post(kPageview, "203.0.113.9", refused)->Header("x-plausible-dropped"), "1");
  EXPECT_EQ(Post(kPageview, "203.0.113.9", "", kUa, /*gpc=*/true)->Header("x-plausible-dropped"), "1");
  EXPECT_TRUE(Post(kPageview, "203.0.113.9")->Header("x-plausible-dropped").empty());
  EXPECT_EQ(Count(), 2);
}

// A full write queue is 503 with Retry-After, and nothing is lost once it drains.
TEST(AnalyticsQueueTest, AFullQueueIs503AndTheServerGoesOn) {
  ASSERT_TRUE(crypto::Init().ok());
  store::testing::ScratchSite site(Migrations(), 2, /*write_queue=*/3);
  FakeClock clock{SystemTime(std::chrono::seconds(1'798'790'400))};
  auto reg = Ons();
  reg.consent_mode = processing::ConsentMode::kStatisticsExemption;  // counted without a choice
  for (auto& p : reg.purposes) {
    if (p.id == "analytics") {
      p.basis = processing::LawfulBasis::kLegitimateInterests;
      p.legitimate_interest = "Knowing which statistics people use";
    }
  }
  consent::CookieGate gate(reg);
  Salts salts(site.store(), clock, site.key());
  Analytics analytics(Settings{.domains = {"ons.gov.uk"}}, reg, gate, site.store(), salts, clock, site.key(), nullptr);
  ASSERT_TRUE(analytics.Housekeep().ok());
  http::Router router;
  analytics.AddRoutes(router);
  http::ServerOptions options;
  http::Server server(std::move(options), std::move(router));
  ASSERT_TRUE(server.Start().ok());
  auto post = [&] {
    return Fetch(server.port(), "POST", "/api/event", {{"Content-Type", "text/plain"}, {"User-Agent", kUa}}, kPageview);
  };
  // Hold the writer, then fill its queue with other modules' writes.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(site.store()
                  .Submit(
                      [released](store::Connection&) -> Status {
                        released.wait();
                        return Ok();
                      },
                      nullptr)
                  .ok());
  while (site.store().write_queue_depth() > 0) std::this_thread::sleep_for(5ms);  // the writer holds it
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(site.store().Submit([](store::Connection&) { return Ok(); }, nullptr).ok());
  auto busy = post();
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->Header("Retry-After"), "1");
  release.set_value();
  // Once the writer has drained the queue there is room again.
  while (site.store().write_queue_depth() > 0) std::this_thread::sleep_for(5ms);
  // Events that arrive together share one write, and each is answered once it has committed.
  std::vector<std::future<std::optional<RawResponse>>> together;
  together.reserve(6);
  for (int i = 0; i < 6; ++i) together.push_back(std::async(std::launch::async, post));
  for (auto& t : together) EXPECT_EQ(t.get()->status, 202);
  int64_t stored = 0;
  ASSERT_TRUE(site.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM analytics_events"));
                    stored = rows.front().Int(0);
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(stored, 6) << "the refused event is not stored; every acknowledged one is";
}

TEST_F(AnalyticsTest, WithoutConsentGpcIsAnObjection) {
  Start(WithoutConsent());
  auto r = Post(kPageview, "203.0.113.77", "", kUa, /*gpc=*/true);
  EXPECT_EQ(r->Header("x-plausible-dropped"), "1");
  EXPECT_EQ(Count(), 0);
}

TEST_F(AnalyticsTest, NoIpAddressOrUserAgentAnywhereInTheDatabase) {
  Start(Ons());
  const std::string ip = "203.0.113.201";
  const std::string ua = "Mozilla/5.0 (X11; Linux x86_64) DistinctiveBrowser/77.1";
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Post(kPageview, ip, Accepted(), ua)->status, 202);
    ASSERT_EQ(Post(R"({"n":"engagement","u":"https://www.ons.gov.uk/economy","d":"ons.gov.uk","sd":75,"e":9000})", ip,
                   Accepted(), ua)
                  ->status,
              202);
  }
  clock_.Advance(30min);
  auto* w = analytics_.get();
  ASSERT_TRUE(w->Housekeep().ok());
  // Every column of every row of every table.
  std::vector<std::string> tables;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(tables, c.TableNames());
                    return Ok();
                  })
                  .ok());
  ASSERT_GE(tables.size(), 2u);
  size_t cells = 0;
  for (const auto& t : tables) {
    for (const auto& row : Rows("SELECT * FROM \"" + t + "\"")) {
      for (size_t c = 0; c < row.size(); ++c, ++cells) {
        std::string v = row.Text(c);
        if (const auto* b = std::get_if<store::Blob>(&row.at(c))) v = b->bytes;
        EXPECT_EQ(v.find(ip), std::string::npos) << t;
        EXPECT_EQ(v.find("DistinctiveBrowser"), std::string::npos) << t;
        EXPECT_EQ(v.find("203.0.113"), std::string::npos) << t;
      }
    }
  }
  EXPECT_GT(cells, 50u);
}

TEST_F(AnalyticsTest, RetentionPurgesEventsPastTheCutOff) {
  Start(WithoutConsent());
  ASSERT_EQ(Post(kPageview)->status, 202);
  clock_.Advance(48h);
  ASSERT_EQ(Post(kPageview)->status, 202);
  auto storage = Storage();
  EXPECT_TRUE(storage.in_use(reg_));
  EXPECT_TRUE(storage.batched);
  std::string cutoff = FormatRfc3339Millis(clock_.Now() - 24h);
  store::testing::CaughtStatements deletes({"DELETE FROM analytics_events"});
  int64_t purged = 0;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(purged, storage.purge(c, processing::Dataset{}, cutoff, "", false, 1000));
                    return Ok();
                  })
                  .ok());
  deletes.Stop();
  EXPECT_EQ(purged, 1);
  EXPECT_EQ(Count(), 1);
  // A batch seeks each site's oldest events by the index of its events by time: it never reads the
  // events kept, which a backlog's every batch would read again.
  if (site_.store().backend() != store::Backend::kSqlite) return;
  auto stray = deletes.Stray(site_.store(), {"analytics_events_by_site_time (site=? AND ts<?)"});
  ASSERT_TRUE(stray.ok()) << stray.error().message;
  EXPECT_EQ(*stray, std::vector<std::string>{});
}

TEST(SettingsTest, ReadsAnalyticsAndChecksTheVisitorCookie) {
  ASSERT_TRUE(crypto::Init().ok());
  auto reg = Ons();
  auto c =
      config::Parse("[site]\nname = \"x\"\n[analytics]\ndomains = [\"WWW.ons.gov.uk\"]\nsearch_parameter = \"query\"\n",
                    "/tmp/a.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto s = ReadSettings(*c->document, reg);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->domains, std::vector<std::string>{"ons.gov.uk"});
  EXPECT_EQ((*s)->search_parameter, "query");
  auto bad = config::Parse("[analytics]\ndomains = [\"a.uk\"]\nvisitor_cookie = \"_ga\"\n", "/tmp/b.toml");
  ASSERT_TRUE(bad.ok());
  auto r = ReadSettings(*bad->document, reg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/tmp/b.toml:3:"), std::string::npos) << r.error().message;
  auto none = config::Parse("[site]\nname = \"x\"\n", "/tmp/c.toml");
  EXPECT_FALSE(ReadSettings(*none->document, reg)->has_value());
}

}  // namespace
}  // namespace steward::analytics
