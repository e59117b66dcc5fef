// ScanJson against nlohmann-json's strict parser on the same bytes: they must accept the same texts
// and, for those, make the same calls. A difference stops the fuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_scan.h"

namespace {

class Recorder {
 public:
  using number_integer_t = int64_t;
  using number_unsigned_t = uint64_t;
  using number_float_t = double;
  using string_t = std::string;
  using binary_t = nlohmann::json::binary_t;

  bool null() { return Add("n"); }
  bool boolean(bool b) { return Add(b ? "t" : "f"); }
  bool number_integer(int64_t v) { return Add("i" + std::to_string(v)); }
  bool number_unsigned(uint64_t v) { return Add("u" + std::to_string(v)); }
  bool number_float(double v, const std::string& text) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return Add("d" + std::to_string(bits) + text);
  }
  bool string(std::string& s) { return Add("s" + s); }
  bool key(std::string& s) { return Add("k" + s); }
  bool binary(binary_t&) { return false; }
  bool start_object(size_t) { return Add("{") && ++depth_ <= 64; }
  bool end_object() { return --depth_, Add("}"); }
  bool start_array(size_t) { return Add("[") && ++depth_ <= 64; }
  bool end_array() { return --depth_, Add("]"); }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  std::vector<std::string> calls;

 private:
  bool Add(std::string call) {
    calls.push_back(std::move(call));
    return true;
  }
  size_t depth_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  Recorder ours, theirs;
  bool ok = steward::ScanJson(text, ours);
  bool reference = nlohmann::json::sax_parse(text.begin(), text.end(), &theirs, nlohmann::detail::input_format_t::json,
                                             /*strict=*/true);
  if (ok != reference || (ok && ours.calls != theirs.calls)) std::abort();
  return 0;
}
