// ParsePlainRequest against Beast's request parser: every request it accepts, Beast reads the same.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/testing/mutate.h"
#include "http/plain_request.h"
#include "http/testing/beast_reading.h"

namespace steward::http {
namespace {

constexpr size_t kHeadLimit = 2048;

// When ParsePlainRequest accepts `text`, Beast must too, reading it the same. Returns whether it
// was accepted.
bool ExpectAsBeastReadsIt(const std::string& text) {
  Request req;
  PlainFraming framing;
  if (!ParsePlainRequest(text, kHeadLimit, req, framing)) return false;
  EXPECT_EQ(testing::BeastReadsDifferently(text, kHeadLimit, req, framing), "")
      << "request: " << ::testing::PrintToString(text);
  return true;
}

const std::string kEvent =
    "POST /api/event HTTP/1.1\r\nHost: www.ons.gov.uk\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
    "Gecko/20100101 Firefox/128.0\r\nContent-Type: text/plain\r\nX-Forwarded-For: 203.0.113.7\r\n"
    "Cookie: cookies_policy=%7B%22usage%22%3Atrue%7D\r\nContent-Length: 26\r\n\r\n"
    "{\"n\":\"pageview\",\"u\":\"x\"}ab";

TEST(PlainRequestTest, ReadsTheCommonRequestAsBeastDoes) {
  EXPECT_TRUE(ExpectAsBeastReadsIt(kEvent));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET /a?b=c&d HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.0\r\nConnection: Keep-Alive, Upgrade\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.1\r\nConnection:  CLOSE \t\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.1\r\nConnection: ,close,\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("POST /f HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_TRUE(ExpectAsBeastReadsIt("POST /f HTTP/1.1\r\ncontent-length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n"))
      << "pipelined: only the first is read";
  EXPECT_TRUE(ExpectAsBeastReadsIt("PURGE /x HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(
      ExpectAsBeastReadsIt("GET / HTTP/1.1\r\nX-Forwarded-For: 192.0.2.1\r\nCookie: a=1\r\nx-forwarded-for: "
                           "10.0.0.1\r\nCookie: b=2\r\n\r\n"))
      << "repeated fields: each name's values in the order sent";
}

TEST(PlainRequestTest, LeavesEverythingElseToBeast) {
  const std::string declined[] = {
      "GET / HTTP/1.1\r\nHost: x\r\n",                      // not whole
      "POST /f HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",  // the body still coming
      "POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /f HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
      "POST /f HTTP/1.1\r\nContent-Length: 03\r\n\r\nabc",
      "POST /f HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc",
      "POST /f HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc",
      "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",      // a folded line
      "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n",  // not ASCII
      "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\nHost: x\n\n",  // bare line feeds
      "GET / HTTP/2.0\r\n\r\n",
      "get / HTTP/1.1\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
      "GET / HTTP/1.1\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
      "GET / HTTP/1.1\r\nConnection: close;q=1\r\n\r\n",
      "\r\nGET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nX: " + std::string(kHeadLimit, 'a') + "\r\n\r\n",  // past the limit
  };
  for (const auto& text : declined) {
    Request req;
    PlainFraming framing;
    EXPECT_FALSE(ParsePlainRequest(text, kHeadLimit, req, framing)) << ::testing::PrintToString(text);
  }
}

// Requests changed a byte at a time: whatever ParsePlainRequest still accepts, Beast reads the same.
TEST(PlainRequestTest, AgreesWithBeastOnMutatedRequests) {
  const std::string seeds[] = {
      kEvent,
      "GET /admin/analytics?period=30d HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n",
      "POST /feedback HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 5\r\n\r\nhello",
  };
  const char alphabet[] = "\r\n \t:,;0123456789-aAzZ/?=\"\x7f\x80\xff\x01kepcloseTransfr";
  std::mt19937 rng(20261206);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int accepted = 0;
  for (int i = 0; i < 30'000; ++i) {
    accepted += ExpectAsBeastReadsIt(testing::Mutate(seeds[pick(std::size(seeds))], alphabet, rng));
    if (HasFailure()) return;
  }
  EXPECT_GT(accepted, 3'000) << "most single changes inside a value still make a plain request";
}

}  // namespace
}  // namespace steward::http
