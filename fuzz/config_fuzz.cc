// The site's config file. Built with -DNDEBUG: toml++ 3.3 asserts on some odd Unicode upstream.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = steward::config::Parse(text, "/fuzz/site.toml");
  if (!config.ok() && config.error().message.rfind("/fuzz/site.toml:", 0) != 0) __builtin_trap();
  return 0;
}
