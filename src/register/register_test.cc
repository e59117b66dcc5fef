// The register: validation, and each example site's practices as its notice states them.
#include "register/register.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/config.h"

namespace steward::processing {
namespace {

using nlohmann::json;

json Notice(const std::string& example) {
  auto config = config::Load(std::string(STEWARD_SOURCE_DIR) + "/examples/" + example);
  EXPECT_TRUE(config.ok()) << config.error().message;
  auto reg = FromDocument(*config->document);
  EXPECT_TRUE(reg.ok()) << reg.error().message;
  return json::parse(reg->ToJson());
}

const json& Find(const json& list, const std::string& key, const std::string& value) {
  for (const auto& item : list) {
    if (item[key] == value) return item;
  }
  static const json kNone;
  ADD_FAILURE() << "no entry with " << key << " = " << value;
  return kNone;
}

TEST(PeriodTest, ParsesWhatPeopleWrite) {
  EXPECT_EQ(ParsePeriod("12 months")->months, 12);
  EXPECT_EQ(ParsePeriod("2 years")->years, 2);
  EXPECT_EQ(ParsePeriod("10 minutes")->seconds, 600);
  EXPECT_EQ(ParsePeriod("1 day")->days, 1);
  EXPECT_EQ(ParsePeriod("2 weeks")->days, 14);
  EXPECT_FALSE(ParsePeriod("forever"));
  EXPECT_FALSE(ParsePeriod("0 days"));
  EXPECT_FALSE(ParsePeriod("twelve months"));
  EXPECT_EQ(ParsePeriod("28 days")->MaxSeconds(), 28 * 86400);
}

TEST(PeriodTest, SubtractsInCalendarTerms) {
  auto at = [](const char* text) {
    std::tm tm{};
    strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    return std::chrono::system_clock::from_time_t(timegm(&tm));
  };
  EXPECT_EQ(FormatRfc3339(Subtract(at("2027-03-31T10:00:00"), *ParsePeriod("1 month"))), "2027-02-28T10:00:00Z");
  EXPECT_EQ(FormatRfc3339(Subtract(at("2028-03-31T10:00:00"), *ParsePeriod("1 month"))), "2028-02-29T10:00:00Z")
      << "leap year";
  EXPECT_EQ(FormatRfc3339(Subtract(at("2027-01-15T00:00:00"), *ParsePeriod("12 months"))), "2026-01-15T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(Subtract(at("2027-01-15T00:00:00"), *ParsePeriod("3 months"))), "2026-10-15T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(Subtract(at("2028-02-29T12:00:00"), *ParsePeriod("6 years"))), "2022-02-28T12:00:00Z");
  EXPECT_EQ(FormatRfc3339(Subtract(at("2027-01-01T00:05:00"), *ParsePeriod("10 minutes"))), "2026-12-31T23:55:00Z");
  EXPECT_EQ(FormatRfc3339(Subtract(at("2027-03-01T00:00:00"), *ParsePeriod("28 days"))), "2027-02-01T00:00:00Z");
}

TEST(RegisterTest, ReportsEveryProblemWithItsLine) {
  std::string path = std::string(STEWARD_SOURCE_DIR) + "/tests/fixtures/register/broken.toml";
  auto config = config::Load(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto reg = FromDocument(*config->document);
  ASSERT_FALSE(reg.ok());
  const std::string& m = reg.error().message;
  auto has = [&](const std::string& s) {
    EXPECT_NE(m.find(path + ":" + s), std::string::npos) << "want: " << s << "\n" << m;
  };
  has("3:16: 'register.consent_mode' must be \"consent\" or \"statistics-exemption\"");
  has("5:1: the controller needs a way to be contacted");
  has("1:1: 'register.dpo' is missing");
  has("8:1: purpose 'no-basis' has no lawful basis");
  has("12:1: purpose 'interests' relies on legitimate interests but does not say what the interest is");
  has("17:1: purpose 'consent-only' relies on consent but does not say how to withdraw it");
  has("22:1: duplicate purpose id 'interests'");
  has("33:12: dataset 'unknown-purpose' names unknown purpose 'marketing'");
  has("36:1: dataset 'kept-forever' holds personal data but says nothing of how long it is kept");
  has("48:14: dataset 'special' has unknown data category 'user.made.up'");
  has("48:14: dataset 'special' holds special category data for purpose 'consent-only', which names no Article 9 "
      "condition ('article_9')");
  has("1:1: 'register.stored_in' is missing");
  has("51:13: 'register.datasets[2].retention' has 'forever', which is not a length of time");
  has("53:1: cookie '_ga' has no category");
  has("53:1: cookie '_ga' has no expiry");
  has("62:12: cookie 'odd' has category 'tasty'");
  has("63:10: cookie 'odd' has expiry 'a while'");
  has("64:1: unknown key 'register.cookies[1].colour'");
}

TEST(RegisterTest, EveryExampleIsValid) {
  for (const char* example :
       {"demo.toml", "civil-service.toml", "nlc-connect.toml", "hantsweb.toml", "ons.toml", "national-careers.toml"}) {
    auto config = config::Load(std::string(STEWARD_SOURCE_DIR) + "/examples/" + example);
    ASSERT_TRUE(config.ok()) << example << ": " << config.error().message;
    auto reg = FromDocument(*config->document);
    EXPECT_TRUE(reg.ok()) << example << ": " << reg.error().message;
  }
}

TEST(RegisterTest, VersionFollowsContent) {
  auto a = Notice("ons.toml");
  auto b = Notice("ons.toml");
  EXPECT_EQ(a["version"], b["version"]);
  EXPECT_NE(a["version"], Notice("demo.toml")["version"]);
  EXPECT_EQ(a["version"].get<std::string>().size(), 16u);
}

// ONS keeps access-log data 12 months and social-media messages 3 months, and bases analytics on
// consent, never combining it to identify anyone.
TEST(SitesTest, Ons) {
  json n = Notice("ons.toml");
  EXPECT_EQ(Find(n["datasets"], "id", "access-logs")["retention"]["text"], "12 months");
  EXPECT_EQ(Find(n["datasets"], "id", "access-logs")["retention"]["period"]["months"], 12);
  EXPECT_EQ(Find(n["datasets"], "id", "social-media-messages")["retention"]["period"]["months"], 3);
  EXPECT_EQ(Find(n["datasets"], "id", "social-media-messages")["recipients"][0], "hootsuite");
  EXPECT_EQ(Find(n["purposes"], "id", "analytics")["lawful_basis"], "consent");
  EXPECT_FALSE(Find(n["purposes"], "id", "analytics")["withdraw"].get<std::string>().empty());
  EXPECT_NE(Find(n["datasets"], "id", "analytics-events")["description"].get<std::string>().find("Never combined"),
            std::string::npos);
  EXPECT_EQ(Find(n["purposes"], "id", "feedback")["lawful_basis"], "public-task");
  EXPECT_EQ(n["dpo"]["email"], "DPO@statistics.gov.uk");
  EXPECT_EQ(n["consent_mode"], "consent");
  auto cats = Find(n["datasets"], "id", "analytics-events")["categories"];
  EXPECT_NE(std::find(cats.begin(), cats.end(), "user.behavior.polls"), cats.end()) << "poll participation";
  auto measures = n["security_measures"].dump();
  EXPECT_NE(measures.find("vulnerability disclosure"), std::string::npos);
}

// National Careers declares _ga 2 years, _gat 10 minutes, _gid 1 day, seen_cookie_message 28 days,
// and keeps a minimum for 6 years after a customer leaves.
TEST(SitesTest, NationalCareers) {
  json n = Notice("national-careers.toml");
  EXPECT_EQ(Find(n["cookies"], "name", "_ga")["expiry"]["text"], "2 years");
  EXPECT_EQ(Find(n["cookies"], "name", "_gat")["expiry"]["text"], "10 minutes");
  EXPECT_EQ(Find(n["cookies"], "name", "_gid")["expiry"]["text"], "1 day");
  EXPECT_EQ(Find(n["cookies"], "name", "seen_cookie_message")["expiry"]["text"], "28 days");
  EXPECT_EQ(Find(n["cookies"], "name", "ASP.Net_SessionId")["expiry"]["session"], true);
  const json& payments = Find(n["datasets"], "id", "payment-records");
  EXPECT_EQ(payments["retention"]["kind"], "after-event");
  EXPECT_EQ(payments["retention"]["period"]["years"], 6);
  EXPECT_EQ(payments["retention"]["after"], "you stop being a customer");
  const json& equality = Find(n["datasets"], "id", "equality-data");
  EXPECT_TRUE(equality["special_category"]);
  // Explicit consent needs no Schedule 1 condition.
  EXPECT_EQ(Find(n["purposes"], "id", "equality-monitoring")["article_9"]["condition"], "explicit-consent");
  EXPECT_FALSE(Find(n["purposes"], "id", "equality-monitoring").contains("schedule_1"));
  EXPECT_FALSE(equality.contains("kept_by")) << "Steward keeps it (module accounts)";
  for (const char* consented : {"satisfaction-surveys", "equality-monitoring", "priority-groups"}) {
    EXPECT_EQ(Find(n["purposes"], "id", consented)["lawful_basis"], "consent") << consented;
    EXPECT_NE(Find(n["purposes"], "id", consented)["withdraw"].get<std::string>().find("Untick"), std::string::npos);
  }
  const json& customers = Find(n["datasets"], "id", "customer-records");
  EXPECT_FALSE(customers["source"]["from_the_person"]);
  EXPECT_EQ(customers["source"]["organisations"].size(), 3u);
  EXPECT_TRUE(n["article_14"]) << "data from other organisations brings in Article 14";
  EXPECT_EQ(Find(n["recipients"], "id", "ofsted")["name"], "Ofsted");
  EXPECT_EQ(Find(n["recipients"], "id", "market-research")["basis"], "consent");
}

// The Civil Service site sets no cookies and keeps feedback for audit after replying.
TEST(SitesTest, CivilService) {
  json n = Notice("civil-service.toml");
  for (const auto& c : n["cookies"]) EXPECT_EQ(c["audience"], "staff") << c["name"] << ": the public get none";
  const json& feedback = Find(n["datasets"], "id", "feedback");
  EXPECT_EQ(feedback["retention"]["kind"], "criteria");
  EXPECT_NE(feedback["retention"]["criteria"].get<std::string>().find("audit"), std::string::npos);
  for (const auto& r : feedback["recipients"]) EXPECT_EQ(Find(n["recipients"], "id", r)["basis"], "consent") << r;
  const json& subs = Find(n["datasets"], "id", "subscriptions");
  EXPECT_TRUE(subs["recipients"].empty()) << "not shared with any third party";
  auto cats = subs["categories"];
  for (const char* c : {"user.contact.email", "user.account.username", "user.account.password"}) {
    EXPECT_NE(std::find(cats.begin(), cats.end(), c), cats.end()) << c;
  }
  EXPECT_NE(Find(n["datasets"], "id", "access-logs")["categories"].dump().find("ip_address"), std::string::npos);
}

// NLC names its DPO and bases security monitoring on legitimate interests.
TEST(SitesTest, NlcConnect) {
  json n = Notice("nlc-connect.toml");
  EXPECT_EQ(n["dpo"]["email"], "DPO@cabinetoffice.gov.uk");
  EXPECT_NE(n["dpo"]["address"].get<std::string>().find("70 Whitehall"), std::string::npos);
  EXPECT_EQ(n["controller"]["ico_registration"], "Z7414053");
  const json& security = Find(n["purposes"], "id", "security");
  EXPECT_EQ(security["lawful_basis"], "legitimate-interests");
  EXPECT_NE(security["legitimate_interest"].get<std::string>().find("security and integrity"), std::string::npos);
  for (const char* p : {"analytics", "feedback", "services"})
    EXPECT_EQ(Find(n["purposes"], "id", p)["lawful_basis"], "public-task");
  EXPECT_EQ(n["children"]["min_age"], 13);
  EXPECT_NE(n["children"]["statement"].get<std::string>().find("13 years of age or younger"), std::string::npos);
  EXPECT_EQ(Find(n["transfers"], "id", "analytics-outside-eea")["countries"], json::array({"US"}));
  EXPECT_EQ(Find(n["transfers"], "id", "analytics-outside-eea")["destination"], "the United States");
  EXPECT_EQ(n["stored_in"], "the UK") << "not the EEA, as the 2019 notice said";
  EXPECT_EQ(n["objection"]["applies"], true);
  EXPECT_EQ(Find(n["recipients"], "id", "law")["basis"], "court-order");
  auto rights = n["rights"];
  for (const char* r : {"access", "rectification", "objection", "restriction", "erasure"}) {
    EXPECT_NE(std::find(rights.begin(), rights.end(), r), rights.end()) << r;
  }
}

// Hantsweb recognises the device within one task, remembers a signed-in user, measures usage, and
// shares only with consent or by law.
TEST(SitesTest, Hantsweb) {
  json n = Notice("hantsweb.toml");
  EXPECT_EQ(Find(n["cookies"], "name", "hantsweb_task")["category"], "essential");
  EXPECT_EQ(Find(n["cookies"], "name", "hantsweb_task")["expiry"]["session"], true);
  EXPECT_EQ(Find(n["cookies"], "name", "__Host-steward_account")["category"], "essential");
  EXPECT_EQ(Find(n["cookies"], "name", "steward_visitor")["category"], "usage");
  EXPECT_EQ(Find(n["purposes"], "id", "mailing-lists")["lawful_basis"], "consent");
  for (const auto& r : n["recipients"]) {
    EXPECT_TRUE(r["basis"] == "consent" || r["basis"] == "legal-obligation") << r["id"];
  }
  auto rights = n["rights"];
  EXPECT_NE(std::find(rights.begin(), rights.end(), "access"), rights.end()) << "a copy: subject access";
}

}  // namespace
}  // namespace steward::processing

#include "register/ropa.h"

namespace steward::processing {
namespace {

TEST(RopaTest, OneRowPerPurposeAndDatasetWithTheIcoColumns) {
  auto config = config::Load(std::string(STEWARD_SOURCE_DIR) + "/examples/national-careers.toml");
  auto reg = FromDocument(*config->document);
  ASSERT_TRUE(reg.ok());
  auto rows = RecordOfProcessing(*reg);
  size_t pairs = 0;
  for (const auto& d : reg->datasets) pairs += d.purposes.size();
  EXPECT_EQ(rows.size(), pairs);
  for (const auto& row : rows) ASSERT_EQ(row.size(), RopaColumns().size());
  auto column = [](const std::string& name) {
    const auto& c = RopaColumns();
    return static_cast<size_t>(std::find(c.begin(), c.end(), name) - c.begin());
  };
  bool equality = false;
  for (const auto& row : rows) {
    if (row[column("Dataset")].rfind("equality-data", 0) != 0) continue;
    equality = true;
    EXPECT_EQ(row[column("Special category condition (Article 9, DPA 2018 Schedule 1)")],
              "your explicit consent (Article 9(2)(a) of the UK GDPR)");
    EXPECT_NE(row[column("Retention schedule")].find("1 month after you withdraw consent"), std::string::npos);
    EXPECT_EQ(row[column("Kept by")], "Steward, module accounts");
    EXPECT_EQ(row[column("Where the data is stored")], "the UK");
    EXPECT_NE(row[column("Rights that apply")].find("withdraw-consent"), std::string::npos);
  }
  EXPECT_TRUE(equality);
  std::string csv = RopaCsv(*reg);
  EXPECT_EQ(csv.rfind("Purpose of processing,Lawful basis (Article 6),", 0), 0u);
  EXPECT_NE(csv.find("\"Department for Education (Education and Skills Funding Agency), Ministerial"),
            std::string::npos)
      << "fields with commas are quoted";
}

TEST(RopaTest, CsvDefusesFormulas) {
  auto doc = config::Document::Parse(R"toml(
[register]
stored_in = "the UK"
service = "x"
security_measures = ["=HYPERLINK(\"http://evil\")"]
[register.controller]
name = "C"
email = "c@example.gov.uk"
[register.dpo]
email = "d@example.gov.uk"
[[register.purposes]]
id = "p"
description = "+SUM(A1)"
lawful_basis = "public-task"
[[register.datasets]]
id = "d"
module = "feedback"
description = "d"
categories = ["user.content.feedback"]
subjects = ["s"]
purposes = ["p"]
retention = "1 year"
)toml",
                                     "f.toml");
  ASSERT_TRUE(doc.ok());
  auto reg = FromDocument(*doc);
  ASSERT_TRUE(reg.ok()) << reg.error().message;
  std::string csv = RopaCsv(*reg);
  EXPECT_NE(csv.find("'+SUM(A1)"), std::string::npos);
  EXPECT_NE(csv.find("\"'=HYPERLINK(\"\"http://evil\"\")\""), std::string::npos) << csv;
}

}  // namespace
}  // namespace steward::processing

#include "register/versions.h"
#include "store/testing/scratch.h"

namespace steward::processing {
namespace {

Register FromText(const std::string& text) {
  auto doc = config::Document::Parse(text, "v.toml");
  EXPECT_TRUE(doc.ok());
  auto reg = FromDocument(*doc);
  EXPECT_TRUE(reg.ok()) << reg.error().message;
  return *reg;
}

constexpr const char* kV1 = R"toml(
[register]
stored_in = "the UK"
service = "s"
[register.controller]
name = "C"
email = "c@example.gov.uk"
[register.dpo]
email = "d@example.gov.uk"
[[register.purposes]]
id = "security"
description = "Keep the site secure"
lawful_basis = "public-task"
[[register.datasets]]
id = "access-logs"
module = "logs"
description = "Access logs"
categories = ["user.device.ip_address"]
subjects = ["visitors"]
purposes = ["security"]
retention = "12 months"
)toml";

TEST(VersionsTest, DescribesChangesInWords) {
  std::string v2 = kV1;
  v2.replace(v2.find("retention = \"12 months\""), 23, "retention = \"6 months\"");
  v2 += R"toml(
[[register.purposes]]
id = "analytics"
description = "Count visits"
lawful_basis = "consent"
withdraw = "On the cookies page"
[[register.cookies]]
name = "steward_visitor"
provider = "us"
category = "usage"
purpose = "Counts visits"
expiry = "1 year"
)toml";
  auto changes = DescribeChanges(FromText(kV1).ToJson(), FromText(v2).ToJson());
  std::string all;
  for (const auto& c : changes) all += c + "\n";
  EXPECT_NE(all.find("A new purpose: Count visits (lawful basis: consent)"), std::string::npos) << all;
  EXPECT_NE(all.find("Access logs is now kept for less time: 6 months (was 12 months)"), std::string::npos) << all;
  EXPECT_NE(all.find("A new cookie: steward_visitor (usage, 1 year)"), std::string::npos) << all;
  EXPECT_TRUE(DescribeChanges(FromText(kV1).ToJson(), FromText(kV1).ToJson()).empty());
}

TEST(VersionsTest, ChangesAreMaterialWhenPeopleShouldBeToldAndEditorialOtherwise) {
  auto kind = [](const std::vector<NoticeChange>& changes, const std::string& starts) {
    for (const auto& c : changes) {
      if (c.text.find(starts) != std::string::npos) return c.material ? "material" : "editorial";
    }
    return "absent";
  };
  // Kept for less time and a new cookie: editorial.
  std::string shorter = kV1;
  shorter.replace(shorter.find("retention = \"12 months\""), 23, "retention = \"6 months\"");
  shorter += R"toml(
[[register.cookies]]
name = "steward_visitor"
provider = "us"
category = "usage"
purpose = "Counts visits"
expiry = "1 year"
)toml";
  auto edits = ClassifyChanges(FromText(kV1).ToJson(), FromText(shorter).ToJson());
  EXPECT_STREQ(kind(edits, "kept for less time"), "editorial");
  EXPECT_STREQ(kind(edits, "A new cookie"), "editorial");
  EXPECT_FALSE(AnyMaterial(edits));
  // Kept longer, and a new purpose: material.
  std::string longer = kV1;
  longer.replace(longer.find("retention = \"12 months\""), 23, "retention = \"2 years\"  ");
  longer += R"toml(
[[register.purposes]]
id = "analytics"
description = "Count visits"
lawful_basis = "consent"
withdraw = "On the cookies page"
)toml";
  auto changes = ClassifyChanges(FromText(kV1).ToJson(), FromText(longer).ToJson());
  EXPECT_STREQ(kind(changes, "kept longer"), "material");
  EXPECT_STREQ(kind(changes, "A new purpose"), "material");
  EXPECT_TRUE(AnyMaterial(changes));
  // The words are DescribeChanges's, in the same order.
  auto words = DescribeChanges(FromText(kV1).ToJson(), FromText(longer).ToJson());
  ASSERT_EQ(words.size(), changes.size());
  for (size_t i = 0; i < words.size(); ++i) EXPECT_EQ(words[i], changes[i].text);
}

TEST(VersionsTest, RecordsEachDistinctRegisterOnceWithItsDate) {
  store::testing::ScratchSite site(VersionMigrations());
  FakeClock clock(SystemTime(std::chrono::seconds(1'800'000'000)));
  Register v1 = FromText(kV1);
  auto first = RecordVersion(site.store(), v1, clock);
  ASSERT_TRUE(first.ok());
  clock.Advance(std::chrono::hours(24 * 10));
  auto again = RecordVersion(site.store(), v1, clock);
  EXPECT_EQ(again->effective_at, first->effective_at) << "the same register keeps its date";
  std::string v2text = kV1;
  v2text.replace(v2text.find("12 months"), 9, "6 months");
  auto second = RecordVersion(site.store(), FromText(v2text), clock);
  EXPECT_NE(second->version, first->version);
  EXPECT_EQ(LongDate(second->effective_at), "25 January 2027");
  auto all = ListVersions(site.store());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->front().version, second->version) << "newest first";
}

}  // namespace
}  // namespace steward::processing
