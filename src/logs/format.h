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
  std::string_view host, vhost, user, method, path, query, protocol, referrer, user_agent;
  int status = 0;
  int64_t bytes = 0;
  int64_t time_ms = 0;          // UTC, the offset applied when the line gives one
  int64_t local_day = 0;        // the day as written in the line (days since 1970-01-01)
  int64_t duration_us = -1;     // when the line says how long the request took
};

class LogFormat {
 public:
  // "combined", "vcombined", "common", "vcommon", "w3c" (as GoAccess's presets, but reading the
  // time-zone offset they carry), or nullopt.
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
  struct Step {
    char spec = 0;     // 0: a literal
    char literal = 0;  // the literal, or the character that ends the field (0: end of line)
  };
  std::vector<Step> steps_;
  std::string text_, date_format_, time_format_, datetime_format_;
};

// Days since 1970-01-01 for a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace steward::logs
