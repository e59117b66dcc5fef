// POST /api/event bodies (the Plausible Events API): anyone on the internet sends them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analytics/event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  steward::analytics::FieldErrors errors;
  (void)steward::analytics::ParseEvent(std::string_view(reinterpret_cast<const char*>(data), size), errors);
  return 0;
}
