#include "statistics/tables.h"

#include <gtest/gtest.h>

#include "core/days.h"

namespace steward::statistics {
namespace {

constexpr const char* kRegister = R"(
[register]
service = "A service"
stored_in = "the UK"
[register.dpo]
name = "Data Protection Officer"
email = "dpo@example.gov.uk"
[register.controller]
name = "A department"
email = "privacy@example.gov.uk"
[[register.purposes]]
id = "service"
description = "Run the service"
lawful_basis = "public-task"
[[register.purposes]]
id = "partner-statistics"
description = "Statistics for partners"
lawful_basis = "public-task"
[[register.datasets]]
id = "records"
module = "accounts"
description = "Your records"
categories = ["user.contact.name"]
subjects = ["customers"]
purposes = ["service"]
retention = "1 year"
)";

struct Parsed {
  config::Config config;
  processing::Register reg;
};

Parsed Read(const std::string& statistics) {
  auto config = config::Parse("[site]\nname = \"A site\"\n" + statistics + kRegister, "site.toml", nullptr);
  EXPECT_TRUE(config.ok()) << config.error().message;
  auto reg = processing::FromDocument(*config->document);
  EXPECT_TRUE(reg.ok()) << reg.error().message;
  return {std::move(*config), std::move(*reg)};
}

TEST(StatisticsTables, OnlyWholePeriodsArePublished) {
  int64_t today = *ParseDay("2026-12-04");
  auto months = WholePeriods(Period::kMonth, today, std::nullopt, 3);
  ASSERT_EQ(months.size(), 3u);
  EXPECT_EQ(months.front().label, "2026-09");
  EXPECT_EQ(months.back().label, "2026-11");
  EXPECT_EQ(months.back().to, *ParseDay("2026-12-01")) << "December is not over";
  auto quarters = WholePeriods(Period::kQuarter, today, *ParseDay("2026-01-01"), 10);
  ASSERT_EQ(quarters.size(), 3u);
  EXPECT_EQ(quarters[2].label, "2026-Q3");
  EXPECT_EQ(quarters[2].from, *ParseDay("2026-07-01"));
  EXPECT_EQ(WholePeriods(Period::kYear, today, std::nullopt, 2).back().label, "2025");
  EXPECT_EQ(ParsePeriod(Period::kMonth, "2026-02")->to, *ParseDay("2026-03-01"));
  EXPECT_EQ(ParsePeriod(Period::kQuarter, "2026-Q4")->from, *ParseDay("2026-10-01"));
  EXPECT_FALSE(ParsePeriod(Period::kMonth, "2026-13"));
  EXPECT_FALSE(ParsePeriod(Period::kMonth, "2026-Q1"));
  EXPECT_FALSE(ParsePeriod(Period::kYear, "26"));
}

TEST(StatisticsTables, TheSiteFileSaysWhatIsWrongWithFileAndLine) {
  auto p = Read(
      "[statistics]\npurpose = \"nothing\"\nperiod = \"week\"\nmethod = \"noise\"\n"
      "[[statistics.tables]]\nid = \"A\"\ntitle = \"T\"\ncount = \"accounts.registrations\"\n"
      "[[statistics.tables]]\nid = \"a\"\ntitle = \"T\"\ncount = \"x\"\n"
      "[[statistics.tables]]\nid = \"a\"\ntitle = \"T\"\ncount = \"x\"\n");
  auto s = ReadSettings(p.config, p.reg);
  ASSERT_FALSE(s.ok());
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("site.toml:4:11: [statistics] 'purpose' names 'nothing'"), std::string::npos) << m;
  EXPECT_NE(m.find("'purpose' names 'nothing'"), std::string::npos) << m;
  EXPECT_NE(m.find("'period' is \"month\", \"quarter\" or \"year\""), std::string::npos) << m;
  EXPECT_NE(m.find("'method' is \"round\""), std::string::npos) << m;
  EXPECT_NE(m.find("lower-case letters"), std::string::npos) << m;
  EXPECT_NE(m.find("\"a\" is used twice"), std::string::npos) << m;
}

TEST(StatisticsTables, ATableMustCountWhatAModuleCountsFromADatasetDeclaredForThePurpose) {
  auto p = Read(
      "[statistics]\npurpose = \"partner-statistics\"\n"
      "[[statistics.tables]]\nid = \"a\"\ntitle = \"T\"\ncount = \"accounts.registrations\"\nby = \"colour\"\n"
      "[[statistics.tables]]\nid = \"b\"\ntitle = \"T\"\ncount = \"nothing.counted\"\n");
  auto s = ReadSettings(p.config, p.reg);
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::vector<module::Counter> counters = {
      {.id = "accounts.registrations", .title = "New accounts", .dataset = "records", .dimensions = {{.id = "route"}}}};
  Status checked = CheckTables(**s, p.reg, counters);
  ASSERT_FALSE(checked.ok());
  const std::string& m = checked.error().message;
  EXPECT_NE(m.find("site.toml:5:"), std::string::npos) << m;
  EXPECT_NE(m.find("cannot be broken down by (route)"), std::string::npos) << m;
  EXPECT_NE(m.find("does not declare for purpose 'partner-statistics'"), std::string::npos) << m;
  EXPECT_NE(m.find("which no module of this site counts (accounts.registrations)"), std::string::npos) << m;
}

TEST(StatisticsTables, APeriodsCategoriesComeFromItsRecordsAndTheRuleIsNamed) {
  auto p = Read(
      "[statistics]\npurpose = \"partner-statistics\"\n"
      "[[statistics.tables]]\nid = \"a\"\ntitle = \"By area\"\ncount = \"c\"\nby = \"area\"\n");
  auto s = ReadSettings(p.config, p.reg);
  ASSERT_TRUE(s.ok());
  // 23 in area M and 3 in area ZE in October; 12 in M in November.
  module::Counter c{
      .id = "c", .title = "Counted", .dataset = "records", .dimensions = {{.id = "area", .title = "Area"}}};
  c.scan = [](int64_t from, int64_t to, std::string_view, const std::function<void(const module::Counted&)>& each) {
    auto add = [&](const char* day, const char* area, int n) {
      for (int i = 0; i < n; ++i) {
        module::Counted r{.day = *ParseDay(day), .category = area, .key = static_cast<uint32_t>(i)};
        if (r.day >= from && r.day < to) each(r);
      }
    };
    add("2026-10-03", "M", 23);
    add("2026-10-04", "ZE", 3);
    add("2026-11-05", "M", 12);
    return Ok();
  };
  auto t = Build(**s, (*s)->tables[0], {c},
                 WholePeriods(Period::kMonth, *ParseDay("2026-12-04"), *ParseDay("2026-10-01"), 12));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->categories, (std::vector<std::string>{"M", "ZE"}));
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_FALSE(t->rows[0].cells[1].value) << "3 in ZE suppressed";
  EXPECT_FALSE(t->rows[0].cells[0].value) << "and M beside it, or the total gives it away";
  EXPECT_EQ(t->rows[0].total.value, 25);
  EXPECT_EQ(t->rows[1].cells[0].value, 10);
  EXPECT_EQ(t->rows[1].cells[1].value, 0);
  std::string csv = ToCsv(*t);
  EXPECT_NE(csv.find("2026-10,ZE,[c],\"the ONS 10-5 rule"), std::string::npos) << csv;
  std::string json = ToJson(*t);
  EXPECT_NE(json.find("\"rule\": \"the ONS 10-5 rule"), std::string::npos) << json;
}

}  // namespace
}  // namespace steward::statistics
