#include "core/days.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace steward {

std::optional<int64_t> ParseDay(std::string_view text) {
  namespace chr = std::chrono;
  int y = 0, m = 0, d = 0;
  char tail = 0;
  std::string s(text);
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  chr::year_month_day ymd{chr::year(y), chr::month(static_cast<unsigned>(m)), chr::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return chr::sys_days(ymd).time_since_epoch().count();
}

std::string DayText(int64_t day) {
  namespace chr = std::chrono;
  chr::year_month_day ymd{chr::sys_days(chr::days(day))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

Result<DayRange> ResolvePeriod(std::string_view period, int64_t today) {
  namespace chr = std::chrono;
  chr::year_month_day ymd{chr::sys_days(chr::days(today))};
  if (period == "day" || period == "today") return DayRange{today, today + 1};
  if (period == "7d") return DayRange{today - 6, today + 1};
  if (period == "30d") return DayRange{today - 29, today + 1};
  if (period == "month") {
    return DayRange{chr::sys_days(ymd.year() / ymd.month() / chr::day(1)).time_since_epoch().count(), today + 1};
  }
  if (period == "year") {
    return DayRange{chr::sys_days(ymd.year() / chr::January / chr::day(1)).time_since_epoch().count(), today + 1};
  }
  if (auto dots = period.find(".."); dots != std::string_view::npos) {
    auto a = ParseDay(period.substr(0, dots)), b = ParseDay(period.substr(dots + 2));
    if (!a || !b) return MakeError(ErrorCode::kInvalidArgument, "period: give dates as YYYY-MM-DD..YYYY-MM-DD");
    if (*b < *a) return MakeError(ErrorCode::kInvalidArgument, "period: the end must not be before the start");
    if (*b - *a > 731) return MakeError(ErrorCode::kInvalidArgument, "period: a range can be at most 2 years");
    return DayRange{*a, *b + 1};
  }
  return MakeError(ErrorCode::kInvalidArgument, "period: choose day, 7d, 30d, month, year or FROM..TO (YYYY-MM-DD)");
}

}  // namespace steward
