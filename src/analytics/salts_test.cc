#include "analytics/salts.h"

#include <gtest/gtest.h>

#include "analytics/analytics.h"
#include "store/testing/scratch.h"

namespace steward::analytics {
namespace {

using namespace std::chrono_literals;

TEST(SaltsTest, RotateAtMidnightAndAreDestroyedAfter48Hours) {
  store::testing::ScratchSite site(Migrations());
  // 2027-01-01T23:00:00Z
  FakeClock clock(SystemTime(std::chrono::seconds(1'798'844'400)));
  Salts salts(site.store(), clock, site.key());
  int64_t day1 = salts.Today();
  auto s1 = salts.ForDay(day1);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->size(), 32u);
  EXPECT_EQ(*salts.ForDay(day1), *s1) << "the same all day";
  {
    Salts restarted(site.store(), clock, site.key());
    EXPECT_EQ(*restarted.ForDay(day1), *s1) << "kept across a restart";
  }
  clock.Advance(1h);  // past midnight
  int64_t day2 = salts.Today();
  EXPECT_EQ(day2, day1 + 1);
  auto s2 = salts.ForDay(day2);
  ASSERT_TRUE(s2.ok());
  EXPECT_NE(*s2, *s1) << "rotated at 00:00 UTC";
  EXPECT_EQ(*salts.ForDay(day1), *s1) << "yesterday's stays for visits across midnight";
  EXPECT_EQ(*salts.DestroyOld(), 0);

  clock.Advance(24h);  // day 3: day 1's salt is 48 hours old
  EXPECT_EQ(*salts.DestroyOld(), 1);
  EXPECT_FALSE(salts.ForDay(day1).ok()) << "destroyed: nothing from that day can be recomputed";
  EXPECT_FALSE(salts.ForDay(salts.Today() + 1).ok());
  int64_t rows = -1;
  ASSERT_TRUE(site.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto r, c.Query("SELECT count(*), min(day) FROM analytics_salts"));
                    rows = r.front().Int(0);
                    EXPECT_EQ(r.front().Int(1), day2);
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(rows, 1);
}

TEST(SaltsTest, TomorrowsIsMadeInTheLastHourSoMidnightNeverWaits) {
  store::testing::ScratchSite site(Migrations());
  FakeClock clock(SystemTime(std::chrono::seconds(1'798'790'400)));  // 2027-01-01T08:00:00Z
  Salts salts(site.store(), clock, site.key());
  auto count = [&] {
    int64_t n = -1;
    EXPECT_TRUE(site.store()
                    .Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(
                          auto rows, c.Query("SELECT count(*) FROM analytics_salts WHERE day > ?", {salts.Today()}));
                      n = rows.front().Int(0);
                      return Ok();
                    })
                    .ok());
    return n;
  };
  ASSERT_TRUE(salts.MakeAhead().ok());
  EXPECT_EQ(count(), 0) << "not yet: the day has hours to go";
  clock.Advance(15h + 30min);  // 23:30
  ASSERT_TRUE(salts.MakeAhead().ok());
  EXPECT_EQ(count(), 1) << "tomorrow's, made ahead";
  EXPECT_FALSE(salts.ForDay(salts.Today() + 1).ok()) << "but not used before its day";
  clock.Advance(1h);  // 00:30
  auto today = salts.ForDay(salts.Today());
  ASSERT_TRUE(today.ok());
  Salts restarted(site.store(), clock, site.key());
  EXPECT_EQ(*restarted.ForDay(salts.Today()), *today) << "the one made ahead is the day's salt";
}

TEST(SaltsTest, StoredSealedNotInTheClear) {
  store::testing::ScratchSite site(Migrations());
  FakeClock clock(SystemTime(std::chrono::seconds(1'798'844'400)));
  Salts salts(site.store(), clock, site.key());
  std::string salt = *salts.ForDay(salts.Today());
  std::string stored;
  ASSERT_TRUE(site.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto r, c.Query("SELECT sealed FROM analytics_salts"));
                    stored = std::get<store::Blob>(r.front().at(0)).bytes;
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(stored.find(salt), std::string::npos);
}

}  // namespace
}  // namespace steward::analytics
