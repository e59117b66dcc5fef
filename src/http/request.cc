#include "http/request.h"

#include "core/strings.h"

namespace steward::http {

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

Method ParseMethod(std::string_view name) {
  if (name == "GET") return Method::kGet;
  if (name == "HEAD") return Method::kHead;
  if (name == "POST") return Method::kPost;
  if (name == "PUT") return Method::kPut;
  if (name == "PATCH") return Method::kPatch;
  if (name == "DELETE") return Method::kDelete;
  if (name == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

const std::string* Find(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string_view Request::Header(std::string_view name) const {
  for (const auto& h : headers) {
    // Most names differ in length: checked here, without the call.
    if (h.name.size() == name.size() && EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

std::string_view Request::PathParam(std::string_view name) const {
  const std::string* v = Find(path_params, name);
  return v ? std::string_view(*v) : std::string_view();
}

Result<Params> Request::Query() const { return ParseUrlEncoded(query); }

std::string Request::ContentType() const {
  std::string_view ct = Header("Content-Type");
  return ToLower(Trim(ct.substr(0, ct.find(';'))));
}

Result<Params> Request::Form() const {
  if (ContentType() != "application/x-www-form-urlencoded") {
    return MakeError(ErrorCode::kInvalidArgument, "expected a form (application/x-www-form-urlencoded)");
  }
  return ParseUrlEncoded(body);
}

Params Request::Cookies() const {
  Params all;
  ForEachCookie([&](std::string_view name, std::string_view value) {
    all.emplace_back(std::string(name), std::string(value));
    return true;
  });
  return all;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;  // needs two hex digits after '%'
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return ValidUtf8(out);
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<Params> ParseUrlEncoded(std::string_view s, size_t max_fields) {
  Params out;
  if (s.empty()) return out;
  for (std::string_view pair : Split(s, '&')) {
    if (pair.empty()) continue;
    if (out.size() >= max_fields) {
      return MakeError(ErrorCode::kInvalidArgument, "too many fields (at most " + std::to_string(max_fields) + ")");
    }
    size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name || !value) return MakeError(ErrorCode::kInvalidArgument, "malformed percent-encoding");
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

bool NextCookie(std::string_view& rest, std::string_view& name, std::string_view& value) {
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = Trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    name = Trim(part.substr(0, eq));
    value = Trim(part.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return true;
  }
  return false;
}

Params ParseCookieHeader(std::string_view header, size_t max_cookies) {
  Params out;
  std::string_view name, value;
  while (out.size() < max_cookies && NextCookie(header, name, value))
    out.emplace_back(std::string(name), std::string(value));
  return out;
}

}  // namespace steward::http
