// Log formats: the presets and GoAccess-style format strings against real-looking lines, and
// every way a line can be wrong.
#include "logs/format.h"

#include <gtest/gtest.h>

namespace steward::logs {
namespace {

constexpr int64_t kDay = 86'400'000;

TEST(LogFormatTest, CombinedWithTimeZones) {
  auto f = LogFormat::Preset("combined");
  ASSERT_TRUE(f);
  LogRecord r;
  ASSERT_EQ(f->Parse(R"(203.0.113.5 - alice [01/Dec/2026:10:00:00 +0100] "GET /economy/inflation?q=cpih HTTP/1.1" 200 5120 "https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")", r), "");
  EXPECT_EQ(r.host, "203.0.113.5");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/economy/inflation");
  EXPECT_EQ(r.query, "q=cpih");
  EXPECT_EQ(r.protocol, "HTTP/1.1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.bytes, 5120);
  EXPECT_EQ(r.referrer, "https://www.google.com/");
  EXPECT_EQ(r.user_agent.substr(0, 11), "Mozilla/5.0");
  int64_t day = DaysFromCivil(2026, 12, 1);
  EXPECT_EQ(r.local_day, day);
  EXPECT_EQ(r.time_ms, day * kDay + 9 * 3'600'000) << "10:00 at +01:00 is 09:00 UTC";

  // Just after midnight in New York is the next day in UTC, but the day written is the visitor's.
  ASSERT_EQ(f->Parse(R"(2001:db8::1 - - [01/Dec/2026:23:30:00 -0500] "POST /login HTTP/2.0" 302 - "-" "-")", r), "");
  EXPECT_EQ(r.host, "2001:db8::1");
  EXPECT_EQ(r.bytes, 0) << "- is no body";
  EXPECT_TRUE(r.referrer.empty());
  EXPECT_TRUE(r.user_agent.empty());
  EXPECT_EQ(r.local_day, day);
  EXPECT_EQ(r.time_ms, (day + 1) * kDay + 4 * 3'600'000 + 30 * 60'000);
}

TEST(LogFormatTest, QuotesInsideQuotedFieldsAndOddRequests) {
  auto f = LogFormat::Preset("combined");
  LogRecord r;
  ASSERT_EQ(f->Parse(R"(198.51.100.7 - - [02/Jan/2027:00:00:01 +0000] "GET /search?q=%22tax%22 HTTP/1.1" 200 10 "-" "Agent \"quoted\" here")", r), "");
  EXPECT_EQ(r.user_agent, R"(Agent \"quoted\" here)");
  ASSERT_EQ(f->Parse(R"(198.51.100.7 - - [02/Jan/2027:00:00:01 +0000] "GET /no-protocol" 200 10 "-" "x")", r), "");
  EXPECT_EQ(r.path, "/no-protocol");
  EXPECT_TRUE(r.protocol.empty());
  ASSERT_EQ(f->Parse("198.51.100.7 - - [02/Jan/2027:00:00:01 +0000] \"GET / HTTP/1.1\" 200 10 \"-\" \"x\"\r", r), "")
      << "CRLF line ends";
}

TEST(LogFormatTest, EveryWayALineCanBeWrong) {
  auto f = LogFormat::Preset("combined");
  LogRecord r;
  const std::string ok_tail = R"( "-" "x")";
  EXPECT_EQ(f->Parse("", r), "empty line");
  EXPECT_EQ(f->Parse("garbage line here", r), "does not match the format");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1)", r), "no closing quote");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "\x16\x03\x01" 400 0)" + ok_tail, r), "bad request line");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 2x0 0)" + ok_tail, r), "bad status");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 ten)" + ok_tail, r), "bad size");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [41/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1)" + ok_tail, r), "bad date");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dex/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1)" + ok_tail, r), "bad date");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:25:00:00 +0000] "GET / HTTP/1.1" 200 1)" + ok_tail, r), "bad date");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +99] "GET / HTTP/1.1" 200 1)" + ok_tail, r), "bad time zone");
  EXPECT_EQ(f->Parse(R"(- - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1)" + ok_tail, r), "no client address");
}

TEST(LogFormatTest, OtherPresetsAndCustomFormats) {
  LogRecord r;
  auto vcombined = LogFormat::Preset("vcombined");
  ASSERT_EQ(vcombined->Parse(R"(www.ons.gov.uk:443 203.0.113.5 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x")", r), "");
  EXPECT_EQ(r.vhost, "www.ons.gov.uk");
  auto common = LogFormat::Preset("common");
  ASSERT_EQ(common->Parse(R"(203.0.113.5 - - [01/Dec/2026:10:00:00 +0000] "GET /a HTTP/1.0" 404 12)", r), "");
  EXPECT_EQ(r.status, 404);
  auto w3c = LogFormat::Preset("w3c");
  ASSERT_EQ(w3c->Parse("2026-12-01 10:00:00 10.0.0.1 GET /default.aspx q=1 443 - 203.0.113.9 Mozilla/5.0 - 200 0 0 15", r), "");
  EXPECT_EQ(r.host, "203.0.113.9");
  EXPECT_EQ(r.path, "/default.aspx");
  EXPECT_EQ(r.query, "q=1");
  EXPECT_EQ(r.duration_us, 15'000);
  EXPECT_EQ(r.time_ms, DaysFromCivil(2026, 12, 1) * kDay + 10 * 3'600'000);
  EXPECT_FALSE(LogFormat::Preset("apache-ish"));

  // nginx with $request_time at the end, and a date-time in ISO 8601 ($time_iso8601).
  auto custom = LogFormat::Compile(R"(%h - %e [%x] "%r" %s %b "%R" "%u" %T)", "", "", "%Y-%m-%dT%H:%M:%S%z");
  ASSERT_TRUE(custom.ok()) << custom.error().message;
  ASSERT_EQ(custom->Parse(R"(203.0.113.5 - bob [2026-12-01T10:00:00+00:00] "GET /x HTTP/1.1" 200 1 "-" "x" 0.250)", r), "");
  EXPECT_EQ(r.user, "bob");
  EXPECT_EQ(r.duration_us, 250'000);
  EXPECT_EQ(r.time_ms, DaysFromCivil(2026, 12, 1) * kDay + 10 * 3'600'000);
  auto epoch = LogFormat::Compile(R"(%x %h "%r" %s)", "", "", "%s");
  ASSERT_TRUE(epoch.ok());
  ASSERT_EQ(epoch->Parse(R"(1796119200.5 203.0.113.5 "GET / HTTP/1.1" 200)", r), "");
  EXPECT_EQ(r.time_ms, 1'796'119'200'500);

  EXPECT_FALSE(LogFormat::Compile("%h %Q %r").ok()) << "unknown specifier";
  EXPECT_FALSE(LogFormat::Compile("%h %r %s").ok()) << "no time";
  EXPECT_FALSE(LogFormat::Compile("%h [%d:%t] %s").ok()) << "no request";
  EXPECT_FALSE(LogFormat::Compile("%h%r [%d:%t]").ok()) << "specifiers need a separator";
}

}  // namespace
}  // namespace steward::logs
