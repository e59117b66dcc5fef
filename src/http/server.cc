// Why it is built this way:
// - One io_context per I/O thread, and each connection pinned to one of them (round robin). A
//   single io_context shared by several threads wakes the other threads on almost every
//   completion; measured under load, those wake-ups cost more than the HTTP work. Pinned
//   connections need no strands: their coroutine only ever runs on its own thread.
// - Each connection is a coroutine, the loop of the Beast async server example:
//   read -> handle -> write.
// - Handlers that block run on a separate thread pool, and the coroutine resumes on its own
//   io_context when they finish, so disk and hashing never stall the event loop.
// - Requests are read in two steps (header, then body) so the body limit can be the matched
//   route's, and an oversized body is refused from Content-Length before it is read.
#include <utility>  // before Asio's awaitable header (Boost 1.74)

#include "http/server.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <pthread.h>

#include <array>
#include <atomic>
#include <charconv>
#include <limits>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"
#include "core/handoff.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/text_hash.h"
#include "crypto/crypto.h"
#include "http/plain_request.h"
#include "http/rate_limit.h"
#include "metrics/metrics.h"

namespace steward::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Sent on every response unless the handler set the header itself.
const std::string kPolicy = ContentSecurityPolicy();
const std::pair<std::string_view, std::string_view> kSecurityHeaders[] = {
    {"Content-Security-Policy", kPolicy},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "strict-origin-when-cross-origin"},
    {"X-Frame-Options", "DENY"},
    {"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Cache-Control", "no-store"},
};
// The same, as the lines of a response head: what an answer that sets none of them gets.
const std::string kSecurityBlock = [] {
  std::string block;
  for (const auto& [name, value] : kSecurityHeaders) block.append(name).append(": ").append(value).append("\r\n");
  return block;
}();

std::optional<IpAddress> ToIp(const asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return IpAddress::Parse(asio::ip::address_v4(b).to_string());
  }
  return IpAddress::Parse(a.to_string());
}

// The HTTP date, recomputed at most once a second per thread.
const std::string& CachedHttpDate() {
  thread_local std::time_t last = 0;
  thread_local std::string text;
  std::time_t now = std::time(nullptr);
  if (now != last) {
    last = now;
    text = FormatHttpDate(std::chrono::system_clock::from_time_t(now));
  }
  return text;
}

// A request id correlates a response with its log lines; it need not be secret, only unlikely to
// repeat. A per-thread generator seeded once from the system's randomness avoids a system call per
// request. (splitmix64)
std::string NextRequestId() {
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    std::string bytes = crypto::RandomBytes(sizeof seed);
    std::memcpy(&seed, bytes.data(), sizeof seed);
    return seed;
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, z >>= 4) id[i] = kHex[z & 15];
  return id;
}

Response DefaultErrorPage(int status, const Request*) {
  return Response::Text(std::to_string(status) + " " + std::string(StatusReason(status)) + "\n", status);
}

// Runs `fn` on `pool`, then resumes the awaiting coroutine on its own executor with the result.
template <typename Fn>
auto RunOnPool(asio::thread_pool& pool, Fn fn) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Response)>(
      [&pool](auto handler, Fn fn) {
        auto ex = asio::get_associated_executor(handler);
        // Keeps the io_context running while the job is away, so the answer always comes back.
        auto work = asio::make_work_guard(ex);
        asio::post(pool, [handler = std::move(handler), fn = std::move(fn), work = std::move(work)]() mutable {
          Response r = fn();
          auto ex = asio::get_associated_executor(handler);
          asio::post(ex,
                     [handler = std::move(handler), r = std::move(r)]() mutable { std::move(handler)(std::move(r)); });
        });
      },
      asio::use_awaitable, std::move(fn));
}

// Runs `fn(responder)` on `pool`, or here when `pool` is null; resumes the awaiting coroutine on
// its own executor with whatever the responder is given, from whichever thread gives it.
template <typename Fn>
auto RunAsync(asio::thread_pool* pool, Fn fn) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Response)>(
      [pool](auto handler, Fn fn) {
        using HandlerT = decltype(handler);
        struct Pending {
          HandlerT handler;
          asio::executor_work_guard<asio::associated_executor_t<HandlerT>> work;
        };
        auto ex = asio::get_associated_executor(handler);
        auto pending = std::make_shared<Pending>(Pending{std::move(handler), asio::make_work_guard(ex)});
        Responder responder([pending](Response r) {
          auto ex = asio::get_associated_executor(pending->handler);
          auto resume = [pending, r = std::move(r)]() mutable {
            std::move(pending->handler)(std::move(r));
            pending->work.reset();
          };
          if (!HandoffBatch::Open()) {
            asio::post(ex, std::move(resume));
            return;
          }
          // With the other answers the batch holds for the same I/O thread (its io_context).
          HandoffBatch::Hold(
              &asio::query(ex, asio::execution::context),
              [ex](HandoffBatch::Runs runs) {
                asio::post(ex, [runs = std::move(runs)]() {
                  for (const auto& run : runs) run();
                });
              },
              std::move(resume));
        });
        if (pool == nullptr) {
          fn(std::move(responder));
        } else {
          asio::post(*pool,
                     [fn = std::move(fn), responder = std::move(responder)]() mutable { fn(std::move(responder)); });
        }
      },
      asio::use_awaitable, std::move(fn));
}

struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool idle = true;  // waiting for the next request: safe to close at shutdown
};

}  // namespace

IpAddress ClientAddress(const IpAddress& peer, std::string_view forwarded_for, const std::vector<Cidr>& trusted) {
  auto is_trusted = [&](const IpAddress& ip) {
    for (const Cidr& c : trusted) {
      if (c.Contains(ip)) return true;
    }
    return false;
  };
  if (!is_trusted(peer) || forwarded_for.empty()) return peer;
  IpAddress client = peer;
  auto hops = Split(forwarded_for, ',');
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto ip = IpAddress::Parse(Trim(*it));
    if (!ip) break;  // garbage: believe nothing further left
    client = *ip;
    if (!is_trusted(*ip)) break;
  }
  return client;
}

class Server::Impl {
 public:
  Impl(ServerOptions options, Router router) : options_(std::move(options)), router_(std::move(router)) {
    for (int i = 0; i < options_.threads; ++i) ios_.push_back(std::make_unique<asio::io_context>(1));
    acceptor_ = std::make_unique<tcp::acceptor>(*ios_[0]);
    if (!options_.error_page) options_.error_page = DefaultErrorPage;
    if (options_.metrics != nullptr) {
      requests_ = &options_.metrics->AddCounter("steward_http_requests_total", "HTTP requests answered.",
                                                {"route", "method", "status"});
      latency_ = &options_.metrics->AddHistogram("steward_http_request_duration_seconds",
                                                 "Time from a whole request read to its response ready to write.",
                                                 {"route"}, metrics::LatencyBuckets());
      options_.metrics->AddSampledGauge("steward_http_open_connections", "Open client connections.",
                                        [this] { return static_cast<double>(open_.load()); });
      options_.metrics->AddSampledGauge("steward_http_worker_queue_depth",
                                        "Blocking handlers queued or running on the worker pool.",
                                        [this] { return static_cast<double>(pool_jobs_.load()); });
      rejected_ = &options_.metrics->AddCounter("steward_http_rejected_total",
                                                "Connections or requests refused by a limit.", {"reason"});
      cookies_refused_ = &options_.metrics->AddCounter(
          "steward_http_cookies_refused_total",
          "Set-Cookie attempts the cookie gate refused: undeclared, or not allowed by the visitor.", {"route"});
    }
  }

  Status Start() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return MakeError(ErrorCode::kInvalidArgument, "cannot listen on " + options_.host + ": not an address");
    tcp::endpoint endpoint(address, options_.port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return MakeError(ErrorCode::kIo,
                       "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_->local_endpoint().port();
    pool_ = std::make_unique<asio::thread_pool>(static_cast<size_t>(options_.limits.worker_threads));
    asio::co_spawn(acceptor_->get_executor(), Listen(), asio::detached);
    // Each io_context keeps running until Shutdown stops it, even with nothing to do.
    for (auto& io : ios_) {
      guards_.push_back(std::make_unique<WorkGuard>(io->get_executor()));
      threads_.emplace_back([&io, n = threads_.size()] {
        // Named for top -H and perf: "http-io-0", "http-io-1", ...
        pthread_setname_np(pthread_self(), ("http-io-" + std::to_string(n)).c_str());
        io->run();
      });
    }
    log::Info("http.listening", {{"port", static_cast<int>(port_)}, {"threads", options_.threads}});
    return Ok();
  }

  void Shutdown() {
    if (draining_.exchange(true)) return;
    log::Info("http.draining", {{"open_connections", open_.load()}});
    asio::post(*ios_[0], [this] {
      beast::error_code ec;
      acceptor_->close(ec);
    });
    {
      std::lock_guard<std::mutex> lock(connections_mu_);
      for (const auto& c : connections_) {
        asio::post(c->stream.get_executor(), [c] {
          if (c->idle) c->stream.close();
        });
      }
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.limits.shutdown_grace_seconds);
    while (open_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (open_.load() > 0) log::Warn("http.shutdown_grace_expired", {{"open_connections", open_.load()}});
    for (auto& io : ios_) io->stop();
    // Blocking handlers still running finish; their answers have no connection left to go to.
    if (pool_) pool_->join();
  }

  void Wait() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    if (pool_) pool_->join();
  }

  uint16_t port() const { return port_; }
  int64_t open_connections() const { return open_.load(); }

 private:
  asio::awaitable<void> Listen() {
    while (true) {
      beast::error_code ec;
      asio::io_context& home = *ios_[next_io_++ % ios_.size()];
      tcp::socket socket = co_await acceptor_->async_accept(home, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor_->is_open() || ec == asio::error::operation_aborted) co_return;
        // Out of descriptors or similar: pause rather than spin.
        log::Warn("http.accept_failed", {{"error", ec.message()}});
        asio::steady_timer t(*ios_[0], std::chrono::milliseconds(50));
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (open_.load() >= options_.limits.max_connections) {
        if (rejected_) rejected_->Inc({"max_connections"});
        auto ex = socket.get_executor();
        asio::co_spawn(ex, RefuseConnection(std::move(socket)), asio::detached);
        continue;
      }
      auto c = std::make_shared<Connection>(std::move(socket));
      open_++;
      {
        std::lock_guard<std::mutex> lock(connections_mu_);
        connections_.insert(c);
      }
      asio::co_spawn(c->stream.get_executor(), Session(c), asio::detached);
    }
  }

  asio::awaitable<void> RefuseConnection(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::error_code ec;
    stream.socket().non_blocking(true, ec);  // as WriteResponse needs
    if (ec) co_return;
    stream.expires_after(std::chrono::seconds(2));
    Response r = options_.error_page(503, nullptr);
    r.SetHeader("Retry-After", "1");
    co_await WriteResponse(stream, nullptr, r, /*keep_alive=*/false);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<void> Session(std::shared_ptr<Connection> c) {
    co_await SessionLoop(*c);
    beast::error_code ec;
    c->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    c->stream.close();
    {
      std::lock_guard<std::mutex> lock(connections_mu_);
      connections_.erase(c);
    }
    open_--;
  }

  // What is wrong with a request's header, as the status and the reason to refuse it with; nullopt
  // when the URL and the header are within the limits and the target is a path. `header_bytes`
  // counts each field's name and value and four bytes more.
  std::optional<std::pair<int, const char*>> HeaderProblem(std::string_view target, size_t header_bytes) const {
    const config::Limits& limits = options_.limits;
    if (target.size() > static_cast<size_t>(limits.max_url_bytes)) return std::make_pair(414, "url_limit");
    if (header_bytes > static_cast<size_t>(limits.max_header_bytes)) return std::make_pair(431, "header_limit");
    if (target.empty() || target[0] != '/') return std::make_pair(400, "target");
    return std::nullopt;
  }

  // The request a handler sees, from a header HeaderProblem passed.
  Request FromHeader(const bhttp::request<bhttp::string_body>& header, const std::optional<IpAddress>& peer) {
    Request req;
    req.method = ParseMethod(std::string_view(header.method_string().data(), header.method_string().size()));
    req.target = std::string(header.target());
    size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    req.headers.reserve(16);
    for (const auto& field : header) {
      req.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    Complete(req, peer);
    return req;
  }

  // What the server adds to a request it has read: its id, and the client's address, believed from
  // X-Forwarded-For only through a trusted proxy.
  void Complete(Request& req, const std::optional<IpAddress>& peer) {
    req.https = options_.https;
    req.request_id = NextRequestId();
    if (peer) {
      // A proxy may add its own X-Forwarded-For line below the client's: read them all, in order,
      // as one list (RFC 9110 5.3), so the right-most untrusted address is found wherever it is.
      std::string forwarded;
      for (const auto& h : req.headers) {
        if (!EqualsIgnoreCase(h.name, "X-Forwarded-For")) continue;
        if (!forwarded.empty()) forwarded += ", ";
        forwarded += h.value;
      }
      req.client_ip = ClientAddress(*peer, forwarded, options_.trusted_proxies);
    }
  }

  // The largest body the route `match` found takes.
  int64_t BodyLimit(const Router::Match& match) const {
    if (match.route != nullptr && match.route->options.max_body_bytes > 0) return match.route->options.max_body_bytes;
    return options_.limits.max_body_bytes;
  }

  asio::awaitable<void> SessionLoop(Connection& c) {
    const config::Limits& limits = options_.limits;
    beast::tcp_stream& stream = c.stream;
    beast::flat_buffer buffer;
    std::string head;  // each response's head, written into the same memory
    beast::error_code ec;
    auto endpoint = stream.socket().remote_endpoint(ec);
    if (ec) co_return;
    // WriteResponse writes what it can at once, and must never wait for the client to read.
    stream.socket().non_blocking(true, ec);
    if (ec) co_return;
    // Privacy: the peer address lives only in this connection's memory.
    std::optional<IpAddress> peer = ToIp(endpoint.address());
    bool first = true;

    while (!draining_.load()) {
      // Wait for the first byte of the next request: idle_timeout between requests, read_timeout
      // for the first.
      if (buffer.size() == 0) {
        c.idle = true;
        stream.expires_after(std::chrono::seconds(first ? limits.read_timeout_seconds : limits.idle_timeout_seconds));
        size_t n = co_await stream.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        buffer.commit(n);
      }
      c.idle = false;
      first = false;
      auto started = std::chrono::steady_clock::now();
      // From here the whole request must arrive within read_timeout: a client trickling bytes is cut off.
      stream.expires_after(std::chrono::seconds(limits.read_timeout_seconds));
      const auto header_limit = static_cast<uint32_t>(limits.max_header_bytes + limits.max_url_bytes + 64);
      Request req;
      Router::Match match;
      bool keep_alive = true, http10 = false;
      PlainFraming plain;
      std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
      if (ParsePlainRequest(data, header_limit, req, plain)) {
        // Whole and plain, read where it lies (plain_request.h).
        size_t header_bytes = 0;
        for (const auto& h : req.headers) header_bytes += h.name.size() + h.value.size() + 4;
        if (auto problem = HeaderProblem(req.target, header_bytes)) {
          co_await RefuseRequest(stream, problem->first, problem->second);
          co_return;
        }
        Complete(req, peer);
        match = router_.Find(req.method, req.path);
        if (plain.content_length > static_cast<uint64_t>(BodyLimit(match))) {
          co_await RefuseRequest(stream, 413, "body_limit");
          co_return;
        }
        req.body.assign(data.substr(plain.head_bytes, plain.content_length));
        buffer.consume(plain.head_bytes + plain.content_length);
        keep_alive = plain.keep_alive;
        http10 = plain.http10;
      } else {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(header_limit);
        // The body limit is the matched route's, set once the header is read and the route known.
        parser.body_limit(std::numeric_limits<uint64_t>::max());
        ec = co_await Parse(stream, buffer, parser, /*header_only=*/true);
        if (ec == bhttp::error::header_limit) {
          co_await RefuseRequest(stream, RequestLineTooLong(buffer) ? 414 : 431, "header_limit");
          co_return;
        }
        if (ec) {
          if (!Disconnected(ec)) co_await RefuseRequest(stream, 400, "malformed");
          co_return;
        }

        auto& header = parser.get();
        size_t header_bytes = 0;
        for (const auto& field : header) header_bytes += field.name_string().size() + field.value().size() + 4;
        if (auto problem =
                HeaderProblem(std::string_view(header.target().data(), header.target().size()), header_bytes)) {
          co_await RefuseRequest(stream, problem->first, problem->second);
          co_return;
        }
        req = FromHeader(header, peer);

        match = router_.Find(req.method, req.path);
        int64_t body_limit = BodyLimit(match);
        if (auto length = parser.content_length(); length && *length > static_cast<uint64_t>(body_limit)) {
          co_await RefuseRequest(stream, 413, "body_limit");
          co_return;
        }
        parser.body_limit(static_cast<uint64_t>(body_limit));
        if (!parser.is_done()) {
          if (EqualsIgnoreCase(req.Header("Expect"), "100-continue")) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
          }
          ec = co_await Parse(stream, buffer, parser, /*header_only=*/false);
          if (ec == bhttp::error::body_limit) {
            co_await RefuseRequest(stream, 413, "body_limit");
            co_return;
          }
          if (ec) {
            // A body that is not what its framing says (a bad chunk size): say so, then close.
            if (!Disconnected(ec)) co_await RefuseRequest(stream, 400, "malformed");
            co_return;
          }
        }
        req.body = std::move(parser.get().body());
        keep_alive = parser.get().keep_alive();
        http10 = parser.get().version() == 10;
      }
      stream.expires_never();

      Response res = co_await Dispatch(match, req);
      keep_alive = keep_alive && !draining_.load();
      // Counted before writing, so whoever reads the answer also sees it in /metrics.
      Record(req, res, started);
      stream.expires_after(std::chrono::seconds(limits.read_timeout_seconds));
      bool written = co_await WriteResponse(stream, &req, res, keep_alive, http10, &head);
      if (!written || !keep_alive) co_return;
    }
  }

  // Feeds `parser` what `buffer` holds, reading more only when the parser needs more, until the
  // header is parsed (`header_only`) or the whole request. Beast's async_read_header and async_read
  // do the same, but post their completion when no read was needed, and a request mostly arrives
  // in one piece: parsed here, it costs no round trip through the event loop. Errors are theirs:
  // end_of_stream when the client closed before a request began, header_limit, body_limit, a
  // malformed request, or the read's own.
  static asio::awaitable<beast::error_code> Parse(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                  bhttp::request_parser<bhttp::string_body>& parser, bool header_only) {
    parser.eager(!header_only);
    beast::error_code ec;
    while (!(header_only ? parser.is_header_done() : parser.is_done())) {
      if (buffer.size() > 0) {
        size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec && ec != bhttp::error::need_more) co_return ec;
        bool progressed = !ec && used > 0;
        ec = {};
        if (progressed) continue;
      }
      size_t size = beast::read_size(buffer, 65536);
      if (size == 0) co_return bhttp::error::buffer_overflow;
      size_t n = co_await stream.async_read_some(buffer.prepare(size), asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
      if (ec == asio::error::eof) {
        if (!parser.got_some()) co_return bhttp::error::end_of_stream;
        // The end of a body framed by the connection's close.
        ec = {};
        parser.put_eof(ec);
        co_return ec;
      }
      if (ec) co_return ec;
    }
    co_return ec;
  }

  // After a header_limit error: was it the request line that overflowed? Beast consumes the
  // request line once it has parsed it, so the buffer then starts with a header field ("Name:")
  // instead of a request line ("METHOD /...").
  bool RequestLineTooLong(const beast::flat_buffer& buffer) const {
    std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
    size_t space = data.find(' '), colon = data.find(':');
    bool starts_with_request_line =
        space != std::string_view::npos && (colon == std::string_view::npos || space < colon);
    size_t eol = data.find("\r\n");
    return starts_with_request_line &&
           (eol == std::string_view::npos || eol > static_cast<size_t>(options_.limits.max_url_bytes) + 16);
  }

  // The client went, or took too long: there is nobody to answer.
  static bool Disconnected(const beast::error_code& ec) {
    return ec == beast::error::timeout || ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::operation_aborted || ec == asio::error::connection_reset;
  }

  asio::awaitable<void> RefuseRequest(beast::tcp_stream& stream, int status, const char* reason) {
    if (rejected_) rejected_->Inc({reason});
    Response r = options_.error_page(status, nullptr);
    stream.expires_after(std::chrono::seconds(options_.limits.read_timeout_seconds));
    co_await WriteResponse(stream, nullptr, r, /*keep_alive=*/false);
  }

  asio::awaitable<Response> Dispatch(Router::Match& match, Request& req) {
    if (match.route == nullptr) {
      if (match.bad_encoding) co_return options_.error_page(400, &req);
      if (!match.allowed.empty()) {
        Response r = options_.error_page(405, &req);
        std::string allow;
        for (Method m : match.allowed) {
          if (!allow.empty()) allow += ", ";
          allow += MethodName(m);
        }
        r.SetHeader("Allow", allow);
        co_return r;
      }
      co_return options_.error_page(404, &req);
    }
    const Route& route = *match.route;
    req.route = route.pattern;
    req.path_params = std::move(match.params);
    if (auto refused = OverLimit(route, req)) co_return std::move(*refused);
    if (!route.options.blocking) {
      if (route.async_handler) {
        co_return co_await RunAsync(
            nullptr, [this, &route, &req](const Responder& respond) { InvokeAsync(route, req, respond); });
      }
      co_return Invoke(route, req);
    }
    if (pool_jobs_.load() >= options_.limits.worker_queue) {
      if (rejected_) rejected_->Inc({"worker_queue"});
      Response r = options_.error_page(503, &req);
      r.SetHeader("Retry-After", "1");
      co_return r;
    }
    pool_jobs_++;
    if (route.async_handler) {
      co_return co_await RunAsync(pool_.get(), [this, &route, &req](const Responder& respond) {
        InvokeAsync(route, req, respond);
        pool_jobs_--;
      });
    }
    Response r = co_await RunOnPool(*pool_, [this, &route, &req] {
      Response out = Invoke(route, req);
      pool_jobs_--;
      return out;
    });
    co_return r;
  }

  // 429 when an anonymous write is past its client's limit.
  std::optional<Response> OverLimit(const Route& route, const Request& req) {
    using Anonymous = RouteOptions::Anonymous;
    if (route.options.anonymous_write == Anonymous::kNo || !req.client_ip) return std::nullopt;
    const config::Limits& l = options_.limits;
    RateLimit limit{.per_minute = route.options.anonymous_write == Anonymous::kEvent ? l.events_per_minute
                                                                                     : l.form_posts_per_minute};
    Duration wait = limiter_.Take(route.pattern, *req.client_ip, limit);
    if (wait == Duration::zero()) return std::nullopt;
    if (rejected_) rejected_->Inc({"rate_limit"});
    Response r = options_.error_page(429, &req);
    r.SetHeader("Retry-After", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count() + 1));
    return r;
  }

  void InvokeAsync(const Route& route, Request& req, const Responder& respond) {
    try {
      route.async_handler(req, respond);
      return;
    } catch (const std::exception& e) {
      log::Error("http.handler_threw", {{"route", route.pattern}, {"request_id", req.request_id}});
    } catch (...) {
      log::Error("http.handler_threw", {{"route", route.pattern}, {"request_id", req.request_id}});
    }
    respond.Send(options_.error_page(500, &req));
  }

  Response Invoke(const Route& route, Request& req) {
    try {
      return route.handler(req);
    } catch (const std::exception& e) {
      // The exception text may quote input: log only its type of failure and where it happened.
      log::Error("http.handler_threw", {{"route", route.pattern}, {"request_id", req.request_id}});
    } catch (...) {
      log::Error("http.handler_threw", {{"route", route.pattern}, {"request_id", req.request_id}});
    }
    return options_.error_page(500, &req);
  }

  // Serialises the status line and headers into one buffer (Beast's serializer allocates per
  // field), adding the security headers a handler did not set itself. Header names and values
  // with CR or LF are dropped and logged: they would let input forge headers. `head` is emptied
  // first and keeps its capacity, so a connection's buffer serves each of its responses.
  void SerializeHead(std::string& head, const Request* req, const Response& res, bool keep_alive, bool http10) const {
    using namespace std::string_view_literals;  // appended with their lengths known, not measured
    head.clear();
    head.reserve(1024);
    std::string_view reason = StatusReason(res.status);
    head.append("HTTP/1.1 "sv).append(std::to_string(res.status)).append(" "sv).append(reason).append("\r\n"sv);
    head.append("Date: "sv).append(CachedHttpDate()).append("\r\nServer: Steward\r\n"sv);
    if (req != nullptr) head.append("X-Request-Id: "sv).append(req->request_id).append("\r\n"sv);
    auto safe = [](std::string_view v) { return FindAnyOf(v, "\r\n") == std::string_view::npos; };
    for (const HeaderField& h : res.headers) {
      if (h.name.empty() || !safe(h.name) || !safe(h.value) || EqualsIgnoreCase(h.name, "Content-Length") ||
          EqualsIgnoreCase(h.name, "Connection") || EqualsIgnoreCase(h.name, "Transfer-Encoding")) {
        log::Error("http.bad_header", {{"route", req ? req->route : std::string()}});
        continue;
      }
      if (EqualsIgnoreCase(h.name, "Set-Cookie")) {
        // Only Response::cookies reaches the gate; a cookie slipped in as a header goes nowhere.
        log::Error("http.cookie_refused", {{"route", req ? req->route : std::string()}, {"cookie", "(raw header)"}});
        if (cookies_refused_) cookies_refused_->Inc({req ? req->route : std::string("(none)")});
        continue;
      }
      head.append(h.name).append(": "sv).append(h.value).append("\r\n"sv);
    }
    for (const SetCookie& cookie : res.cookies) {
      // The one gate every cookie passes: nothing the register or the visitor does not allow.
      if (options_.cookie_gate && (req == nullptr || !options_.cookie_gate(*req, res.cookies, cookie))) {
        log::Warn("http.cookie_refused", {{"route", req ? req->route : std::string()}, {"cookie", cookie.name}});
        if (cookies_refused_) cookies_refused_->Inc({req ? req->route : std::string("(none)")});
        continue;
      }
      auto line = cookie.Serialize();
      if (!line.ok()) {
        log::Error("http.bad_cookie", {{"route", req ? req->route : std::string()}, {"error", line.error().message}});
        continue;
      }
      head.append("Set-Cookie: "sv).append(*line).append("\r\n"sv);
    }
    bool sets_security_header = false;
    for (const HeaderField& h : res.headers) {
      for (const auto& [name, value] : kSecurityHeaders) sets_security_header |= EqualsIgnoreCase(h.name, name);
    }
    if (!sets_security_header) {
      head.append(kSecurityBlock);
    } else {
      for (const auto& [name, value] : kSecurityHeaders) {
        if (res.Header(name).empty()) head.append(name).append(": "sv).append(value).append("\r\n"sv);
      }
    }
    if (options_.https && res.Header("Strict-Transport-Security").empty()) {
      head.append("Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"sv);
    }
    if (!keep_alive)
      head.append("Connection: close\r\n"sv);
    else if (http10)
      head.append("Connection: keep-alive\r\n"sv);
    bool no_body = res.status == 204 || res.status == 304 || res.status < 200;
    if (!no_body) head.append("Content-Length: "sv).append(std::to_string(res.body.size())).append("\r\n"sv);
    head.append("\r\n"sv);
  }

  // `buffer`, when given, is the connection's own for response heads, kept from one to the next so
  // that a response allocates none.
  asio::awaitable<bool> WriteResponse(beast::tcp_stream& stream, const Request* req, Response& res, bool keep_alive,
                                      bool http10 = false, std::string* buffer = nullptr) {
    std::string own;
    std::string& head = buffer != nullptr ? *buffer : own;
    SerializeHead(head, req, res, keep_alive, http10);
    bool send_body = !(req != nullptr && req->method == Method::kHead) && res.status != 204 && res.status != 304;
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(head),
                                                 send_body ? asio::buffer(res.body) : asio::const_buffer()};
    // Most answers fit in the socket's send buffer: written here, they cost no asynchronous write
    // (whose completion is posted, and whose timer is armed and cancelled). The socket is
    // non-blocking, so a full send buffer leaves the rest to the asynchronous write.
    beast::error_code ec;
    size_t sent = stream.socket().write_some(buffers, ec);
    if (!ec && sent == asio::buffer_size(buffers)) co_return true;
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
    beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(buffers);
    rest.consume(sent);
    ec = {};
    co_await asio::async_write(stream, rest, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  // Per I/O thread, the metric cells of each (route, method, status) seen, so counting a request
  // takes no lock once warm. An I/O thread belongs to one server for its whole life.
  struct Cells {
    metrics::CounterCell* requests;
    metrics::HistogramCell* latency;
  };

  void Record(const Request& req, const Response& res, std::chrono::steady_clock::time_point started) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // Unmatched paths share one label: a raw path can carry personal data and has no bound.
    const std::string& route = req.route.empty() ? kUnmatched : req.route;
    if (requests_) {
      thread_local std::unordered_map<std::string, Cells, TextHash, std::equal_to<>> cache;
      thread_local std::string key;  // built in the same memory for every request
      key.assign(route).push_back('\0');
      key.append(MethodName(req.method)).push_back('\0');
      char status[8];
      auto [status_end, status_error] = std::to_chars(status, status + sizeof status, res.status);
      key.append(status, status_end);
      auto it = cache.find(std::string_view(key));
      if (it == cache.end()) {
        Cells cells{&requests_->Cell({route, std::string(MethodName(req.method)), std::to_string(res.status)}),
                    &latency_->Cell({route})};
        it = cache.emplace(key, cells).first;
      }
      it->second.requests->Inc();
      it->second.latency->Observe(seconds);
    }
    if (res.status >= 500) {
      log::Warn("http.request", {{"route", route}, {"status", res.status}, {"request_id", req.request_id}});
    } else if (log::Enabled(log::Level::kDebug)) {
      log::Debug("http.request", {{"route", route}, {"status", res.status}, {"ms", seconds * 1000}});
    }
  }

  inline static const std::string kUnmatched = "(unmatched)";

  ServerOptions options_;
  Router router_;
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  std::vector<std::unique_ptr<WorkGuard>> guards_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  size_t next_io_ = 0;  // only the accept loop, on ios_[0], touches it
  std::unique_ptr<asio::thread_pool> pool_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<int64_t> open_{0};
  std::atomic<int64_t> pool_jobs_{0};
  std::atomic<bool> draining_{false};
  std::mutex connections_mu_;
  std::unordered_set<std::shared_ptr<Connection>> connections_;
  metrics::Counter* requests_ = nullptr;
  metrics::Counter* rejected_ = nullptr;
  metrics::Counter* cookies_refused_ = nullptr;
  metrics::Histogram* latency_ = nullptr;
  RateLimiter limiter_{SystemClock::Instance()};
};

Server::Server(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() {
  impl_->Shutdown();
  impl_->Wait();
}

Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Shutdown() { impl_->Shutdown(); }
void Server::Wait() { impl_->Wait(); }
int64_t Server::open_connections() const { return impl_->open_connections(); }

}  // namespace steward::http
