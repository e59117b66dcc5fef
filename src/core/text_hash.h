// A hash of text for unordered containers keyed by std::string and searched by a view: with
// std::equal_to<>, a lookup by std::string_view copies nothing.
//
//   std::unordered_map<std::string, Agent, TextHash, std::equal_to<>> cache;
//   cache.find(user_agent);  // a string_view
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace steward {

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// For text that may be long and is found again often (SQL statements: an INSERT of 64 rows is
// some 5 KB): hashed by its length and its first and last 128 bytes, so a lookup reads no more of
// it than that until the equal entry is compared.
struct LongTextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    std::hash<std::string_view> h;
    if (s.size() <= 256) return h(s);
    return h(s.substr(0, 128)) ^ (h(s.substr(s.size() - 128)) * 31) ^ s.size();
  }
};

}  // namespace steward
