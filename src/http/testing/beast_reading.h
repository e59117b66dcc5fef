// For tests and fuzzers of ParsePlainRequest: whether Beast's request parser reads a request as
// ParsePlainRequest did. Header-only; includes Beast, so only tests and fuzzers include it.
#pragma once

#include <boost/beast/http.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "http/plain_request.h"

namespace steward::testing {

// Empty when Beast, given `text` with the same head limit, reads the same method, target, fields
// (for each name, the same values in order: Beast moves a repeated field beside the first of its
// name), body, version and keep-alive, using the same bytes; otherwise what differs.
inline std::string BeastReadsDifferently(std::string_view text, size_t head_limit, const http::Request& req,
                                         const http::PlainFraming& framing) {
  namespace bhttp = boost::beast::http;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(head_limit));
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (!parser.is_done()) {
    size_t n = parser.put(boost::asio::buffer(text.data() + used, text.size() - used), ec);
    used += n;
    if (ec || n == 0) break;
  }
  if (ec || !parser.is_done()) return "Beast does not read a whole request: " + ec.message();
  const auto& m = parser.get();
  std::vector<std::pair<std::string, std::string>> beast_fields, ours;
  for (const auto& f : m) beast_fields.emplace_back(std::string(f.name_string()), std::string(f.value()));
  for (const auto& h : req.headers) ours.emplace_back(h.name, h.value);
  auto by_name = [](const auto& a, const auto& b) { return ToLower(a.first) < ToLower(b.first); };
  std::stable_sort(beast_fields.begin(), beast_fields.end(), by_name);
  std::stable_sort(ours.begin(), ours.end(), by_name);
  if (used != framing.head_bytes + framing.content_length) return "the bytes used";
  if (req.method != http::ParseMethod(std::string_view(m.method_string().data(), m.method_string().size()))) {
    return "the method";
  }
  if (req.target != std::string(m.target())) return "the target";
  if (req.target != req.path + (req.target.find('?') == std::string::npos ? "" : "?" + req.query)) {
    return "the path and query";
  }
  if (ours != beast_fields) return "the fields";
  if (text.substr(framing.head_bytes, framing.content_length) != m.body()) return "the body";
  if (framing.keep_alive != m.keep_alive()) return "keep-alive";
  if (framing.http10 != (m.version() == 10)) return "the version";
  return "";
}

}  // namespace steward::testing
