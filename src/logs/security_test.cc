// Security monitoring: each rule against a stream of requests, alerts merged per hour, evidence
// sealed.
#include "logs/security.h"

#include <gtest/gtest.h>

#include <set>

#include <fstream>
#include <map>

#include "config/config.h"
#include "logs/import.h"
#include "logs/stats.h"
#include "store/testing/scratch.h"

namespace steward::logs {
namespace {

std::string Line(const std::string& ip, int second, const std::string& method, const std::string& target, int status) {
  char when[48];
  std::snprintf(when, sizeof when, "01/Dec/2026:10:%02d:%02d +0000", second / 60, second % 60);
  return ip + " - - [" + when + "] \"" + method + " " + target + " HTTP/1.1\" " + std::to_string(status) +
         " 10 \"-\" \"Mozilla/5.0\"\n";
}

TEST(AttackMatcherTest, ProbesTraversalAndInjection) {
  SecurityRules rules;
  rules.attack_paths.emplace_back("~");  // one byte: found before any byte, and at the end
  AttackMatcher attacks(rules);
  auto f = LogFormat::Preset("combined");
  auto check = [&](const std::string& target) {
    LogRecord r;
    std::string line = Line("203.0.113.5", 0, "GET", target, 404);
    EXPECT_EQ(f->Parse(line, r), "");
    return std::string(attacks.In(r));
  };
  EXPECT_EQ(check("/.env"), "attack-path");
  EXPECT_EQ(check("/blog/wp-login.php"), "attack-path");
  EXPECT_EQ(check("/.git/config"), "attack-path");
  EXPECT_EQ(check("/static/..%2F..%2Fetc/shadow"), "path-traversal");
  EXPECT_EQ(check("/item?id=1%27%20OR%201=1"), "sql-injection");
  EXPECT_EQ(check("/search?q=%3Cscript%3Ealert(1)%3C/script%3E"), "script-injection");
  EXPECT_EQ(check("/economy/inflation?q=cpih"), "");
  EXPECT_EQ(check("/environment"), "") << "not /.env";
  EXPECT_EQ(check("/.ENV"), "attack-path") << "lower-cased";
  EXPECT_EQ(check("/%2Eenv"), "attack-path") << "decoded";
  EXPECT_EQ(check("/~a"), "attack-path");
  EXPECT_EQ(check("/a%7E"), "attack-path") << "at the end";
  EXPECT_EQ(check("/%2e%2e/.env"), "attack-path") << "the first rule of several";
  EXPECT_EQ(check("/item?id=1+union+select+2"), "sql-injection") << "+ is a space";
  EXPECT_EQ(check("/onload=1"), "script-injection") << "in the path too";
  EXPECT_EQ(check("/a?b=../.."), "") << "traversal is looked for in the path alone";
  rules.attack_paths.emplace_back("");
  EXPECT_EQ(std::string(AttackMatcher(rules).In(LogRecord{})), "attack-path") << "an empty pattern is everywhere";
}

TEST(MonitorTest, ScannersBruteForceAndFloodsFromAnImport) {
  ASSERT_TRUE(crypto::Init().ok());
  store::testing::ScratchSite site(Migrations());
  SecurityRules rules;
  rules.flood_requests = 100;
  Monitor monitor(rules, site.key());
  std::string log;
  for (int i = 0; i < 25; ++i)
    log += Line("198.51.100.9", i, "GET", "/missing-" + std::to_string(i), 404);                  // a scanner
  for (int i = 0; i < 12; ++i) log += Line("198.51.100.10", 100 + i, "POST", "/login", 200);      // brute force
  for (int i = 0; i < 120; ++i) log += Line("198.51.100.11", 200 + i / 10, "GET", "/", 200);      // a flood
  for (int i = 0; i < 10; ++i) log += Line("203.0.113.5", 300 + i * 30, "GET", "/economy", 200);  // a person
  log += Line("198.51.100.12", 500, "GET", "/.env", 404);
  std::string path = (site.dir() / "access.log").string();
  { std::ofstream(path) << log; }
  FakeClock clock(SystemTime(std::chrono::seconds(1'800'000'000)));
  Importer importer(site.store(), site.key(), clock, nullptr, &monitor);
  auto s = importer.ImportFile(path, *LogFormat::Preset("combined"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->alerts, 4);

  auto alerts = Monitor::List(site.store(), site.key(), 0, 4'102'444'800'000, /*evidence=*/false);
  ASSERT_TRUE(alerts.ok());
  std::map<std::string, Alert> by_rule;
  for (const auto& a : *alerts) by_rule[a.rule] = a;
  ASSERT_EQ(by_rule.size(), 4u);
  EXPECT_EQ(by_rule["scanner"].count, 1) << "one alert for the burst, not one per 404 past the threshold";
  EXPECT_NE(by_rule["brute-force"].detail.find("/login"), std::string::npos);
  EXPECT_EQ(by_rule["attack-path"].detail, "/.env");
  EXPECT_TRUE(by_rule["flood"].evidence.empty()) << "evidence stays sealed unless asked for";
  EXPECT_EQ(by_rule["scanner"].client.rfind("c-", 0), 0u);
  for (const auto& a : *alerts) {
    EXPECT_EQ(a.client.find("198.51"), std::string::npos) << "clients are named by a keyed hash";
  }
  auto opened = Monitor::List(site.store(), site.key(), 0, 4'102'444'800'000, /*evidence=*/true);
  for (const auto& a : *opened) {
    ASSERT_FALSE(a.evidence.empty()) << a.rule;
    if (a.rule == "attack-path") {
      EXPECT_NE(a.evidence[0].find("198.51.100.12"), std::string::npos);
    }
  }
  // The sealed evidence is not readable in the database.
  ASSERT_TRUE(site.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT evidence, client, detail FROM logs_alerts"));
                    for (const auto& row : rows) {
                      const auto* b = std::get_if<store::Blob>(&row.at(0));
                      EXPECT_TRUE(b != nullptr && b->bytes.find("198.51.100") == std::string::npos);
                      EXPECT_EQ(row.Text(1).find("198.51.100"), std::string::npos);
                    }
                    return Ok();
                  })
                  .ok());

  // The same attack an hour later adds to the same client's alert of that hour only.
  std::string more = Line("198.51.100.12", 501, "GET", "/.env.bak", 404);
  { std::ofstream(path, std::ios::app) << more; }
  ASSERT_TRUE(importer.ImportFile(path, *LogFormat::Preset("combined")).ok());
  alerts = Monitor::List(site.store(), site.key(), 0, 4'102'444'800'000, false);
  for (const auto& a : *alerts) {
    if (a.rule == "attack-path") {
      EXPECT_EQ(a.count, 2);
    }
  }
}

}  // namespace
// Hundreds of thousands of clients, each once, among them one flood: the flood is still found,
// and windows of clients gone quiet are forgotten (the sweep runs now and then, not on each line)
// while those of clients still busy are kept.
TEST(MonitorTest, ManyClientsAndAFloodAmongThem) {
  ASSERT_TRUE(crypto::Init().ok());
  store::testing::ScratchSite site(Migrations());
  SecurityRules rules;
  rules.flood_requests = 50;
  Monitor monitor(rules, site.key());
  LogRecord r;
  auto format = *LogFormat::Preset("combined");
  auto feed = [&](const std::string& ip, int64_t second) {
    std::string line = Line(ip, second, "GET", "/", 200);
    line.pop_back();
    ASSERT_EQ(format.Parse(line, r), "");
    monitor.Feed(monitor.See(r, line));
  };
  int64_t second = 0;
  for (int i = 0; i < 400'000; ++i) {
    feed("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255),
         second);
    if (i % 4000 == 0) ++second;
    if (i % 5000 == 0) {
      for (int k = 0; k < 60; ++k) feed("198.51.100.77", second);  // 60 requests in a second
    }
    // A slower flood, 50 requests in 12 s, from before its shard's first sweep to after it (about
    // line 300,000: each shard holds more than its share of the 200,000 clients kept from about
    // line 200,000, and then sweeps after every half share of its lines, 100,000 of the log's,
    // however many shards there are): its window must outlive the sweep.
    if (i >= 280'000 && i < 330'000 && i % 1000 == 0) feed("198.51.100.88", second);
  }
  std::set<std::string> flooding;
  for (const auto& [key, found] : monitor.Take()) {
    if (found.alert.rule == "flood") flooding.insert(found.alert.client);
  }
  EXPECT_TRUE(flooding.contains(monitor.ClientLabel("198.51.100.77")));
  EXPECT_TRUE(flooding.contains(monitor.ClientLabel("198.51.100.88"))) << "50 requests in 12 s, across a sweep";
  EXPECT_EQ(flooding.size(), 2u);
}

}  // namespace steward::logs
