// The dashboard's numbers against a fixture small enough to count by hand.
#include "analytics/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "analytics/analytics.h"
#include "analytics/api_keys.h"
#include "analytics/query_api.h"
#include "analytics/query_request.h"
#include "analytics/rollups.h"
#include "edge/sketch.h"
#include "http/server.h"
#include "http/testing/raw_client.h"
#include "retention/testing/batches.h"
#include "store/testing/plan.h"
#include "store/testing/scalar.h"
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
           const std::string& source, int64_t engaged = -1, int64_t scroll = -1, const std::string& props = "",
           const std::string& search = "") {
    std::string site = visitor == 4 ? "elsewhere.uk" : "ons.gov.uk";
    ASSERT_TRUE(
        site_.store()
            .Write([&](store::Connection& c) -> Status {
              auto n = c.Exec(
                  "INSERT INTO analytics_events (ts, site, name, hostname, path, source, visitor, visit, "
                  "engaged_ms, scroll_depth, props, search) VALUES (?, ?, ?, 'ons.gov.uk', ?, ?, ?, ?, ?, ?, ?, ?)",
                  {ts, site, name, path, source, visitor, visit, engaged < 0 ? store::Value() : store::Value(engaged),
                   scroll < 0 ? store::Value() : store::Value(scroll), props, search});
              if (!n.ok()) return n.error();
              return Ok();
            })
            .ok());
  }
  // Visitors 1 and 3 in GB on a desktop, visitor 2 in FR on a phone.
  void PlaceVisitors() {
    ASSERT_TRUE(site_.store()
                    .Write([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(auto n,
                                               c.Exec("UPDATE analytics_events SET country = 'GB', device = 'Desktop' "
                                                      "WHERE visitor IN (1, 3)"));
                      STEWARD_ASSIGN_OR_RETURN(
                          n, c.Exec("UPDATE analytics_events SET country = 'FR', device = 'Mobile' WHERE visitor = 2"));
                      (void)n;
                      return Ok();
                    })
                    .ok());
  }
  Query Range(int64_t days = 7) {
    return {.site = "ons.gov.uk",
            .from_ms = kT0 - int64_t{8} * 3'600'000,
            .to_ms = kT0 - int64_t{8} * 3'600'000 + days * kDay};
  }

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

// The same numbers from the rollups (all rolled, or partly with the rest from the events) as from
// the events themselves.
// Compares every figure of two queries that must agree.
void ExpectSame(Stats& stats, const Query& rolled, const Query& raw, const std::string& when) {
  {
    auto a = stats.Aggregate(rolled).value(), b = stats.Aggregate(raw).value();
    EXPECT_EQ(a.visitors, b.visitors) << when;
    EXPECT_EQ(a.visits, b.visits) << when;
    EXPECT_EQ(a.pageviews, b.pageviews) << when;
    EXPECT_DOUBLE_EQ(a.bounce_rate, b.bounce_rate) << when;
    EXPECT_DOUBLE_EQ(a.visit_duration_s, b.visit_duration_s) << when;
    for (Dimension d :
         {Dimension::kPage, Dimension::kEntryPage, Dimension::kExitPage, Dimension::kSource, Dimension::kCountry,
          Dimension::kDevice, Dimension::kEvent, Dimension::kEventProperty, Dimension::kEngagement}) {
      auto x = stats.Breakdown(rolled, d).value(), y = stats.Breakdown(raw, d).value();
      ASSERT_EQ(x.size(), y.size()) << when << " " << DimensionName(d);
      for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(x[i].key, y[i].key) << when << " " << DimensionName(d);
        EXPECT_EQ(x[i].visitors, y[i].visitors) << when << " " << DimensionName(d) << " " << x[i].key;
        EXPECT_EQ(x[i].count, y[i].count) << when << " " << DimensionName(d) << " " << x[i].key;
        EXPECT_DOUBLE_EQ(x[i].mean_seconds, y[i].mean_seconds) << when;
        EXPECT_DOUBLE_EQ(x[i].mean_scroll, y[i].mean_scroll) << when;
      }
    }
    auto days = stats.Daily(rolled).value(), raw_days = stats.Daily(raw).value();
    ASSERT_EQ(days.size(), raw_days.size());
    for (size_t i = 0; i < days.size(); ++i) {
      EXPECT_EQ(days[i].visitors, raw_days[i].visitors) << when << " day " << i;
      EXPECT_EQ(days[i].pageviews, raw_days[i].pageviews) << when << " day " << i;
    }
  }
}

// A filtered range's one pass over the kept visits' events gives every table as each one's own SQL.
TEST_F(StatsTest, TheFilteredPassAgreesWithTheEventsSql) {
  for (auto [page, source] :
       {std::pair<const char*, const char*>{"/a", ""}, {"", "Google"}, {"/", "Google"}, {"/b", ""}, {"/nowhere", ""}}) {
    Query pass = Range(), raw = Range();
    pass.page = raw.page = page;
    pass.source = raw.source = source;
    raw.raw = true;
    ExpectSame(stats_, pass, raw, std::string("page ") + page + ", source " + source);
  }
}

TEST_F(StatsTest, RollupsAgreeWithTheEvents) {
  auto compare = [&](const char* when) {
    Query rolled = Range(), raw = Range();
    raw.raw = true;
    ExpectSame(stats_, rolled, raw, when);
  };
  compare("nothing rolled");
  FakeClock clock(SystemTime(std::chrono::milliseconds(kT0 + int64_t{20} * 3'600'000)));  // 2027-01-02T04:00Z
  Rollups rollups(site_.store(), clock);
  auto n = rollups.RollDue("ons.gov.uk");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 18) << "08:00 to 01:00: the hours that ended 90 minutes ago";
  compare("day one rolled, day two from the events");
  clock.Advance(std::chrono::hours(48));
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());
  EXPECT_EQ(*rollups.RolledTo("ons.gov.uk"), kT0 + int64_t{66} * 3'600'000);
  compare("all rolled");
  EXPECT_EQ(*rollups.RollDue("ons.gov.uk"), 0) << "nothing twice";
  EXPECT_EQ(*rollups.RollDue("elsewhere.uk"), 66) << "each site its own, from its own first event";

  // Retention: rows whose whole period is past the cut-off go, in batches of at most the runner's
  // limit (the rollups grow with the site's pages), each by a range of the index of periods.
  auto storage = RollupStorage();
  EXPECT_TRUE(storage.batched);
  std::string cutoff = FormatRfc3339(SystemTime(std::chrono::milliseconds(kT0 + kDay)));
  int64_t due = -1;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(due, storage.purge(c, {}, cutoff, "", /*dry_run=*/true, 0));
                    return Ok();
                  })
                  .ok());
  ASSERT_GT(due, 20);
  const int64_t limit = due / 4 + 1;
  store::testing::CaughtStatements deletes({"DELETE FROM analytics_rollups"});
  auto batches = retention::testing::PurgeInBatches(site_.store(), storage, cutoff, limit);
  deletes.Stop();
  ASSERT_TRUE(batches.ok()) << batches.error().message;
  EXPECT_LE(batches->largest, limit);
  EXPECT_EQ(batches->purged, due);
  EXPECT_GE(batches->calls, 4);
  auto old = store::testing::Scalar(site_.store(), "SELECT count(*) FROM analytics_rollups WHERE start < ?",
                                    {kT0 - int64_t{8} * 3'600'000 + kDay});
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, 0);
  EXPECT_GT(*store::testing::Scalar(site_.store(), "SELECT count(*) FROM analytics_rollups"), 0)
      << "the days after the cut-off are kept";
  if (site_.store().backend() != store::Backend::kSqlite) return;
  auto stray = deletes.Stray(site_.store(), {"analytics_rollups_by_period (site=? AND span=? AND start<?)"});
  ASSERT_TRUE(stray.ok()) << stray.error().message;
  EXPECT_EQ(*stray, std::vector<std::string>{});
}

// A dashboard of whole days filtered by source, country or device reads its filter value's segment:
// the same figures as the events' own SQL, rolled or not, and the events when its days were rolled
// before segments were. A page filter over a day that kept no segment for the page (here the first
// day: no day before it chose its pages) reads the events.
TEST_F(StatsTest, FilteredDashboardsFromTheSegmentsAgreeWithTheEvents) {
  PlaceVisitors();
  std::vector<std::string> segment_reads;
  store::StatementObserver observer = [&](std::string_view sql, const std::vector<store::Value>& params) {
    if (sql.find("FROM analytics_rollups") == std::string_view::npos || params.size() < 2) return;
    if (const auto* d = std::get_if<std::string>(&params[1]); d && d->find('\x1f') != std::string::npos)
      segment_reads.push_back(*d);
  };
  auto compare = [&](const std::string& when) {
    for (auto [page, source, country, device] : {std::tuple{"/a", "", "", ""},
                                                 {"/", "", "", ""},
                                                 {"/b", "", "", ""},
                                                 {"/nowhere", "", "", ""},
                                                 {"", "Google", "", ""},
                                                 {"", "", "GB", ""},
                                                 {"", "", "FR", ""},
                                                 {"", "", "", "Mobile"},
                                                 {"", "", "", "Desktop"}}) {
      Query segment = Range(), raw = Range();
      segment.page = raw.page = page;
      segment.source = raw.source = source;
      segment.country = raw.country = country;
      segment.device = raw.device = device;
      raw.raw = true;
      ExpectSame(stats_, segment, raw,
                 when + ": page " + page + ", source " + source + ", country " + country + ", device " + device);
    }
  };
  store::ObserveStatements(&observer);
  compare("nothing rolled");
  FakeClock clock(SystemTime(std::chrono::milliseconds(kT0 + int64_t{20} * 3'600'000)));
  Rollups rollups(site_.store(), clock);
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());
  compare("day one rolled, day two from the events");
  clock.Advance(std::chrono::hours(48));
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());
  segment_reads.clear();
  compare("all rolled");
  store::ObserveStatements(nullptr);
  EXPECT_NE(std::find(segment_reads.begin(), segment_reads.end(), std::string("country\x1fGB\x1fpage")),
            segment_reads.end())
      << "the country's segment read for its top pages";
  EXPECT_NE(std::find(segment_reads.begin(), segment_reads.end(), std::string("source\x1fGoogle\x1f")),
            segment_reads.end())
      << "the source's segment read for its headline";
  EXPECT_EQ(std::find_if(segment_reads.begin(), segment_reads.end(),
                         [](const std::string& d) { return d.starts_with("page"); }),
            segment_reads.end())
      << "the first day kept no page's segment: a page filter over it reads the events";
  size_t rows = 0;
  ASSERT_TRUE(
      site_.store()
          .Read([&](store::Connection& c) -> Status {
            STEWARD_ASSIGN_OR_RETURN(
                auto hours, c.Query("SELECT count(*) FROM analytics_rollups WHERE span = 3600000 AND dimension LIKE ?",
                                    {std::string("%\x1f%")}));
            EXPECT_EQ(hours.front().Int(0), 0) << "segments keep day rows only";
            STEWARD_ASSIGN_OR_RETURN(
                auto days, c.Query("SELECT count(*) FROM analytics_rollups WHERE span = 86400000 AND dimension LIKE ?",
                                   {std::string("%\x1f%")}));
            rows = static_cast<size_t>(days.front().Int(0));
            return Ok();
          })
          .ok());
  EXPECT_GT(rows, 0u);

  // Days rolled before segments existed have none: their filtered dashboards read the events.
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        auto n, c.Exec("UPDATE analytics_rollup_state SET segments_from = ?", {kT0 + 2 * kDay}));
                    (void)n;
                    return Ok();
                  })
                  .ok());
  segment_reads.clear();
  store::ObserveStatements(&observer);
  compare("rolled before segments");
  store::ObserveStatements(nullptr);
  EXPECT_TRUE(segment_reads.empty()) << segment_reads.front();
}

// Each day keeps segments for the pages most viewed the day before (after a day without pageviews,
// that day's pages): a page-filtered dashboard over days that all kept the page reads its segment,
// any other the events, and both agree with the events' own SQL.
TEST_F(StatsTest, PageFilteredDashboardsReadThePagesTheDaysKept) {
  PlaceVisitors();
  Add(kT0 + kDay + 60'000, 3, 30, "pageview", "/a", "");  // visit 30 goes on to /a
  FakeClock clock(SystemTime(std::chrono::milliseconds(kT0 + int64_t{20} * 3'600'000)));
  Rollups rollups(site_.store(), clock);
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());
  clock.Advance(std::chrono::hours(24 * 8));
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());
  int64_t day_one = kT0 - int64_t{8} * 3'600'000;
  std::map<int64_t, std::vector<std::string>> kept;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    return c.ForEach(
                        "SELECT day, path FROM analytics_segment_pages WHERE site = 'ons.gov.uk' "
                        "ORDER BY day, path",
                        {}, [&](const store::Row& r) {
                          kept[(r.Int(0) - day_one) / kDay].push_back(r.Text(1));
                          return true;
                        });
                  })
                  .ok());
  EXPECT_FALSE(kept.contains(0)) << "the first day had no day before it";
  EXPECT_EQ(kept[1], (std::vector<std::string>{"/", "/a", "/b"})) << "day one's pages";
  EXPECT_EQ(kept[2], (std::vector<std::string>{"/", "/a"})) << "day two's pages";
  EXPECT_EQ(kept[5], (std::vector<std::string>{"/", "/a"})) << "days without pageviews pass theirs on";

  std::vector<std::string> segment_reads;
  store::StatementObserver observer = [&](std::string_view sql, const std::vector<store::Value>& params) {
    if (sql.find("FROM analytics_rollups") == std::string_view::npos || params.size() < 2) return;
    if (const auto* d = std::get_if<std::string>(&params[1]); d && d->starts_with("page\x1f"))
      segment_reads.push_back(*d);
  };
  store::ObserveStatements(&observer);
  for (const char* page : {"/", "/a", "/b", "/nowhere"}) {
    for (int64_t first_day : {0, 1, 2}) {
      Query segment{.site = "ons.gov.uk", .from_ms = day_one + first_day * kDay, .to_ms = day_one + 7 * kDay};
      segment.page = page;
      Query raw = segment;
      raw.raw = true;
      segment_reads.clear();
      ExpectSame(stats_, segment, raw, std::string("page ") + page + " from day " + std::to_string(first_day));
      // "/b" was not viewed on day two, so day three did not keep it.
      bool every_day_kept = first_day > 0 && (std::string_view(page) == "/" || std::string_view(page) == "/a");
      EXPECT_EQ(!segment_reads.empty(), every_day_kept) << page << " from day " << first_day;
      if (every_day_kept) {
        EXPECT_EQ(segment_reads.front(), std::string("page\x1f") + page + "\x1f");
      }
    }
  }
  store::ObserveStatements(nullptr);
  Query a{.site = "ons.gov.uk", .from_ms = day_one + kDay, .to_ms = day_one + 7 * kDay, .page = "/a"};
  auto h = stats_.Aggregate(a).value();
  EXPECT_EQ(h.visits, 1) << "visit 30 viewed /a on day two";
  EXPECT_EQ(h.pageviews, 2);
  auto pages = stats_.Breakdown(a, Dimension::kPage).value();
  ASSERT_EQ(pages.size(), 2u) << "the visit's pages: / and /a";
}

// A database rolled before segments existed gets them from the first whole day rolled after: a
// filtered range from then on reads them, one from before reads the events, and both agree with
// the events' own SQL.
TEST_F(StatsTest, AnUpgradedDatabaseHasSegmentsFromTheNextWholeDay) {
  PlaceVisitors();
  FakeClock clock(SystemTime(std::chrono::milliseconds(kT0 + int64_t{20} * 3'600'000)));
  Rollups rollups(site_.store(), clock);
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());  // to 02:00 on the second day
  // As an older version left it: no segments, and no mark.
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto n, c.Exec("DELETE FROM analytics_rollups WHERE dimension LIKE ?",
                                                            {std::string("%\x1f%")}));
                    STEWARD_ASSIGN_OR_RETURN(n, c.Exec("UPDATE analytics_rollup_state SET segments_from = NULL"));
                    (void)n;
                    return Ok();
                  })
                  .ok());
  clock.Advance(std::chrono::hours(72));
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());
  int64_t third_day = kT0 - int64_t{8} * 3'600'000 + 2 * kDay;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT segments_from FROM analytics_rollup_state"));
                    EXPECT_EQ(rows.front().Int(0), third_day) << "the second day's segments lack its first hours";
                    return Ok();
                  })
                  .ok());
  int segment_reads = 0;
  store::StatementObserver observer = [&](std::string_view sql, const std::vector<store::Value>& params) {
    if (sql.find("FROM analytics_rollups") == std::string_view::npos || params.size() < 2) return;
    if (const auto* d = std::get_if<std::string>(&params[1]); d && d->find('\x1f') != std::string::npos)
      ++segment_reads;
  };
  store::ObserveStatements(&observer);
  for (int64_t from : {kT0 - int64_t{8} * 3'600'000, third_day}) {
    Query segment = Range(), raw = Range();
    segment.from_ms = raw.from_ms = from;
    segment.country = raw.country = "GB";
    raw.raw = true;
    int before = segment_reads;
    ExpectSame(stats_, segment, raw, from == third_day ? "from the third day" : "from the first day");
    EXPECT_EQ(segment_reads > before, from == third_day) << from;
  }
  store::ObserveStatements(nullptr);
}

// The shape of every dashboard query over a rolled-up range, as SQLite plans it: the rollups read
// through their key, the events never scanned. A change that makes the dashboard read every row
// fails here, whatever the machine's speed.
TEST_F(StatsTest, DashboardQueriesReadTheRollupsByTheirKeyAndNeverScanTheEvents) {
  if (store::testing::OnPostgresql())
    GTEST_SKIP() << "PostgreSQL plans by its statistics; SQLite's plan is the query's shape";
  // As the dashboard asks on a morning: whole days rolled, today's first hours rolled, the rest
  // from the events.
  FakeClock clock(SystemTime(std::chrono::milliseconds(kT0 + 5 * kDay)));
  Rollups rollups(site_.store(), clock);
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());
  std::vector<std::pair<std::string, std::vector<store::Value>>> seen;
  store::StatementObserver observer = [&](std::string_view sql, const std::vector<store::Value>& params) {
    seen.emplace_back(std::string(sql), params);
  };
  store::ObserveStatements(&observer);
  // Unfiltered, and filtered by one source (the source's segment).
  Query filtered = Range(6);
  filtered.source = "Google";
  // Filtered by a page each of its days kept (from the second: the first had no day before it).
  Query by_page = Range(5);
  by_page.from_ms += kDay;
  by_page.to_ms += kDay;
  by_page.page = "/";
  std::pair<size_t, size_t> page_statements;
  for (const Query& q : {Range(6), filtered, by_page}) {
    page_statements.first = seen.size();
    ASSERT_TRUE(stats_.Aggregate(q).ok());
    ASSERT_TRUE(stats_.Daily(q).ok());
    for (Dimension d : {Dimension::kPage, Dimension::kEntryPage, Dimension::kExitPage, Dimension::kSource,
                        Dimension::kReferrer, Dimension::kCampaign, Dimension::kBrowser, Dimension::kOs,
                        Dimension::kDevice, Dimension::kCountry, Dimension::kEvent, Dimension::kEventProperty,
                        Dimension::kSearch, Dimension::kSearchNoResults, Dimension::kEngagement}) {
      ASSERT_TRUE(stats_.Breakdown(q, d).ok()) << DimensionName(d);
    }
    page_statements.second = seen.size();
  }
  // The Stats API's requests in the dashboard's shape take the same way: the statements of each.
  std::vector<std::pair<size_t, size_t>> api;
  for (const char* d : {"", "event:page", "visit:source", "visit:country", "time:day"}) {
    size_t first = seen.size();
    std::string body = std::string(R"({"site_id":"ons.gov.uk","date_range":["2027-01-01","2027-01-06"],)") +
                       R"("metrics":["visitors","pageviews"])" +
                       (*d ? std::string(R"(,"dimensions":[")") + d + R"("])" : std::string()) + "}";
    if (std::string(d) == "visit:source") body.replace(body.find("pageviews"), 9, "visits");
    auto answer = RunQuery(stats_, {"ons.gov.uk"}, body, clock.Now());
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    api.emplace_back(first, seen.size());
  }
  {
    // Filtered by a country: its segment.
    size_t first = seen.size();
    auto answer = RunQuery(stats_, {"ons.gov.uk"},
                           R"({"site_id":"ons.gov.uk","date_range":["2027-01-01","2027-01-06"],)"
                           R"("metrics":["visitors","pageviews"],"dimensions":["event:page"],)"
                           R"("filters":[["is","visit:country",["GB"]]]})",
                           clock.Now());
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    api.emplace_back(first, seen.size());
  }
  // The headline of a page every day of the range kept: its segment, and the page's own row there.
  const std::string page_headline =
      R"({"site_id":"ons.gov.uk","date_range":["2027-01-02","2027-01-06"],)"
      R"("metrics":["visitors","visits","pageviews","views_per_visit","bounce_rate","visit_duration"],)"
      R"("filters":[["is","event:page",["/"]]])";
  std::string page_answer;
  {
    size_t first = seen.size();
    auto answer = RunQuery(stats_, {"ons.gov.uk"}, page_headline + "}", clock.Now());
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    page_answer = *answer;
    api.emplace_back(first, seen.size());
  }
  {
    // A page's visitors and visits by source: its segment too.
    size_t first = seen.size();
    auto answer = RunQuery(stats_, {"ons.gov.uk"},
                           R"({"site_id":"ons.gov.uk","date_range":["2027-01-02","2027-01-06"],)"
                           R"("metrics":["visitors","visits"],"dimensions":["visit:source"],)"
                           R"("filters":[["is","event:page",["/"]]]})",
                           clock.Now());
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_FALSE(nlohmann::json::parse(*answer)["results"].empty());
    api.emplace_back(first, seen.size());
  }
  store::ObserveStatements(nullptr);
  {
    // The same from the events (a total asked for), to the number.
    auto events = RunQuery(stats_, {"ons.gov.uk"}, page_headline + R"(,"include":{"total_rows":true}})", clock.Now());
    ASSERT_TRUE(events.ok()) << events.error().message;
    EXPECT_EQ(nlohmann::json::parse(page_answer)["results"], nlohmann::json::parse(*events)["results"]);
    EXPECT_GT(nlohmann::json::parse(page_answer)["results"][0]["metrics"][2], 0) << "the page was viewed";
  }
  int rollup_reads = 0;
  std::vector<int> reads_at(seen.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    const auto& [sql, params] = seen[i];
    if (sql.rfind("SELECT", 0) != 0) continue;
    ASSERT_TRUE(site_.store()
                    .Read([&, &sql = sql, &params = params](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(auto plan, c.Query("EXPLAIN QUERY PLAN " + sql, params));
                      for (const auto& row : plan) {
                        std::string detail = row.Text(3);
                        EXPECT_EQ(detail.rfind("SCAN analytics_events", 0), std::string::npos) << detail << "\n" << sql;
                        EXPECT_EQ(detail.rfind("SCAN analytics_rollups", 0), std::string::npos) << detail << "\n"
                                                                                                << sql;
                        if (detail.find("analytics_rollups USING") == std::string::npos) continue;
                        // The key's range for the period: site, dimension, span and start. With
                        // less (an OR of the spans), SQLite reads every day and hour of the dimension.
                        EXPECT_NE(detail.find("PRIMARY KEY (site=? AND dimension=? AND span=? AND start>? AND start<?"),
                                  std::string::npos)
                            << detail << "\n"
                            << sql;
                        ++rollup_reads;
                        ++reads_at[i];
                      }
                      return Ok();
                    })
                    .ok());
  }
  EXPECT_GE(rollup_reads, 30) << "the headline, the days and each table read the rollups, filtered or not";
  int page_reads = 0;
  for (size_t i = page_statements.first; i < page_statements.second; ++i) page_reads += reads_at[i];
  EXPECT_GE(page_reads, 17) << "the page's headline, days and each of its 15 tables read its segment";
  for (const auto& [first, last] : api) {
    int reads = 0;
    for (size_t i = first; i < last; ++i) reads += reads_at[i];
    EXPECT_GT(reads, 0) << "an API request in the dashboard's shape, statements " << first << " to " << last;
  }
}

TEST_F(StatsTest, SearchesWithNoResultsWhereThePageSaysSo) {
  Add(kT0 + kDay + 60'000, 5, 50, "pageview", "/search", "", -1, -1, R"({"search_results":"0"})", "tax rates");
  Add(kT0 + kDay + 90'000, 5, 50, "pageview", "/search", "", -1, -1, R"({"search_results":"12"})", "census");
  Add(kT0 + kDay + 95'000, 6, 60, "pageview", "/search", "", -1, -1, R"({"search_results":0})", "tax rates");
  Add(kT0 + kDay + 99'000, 6, 60, "pageview", "/search", "", -1, -1, "", "unreported");
  Query raw = Range();
  raw.raw = true;
  for (const Query& q : {Range(), raw}) {
    auto none = stats_.Breakdown(q, Dimension::kSearchNoResults).value();
    ASSERT_EQ(none.size(), 1u) << q.raw;
    EXPECT_EQ(none[0].key, "tax rates");
    EXPECT_EQ(none[0].visitors, 2);
    EXPECT_EQ(none[0].count, 2);
    EXPECT_EQ(stats_.Breakdown(q, Dimension::kSearch).value().size(), 3u);
  }
}

TEST(VisitorSketchTest, ExactThenWithinTwoPercent) {
  VisitorSketch a, b;
  for (int64_t i = 0; i < 200; ++i) a.Add(i);
  for (int64_t i = 100; i < 250; ++i) b.Add(i);
  EXPECT_TRUE(a.exact());
  a.Merge(b);
  EXPECT_EQ(a.Estimate(), 250) << "exact while small";
  VisitorSketch big;
  for (int64_t i = 0; i < 100'000; ++i) big.Add(i * 7919);
  EXPECT_FALSE(big.exact());
  EXPECT_NEAR(static_cast<double>(big.Estimate()), 100'000.0, 2'000.0);
  for (int64_t i = 0; i < 100'000; ++i) big.Add(i * 7919);
  EXPECT_NEAR(static_cast<double>(big.Estimate()), 100'000.0, 2'000.0) << "the same visitors again add nothing";
  auto round = VisitorSketch::Parse(big.Serialize());
  ASSERT_TRUE(round);
  EXPECT_EQ(round->Estimate(), big.Estimate());
  auto small = VisitorSketch::Parse(b.Serialize());
  ASSERT_TRUE(small);
  EXPECT_EQ(small->Estimate(), 150);
  EXPECT_FALSE(VisitorSketch::Parse("Zjunk"));
  EXPECT_FALSE(VisitorSketch::Parse("E1234567"));
}

// Past the exact list, a sketch is written in the smaller of its two forms, and reads back the same.
TEST(VisitorSketchTest, RegistersWrittenSparseThenPackedReadBackTheSame) {
  for (int64_t n : {257, 600, 2'000, 20'000, 1'000'000}) {
    VisitorSketch s;
    for (int64_t i = 0; i < n; ++i) s.Add(i * 104'729 + 7);
    std::string bytes = s.Serialize();
    if (n <= 600) {
      EXPECT_EQ(bytes[0], 'S') << n;
      EXPECT_LT(bytes.size(), 3u * 600 + 1) << n;
    } else {
      EXPECT_EQ(bytes[0], 'P') << n;
      EXPECT_LT(bytes.size(), 2'400u) << n;  // 2 KB, and a few registers of 15 and above
    }
    auto back = VisitorSketch::Parse(bytes);
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(back->Estimate(), s.Estimate()) << n;
    EXPECT_EQ(back->Serialize(), bytes) << n;
    // Merged from their written forms, as a month is from its days.
    VisitorSketch other;
    for (int64_t i = n / 2; i < n + 500; ++i) other.Add(i * 104'729 + 7);
    VisitorSketch direct = s;
    direct.Merge(other);
    VisitorSketch read = *back;
    read.Merge(*VisitorSketch::Parse(other.Serialize()));
    EXPECT_EQ(read.Estimate(), direct.Estimate()) << n;
    EXPECT_NEAR(static_cast<double>(read.Estimate()), static_cast<double>(n + 500), 0.05 * (n + 500)) << n;
  }
  // The first form, every register a byte, is still read.
  std::string first(1 + VisitorSketch::kRegisters, '\0');
  first[0] = 'H';
  for (size_t i = 1; i < first.size(); i += 2) first[i] = 1;
  auto old = VisitorSketch::Parse(first);
  ASSERT_TRUE(old);
  EXPECT_NEAR(static_cast<double>(old->Estimate()), 4096 * std::log(2.0), 5.0);
  EXPECT_EQ(VisitorSketch::Parse(old->Serialize())->Estimate(), old->Estimate());
  // Not sketches: an index past the registers, a cut entry, a value past the largest rank.
  EXPECT_FALSE(VisitorSketch::Parse(std::string("S\x00\x10\x01", 4)));
  EXPECT_FALSE(VisitorSketch::Parse(std::string("S\x01\x00", 3)));
  EXPECT_FALSE(VisitorSketch::Parse(std::string("S\x01\x00\x40", 4)));
  EXPECT_FALSE(VisitorSketch::Parse(std::string(1 + VisitorSketch::kRegisters / 2 - 1, 'P')));
}

TEST(VisitorSketchTest, MergedFromTheirBytesAsFromTheSketchesRead) {
  auto sketch = [](int64_t from, int64_t to) {
    VisitorSketch s;
    for (int64_t i = from; i < to; ++i) s.Add(i * 104'729 + 7);
    return s;
  };
  std::string old_form(1 + VisitorSketch::kRegisters, '\0');
  old_form[0] = 'H';
  for (size_t i = 1; i < old_form.size(); i += 3) old_form[i] = 2;
  // Into an exact sketch and into registers, bytes of each form: exact, sparse, packed, the old one.
  for (const VisitorSketch& into : {sketch(0, 40), sketch(0, 300), sketch(0, 5'000)}) {
    for (const std::string& bytes : {sketch(100, 150).Serialize(), sketch(100, 700).Serialize(),
                                     sketch(100, 50'000).Serialize(), old_form, std::string()}) {
      VisitorSketch read = into;
      if (!bytes.empty()) read.Merge(*VisitorSketch::Parse(bytes));
      VisitorSketch merged = into;
      EXPECT_TRUE(merged.MergeSerialized(bytes));
      EXPECT_EQ(merged.Serialize(), read.Serialize()) << bytes.substr(0, 1) << " into " << into.Estimate();
    }
    // What Parse refuses merges nothing.
    for (const std::string& bad :
         {std::string("S\x00\x10\x01", 4), std::string("S\x01\x00", 3), std::string("Sx\x00\x01\x00\x10\x01", 7),
          std::string(1 + VisitorSketch::kRegisters / 2 - 1, 'P'),
          std::string("P") + std::string(VisitorSketch::kRegisters / 2, '\x11') + std::string("\x00\x00\x02", 3)}) {
      VisitorSketch merged = into;
      EXPECT_FALSE(merged.MergeSerialized(bad));
      EXPECT_EQ(merged.Serialize(), into.Serialize());
    }
  }
}

TEST(ResolvePeriodTest, PeriodsEndToday) {
  int64_t today = *ParseDay("2027-01-03");
  EXPECT_EQ(ResolvePeriod("day", today)->from, today);
  EXPECT_EQ(ResolvePeriod("7d", today)->from, today - 6);
  EXPECT_EQ(ResolvePeriod("30d", today)->to, today + 1);
  EXPECT_EQ(ResolvePeriod("month", today)->from, *ParseDay("2027-01-01"));
  EXPECT_EQ(ResolvePeriod("year", today)->from, *ParseDay("2027-01-01"));
  auto custom = ResolvePeriod("2026-12-01..2026-12-31", today);
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(custom->to - custom->from, 31);
  EXPECT_FALSE(ResolvePeriod("2026-12-31..2026-12-01", today).ok());
  EXPECT_FALSE(ResolvePeriod("2020-01-01..2026-12-01", today).ok()) << "over 2 years";
  EXPECT_FALSE(ResolvePeriod("fortnight", today).ok());
  EXPECT_EQ(DayText(today), "2027-01-03");
}

// The Stats API against the same hand-counted fixture.
class QueryTest : public StatsTest {
 protected:
  nlohmann::json Run(const std::string& body) {
    auto r = RunQuery(stats_, {"ons.gov.uk"}, body, SystemTime(std::chrono::milliseconds(kT0 + 2 * kDay)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? nlohmann::json::parse(*r) : nlohmann::json();
  }
  std::string Error(const std::string& body) {
    auto r = RunQuery(stats_, {"ons.gov.uk"}, body, SystemTime(std::chrono::milliseconds(kT0 + 2 * kDay)));
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message;
  }
};

TEST_F(QueryTest, AggregateMetrics) {
  auto out = Run(R"({"site_id":"www.ons.gov.uk","date_range":"7d",
                     "metrics":["visitors","visits","pageviews","views_per_visit","bounce_rate","visit_duration"]})");
  ASSERT_EQ(out["results"].size(), 1u);
  EXPECT_EQ(out["results"][0]["metrics"], nlohmann::json::parse("[3, 4, 5, 1.25, 50, 38]"));
  EXPECT_EQ(out["results"][0]["dimensions"], nlohmann::json::array());
  EXPECT_EQ(out["query"]["date_range"][0], "2026-12-28T00:00:00Z");
  EXPECT_EQ(out["query"]["date_range"][1], "2027-01-03T23:59:59Z");
  EXPECT_EQ(out["query"]["site_id"], "ons.gov.uk");
  auto day = Run(R"({"site_id":"ons.gov.uk","date_range":["2027-01-01","2027-01-01"],"metrics":["pageviews"]})");
  EXPECT_EQ(day["results"][0]["metrics"][0], 4);
}

TEST_F(QueryTest, DimensionsFiltersOrderAndPages) {
  auto pages =
      Run(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors","pageviews","time_on_page","scroll_depth"],
                       "dimensions":["event:page"]})");
  ASSERT_EQ(pages["results"].size(), 3u);
  EXPECT_EQ(pages["results"][0]["dimensions"][0], "/");
  EXPECT_EQ(pages["results"][0]["metrics"], nlohmann::json::parse("[2, 2, null, null]"));
  EXPECT_EQ(pages["results"][1]["dimensions"][0], "/a");
  EXPECT_EQ(pages["results"][1]["metrics"], nlohmann::json::parse("[1, 2, 30, 80]"));

  auto ordered = Run(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors"],"dimensions":["event:page"],
                         "order_by":[["event:page","desc"]],"pagination":{"limit":1,"offset":1}})");
  ASSERT_EQ(ordered["results"].size(), 1u);
  EXPECT_EQ(ordered["results"][0]["dimensions"][0], "/a") << "/b, /a, / with the first skipped";

  auto sources = Run(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visits"],"dimensions":["visit:source"],
                         "filters":[["is","event:page",["/b"]]]})");
  ASSERT_EQ(sources["results"].size(), 1u);
  EXPECT_EQ(sources["results"][0]["dimensions"][0], "Bing");

  auto goals = Run(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["events"],"dimensions":["event:goal"]})");
  EXPECT_EQ(goals["results"][0]["dimensions"][0], "Poll answer");

  auto days =
      Run(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors","pageviews"],"dimensions":["time:day"]})");
  ASSERT_EQ(days["results"].size(), 7u);
  EXPECT_EQ(days["results"][4]["dimensions"][0], "2027-01-01");
  EXPECT_EQ(days["results"][4]["metrics"], nlohmann::json::parse("[2, 4]"));
}

TEST_F(QueryTest, WhatItCannotAnswerIsSaidPlainly) {
  EXPECT_NE(Error("not json").find("request"), std::string::npos);
  EXPECT_NE(Error(R"({"site_id":"gov.uk","date_range":"7d","metrics":["visitors"]})").find("site_id"),
            std::string::npos);
  EXPECT_NE(Error(R"({"site_id":"ons.gov.uk","metrics":["visitors"]})").find("date_range"), std::string::npos);
  EXPECT_NE(Error(R"({"site_id":"ons.gov.uk","date_range":"6mo","metrics":["visitors"]})").find("date_range"),
            std::string::npos);
  auto says = [&](const std::string& rest, const std::string& what) {
    std::string message = Error(R"({"site_id":"ons.gov.uk","date_range":"7d",)" + rest + "}");
    EXPECT_NE(message.find(what), std::string::npos) << rest << ": " << message;
  };
  says(R"("metrics":["conversion_rate"])", "not available");
  says(R"("metrics":["visitors"],"dimensions":["event:props:a b"])", "not supported");
  says(R"("metrics":["visitors"],"dimensions":["time","time:day"])", "one time dimension");
  says(R"("metrics":["visitors"],"dimensions":["event:page","event:page"])", "named twice");
  says(R"("metrics":["visitors"],"dimensions":["event:page","visit:source","visit:os","visit:device","time"])",
       "four at most");
  says(R"("metrics":["visitors"],"filters":[["is","time:day",["2027-01-01"]]])", "time dimensions cannot");
  says(R"("metrics":["visitors"],"filters":[["has_done","event:goal",["Poll answer"]]])", "not supported");
  says(R"("metrics":["visitors"],"filters":[["matches","event:page",["("]]])", "not a regular expression");
  // Patterns are PCRE2's on either store: a named group is one.
  auto named = Run(R"j({"site_id":"ons.gov.uk","date_range":"7d","metrics":["pageviews"],
                        "filters":[["matches","event:page",["(?P<x>a)"]]]})j");
  EXPECT_EQ(named["results"][0]["metrics"][0], 2);
  says(R"("metrics":["visitors"],"filters":[["contains","event:page",[""]]])", "not empty");
  says(R"("metrics":["visitors"],"filters":[["is","event:page",["/"],{"case":1}]])", "case_sensitive");
  says(R"("metrics":["visitors"],"filters":[["or",[]]])", "filters");
  says(R"("metrics":["visitors"],"filters":[["is","visit:nowhere",["x"]]])", "not a dimension");
  says(R"("metrics":["visitors"],"include":{"imports":true})", "no imported statistics");
  says(R"("metrics":["visitors"],"include":{"everything":true})", "not supported");
  std::string deep = R"(["is","event:page",["/"]])";
  for (int i = 0; i < 9; ++i) deep = R"(["not",)" + deep + "]";
  says(R"("metrics":["visitors"],"filters":[)" + deep + "]", "8 deep");
  EXPECT_NE(Error(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors"],"pagination":{"limit":5000}})")
                .find("limit"),
            std::string::npos);
  EXPECT_NE(
      Error(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors"],"sneaky":1})").find("unknown field"),
      std::string::npos);
}

// What the dashboard's own queries do not answer is counted from the events, as Plausible counts:
// the fixture by hand.
TEST_F(QueryTest, SeveralDimensionsAtOnce) {
  auto out = Run(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors","pageviews"],
                     "dimensions":["visit:source","event:page"]})");
  EXPECT_EQ(out["results"], nlohmann::json::parse(R"([
    {"dimensions":["Google","/"],"metrics":[2,2]},
    {"dimensions":["Bing","/b"],"metrics":[1,1]},
    {"dimensions":["Direct / None","/a"],"metrics":[1,1]},
    {"dimensions":["Google","/a"],"metrics":[1,1]}])"))
      << out.dump();
  // Visit metrics by page: each visit with the page once, with the whole visit's figures.
  auto pages = Run(R"({"site_id":"ons.gov.uk","date_range":"7d","dimensions":["event:page"],
                       "metrics":["visits","bounce_rate","visit_duration","views_per_visit"],
                       "include":{"total_rows":true},"pagination":{"limit":1,"offset":1}})");
  EXPECT_EQ(pages["results"], nlohmann::json::parse(R"([{"dimensions":["/a"],"metrics":[2,50,60,1]}])"))
      << pages.dump();
  EXPECT_EQ(pages["meta"]["total_rows"], 3);
  auto shares = Run(R"({"site_id":"ons.gov.uk","date_range":"7d","dimensions":["visit:source"],
                        "metrics":["visitors","percentage"]})");
  EXPECT_EQ(shares["results"], nlohmann::json::parse(R"([
    {"dimensions":["Google"],"metrics":[2,66.67]},
    {"dimensions":["Bing"],"metrics":[1,33.33]},
    {"dimensions":["Direct / None"],"metrics":[1,33.33]}])"))
      << shares.dump();
}

TEST_F(QueryTest, FiltersOfEveryKind) {
  auto headline = [&](const std::string& filters) {
    auto out = Run(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors","visits","pageviews","events"],
                       "filters":)" +
                   filters + "}");
    return out["results"][0]["metrics"];
  };
  // Event filters keep the events that match; visits and visitors are those with one.
  EXPECT_EQ(headline(R"([["contains","event:page",["a"]]])"), nlohmann::json::parse("[1, 2, 2, 2]"));
  EXPECT_EQ(headline(R"([["contains","event:page",["A"],{"case_sensitive":false}]])"),
            nlohmann::json::parse("[1, 2, 2, 2]"));
  EXPECT_EQ(headline(R"([["contains","event:page",["A"]]])"), nlohmann::json::parse("[0, 0, 0, 0]"));
  EXPECT_EQ(headline(R"([["is","event:page",["/a","/b"]]])"), nlohmann::json::parse("[2, 3, 3, 4]"));
  EXPECT_EQ(headline(R"([["matches","event:page",["^/[ab]$"]]])"), nlohmann::json::parse("[2, 3, 3, 4]"));
  EXPECT_EQ(headline(R"([["matches","event:page",["^/[AB]$"],{"case_sensitive":false}]])"),
            nlohmann::json::parse("[2, 3, 3, 4]"));
  EXPECT_EQ(headline(R"([["matches_not","event:page",["^/[ab]$"]]])"), nlohmann::json::parse("[2, 2, 2, 2]"));
  // Visit filters keep every event of the visits that match.
  EXPECT_EQ(headline(R"([["is","visit:source",["Bing"]]])"), nlohmann::json::parse("[1, 1, 1, 2]"));
  EXPECT_EQ(headline(R"([["is_not","visit:source",["Google"]]])"), nlohmann::json::parse("[2, 2, 2, 3]"));
  EXPECT_EQ(headline(R"([["not",["is","visit:source",["Google"]]]])"), nlohmann::json::parse("[2, 2, 2, 3]"));
  EXPECT_EQ(headline(R"([["or",[["is","visit:source",["Bing"]],["is","event:page",["/"]]]]])"),
            nlohmann::json::parse("[3, 3, 3, 4]"));
  EXPECT_EQ(headline(R"([["and",[["is","visit:source",["Google"]],["is","event:page",["/"]]]]])"),
            nlohmann::json::parse("[2, 2, 2, 2]"));
  EXPECT_EQ(headline(R"([["is","visit:source",["Google"]],["is","visit:entry_page",["/"]],
                          ["is","visit:exit_page",["/a"]]])"),
            nlohmann::json::parse("[1, 1, 2, 2]"));
  // Custom properties: grouped, "(none)" where an event has none, and filtered.
  auto answers = Run(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors","events"],
                         "dimensions":["event:props:answer"]})");
  EXPECT_EQ(answers["results"], nlohmann::json::parse(R"j([
    {"dimensions":["(none)"],"metrics":[3,5]},
    {"dimensions":["yes"],"metrics":[1,1]}])j"))
      << answers.dump();
  EXPECT_EQ(headline(R"([["is","event:props:answer",["yes"]]])"), nlohmann::json::parse("[1, 1, 0, 1]"));
}

TEST_F(QueryTest, TimeByTheHourWeekAndMonth) {
  auto hours = Run(R"({"site_id":"ons.gov.uk","date_range":["2027-01-01","2027-01-01"],"metrics":["pageviews"],
                       "dimensions":["time:hour"],"include":{"time_labels":true}})");
  EXPECT_EQ(hours["results"], nlohmann::json::parse(R"([
    {"dimensions":["2027-01-01 08:00:00"],"metrics":[3]},
    {"dimensions":["2027-01-01 09:00:00"],"metrics":[1]}])"))
      << hours.dump();
  ASSERT_EQ(hours["meta"]["time_labels"].size(), 24u);
  EXPECT_EQ(hours["meta"]["time_labels"][0], "2027-01-01 00:00:00");
  auto same = Run(R"({"site_id":"ons.gov.uk","date_range":["2027-01-01","2027-01-01"],"metrics":["pageviews"],
                      "dimensions":["time"]})");
  EXPECT_EQ(same["results"], hours["results"]) << "time over a day is by the hour";
  auto weeks = Run(R"({"site_id":"ons.gov.uk","date_range":["2026-12-20","2027-01-03"],"metrics":["pageviews"],
                       "dimensions":["time:week"],"include":{"time_labels":true}})");
  EXPECT_EQ(weeks["results"], nlohmann::json::parse(R"([{"dimensions":["2026-12-28"],"metrics":[5]}])"))
      << "the week of Monday 28 December";
  EXPECT_EQ(weeks["meta"]["time_labels"], nlohmann::json::parse(R"(["2026-12-20","2026-12-21","2026-12-28"])"))
      << "a week that began before the range is labelled by the range's first day";
  auto months = Run(R"({"site_id":"ons.gov.uk","date_range":["2026-11-15","2027-01-31"],"metrics":["visitors"],
                        "dimensions":["time:month","visit:source"],"include":{"time_labels":true}})");
  EXPECT_EQ(months["results"], nlohmann::json::parse(R"([
    {"dimensions":["2027-01-01","Google"],"metrics":[2]},
    {"dimensions":["2027-01-01","Bing"],"metrics":[1]},
    {"dimensions":["2027-01-01","Direct / None"],"metrics":[1]}])"))
      << months.dump();
  EXPECT_EQ(months["meta"]["time_labels"], nlohmann::json::parse(R"(["2026-11-01","2026-12-01","2027-01-01"])"));
}

// A dashboard-shaped request is answered from the rollups (filtered by a country or a device, from
// its segment); the same asked with a total is answered from the events: both agree.
TEST_F(QueryTest, TheRollupsAndTheEventsAgree) {
  PlaceVisitors();
  FakeClock clock(SystemTime(std::chrono::milliseconds(kT0 + 2 * kDay)));
  Rollups rollups(site_.store(), clock);
  ASSERT_TRUE(rollups.RollDue("ons.gov.uk").ok());
  for (auto [d, filter] :
       std::vector<std::pair<const char*, std::string>>{{"event:page", ""},
                                                        {"event:goal", ""},
                                                        {"visit:entry_page", ""},
                                                        {"visit:exit_page", ""},
                                                        {"visit:source", ""},
                                                        {"visit:browser", ""},
                                                        {"visit:device", ""},
                                                        {"visit:country", ""},
                                                        {"time:day", ""},
                                                        {"event:page", R"(["is","visit:country",["GB"]])"},
                                                        {"visit:source", R"(["is","visit:country",["FR"]])"},
                                                        {"visit:country", R"(["is","visit:device",["Desktop"]])"},
                                                        {"time:day", R"(["is","visit:country",["GB"]])"},
                                                        {"event:page", R"(["is","visit:device",["Mobile"]])"}}) {
    const DimensionSpec* spec = FindDimension(d);
    ASSERT_NE(spec, nullptr);
    std::string body = std::string(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors",")") +
                       spec->count_metric + R"("],"dimensions":[")" + d + R"("])" +
                       (filter.empty() ? "" : ",\"filters\":[" + filter + "]");
    auto dashboard = Run(body + "}");
    auto events = Run(body + R"(,"include":{"total_rows":true}})");
    if (std::string(d) == "time:day") {
      // The events give the days that had any; the dashboard every day of the range.
      nlohmann::json had = nlohmann::json::array();
      for (const auto& row : dashboard["results"]) {
        if (row["metrics"][0] != 0) had.push_back(row);
      }
      EXPECT_EQ(had, events["results"]) << d << " " << filter;
      continue;
    }
    EXPECT_EQ(dashboard["results"], events["results"]) << d << " " << filter;
  }
  // Filtered by a page, a visit's attributes give the visitors (and, where the dashboard counts
  // them, the visits) of the visits that saw it; the page's own pageviews are in no rollup, so a
  // request for them is the events'.
  for (auto [d, metrics] : std::vector<std::pair<const char*, const char*>>{{"visit:source", R"("visitors","visits")"},
                                                                            {"visit:entry_page", R"("visits")"},
                                                                            {"visit:exit_page", R"("visitors")"},
                                                                            {"visit:referrer", R"("visitors")"},
                                                                            {"visit:browser", R"("visitors")"},
                                                                            {"visit:country", R"("visitors")"},
                                                                            {"visit:device", R"("visitors")"}}) {
    for (const char* page : {"/", "/a", "/nowhere"}) {
      std::string body = std::string(R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":[)") + metrics +
                         R"(],"dimensions":[")" + d + R"("],"filters":[["is","event:page",[")" + page + R"("]]])";
      auto request = ReadQuery(body + "}", {"ons.gov.uk"}, clock.Now());
      ASSERT_TRUE(request.ok()) << body;
      EXPECT_TRUE(request->dashboard) << d << " " << page;
      auto dashboard = Run(body + "}");
      EXPECT_EQ(dashboard["results"], Run(body + R"(,"include":{"total_rows":true}})")["results"]) << d << " " << page;
      // Two visits saw "/", both from Google; the fixture keeps no referrer.
      if (std::string_view(page) == "/" && std::string_view(d) != "visit:referrer") {
        EXPECT_FALSE(dashboard["results"].empty()) << d;
      }
    }
  }
  for (const char* asks : {R"("metrics":["visitors","pageviews"],"dimensions":["visit:browser"])",
                           R"("metrics":["visitors"],"dimensions":["event:page"])",
                           R"("metrics":["visitors"],"dimensions":["event:goal"])"}) {
    auto request = ReadQuery(std::string(R"({"site_id":"ons.gov.uk","date_range":"7d",)") + asks +
                                 R"(,"filters":[["is","event:page",["/"]]]})",
                             {"ons.gov.uk"}, clock.Now());
    ASSERT_TRUE(request.ok()) << asks;
    EXPECT_FALSE(request->dashboard) << asks;
  }
  // The headline too; filtered by a page, its pageviews are the page's own.
  for (const char* filter :
       {R"(["is","visit:country",["GB"]])", R"(["is","visit:device",["Mobile"]])", R"(["is","event:page",["/"]])",
        R"(["is","event:page",["/a"]])", R"(["is","event:page",["/nowhere"]])"}) {
    std::string body =
        std::string(R"({"site_id":"ons.gov.uk","date_range":"7d",)") +
        R"("metrics":["visitors","visits","pageviews","views_per_visit","bounce_rate","visit_duration"],"filters":[)" +
        filter + "]";
    EXPECT_EQ(Run(body + "}")["results"], Run(body + R"(,"include":{"total_rows":true}})")["results"]) << filter;
  }
}

TEST_F(QueryTest, OverHttpWithBearerKeysThatCanBeRevoked) {
  FakeClock clock(SystemTime(std::chrono::milliseconds(kT0 + 2 * kDay)));
  ApiKeys keys(site_.store(), site_.key(), clock);
  metrics::Registry registry;
  QueryApi api(stats_, keys, {"ons.gov.uk"}, clock, &registry);
  http::Router router;
  api.AddRoutes(router);
  http::Server server(http::ServerOptions{}, std::move(router));
  ASSERT_TRUE(server.Start().ok());
  const std::string body = R"({"site_id":"ons.gov.uk","date_range":"7d","metrics":["visitors"]})";
  auto post = [&](const std::string& auth, const std::string& b) {
    std::vector<http::HeaderField> h = {{"Content-Type", "application/json"}};
    if (!auth.empty()) h.push_back({"Authorization", auth});
    return http::testing::Fetch(server.port(), "POST", "/api/v2/query", h, b);
  };
  auto none = post("", body);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->Header("WWW-Authenticate"), "Bearer");
  EXPECT_NE(none->body.find("\"error\""), std::string::npos);

  auto made = keys.Create("Performance dashboard", "staff:1");
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->secret.rfind("stw_", 0), 0u);
  EXPECT_EQ(made->secret.size(), 52u);
  EXPECT_EQ(post("Bearer stw_" + std::string(48, '0'), body)->status, 401);
  auto ok = post("Bearer " + made->secret, body);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(nlohmann::json::parse(ok->body)["results"][0]["metrics"][0], 3);
  EXPECT_EQ(post("Bearer " + made->secret, "{")->status, 400);

  // The use is noted in the background (Submit): a write queued after it commits after it.
  ASSERT_TRUE(site_.store().Write([](store::Connection&) -> Status { return Ok(); }).ok());
  // Only a keyed hash is kept; the key itself is nowhere in the database.
  auto list = keys.List().value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].prefix, made->secret.substr(0, 8));
  EXPECT_FALSE(list[0].last_used_at.empty()) << "the use is noted";
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT * FROM analytics_api_keys"));
                    for (size_t i = 0; i < rows.front().size(); ++i) {
                      EXPECT_EQ(rows.front().Text(i).find(made->secret.substr(8)), std::string::npos);
                    }
                    return Ok();
                  })
                  .ok());

  ASSERT_TRUE(keys.Revoke(made->key.id).ok());
  EXPECT_EQ(keys.Revoke(made->key.id).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(post("Bearer " + made->secret, body)->status, 401) << "revoked keys never work again";
  EXPECT_FALSE(keys.Create("", "staff:1").ok());
  EXPECT_NE(registry.Render().find("steward_analytics_api_queries_total{outcome=\"unauthorised\"} 3"),
            std::string::npos);
}

}  // namespace
}  // namespace steward::analytics
