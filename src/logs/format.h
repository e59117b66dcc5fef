// Access-log formats: GoAccess's `--log-format` syntax compiled once, then a zero-copy parser that
// reads one line into views of its fields.
//
//   auto format = logs::LogFormat::Preset("combined");          // or Compile("%h %^[%d:%t %^] ...")
//   logs::LogRecord r;
//   if (auto why = format->Parse(line, r); !why.empty()) { ... skip, counting `why` ... }
//   r.host, r.path, r.status, r.time_ms (UTC), r.local_day ("2026-12-01" as written), ...
//
// Specifiers (GoAccess's): %h client, %v virtual host, %e user, %d date, %t time, %x date and time,
// %z time-zone offset, %r request line, %m method, %U path, %q query string, %H protocol,
// %s status, %b bytes, %R referrer, %u user agent, %D microseconds, %T seconds, %L milliseconds,
// %^ a field to ignore, %~ any spaces. A specifier reads up to the character that follows it in
// the format (a quoted field may hold \" and \\); the last reads to the end of the line.
// Date, time and date-time formats use strptime's %d %m %b %Y %y %H %M %S %z %s and literals.
//
// Two JSON-lines formats, one object a line: "caddy" (Caddy's access log: request.client_ip or
// remote_ip or remote_addr, request.method, uri, proto, host, headers User-Agent and Referer, ts,
// status, size, duration; other loggers' lines are skipped) and "nginx-json" (keys named after
// nginx's variables: remote_addr, time_iso8601 or time_local or msec, request or request_method
// with request_uri, status, body_bytes_sent or bytes_sent, http_referer, http_user_agent,
// request_time, host, remote_user). Escaped strings are decoded into the record's own buffer.
//
// Thread safety: a LogFormat is immutable after Compile; Parse is safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace steward::logs {

struct LogRecord {
  // Views into the line, or into `decoded` for a JSON string that held escapes.
  std::string_view host, vhost, user, method, path, query, protocol, referrer, user_agent;
  int status = 0;
  int64_t bytes = 0;
  int64_t time_ms = 0;       // UTC, the offset applied when the line gives one
  int64_t local_day = 0;     // the day as written in the line (days since 1970-01-01)
  int64_t duration_us = -1;  // when the line says how long the request took
  std::string decoded;       // reused from line to line: keep one record per thread

  // Empties the record for the next line, keeping the buffer's memory.
  void Clear() {
    std::string buffer = std::move(decoded);
    *this = LogRecord{};
    decoded = std::move(buffer);
    decoded.clear();
  }
};

class LogFormat {
 public:
  // "combined", "vcombined", "common", "vcommon", "w3c" (as GoAccess's presets, but reading the
  // time-zone offset they carry), "caddy", "nginx-json", or nullopt.
  static std::optional<LogFormat> Preset(std::string_view name);
  // A GoAccess format string with its date and time formats. Errors: kInvalidArgument naming the
  // problem (an unknown specifier, no time, ...).
  static Result<LogFormat> Compile(std::string_view log_format, std::string_view date_format = "%d/%b/%Y",
                                   std::string_view time_format = "%H:%M:%S",
                                   std::string_view datetime_format = "%d/%b/%Y:%H:%M:%S %z");

  // "" when the line was read into `out`; otherwise why not, as a short reason to count lines by
  // ("no closing quote", "bad status", "bad date", ...). `out`'s views point into `line`.
  std::string_view Parse(std::string_view line, LogRecord& out) const;

  const std::string& text() const { return text_; }

 private:
  enum class Kind { kText, kCaddy, kNginxJson };
  std::string_view ParseCaddy(std::string_view line, LogRecord& out) const;
  std::string_view ParseNginxJson(std::string_view line, LogRecord& out) const;
  Kind kind_ = Kind::kText;
  struct Step {
    char spec = 0;     // 0: a literal
    char literal = 0;  // the literal, or the character that ends the field (0: end of line)
  };
  std::vector<Step> steps_;
  std::string text_, date_format_, time_format_, datetime_format_;
};

// "GET /a?b=1 HTTP/1.1" into method, path, query and protocol; a target ("/a?b=1") into path and
// query. False when there is no path.
bool ReadRequestLine(std::string_view line, LogRecord& out);
bool ReadTarget(std::string_view target, LogRecord& out);

// Reads `text` by a strptime-like `format` (as date formats above) into UTC milliseconds and the
// day as written. False when it does not fit.
bool ParseTimestamp(std::string_view text, std::string_view format, int64_t& time_ms, int64_t& local_day);

// Days since 1970-01-01 for a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace steward::logs
