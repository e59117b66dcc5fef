// The dashboard's numbers against a fixture small enough to count by hand.
#include "analytics/stats.h"

#include <gtest/gtest.h>

#include "analytics/analytics.h"
#include "store/testing/scratch.h"

namespace steward::analytics {
namespace {

constexpr int64_t kT0 = 1'798'790'400'000;  // 2027-01-01T08:00:00Z
constexpr int64_t kDay = 86'400'000;

class StatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // visitor 1: visit 10 "/" (Google) -> "/a", engaged 30 s at 80%; visit 11 "/a" an hour later (bounce)
    // visitor 2: visit 20 "/b" (Bing), then answers a poll 30 s later
    // visitor 3: visit 30 "/" (Google) the next day (bounce)
    Add(kT0, 1, 10, "pageview", "/", "Google");
    Add(kT0 + 60'000, 1, 10, "pageview", "/a", "");
    Add(kT0 + 120'000, 1, 10, "engagement", "/a", "", 30'000, 80);
    Add(kT0 + 3'600'000, 1, 11, "pageview", "/a", "");
    Add(kT0 + 10'000, 2, 20, "pageview", "/b", "Bing");
    Add(kT0 + 40'000, 2, 20, "Poll answer", "/b", "", -1, -1, R"({"answer":"yes"})");
    Add(kT0 + kDay, 3, 30, "pageview", "/", "Google");
    Add(kT0, 4, 40, "pageview", "/other-site", "");  // another site: never counted here
  }
  void Add(int64_t ts, int64_t visitor, int64_t visit, const std::string& name, const std::string& path,
           const std::string& source, int64_t engaged = -1, int64_t scroll = -1, const std::string& props = "") {
    std::string site = visitor == 4 ? "elsewhere.uk" : "ons.gov.uk";
    ASSERT_TRUE(site_.store().Write([&](store::Connection& c) -> Status {
      auto n = c.Exec("INSERT INTO analytics_events (ts, site, name, hostname, path, source, visitor, visit, "
                      "engaged_ms, scroll_depth, props) VALUES (?, ?, ?, 'ons.gov.uk', ?, ?, ?, ?, ?, ?, ?)",
                      {ts, site, name, path, source, visitor, visit,
                       engaged < 0 ? store::Value() : store::Value(engaged),
                       scroll < 0 ? store::Value() : store::Value(scroll), props});
      if (!n.ok()) return n.error();
      return Ok();
    }).ok());
  }
  Query Range(int64_t days = 7) { return {.site = "ons.gov.uk", .from_ms = kT0 - 8 * 3'600'000, .to_ms = kT0 - 8 * 3'600'000 + days * kDay}; }

  store::testing::ScratchSite site_{Migrations()};
  Stats stats_{site_.store()};
};

TEST_F(StatsTest, Headline) {
  auto h = stats_.Aggregate(Range());
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->visitors, 3);
  EXPECT_EQ(h->visits, 4);
  EXPECT_EQ(h->pageviews, 5);
  EXPECT_DOUBLE_EQ(h->views_per_visit, 1.25);
  EXPECT_DOUBLE_EQ(h->bounce_rate, 0.5) << "visits 11 and 30; the poll answer keeps visit 20 from bouncing";
  EXPECT_DOUBLE_EQ(h->visit_duration_s, 37.5) << "(120 + 0 + 30 + 0) / 4";
  auto day_one = stats_.Aggregate(Range(1));
  EXPECT_EQ(day_one->visitors, 2);
  EXPECT_EQ(day_one->pageviews, 4);
}

TEST_F(StatsTest, Breakdowns) {
  auto pages = stats_.Breakdown(Range(), Dimension::kPage).value();
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0].key, "/");
  EXPECT_EQ(pages[0].visitors, 2);
  EXPECT_EQ(pages[1].key, "/a");
  EXPECT_EQ(pages[1].count, 2);
  auto entry = stats_.Breakdown(Range(), Dimension::kEntryPage).value();
  EXPECT_EQ(entry[0].key, "/");
  EXPECT_EQ(entry[0].count, 2);
  EXPECT_EQ(entry[1].key, "/a");
  auto exits = stats_.Breakdown(Range(), Dimension::kExitPage).value();
  EXPECT_EQ(exits[0].key, "/a");
  EXPECT_EQ(exits[0].count, 2);
  auto sources = stats_.Breakdown(Range(), Dimension::kSource).value();
  ASSERT_EQ(sources.size(), 3u);
  EXPECT_EQ(sources[0].key, "Google");
  EXPECT_EQ(sources[0].visitors, 2);
  EXPECT_EQ(sources[1].key, "Bing");
  EXPECT_EQ(sources[2].key, "Direct / None");
  auto events = stats_.Breakdown(Range(), Dimension::kEvent).value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, "Poll answer");
  auto props = stats_.Breakdown(Range(), Dimension::kEventProperty).value();
  ASSERT_EQ(props.size(), 1u);
  EXPECT_EQ(props[0].key, "Poll answer: answer = yes");
  auto engagement = stats_.Breakdown(Range(), Dimension::kEngagement).value();
  ASSERT_EQ(engagement.size(), 1u);
  EXPECT_EQ(engagement[0].key, "/a");
  EXPECT_DOUBLE_EQ(engagement[0].mean_seconds, 30);
  EXPECT_DOUBLE_EQ(engagement[0].mean_scroll, 80);
}

TEST_F(StatsTest, FiltersKeepWholeVisits) {
  Query q = Range();
  q.source = "Bing";
  auto h = stats_.Aggregate(q).value();
  EXPECT_EQ(h.visitors, 1);
  EXPECT_EQ(h.visits, 1);
  q = Range();
  q.page = "/a";
  h = stats_.Aggregate(q).value();
  EXPECT_EQ(h.visits, 2) << "visits 10 and 11 viewed /a";
  EXPECT_EQ(h.pageviews, 3);
}

TEST_F(StatsTest, DailySeriesHasEveryDay) {
  auto days = stats_.Daily(Range()).value();
  ASSERT_EQ(days.size(), 7u);
  EXPECT_EQ(days[0].pageviews, 4);
  EXPECT_EQ(days[0].visitors, 2);
  EXPECT_EQ(days[1].pageviews, 1);
  EXPECT_EQ(days[2].pageviews, 0);
  EXPECT_EQ(ParseDimension("entry_page"), Dimension::kEntryPage);
  EXPECT_EQ(DimensionName(Dimension::kCampaign), "utm_campaign");
}

}  // namespace
}  // namespace steward::analytics
