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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "http/response.h"

namespace steward::http {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
  // The largest body this route takes; 0 uses the server's default (server.limits.max_body_bytes).
  int64_t max_body_bytes = 0;
  // The handler blocks (disk, password hashing, SMTP): run it on the worker pool, never on an I/O
  // thread. Every handler that touches the store sets this.
  bool blocking = false;
};

struct Route {
  Method method;
  std::string pattern;
  Handler handler;
  RouteOptions options;
};

class Router {
 public:
  // Adds a route. Checks (and stops the process on) a malformed pattern or a duplicate.
  void Add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  void Get(std::string pattern, Handler h, RouteOptions o = {}) { Add(Method::kGet, std::move(pattern), std::move(h), o); }
  void Post(std::string pattern, Handler h, RouteOptions o = {}) { Add(Method::kPost, std::move(pattern), std::move(h), o); }

  struct Match {
    const Route* route = nullptr;  // null: no route for this method
    Params params;                  // decoded path parameters
    std::vector<Method> allowed;    // when route is null but the path exists: methods it takes
    bool bad_encoding = false;      // a path parameter had malformed percent-encoding
  };
  // `path` is still percent-encoded.
  Match Find(Method method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace steward::http
