// Access-log lines, straight from the web server (and whoever sent it a request): every preset,
// text and JSON. A line read must leave every view inside the line or the record's own buffer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "logs/format.h"

namespace {

bool Within(std::string_view v, std::string_view line, const std::string& decoded) {
  if (v.empty()) return true;
  auto at = reinterpret_cast<uintptr_t>(v.data());
  auto in = [&](std::string_view s) {
    auto b = reinterpret_cast<uintptr_t>(s.data());
    return at >= b && at + v.size() <= b + s.size();
  };
  return in(line) || in(decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using steward::logs::LogFormat;
  static const LogFormat formats[] = {
      *LogFormat::Preset("combined"),
      *LogFormat::Preset("vcombined"),
      *LogFormat::Preset("w3c"),
      *LogFormat::Preset("caddy"),
      *LogFormat::Preset("nginx-json"),
      LogFormat::Compile("%x %h %^ %m %U %q %s %b %D", "%Y-%m-%d", "%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z").value()};
  std::string_view line(reinterpret_cast<const char*>(data), size);
  steward::logs::LogRecord r;
  for (const LogFormat& f : formats) {
    if (!f.Parse(line, r).empty()) continue;
    for (std::string_view v :
         {r.host, r.vhost, r.user, r.method, r.path, r.query, r.protocol, r.referrer, r.user_agent}) {
      if (!Within(v, line, r.decoded)) __builtin_trap();
    }
    if (r.host.empty() || r.path.empty() || r.status < 100 || r.status > 599 || r.bytes < 0) __builtin_trap();
  }
  return 0;
}
