#include "logs/format.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/strings.h"

namespace steward::logs {
namespace {

// The parts of a time read by ParseTime; -1 where the format did not give them.
struct Tm {
  int64_t year = -1, month = -1, day = -1, hour = 0, minute = 0, second = 0;
  int64_t offset_s = 0;
  bool has_offset = false;
  int64_t epoch_ms = -1;  // %s
};

bool Digits(std::string_view s, size_t& i, size_t max, int64_t& out) {
  size_t start = i;
  out = 0;
  while (i < s.size() && i - start < max && s[i] >= '0' && s[i] <= '9') out = out * 10 + (s[i++] - '0');
  return i > start;
}

int Month(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                              "jul", "aug", "sep", "oct", "nov", "dec"};
  if (s.size() < 3) return 0;
  char lower[3] = {static_cast<char>(std::tolower(static_cast<unsigned char>(s[0]))),
                   static_cast<char>(std::tolower(static_cast<unsigned char>(s[1]))),
                   static_cast<char>(std::tolower(static_cast<unsigned char>(s[2])))};
  for (size_t m = 0; m < kNames.size(); ++m) {
    if (std::string_view(lower, 3) == kNames[m]) return static_cast<int>(m) + 1;
  }
  return 0;
}

bool ParseOffset(std::string_view s, size_t& i, Tm& tm) {
  if (i < s.size() && s[i] == 'Z') {
    ++i;
    tm.has_offset = true;
    return true;
  }
  if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return false;
  int sign = s[i++] == '-' ? -1 : 1;
  int64_t hh = 0, mm = 0;
  if (!Digits(s, i, 2, hh)) return false;
  if (i < s.size() && s[i] == ':') ++i;
  if (!Digits(s, i, 2, mm)) return false;
  if (hh > 14 || mm > 59) return false;
  tm.offset_s = sign * (hh * 3600 + mm * 60);
  tm.has_offset = true;
  return true;
}

// A small strptime: %d %m %b %Y %y %H %M %S %z %s, literals, a space for any run of spaces.
bool ParseTime(std::string_view s, std::string_view fmt, Tm& tm) {
  size_t i = 0;
  for (size_t f = 0; f < fmt.size(); ++f) {
    if (fmt[f] != '%' || f + 1 == fmt.size()) {
      if (fmt[f] == ' ') {
        if (i >= s.size() || s[i] != ' ') return false;
        while (i < s.size() && s[i] == ' ') ++i;
      } else if (i >= s.size() || s[i++] != fmt[f]) {
        return false;
      }
      continue;
    }
    char d = fmt[++f];
    int64_t v = 0;
    switch (d) {
      case 'd':
        if (!Digits(s, i, 2, tm.day)) return false;
        break;
      case 'm':
        if (!Digits(s, i, 2, tm.month)) return false;
        break;
      case 'Y':
        if (!Digits(s, i, 4, tm.year)) return false;
        break;
      case 'y':
        if (!Digits(s, i, 2, v)) return false;
        tm.year = 2000 + v;
        break;
      case 'H':
        if (!Digits(s, i, 2, tm.hour)) return false;
        break;
      case 'M':
        if (!Digits(s, i, 2, tm.minute)) return false;
        break;
      case 'S':
        if (!Digits(s, i, 2, tm.second)) return false;
        if (i < s.size() && (s[i] == '.' || s[i] == ',') && (f + 1 >= fmt.size() || fmt[f + 1] != s[i])) {
          ++i;  // fractions of a second
          while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        }
        break;
      case 'b': {
        int m = Month(s.substr(i));
        if (m == 0) return false;
        tm.month = m;
        i += 3;
        while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;  // "December"
        break;
      }
      case 'z':
        if (!ParseOffset(s, i, tm)) return false;
        break;
      case 's': {
        if (!Digits(s, i, 12, v)) return false;
        int64_t ms = v * 1000;
        if (i < s.size() && s[i] == '.') {
          ++i;
          int64_t frac = 0, scale = 100;
          while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i++] - '0') * scale;
            scale /= 10;
          }
          ms += frac;
        }
        tm.epoch_ms = ms;
        tm.has_offset = true;
        break;
      }
      case '%':
        if (i >= s.size() || s[i++] != '%') return false;
        break;
      default:
        return false;
    }
  }
  return i == s.size();
}

std::string_view Dash(std::string_view v) { return v == "-" ? std::string_view() : v; }

// UTC milliseconds and the day as written, from what ParseTime read.
bool Resolve(const Tm& tm, int64_t& time_ms, int64_t& local_day) {
  if (tm.epoch_ms >= 0) {
    time_ms = tm.epoch_ms;
    local_day = tm.epoch_ms / 86'400'000;
    return true;
  }
  if (tm.year < 1970 || tm.month < 1 || tm.month > 12 || tm.day < 1 || tm.day > 31 || tm.hour > 23 || tm.minute > 59 ||
      tm.second > 60) {
    return false;
  }
  // No 31 April, no 29 February outside a leap year: such a day is not moved into the next month.
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (tm.year % 4 == 0 && tm.year % 100 != 0) || tm.year % 400 == 0;
  if (tm.day > kDays[tm.month - 1] + (tm.month == 2 && leap ? 1 : 0)) return false;
  local_day = DaysFromCivil(tm.year, static_cast<unsigned>(tm.month), static_cast<unsigned>(tm.day));
  int64_t local_s = local_day * 86400 + tm.hour * 3600 + tm.minute * 60 + tm.second;
  time_ms = (local_s - tm.offset_s) * 1000;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<LogFormat> LogFormat::Preset(std::string_view name) {
  const char* text = nullptr;
  if (name == "combined")
    text = R"(%h %^[%d:%t %z] "%r" %s %b "%R" "%u")";
  else if (name == "vcombined")
    text = R"(%v:%^ %h %^[%d:%t %z] "%r" %s %b "%R" "%u")";
  else if (name == "common")
    text = R"(%h %^[%d:%t %z] "%r" %s %b)";
  else if (name == "vcommon")
    text = R"(%v:%^ %h %^[%d:%t %z] "%r" %s %b)";
  if (text != nullptr) return Compile(text).value();
  if (name == "caddy" || name == "nginx-json") {
    LogFormat f;
    f.kind_ = name == "caddy" ? Kind::kCaddy : Kind::kNginxJson;
    f.text_ = std::string(name);
    return f;
  }
  if (name == "w3c") return Compile("%d %t %^ %m %U %q %^ %^ %h %u %R %s %^ %^ %L", "%Y-%m-%d", "%H:%M:%S").value();
  return std::nullopt;
}

Result<LogFormat> LogFormat::Compile(std::string_view log_format, std::string_view date_format,
                                     std::string_view time_format, std::string_view datetime_format) {
  LogFormat f;
  f.text_ = std::string(log_format);
  f.date_format_ = std::string(date_format);
  f.time_format_ = std::string(time_format);
  f.datetime_format_ = std::string(datetime_format);
  bool has_date = false, has_time = false, has_datetime = false, has_request = false;
  for (size_t i = 0; i < log_format.size(); ++i) {
    char c = log_format[i];
    if (c != '%') {
      f.steps_.push_back({0, c});
      continue;
    }
    if (i + 1 == log_format.size()) return MakeError(ErrorCode::kInvalidArgument, "log format: a lone % at the end");
    char spec = log_format[++i];
    static constexpr std::string_view kKnown = "hvedtxzrmUqHsbRuDTL^~";
    if (kKnown.find(spec) == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument, std::string("log format: unknown specifier %") + spec);
    }
    char end = 0;
    if (i + 1 < log_format.size()) {
      end = log_format[i + 1];
      if (end == '%' && spec != '~' && !(i + 2 < log_format.size() && log_format[i + 2] == '~')) {
        return MakeError(ErrorCode::kInvalidArgument,
                         std::string("log format: %") + spec + " needs a character between it and the next specifier");
      }
    }
    f.steps_.push_back({spec, end});
    has_date |= spec == 'd';
    has_time |= spec == 't';
    has_datetime |= spec == 'x';
    has_request |= spec == 'r' || spec == 'U';
  }
  if (!has_datetime && !(has_date && has_time)) {
    return MakeError(ErrorCode::kInvalidArgument, "log format: needs the time of each request (%x, or %d and %t)");
  }
  if (!has_request) return MakeError(ErrorCode::kInvalidArgument, "log format: needs the request (%r or %U)");
  return f;
}

std::string_view LogFormat::Parse(std::string_view line, LogRecord& out) const {
  if (kind_ == Kind::kCaddy) return ParseCaddy(line, out);
  if (kind_ == Kind::kNginxJson) return ParseNginxJson(line, out);
  out.Clear();
  std::string_view date, time, datetime, zone;
  size_t p = 0;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return "empty line";
  for (size_t n = 0; n < steps_.size(); ++n) {
    const Step& step = steps_[n];
    if (p >= line.size() && p > 0) {
      // The line ends early, as a cut last field leaves it. As GoAccess does, what is left may be
      // missing if it is only the referrer, the user agent, the size and the like.
      bool needed_left = std::any_of(steps_.begin() + static_cast<std::ptrdiff_t>(n), steps_.end(), [](const Step& s) {
        return s.spec != 0 && std::string_view("hdtxzrmUs").find(s.spec) != std::string_view::npos;
      });
      if (needed_left) return "the line ends early";
      break;
    }
    if (step.spec == 0) {
      if (p >= line.size() || line[p] != step.literal) return "does not match the format";
      ++p;
      continue;
    }
    if (step.spec == '~') {
      while (p < line.size() && line[p] == ' ') ++p;
      continue;
    }
    size_t end = p;
    if (step.literal == 0) {
      end = line.size();
    } else if (step.literal == '"') {
      // The first quote not escaped by a backslash. Most fields hold no backslash: the quote and
      // then a backslash before it are each looked for a word at a time (memchr).
      while (end < line.size()) {
        size_t quote = line.find('"', end);
        if (quote == std::string_view::npos) quote = line.size();
        size_t slash = line.substr(0, quote).find('\\', end);
        if (slash == std::string_view::npos) {
          end = quote;
          break;
        }
        end = slash + 2;  // the escaped byte is skipped
      }
      // A last field that lost its closing quote runs to the end of the line.
      end = std::min(end, line.size());
    } else {
      end = line.find(step.literal, p);
      if (end == std::string_view::npos) return "does not match the format";
    }
    std::string_view field = line.substr(p, end - p);
    p = end;
    switch (step.spec) {
      case 'h':
        if (field.empty() || field == "-") return "no client address";
        out.host = field;
        break;
      case 'v':
        out.vhost = Dash(field);
        break;
      case 'e':
        out.user = Dash(field);
        break;
      case 'd':
        date = field;
        break;
      case 't':
        time = field;
        break;
      case 'x':
        datetime = field;
        break;
      case 'z':
        zone = field;
        break;
      case 'r':
        if (!ReadRequestLine(field, out)) return "bad request line";
        break;
      case 'm':
        out.method = field;
        break;
      case 'U':
        if (!ReadTarget(field, out)) return "bad request line";
        break;
      case 'q':
        if (out.query.empty()) out.query = Dash(field);
        break;
      case 'H':
        out.protocol = Dash(field);
        break;
      case 's': {
        if (field.size() != 3 || !std::isdigit(static_cast<unsigned char>(field[0])) ||
            !std::isdigit(static_cast<unsigned char>(field[1])) ||
            !std::isdigit(static_cast<unsigned char>(field[2]))) {
          return "bad status";
        }
        out.status = (field[0] - '0') * 100 + (field[1] - '0') * 10 + (field[2] - '0');
        if (out.status < 100 || out.status > 599) return "bad status";
        break;
      }
      case 'b': {
        if (field == "-" || field.empty()) break;
        size_t i = 0;
        int64_t v = 0;
        if (!Digits(field, i, 18, v) || i != field.size()) return "bad size";
        out.bytes = v;
        break;
      }
      case 'R':
        out.referrer = Dash(field);
        break;
      case 'u':
        out.user_agent = Dash(field);
        break;
      case 'D':
      case 'L':
      case 'T': {
        size_t i = 0;
        int64_t whole = 0;
        if (field == "-" || !Digits(field, i, 18, whole)) break;
        int64_t us = step.spec == 'D' ? whole : step.spec == 'L' ? whole * 1000 : whole * 1'000'000;
        if (step.spec == 'T' && i < field.size() && field[i] == '.') {
          int64_t scale = 100'000;
          for (++i; i < field.size() && std::isdigit(static_cast<unsigned char>(field[i])) && scale > 0;
               ++i, scale /= 10) {
            us += (field[i] - '0') * scale;
          }
        }
        out.duration_us = us;
        break;
      }
      default:
        break;  // %^
    }
  }
  if (out.path.empty()) return "bad request line";
  Tm tm;
  if (!datetime.empty()) {
    if (!ParseTime(datetime, datetime_format_, tm)) return "bad date";
  } else {
    if (!ParseTime(date, date_format_, tm)) return "bad date";
    if (!ParseTime(time, time_format_, tm)) return "bad time";
  }
  if (!zone.empty()) {
    size_t i = 0;
    if (!ParseOffset(zone, i, tm) || i != zone.size()) return "bad time zone";
  }
  return Resolve(tm, out.time_ms, out.local_day) ? "" : "bad date";
}

bool ReadTarget(std::string_view target, LogRecord& out) {
  size_t q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string_view::npos) out.query = target.substr(q + 1);
  return !out.path.empty();
}

namespace {

// The methods GoAccess knows (HTTP and WebDAV), which it looks for at the start of a request line.
bool KnownMethod(std::string_view m) {
  static constexpr std::string_view kMethods[] = {"GET",
                                                  "POST",
                                                  "HEAD",
                                                  "PUT",
                                                  "DELETE",
                                                  "OPTIONS",
                                                  "PATCH",
                                                  "CONNECT",
                                                  "TRACE",
                                                  "PROPFIND",
                                                  "PROPPATCH",
                                                  "MKCOL",
                                                  "COPY",
                                                  "MOVE",
                                                  "LOCK",
                                                  "UNLOCK",
                                                  "SEARCH",
                                                  "REPORT",
                                                  "CHECKOUT",
                                                  "CHECKIN",
                                                  "UNCHECKOUT",
                                                  "MKWORKSPACE",
                                                  "UPDATE",
                                                  "LABEL",
                                                  "MERGE",
                                                  "MKACTIVITY",
                                                  "ORDERPATCH",
                                                  "VERSION-CONTROL",
                                                  "BASELINE-CONTROL"};
  return std::any_of(std::begin(kMethods), std::end(kMethods),
                     [&](std::string_view k) { return EqualsIgnoreCase(m, k); });
}

bool KnownProtocol(std::string_view p) {
  for (std::string_view k : {"HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0", "HTTP/3", "HTTP/3.0"}) {
    if (EqualsIgnoreCase(p, k)) return true;
  }
  return false;
}

}  // namespace

bool ReadRequestLine(std::string_view line, LogRecord& out) {
  // As GoAccess reads it, so that both count the same lines: a line that is not an HTTP request
  // (a TLS handshake sent to a plain port, logged as "\x16\x03\x01...") is kept whole as the
  // request; a request with a method but no path or protocol is "-".
  size_t a = line.find(' ');
  std::string_view method = line.substr(0, a);
  if (line.empty() || !KnownMethod(method)) {
    out.path = line.empty() ? std::string_view("-") : line;
    return true;
  }
  out.method = method;
  size_t b = line.rfind(' ');
  if (a == std::string_view::npos || b <= a || !KnownProtocol(line.substr(b + 1))) {
    out.path = "-";
    return true;
  }
  out.protocol = line.substr(b + 1);
  if (!ReadTarget(line.substr(a + 1, b - a - 1), out)) out.path = "-";
  return true;
}

bool ParseTimestamp(std::string_view text, std::string_view format, int64_t& time_ms, int64_t& local_day) {
  Tm tm;
  return ParseTime(text, format, tm) && Resolve(tm, time_ms, local_day);
}

}  // namespace steward::logs
