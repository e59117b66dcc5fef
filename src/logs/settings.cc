#include "logs/settings.h"

#include <algorithm>

namespace steward::logs {

Result<LogFormat> ChooseFormat(const std::string& name, const std::string& log_format, const std::string& date_format,
                               const std::string& time_format) {
  // A name with a % in it is a format string itself.
  const std::string& text = !log_format.empty() ? log_format : name;
  if (text.find('%') != std::string::npos) {
    return LogFormat::Compile(text, date_format.empty() ? "%d/%b/%Y" : date_format,
                              time_format.empty() ? "%H:%M:%S" : time_format);
  }
  if (auto preset = LogFormat::Preset(name.empty() ? "combined" : name)) return std::move(*preset);
  return MakeError(ErrorCode::kInvalidArgument,
                   "format \"" + name +
                       "\": choose combined, vcombined, common, vcommon, w3c, caddy or nginx-json, or give log_format");
}

Result<LogSettings> ReadLogSettings(const config::Document& document) {
  config::Problems problems(document.path());
  config::Table root = document.Root(problems);
  LogSettings settings;
  auto logs = root.Child("logs");
  if (!logs) return settings;
  logs->Bool("keep_raw_lines", settings.keep_raw_lines);
  logs->Int("follow_interval_seconds", settings.follow_interval_s, 1, 3600);
  for (config::Table& f : logs->Children("follow")) {
    std::string path, name, log_format, date_format, time_format;
    f.String("path", path, /*required=*/true);
    f.String("format", name);
    f.String("log_format", log_format);
    f.String("date_format", date_format);
    f.String("time_format", time_format);
    if (f.Has("path") && !path.empty() && path.front() != '/') {
      problems.Add(f.Where("path"), f.name() + ".path: give an absolute path");
    }
    if (!name.empty() && !log_format.empty()) {
      problems.Add(f.Where("log_format"), f.name() + ": give format or log_format, not both");
    }
    auto format = ChooseFormat(name, log_format, date_format, time_format);
    if (!format.ok()) {
      problems.Add(f.Has("log_format") ? f.Where("log_format")
                   : f.Has("format")   ? f.Where("format")
                                       : f.where(),
                   f.name() + ": " + format.error().message);
    } else if (!path.empty()) {
      bool twice = std::any_of(settings.follow.begin(), settings.follow.end(),
                               [&](const FollowedLog& l) { return l.path == path; });
      if (twice) problems.Add(f.Where("path"), f.name() + ".path: " + path + " is followed twice");
      settings.follow.push_back({path, std::move(*format)});
    }
    f.Finish();
  }
  if (auto security = logs->Child("security")) ReadSecurityRules(*security, settings.security);
  logs->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return settings;
}

bool KeepsRawLines(const LogSettings& settings, const processing::Register& reg) {
  if (!settings.keep_raw_lines) return false;
  return std::any_of(reg.datasets.begin(), reg.datasets.end(), [](const processing::Dataset& d) {
    return d.module == "logs" &&
           std::find(d.categories.begin(), d.categories.end(), "user.device.ip_address") != d.categories.end();
  });
}

}  // namespace steward::logs
