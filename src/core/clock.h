// Clock: the one seam for time. Retention, salt rotation, deadlines and expiry read the time
// through a Clock so tests drive them with FakeClock.
//
// Thread safety: every Clock is safe for concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace steward {

using SystemTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC).
  virtual SystemTime Now() const = 0;
  // Monotonic time for measuring intervals.
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
  // How long, in real time, a thread waiting for this clock to reach a time may sleep before it
  // looks again: an hour for a real clock (it mostly waits for the time itself), briefly for a fake
  // one (whose time moves only when a test moves it).
  virtual std::chrono::milliseconds PollInterval() const { return std::chrono::hours(1); }
};

class SystemClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Monotonic() const override { return std::chrono::steady_clock::now(); }
  // A process-wide instance.
  static const SystemClock& Instance();
};

// A clock that moves only when told to. Both readings advance together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start) : now_ns_(start.time_since_epoch().count()) {}
  SystemTime Now() const override { return SystemTime(SystemTime::duration(now_ns_.load())); }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(SystemTime::duration(now_ns_.load())));
  }
  void Advance(Duration d) { now_ns_ += std::chrono::duration_cast<SystemTime::duration>(d).count(); }
  void Set(SystemTime t) { now_ns_ = t.time_since_epoch().count(); }
  std::chrono::milliseconds PollInterval() const override { return std::chrono::milliseconds(5); }

 private:
  std::atomic<SystemTime::duration::rep> now_ns_;
};

// "2026-11-22T10:53:26Z": RFC 3339 in UTC, second precision.
std::string FormatRfc3339(SystemTime t);
// "2026-11-22T10:53:26.123Z": RFC 3339 in UTC, millisecond precision. Sorts as text.
std::string FormatRfc3339Millis(SystemTime t);
// Reads what the two above write ("2026-11-22T10:53:26Z", with or without ".123"), UTC only.
std::optional<SystemTime> ParseRfc3339(std::string_view text);
// Milliseconds since the Unix epoch.
inline int64_t UnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
// "Sun, 22 Nov 2026 10:53:26 GMT": the HTTP date (RFC 9110).
std::string FormatHttpDate(SystemTime t);

}  // namespace steward
