// ParsePlainRequest against Beast's request parser on the same bytes: whatever the first accepts,
// Beast must read the same (http/testing/beast_reading.h). A difference stops the fuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/plain_request.h"
#include "http/testing/beast_reading.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kHeadLimit = 8192;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  steward::http::Request req;
  steward::http::PlainFraming framing;
  if (!steward::http::ParsePlainRequest(text, kHeadLimit, req, framing)) return 0;
  if (!steward::testing::BeastReadsDifferently(text, kHeadLimit, req, framing).empty()) std::abort();
  return 0;
}
