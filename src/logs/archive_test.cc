// The raw lines' archive: kept by month, sealed, searched by address, range, client label, path
// and time; never kept twice after a crash; refused when altered; purged a whole month at a time,
// key and file together.
#include "logs/archive.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "logs/import.h"
#include "logs/security.h"
#include "logs/stats.h"
#include "store/testing/scratch.h"

namespace steward::logs {
namespace {

std::string Line(const std::string& ip, const std::string& when, const std::string& target, int status = 200) {
  return ip + " - - [" + when + " +0000] \"GET " + target + " HTTP/1.1\" " + std::to_string(status) +
         " 10 \"-\" \"curl/8.0\"\n";
}

constexpr int64_t kDec1 = 1'796'083'200'000;  // 2026-12-01T00:00:00Z

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::Init().ok()); }
  std::string dir() const { return (site_.dir() / "logs").string(); }
  Result<ImportSummary> Import(const std::string& text, RawArchive& archive) {
    Importer importer(site_.store(), site_.key(), clock_, nullptr, nullptr, &archive);
    std::istringstream in(text);
    return importer.ImportStream(in, combined_);
  }
  std::vector<std::string> Lines(const RawResult& r) {
    std::vector<std::string> out;
    for (const auto& m : r.matches) out.push_back(m.line);
    return out;
  }
  int64_t MonthRows(const std::string& month) {
    int64_t n = -1;
    EXPECT_TRUE(site_.store()
                    .Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(
                          auto rows, c.Query("SELECT count(*) FROM logs_raw_months WHERE month = ?", {month}));
                      n = rows.front().Int(0);
                      return Ok();
                    })
                    .ok());
    return n;
  }

  store::testing::ScratchSite site_{Migrations()};
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  LogFormat combined_ = *LogFormat::Preset("combined");
};

TEST_F(ArchiveTest, MonthHelpersAgreeWithTheCalendar) {
  EXPECT_EQ(MonthText(0), "1970-01");
  EXPECT_EQ(MonthText(MonthOf(kDec1)), "2026-12");
  EXPECT_EQ(MonthText(MonthOf(kDec1 - 1)), "2026-11");
  EXPECT_EQ(MonthStartMs(MonthOf(kDec1)), kDec1);
  EXPECT_EQ(MonthStartMs(MonthOf(kDec1) + 1), 1'798'761'600'000) << "2027-01-01";
  EXPECT_EQ(MonthText(MonthOf(-1)), "1969-12");
}

TEST_F(ArchiveTest, QueriesAreCheckedAndBoundedInOnePlace) {
  EXPECT_EQ(SearchBound("2026-12-01", false), kDec1);
  EXPECT_EQ(SearchBound("2026-12-01", true), kDec1 + 86'400'000) << "the whole day";
  EXPECT_EQ(SearchBound("2026-12-01T00:00:00Z", true), kDec1 + 1);
  EXPECT_FALSE(SearchBound("yesterday", false));
  EXPECT_TRUE(CheckQuery({.client = "c-0123456789ab"}).ok());
  EXPECT_FALSE(CheckQuery({.client = "203.0.113.7"}).ok()) << "a client is a label, never an address";
  EXPECT_FALSE(CheckQuery({.path = "admin"}).ok());
  EXPECT_FALSE(CheckQuery({}).ok());
  EXPECT_FALSE(CheckQuery({.path = "/", .from_ms = kDec1, .to_ms = kDec1}).ok());
  RawArchive archive(dir(), site_.key(), [](std::string_view) { return std::string("c-000000000001"); });
  audit::Entry e = archive.SearchRecord({.ip = "203.0.113.7", .from_ms = kDec1}, "cli");
  EXPECT_EQ(e.action, "logs.raw_searched");
  for (const auto& [k, v] : e.details) EXPECT_EQ(v.find("203.0.113"), std::string::npos) << k;
  EXPECT_EQ(e.details.front().second, "c-000000000001");
  EXPECT_EQ(archive.SearchRecord({.ip = "203.0.113.0/24"}, "cli").details.front().second, "range/24");
}

TEST_F(ArchiveTest, ErasureRewritesOnlyTheMonthsHoldingTheAddressUnderNewKeys) {
  RawArchive archive(dir(), site_.key());
  std::string a = Line("203.0.113.7", "30/Nov/2026:23:59:59", "/.env", 404);
  std::string b = Line("203.0.113.9", "01/Dec/2026:10:00:00", "/index.html");
  std::string c = Line("198.51.100.1", "01/Dec/2026:10:00:01", "/about");
  std::string d = Line("203.0.113.7", "02/Dec/2026:08:00:00", "/admin/users");
  ASSERT_TRUE(Import(a + b + c + d, archive).ok());
  // A copy of December's file as a backup would hold it, with its key as the database held it.
  std::string dec = dir() + "/2026-12.seg";
  std::filesystem::copy_file(dec, site_.dir() / "backup.seg");

  int64_t recorded = 0;
  auto erased = archive.Erase(site_.store(), "203.0.113.0/24", [&](store::Connection&, int64_t lines) {
    recorded += lines;
    return Ok();
  });
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_EQ(*erased, 3);
  EXPECT_EQ(recorded, 3);
  EXPECT_FALSE(std::filesystem::exists(dir() + "/2026-11.seg")) << "a month left empty goes, key and file";
  EXPECT_EQ(MonthRows("2026-11"), 0);
  auto all = archive.Search(site_.store(), {.path = "/"});
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(Lines(*all), std::vector<std::string>{c.substr(0, c.size() - 1)});
  EXPECT_EQ(archive.Search(site_.store(), {.ip = "203.0.113.7"})->total, 0);
  EXPECT_FALSE(std::filesystem::exists(dec + ".new"));

  // The old copy of December cannot be read with the key the database now holds.
  std::filesystem::copy_file(site_.dir() / "backup.seg", dec, std::filesystem::copy_options::overwrite_existing);
  auto from_backup = archive.Search(site_.store(), {.path = "/"});
  ASSERT_FALSE(from_backup.ok());
  EXPECT_EQ(from_backup.error().code, ErrorCode::kDataLoss);
}

TEST_F(ArchiveTest, BlocksOfTheFirstFormAreStillSearchedAndErased) {
  RawArchive archive(dir(), site_.key());
  // Blocks as Steward wrote them before the second form (address and path copied before the
  // line), then blocks of the second form after them in the same month's file.
  std::string a = Line("203.0.113.7", "01/Dec/2026:09:00:00", "/.env?x=1", 404);
  std::string b = Line("198.51.100.1", "01/Dec/2026:09:00:01", "/about");
  RawPacker first(true);
  for (const std::string& text : {a, b}) {
    LogRecord r;
    std::string_view line(text.data(), text.size() - 1);
    ASSERT_EQ(combined_.Parse(line, r), "");
    first.Add(r, line);
  }
  auto pending = archive.Write(site_.store(), first.Finish());
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  ASSERT_TRUE(site_.store().Write([&](store::Connection& c) { return (*pending)->Commit(c); }).ok());
  pending->reset();
  std::string c = Line("203.0.113.7", "01/Dec/2026:10:00:00", "/index.html");
  ASSERT_TRUE(Import(c, archive).ok());

  auto from = archive.Search(site_.store(), {.ip = "203.0.113.7"});
  ASSERT_TRUE(from.ok()) << from.error().message;
  EXPECT_EQ(Lines(*from), (std::vector<std::string>{a.substr(0, a.size() - 1), c.substr(0, c.size() - 1)}));
  auto env = archive.Search(site_.store(), {.path = "/.env"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(Lines(*env), std::vector<std::string>{a.substr(0, a.size() - 1)}) << "by path, without the query";

  // Erasing rewrites each block in its own form, and both stay readable.
  auto erased = archive.Erase(site_.store(), "203.0.113.7", [](store::Connection&, int64_t) { return Ok(); });
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_EQ(*erased, 2);
  auto left = archive.Search(site_.store(), {.path = "/"});
  ASSERT_TRUE(left.ok()) << left.error().message;
  EXPECT_EQ(Lines(*left), std::vector<std::string>{b.substr(0, b.size() - 1)});
}

TEST_F(ArchiveTest, RecoveryFinishesAnErasureACrashInterrupted) {
  RawArchive archive(dir(), site_.key());
  std::string b = Line("203.0.113.9", "01/Dec/2026:10:00:00", "/index.html");
  std::string c = Line("198.51.100.1", "01/Dec/2026:10:00:01", "/about");
  ASSERT_TRUE(Import(b + c, archive).ok());
  std::string dec = dir() + "/2026-12.seg";
  std::filesystem::copy_file(dec, site_.dir() / "before.seg");
  ASSERT_TRUE(archive.Erase(site_.store(), "203.0.113.9", [](store::Connection&, int64_t) { return Ok(); }).ok());
  // As if the process died after the commit and before the rename: the old file is in place and
  // the rewritten one waits beside it.
  std::filesystem::rename(dec, dec + ".new");
  std::filesystem::copy_file(site_.dir() / "before.seg", dec);
  ASSERT_TRUE(archive.Recover(site_.store()).ok());
  EXPECT_FALSE(std::filesystem::exists(dec + ".new"));
  auto all = archive.Search(site_.store(), {.path = "/"});
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(Lines(*all), std::vector<std::string>{c.substr(0, c.size() - 1)});
  // A rewrite that never committed is dropped.
  std::filesystem::copy_file(site_.dir() / "before.seg", dec + ".new");
  ASSERT_TRUE(archive.Recover(site_.store()).ok());
  EXPECT_FALSE(std::filesystem::exists(dec + ".new"));
  EXPECT_EQ(Lines(*archive.Search(site_.store(), {.path = "/"})), std::vector<std::string>{c.substr(0, c.size() - 1)});
}

TEST_F(ArchiveTest, KeepsLinesByMonthAndFindsThemByAddressRangeLabelPathAndTime) {
  Monitor monitor(SecurityRules{}, site_.key());
  RawArchive archive(dir(), site_.key(), [&](std::string_view host) { return monitor.ClientLabel(host); });
  std::string a = Line("203.0.113.7", "30/Nov/2026:23:59:59", "/.env", 404);
  std::string b = Line("203.0.113.9", "01/Dec/2026:10:00:00", "/index.html");
  std::string c = Line("198.51.100.1", "01/Dec/2026:10:00:01", "/admin/login?next=/x");
  std::string d = Line("203.0.113.7", "02/Dec/2026:08:00:00", "/admin/users");
  std::string e = Line("2001:db8::5", "02/Dec/2026:09:00:00", "/index.html");
  std::string f = Line("::ffff:203.0.113.7", "02/Dec/2026:09:30:00", "/about");
  // Out of time order, as several servers' logs may be.
  auto s = Import(d + b + "not a log line\n" + a + c + e + f, archive);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->imported, 6);

  EXPECT_TRUE(std::filesystem::exists(dir() + "/2026-11.seg"));
  EXPECT_TRUE(std::filesystem::exists(dir() + "/2026-12.seg"));
  auto months = RawArchive::Months(site_.store());
  ASSERT_TRUE(months.ok());
  ASSERT_EQ(months->size(), 2u);
  EXPECT_EQ((*months)[0].month, "2026-11");
  EXPECT_EQ((*months)[0].lines, 1);
  EXPECT_EQ((*months)[1].lines, 5);
  // Sealed: the file does not hold the address in the clear.
  std::ifstream seg(dir() + "/2026-12.seg", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(seg)), {});
  EXPECT_EQ(bytes.find("203.0.113"), std::string::npos);
  EXPECT_EQ(bytes.find("/admin"), std::string::npos);

  auto strip = [](const std::string& l) { return l.substr(0, l.size() - 1); };  // matches have no newline
  auto exact = archive.Search(site_.store(), {.ip = "203.0.113.7"});
  ASSERT_TRUE(exact.ok()) << exact.error().message;
  EXPECT_EQ(Lines(*exact), (std::vector<std::string>{strip(a), strip(d), strip(f)})) << "oldest first; mapped IPv4 too";
  EXPECT_EQ(exact->scanned, 6);

  auto range = archive.Search(site_.store(), {.ip = "203.0.113.0/24", .from_ms = kDec1});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(Lines(*range), (std::vector<std::string>{strip(b), strip(d), strip(f)}));
  EXPECT_EQ(range->scanned, 5) << "November's file is never opened";

  auto v6 = archive.Search(site_.store(), {.ip = "2001:db8::/32"});
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(Lines(*v6), std::vector<std::string>{strip(e)});

  auto label = archive.Search(site_.store(), {.client = monitor.ClientLabel("198.51.100.1")});
  ASSERT_TRUE(label.ok());
  EXPECT_EQ(Lines(*label), std::vector<std::string>{strip(c)});

  auto path = archive.Search(site_.store(), {.path = "/admin"});
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(Lines(*path), (std::vector<std::string>{strip(c), strip(d)}));

  auto limited =
      archive.Search(site_.store(), {.path = "/", .to_ms = kDec1 + 86'400'000 + int64_t{9} * 3'600'000, .limit = 2});
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->total, 4) << "a, b, c, d: e is at the end, which is not included";
  EXPECT_EQ(Lines(*limited), (std::vector<std::string>{strip(a), strip(b)}));

  auto budget = archive.Search(site_.store(), {.path = "/", .max_scanned = 1});
  ASSERT_TRUE(budget.ok());
  EXPECT_TRUE(budget->stopped) << "a block at a time, then stops";
  EXPECT_EQ(budget->scanned, 1) << "November's one line";
  EXPECT_FALSE(exact->stopped);

  EXPECT_EQ(archive.Search(site_.store(), {.ip = "203.0.113.0/99"}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(archive.Search(site_.store(), {.ip = "10.0.0.0/4"}).error().code, ErrorCode::kInvalidArgument);

  // Another site's key opens nothing.
  auto other_key = crypto::SecretKey::LoadOrCreate((site_.dir() / "other.key").string());
  ASSERT_TRUE(other_key.ok());
  RawArchive stranger(dir(), *other_key);
  auto refused = stranger.Search(site_.store(), {.ip = "203.0.113.7"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kDataLoss);
}

TEST_F(ArchiveTest, ALineIsNeverKeptTwiceAfterACrashBeforeTheCommit) {
  RawArchive archive(dir(), site_.key());
  std::string first = Line("203.0.113.7", "01/Dec/2026:10:00:00", "/a");
  ASSERT_TRUE(Import(first, archive).ok());
  auto before = std::filesystem::file_size(dir() + "/2026-12.seg");
  {
    // Blocks written and synced, then the process "dies" before its transaction commits.
    RawPacker packer;
    LogRecord r;
    std::string lost = Line("203.0.113.7", "01/Dec/2026:11:00:00", "/lost");
    ASSERT_EQ(combined_.Parse(std::string_view(lost).substr(0, lost.size() - 1), r), "");
    packer.Add(r, lost);
    auto pending = archive.Write(site_.store(), packer.Finish());
    ASSERT_TRUE(pending.ok()) << pending.error().message;
  }
  EXPECT_GT(std::filesystem::file_size(dir() + "/2026-12.seg"), before);
  auto found = archive.Search(site_.store(), {.ip = "203.0.113.7"});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->total, 1) << "uncommitted bytes are never read";
  ASSERT_TRUE(Import(Line("203.0.113.7", "01/Dec/2026:12:00:00", "/b"), archive).ok());
  found = archive.Search(site_.store(), {.ip = "203.0.113.7"});
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->total, 2);
  EXPECT_NE(found->matches[1].line.find("/b"), std::string::npos);
}

TEST_F(ArchiveTest, AnAlteredBlockIsRefused) {
  RawArchive archive(dir(), site_.key());
  ASSERT_TRUE(
      Import(Line("203.0.113.7", "01/Dec/2026:10:00:00", "/a") + Line("203.0.113.8", "01/Dec/2026:10:00:01", "/b"),
             archive)
          .ok());
  std::string path = dir() + "/2026-12.seg";
  auto flip = [&](std::streamoff at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char ch = 0;
    f.get(ch);
    f.seekp(at);
    f.put(static_cast<char>(ch ^ 0x01));
  };
  flip(static_cast<std::streamoff>(std::filesystem::file_size(path)) - 3);  // inside the sealed records
  auto found = archive.Search(site_.store(), {.ip = "203.0.113.7"});
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kDataLoss);
  EXPECT_EQ(found.error().message.find("203.0.113"), std::string::npos) << "no address in the error";
  flip(static_cast<std::streamoff>(std::filesystem::file_size(path)) - 3);  // put back
  ASSERT_TRUE(archive.Search(site_.store(), {.ip = "203.0.113.7"}).ok());
  flip(12);  // the clear header's first time, which decides what a search skips
  EXPECT_EQ(archive.Search(site_.store(), {.ip = "203.0.113.7"}).error().code, ErrorCode::kDataLoss);
}

TEST_F(ArchiveTest, PurgeDeletesWholeMonthsKeyAndFileTogether) {
  RawArchive archive(dir(), site_.key());
  ASSERT_TRUE(Import(Line("203.0.113.7", "15/Oct/2026:10:00:00", "/a") +
                         Line("203.0.113.7", "30/Nov/2026:10:00:00", "/b") +
                         Line("203.0.113.7", "01/Dec/2026:10:00:00", "/c"),
                     archive)
                  .ok());
  // A file an import wrote but never committed.
  { std::ofstream(dir() + "/2026-09.seg") << "junk"; }
  std::string d = dir();
  int64_t counted = 0, purged = 0;
  // A cut-off inside November keeps November: some of its lines are still within the retention.
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(counted, RawArchive::Purge(c, d, kDec1 - 86'400'000, /*dry_run=*/true));
                    STEWARD_ASSIGN_OR_RETURN(purged, RawArchive::Purge(c, d, kDec1 - 86'400'000, /*dry_run=*/false));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(counted, 1);
  EXPECT_EQ(purged, 1);
  EXPECT_EQ(MonthRows("2026-10"), 0);
  EXPECT_FALSE(std::filesystem::exists(d + "/2026-10.seg"));
  EXPECT_FALSE(std::filesystem::exists(d + "/2026-09.seg")) << "an orphan past the retention goes too";
  EXPECT_EQ(MonthRows("2026-11"), 1);
  EXPECT_TRUE(std::filesystem::exists(d + "/2026-11.seg"));

  // Through the logs module's purge, as the retention runner calls it.
  auto storage = Storage(d);
  processing::Dataset logs;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(purged, storage.purge(c, logs, "2026-12-01T00:00:00Z", "", false, 0));
                    return Ok();
                  })
                  .ok());
  EXPECT_GE(purged, 1);
  EXPECT_EQ(MonthRows("2026-11"), 0);
  EXPECT_FALSE(std::filesystem::exists(d + "/2026-11.seg"));
  auto left = archive.Search(site_.store(), {.ip = "203.0.113.7"});
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->total, 1);
  EXPECT_NE(left->matches[0].line.find("/c"), std::string::npos);
}

}  // namespace
}  // namespace steward::logs
