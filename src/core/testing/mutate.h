// For tests that hold a parser to a reference on texts near valid ones: one to three bytes of a
// text replaced, inserted or removed, from an alphabet of the bytes that matter to the parser.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace steward::testing {

inline std::string Mutate(std::string text, std::string_view alphabet, std::mt19937& rng) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int edits = 1 + static_cast<int>(pick(3));
  for (int k = 0; k < edits && !text.empty(); ++k) {
    size_t at = pick(text.size());
    char c = alphabet[pick(alphabet.size())];
    switch (pick(3)) {
      case 0:
        text[at] = c;
        break;
      case 1:
        text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        text.erase(at, 1);
    }
  }
  return text;
}

}  // namespace steward::testing
