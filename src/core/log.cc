#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "core/clock.h"

namespace steward::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_capture_mu;
std::string* g_capture = nullptr;

spdlog::logger& Logger() {
  static auto logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("steward", sink);
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *logger;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void AppendValue(std::string& out, std::string_view v) {
  if (!NeedsQuotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out.append(buf);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

void SetLevel(Level level) { g_level = level; }

bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

std::string Format(Level level, std::string_view event, std::initializer_list<Field> fields) {
  std::string line = FormatRfc3339Millis(std::chrono::system_clock::now());
  line.append(" level=").append(LevelName(level)).append(" event=");
  AppendValue(line, event);
  for (const Field& f : fields) {
    line.push_back(' ');
    line.append(f.key).push_back('=');
    AppendValue(line, f.value);
  }
  return line;
}

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string line = Format(level, event, fields);
  {
    std::lock_guard<std::mutex> lock(g_capture_mu);
    if (g_capture != nullptr) g_capture->append(line).push_back('\n');
  }
  Logger().info("{}", line);
}

CaptureForTesting::CaptureForTesting() {
  std::lock_guard<std::mutex> lock(g_capture_mu);
  g_capture = new std::string();
}

CaptureForTesting::~CaptureForTesting() {
  std::lock_guard<std::mutex> lock(g_capture_mu);
  delete g_capture;
  g_capture = nullptr;
}

std::string CaptureForTesting::Text() const {
  std::lock_guard<std::mutex> lock(g_capture_mu);
  return g_capture ? *g_capture : std::string();
}

}  // namespace steward::log
