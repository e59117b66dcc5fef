#include "rights/calendar.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "core/days.h"

namespace steward::rights {
namespace {

namespace chr = std::chrono;

const std::string kHolidays = std::string(STEWARD_SOURCE_DIR) + "/web/data/bank-holidays.json";

int64_t D(const char* text) { return *ParseDay(text); }

const BankHolidays& Shipped() {
  static const BankHolidays h = [] {
    auto loaded = BankHolidays::Load(kHolidays);
    EXPECT_TRUE(loaded.ok()) << loaded.error().ToString();
    return *loaded;
  }();
  return h;
}

// ---- The shipped file against the rules ------------------------------------------------------------

int64_t Easter(int y) {
  // Meeus/Jones/Butcher (the anonymous Gregorian algorithm).
  int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return chr::sys_days(chr::year(y) / month / day).time_since_epoch().count();
}

unsigned Wd(int64_t day) { return chr::weekday(chr::sys_days(chr::days(day))).iso_encoding(); }  // 1 Mon .. 7 Sun

int64_t Day(int y, unsigned m, unsigned d) {
  return chr::sys_days(chr::year(y) / chr::month(m) / chr::day(d)).time_since_epoch().count();
}
int64_t FirstMonday(int y, unsigned m) {
  return chr::sys_days(chr::year_month_weekday(chr::year(y), chr::month(m), chr::Monday[1])).time_since_epoch().count();
}
int64_t LastMonday(int y, unsigned m) {
  return chr::sys_days(chr::year_month_weekday_last(chr::year(y), chr::month(m), chr::weekday_last(chr::Monday)))
      .time_since_epoch()
      .count();
}

// A nation's bank holidays in year `y` by the Banking and Financial Dealings Act 1971's schedule
// and the usual proclamations: fixed days falling at a weekend move to the next free weekday.
std::set<int64_t> ByRule(Nation n, int y) {
  std::set<int64_t> out;
  auto fixed = [&](int64_t d) {
    while (Wd(d) >= 6 || out.count(d)) ++d;
    out.insert(d);
  };
  int64_t easter = Easter(y);
  fixed(Day(y, 1, 1));
  if (n == Nation::kScotland) fixed(Day(y, 1, 2));
  if (n == Nation::kNorthernIreland) fixed(Day(y, 3, 17));
  out.insert(easter - 2);
  if (n != Nation::kScotland) out.insert(easter + 1);
  out.insert(FirstMonday(y, 5));
  out.insert(LastMonday(y, 5));
  if (n == Nation::kNorthernIreland) fixed(Day(y, 7, 12));
  out.insert(n == Nation::kScotland ? FirstMonday(y, 8) : LastMonday(y, 8));
  if (n == Nation::kScotland) fixed(Day(y, 11, 30));
  fixed(Day(y, 12, 25));
  fixed(Day(y, 12, 26));
  return out;
}

TEST(BankHolidaysTest, TheShippedFileHoldsEveryRuleDayAndOnlyTheProclaimedOneOffsBesides) {
  const BankHolidays& h = Shipped();
  ASSERT_LE(h.first_year(), 2026);
  ASSERT_GE(h.last_year(), 2027);
  // One-off proclamations: the coronation (every nation), Scotland's World Cup holiday.
  std::map<Nation, std::set<int64_t>> one_off = {
      {Nation::kEnglandAndWales, {D("2023-05-08")}},
      {Nation::kScotland, {D("2023-05-08"), D("2026-06-15")}},
      {Nation::kNorthernIreland, {D("2023-05-08")}},
  };
  for (Nation n : {Nation::kEnglandAndWales, Nation::kScotland, Nation::kNorthernIreland}) {
    for (int y = h.first_year(); y <= h.last_year(); ++y) {
      std::set<int64_t> rule = ByRule(n, y);
      for (int64_t d : rule) EXPECT_TRUE(h.IsHoliday(n, d)) << NationName(n) << " " << DayText(d);
      for (int64_t d = Day(y, 1, 1); d <= Day(y, 12, 31); ++d) {
        if (h.IsHoliday(n, d) && !rule.count(d)) {
          EXPECT_TRUE(one_off[n].count(d)) << NationName(n) << " lists " << DayText(d) << " which no rule gives";
        }
      }
    }
  }
  EXPECT_EQ(h.Title(Nation::kScotland, D("2026-06-15")),
            "Bank holiday for Scotland’s first FIFA World Cup match since 1998");
  EXPECT_FALSE(h.IsHoliday(Nation::kEnglandAndWales, D("2026-06-15")));
  // Christmas 2026 is a Friday: Boxing Day's substitute is Monday 28 December.
  EXPECT_TRUE(h.IsHoliday(Nation::kEnglandAndWales, D("2026-12-28")));
}

TEST(BankHolidaysTest, AFileThatIsNotRightSaysWhereAndWhat) {
  auto syntax = BankHolidays::Parse("{\n  \"england-and-wales\": {\n    \"events\": [,]\n  }\n}", "h.json");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().message.rfind("h.json:3: ", 0), 0u) << syntax.error().message;

  auto missing =
      BankHolidays::Parse(R"({"england-and-wales": {"events": [{"title": "x", "date": "2026-01-01"}]}})", "h.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("h.json: scotland: missing"), std::string::npos) << missing.error().message;

  std::string good = R"("events": [{"title": "New Year's Day", "date": "2026-01-01"}])";
  auto date = BankHolidays::Parse(R"({"england-and-wales": {"events": [{"date": "2026-13-01"}]}, "scotland": {)" +
                                      good + R"(}, "northern-ireland": {)" + good + "}}",
                                  "h.json");
  ASSERT_FALSE(date.ok());
  EXPECT_NE(date.error().message.find("h.json: england-and-wales.events[0].date: must be a date YYYY-MM-DD"),
            std::string::npos)
      << date.error().message;

  auto absent = BankHolidays::Load("/nonexistent/bank-holidays.json");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, ErrorCode::kNotFound);
}

// ---- Due dates ---------------------------------------------------------------------------------------

struct Case {
  const char* what;
  Nation nation;
  const char* received;
  const char* due;
  bool extended = false;
  std::vector<std::pair<const char*, const char*>> pauses = {};
  const char* proof = nullptr;
  const char* today = nullptr;
};

TEST(DueDateTest, HardCases) {
  const auto ew = Nation::kEnglandAndWales, sc = Nation::kScotland, ni = Nation::kNorthernIreland;
  const std::vector<Case> cases = {
      {"31 January: the last day of February, a Saturday in 2026, so Monday", ew, "2026-01-31", "2026-03-02"},
      {"31 January in a leap year: 29 February", ew, "2028-01-31", "2028-02-29"},
      {"29 February: 29 March", ew, "2028-02-29", "2028-03-29"},
      {"28 February 2027 gives Sunday 28 March; Easter Monday is next in England", ew, "2027-02-28", "2027-03-30"},
      {"the same in Scotland, where Easter Monday is a working day", sc, "2027-02-28", "2027-03-29"},
      {"31 March: 30 April", ew, "2026-03-31", "2026-04-30"},
      {"30 April: 30 May is a Saturday", ew, "2026-04-30", "2026-06-01"},
      {"the ICO's example: Christmas and the substitute Boxing Day", ew, "2026-11-25", "2026-12-29"},
      {"a bank holiday in Scotland only (15 June 2026)", sc, "2026-05-15", "2026-06-16"},
      {"the same day in England", ew, "2026-05-15", "2026-06-15"},
      {"St Patrick's Day in Northern Ireland only", ni, "2026-02-17", "2026-03-18"},
      {"the same day in England", ew, "2026-02-17", "2026-03-17"},
      {"received on a Friday: 31 August is England's summer bank holiday", ew, "2026-07-31", "2026-09-01"},
      {"Scotland's summer bank holiday is at the start of August", sc, "2026-07-31", "2026-08-31"},
      {"the clock stopped twice: 4 days and 3 days added",
       ew,
       "2026-03-02",
       "2026-04-09",
       false,
       {{"2026-03-05", "2026-03-09"}, {"2026-03-20", "2026-03-23"}}},
      {"waiting still: the days so far count",
       ew,
       "2026-03-02",
       "2026-04-13",
       false,
       {{"2026-03-05", nullptr}},
       nullptr,
       "2026-03-15"},
      {"extended: three months from the start, not two after the first", ew, "2026-01-31", "2026-04-30", true},
      {"extended over a year's end, onto a Sunday", ew, "2026-11-30", "2027-03-01", true},
      {"extended and paused", ew, "2026-03-02", "2026-06-09", true, {{"2026-03-05", "2026-03-12"}}},
      {"proof of identity arriving starts the month", ew, "2026-03-02", "2026-04-10", false, {}, "2026-03-10"},
  };
  for (const Case& c : cases) {
    DueInput in{.received = D(c.received), .extended = c.extended};
    if (c.proof) in.proof_received = D(c.proof);
    if (c.today) in.today = D(c.today);
    for (const auto& [from, to] : c.pauses) {
      in.pauses.push_back(Pause{.from = D(from), .to = to ? std::optional<int64_t>(D(to)) : std::nullopt});
    }
    auto due = DueDate(in, c.nation, Shipped());
    ASSERT_TRUE(due.ok()) << c.what << ": " << due.error().ToString();
    EXPECT_EQ(DayText(due->day), c.due) << c.what;
    EXPECT_FALSE(due->beyond_holidays) << c.what;
  }
}

TEST(DueDateTest, SaysWhyTheDateMovedAndWhileItWaits) {
  auto christmas = DueDate({.received = D("2026-11-25")}, Nation::kEnglandAndWales, Shipped());
  ASSERT_TRUE(christmas.ok());
  EXPECT_EQ(DayText(christmas->calendar), "2026-12-25");
  EXPECT_EQ(christmas->moved_because, "Christmas Day");
  auto saturday = DueDate({.received = D("2026-01-31")}, Nation::kEnglandAndWales, Shipped());
  EXPECT_EQ(saturday->moved_because, "Saturday");
  auto waiting = DueDate({.received = D("2026-03-02"), .pauses = {{.from = D("2026-03-05")}}, .today = D("2026-03-15")},
                         Nation::kEnglandAndWales, Shipped());
  EXPECT_TRUE(waiting->waiting);
  EXPECT_EQ(waiting->paused_days, 10);
  // The extension must be told within the first month.
  auto told_by =
      ExtensionDeadline({.received = D("2026-01-31"), .extended = true}, Nation::kEnglandAndWales, Shipped());
  EXPECT_EQ(DayText(*told_by), "2026-03-02");
  // Past the file's years, only weekends are skipped, and it says so.
  auto far = DueDate({.received = Day(Shipped().last_year(), 12, 20)}, Nation::kEnglandAndWales, Shipped());
  EXPECT_TRUE(far->beyond_holidays);
}

TEST(DueDateTest, RefusesPausesThatCannotBe) {
  const auto ew = Nation::kEnglandAndWales;
  auto before = DueDate({.received = D("2026-03-02"), .pauses = {{.from = D("2026-03-01"), .to = D("2026-03-03")}}}, ew,
                        Shipped());
  ASSERT_FALSE(before.ok());
  EXPECT_NE(before.error().message.find("before the clock"), std::string::npos);
  auto backwards = DueDate({.received = D("2026-03-02"), .pauses = {{.from = D("2026-03-05"), .to = D("2026-03-04")}}},
                           ew, Shipped());
  EXPECT_FALSE(backwards.ok());
  auto overlap = DueDate(
      {.received = D("2026-03-02"),
       .pauses = {{.from = D("2026-03-05"), .to = D("2026-03-10")}, {.from = D("2026-03-08"), .to = D("2026-03-12")}}},
      ew, Shipped());
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.error().message.find("overlaps"), std::string::npos);
  auto proof = DueDate({.received = D("2026-03-02"), .proof_received = D("2026-03-01")}, ew, Shipped());
  EXPECT_FALSE(proof.ok());
}

TEST(UkDayTest, FollowsBritishSummerTime) {
  auto at = [](const char* rfc3339) { return DayText(UkDay(*ParseRfc3339(rfc3339))); };
  EXPECT_EQ(at("2026-01-15T23:30:00Z"), "2026-01-15");  // GMT
  EXPECT_EQ(at("2026-06-30T23:30:00Z"), "2026-07-01");  // BST: 00:30 the next day
  EXPECT_EQ(at("2026-03-29T00:59:00Z"), "2026-03-29");  // BST starts at 01:00 UTC
  EXPECT_EQ(at("2026-03-28T23:30:00Z"), "2026-03-28");
  EXPECT_EQ(at("2026-10-24T23:30:00Z"), "2026-10-25");  // still BST
  EXPECT_EQ(at("2026-10-25T23:30:00Z"), "2026-10-25");  // GMT again
}

TEST(AddMonthsTest, CorrespondingDayOrTheLast) {
  EXPECT_EQ(DayText(AddMonths(D("2026-01-31"), 1)), "2026-02-28");
  EXPECT_EQ(DayText(AddMonths(D("2028-01-31"), 1)), "2028-02-29");
  EXPECT_EQ(DayText(AddMonths(D("2026-12-15"), 1)), "2027-01-15");
  EXPECT_EQ(DayText(AddMonths(D("2026-11-30"), 3)), "2027-02-28");
}

}  // namespace
}  // namespace steward::rights
