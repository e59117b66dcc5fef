// The JSON-lines access-log formats: Caddy's and nginx's (a log_format with escape=json).
#include <cmath>
#include <charconv>
#include <cstring>

#include "logs/format.h"

namespace steward::logs {
namespace {

constexpr int kMaxDepth = 32;

// A cursor over one line of JSON. Strings come back as views into the line, or into `decoded`
// when they held escapes; `decoded` is reserved to the line's size first, so it never moves.
class JsonLine {
 public:
  JsonLine(std::string_view s, std::string& decoded) : s_(s), decoded_(decoded) {
    decoded_.clear();
    decoded_.reserve(s.size());
  }

  void Ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\r' || s_[p_] == '\n')) ++p_;
  }
  bool AtEnd() {
    Ws();
    return p_ == s_.size();
  }
  char Peek() {
    Ws();
    return p_ < s_.size() ? s_[p_] : '\0';
  }

  bool String(std::string_view& out) {
    std::string_view raw;
    return RawString(raw) && Decode(raw, out);
  }

  // A string as written between its quotes, escapes and all.
  bool RawString(std::string_view& raw) {
    if (Peek() != '"') return false;
    size_t start = ++p_;
    while (p_ < s_.size() && s_[p_] != '"') {
      if (static_cast<unsigned char>(s_[p_]) < 0x20) return false;
      p_ += s_[p_] == '\\' ? 2 : 1;
    }
    if (p_ >= s_.size()) return false;
    raw = s_.substr(start, p_++ - start);
    return true;
  }

  // A string's escapes decoded: `raw` itself when it has none, or a view into the buffer.
  bool Decode(std::string_view raw, std::string_view& out) {
    size_t first = raw.find('\\');
    if (first == std::string_view::npos) {
      out = raw;
      return true;
    }
    size_t from = decoded_.size();
    decoded_.append(raw.substr(0, first));
    size_t p = first;
    while (p < raw.size()) {
      char c = raw[p++];
      if (c != '\\') {
        decoded_ += c;
        continue;
      }
      if (p >= raw.size()) return false;
      char e = raw[p++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          decoded_ += e;
          break;
        case 'b':
          decoded_ += '\b';
          break;
        case 'f':
          decoded_ += '\f';
          break;
        case 'n':
          decoded_ += '\n';
          break;
        case 'r':
          decoded_ += '\r';
          break;
        case 't':
          decoded_ += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(raw, p, cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00 && p + 1 < raw.size() && raw[p] == '\\' && raw[p + 1] == 'u') {
            p += 2;
            uint32_t low = 0;
            if (!Hex4(raw, p, low) || low < 0xdc00 || low > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xd800 && cp < 0xe000) {
            cp = 0xfffd;  // a lone surrogate
          }
          Utf8(cp);
          break;
        }
        default:
          return false;
      }
    }
    out = std::string_view(decoded_).substr(from);
    return true;
  }

  // A number, true, false or null as written.
  bool Literal(std::string_view& out) {
    Ws();
    size_t start = p_;
    while (p_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[p_])) || s_[p_] == '-' || s_[p_] == '+' || s_[p_] == '.')) {
      ++p_;
    }
    out = s_.substr(start, p_ - start);
    return !out.empty();
  }

  // A string's contents or a literal as written (a status may be either).
  bool Scalar(std::string_view& out) { return Peek() == '"' ? String(out) : Literal(out); }

  // The first string of an array of strings (as Caddy logs headers), or a string.
  bool FirstString(std::string_view& out) {
    if (Peek() == '"') return String(out);
    if (Peek() != '[') return Skip();
    ++p_;
    bool first = true;
    if (Peek() == ']') return ++p_, true;
    while (true) {
      std::string_view v;
      if (Peek() == '"') {
        if (!String(v)) return false;
        if (first) out = v;
      } else if (!Skip()) {
        return false;
      }
      first = false;
      char c = Peek();
      ++p_;
      if (c == ']') return true;
      if (c != ',') return false;
    }
  }

  // Any value, skipped.
  bool Skip(int depth = 0) {
    if (depth > kMaxDepth) return false;
    char c = Peek();
    std::string_view ignored;
    if (c == '"') return String(ignored);
    if (c == '{') return Object([&](std::string_view) { return Skip(depth + 1); }, depth + 1);
    if (c == '[') {
      ++p_;
      if (Peek() == ']') return ++p_, true;
      while (true) {
        if (!Skip(depth + 1)) return false;
        char d = Peek();
        ++p_;
        if (d == ']') return true;
        if (d != ',') return false;
      }
    }
    return Literal(ignored);
  }

  // Calls member(key) for each member; it must read or skip the value.
  template <typename F>
  bool Object(F&& member, int depth = 0) {
    if (depth > kMaxDepth || Peek() != '{') return false;
    ++p_;
    if (Peek() == '}') return ++p_, true;
    while (true) {
      std::string_view key;
      if (!String(key) || Peek() != ':') return false;
      ++p_;
      if (!member(key)) return false;
      char c = Peek();
      ++p_;
      if (c == '}') return true;
      if (c != ',') return false;
    }
  }

 private:
  static bool Hex4(std::string_view s, size_t& p, uint32_t& v) {
    if (p + 4 > s.size()) return false;
    for (int i = 0; i < 4; ++i) {
      char c = s[p++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  void Utf8(uint32_t cp) {
    if (cp < 0x80) {
      decoded_ += static_cast<char>(cp);
    } else if (cp < 0x800) {
      decoded_ += static_cast<char>(0xc0 | (cp >> 6));
      decoded_ += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      decoded_ += static_cast<char>(0xe0 | (cp >> 12));
      decoded_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      decoded_ += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      decoded_ += static_cast<char>(0xf0 | (cp >> 18));
      decoded_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      decoded_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      decoded_ += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  std::string_view s_;
  size_t p_ = 0;
  std::string& decoded_;
};

// Seconds (1733047200.5241024, 0.000929675, 5e-07) as whole milliseconds or microseconds; false
// for a figure whose count would not fit in 64 bits.
bool Seconds(std::string_view text, double scale, int64_t& out) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !(v >= 0) || v > 1e13 || v * scale > 9e18) return false;
  out = std::llround(v * scale);
  return true;
}

bool Integer(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

bool Status(std::string_view text, LogRecord& out) {
  int64_t v = 0;
  if (text.size() != 3 || !Integer(text, v) || v < 100 || v > 599) return false;
  out.status = static_cast<int>(v);
  return true;
}

std::string_view Dash(std::string_view v) { return v == "-" ? std::string_view() : v; }

// "203.0.113.7:51234" or "[2001:db8::1]:51234" without the port.
std::string_view WithoutPort(std::string_view addr) {
  if (!addr.empty() && addr.front() == '[') {
    size_t close = addr.find(']');
    return close == std::string_view::npos ? addr : addr.substr(1, close - 1);
  }
  size_t colon = addr.rfind(':');
  if (colon != std::string_view::npos && addr.find(':') == colon) return addr.substr(0, colon);
  return addr;
}

constexpr std::string_view kIso8601 = "%Y-%m-%dT%H:%M:%S%z";

// A request target as written in the JSON, split at '?' before decoding, so that the path stays a
// view into the line unless it has escapes of its own (Go escapes the & of a query as \u0026).
bool Target(JsonLine& j, std::string_view raw, LogRecord& out) {
  size_t q = raw.find('?');
  if (!j.Decode(raw.substr(0, q), out.path)) return false;
  if (q != std::string_view::npos && !j.Decode(raw.substr(q + 1), out.query)) return false;
  return !out.path.empty();
}

}  // namespace

std::string_view LogFormat::ParseCaddy(std::string_view line, LogRecord& out) const {
  out.Clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return "empty line";
  JsonLine j(line, out.decoded);
  std::string_view client_ip, remote_ip, remote_addr, ts, logger, uri, why;
  bool has_ts = false, ts_string = false;
  bool ok = j.Object([&](std::string_view key) -> bool {
    if (key == "logger") return j.String(logger);
    if (key == "ts") {
      has_ts = true;
      ts_string = j.Peek() == '"';
      return j.Scalar(ts);
    }
    if (key == "status") {
      std::string_view v;
      if (!j.Scalar(v)) return false;
      if (!Status(v, out)) why = "bad status";
      return true;
    }
    if (key == "size") {
      std::string_view v;
      if (!j.Scalar(v)) return false;
      if (!Integer(v, out.bytes)) why = "bad size";
      return true;
    }
    if (key == "duration") {
      std::string_view v;
      if (!j.Scalar(v)) return false;
      int64_t us = 0;
      if (Seconds(v, 1e6, us)) out.duration_us = us;
      return true;
    }
    if (key != "request") return j.Skip();
    return j.Object([&](std::string_view rk) -> bool {
      if (rk == "client_ip") return j.String(client_ip);
      if (rk == "remote_ip") return j.String(remote_ip);
      if (rk == "remote_addr") return j.String(remote_addr);
      if (rk == "method") return j.String(out.method);
      if (rk == "host") return j.String(out.vhost);
      if (rk == "uri") return j.RawString(uri);
      if (rk == "proto") return j.String(out.protocol);
      if (rk != "headers") return j.Skip();
      return j.Object([&](std::string_view h) -> bool {
        if (h == "User-Agent") return j.FirstString(out.user_agent);
        if (h == "Referer") return j.FirstString(out.referrer);
        return j.Skip();
      });
    });
  });
  if (!ok || !j.AtEnd()) return "not JSON";
  if (!logger.empty() && logger.substr(0, 15) != "http.log.access") return "not an access-log entry";
  if (!why.empty()) return why;
  // Privacy: access-logs. The client's address, for the keyed visitor hash and the raw line.
  out.host = !client_ip.empty() ? client_ip : !remote_ip.empty() ? remote_ip : WithoutPort(remote_addr);
  if (out.host.empty()) return "no client address";
  if (!Target(j, uri, out)) return "bad request line";
  if (out.status == 0) return "bad status";
  if (!has_ts) return "bad date";
  if (ts_string) {
    if (!ParseTimestamp(ts, kIso8601, out.time_ms, out.local_day)) return "bad date";
  } else {
    if (!Seconds(ts, 1e3, out.time_ms)) return "bad date";
    out.local_day = out.time_ms / 86'400'000;
  }
  return "";
}

std::string_view LogFormat::ParseNginxJson(std::string_view line, LogRecord& out) const {
  out.Clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return "empty line";
  JsonLine j(line, out.decoded);
  std::string_view request, request_uri, uri, args, time_local, time_iso, msec, status, body_bytes, bytes, server_name,
      http_host;
  bool ok = j.Object([&](std::string_view key) -> bool {
    std::string_view* to = nullptr;
    if (key == "remote_addr")
      to = &out.host;
    else if (key == "remote_user")
      to = &out.user;
    else if (key == "time_local")
      to = &time_local;
    else if (key == "time_iso8601")
      to = &time_iso;
    else if (key == "msec")
      to = &msec;
    else if (key == "request")
      to = &request;
    else if (key == "request_method")
      to = &out.method;
    else if (key == "request_uri")
      to = &request_uri;
    else if (key == "uri")
      to = &uri;
    else if (key == "args" || key == "query_string")
      to = &args;
    else if (key == "server_protocol")
      to = &out.protocol;
    else if (key == "status")
      to = &status;
    else if (key == "body_bytes_sent")
      to = &body_bytes;
    else if (key == "bytes_sent")
      to = &bytes;
    else if (key == "http_referer" || key == "http_referrer")
      to = &out.referrer;
    else if (key == "http_user_agent")
      to = &out.user_agent;
    else if (key == "host")
      to = &out.vhost;
    else if (key == "server_name")
      to = &server_name;
    else if (key == "http_host")
      to = &http_host;
    else if (key == "request_time") {
      std::string_view v;
      if (!j.Scalar(v)) return false;
      int64_t us = 0;
      if (Seconds(v, 1e6, us)) out.duration_us = us;
      return true;
    }
    if (to == nullptr) return j.Skip();
    if (to == &request || to == &request_uri || to == &uri) return j.RawString(*to);  // split before decoding
    return j.Scalar(*to);
  });
  if (!ok || !j.AtEnd()) return "not JSON";
  // Privacy: access-logs. The client's address, for the keyed visitor hash and the raw line.
  out.host = Dash(out.host);
  if (out.host.empty()) return "no client address";
  out.user = Dash(out.user);
  out.referrer = Dash(out.referrer);
  out.user_agent = Dash(out.user_agent);
  if (out.vhost.empty()) out.vhost = !http_host.empty() ? http_host : server_name;
  if (!request.empty()) {
    size_t a = request.find(' '), b = request.rfind(' ');
    if (a == std::string_view::npos || a == 0) return "bad request line";
    if (!j.Decode(request.substr(0, a), out.method)) return "bad request line";
    if (b > a && !j.Decode(request.substr(b + 1), out.protocol)) return "bad request line";
    if (!Target(j, b > a ? request.substr(a + 1, b - a - 1) : request.substr(a + 1), out)) return "bad request line";
  } else if (!request_uri.empty()) {
    if (!Target(j, request_uri, out)) return "bad request line";
  } else {
    if (!Target(j, uri, out)) return "bad request line";
    out.query = Dash(args);
  }
  if (!Status(status, out)) return "bad status";
  std::string_view size = !body_bytes.empty() ? body_bytes : bytes;
  if (!size.empty() && size != "-" && !Integer(size, out.bytes)) return "bad size";
  if (!time_iso.empty()) {
    if (!ParseTimestamp(time_iso, kIso8601, out.time_ms, out.local_day)) return "bad date";
  } else if (!time_local.empty()) {
    if (!ParseTimestamp(time_local, "%d/%b/%Y:%H:%M:%S %z", out.time_ms, out.local_day)) return "bad date";
  } else if (!msec.empty()) {
    if (!Seconds(msec, 1e3, out.time_ms)) return "bad date";
    out.local_day = out.time_ms / 86'400'000;
  } else {
    return "bad date";
  }
  return "";
}

}  // namespace steward::logs
