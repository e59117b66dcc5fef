// Whole UTC days: days since 1970-01-01 as text and back, and the periods the dashboards and
// commands offer. Shared by analytics and the access logs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace steward {

inline constexpr int64_t kDayMillis = 86'400'000;

// Whole UTC days [from, to) for a period ending today: "day" (or "today"), "7d", "30d", "month"
// (this month so far), "year" (this year so far), or "YYYY-MM-DD..YYYY-MM-DD" (both inclusive).
struct DayRange {
  int64_t from = 0, to = 0;  // days since 1970-01-01
};
// Errors: kInvalidArgument saying what periods there are, for an unknown period, a bad date, an end
// before the start or a range over 2 years.
Result<DayRange> ResolvePeriod(std::string_view period, int64_t today);
// "2026-11-22" as days since 1970-01-01; nullopt when it is not a date.
std::optional<int64_t> ParseDay(std::string_view yyyy_mm_dd);
std::string DayText(int64_t day);  // "2026-11-22"

}  // namespace steward
