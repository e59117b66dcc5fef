// The [logs] settings: security rules, raw lines and followed logs read from the site's file, with
// problems named by file and line.
#include "logs/settings.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "config/config.h"

namespace steward::logs {
namespace {

TEST(LogSettingsTest, ReadFromTheSiteFile) {
  auto c = config::Parse(R"(
[site]
name = "Test"
[logs]
keep_raw_lines = false
follow_interval_seconds = 2
[[logs.follow]]
path = "/var/log/nginx/access.log"
[[logs.follow]]
path = "/var/log/apache2/other_vhosts_access.log"
format = "vcombined"
[[logs.follow]]
path = "/srv/app.log"
log_format = "%h [%d:%t %^] \"%r\" %s %b"
[logs.security]
scanner_404s = 5
sign_in_paths = ["/account/sign-in"]
attack_paths = ["/secret-admin"]
)",
                         "/site.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto s = ReadLogSettings(*c->document);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->keep_raw_lines);
  EXPECT_EQ(s->follow_interval_s, 2);
  ASSERT_EQ(s->follow.size(), 3u);
  EXPECT_EQ(s->follow[1].path, "/var/log/apache2/other_vhosts_access.log");
  LogRecord r;
  EXPECT_EQ(s->follow[0].format.Parse(
                "203.0.113.5 - - [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl/8\"", r),
            "")
      << "combined unless told";
  EXPECT_EQ(s->follow[2].format.Parse("203.0.113.5 [01/Dec/2026:10:00:00 +0000] \"GET /x HTTP/1.1\" 200 5", r), "");
  EXPECT_EQ(r.path, "/x");
  const SecurityRules& rules = s->security;
  EXPECT_EQ(rules.scanner_404s, 5);
  EXPECT_EQ(rules.sign_in_paths, std::vector<std::string>{"/account/sign-in"});
  EXPECT_NE(std::find(rules.attack_paths.begin(), rules.attack_paths.end(), "/secret-admin"), rules.attack_paths.end());
  EXPECT_NE(std::find(rules.attack_paths.begin(), rules.attack_paths.end(), "/.env"), rules.attack_paths.end())
      << "added to the defaults";
}

TEST(LogSettingsTest, AFormatNameWithAPercentIsAFormatString) {
  auto f = ChooseFormat("%h [%d:%t %^] \"%r\" %s %b", "", "", "");
  ASSERT_TRUE(f.ok()) << f.error().message;
  LogRecord r;
  EXPECT_EQ(f->Parse("203.0.113.5 [01/Dec/2026:10:00:00 +0000] \"GET /x HTTP/1.1\" 200 5", r), "");
  EXPECT_FALSE(ChooseFormat("%h %Q", "", "", "").ok()) << "an unknown specifier";
  EXPECT_FALSE(ChooseFormat("apache", "", "", "").ok());
  EXPECT_TRUE(ChooseFormat("", "", "", "").ok()) << "combined";
}

TEST(LogSettingsTest, DefaultsWithoutALogsTable) {
  auto c = config::Parse("[site]\nname = \"T\"\n", "/site.toml");
  ASSERT_TRUE(c.ok());
  auto s = ReadLogSettings(*c->document);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->keep_raw_lines);
  EXPECT_TRUE(s->follow.empty());
  EXPECT_TRUE(s->security.enabled);
}

TEST(LogSettingsTest, ProblemsNameTheFileAndLine) {
  auto c = config::Parse(R"([site]
name = "T"
[logs]
mystery = 1
[[logs.follow]]
path = "access.log"
[[logs.follow]]
path = "/var/log/a.log"
format = "apache-ish"
[[logs.follow]]
format = "combined"
[logs.security]
scanner_404s = 0
)",
                         "/site.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto s = ReadLogSettings(*c->document);
  ASSERT_FALSE(s.ok());
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("/site.toml:4:"), std::string::npos) << m;   // unknown key
  EXPECT_NE(m.find("/site.toml:6:"), std::string::npos) << m;   // relative path
  EXPECT_NE(m.find("/site.toml:9:"), std::string::npos) << m;   // unknown format
  EXPECT_NE(m.find("path"), std::string::npos) << m;            // the third has none
  EXPECT_NE(m.find("/site.toml:13:"), std::string::npos) << m;  // out of range
}

TEST(LogSettingsTest, RawLinesAreKeptOnlyWhenTheRegisterDeclaresTheAddresses) {
  LogSettings settings;
  processing::Register reg;
  EXPECT_FALSE(KeepsRawLines(settings, reg));
  processing::Dataset d;
  d.module = "logs";
  d.categories = {"user.device.browser"};
  reg.datasets.push_back(d);
  EXPECT_FALSE(KeepsRawLines(settings, reg));
  reg.datasets.back().categories.emplace_back("user.device.ip_address");
  EXPECT_TRUE(KeepsRawLines(settings, reg));
  settings.keep_raw_lines = false;
  EXPECT_FALSE(KeepsRawLines(settings, reg));
}

}  // namespace
}  // namespace steward::logs
