#include "statistics/sdc.h"

#include <algorithm>

namespace steward::statistics {
namespace {

// The cell-key method's move for a count: from the cell key and the count, the same every time.
// Half the cells stay as they are; the rest move by 1 up to `spread`, the nearer more often.
int64_t CellKeyMove(int64_t value, uint32_t key, int64_t spread) {
  if (spread <= 0) return 0;
  uint32_t k = (key ^ static_cast<uint32_t>(value * 37)) & 255u;
  if (k < 128) return 0;
  // Weights 2^(spread - j) for |move| j, each side; the 128 remaining keys shared out by them.
  int64_t total = 0;
  for (int64_t j = 1; j <= spread; ++j) total += int64_t{1} << (spread - j);
  int64_t pos = k - 128;  // 0..127
  bool up = pos % 2 == 0;
  pos /= 2;  // 0..63
  int64_t acc = 0;
  for (int64_t j = 1; j <= spread; ++j) {
    acc += ((int64_t{1} << (spread - j)) * 64 + total - 1) / total;
    if (pos < acc) return up ? j : -j;
  }
  return up ? spread : -spread;
}

// What a count looks like once shown (before any suppression).
int64_t Publish(int64_t value, uint32_t key, const Rule& rule) {
  if (value == 0) return 0;
  if (rule.method == Method::kRound) return RoundTo(value, rule.rounding);
  // A count at or over the threshold is never moved under it: that would look like a suppressed one.
  return std::max(rule.threshold, value + CellKeyMove(value, key, rule.spread));
}

bool Hidden(const Shown& s) { return !s.value.has_value(); }

}  // namespace

int64_t RoundTo(int64_t value, int64_t base) {
  if (base <= 1) return value;
  return (value + base / 2) / base * base;
}

int64_t Rule::Below() const {
  if (method == Method::kCellKey) return spread;
  return rounding <= 1 ? 0 : (rounding - 1) - (rounding - 1) / 2;
}

int64_t Rule::Above() const {
  if (method == Method::kCellKey) return spread;
  return rounding <= 1 ? 0 : (rounding - 1) / 2;
}

std::string Rule::Name() const {
  std::string t = std::to_string(threshold);
  std::string out;
  if (method == Method::kRound && threshold == 10 && rounding == 5) out = "the ONS 10-5 rule: ";
  out += "counts under " + t + " are suppressed";
  if (method == Method::kRound) {
    if (rounding > 1) out += ", the rest rounded to the nearest " + std::to_string(rounding);
  } else {
    out += ", the rest moved by up to " + std::to_string(spread) + " by the cell-key method";
  }
  out += ", and more counts suppressed where the rest would give a suppressed one away";
  return out;
}

std::vector<Bounds> Intruder(const Protected& shown, const Rule& rule) {
  const size_t n = shown.cells.size();
  std::vector<Bounds> out(n);
  // A figure shown: zero is exact (1 to threshold - 1 would have been suppressed); any other is at
  // least the threshold and within the rounding or the cell key's move of what is shown.
  auto range = [&](int64_t v) -> Bounds {
    if (v == 0) return {0, 0};
    return {std::max(rule.threshold, v - rule.Below()), v + rule.Above()};
  };
  if (Hidden(shown.total)) {
    // The whole period is under the threshold: every cell from 0 to threshold - 1.
    for (size_t i = 0; i < n; ++i)
      out[i] = Hidden(shown.cells[i]) ? Bounds{0, rule.threshold - 1} : range(*shown.cells[i].value);
    return out;
  }
  Bounds total = range(*shown.total.value);
  int64_t shown_lo = 0, shown_hi = 0;
  size_t hidden = 0;
  for (size_t i = 0; i < n; ++i) {
    if (Hidden(shown.cells[i])) {
      ++hidden;
      continue;
    }
    out[i] = range(*shown.cells[i].value);
    shown_lo += out[i].lo;
    shown_hi += out[i].hi;
  }
  if (hidden == 0) return out;
  // A suppressed cell is at least 1 (zeros are shown), unless every cell had to be hidden.
  const int64_t floor = hidden == n ? 0 : 1;
  // What the suppressed cells add up to.
  int64_t sum_lo = std::max<int64_t>(total.lo - shown_hi, floor * static_cast<int64_t>(hidden));
  int64_t sum_hi = total.hi - shown_lo;
  for (size_t i = 0; i < n; ++i) {
    if (!Hidden(shown.cells[i])) continue;
    int64_t others_floor = floor * static_cast<int64_t>(hidden - 1);
    // The others have no upper bound of their own: with one other or more, this one can be as low
    // as the floor.
    out[i].lo = hidden == 1 ? std::max(floor, sum_lo) : floor;
    out[i].hi = std::max(out[i].lo, sum_hi - others_floor);
  }
  return out;
}

Protected Protect(const Block& block, const Rule& rule) {
  const size_t n = block.counts.size();
  Protected p;
  p.cells.resize(n);
  int64_t total = 0;
  for (int64_t c : block.counts) total += c;
  auto key_of = [&](size_t i) -> uint32_t { return i < block.keys.size() ? block.keys[i] : 0u; };
  for (size_t i = 0; i < n; ++i) p.cells[i].value = Publish(block.counts[i], key_of(i), rule);
  p.total.value = Publish(total, block.total_key, rule);
  auto small = [&](int64_t v) { return v >= 1 && v < rule.threshold; };

  if (small(total)) {
    // Too few in the whole period to show anything of it.
    p.total = {std::nullopt, Why::kPrimary};
    for (size_t i = 0; i < n; ++i)
      p.cells[i] = {std::nullopt, small(block.counts[i]) ? Why::kPrimary : Why::kSecondary};
    return p;
  }
  size_t hidden = 0;
  for (size_t i = 0; i < n; ++i) {
    if (small(block.counts[i])) {
      p.cells[i] = {std::nullopt, Why::kPrimary};
      ++hidden;
    }
  }
  while (hidden > 0 && hidden < n) {
    bool safe = hidden >= 2;
    if (safe) {
      auto bounds = Intruder(p, rule);
      for (size_t i = 0; i < n && safe; ++i) {
        if (p.cells[i].why == Why::kPrimary && bounds[i].hi - bounds[i].lo < rule.threshold) safe = false;
      }
    }
    if (safe) break;
    // Hide the smallest count still shown that is not zero (the least lost); when only zeros are
    // left, hide everything but the total.
    size_t pick = n;
    for (size_t i = 0; i < n; ++i) {
      if (Hidden(p.cells[i]) || block.counts[i] == 0) continue;
      if (pick == n || block.counts[i] < block.counts[pick]) pick = i;
    }
    if (pick == n) {
      for (size_t i = 0; i < n; ++i) {
        if (!Hidden(p.cells[i])) p.cells[i] = {std::nullopt, Why::kSecondary};
      }
      hidden = n;
      break;
    }
    p.cells[pick] = {std::nullopt, Why::kSecondary};
    ++hidden;
  }
  return p;
}

}  // namespace steward::statistics
