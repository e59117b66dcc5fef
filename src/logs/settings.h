// The site's [logs] settings: the security rules, whether raw lines are kept, and the logs
// `steward serve` follows itself.
//
//   [logs]
//   keep_raw_lines = true            # default; only when the register's logs dataset declares IPs
//   follow_interval_seconds = 5
//   [[logs.follow]]
//   path = "/var/log/nginx/access.log"
//   format = "combined"              # or log_format (+ date_format, time_format)
//   [logs.security]
//   ...                              # see security.h
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/document.h"
#include "core/result.h"
#include "logs/format.h"
#include "logs/security.h"
#include "register/register.h"

namespace steward::logs {

struct FollowedLog {
  std::string path;
  LogFormat format;
};

struct LogSettings {
  SecurityRules security;
  bool keep_raw_lines = true;
  std::vector<FollowedLog> follow;
  int64_t follow_interval_s = 5;
};

// Reads [logs] (every key optional). Errors: kInvalidArgument with FILE:LINE:COLUMN problems (an
// unknown format, a format string that does not compile, a relative path, ...).
Result<LogSettings> ReadLogSettings(const config::Document& document);

// The format a name or a GoAccess format string gives ("combined", ... or "%h %^[%d:%t %z] ...",
// given as `log_format` or as the name itself).
// Errors: kInvalidArgument saying what to give.
Result<LogFormat> ChooseFormat(const std::string& name, const std::string& log_format, const std::string& date_format,
                               const std::string& time_format);

// Whether raw lines may be kept: the settings allow it and the register's logs dataset declares
// the IP addresses they hold (category user.device.ip_address).
bool KeepsRawLines(const LogSettings& settings, const processing::Register& reg);

}  // namespace steward::logs
