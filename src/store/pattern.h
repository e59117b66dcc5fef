// Pattern: a regular expression matched in memory as SQLite's REGEXP matches (store.h,
// CheckPattern), so that what is counted outside SQL compares as what is counted in it.
#pragma once

#include <string_view>

#include "core/result.h"

namespace steward::store {

// A regular expression matched in memory as REGEXP matches in SQLite: PCRE2, UTF-8 (a value that
// is not UTF-8 matches what it can), no match past 100,000 steps. Thread safety: Matches may be
// called from one thread at a time (it keeps its match data).
class Pattern {
 public:
  // Errors: kInvalidArgument saying what is wrong, as CheckPattern.
  static Result<Pattern> Compile(std::string_view pattern, bool case_sensitive = true);
  Pattern(Pattern&& other) noexcept;
  Pattern& operator=(Pattern&& other) noexcept;
  ~Pattern();
  // Whether `value` has a match anywhere in it.
  bool Matches(std::string_view value) const;

 private:
  Pattern() = default;
  struct Compiled;
  Compiled* compiled_ = nullptr;
};

}  // namespace steward::store
