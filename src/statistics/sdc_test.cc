#include "statistics/sdc.h"
#include "statistics/testing/intruder.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <set>

namespace steward::statistics {
namespace {

using testing::BruteForce;

TEST(Sdc, TheOnsRuleSuppressesSmallCountsAndRoundsTheRest) {
  Rule rule;
  auto p = Protect({.counts = {123, 3, 47, 0, 58}}, rule);
  EXPECT_EQ(p.cells[0].value, 125);
  EXPECT_FALSE(p.cells[1].value);
  EXPECT_EQ(p.cells[1].why, Why::kPrimary);
  // The smallest other count goes too, so the 3 cannot be worked out from the total.
  EXPECT_FALSE(p.cells[2].value);
  EXPECT_EQ(p.cells[2].why, Why::kSecondary);
  EXPECT_EQ(p.cells[3].value, 0);
  EXPECT_EQ(p.cells[4].value, 60);
  EXPECT_EQ(p.total.value, 230);
  EXPECT_EQ(rule.Name().rfind("the ONS 10-5 rule", 0), 0u);
}

TEST(Sdc, AWholePeriodUnderTheThresholdShowsNothing) {
  auto p = Protect({.counts = {2, 0, 5}}, Rule{});
  EXPECT_FALSE(p.total.value);
  for (const auto& c : p.cells) EXPECT_FALSE(c.value);
}

TEST(Sdc, TwoSmallCountsTogetherGetAThird) {
  // 3 and 4 hidden alone would add up to 7 from the total: both small, which gives them away.
  Rule rule{.rounding = 1};
  auto p = Protect({.counts = {3, 4, 40, 90}}, rule);
  EXPECT_FALSE(p.cells[0].value);
  EXPECT_FALSE(p.cells[1].value);
  EXPECT_FALSE(p.cells[2].value);
  EXPECT_EQ(p.cells[3].value, 90);
}

TEST(Sdc, OnlyZerosLeftHidesEveryCountButTheTotal) {
  // 2 and 3 hidden would add up to 5: both small; only a zero is left to hide beside them.
  auto p = Protect({.counts = {2, 3, 0}}, Rule{.threshold = 5, .rounding = 1});
  EXPECT_EQ(p.total.value, 5);
  EXPECT_FALSE(p.cells[0].value);
  EXPECT_FALSE(p.cells[1].value);
  EXPECT_FALSE(p.cells[2].value);
}

TEST(Sdc, TheIntrudersBoundsAreWhatBruteForceFinds) {
  Rule rule{.rounding = 1};
  auto p = Protect({.counts = {3, 12, 20}}, rule);
  auto bounds = Intruder(p, rule);
  auto brute = BruteForce(p, rule, 200);
  for (size_t i = 0; i < p.cells.size(); ++i) {
    if (p.cells[i].value) continue;
    EXPECT_EQ(bounds[i].lo, *brute[i].begin());
    EXPECT_EQ(bounds[i].hi, *brute[i].rbegin());
  }
}

// The attack works: primary suppression alone, with exact totals, gives the cell away.
TEST(Sdc, WithoutSecondarySuppressionTheIntruderRecoversTheCell) {
  Rule rule{.rounding = 1};
  Protected naive{.cells = {{.value = 40}, {.value = std::nullopt, .why = Why::kPrimary}, {.value = 25}},
                  .total = {.value = 68}};
  auto brute = BruteForce(naive, rule, 200);
  EXPECT_EQ(brute[1], (std::set<int64_t>{3}));
}

// Every published block, under every rule, leaves each suppressed count uncertain by at least the
// threshold, as a brute-force intruder finds; and the truth is always among what it finds.
TEST(Sdc, NoSuppressedCountCanBeWorkedOut) {
  std::mt19937 rng(20261204);
  std::vector<Rule> rules = {Rule{}, Rule{.rounding = 1}, Rule{.threshold = 5, .rounding = 3},
                             Rule{.method = Method::kCellKey},
                             Rule{.threshold = 10, .method = Method::kCellKey, .spread = 1}};
  int attacked = 0;
  for (const Rule& rule : rules) {
    for (int round = 0; round < 150; ++round) {
      size_t n = 2 + rng() % 3;
      Block b;
      for (size_t i = 0; i < n; ++i) {
        int pick = static_cast<int>(rng() % 4);
        b.counts.push_back(pick == 0 ? 0 : pick == 1 ? 1 + rng() % 9 : 10 + rng() % 30);
        b.keys.push_back(rng() % 256);
      }
      b.total_key = rng() % 256;
      auto p = Protect(b, rule);
      if (!p.total.value) continue;
      int64_t cap = *p.total.value + rule.Above();
      auto brute = BruteForce(p, rule, cap);
      for (size_t i = 0; i < n; ++i) {
        if (p.cells[i].value) continue;
        ASSERT_FALSE(brute[i].empty());
        EXPECT_TRUE(brute[i].count(b.counts[i])) << "the truth must be possible";
        if (p.cells[i].why != Why::kPrimary) continue;
        ++attacked;
        EXPECT_GE(*brute[i].rbegin() - *brute[i].begin(), rule.threshold)
            << "rule " << rule.Name() << ", cell " << i << " of " << n << " is " << b.counts[i];
      }
      int hidden = 0;
      for (const auto& c : p.cells) hidden += c.value ? 0 : 1;
      EXPECT_NE(hidden, 1) << "a lone suppressed count";
    }
  }
  EXPECT_GT(attacked, 100);
}

TEST(Sdc, TheCellKeyMovesTheSameRecordsTheSameWay) {
  Rule rule{.method = Method::kCellKey};
  Block b{.counts = {57, 80, 33}, .keys = {17, 200, 141}, .total_key = 99};
  auto once = Protect(b, rule);
  auto again = Protect(b, rule);
  int moved = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(once.cells[i].value, again.cells[i].value);
    EXPECT_LE(std::abs(*once.cells[i].value - b.counts[i]), 2);
    moved += *once.cells[i].value != b.counts[i];
  }
  EXPECT_EQ(once.total.value, again.total.value);
  (void)moved;
}

}  // namespace
}  // namespace steward::statistics
