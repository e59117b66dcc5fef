// bench-query's timer: rolls what is due, then times the 30-day dashboard queries against a site's
// database, each ROUNDS times, and prints each one's median. The reference, timed in the same run,
// is the raw-event headline query the rollups replace.
//
//   steward_query_bench DB SITE [ROUNDS]      DB: a SQLite file, or a PostgreSQL URL
//   steward_query_bench DB SITE --api BODY    one Stats API request, as it is: its time and answer
//                                             (nothing rolled; for a copy of a site's database)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "analytics/query_api.h"
#include "analytics/rollups.h"
#include "analytics/stats.h"
#include "core/clock.h"
#include "store/store.h"
#include "record.h"

using namespace steward;
using Steady = std::chrono::steady_clock;

namespace {

double MedianMs(int rounds, const std::function<bool()>& run) {
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = Steady::now();
    if (!run()) return -1;
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || (argc > 3 && std::string(argv[3]) == "--api" && argc != 5)) {
    std::fprintf(stderr,
                 "usage: steward_query_bench DB SITE [ROUNDS]\n       steward_query_bench DB SITE --api BODY\n");
    return 2;
  }
  std::string site = argv[2];
  bool one_request = argc > 3 && std::string(argv[3]) == "--api";
  int rounds = argc > 3 && !one_request ? std::max(1, std::atoi(argv[3])) : 7;
  // A SQLite file, or a PostgreSQL URL or key=value string.
  std::string db = argv[1];
  store::Options options{.path = db, .readers = 2, .check_integrity = false};
  if (db.starts_with("postgresql://") || db.find('=') != std::string::npos) {
    options.backend = store::Backend::kPostgresql;
    options.postgresql.url = db;
  }
  auto store = store::Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", argv[1], store.error().message.c_str());
    return 1;
  }
  if (one_request) {
    analytics::Stats stats(**store);
    auto t0 = Steady::now();
    auto answer = analytics::RunQuery(stats, {site}, argv[4], SystemClock::Instance().Now());
    double ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
    std::printf("%.1f ms\n%s\n", ms, answer.ok() ? answer->c_str() : answer.error().message.c_str());
    return answer.ok() ? 0 : 1;
  }
  analytics::Rollups rollups(**store, SystemClock::Instance());
  auto t0 = Steady::now();
  auto rolled = rollups.RollDue(site);
  if (!rolled.ok()) {
    std::fprintf(stderr, "rolling failed: %s\n", rolled.error().message.c_str());
    return 1;
  }
  double rolling_s = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf("rolled %lld hours in %.1f s\n", static_cast<long long>(*rolled), rolling_s);
  if (*rolled > 0)
    bench::Record("rolling, per hour", rolling_s * 1000 / static_cast<double>(*rolled), "ms", bench::kLower);

  int64_t today = UnixMillis(SystemClock::Instance().Now()) / analytics::kDayMillis;
  analytics::Query q{
      .site = site, .from_ms = (today - 29) * analytics::kDayMillis, .to_ms = (today + 1) * analytics::kDayMillis};
  analytics::Stats stats(**store);
  std::vector<double> medians;
  auto report = [&](const std::string& name, double ms) {
    std::printf("  %-28s median %8.1f ms\n", name.c_str(), ms);
    if (ms < 0) std::exit(1);
    bench::Record(name + ", median", ms, "ms", bench::kLower, "< 50");
    medians.push_back(ms);
  };
  std::printf("30-day dashboard queries (%d rounds each):\n", rounds);
  report("headline", MedianMs(rounds, [&] { return stats.Aggregate(q).ok(); }));
  report("daily series", MedianMs(rounds, [&] { return stats.Daily(q).ok(); }));
  for (auto d : {analytics::Dimension::kPage, analytics::Dimension::kEntryPage, analytics::Dimension::kExitPage,
                 analytics::Dimension::kSource, analytics::Dimension::kReferrer, analytics::Dimension::kCampaign,
                 analytics::Dimension::kCountry, analytics::Dimension::kDevice, analytics::Dimension::kBrowser,
                 analytics::Dimension::kOs, analytics::Dimension::kEvent, analytics::Dimension::kEventProperty,
                 analytics::Dimension::kSearch, analytics::Dimension::kEngagement}) {
    report("top " + std::string(analytics::DimensionName(d)),
           MedianMs(rounds, [&] { return stats.Breakdown(q, d).ok(); }));
  }
  // A filtered dashboard: its headline, days and every table, each query timed, nothing kept from
  // the round before (a fresh Stats: the filtered pass, or a segment's tail, made afresh).
  std::printf("filtered dashboards, every table (%d rounds each):\n", std::min(rounds, 3));
  auto filtered_dashboard = [&](const std::string& name, analytics::Query f) {
    std::vector<std::vector<double>> each;  // per round, each query's ms
    for (int round = 0; round < std::min(rounds, 3); ++round) {
      analytics::Stats fresh(**store);
      std::vector<std::function<bool()>> queries{[&] { return fresh.Aggregate(f).ok(); },
                                                 [&] { return fresh.Daily(f).ok(); }};
      for (int d = 0; d <= static_cast<int>(analytics::Dimension::kEngagement); ++d)
        queries.push_back([&, d] { return fresh.Breakdown(f, static_cast<analytics::Dimension>(d)).ok(); });
      each.emplace_back();
      for (const auto& query : queries) {
        double ms = MedianMs(1, query);
        if (ms < 0) std::exit(1);
        each.back().push_back(ms);
      }
    }
    std::vector<double> totals, slowest;
    for (const auto& r : each) {
      double total = 0, worst = 0;
      for (double ms : r) total += ms, worst = std::max(worst, ms);
      totals.push_back(total);
      slowest.push_back(worst);
    }
    std::sort(totals.begin(), totals.end());
    std::sort(slowest.begin(), slowest.end());
    double total = totals[totals.size() / 2], worst = slowest[slowest.size() / 2];
    std::printf("  %-44s median %8.1f ms, the slowest query %8.1f ms\n", name.c_str(), total, worst);
    bench::Record(name + ", every table, median", total, "ms", bench::kLower);
    return worst;
  };
  analytics::Query by_country = q;
  by_country.country = "GB";
  double country_worst = filtered_dashboard("country is GB", by_country);
  bench::Record("country is GB, the slowest query, median", country_worst, "ms", bench::kLower, "< 50");
  medians.push_back(country_worst);
  analytics::Query by_device = q;
  by_device.device = "Mobile";
  double device_worst = filtered_dashboard("device is Mobile", by_device);
  bench::Record("device is Mobile, the slowest query, median", device_worst, "ms", bench::kLower, "< 50");
  medians.push_back(device_worst);
  analytics::Query by_page = q;
  by_page.page = "/economy/page0";
  filtered_dashboard("page is /economy/page0", by_page);
  analytics::Query one_table = by_country;
  one_table.raw = true;
  double one = MedianMs(1, [&] { return stats.Breakdown(one_table, analytics::Dimension::kPage).ok(); });
  std::printf("  %-44s median %8.1f ms\n", "reference: one table from its own SQL", one);
  bench::Record("reference: a filtered table from its own SQL", one, "ms", bench::kLower);

  // The Stats API: the dashboard's shape (from the rollups), and queries counted from the events.
  analytics::Stats api_stats(**store);
  auto api = [&](const std::string& name, const std::string& body, int n) {
    double ms = MedianMs(n, [&] {
      auto r = analytics::RunQuery(api_stats, {site}, body, SystemClock::Instance().Now());
      if (!r.ok()) std::fprintf(stderr, "%s: %s\n", name.c_str(), r.error().message.c_str());
      return r.ok();
    });
    std::printf("  %-44s median %8.1f ms\n", name.c_str(), ms);
    if (ms < 0) std::exit(1);
    return ms;
  };
  std::printf("Stats API, 30 days:\n");
  double api_pages = api("top pages (the dashboard's shape)",
                         R"({"site_id":")" + site +
                             R"(","date_range":"30d","metrics":["visitors","pageviews"],"dimensions":["event:page"]})",
                         rounds);
  bench::Record("api: top pages, median", api_pages, "ms", bench::kLower, "< 50");
  medians.push_back(api_pages);
  int explore_rounds = std::min(rounds, 3);
  double by_source_page = api("sources by page (from the events)",
                              R"({"site_id":")" + site +
                                  R"(","date_range":"30d","metrics":["visitors","visits"],)"
                                  R"("dimensions":["visit:source","event:page"],"pagination":{"limit":10}})",
                              explore_rounds);
  bench::Record("api: sources by page, from the events, median", by_source_page, "ms", bench::kLower);
  double hourly = api("pageviews by hour, 7 days, page contains (from the events)",
                      R"({"site_id":")" + site +
                          R"(","date_range":"7d","metrics":["visitors","pageviews","bounce_rate"],)"
                          R"("dimensions":["time:hour"],"filters":[["contains","event:page",["economy"]]]})",
                      explore_rounds);
  bench::Record("api: pageviews by hour, page contains, from the events, median", hourly, "ms", bench::kLower);
  double answers = api("poll answers by device, country matches (from the events)",
                       R"({"site_id":")" + site +
                           R"(","date_range":"30d","metrics":["visitors","events"],)"
                           R"("dimensions":["event:props:answer","visit:device"],)"
                           R"("filters":[["matches","visit:country",["^C[12]"]]]})",
                       explore_rounds);
  bench::Record("api: a property by device, country matches, from the events, median", answers, "ms", bench::kLower);
  double filtered = api("top pages, country is GB (its segment)",
                        R"({"site_id":")" + site +
                            R"(","date_range":"30d","metrics":["visitors","pageviews"],"dimensions":["event:page"],)"
                            R"("filters":[["is","visit:country",["GB"]]]})",
                        rounds);
  bench::Record("api: top pages filtered by country, median", filtered, "ms", bench::kLower, "< 50");
  medians.push_back(filtered);
  double api_by_page = api("headline, page is /economy/page0 (its segment)",
                           R"({"site_id":")" + site +
                               R"(","date_range":"30d","metrics":["visitors","visits","pageviews","bounce_rate"],)"
                               R"("filters":[["is","event:page",["/economy/page0"]]]})",
                           rounds);
  bench::Record("api: headline filtered by page, median", api_by_page, "ms", bench::kLower, "< 50");
  medians.push_back(api_by_page);
  double api_sources_by_page =
      api("sources, page is /economy/page0 (its segment)",
          R"({"site_id":")" + site +
              R"(","date_range":"30d","metrics":["visitors","visits"],"dimensions":["visit:source"],)"
              R"("filters":[["is","event:page",["/economy/page0"]]]})",
          rounds);
  bench::Record("api: sources filtered by page, median", api_sources_by_page, "ms", bench::kLower, "< 50");
  medians.push_back(api_sources_by_page);
  analytics::Query raw = q;
  raw.raw = true;
  double reference = MedianMs(std::min(rounds, 3), [&] { return stats.Aggregate(raw).ok(); });
  std::printf("reference: the headline from the raw events   median %8.1f ms\n", reference);
  bench::Record("reference: the headline from the raw events", reference, "ms", bench::kLower);
  double worst = *std::max_element(medians.begin(), medians.end());
  bench::Record("slowest dashboard query", worst, "ms", bench::kLower, "< 50");
  std::printf(
      "slowest dashboard query (unfiltered, by country or device, or a page's through the API): %.1f ms "
      "(aim: under 50 ms); "
      "raw/rollup headline ratio: %.0fx\n",
      worst, reference / std::max(medians.front(), 0.001));
  return 0;
}
