// `steward stats`: the headline metrics and top tables for a site and period, as text for a
// terminal, JSON for programs, or CSV (long form: table,key,metric,value) for spreadsheets.
#pragma once

#include <string>
#include <string_view>

#include "analytics/stats.h"
#include "core/result.h"

namespace steward::analytics {

// `format` is "text", "json" or "csv"; `top` rows per table. Errors: kInvalidArgument for another
// format; store errors.
Result<std::string> Report(Stats& stats, const std::string& site, DayRange days, std::string_view format, int top = 10);

}  // namespace steward::analytics
