// Importing a log file into statistics: counts by hand, skipped lines with reasons, and a file
// imported twice (or grown) counted once.
#include "logs/import.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/strings.h"
#include "logs/security.h"
#include "logs/stats.h"
#include "retention/testing/batches.h"
#include "store/testing/plan.h"
#include "store/testing/scalar.h"
#include "store/testing/scratch.h"

namespace steward::logs {
namespace {

constexpr const char* kFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

std::string Line(const std::string& ip, const std::string& when, const std::string& request, int status, int bytes,
                 const std::string& referrer = "-", const std::string& ua = kFirefox) {
  return ip + " - - [" + when + "] \"" + request + "\" " + std::to_string(status) + " " + std::to_string(bytes) +
         " \"" + referrer + "\" \"" + ua + "\"\n";
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::Init().ok()); }
  std::string Write(const std::string& text, bool append = false) {
    std::string path = (site_.dir() / "access.log").string();
    std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
    out << text;
    return path;
  }
  LogReport ReportAll() {
    auto r = Report(site_.store(), 0, 4'102'444'800'000);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : LogReport{};
  }

  store::testing::ScratchSite site_{Migrations()};
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  LogFormat combined_ = *LogFormat::Preset("combined");
};

TEST_F(ImportTest, CountsByHandAndSkipsBadLinesWithReasons) {
  std::string log =
      Line("203.0.113.5", "01/Dec/2026:10:00:00 +0000", "GET /index.html HTTP/1.1", 200, 512,
           "https://www.google.com/search") +
      Line("203.0.113.5", "01/Dec/2026:10:00:01 +0000", "GET /style.css HTTP/1.1", 200, 100) +
      Line("198.51.100.7", "01/Dec/2026:11:00:00 +0100", "GET /missing?x=1 HTTP/1.1", 404, 0, "-", "curl/7.88.1") +
      "garbage line here\n" +
      Line("2001:db8::1", "02/Dec/2026:00:00:00 +0000", "POST /login HTTP/1.1", 302, 0, "-",
           "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)") +
      Line("203.0.113.5", "02/Dec/2026:09:00:00 +0000", "GET /index.html?utm=x HTTP/1.1", 200, 512) +
      "1.2.3.4 - - [02/Dec/2026:09:00:00 +0000] \"GET / HTTP/1.1\" 2000 1 \"-\" \"x\"\n";
  auto edge = edge::LoadEdge(std::string(STEWARD_SOURCE_DIR) + "/web");
  ASSERT_TRUE(edge.ok()) << edge.error().message;
  Importer importer(site_.store(), site_.key(), clock_, edge->agents.get());
  auto s = importer.ImportFile(Write(log), combined_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->lines, 7);
  EXPECT_EQ(s->imported, 5);
  EXPECT_EQ(s->skipped, 2);
  ASSERT_EQ(s->reasons.size(), 2u);
  EXPECT_EQ(s->reasons["does not match the format"].count, 1);
  EXPECT_EQ(s->reasons["does not match the format"].samples.at(0), "garbage line here");
  EXPECT_EQ(s->reasons["bad status"].count, 1);

  LogReport r = ReportAll();
  EXPECT_EQ(r.total_requests, 7);
  EXPECT_EQ(r.valid_requests, 5);
  EXPECT_EQ(r.failed_requests, 2);
  EXPECT_EQ(r.unique_visitors, 3) << "203.0.113.5 on each day and the crawler; the 404 is no visitor";
  EXPECT_EQ(r.bandwidth, 1124);
  EXPECT_EQ(r.start_date, "2026-12-01");
  EXPECT_EQ(r.end_date, "2026-12-02");
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].key, "/index.html") << "without its query string";
  EXPECT_EQ(r.requests[0].hits, 2);
  EXPECT_EQ(r.requests[0].visitors, 2);
  ASSERT_EQ(r.static_requests.size(), 1u);
  EXPECT_EQ(r.static_requests[0].key, "/style.css");
  ASSERT_EQ(r.not_found.size(), 1u);
  EXPECT_EQ(r.not_found[0].key, "/missing");
  EXPECT_EQ(r.not_found[0].visitors, 0);
  ASSERT_EQ(r.referring_sites.size(), 1u);
  EXPECT_EQ(r.referring_sites[0].key, "google.com");
  ASSERT_EQ(r.status_codes.size(), 3u);
  EXPECT_EQ(r.status_codes[0].key, "200");
  EXPECT_EQ(r.status_codes[0].hits, 3);
  ASSERT_EQ(r.browsers.size(), 1u);
  EXPECT_EQ(r.browsers[0].key, "Firefox 128");
  EXPECT_EQ(r.browsers[0].hits, 3);
  EXPECT_EQ(r.os[0].key, "Linux");
  ASSERT_EQ(r.crawlers.size(), 2u) << "crawlers and scripts apart from browsers";
  EXPECT_EQ(r.crawlers[0].key, "Googlebot");
  ASSERT_EQ(r.visit_time.size(), 24u) << "every hour of the day";
  EXPECT_EQ(r.visit_time[10].key, "10");
  EXPECT_EQ(r.visit_time[10].hits, 3) << "11:00 at +01:00 is 10:00 UTC";
  EXPECT_EQ(r.visit_time[0].hits, 1);
  EXPECT_EQ(r.visit_time[9].hits, 1);
  EXPECT_EQ(r.visit_time[11].hits, 0);
  ASSERT_EQ(r.visitors.size(), 2u);
  EXPECT_EQ(r.visitors[0].key, "2026-12-01");
  EXPECT_EQ(r.visitors[0].hits, 3);

  // No IP address and no user agent anywhere in the database.
  ASSERT_TRUE(
      site_.store()
          .Read([&](store::Connection& c) -> Status {
            for (const char* table : {"logs_rollups", "logs_visitors", "logs_files", "logs_imports"}) {
              STEWARD_RETURN_IF_ERROR(c.ForEach(std::string("SELECT * FROM ") + table, {}, [&](const store::Row& row) {
                for (size_t i = 0; i < row.size(); ++i) {
                  std::string v = row.Text(i);
                  if (const auto* b = std::get_if<store::Blob>(&row.at(i))) v = b->bytes;
                  EXPECT_EQ(v.find("203.0.113"), std::string::npos) << table;
                  EXPECT_EQ(v.find("2001:db8"), std::string::npos) << table;
                  EXPECT_EQ(v.find("Gecko/20100101"), std::string::npos) << table << ": the user agent itself";
                }
                return true;
              }));
            }
            return Ok();
          })
          .ok());
}

// Bytes that are not UTF-8 in a log line (a path and a user agent), and a path cut inside a
// character: the report holds U+FFFD for them and its JSON is written.
TEST_F(ImportTest, InvalidUtf8InALogLineNeverBreaksTheReport) {
  std::string long_path = "/" + std::string(998, 'a') + "\xC3\xA9";  // the cut at 1,000 bytes falls inside "é"
  std::string log = Line("203.0.113.5", "01/Dec/2026:10:00:00 +0000", "GET /caf\xFF\xFE HTTP/1.1", 200, 5) +
                    Line("203.0.113.5", "01/Dec/2026:10:00:01 +0000", "GET " + long_path + " HTTP/1.1", 200, 5) +
                    Line("203.0.113.6", "01/Dec/2026:10:00:02 +0000", "GET /x HTTP/1.1", 200, 5, "-", "bot\xC0\xAF");
  auto edge = edge::LoadEdge(std::string(STEWARD_SOURCE_DIR) + "/web");
  ASSERT_TRUE(edge.ok()) << edge.error().message;
  Importer importer(site_.store(), site_.key(), clock_, edge->agents.get());
  auto s = importer.ImportFile(Write(log), combined_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->imported, 3);
  LogReport r = ReportAll();
  std::string json;
  ASSERT_NO_THROW(json = ReportJson(r));
  EXPECT_TRUE(IsUtf8(json));
  EXPECT_NE(json.find("/caf\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos);
  EXPECT_NE(json.find("\"/" + std::string(998, 'a') + "\""), std::string::npos) << "cut before the character";
}

// IIS writes a new W3C file each day, each starting with the same "#Software:" line: each file is
// known by its first request instead, so none is taken for one already read.
TEST_F(ImportTest, DailyW3cFilesWithTheSameHeaderAreEachCounted) {
  auto w3c = *LogFormat::Preset("w3c");
  Importer importer(site_.store(), site_.key(), clock_);
  auto day = [](int d) {
    std::string date = "2026-12-0" + std::to_string(d);
    std::string text = "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: " + date +
                       " 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
                       "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n";
    for (int i = 0; i < 3; ++i) {
      text += date + " 10:00:0" + std::to_string(i) + " 10.0.0.1 GET /page" + std::to_string(i) +
              " - 443 - 203.0.113." + std::to_string(d) + " Mozilla/5.0+Firefox - 200 0 0 15\n";
    }
    return text;
  };
  for (int d = 1; d <= 3; ++d) {
    std::string path = (site_.dir() / ("u_ex26120" + std::to_string(d) + ".log")).string();
    std::ofstream(path) << day(d);
    auto s = importer.ImportFile(path, w3c);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->imported, 3) << "day " << d;
    EXPECT_EQ(s->bytes_already, 0) << "day " << d;
  }
  EXPECT_EQ(ReportAll().total_requests, 9);
}

// Lines older than the register keeps access logs for are skipped with that reason, and kept
// nowhere.
TEST_F(ImportTest, LinesOlderThanTheRegisterKeepsAreNotTakenIn) {
  Importer importer(site_.store(), site_.key(), clock_);  // the clock says 15 January 2027
  importer.KeepFor(*processing::ParsePeriod("1 month"));
  std::string log = Line("203.0.113.5", "01/Dec/2026:10:00:00 +0000", "GET /old HTTP/1.1", 200, 5) +
                    Line("203.0.113.5", "20/Dec/2026:10:00:00 +0000", "GET /new HTTP/1.1", 200, 5);
  auto s = importer.ImportFile(Write(log), combined_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->imported, 1);
  EXPECT_EQ(s->skipped, 1);
  ASSERT_EQ(s->reasons.count("older than the register keeps access logs (1 month)"), 1u);
  LogReport r = ReportAll();
  EXPECT_EQ(r.total_requests, 1);
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.requests[0].key, "/new");
}

// The access-log statistics grow with the traffic, so retention deletes them in batches of at most
// the runner's limit, each by a range of a primary key: a backlog's batches never read again what
// the batches before them kept.
TEST_F(ImportTest, RetentionDeletesTheStatisticsInBatchesByTheirKeys) {
  Monitor monitor(SecurityRules{}, site_.key());
  Importer importer(site_.store(), site_.key(), clock_, nullptr, &monitor);
  std::string log;
  for (int day = 10; day <= 12; ++day) {
    std::string date = std::to_string(day) + "/Jan/2027:";
    for (int i = 0; i < 40; ++i) {
      log += Line("203.0.113." + std::to_string(i), date + std::to_string(10 + i % 5) + ":00:00 +0000",
                  "GET /page" + std::to_string(i) + " HTTP/1.1", 200, 100);
    }
    // An alert a client: the security dataset's records, which retention deletes with the rest.
    for (int i = 0; i < 8; ++i) {
      log += Line("198.51.100." + std::to_string(i), date + "16:00:00 +0000", "GET /.env HTTP/1.1", 404, 0);
    }
  }
  auto imported = importer.ImportFile(Write(log), combined_);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  ASSERT_EQ(imported->imported, 144);
  constexpr int64_t kJan12 = 1'799'712'000'000;  // 2027-01-12T00:00:00Z
  auto last_day = Report(site_.store(), kJan12, kJan12 + 86'400'000);
  ASSERT_TRUE(last_day.ok());
  auto count = [&](const std::string& sql) {
    auto n = store::testing::Scalar(site_.store(), sql);
    EXPECT_TRUE(n.ok()) << sql;
    return n.ok() ? *n : -1;
  };
  int64_t old_rows = count("SELECT count(*) FROM logs_rollups WHERE start < 1799712000000");
  int64_t old_visitors = count("SELECT count(*) FROM logs_visitors WHERE day < 20830");
  int64_t old_alerts = count("SELECT count(*) FROM logs_alerts WHERE last_ms < 1799712000000");
  int64_t kept_rows = count("SELECT count(*) FROM logs_rollups") - old_rows;
  ASSERT_GT(old_rows, 100) << "several batches' worth";
  ASSERT_EQ(old_visitors, 80) << "40 addresses a day";
  ASSERT_EQ(old_alerts, 16) << "8 clients a day";
  ASSERT_EQ(count("SELECT count(*) FROM logs_alerts"), 24);

  auto storage = Storage((site_.dir() / "raw").string());
  EXPECT_TRUE(storage.batched);
  int64_t would_go = -1;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(would_go, storage.purge(c, {}, "2027-01-12T00:00:00Z", "", true, 0));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(would_go, old_rows + old_visitors + old_alerts) << "a dry run counts what the purge deletes";
  store::testing::CaughtStatements deletes(
      {"DELETE FROM logs_alerts", "DELETE FROM logs_visitors", "DELETE FROM logs_rollups"});
  constexpr int64_t kLimit = 32;
  auto batches = retention::testing::PurgeInBatches(site_.store(), storage, "2027-01-12T00:00:00Z", kLimit);
  deletes.Stop();
  ASSERT_TRUE(batches.ok()) << batches.error().message;
  EXPECT_LE(batches->largest, kLimit);
  EXPECT_EQ(batches->purged, old_rows + old_visitors + old_alerts);
  EXPECT_GT(batches->calls, (old_rows + old_visitors + old_alerts) / kLimit);
  EXPECT_EQ(count("SELECT count(*) FROM logs_rollups WHERE start < 1799712000000"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM logs_visitors WHERE day < 20830"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM logs_rollups"), kept_rows);
  EXPECT_EQ(count("SELECT count(*) FROM logs_alerts"), 8) << "the last day's";
  auto after = Report(site_.store(), kJan12, kJan12 + 86'400'000);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total_requests, last_day->total_requests);
  EXPECT_EQ(after->unique_visitors, last_day->unique_visitors);
  EXPECT_EQ(after->requests.size(), last_day->requests.size());

  if (site_.store().backend() != store::Backend::kSqlite) return;
  ASSERT_GE(deletes.size(), 3u) << "the alerts, the visitors and the rollups";
  auto stray = deletes.Stray(site_.store(), {"SEARCH logs_alerts USING COVERING INDEX logs_alerts_by_last (last_ms<?)",
                                             "SEARCH logs_visitors USING PRIMARY KEY (day<?)",
                                             "SEARCH logs_rollups USING PRIMARY KEY (span=? AND start<?)"});
  ASSERT_TRUE(stray.ok()) << stray.error().message;
  EXPECT_EQ(*stray, std::vector<std::string>{});
}

TEST_F(ImportTest, AFileImportedAgainOrGrownIsCountedOnce) {
  std::string first = Line("203.0.113.5", "01/Dec/2026:10:00:00 +0000", "GET /a HTTP/1.1", 200, 1) +
                      Line("203.0.113.6", "01/Dec/2026:10:00:01 +0000", "GET /b HTTP/1.1", 200, 1);
  Importer importer(site_.store(), site_.key(), clock_);
  std::string path = Write(first);
  ASSERT_EQ(importer.ImportFile(path, combined_)->imported, 2);
  auto again = importer.ImportFile(path, combined_);
  EXPECT_EQ(again->imported, 0);
  EXPECT_EQ(again->bytes_already, static_cast<int64_t>(first.size()));
  EXPECT_EQ(ReportAll().valid_requests, 2);
  // The server writes more, the last line not finished yet.
  std::string more = Line("203.0.113.7", "01/Dec/2026:10:00:02 +0000", "GET /c HTTP/1.1", 200, 1);
  Write(more + more.substr(0, 20), /*append=*/true);
  EXPECT_EQ(importer.ImportFile(path, combined_)->imported, 1) << "the unfinished line waits";
  Write(more.substr(20), /*append=*/true);
  EXPECT_EQ(importer.ImportFile(path, combined_)->imported, 1);
  LogReport r = ReportAll();
  EXPECT_EQ(r.valid_requests, 4);
  EXPECT_EQ(r.unique_visitors, 3);
  // A stream (standard input) has no fingerprint: what it holds is counted.
  std::istringstream in(first);
  EXPECT_EQ(importer.ImportStream(in, combined_)->imported, 2);
  EXPECT_EQ(ReportAll().valid_requests, 6);
  EXPECT_FALSE(importer.ImportFile((site_.dir() / "nope.log").string(), combined_).ok());
}

TEST_F(ImportTest, CompressedLogsAsRotatedFilesAre) {
  std::string text = Line("203.0.113.5", "01/Dec/2026:10:00:00 +0000", "GET /a HTTP/1.1", 200, 1) +
                     Line("203.0.113.6", "01/Dec/2026:10:00:01 +0000", "GET /b HTTP/1.1", 200, 1);
  std::string path = (site_.dir() / "access.log.1.gz").string();
  gzFile out = gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  gzwrite(out, text.data(), static_cast<unsigned>(text.size()));
  gzclose(out);
  Importer importer(site_.store(), site_.key(), clock_);
  auto s = importer.ImportFile(path, combined_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->imported, 2);
  EXPECT_EQ(importer.ImportFile(path, combined_)->imported, 0) << "known by its first line";
  // The same lines uncompressed (logrotate's access.log.1 before compression) are the same file.
  EXPECT_EQ(importer.ImportFile(Write(text), combined_)->imported, 0);
  EXPECT_EQ(ReportAll().valid_requests, 2);
}

TEST_F(ImportTest, FollowingALogThroughRotationLosesNothing) {
  Importer importer(site_.store(), site_.key(), clock_);
  std::string path = (site_.dir() / "access.log").string();
  Follower follower(importer, path, combined_);
  EXPECT_EQ(follower.Poll()->imported, 0) << "no file yet";
  auto line = [](int i) {
    return Line("203.0.113." + std::to_string(i),
                "01/Dec/2026:10:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + " +0000",
                "GET /p" + std::to_string(i) + " HTTP/1.1", 200, 1);
  };
  { std::ofstream(path) << line(1) << line(2); }
  EXPECT_EQ(follower.Poll()->imported, 2);
  { std::ofstream(path, std::ios::app) << line(3); }
  // logrotate: the file moves to access.log.1 (with a line written just before) and starts again.
  { std::ofstream(path, std::ios::app) << line(4); }
  std::filesystem::rename(path, path + ".1");
  EXPECT_EQ(follower.Poll()->imported, 0) << "the new file is not there yet";
  { std::ofstream(path) << line(5); }
  auto s = follower.Poll();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->imported, 3) << "lines 3 and 4 from access.log.1, then line 5";
  EXPECT_EQ(follower.Poll()->imported, 0);
  EXPECT_EQ(ReportAll().valid_requests, 5);
}

TEST_F(ImportTest, ManyCellsWrittenInPartsAddUpAsInOneImport) {
  // More cells and visitors than one statement writes, in two imports that share every day: the
  // first writes many rows a statement, the second merges into the periods the first began.
  std::string first, second;
  std::set<std::pair<int, std::string>> visitors;  // (day, address) of the lines that count one
  for (int i = 0; i < 2400; ++i) {
    std::string ip = "198.51." + std::to_string(100 + i % 3) + "." + std::to_string(i % 250);
    char when[40];
    std::snprintf(when, sizeof when, "%02d/Dec/2026:%02d:%02d:%02d +0000", 1 + i / 1200, i / 50 % 24, i % 60,
                  i / 7 % 60);
    std::string line = Line(ip, when, "GET /page/" + std::to_string(i % 700) + " HTTP/1.1", i % 11 ? 200 : 404, 100 + i,
                            i % 5 ? "-" : "https://site" + std::to_string(i % 9) + ".example/");
    (i % 2 == 0 ? first : second) += line;
    if (i % 11 != 0) visitors.emplace(i / 1200, ip);
  }
  store::testing::ScratchSite whole{Migrations()};
  auto import = [&](store::testing::ScratchSite& site, const std::string& text) {
    Importer importer(site.store(), site_.key(), clock_);  // one key: the same visitor hashes
    std::istringstream in(text);
    auto s = importer.ImportStream(in, combined_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->skipped, 0);
  };
  import(whole, first + second);
  import(site_, first);
  import(site_, second);
  auto in_one = Report(whole.store(), 0, 4'102'444'800'000, 100'000);
  auto in_parts = Report(site_.store(), 0, 4'102'444'800'000, 100'000);
  ASSERT_TRUE(in_one.ok() && in_parts.ok());
  EXPECT_EQ(in_one->valid_requests, 2400);
  EXPECT_GT(in_one->requests.size() + in_one->not_found.size(), 700u);
  EXPECT_EQ(in_one->unique_visitors, static_cast<int64_t>(visitors.size()));
  EXPECT_GT(visitors.size(), 1000u);
  EXPECT_EQ(ReportCsv(*in_parts), ReportCsv(*in_one));
}

TEST(IsStaticTest, ByExtension) {
  EXPECT_TRUE(IsStatic("/a/b.css"));
  EXPECT_TRUE(IsStatic("/IMG.PNG"));
  EXPECT_FALSE(IsStatic("/economy"));
  EXPECT_FALSE(IsStatic("/v1.2/page"));
  EXPECT_FALSE(IsStatic("/report.html"));
}

}  // namespace
}  // namespace steward::logs

namespace steward::logs {
namespace {

TEST_F(ImportTest, TwoImportersOfOneFileAtOnceCountEachLineOnce) {
  std::string log;
  for (int i = 0; i < 2000; ++i) {
    log += Line("203.0.113." + std::to_string(i % 200), "01/Dec/2026:10:00:00 +0000",
                "GET /p" + std::to_string(i) + " HTTP/1.1", 200, 1);
  }
  std::string path = Write(log);
  Importer a(site_.store(), site_.key(), clock_), b(site_.store(), site_.key(), clock_);
  int64_t imported_a = -1, imported_b = -1;
  std::thread other([&] { imported_b = b.ImportFile(path, combined_)->imported; });
  imported_a = a.ImportFile(path, combined_)->imported;
  other.join();
  EXPECT_EQ(imported_a + imported_b, 2000) << "one of them read it all, the other nothing";
  EXPECT_EQ(ReportAll().valid_requests, 2000);
}

TEST(WatcherTest, PollsEveryFollowedLogAndWaitsForOnesNotThereYet) {
  ASSERT_TRUE(crypto::Init().ok());
  store::testing::ScratchSite site(Migrations());
  FakeClock clock{SystemTime(std::chrono::seconds(1'800'000'000))};
  Importer importer(site.store(), site.key(), clock);
  std::string a = (site.dir() / "a.log").string(), b = (site.dir() / "b.log").string();
  { std::ofstream(a) << Line("203.0.113.5", "01/Dec/2026:10:00:00 +0000", "GET / HTTP/1.1", 200, 1); }
  metrics::Registry registry;
  Watcher watcher(importer, {{a, *LogFormat::Preset("combined")}, {b, *LogFormat::Preset("combined")}}, &registry);
  EXPECT_EQ(watcher.PollAll().imported, 1) << "b is not there yet: no error, nothing read";
  { std::ofstream(b) << Line("198.51.100.1", "01/Dec/2026:10:00:01 +0000", "GET /x HTTP/1.1", 200, 1); }
  { std::ofstream(a, std::ios::app) << Line("203.0.113.5", "01/Dec/2026:10:00:02 +0000", "GET /y HTTP/1.1", 200, 1); }
  EXPECT_EQ(watcher.PollAll().imported, 2);
  EXPECT_EQ(watcher.PollAll().imported, 0);
  std::string text = registry.Render();
  EXPECT_NE(text.find("steward_logs_followed_lines_total{outcome=\"imported\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("steward_logs_followed_failing 0"), std::string::npos) << text;
}

TEST(LogsMigrationTest, RollupsKeepTheirRowsWhenRekeyedByPeriod) {
  std::vector<store::Migration> before;
  for (auto& m : Migrations()) {
    if (m.version < 4) before.push_back(m);
  }
  store::testing::ScratchSite site(before);
  ASSERT_TRUE(site.store()
                  .Write([](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        auto n, c.Exec("INSERT INTO logs_rollups (span, start, dimension, key, hits, bytes, visitors) "
                                       "VALUES (86400000, 1796083200000, 'request', '/a', 7, 70, ?)",
                                       {store::Blob{}}));
                    (void)n;
                    return Ok();
                  })
                  .ok());
  ASSERT_TRUE(site.store().Migrate(Migrations()).ok());
  auto r = Report(site.store(), 1796083200000, 1796083200000 + 86'400'000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->requests.size(), 1u);
  EXPECT_EQ(r->requests[0].key, "/a");
  EXPECT_EQ(r->requests[0].hits, 7);
}

}  // namespace
}  // namespace steward::logs
