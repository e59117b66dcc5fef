#include "changes/changes.h"

#include <gtest/gtest.h>

#include "core/days.h"
#include "store/testing/scratch.h"

namespace steward::changes {
namespace {

std::vector<store::Migration> AllMigrations() {
  std::vector<store::Migration> all = audit::Migrations();
  for (auto& m : ChangeLog::Migrations()) all.push_back(m);
  return all;
}

class ChangeLogTest : public ::testing::Test {
 protected:
  ChangeLogTest()
      : site_(AllMigrations()),
        clock_(*ParseRfc3339("2026-12-04T10:00:00Z")),
        trail_(site_.store(), site_.key(), clock_),
        log_(site_.store(), trail_, clock_) {}
  int64_t Day(const char* text) { return *ParseDay(text); }

  store::testing::ScratchSite site_;
  FakeClock clock_;
  audit::Trail trail_;
  ChangeLog log_;
};

TEST_F(ChangeLogTest, AStagedChangeIsPublishedForADayToComeAndReplacedOnlyBeforeThen) {
  EXPECT_EQ(log_.Publish(Day("2027-01-01"), Day("2027-01-30"), "staff:1", "").error().code,
            ErrorCode::kFailedPrecondition)
      << "nothing staged";
  ASSERT_TRUE(
      log_.Stage({.version = "b", .from_version = "a", .notice_json = "{}", .notice_html = "<p>b</p>"}, "cli").ok());
  // Restaged before it is published: the newer replaces it.
  ASSERT_TRUE(
      log_.Stage({.version = "c", .from_version = "a", .notice_json = "{}", .notice_html = "<p>c</p>"}, "cli").ok());
  auto latest = log_.Latest();
  ASSERT_TRUE(latest.ok() && *latest);
  EXPECT_EQ((*latest)->version, "c");
  EXPECT_FALSE((*latest)->Published());
  EXPECT_EQ(log_.Publish(Day("2026-12-03"), Day("2027-01-01"), "staff:1", "").error().code, ErrorCode::kInvalidArgument)
      << "a day gone";
  ASSERT_TRUE(log_.Publish(Day("2027-01-01"), Day("2027-01-30"), "staff:1", "").ok());
  latest = log_.Latest();
  EXPECT_TRUE((*latest)->Published());
  EXPECT_EQ((*latest)->effective_from, Day("2027-01-01"));
  EXPECT_EQ((*latest)->told, -1);
  EXPECT_EQ(log_.Publish(Day("2027-01-01"), Day("2027-01-30"), "staff:1", "").error().code,
            ErrorCode::kFailedPrecondition);
  // Another version cannot be staged while this one waits to take effect.
  EXPECT_EQ(
      log_.Stage({.version = "d", .from_version = "a", .notice_json = "{}", .notice_html = ""}, "cli").error().code,
      ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(log_.MarkTold("c", 12).ok());
  EXPECT_EQ((*log_.Latest())->told, 12);
  EXPECT_EQ(trail_.List({.action = "notice."})->size(), 4u);
}

}  // namespace
}  // namespace steward::changes
