// POST /api/v2/query bodies (the Stats API), read and checked before anything is counted.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analytics/query_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> sites = {"example.gov.uk"};
  steward::SystemTime now{std::chrono::seconds(1'800'000'000)};
  (void)steward::analytics::ReadQuery(std::string_view(reinterpret_cast<const char*>(data), size), sites, now);
  return 0;
}
