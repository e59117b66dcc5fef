#include "http/plain_request.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "core/strings.h"

namespace steward::http {
namespace {

enum CharClass : unsigned char {
  kToken = 1,   // tchar (RFC 9110 5.6.2): a method's or a field name's
  kTarget = 2,  // a request target's, as accepted here: visible ASCII
  kValue = 4,   // a field value's, as accepted here: visible ASCII, space and tab
};

constexpr std::array<unsigned char, 256> kClasses = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0x21; c <= 0x7E; ++c) t[c] |= kTarget | kValue;
  t[' '] |= kValue;
  t['\t'] |= kValue;
  for (int c = '0'; c <= '9'; ++c) t[c] |= kToken;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kToken;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kToken;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] |= kToken;
  return t;
}();

bool Is(char c, CharClass cls) { return (kClasses[static_cast<unsigned char>(c)] & cls) != 0; }

// Whether every byte of a field value is visible ASCII, a space or a tab: eight bytes at a time,
// as the values (an agent, a cookie) are most of a request's head.
bool PlainValue(std::string_view v) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, v.data() + i, 8);
    // A byte under 0x20, or of 0x7F and over: look closer (a tab is allowed).
    uint64_t low = (w - kOnes * 0x20) & ~w & kHigh;
    uint64_t high = (w + kOnes) | w;
    if (((low | high) & kHigh) != 0) {
      for (size_t k = i; k < i + 8; ++k) {
        if (!Is(v[k], kValue)) return false;
      }
    }
  }
  for (; i < v.size(); ++i) {
    if (!Is(v[i], kValue)) return false;
  }
  return true;
}

// Whether a Connection value, a list of tokens, names `option`; nullopt when the value is more
// than a plain list of tokens, for Beast to read.
std::optional<bool> ListHas(std::string_view list, std::string_view option) {
  bool found = false;
  size_t i = 0;
  while (i < list.size()) {
    char c = list[i];
    if (c == ',' || c == ' ' || c == '\t') {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < list.size() && Is(list[i], kToken)) ++i;
    if (i == start) return std::nullopt;
    if (EqualsIgnoreCase(list.substr(start, i - start), option)) found = true;
    // A token ends at a comma, after optional whitespace.
    while (i < list.size() && (list[i] == ' ' || list[i] == '\t')) ++i;
    if (i < list.size() && list[i] != ',') return std::nullopt;
  }
  return found;
}

}  // namespace

bool ParsePlainRequest(std::string_view data, size_t max_head_bytes, Request& req, PlainFraming& framing) {
  const char* const begin = data.data();
  const char* const limit = begin + std::min(data.size(), max_head_bytes);  // the head ends by here
  // The next line from `p`, without its CRLF; false when it does not end with one by `limit`.
  auto next_line = [limit](const char* p, std::string_view& line) {
    const void* cr = std::memchr(p, '\r', static_cast<size_t>(limit - p));
    if (cr == nullptr) return false;
    const char* end = static_cast<const char*>(cr);
    if (end + 1 >= limit || end[1] != '\n') return false;
    line = std::string_view(p, static_cast<size_t>(end - p));
    return true;
  };

  // The request line: METHOD SP target SP HTTP/1.x
  std::string_view line;
  if (!next_line(begin, line)) return false;
  const char* p = begin + line.size() + 2;
  size_t i = 0;
  while (i < line.size() && line[i] >= 'A' && line[i] <= 'Z') ++i;
  if (i == 0 || i > 16 || i >= line.size() || line[i] != ' ') return false;
  std::string_view method = line.substr(0, i);
  size_t target_start = ++i;
  while (i < line.size() && Is(line[i], kTarget)) ++i;
  if (i == target_start || i >= line.size() || line[i] != ' ') return false;
  std::string_view target = line.substr(target_start, i - target_start);
  std::string_view version = line.substr(i + 1);
  if (version == "HTTP/1.1") {
    framing.http10 = false;
  } else if (version == "HTTP/1.0") {
    framing.http10 = true;
  } else {
    return false;
  }

  // The fields, to the empty line: name ":" OWS value OWS
  std::string_view connection;
  bool has_connection = false, has_length = false;
  uint64_t length = 0;
  req.headers.clear();
  req.headers.reserve(16);
  while (true) {
    if (!next_line(p, line)) return false;
    p += line.size() + 2;
    if (line.empty()) break;
    size_t colon = 0;
    while (colon < line.size() && Is(line[colon], kToken)) ++colon;
    if (colon == 0 || colon >= line.size() || line[colon] != ':') return false;
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (!PlainValue(value)) return false;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    // The three fields that frame the request, found by their length first.
    if (name.size() == 14 && EqualsIgnoreCase(name, "Content-Length")) {
      // One, of plain digits: anything else (a list, a sign, a repeat) is Beast's to judge.
      if (has_length || value.empty() || value.size() > 15 || (value.size() > 1 && value[0] == '0')) return false;
      for (char c : value) {
        if (c < '0' || c > '9') return false;
        length = length * 10 + static_cast<uint64_t>(c - '0');
      }
      has_length = true;
    } else if (name.size() == 17 && EqualsIgnoreCase(name, "Transfer-Encoding")) {
      return false;
    } else if (name.size() == 10 && EqualsIgnoreCase(name, "Connection")) {
      if (has_connection) return false;
      has_connection = true;
      connection = value;
    }
    req.headers.push_back({std::string(name), std::string(value)});
  }
  framing.head_bytes = static_cast<size_t>(p - begin);
  if (data.size() - framing.head_bytes < length) return false;  // the body is still on its way

  // As Beast's message::keep_alive(): HTTP/1.1 unless "close", HTTP/1.0 only with "keep-alive".
  if (has_connection) {
    auto named = ListHas(connection, framing.http10 ? "keep-alive" : "close");
    if (!named) return false;
    framing.keep_alive = framing.http10 ? *named : !*named;
  } else {
    framing.keep_alive = !framing.http10;
  }
  framing.content_length = length;
  req.method = ParseMethod(method);
  req.target.assign(target);
  size_t q = target.find('?');
  req.path.assign(target.substr(0, q));
  if (q != std::string_view::npos) {
    req.query.assign(target.substr(q + 1));
  } else {
    req.query.clear();
  }
  return true;
}

}  // namespace steward::http
