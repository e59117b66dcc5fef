// Request paths against a router with literal, parameter and rest patterns.
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static steward::http::Router* router = [] {
    auto* r = new steward::http::Router();
    auto h = [](steward::http::Request&) { return steward::http::Response::NoContent(); };
    r->Get("/", h);
    r->Get("/admin/staff/{id}", h);
    r->Get("/admin/staff/new", h);
    r->Post("/admin/staff/{id}/roles", h);
    r->Get("/assets/{file...}", h);
    return r;
  }();
  std::string path(reinterpret_cast<const char*>(data), size);
  auto match = router->Find(steward::http::Method::kGet, path);
  if (match.route != nullptr && match.route->method != steward::http::Method::kGet) __builtin_trap();
  return 0;
}
