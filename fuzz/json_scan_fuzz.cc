// ScanJson against nlohmann-json's strict parser on the same bytes: they must accept the same texts
// and, for those, make the same calls. A difference stops the fuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/testing/json_calls.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!steward::testing::ScansAsNlohmann(std::string_view(reinterpret_cast<const char*>(data), size))) std::abort();
  return 0;
}
