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
  ASSERT_EQ(
      f->Parse(
          R"(203.0.113.5 - alice [01/Dec/2026:10:00:00 +0100] "GET /economy/inflation?q=cpih HTTP/1.1" 200 5120 "https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")",
          r),
      "");
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
  EXPECT_EQ(r.time_ms, day * kDay + int64_t{9} * 3'600'000) << "10:00 at +01:00 is 09:00 UTC";

  // Just after midnight in New York is the next day in UTC, but the day written is the visitor's.
  ASSERT_EQ(f->Parse(R"(2001:db8::1 - - [01/Dec/2026:23:30:00 -0500] "POST /login HTTP/2.0" 302 - "-" "-")", r), "");
  EXPECT_EQ(r.host, "2001:db8::1");
  EXPECT_EQ(r.bytes, 0) << "- is no body";
  EXPECT_TRUE(r.referrer.empty());
  EXPECT_TRUE(r.user_agent.empty());
  EXPECT_EQ(r.local_day, day);
  EXPECT_EQ(r.time_ms, (day + 1) * kDay + int64_t{4} * 3'600'000 + int64_t{30} * 60'000);
}

TEST(LogFormatTest, QuotesInsideQuotedFieldsAndOddRequests) {
  auto f = LogFormat::Preset("combined");
  LogRecord r;
  ASSERT_EQ(
      f->Parse(
          R"(198.51.100.7 - - [02/Jan/2027:00:00:01 +0000] "GET /search?q=%22tax%22 HTTP/1.1" 200 10 "-" "Agent \"quoted\" here")",
          r),
      "");
  EXPECT_EQ(r.user_agent, R"(Agent \"quoted\" here)");
  ASSERT_EQ(f->Parse(R"(198.51.100.7 - - [02/Jan/2027:00:00:01 +0000] "GET /no-protocol" 200 10 "-" "x")", r), "");
  EXPECT_EQ(r.path, "-") << "as GoAccess counts it";
  EXPECT_EQ(r.method, "GET");
  EXPECT_TRUE(r.protocol.empty());
  // A TLS handshake sent to a plain port, as nginx logs it: the whole request line is the request.
  ASSERT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "\x16\x03\x01" 400 0 "-" "-")", r), "");
  EXPECT_EQ(r.path, R"(\x16\x03\x01)");
  EXPECT_TRUE(r.method.empty());
  // A last field that lost its closing quote (a line cut short) still counts.
  ASSERT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11)", r),
            "");
  EXPECT_EQ(r.user_agent, "Mozilla/5.0 (X11");
  ASSERT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "https://x.example/)", r), "");
  EXPECT_EQ(r.referrer, "https://x.example/");
  EXPECT_TRUE(r.user_agent.empty());
  ASSERT_EQ(f->Parse("198.51.100.7 - - [02/Jan/2027:00:00:01 +0000] \"GET / HTTP/1.1\" 200 10 \"-\" \"x\"\r", r), "")
      << "CRLF line ends";
}

TEST(LogFormatTest, EveryWayALineCanBeWrong) {
  auto f = LogFormat::Preset("combined");
  LogRecord r;
  const std::string ok_tail = R"( "-" "x")";
  EXPECT_EQ(f->Parse("", r), "empty line");
  EXPECT_EQ(f->Parse("garbage line here", r), "does not match the format");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1)", r), "the line ends early");
  // As GoAccess: once the size is there, the referrer and user agent may be cut off; not before.
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-")", r), "");
  EXPECT_EQ(f->Parse(R"(1.2.3.4 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5)", r),
            "does not match the format");
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
  ASSERT_EQ(vcombined->Parse(
                R"(www.ons.gov.uk:443 203.0.113.5 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x")", r),
            "");
  EXPECT_EQ(r.vhost, "www.ons.gov.uk");
  auto common = LogFormat::Preset("common");
  ASSERT_EQ(common->Parse(R"(203.0.113.5 - - [01/Dec/2026:10:00:00 +0000] "GET /a HTTP/1.0" 404 12)", r), "");
  EXPECT_EQ(r.status, 404);
  auto w3c = LogFormat::Preset("w3c");
  ASSERT_EQ(
      w3c->Parse("2026-12-01 10:00:00 10.0.0.1 GET /default.aspx q=1 443 - 203.0.113.9 Mozilla/5.0 - 200 0 0 15", r),
      "");
  EXPECT_EQ(r.host, "203.0.113.9");
  EXPECT_EQ(r.path, "/default.aspx");
  EXPECT_EQ(r.query, "q=1");
  EXPECT_EQ(r.duration_us, 15'000);
  EXPECT_EQ(r.time_ms, DaysFromCivil(2026, 12, 1) * kDay + int64_t{10} * 3'600'000);
  EXPECT_FALSE(LogFormat::Preset("apache-ish"));

  // nginx with $request_time at the end, and a date-time in ISO 8601 ($time_iso8601).
  auto custom = LogFormat::Compile(R"(%h - %e [%x] "%r" %s %b "%R" "%u" %T)", "", "", "%Y-%m-%dT%H:%M:%S%z");
  ASSERT_TRUE(custom.ok()) << custom.error().message;
  ASSERT_EQ(custom->Parse(R"(203.0.113.5 - bob [2026-12-01T10:00:00+00:00] "GET /x HTTP/1.1" 200 1 "-" "x" 0.250)", r),
            "");
  EXPECT_EQ(r.user, "bob");
  EXPECT_EQ(r.duration_us, 250'000);
  EXPECT_EQ(r.time_ms, DaysFromCivil(2026, 12, 1) * kDay + int64_t{10} * 3'600'000);
  auto epoch = LogFormat::Compile(R"(%x %h "%r" %s)", "", "", "%s");
  ASSERT_TRUE(epoch.ok());
  ASSERT_EQ(epoch->Parse(R"(1796119200.5 203.0.113.5 "GET / HTTP/1.1" 200)", r), "");
  EXPECT_EQ(r.time_ms, 1'796'119'200'500);

  EXPECT_FALSE(LogFormat::Compile("%h %Q %r").ok()) << "unknown specifier";
  EXPECT_FALSE(LogFormat::Compile("%h %r %s").ok()) << "no time";
  EXPECT_FALSE(LogFormat::Compile("%h [%d:%t] %s").ok()) << "no request";
  EXPECT_FALSE(LogFormat::Compile("%h%r [%d:%t]").ok()) << "specifiers need a separator";
}

TEST(LogFormatTest, CaddyJsonLines) {
  auto f = LogFormat::Preset("caddy");
  ASSERT_TRUE(f);
  LogRecord r;
  std::string line =
      R"({"level":"info","ts":1796119200.5241024,"logger":"http.log.access.log0","msg":"handled request",)"
      R"("request":{"remote_ip":"10.0.0.2","remote_port":"41342","client_ip":"203.0.113.9","proto":"HTTP/2.0",)"
      R"("method":"GET","host":"www.example.gov.uk","uri":"/search?q=tax\u0026page=2",)"
      R"("headers":{"User-Agent":["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],)"
      R"("Accept":["*/*"],"Referer":["https://www.google.com/"]},"tls":{"resumed":false,"version":772}},)"
      R"("bytes_read":0,"user_id":"","duration":0.000929675,"size":10900,"status":200,)"
      R"("resp_headers":{"Content-Type":["text/html"]}})";
  ASSERT_EQ(f->Parse(line, r), "");
  EXPECT_EQ(r.host, "203.0.113.9") << "client_ip, the address behind trusted proxies";
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/search");
  EXPECT_EQ(r.query, "q=tax&page=2") << "\\u0026 decoded";
  EXPECT_GE(r.path.data(), line.data()) << "the path stays a view into the line";
  EXPECT_LT(r.path.data(), line.data() + line.size());
  EXPECT_EQ(r.protocol, "HTTP/2.0");
  EXPECT_EQ(r.vhost, "www.example.gov.uk");
  EXPECT_EQ(r.user_agent.substr(0, 11), "Mozilla/5.0");
  EXPECT_EQ(r.referrer, "https://www.google.com/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.bytes, 10900);
  EXPECT_EQ(r.duration_us, 930);
  EXPECT_EQ(r.time_ms, 1796119200524);
  EXPECT_EQ(r.local_day, DaysFromCivil(2026, 12, 1));

  // An older Caddy: remote_addr with a port, an ISO 8601 time, escapes in the user agent.
  ASSERT_EQ(
      f->Parse(
          R"({"ts":"2026-12-01T10:00:00.250+01:00","logger":"http.log.access","request":{"remote_addr":"[2001:db8::7]:5050","method":"POST","uri":"/login","headers":{"User-Agent":["say \"hi\" \u00e9"]}},"status":302,"size":0})",
          r),
      "");
  EXPECT_EQ(r.host, "2001:db8::7");
  EXPECT_EQ(r.user_agent, "say \"hi\" \xc3\xa9");
  EXPECT_EQ(r.time_ms, DaysFromCivil(2026, 12, 1) * kDay + int64_t{9} * 3'600'000);
  ASSERT_EQ(f->Parse(R"({"ts":1796119200,"request":{"remote_addr":"198.51.100.1:80","uri":"/"},"status":404})", r), "");
  EXPECT_EQ(r.host, "198.51.100.1");

  // Caddy's other loggers share the file; and every way a line can be wrong.
  EXPECT_EQ(f->Parse(R"({"level":"info","ts":1796119200,"logger":"tls","msg":"certificate obtained"})", r),
            "not an access-log entry");
  EXPECT_EQ(f->Parse(R"({"ts":1796119200,"logger":"http.log.access","request":{"uri":"/"},"status":200})", r),
            "no client address");
  EXPECT_EQ(f->Parse(R"({"ts":1796119200,"request":{"client_ip":"203.0.113.1","uri":"/"},"status":2000})", r),
            "bad status");
  EXPECT_EQ(f->Parse(R"({"ts":"yesterday","request":{"client_ip":"203.0.113.1","uri":"/"},"status":200})", r),
            "bad date");
  EXPECT_EQ(f->Parse(R"({"ts":1796119200,"request":{"client_ip":"203.0.113.1","uri":"/"},"status":200)", r),
            "not JSON");
  EXPECT_EQ(f->Parse(R"({"ts":1796119200,"request":{"client_ip":"203.0.113.1","uri":"/\q"},"status":200})", r),
            "bad request line");
  EXPECT_EQ(f->Parse("203.0.113.5 - - [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1", r), "not JSON");
  EXPECT_EQ(f->Parse(std::string(40, '[') + std::string(40, ']'), r), "not JSON");
  EXPECT_EQ(f->Parse("{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}", r), "not JSON") << "too deep";
}

TEST(LogFormatTest, NginxJsonLines) {
  auto f = LogFormat::Preset("nginx-json");
  ASSERT_TRUE(f);
  LogRecord r;
  // log_format json escape=json '{"time_local":"$time_local","remote_addr":"$remote_addr",...}';
  ASSERT_EQ(
      f->Parse(
          R"({"time_local":"01/Dec/2026:10:00:00 +0100","remote_addr":"203.0.113.5","remote_user":"","request":"GET /economy?x=\"1\" HTTP/1.1","status": "200","body_bytes_sent":"5120","request_time":"0.012","http_referrer":"https://www.google.com/","http_user_agent":"curl/8.0","host":"www.ons.gov.uk"})",
          r),
      "");
  EXPECT_EQ(r.host, "203.0.113.5");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/economy");
  EXPECT_EQ(r.query, "x=\"1\"");
  EXPECT_EQ(r.protocol, "HTTP/1.1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.bytes, 5120);
  EXPECT_EQ(r.duration_us, 12000);
  // A request time of 10^13 seconds is 10^19 microseconds, past 64 bits: no duration, the line kept.
  LogRecord huge;
  ASSERT_EQ(
      f->Parse(
          R"({"time_local":"01/Dec/2026:10:00:00 +0100","remote_addr":"203.0.113.5","request":"GET / HTTP/1.1","status":"200","request_time":"9999999999999"})",
          huge),
      "");
  EXPECT_EQ(huge.duration_us, -1) << "not known";
  EXPECT_EQ(r.referrer, "https://www.google.com/");
  EXPECT_EQ(r.user_agent, "curl/8.0");
  EXPECT_EQ(r.vhost, "www.ons.gov.uk");
  EXPECT_EQ(r.time_ms, DaysFromCivil(2026, 12, 1) * kDay + int64_t{9} * 3'600'000);
  // Numbers bare, the request in parts, an ISO 8601 time.
  ASSERT_EQ(
      f->Parse(
          R"({"time_iso8601":"2026-12-01T10:00:00+00:00","remote_addr":"2001:db8::1","request_method":"POST","request_uri":"/login?next=%2F","status":302,"bytes_sent":0,"http_referer":"-"})",
          r),
      "");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/login");
  EXPECT_EQ(r.query, "next=%2F");
  EXPECT_EQ(r.status, 302);
  EXPECT_TRUE(r.referrer.empty());
  ASSERT_EQ(
      f->Parse(R"({"msec":"1796119200.123","remote_addr":"198.51.100.2","uri":"/a","args":"b=1","status":"404"})", r),
      "");
  EXPECT_EQ(r.time_ms, 1796119200123);
  EXPECT_EQ(r.query, "b=1");
  EXPECT_EQ(f->Parse(R"({"remote_addr":"198.51.100.2","request":"GET / HTTP/1.1","status":"200"})", r), "bad date");
  EXPECT_EQ(f->Parse(R"({"msec":"1796119200","remote_addr":"-","request":"GET / HTTP/1.1","status":"200"})", r),
            "no client address");
  EXPECT_EQ(f->Parse(R"({"msec":"1796119200","remote_addr":"1.2.3.4","request":"GET","status":"200"})", r),
            "bad request line");
  EXPECT_EQ(f->Parse(R"({"msec":"1796119200","remote_addr":"1.2.3.4","request":"GET / HTTP/1.1","status":"2xx"})", r),
            "bad status");
  EXPECT_EQ(
      f->Parse(
          R"({"msec":"1796119200","remote_addr":"1.2.3.4","request":"GET / HTTP/1.1","status":"200","body_bytes_sent":"lots"})",
          r),
      "bad size");
}

}  // namespace
}  // namespace steward::logs
