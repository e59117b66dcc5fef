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

std::string FormatHttpDate(SystemTime t) {
  std::tm tm = ToUtc(t);
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

}  // namespace steward
