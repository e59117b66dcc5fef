// Server: Steward's HTTP/1.1 server. Knows nothing of the domain: it reads requests within limits,
// asks the Router for a handler, runs it (on the worker pool when it blocks), adds the security
// headers and writes the response.
//
// Limits (config::Limits) and how each is answered: a header block over max_header_bytes is 431, a
// URL over max_url_bytes is 414, a body over the route's limit is 413 (all then close the
// connection); a request not read within read_timeout_seconds is cut off (slowloris); a keep-alive
// connection idle for idle_timeout_seconds is closed; past max_connections a new connection gets
// 503; past worker_queue waiting blocking handlers, 503 with Retry-After.
//
// A handler that throws gives 500 with the request id, is logged, and the server goes on.
//
//   Server server(options, std::move(router));
//   STEWARD_RETURN_IF_ERROR(server.Start());   // binds and starts the threads
//   ... server.Shutdown();                      // from any thread, e.g. on SIGTERM
//   server.Wait();                              // returns when every thread has stopped
//
// Thread safety: Start, Shutdown and Wait may be called from any thread; Shutdown more than once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/ip.h"
#include "core/result.h"
#include "http/router.h"

namespace steward::metrics {
class Registry;
}

namespace steward::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see Server::port())
  int threads = 2;
  config::Limits limits;
  std::vector<Cidr> trusted_proxies;
  bool https = false;  // adds HSTS; requests see https=true
  metrics::Registry* metrics = nullptr;
  // Decides, for every Set-Cookie of a response, whether it may be sent (the consent module's
  // gate). `all` is every cookie the response sets. A refused cookie is dropped, logged and counted
  // in steward_http_cookies_refused_total. Absent: every valid cookie is sent.
  std::function<bool(const Request& request, const std::vector<SetCookie>& all, const SetCookie& cookie)> cookie_gate;
  // Renders the page for an error the server answers itself (404, 405, 413, 500, ...). `request`
  // is null when the request could not be read. Default: plain text.
  std::function<Response(int status, const Request* request)> error_page;
};

class Server {
 public:
  Server(ServerOptions options, Router router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket and starts the I/O threads and worker pool. Errors: kIo.
  Status Start();
  // The port bound (useful when options.port was 0). Valid after Start.
  uint16_t port() const;
  // Stops accepting, closes idle connections, lets in-flight requests finish for up to
  // shutdown_grace_seconds, then stops every thread.
  void Shutdown();
  // Blocks until the server has stopped.
  void Wait();
  // Open connections now (for tests and metrics).
  int64_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The client address for a request from `peer` with this X-Forwarded-For value: the peer itself
// unless it is a trusted proxy; then the rightmost forwarded address that is not a trusted proxy.
IpAddress ClientAddress(const IpAddress& peer, std::string_view forwarded_for, const std::vector<Cidr>& trusted);

}  // namespace steward::http
