// The visitor's `cookies_policy` cookie, which the cookie gate reads on every response that sets a
// cookie: any bytes a browser (or anyone) sends.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "consent/gate.h"
#include "crypto/crypto.h"

namespace {

const steward::processing::Register& Ons() {
  static const steward::processing::Register reg = [] {
    (void)steward::crypto::Init();
    auto config = steward::config::Load(STEWARD_SOURCE_DIR "/examples/ons.toml");
    return steward::processing::FromDocument(*config->document).value();
  }();
  return reg;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const steward::consent::CookieGate gate(Ons());
  std::string value(reinterpret_cast<const char*>(data), size);
  steward::http::Request request;
  request.headers = {{"Cookie", "cookies_policy=" + value}};
  steward::http::SetCookie visitor{.name = "steward_visitor", .value = "1"};
  (void)gate.CurrentChoice(request);
  (void)gate.Allow(request, {visitor}, visitor);
  std::vector<steward::http::SetCookie> response = {{.name = "cookies_policy", .value = value}, visitor};
  (void)gate.Allow(steward::http::Request{}, response, visitor);
  return 0;
}
