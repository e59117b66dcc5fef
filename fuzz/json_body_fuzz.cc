// JSON request bodies (the events API will take them from anyone).
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/json_body.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  steward::http::Request request;
  request.headers = {{"Content-Type", "text/plain"}};
  request.body.assign(reinterpret_cast<const char*>(data), size);
  (void)steward::http::ParseJsonBody(request);
  return 0;
}
