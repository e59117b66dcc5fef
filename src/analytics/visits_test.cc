// The table of visits in progress: found while active, over after 30 idle minutes, and bounded
// however many visitors come.
#include "analytics/visits.h"

#include <gtest/gtest.h>

namespace steward::analytics {
namespace {

constexpr int64_t kIdle = int64_t{30} * 60 * 1000;

TEST(VisitTableTest, AVisitLastsUntilItIsIdleForThirtyMinutes) {
  VisitTable t(kIdle);
  EXPECT_EQ(t.Find(42, 0), nullptr);
  VisitTable::Slot& s = t.Take(42, 0);
  EXPECT_EQ(s.visit, 0) << "new: the caller names the visit";
  s.visit = 7;
  ASSERT_NE(t.Find(42, kIdle), nullptr);
  t.Find(42, kIdle)->last_ms = kIdle;
  EXPECT_EQ(t.Find(42, 2 * kIdle)->visit, 7) << "still within 30 minutes of the last event";
  EXPECT_EQ(t.Find(42, 2 * kIdle + 1), nullptr) << "idle for longer: over";
  EXPECT_EQ(t.Take(42, 2 * kIdle + 1).visit, 0) << "a new visit begins";
}

TEST(VisitTableTest, MemoryIsBoundedAndTheLongestIdleGiveWay) {
  VisitTable t(kIdle, /*max_slots=*/1 << 12, /*first_slots=*/16);
  // A flood: far more visitors in one minute than the table holds.
  for (int64_t v = 1; v <= 100'000; ++v) {
    VisitTable::Slot& s = t.Take(v * 0x9E3779B97F4A7C15LL, v / 2000);
    s.visit = v;
  }
  EXPECT_EQ(t.capacity(), 1u << 12) << "grew to its cap, and no further";
  EXPECT_LE(t.Live(60), t.capacity());
  // The newest visitors are still there.
  int found = 0;
  for (int64_t v = 99'900; v <= 100'000; ++v) found += t.Find(v * 0x9E3779B97F4A7C15LL, 60) != nullptr;
  EXPECT_GE(found, 95);
  // Once they are idle, their slots are free for others without any sweep.
  for (int64_t v = 1; v <= 3000; ++v) t.Take(-v * 0x9E3779B97F4A7C15LL, kIdle + 100).visit = v;
  EXPECT_EQ(t.capacity(), 1u << 12);
  int kept = 0;
  for (int64_t v = 1; v <= 3000; ++v) kept += t.Find(-v * 0x9E3779B97F4A7C15LL, kIdle + 100) != nullptr;
  EXPECT_EQ(kept, 3000) << "fewer live visitors than slots: each keeps theirs";
}

}  // namespace
}  // namespace steward::analytics
