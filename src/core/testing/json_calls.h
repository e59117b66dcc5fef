// For tests and fuzzers of ScanJson: a handler that writes down each call, and the check that
// ScanJson reads a text as nlohmann-json's strict parser does. Header-only; includes nlohmann-json.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_scan.h"

namespace steward::testing {

// Writes down each call, and stops (returns false) past a depth, as the event's reader does.
class JsonCalls {
 public:
  using number_integer_t = int64_t;
  using number_unsigned_t = uint64_t;
  using number_float_t = double;
  using string_t = std::string;
  using binary_t = nlohmann::json::binary_t;

  explicit JsonCalls(size_t max_depth = 64) : max_depth_(max_depth) {}

  bool null() { return Add("null"); }
  bool boolean(bool b) { return Add(b ? "true" : "false"); }
  bool number_integer(int64_t v) { return Add("int " + std::to_string(v)); }
  bool number_unsigned(uint64_t v) { return Add("uint " + std::to_string(v)); }
  bool number_float(double v, const std::string& text) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return Add("float " + std::to_string(bits) + " " + text);
  }
  bool string(std::string& s) { return Add("string " + s); }
  bool key(std::string& s) { return Add("key " + s); }
  bool binary(binary_t&) { return false; }
  bool start_object(size_t) { return Add("{") && ++depth_ <= max_depth_; }
  bool end_object() { return --depth_, Add("}"); }
  bool start_array(size_t) { return Add("[") && ++depth_ <= max_depth_; }
  bool end_array() { return --depth_, Add("]"); }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  std::vector<std::string> calls;

 private:
  bool Add(std::string call) {
    calls.push_back(std::move(call));
    return true;
  }
  size_t max_depth_;
  size_t depth_ = 0;
};

// Whether ScanJson and nlohmann-json's strict SAX parser give `text` the same verdict and, when
// both accept it, make the same calls.
inline bool ScansAsNlohmann(std::string_view text) {
  JsonCalls ours, theirs;
  bool ok = ScanJson(text, ours);
  bool reference =
      nlohmann::json::sax_parse(text.begin(), text.end(), &theirs, nlohmann::detail::input_format_t::json, true);
  return ok == reference && (!ok || ours.calls == theirs.calls);
}

}  // namespace steward::testing
