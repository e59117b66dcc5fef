// ParsePlainRequest against Beast's request parser: every request it accepts, Beast reads the same.
#include <gtest/gtest.h>

#include <boost/beast/http.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/strings.h"
#include "http/plain_request.h"

namespace steward::http {
namespace {

namespace bhttp = boost::beast::http;

constexpr size_t kHeadLimit = 2048;

// When ParsePlainRequest accepts `text`, Beast must too, with the same method, target, fields,
// body, version and keep-alive, and the same bytes used. Returns whether it was accepted.
bool ExpectAsBeastReadsIt(const std::string& text) {
  Request req;
  PlainFraming framing;
  if (!ParsePlainRequest(text, kHeadLimit, req, framing)) return false;
  SCOPED_TRACE("request: " + testing::PrintToString(text));

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(kHeadLimit);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (!parser.is_done()) {
    size_t n = parser.put(boost::asio::buffer(text.data() + used, text.size() - used), ec);
    used += n;
    if (ec || n == 0) break;
  }
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  if (!parser.is_done()) return true;
  const auto& m = parser.get();
  EXPECT_EQ(used, framing.head_bytes + framing.content_length);
  EXPECT_EQ(req.method, ParseMethod(std::string_view(m.method_string().data(), m.method_string().size())));
  EXPECT_EQ(req.target, std::string(m.target()));
  EXPECT_EQ(req.path + (req.target.find('?') == std::string::npos ? "" : "?" + req.query), req.target);
  std::vector<std::pair<std::string, std::string>> beast_fields, ours;
  for (const auto& f : m) beast_fields.emplace_back(std::string(f.name_string()), std::string(f.value()));
  for (const auto& h : req.headers) ours.emplace_back(h.name, h.value);
  // Beast moves a repeated field beside the first of its name; each name's values keep their order.
  auto by_name = [](const auto& a, const auto& b) { return ToLower(a.first) < ToLower(b.first); };
  std::stable_sort(beast_fields.begin(), beast_fields.end(), by_name);
  std::stable_sort(ours.begin(), ours.end(), by_name);
  EXPECT_EQ(ours, beast_fields);
  EXPECT_EQ(text.substr(framing.head_bytes, framing.content_length), m.body());
  EXPECT_EQ(framing.keep_alive, m.keep_alive());
  EXPECT_EQ(framing.http10, m.version() == 10);
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
    EXPECT_FALSE(ParsePlainRequest(text, kHeadLimit, req, framing)) << testing::PrintToString(text);
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
    std::string text = seeds[pick(std::size(seeds))];
    int edits = 1 + static_cast<int>(pick(3));
    for (int k = 0; k < edits; ++k) {
      size_t at = pick(text.size());
      char c = alphabet[pick(sizeof alphabet - 1)];
      switch (pick(3)) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1);
      }
    }
    accepted += ExpectAsBeastReadsIt(text);
    if (HasFailure()) return;
  }
  EXPECT_GT(accepted, 3'000) << "most single changes inside a value still make a plain request";
}

}  // namespace
}  // namespace steward::http
