// JSON as text, never throwing: a string that is not valid UTF-8 is written with U+FFFD in place
// of its bad bytes, so no stored text can make a report, an export or an API answer fail.
//
//   out << JsonText(j) << '\n';
//   std::string pretty = JsonText(j, 2);
//
// Include only where nlohmann/json.hpp is wanted anyway: it is a heavy header.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace steward {

// Every JSON writer in Steward goes through this (a test checks the sources for `.dump(`).
template <typename Json>
std::string JsonText(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace steward
