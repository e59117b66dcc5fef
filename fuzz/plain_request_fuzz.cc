// ParsePlainRequest against Beast's request parser on the same bytes: whatever the first accepts,
// Beast must read the same (method, target, fields, body, version, keep-alive, bytes used). A
// difference stops the fuzzer.
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "http/plain_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bhttp = boost::beast::http;
  constexpr size_t kHeadLimit = 8192;
  std::string text(reinterpret_cast<const char*>(data), size);
  steward::http::Request req;
  steward::http::PlainFraming framing;
  if (!steward::http::ParsePlainRequest(text, kHeadLimit, req, framing)) return 0;

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
  if (ec || !parser.is_done()) std::abort();
  const auto& m = parser.get();
  std::vector<std::pair<std::string, std::string>> beast_fields, ours;
  for (const auto& f : m) beast_fields.emplace_back(std::string(f.name_string()), std::string(f.value()));
  for (const auto& h : req.headers) ours.emplace_back(h.name, h.value);
  // Beast moves a repeated field beside the first of its name; each name's values keep their order.
  auto by_name = [](const auto& a, const auto& b) { return steward::ToLower(a.first) < steward::ToLower(b.first); };
  std::stable_sort(beast_fields.begin(), beast_fields.end(), by_name);
  std::stable_sort(ours.begin(), ours.end(), by_name);
  bool same =
      used == framing.head_bytes + framing.content_length &&
      req.method == steward::http::ParseMethod(std::string_view(m.method_string().data(), m.method_string().size())) &&
      req.target == std::string(m.target()) && ours == beast_fields &&
      text.substr(framing.head_bytes, framing.content_length) == m.body() && framing.keep_alive == m.keep_alive() &&
      framing.http10 == (m.version() == 10);
  if (!same) std::abort();
  return 0;
}
