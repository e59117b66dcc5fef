// Structured logs, one event per line in logfmt: `time level event key=value ...`.
//
// Privacy: logs never carry personal data. Pass ids, counts, route patterns and error codes; never
// a raw client address, user agent, email, form field or request path with a query string.
//
//   log::Info("http.listen", {{"addr", "127.0.0.1:8080"}, {"threads", 2}});
//
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace steward::log {

enum class Level { kDebug, kInfo, kWarn, kError };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}

  std::string_view key;
  std::string value;
};

// Sets the minimum level written to standard error. Default kInfo.
void SetLevel(Level level);
// True when lines of `level` are written: check it before building costly fields on a hot path.
bool Enabled(Level level);
void Write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void Debug(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kDebug, e, f); }
inline void Info(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kInfo, e, f); }
inline void Warn(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kWarn, e, f); }
inline void Error(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kError, e, f); }

// Formats one line without writing it (exposed for tests).
std::string Format(Level level, std::string_view event, std::initializer_list<Field> fields);

// While alive, log lines are also appended to an in-memory buffer that tests can read.
class CaptureForTesting {
 public:
  CaptureForTesting();
  ~CaptureForTesting();
  CaptureForTesting(const CaptureForTesting&) = delete;
  CaptureForTesting& operator=(const CaptureForTesting&) = delete;
  std::string Text() const;
};

}  // namespace steward::log
