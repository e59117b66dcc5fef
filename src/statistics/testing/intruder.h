// An intruder for tests of disclosure control: with only a published block's figures and the rule,
// it tries every table of true counts that would publish them and collects the values each
// suppressed cell can take. Brute force, so it shares nothing with the module's own reasoning.
#pragma once

#include <functional>
#include <set>
#include <vector>

#include "statistics/sdc.h"

namespace steward::statistics::testing {

// For each cell, the values it can take (empty for a shown cell); counts are tried up to `cap`.
inline std::vector<std::set<int64_t>> BruteForce(const Protected& p, const Rule& rule, int64_t cap) {
  const size_t n = p.cells.size();
  bool all_hidden = true;
  for (const auto& c : p.cells) all_hidden = all_hidden && !c.value;
  // The true counts that could have given a figure.
  auto could_give = [&](const Shown& s, int64_t x, bool is_total) {
    if (!s.value) {
      if (is_total) return x >= 1 && x < rule.threshold;
      return x >= (all_hidden ? 0 : 1);
    }
    if (*s.value == 0) return x == 0;
    if (x < rule.threshold) return false;
    if (rule.method == Method::kRound) return RoundTo(x, rule.rounding) == *s.value;
    return x >= *s.value - rule.spread && x <= *s.value + rule.spread;
  };
  std::vector<std::set<int64_t>> seen(n);
  std::vector<int64_t> x(n);
  std::function<void(size_t, int64_t)> walk = [&](size_t i, int64_t sum) {
    if (sum > cap) return;
    if (i == n) {
      if (!could_give(p.total, sum, true)) return;
      for (size_t j = 0; j < n; ++j) {
        if (!p.cells[j].value) seen[j].insert(x[j]);
      }
      return;
    }
    for (int64_t v = 0; v + sum <= cap; ++v) {
      if (!could_give(p.cells[i], v, false)) continue;
      x[i] = v;
      walk(i + 1, sum + v);
    }
  };
  walk(0, 0);
  return seen;
}

}  // namespace steward::statistics::testing
