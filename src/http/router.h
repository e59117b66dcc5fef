// Router: maps a method and a path to a handler.
//
// Patterns are literal segments, `{name}` for one segment, and a final `{name...}` for the rest of
// the path: "/admin/staff/{id}", "/assets/{file...}". Literal segments win over parameters.
// A path that matches no pattern is 404; one that matches only under other methods is 405 with
// Allow. HEAD is answered by the GET handler without a body.
//
// Thread safety: build before the server starts; read-only after.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/request.h"
#include "http/response.h"

namespace steward::http {

using Handler = std::function<Response(Request&)>;

// The answer to a request, given later and from any thread: for a handler that hands its work on
// (a write queued for the store's next group commit) and answers when that work is done, without
// holding a thread while it waits. Copies share one answer: the first Send wins; when the last copy
// goes without a Send, the request is answered 500, so no client waits for ever.
class Responder {
 public:
  explicit Responder(std::function<void(Response)> deliver);
  void Send(Response response) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Runs on the worker pool when its route is `blocking`, otherwise on the I/O thread (so it must not
// block: it hands its work on and returns). Must not use the request after it returns.
using AsyncHandler = std::function<void(Request&, Responder)>;

struct RouteOptions {
  // The largest body this route takes; 0 uses the server's default (server.limits.max_body_bytes).
  int64_t max_body_bytes = 0;
  // The handler blocks (disk, password hashing, SMTP): run it on the worker pool, never on an I/O
  // thread. Every handler that touches the store sets this.
  bool blocking = false;
  // A write anyone may make: limited per client (server.limits): a form post or sign-in, or an
  // analytics event. Past the limit the server answers 429 with Retry-After, before the handler.
  enum class Anonymous { kNo, kForm, kEvent };
  Anonymous anonymous_write = Anonymous::kNo;
};

struct Route {
  Method method;
  std::string pattern;
  Handler handler;             // exactly one of these two
  AsyncHandler async_handler;  // answers through its Responder
  RouteOptions options;
};

class Router {
 public:
  // Adds a route. Checks (and stops the process on) a malformed pattern or a duplicate.
  void Add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  void Get(std::string pattern, Handler h, RouteOptions o = {}) {
    Add(Method::kGet, std::move(pattern), std::move(h), o);
  }
  void Post(std::string pattern, Handler h, RouteOptions o = {}) {
    Add(Method::kPost, std::move(pattern), std::move(h), o);
  }
  void AddAsync(Method method, std::string pattern, AsyncHandler handler, RouteOptions options = {});

  struct Match {
    const Route* route = nullptr;  // null: no route for this method
    Params params;                 // decoded path parameters
    std::vector<Method> allowed;   // when route is null but the path exists: methods it takes
    bool bad_encoding = false;     // a path parameter had malformed percent-encoding
  };
  // `path` is still percent-encoded.
  Match Find(Method method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string_view>> segments_;  // of each route's pattern, into routes_
  // The routes whose patterns have no parameters, by pattern (a view into routes_): a path equal to
  // one is that route's under its method, with no other to try (a literal beats every parameter,
  // and two routes cannot share a method and a pattern). Most requests are found here, without
  // splitting the path or trying each pattern.
  std::unordered_map<std::string_view, std::vector<size_t>> literal_;
};

}  // namespace steward::http
