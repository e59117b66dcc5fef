// Query strings, form bodies, percent-encoding and Cookie headers: all straight from the client.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/strings.h"
#include "http/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto params = steward::http::ParseUrlEncoded(in);
  if (params.ok() && params->size() > steward::http::kMaxFields) __builtin_trap();
  auto cookies = steward::http::ParseCookieHeader(in);
  if (cookies.size() > steward::http::kMaxCookies) __builtin_trap();
  steward::http::PercentDecode(in, true);
  auto encoded = steward::http::PercentEncode(in);
  auto round = steward::http::PercentDecode(encoded, false);
  // Encoding then decoding gives back the input, with any ill-formed UTF-8 in it replaced as it is
  // wherever text enters (core/strings.h, ValidUtf8).
  if (!round || *round != steward::ValidUtf8(in)) __builtin_trap();
  return 0;
}
