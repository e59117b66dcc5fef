// Request: what a handler sees of an HTTP request. Plain data; no sockets, no Beast.
//
// Also the parsers for the parts of a request that come from outside: the query string,
// application/x-www-form-urlencoded bodies and the Cookie header (RFC 6265). Each bounds the
// number of fields it accepts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ip.h"
#include "core/result.h"
#include "core/strings.h"

namespace steward::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view MethodName(Method m);
Method ParseMethod(std::string_view name);

struct HeaderField {
  std::string name;
  std::string value;
};

// Ordered name/value pairs; a name may repeat.
using Params = std::vector<std::pair<std::string, std::string>>;

// The first value for `name`, or nullptr.
const std::string* Find(const Params& params, std::string_view name);

struct Request {
  Method method = Method::kGet;
  std::string target;  // as sent: path and query, percent-encoded
  std::string path;    // the part of target before '?', still encoded
  std::string query;   // the part after '?', without it
  std::vector<HeaderField> headers;
  std::string body;
  std::string request_id;  // random, also sent back as X-Request-Id
  std::string route;       // the pattern that matched ("/staff/{id}"); for metrics and logs
  Params path_params;      // decoded values of the pattern's {names}
  bool https = false;      // the public URL is https (config), so cookies are Secure
  // Privacy: the client's address (user.device.ip_address): the peer, or the address a trusted
  // proxy forwarded. Handlers turn it into what their dataset declares and never store it raw.
  std::optional<IpAddress> client_ip;

  // The first header with this name (case-insensitive), or "".
  std::string_view Header(std::string_view name) const;
  // The decoded value of a path parameter, or "".
  std::string_view PathParam(std::string_view name) const;
  // Parses the query string. Errors: kInvalidArgument on bad percent-encoding or too many fields.
  Result<Params> Query() const;
  // Parses an application/x-www-form-urlencoded body. Errors: kInvalidArgument on another
  // content type, bad encoding or too many fields.
  Result<Params> Form() const;
  // The Cookie header's name/value pairs. Malformed pairs are skipped.
  Params Cookies() const;
  // The same pairs, as views into the headers, without copying them: fn(name, value) for each in
  // order until it returns false.
  template <typename Fn>
  void ForEachCookie(Fn fn) const;
  // The media type of Content-Type, lower case, without parameters ("application/json").
  std::string ContentType() const;
};

// Limits on what the parsers accept.
inline constexpr size_t kMaxFields = 256;
inline constexpr size_t kMaxCookies = 64;

// Decodes %XX escapes (and '+' as a space when `plus_as_space`). nullopt on a malformed escape.
// What it decodes to is made valid UTF-8 (U+FFFD for bytes that are not), so no query, form or
// path parameter carries invalid text further in.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space);
// Encodes everything but unreserved characters (RFC 3986).
std::string PercentEncode(std::string_view s);
// Parses a query string or form body.
Result<Params> ParseUrlEncoded(std::string_view s, size_t max_fields = kMaxFields);
// Parses a Cookie header value.
Params ParseCookieHeader(std::string_view header, size_t max_cookies = kMaxCookies);
// The next well-formed pair of a Cookie header value, taken off the front of `rest`; false when
// none is left. Views into the header.
bool NextCookie(std::string_view& rest, std::string_view& name, std::string_view& value);

template <typename Fn>
void Request::ForEachCookie(Fn fn) const {
  size_t seen = 0;
  for (const auto& h : headers) {
    if (!EqualsIgnoreCase(h.name, "Cookie")) continue;
    std::string_view rest = h.value, name, value;
    while (seen < kMaxCookies && NextCookie(rest, name, value)) {
      ++seen;
      if (!fn(name, value)) return;
    }
  }
}

}  // namespace steward::http
