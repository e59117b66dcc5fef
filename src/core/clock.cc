#include "core/clock.h"

#include <cstdio>
#include <ctime>

namespace steward {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

namespace {
std::tm ToUtc(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}
}  // namespace

std::string FormatRfc3339(SystemTime t) {
  std::tm tm = ToUtc(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatRfc3339Millis(SystemTime t) {
  std::tm tm = ToUtc(t);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

std::optional<SystemTime> ParseRfc3339(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  int ms = 0;
  char z = 0;
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec);
  if (n != 6 || s.size() < 20) return std::nullopt;
  if (s[19] == '.') {
    if (s.size() != 24 || std::sscanf(s.c_str() + 20, "%3d%c", &ms, &z) != 2 || z != 'Z') return std::nullopt;
  } else if (s.size() != 20 || s[19] != 'Z') {
    return std::nullopt;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

std::string FormatHttpDate(SystemTime t) {
  std::tm tm = ToUtc(t);
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

}  // namespace steward
