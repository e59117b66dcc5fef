#include "consent/records.h"

#include <gtest/gtest.h>

#include "store/testing/scratch.h"

namespace steward::consent {
namespace {

class RecordsTest : public ::testing::Test {
 protected:
  store::testing::ScratchSite site_{Records::Migrations()};
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  Records records_{site_.store(), clock_, site_.key()};
};

TEST_F(RecordsTest, KeepsEveryChoiceNewestFirst) {
  std::string id = NewConsentId();
  ASSERT_TRUE(ValidConsentId(id));
  ASSERT_TRUE(records_
                  .Record({.consent_id = id,
                           .notice_version = "n1",
                           .consent_version = "c1",
                           .choices = {{"usage", true}},
                           .method = Method::kBanner})
                  .ok());
  clock_.Advance(std::chrono::hours(24));
  ASSERT_TRUE(records_
                  .Record({.consent_id = id,
                           .notice_version = "n2",
                           .consent_version = "c1",
                           .choices = {{"usage", false}},
                           .method = Method::kCookiesPage})
                  .ok());
  ASSERT_TRUE(records_
                  .Record({.consent_id = NewConsentId(),
                           .notice_version = "n2",
                           .consent_version = "c1",
                           .choices = {{"usage", true}},
                           .method = Method::kScript})
                  .ok());
  auto history = records_.History(id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].notice_version, "n2");
  EXPECT_FALSE((*history)[0].choices.at("usage"));
  EXPECT_EQ((*history)[0].method, Method::kCookiesPage);
  EXPECT_EQ((*history)[1].method, Method::kBanner);
  EXPECT_LT((*history)[1].at, (*history)[0].at);
  auto current = records_.Current(id);
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->notice_version, "n2");
  EXPECT_TRUE(records_.History(NewConsentId())->empty());
}

TEST_F(RecordsTest, StoresOnlyAKeyedHashOfTheConsentId) {
  std::string id = NewConsentId();
  ASSERT_TRUE(records_.Record({.consent_id = id, .choices = {{"usage", true}}}).ok());
  std::string stored;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT consent_key FROM consent_records"));
                    stored = rows.at(0).Text(0);
                    return Ok();
                  })
                  .ok());
  EXPECT_NE(stored, id);
  EXPECT_EQ(stored.find(id), std::string::npos);
}

TEST_F(RecordsTest, RefusesAMalformedId) {
  EXPECT_FALSE(ValidConsentId("not-an-id"));
  EXPECT_FALSE(ValidConsentId(std::string(32, 'G')));
  auto s = records_.Record({.consent_id = "../../etc", .choices = {}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(records_.History("x' OR 1=1 --")->empty());
}

TEST_F(RecordsTest, PurgeDeletesOnlyRecordsPastTheCutOff) {
  std::string id = NewConsentId();
  ASSERT_TRUE(records_.Record({.consent_id = id, .choices = {{"usage", true}}}).ok());
  std::string cutoff = FormatRfc3339Millis(clock_.Now() + std::chrono::seconds(1));
  clock_.Advance(std::chrono::hours(48));
  ASSERT_TRUE(records_.Record({.consent_id = id, .choices = {{"usage", false}}}).ok());
  auto storage = Storage();
  processing::Dataset d;
  int64_t would = -1, did = -1;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(would, storage.purge(c, d, cutoff, "", true, 0));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(would, 1);
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(did, storage.purge(c, d, cutoff, "", false, 0));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(did, 1);
  ASSERT_EQ(records_.History(id)->size(), 1u);
  EXPECT_FALSE(records_.History(id)->front().choices.at("usage"));
}

}  // namespace
}  // namespace steward::consent
