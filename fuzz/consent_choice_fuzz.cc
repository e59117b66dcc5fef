// POST /api/consent bodies: a cookie choice sent by steward.js, or by anyone.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consent/records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using steward::processing::CookieCategory;
  static const std::vector<CookieCategory> categories = {CookieCategory::kUsage, CookieCategory::kCampaigns};
  (void)steward::consent::ReadChoice(std::string_view(reinterpret_cast<const char*>(data), size), categories);
  return 0;
}
