// Statistical disclosure control: what makes a table of counts safe to give a partner. A table is
// a run of blocks, one per period (a month, a quarter, a year), each the counts of one period by
// category with the period's total. Every block is protected on its own and always the same way, so
// that two tables over overlapping periods publish the same figures for the periods they share and
// differencing them tells nothing new; there are no totals across periods to difference.
//
// The default rule is the ONS's 10-5 rule: counts from 1 to 9 are suppressed (primary), the rest
// rounded to the nearest 5. Secondary suppression then hides more cells wherever what is shown
// would let the suppressed ones be worked out: every block with a suppressed cell has at least two,
// and each suppressed count stays uncertain, given the total and the shown cells with their
// rounding, by at least the threshold (the intruder's bounds, worked out exactly: one block is one
// equation). The cell-key method (ONS Census 2021, ABS TableBuilder) may replace the rounding: each
// shown count moves by a small amount decided by the records in the cell, the same every time.
//
//   statistics::Rule rule;                                  // 10-5
//   statistics::Block b{.counts = {120, 3, 47, 0}};
//   auto shown = statistics::Protect(b, rule);              // {120, [c], [c], 0} and total 170
//
// Thread safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace steward::statistics {

enum class Method { kRound, kCellKey };

struct Rule {
  int64_t threshold = 10;  // counts from 1 to threshold - 1 are suppressed
  Method method = Method::kRound;
  int64_t rounding = 5;      // kRound: the rest rounded to the nearest multiple (1: not rounded)
  int64_t spread = 2;        // kCellKey: a shown count moves by at most this much
  std::string Name() const;  // "the ONS 10-5 rule: counts under 10 suppressed, the rest rounded to the nearest 5"
  // How far from a shown figure the true count may be, below and above, as an intruder who knows
  // the rule can tell.
  int64_t Below() const;
  int64_t Above() const;
};

// One period's counts by category, with their cell keys for the cell-key method: the sum, modulo
// 256, of a key each record carries (the same record always has the same key).
struct Block {
  std::vector<int64_t> counts;
  std::vector<uint32_t> keys;  // one per count; empty without the cell-key method
  uint32_t total_key = 0;
};

enum class Why { kShown, kPrimary, kSecondary };

struct Shown {
  std::optional<int64_t> value;  // nullopt: suppressed
  Why why = Why::kShown;         // why it is hidden; never published, only the mark "[c]"
};

struct Protected {
  std::vector<Shown> cells;
  Shown total;
};

// The published form of `block` under `rule`.
Protected Protect(const Block& block, const Rule& rule);

// What an intruder who knows the rule can work out about each cell of a published block: the
// smallest and largest count consistent with every figure shown (exact for one block).
struct Bounds {
  int64_t lo = 0, hi = 0;
};
std::vector<Bounds> Intruder(const Protected& shown, const Rule& rule);

// Rounds to the nearest multiple of `base`, halves up.
int64_t RoundTo(int64_t value, int64_t base);

}  // namespace steward::statistics
