// The server over real sockets on port 0: limits, timeouts, keep-alive, errors, shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "core/handoff.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "http/rate_limit.h"
#include "http/server.h"
#include "http/testing/raw_client.h"
#include "metrics/metrics.h"

namespace steward::http {
namespace {

using testing::Fetch;
using testing::RawConnection;
using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::Init().ok()); }

  void StartServer(config::Limits limits = {}, std::vector<Cidr> trusted = {}) {
    Router router;
    router.Get("/hello", [](Request&) { return Response::Text("hello\n"); });
    router.Post("/echo", [](Request& r) { return Response::Text(r.body); });
    router.Post("/big", [](Request& r) { return Response::Text(std::to_string(r.body.size())); },
                {.max_body_bytes = int64_t{200} * 1024});
    router.Get("/client", [](Request& r) { return Response::Text(r.client_ip ? r.client_ip->ToString() : "none"); });
    router.Post("/form", [](Request&) { return Response::Text("kept"); },
                {.anonymous_write = RouteOptions::Anonymous::kForm});
    router.Get("/throw", [](Request&) -> Response { throw std::runtime_error("boom with secret@example.org"); });
    router.Get("/slow",
               [this](Request&) {
                 slow_started_ = true;
                 std::this_thread::sleep_for(600ms);
                 return Response::Text("done");
               },
               {.blocking = true});
    // Answers from another thread a little later, as a handler waiting on the store's commit does.
    router.AddAsync(Method::kPost, "/later", [this](Request& r, const Responder& respond) {
      std::string body = r.body;
      std::lock_guard<std::mutex> lock(later_mu_);
      later_.emplace_back([respond, body] {
        std::this_thread::sleep_for(20ms);
        respond.Send(Response::Text("later " + body, 202));
      });
    });
    router.AddAsync(Method::kGet, "/forgotten", [](Request&, const Responder&) {}, {.blocking = true});
    // Kept for the test to answer, from its own thread.
    router.AddAsync(Method::kGet, "/held", [this](Request&, const Responder& respond) {
      std::lock_guard<std::mutex> lock(later_mu_);
      held_.push_back(respond);
    });
    router.Get("/large", [](Request&) { return Response::Text(std::string(kLarge, 'L')); });
    router.Get("/items/{id}", [](Request& r) { return Response::Text(std::string(r.PathParam("id"))); });
    router.Get("/inject", [](Request& r) {
      Response res = Response::Text("ok");
      res.SetHeader("X-Echo", std::string(r.Query()->empty() ? "" : r.Query()->front().second));
      res.SetHeader("Cache-Control", "public, max-age=60");
      return res;
    });
    ServerOptions options;
    options.limits = limits;
    options.trusted_proxies = std::move(trusted);
    options.metrics = &registry_;
    server_ = std::make_unique<Server>(std::move(options), std::move(router));
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }

  void TearDown() override {
    held_.clear();
    server_.reset();
    for (auto& t : later_) t.join();
  }

  metrics::Registry registry_;
  std::mutex later_mu_;
  std::vector<std::thread> later_;
  std::vector<Responder> held_;
  static constexpr size_t kLarge = 8 << 20;  // more than a socket's send buffer
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::atomic<bool> slow_started_{false};
};

TEST_F(ServerTest, AnswersWithSecurityHeaders) {
  StartServer();
  auto r = Fetch(port_, "GET", "/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello\n");
  std::string csp = r->Header("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(r->Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->Header("Referrer-Policy"), "strict-origin-when-cross-origin");
  EXPECT_FALSE(r->Header("Permissions-Policy").empty());
  EXPECT_EQ(r->Header("Strict-Transport-Security"), "") << "only when https is configured";
  EXPECT_EQ(r->Header("X-Request-Id").size(), 16u);
  EXPECT_FALSE(r->Header("Date").empty());
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowed) {
  StartServer();
  EXPECT_EQ(Fetch(port_, "GET", "/nowhere")->status, 404);
  auto r = Fetch(port_, "DELETE", "/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("Allow"), "GET, HEAD");
  EXPECT_EQ(Fetch(port_, "GET", "/items/%zz")->status, 400);
  EXPECT_EQ(Fetch(port_, "GET", "/items/a%2Fb")->body, "a/b");
}

TEST_F(ServerTest, HeadSendsHeadersOnly) {
  StartServer();
  RawConnection c(port_);
  ASSERT_TRUE(c.Send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = c.Read(/*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("Content-Length"), "6");
  auto get = c.Read();
  ASSERT_TRUE(get) << "no stray body bytes after HEAD";
  EXPECT_EQ(get->body, "hello\n");
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  RawConnection c(port_);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(c.Read());
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(ServerTest, BodyOverTheLimitIs413) {
  config::Limits limits;
  limits.max_body_bytes = 1024;
  StartServer(limits);
  EXPECT_EQ(Fetch(port_, "POST", "/echo", {}, std::string(1000, 'x'))->status, 200);
  auto declared = Fetch(port_, "POST", "/echo", {}, std::string(2000, 'x'));
  ASSERT_TRUE(declared);
  EXPECT_EQ(declared->status, 413);

  // Chunked, with no Content-Length to refuse early: cut off while reading.
  RawConnection c(port_);
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  ASSERT_TRUE(c.Send(chunked));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);

  // A route may take more than the default.
  auto big = Fetch(port_, "POST", "/big", {}, std::string(size_t{100} * 1024, 'z'));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->body, "102400");
}

TEST_F(ServerTest, LongUrlIs414AndLongHeadersAre431) {
  StartServer();
  EXPECT_EQ(Fetch(port_, "GET", "/hello?q=" + std::string(9000, 'a'))->status, 414);
  EXPECT_EQ(Fetch(port_, "GET", "/hello?q=" + std::string(40000, 'a'))->status, 414);
  EXPECT_EQ(Fetch(port_, "GET", "/hello", {{"X-Big", std::string(9000, 'b')}})->status, 431);
  EXPECT_EQ(Fetch(port_, "GET", "/hello", {{"X-Huge", std::string(40000, 'b')}})->status, 431);
  EXPECT_EQ(Fetch(port_, "GET", "/hello?q=" + std::string(7000, 'a'))->status, 200) << "under the limit";
}

TEST_F(ServerTest, SlowClientIsCutOff) {
  config::Limits limits;
  limits.read_timeout_seconds = 1;
  StartServer(limits);
  RawConnection c(port_);
  // Begin a request and trickle it, one header line at a time, for longer than the read timeout.
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    c.Send("X-Drip: " + std::to_string(i) + "\r\n");
    closed = c.WaitClosed(100ms);
  }
  EXPECT_TRUE(closed || c.WaitClosed(3s)) << "a trickling client must not hold the connection";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);

  RawConnection silent(port_);
  EXPECT_TRUE(silent.WaitClosed(3s)) << "a connection that sends nothing is closed";
}

TEST_F(ServerTest, MalformedRequestIs400AndServerGoesOn) {
  StartServer();
  RawConnection c(port_);
  ASSERT_TRUE(c.Send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Fetch(port_, "GET", "http://elsewhere/hello")->status, 400) << "absolute-form targets are refused";
  EXPECT_EQ(Fetch(port_, "GET", "/hello")->status, 200);
}

TEST_F(ServerTest, ThrowingHandlerGives500AndTheServerGoesOn) {
  StartServer();
  log::CaptureForTesting capture;
  auto r = Fetch(port_, "GET", "/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  std::string id = r->Header("X-Request-Id");
  EXPECT_FALSE(id.empty());
  EXPECT_NE(capture.Text().find("request_id=" + id), std::string::npos) << "the log names the request";
  EXPECT_EQ(capture.Text().find("secret@example.org"), std::string::npos) << "but not what the exception quoted";
  EXPECT_EQ(Fetch(port_, "GET", "/hello")->status, 200);
}

TEST_F(ServerTest, AsyncHandlersAnswerFromAnyThreadAndNeverLeaveAClientWaiting) {
  StartServer();
  std::vector<std::future<std::optional<testing::RawResponse>>> answers;
  answers.reserve(8);
  for (int i = 0; i < 8; ++i) {
    answers.push_back(
        std::async(std::launch::async, [this, i] { return Fetch(port_, "POST", "/later", {}, std::to_string(i)); }));
  }
  for (int i = 0; i < 8; ++i) {
    auto r = answers[i].get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202);
    EXPECT_EQ(r->body, "later " + std::to_string(i));
    EXPECT_FALSE(r->Header("X-Content-Type-Options").empty()) << "security headers as for any route";
  }
  auto forgotten = Fetch(port_, "GET", "/forgotten");
  ASSERT_TRUE(forgotten);
  EXPECT_EQ(forgotten->status, 500) << "a responder dropped unanswered answers 500";
  EXPECT_EQ(Fetch(port_, "GET", "/hello")->status, 200);
}

TEST_F(ServerTest, RequestsInPiecesOrSeveralAtOnceAreEachAnswered) {
  StartServer();
  RawConnection c(port_);
  // The header split mid-line, then the body in two parts.
  for (std::string_view part :
       {"POST /ec", "ho HTTP/1.1\r\nHost: t\r\nContent-Le", "ngth: 11\r\n\r\nhello", " world"}) {
    ASSERT_TRUE(c.Send(part));
    std::this_thread::sleep_for(20ms);
  }
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
  // Three requests in one write, the last with a body: answered in order.
  ASSERT_TRUE(
      c.Send("GET /items/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: t\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"));
  for (std::string expected : {"1", "2", "abc"}) {
    auto next = c.Read();
    ASSERT_TRUE(next) << expected;
    EXPECT_EQ(next->body, expected);
  }
  // A body cut short by the client's close: nothing is answered for it, and the server goes on.
  {
    RawConnection cut(port_);
    ASSERT_TRUE(cut.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  }
  EXPECT_EQ(Fetch(port_, "GET", "/hello")->status, 200);
}

TEST_F(ServerTest, AnAnswerLargerThanTheSendBufferReachesASlowReader) {
  StartServer();
  RawConnection c(port_);
  ASSERT_TRUE(c.Send("GET /large HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::this_thread::sleep_for(200ms);  // the server fills the socket and must wait, not block its thread
  EXPECT_EQ(Fetch(port_, "GET", "/hello")->status, 200) << "the I/O thread is free meanwhile";
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), kLarge);
  EXPECT_EQ(r->body.find_first_not_of('L'), std::string::npos);
}

TEST_F(ServerTest, AnswersGivenInAHandoffBatchGoWhenItCloses) {
  StartServer();
  constexpr int kClients = 6;
  std::vector<std::future<std::optional<testing::RawResponse>>> answers;
  answers.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    answers.push_back(std::async(std::launch::async, [this] { return Fetch(port_, "GET", "/held"); }));
  }
  auto held = [this] {
    std::lock_guard<std::mutex> lock(later_mu_);
    return held_.size();
  };
  for (int i = 0; i < 500 && held() < kClients; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(held(), static_cast<size_t>(kClients));
  {
    HandoffBatch batch;
    std::lock_guard<std::mutex> lock(later_mu_);
    for (size_t i = 0; i < held_.size(); ++i) held_[i].Send(Response::Text("answer " + std::to_string(i), 202));
    EXPECT_EQ(answers[0].wait_for(100ms), std::future_status::timeout) << "held until the batch closes";
  }
  std::set<std::string> bodies;
  for (auto& a : answers) {
    auto r = a.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202);
    EXPECT_FALSE(r->Header("X-Content-Type-Options").empty());
    bodies.insert(r->body);
  }
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kClients)) << "each client its own answer";
}

TEST_F(ServerTest, ForwardedForOnlyFromTrustedProxies) {
  StartServer({}, {*Cidr::Parse("127.0.0.1")});
  EXPECT_EQ(Fetch(port_, "GET", "/client", {{"X-Forwarded-For", "203.0.113.5"}})->body, "203.0.113.5");
  server_.reset();
  StartServer({}, {});
  EXPECT_EQ(Fetch(port_, "GET", "/client", {{"X-Forwarded-For", "203.0.113.5"}})->body, "127.0.0.1");
}

// A proxy that adds its own X-Forwarded-For line: the lines are one list, and the right-most
// address that is not a trusted proxy is the client.
TEST_F(ServerTest, ForwardedForOnSeveralLinesIsOneList) {
  StartServer({}, {*Cidr::Parse("127.0.0.1"), *Cidr::Parse("10.0.0.0/8")});
  auto r = Fetch(port_, "GET", "/client",
                 {{"X-Forwarded-For", "198.51.100.1, 203.0.113.5"}, {"X-Forwarded-For", "10.1.2.3"}});
  EXPECT_EQ(r->body, "203.0.113.5");
  r = Fetch(port_, "GET", "/client", {{"X-Forwarded-For", "10.9.9.9"}, {"X-Forwarded-For", "203.0.113.7, 10.1.2.3"}});
  EXPECT_EQ(r->body, "203.0.113.7");
}

// Anonymous writes are limited per client; an IPv6 client is its /64; others are not affected.
TEST_F(ServerTest, AnonymousWritesAreLimitedPerClient) {
  config::Limits limits;
  limits.form_posts_per_minute = 5;
  StartServer(limits, {*Cidr::Parse("127.0.0.1")});
  auto post = [&](const std::string& client) {
    return Fetch(port_, "POST", "/form", {{"X-Forwarded-For", client}}, "x=1");
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(post("203.0.113.5")->status, 200) << i;
  auto refused = post("203.0.113.5");
  EXPECT_EQ(refused->status, 429);
  int retry = std::stoi(refused->Header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 13);
  EXPECT_EQ(post("203.0.113.6")->status, 200) << "another client";
  EXPECT_EQ(Fetch(port_, "GET", "/hello", {{"X-Forwarded-For", "203.0.113.5"}})->status, 200)
      << "reads are not limited";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(post("2001:db8:1:2::" + std::to_string(i + 1))->status, 200) << i;
  EXPECT_EQ(post("2001:db8:1:2:ffff::9")->status, 429) << "the same /64";
  EXPECT_EQ(post("2001:db8:1:3::1")->status, 200) << "another /64";
  EXPECT_NE(registry_.Render().find("steward_http_rejected_total{reason=\"rate_limit\"} 2"), std::string::npos);
}

// Memory stays bounded however many clients come; a client's bucket refills with time.
TEST(RateLimiterTest, BoundedAndRefilling) {
  ASSERT_TRUE(crypto::Init().ok());
  FakeClock clock(SystemTime(std::chrono::seconds(1'800'000'000)));
  RateLimiter limiter(clock, /*max_clients=*/320);
  RateLimit limit{.per_minute = 6, .burst = 2};
  for (int i = 0; i < 100'000; ++i) {
    auto ip = IpAddress::Parse("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                               std::to_string(i & 255));
    (void)limiter.Take("/form", *ip, limit);
  }
  EXPECT_LE(limiter.size(), 320u);
  auto one = *IpAddress::Parse("192.0.2.1");
  EXPECT_EQ(limiter.Take("/form", one, limit), Duration::zero());
  EXPECT_EQ(limiter.Take("/form", one, limit), Duration::zero());
  EXPECT_EQ(limiter.Take("/form", one, limit), Duration(10s)) << "one a minute's sixth";
  EXPECT_EQ(limiter.Take("/other", one, limit), Duration::zero()) << "routes are apart";
  clock.Advance(10s);
  EXPECT_EQ(limiter.Take("/form", one, limit), Duration::zero());
}

TEST_F(ServerTest, TooManyConnectionsGet503) {
  config::Limits limits;
  limits.max_connections = 2;
  StartServer(limits);
  RawConnection a(port_), b(port_);
  ASSERT_TRUE(a.Send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(b.Send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(a.Read());
  ASSERT_TRUE(b.Read());
  RawConnection c(port_);
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->Header("Retry-After"), "1");
}

TEST_F(ServerTest, FullWorkerQueueGets503WithRetryAfter) {
  config::Limits limits;
  limits.worker_threads = 1;
  limits.worker_queue = 1;
  StartServer(limits);
  auto first = std::async(std::launch::async, [&] { return Fetch(port_, "GET", "/slow"); });
  while (!slow_started_) std::this_thread::sleep_for(5ms);
  auto second = Fetch(port_, "GET", "/slow");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
  EXPECT_EQ(second->Header("Retry-After"), "1");
  EXPECT_EQ(first.get()->status, 200);
}

TEST_F(ServerTest, ExpectContinueIsHonoured) {
  StartServer();
  RawConnection c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.Send("hello"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(ServerTest, GracefulShutdownFinishesInFlightRequests) {
  StartServer();
  RawConnection idle(port_);
  ASSERT_TRUE(idle.Send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(idle.Read());
  auto in_flight = std::async(std::launch::async, [&] { return Fetch(port_, "GET", "/slow"); });
  while (!slow_started_) std::this_thread::sleep_for(5ms);
  auto t0 = std::chrono::steady_clock::now();
  server_->Shutdown();
  auto r = in_flight.get();
  ASSERT_TRUE(r) << "the request in flight at shutdown is answered";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(idle.WaitClosed(1s)) << "idle keep-alive connections are closed";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  RawConnection late(port_);
  EXPECT_FALSE(late.connected() && late.Send("GET /hello HTTP/1.1\r\n\r\n") && late.Read()) << "no longer accepting";
}

TEST_F(ServerTest, HeaderValuesCannotForgeHeaders) {
  StartServer();
  auto r = Fetch(port_, "GET", "/inject?v=a%0d%0aSet-Cookie:%20evil=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->Headers("Set-Cookie").empty());
  EXPECT_EQ(r->Header("X-Echo"), "") << "the header carrying CR LF is dropped";
  EXPECT_EQ(r->Header("Cache-Control"), "public, max-age=60") << "a handler's own header wins over the default";
  EXPECT_EQ(Fetch(port_, "GET", "/inject?v=fine")->Header("X-Echo"), "fine");
}

TEST_F(ServerTest, Http10KeepAliveIsAnsweredInKind) {
  StartServer();
  RawConnection c(port_);
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("Connection"), "keep-alive");
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.0\r\n\r\n"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(ServerTest, MetricsCountByRoutePatternNotPath) {
  StartServer();
  Fetch(port_, "GET", "/items/alice@example.org");
  Fetch(port_, "GET", "/nowhere/bob@example.org");
  std::string text = registry_.Render();
  EXPECT_NE(text.find("steward_http_requests_total{route=\"/items/{id}\",method=\"GET\",status=\"200\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"(unmatched)\""), std::string::npos);
  EXPECT_EQ(text.find("example.org"), std::string::npos) << "no path, so no personal data, in metrics";
  EXPECT_NE(text.find("steward_http_open_connections"), std::string::npos);
}

}  // namespace
}  // namespace steward::http
