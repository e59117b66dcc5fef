// Sharing on the record through the whole site in process (the National Careers example): the
// statistics partners are given, published only after disclosure control and attacked here as an
// intruder would, with two tables over overlapping months. Real SQLite files, or PostgreSQL for
// the postgresql.* copy.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <tuple>
#include <set>

#include <nlohmann/json.hpp>
#include <map>
#include <sstream>

#include "accounts/accounts.h"
#include "analytics/api_keys.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "audit/audit.h"
#include "core/days.h"
#include "http/testing/raw_client.h"
#include "in_process_site.h"
#include "mail/testing/smtp_server.h"
#include "statistics/sdc.h"
#include "statistics/testing/intruder.h"

namespace steward {
namespace {

using http::testing::Fetch;

class SharingSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::WriteExample("national-careers.toml", server_.port());
    // The market research partner's key is the test's, so that it can open the sealed file.
    std::tie(partner_public_, partner_secret_) = crypto::BoxKeyPair();
    {
      std::ifstream in(path_);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      text = std::regex_replace(text, std::regex("public_key = \"[0-9a-f]+\""),
                                "public_key = \"" + HexEncode(partner_public_) + "\"");
      if (api_delivery_)
        text = std::regex_replace(text, std::regex("delivery = \"sealed-file\""), "delivery = \"api\"");
      std::ofstream(path_) << text;
    }
    ASSERT_NO_FATAL_FAILURE(s_.Open(path_, clock_));
    auto settings = accounts::ReadSettings(*s_.config().document, s_.site().reg());
    ASSERT_TRUE(settings.ok() && *settings);
    module::Platform& p = s_.site().platform();
    accounts_ = std::make_unique<accounts::Accounts>(p.store, p.trail, p.key, clock_, std::move(**settings), nullptr,
                                                     std::nullopt, p.base_url, "National Careers Service");
  }
  void TearDown() override { std::filesystem::remove(path_); }

  // `n` customers an adviser registers on `day`, with this employment status.
  void Register(const std::string& day, int n, const std::string& employment) {
    clock_.Set(*ParseRfc3339(day + "T10:00:00Z"));
    for (int i = 0; i < n; ++i) {
      std::string email = "c" + std::to_string(next_++) + "@example.org";
      auto id = accounts_->CreateForCustomer(
          email,
          {{"name", "Customer " + std::to_string(next_)}, {"date-of-birth", "1990-05-01"}, {"employment", employment}},
          "in-person", accounts::Actor{.id = "staff:1"});
      ASSERT_TRUE(id.ok()) << id.error().message;
    }
  }

  std::optional<http::testing::RawResponse> Get(const std::string& target, const std::string& cookie) {
    return Fetch(s_.port(), "GET", target, {{"Cookie", cookie}});
  }

  // A published CSV's figures: period -> category -> the figure ("[c]" when suppressed).
  static std::map<std::string, std::map<std::string, std::string>> Figures(const std::string& csv) {
    std::map<std::string, std::map<std::string, std::string>> out;
    std::istringstream lines(csv);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "period,category,count,rule\r");
    while (std::getline(lines, line)) {
      std::vector<std::string> f;
      std::string cell;
      std::istringstream fields(line);
      for (int i = 0; i < 3 && std::getline(fields, cell, ','); ++i) f.push_back(cell);
      if (f.size() == 3) out[f[0]][f[1]] = f[2];
    }
    return out;
  }

  mail::testing::SmtpServer server_;
  std::string path_;
  FakeClock clock_{*ParseRfc3339("2026-09-01T09:00:00Z")};
  testing::InProcessSite s_;
  std::unique_ptr<accounts::Accounts> accounts_;
  int next_ = 0;
  std::string partner_public_, partner_secret_;
  bool api_delivery_ = false;
};

class ApiSharingSiteTest : public SharingSiteTest {
 protected:
  ApiSharingSiteTest() { api_delivery_ = true; }
};

TEST_F(SharingSiteTest, PartnerStatisticsSuppressSmallCountsAndSurviveAnIntruderWithOverlappingTables) {
  // September: 23 employed, 12 unemployed, 3 self-employed. October: 15, 14 and 11 in education.
  // November: 20 employed and 2 other.
  ASSERT_NO_FATAL_FAILURE(Register("2026-09-10", 23, "Employed"));
  ASSERT_NO_FATAL_FAILURE(Register("2026-09-11", 12, "Unemployed"));
  ASSERT_NO_FATAL_FAILURE(Register("2026-09-12", 3, "Self-employed"));
  ASSERT_NO_FATAL_FAILURE(Register("2026-10-05", 15, "Employed"));
  ASSERT_NO_FATAL_FAILURE(Register("2026-10-06", 14, "Unemployed"));
  ASSERT_NO_FATAL_FAILURE(Register("2026-10-07", 11, "In education or training"));
  ASSERT_NO_FATAL_FAILURE(Register("2026-11-20", 20, "Employed"));
  ASSERT_NO_FATAL_FAILURE(Register("2026-11-21", 2, "Other"));
  clock_.Set(*ParseRfc3339("2026-12-04T10:00:00Z"));

  auto analyst = s_.SignedIn("analyst@example.gov.uk", {staff::Role::kAnalyst});
  auto list = Get("/admin/statistics", analyst.cookie);
  ASSERT_TRUE(list && list->status == 200);
  EXPECT_NE(list->body.find("New accounts by employment status"), std::string::npos);
  EXPECT_NE(list->body.find("the ONS 10-5 rule"), std::string::npos);

  auto page = Get("/admin/statistics/new-accounts-by-employment?from=2026-09&to=2026-11", analyst.cookie);
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("[c]"), std::string::npos);
  EXPECT_NE(page->body.find("the ONS 10-5 rule"), std::string::npos);

  // Two tables over overlapping months, as two partners might be given them.
  auto first = Get("/admin/statistics/new-accounts-by-employment/csv?from=2026-09&to=2026-10", analyst.cookie);
  auto second = Get("/admin/statistics/new-accounts-by-employment/csv?from=2026-10&to=2026-11", analyst.cookie);
  ASSERT_TRUE(first && first->status == 200 && second && second->status == 200);
  auto a = Figures(first->body), b = Figures(second->body);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(a["2026-10"], b["2026-10"]) << "a month shared by two tables is published the same in both";
  // The small counts are suppressed, with another beside each, and the rest rounded.
  EXPECT_EQ(a["2026-09"]["Self-employed"], "[c]");
  EXPECT_EQ(a["2026-09"]["Unemployed"], "[c]");
  EXPECT_EQ(a["2026-09"]["Employed"], "25");
  EXPECT_EQ(a["2026-09"]["Total"], "40");
  EXPECT_EQ(a["2026-10"]["In education or training"], "10");
  EXPECT_EQ(b["2026-11"]["Other"], "[c]");
  EXPECT_EQ(b["2026-11"]["Employed"], "[c]");

  // The intruder: everything both tables publish, period by period, and every table of true counts
  // that could have given it. No suppressed count is narrowed to less than the threshold.
  statistics::Rule rule;
  std::map<std::string, std::map<std::string, std::string>> all = a;
  for (const auto& [period, row] : b) all[period] = row;
  int attacked = 0;
  for (const auto& [period, row] : all) {
    statistics::Protected p;
    std::vector<std::string> names;
    for (const auto& [category, figure] : row) {
      statistics::Shown shown;
      if (figure != "[c]") shown.value = std::stoll(figure);
      if (category == "Total") {
        p.total = shown;
      } else {
        names.push_back(category);
        p.cells.push_back(shown);
      }
    }
    ASSERT_TRUE(p.total.value);
    auto possible = statistics::testing::BruteForce(p, rule, *p.total.value + rule.Above());
    for (size_t i = 0; i < p.cells.size(); ++i) {
      if (p.cells[i].value) continue;
      ++attacked;
      ASSERT_FALSE(possible[i].empty());
      EXPECT_GE(*possible[i].rbegin() - *possible[i].begin(), rule.threshold) << period << " " << names[i];
    }
  }
  EXPECT_EQ(attacked, 4);

  // Each table published is on the record.
  auto entries = s_.site().trail().List({.action = "statistics.published"});
  ASSERT_TRUE(entries.ok());
  int published = static_cast<int>(entries->size());
  EXPECT_EQ(published, 3);

  // Someone restricted is counted no more.
  const module::Counter& counter = s_.site().platform().counters().front();
  auto count_october = [&] {
    int n = 0;
    EXPECT_TRUE(
        counter.scan(*ParseDay("2026-10-01"), *ParseDay("2026-11-01"), "", [&](const module::Counted&) { ++n; }).ok());
    return n;
  };
  EXPECT_EQ(count_october(), 40);
  auto key = subject::Key::Make(subject::KeyKind::kEmail, "c40@example.org");
  ASSERT_TRUE(key.ok());
  auto restricted = s_.site().subjects().Restrict(*key, true, {.actor = "staff:9"});
  ASSERT_TRUE(restricted.ok()) << restricted.error().message;
  EXPECT_EQ(count_october(), 39);

  // Only whole periods, and only analysts.
  auto unfinished = Get("/admin/statistics/new-accounts-by-employment?from=2026-12&to=2026-12", analyst.cookie);
  ASSERT_TRUE(unfinished);
  EXPECT_EQ(unfinished->status, 400);
  EXPECT_NE(unfinished->body.find("is not over yet"), std::string::npos);
  auto caseworker = s_.SignedIn("caseworker@example.gov.uk", {staff::Role::kCaseworker});
  EXPECT_EQ(Get("/admin/statistics", caseworker.cookie)->status, 403);
  EXPECT_EQ(Get("/admin/statistics/nothing-such", analyst.cookie)->status, 404);
}

// A police request on the National Careers example: recorded and decided by one DPO, refused
// approval to that DPO, approved by a second, exported with only the person asked about and only
// the dataset approved, given, and then known to a rights request as a recipient of their data.
TEST_F(SharingSiteTest, APoliceRequestIsApprovedByASecondDpoAndExportsOnlyThePersonAskedAbout) {
  ASSERT_NO_FATAL_FAILURE(Register("2026-11-03", 2, "Employed"));  // c0 and c1
  clock_.Set(*ParseRfc3339("2026-12-04T10:00:00Z"));
  auto first = s_.SignedIn("dpo1@example.gov.uk", {staff::Role::kDpo});
  auto second = s_.SignedIn("dpo2@example.gov.uk", {staff::Role::kDpo});
  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  auto post = [&](const std::string& target, const std::string& body, const testing::InProcessSite::Staff& who) {
    return Fetch(s_.port(), "POST", target,
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Sec-Fetch-Site", "same-origin"},
                  {"Cookie", who.cookie}},
                 body + "&csrf_token=" + who.csrf);
  };
  // A form missing what it needs says so.
  auto wrong = post("/admin/disclosures/new", "requester=&basis=crime-and-taxation&people=not+anyone", first);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_NE(wrong->body.find("href=\"#people\""), std::string::npos);
  auto made = post("/admin/disclosures/new",
                   "requester=Metropolitan+Police+Service&their_reference=MPS%2F1234&basis=crime-and-taxation&"
                   "basis_detail=Form+DP2%2C+a+fraud+investigation&received-day=3&received-month=12&received-year=2026&"
                   "people=c0%40example.org&asked=Contact+details+and+when+the+account+was+made",
                   first);
  ASSERT_TRUE(made && made->status == 303) << (made ? made->body : "");
  std::string base = made->Header("Location");
  auto page = Get(base, first.cookie);
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("customer-records"), std::string::npos) << "what is held about them is shown";
  auto decided = post(base + "/decide",
                      "decision=disclose&datasets=customer-records&reasons=Necessary+for+the+investigation+named%3B+"
                      "contact+details+only",
                      first);
  ASSERT_TRUE(decided && decided->status == 303) << (decided ? decided->body : "");
  // Nothing can be given before a second person approves.
  EXPECT_EQ(Get(base + "/export", first.cookie)->status, 409);
  // Four eyes: not the DPO who decided, not a caseworker.
  EXPECT_NE(Get(base, first.cookie)->body.find("You made this decision"), std::string::npos);
  EXPECT_EQ(post(base + "/approve", "approval=approve", first)->status, 403);
  EXPECT_EQ(post(base + "/approve", "approval=approve", worker)->status, 403);
  auto approved = post(base + "/approve", "approval=approve", second);
  ASSERT_TRUE(approved && approved->status == 303) << (approved ? approved->body : "");

  auto exported = Get(base + "/export", worker.cookie);
  ASSERT_TRUE(exported && exported->status == 200);
  auto j = nlohmann::json::parse(exported->body);
  EXPECT_EQ(j["requester"], "Metropolitan Police Service");
  ASSERT_FALSE(j["records"].empty());
  for (const auto& r : j["records"]) EXPECT_EQ(r["dataset"], "customer-records");
  EXPECT_NE(exported->body.find("c0@example.org"), std::string::npos);
  EXPECT_EQ(exported->body.find("c1@example.org"), std::string::npos) << "only the person asked about";
  auto given = post(base + "/disclosed", "how=Secure+email+to+the+officer+named", worker);
  ASSERT_TRUE(given && given->status == 303);
  auto log = Get("/admin/disclosures", first.cookie);
  EXPECT_NE(log->body.find("Disclosed"), std::string::npos);

  // Who has had the person's data: a rights request finds the disclosure and names the police
  // among those to tell of a correction.
  auto key = subject::Key::Make(subject::KeyKind::kEmail, "c0@example.org");
  auto survey = s_.site().subjects().SurveyOf({*key});
  ASSERT_TRUE(survey.ok());
  EXPECT_EQ(survey->recipients, std::vector<std::string>{"Metropolitan Police Service"});
  bool logged = std::any_of(survey->held.begin(), survey->held.end(),
                            [](const auto& h) { return h.dataset == "disclosure-log" && h.count == 1; });
  EXPECT_TRUE(logged);
  auto other = subject::Key::Make(subject::KeyKind::kEmail, "c1@example.org");
  EXPECT_TRUE(s_.site().subjects().SurveyOf({*other})->recipients.empty());
  // The trail holds each step, and no address.
  auto trail = s_.site().trail().List({.action = "disclosure."});
  ASSERT_TRUE(trail.ok());
  std::set<std::string> actions;
  for (const auto& r : *trail) {
    actions.insert(r.entry.action);
    for (const auto& [k, v] : r.entry.details) EXPECT_EQ(v.find("@"), std::string::npos);
  }
  EXPECT_EQ(actions, (std::set<std::string>{"disclosure.recorded", "disclosure.decided", "disclosure.approved",
                                            "disclosure.exported", "disclosure.disclosed"}));
}

// Four customers: c0 ticked the surveys box, c1 ticked it and is restricted, c2 ticked it and then
// withdrew, c3 never ticked it. Only c0 goes to market research.
TEST_F(SharingSiteTest, AConsentBasedShareHoldsExactlyTheConsentingUnrestrictedPeopleSealedToThePartner) {
  ASSERT_NO_FATAL_FAILURE(Register("2026-11-03", 4, "Employed"));
  for (int64_t id : {1, 2, 3}) {
    ASSERT_TRUE(accounts_->SetConsent(id, "surveys", true, "ticked the box in their account", {}).ok());
  }
  ASSERT_TRUE(accounts_->SetConsent(3, "surveys", false, "unticked the box in their account", {}).ok());
  auto restricted = s_.site().subjects().Restrict(*subject::Key::Make(subject::KeyKind::kEmail, "c1@example.org"), true,
                                                  {.actor = "staff:9"});
  ASSERT_TRUE(restricted.ok()) << restricted.error().message;
  clock_.Set(*ParseRfc3339("2026-12-04T10:00:00Z"));

  auto dpo = s_.SignedIn("dpo@example.gov.uk", {staff::Role::kDpo});
  auto page = Get("/admin/sharing", dpo.cookie);
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("Market research organisations"), std::string::npos);
  auto file = Fetch(s_.port(), "POST", "/admin/sharing/market-research/file",
                    {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Sec-Fetch-Site", "same-origin"},
                     {"Cookie", dpo.cookie}},
                    "csrf_token=" + dpo.csrf);
  ASSERT_TRUE(file && file->status == 200);
  EXPECT_EQ(file->body.find("c0@example.org"), std::string::npos) << "sealed";
  auto opened = crypto::OpenSealedBox(partner_public_, partner_secret_, file->body);
  ASSERT_TRUE(opened);
  auto j = nlohmann::json::parse(*opened);
  ASSERT_EQ(j["people"].size(), 1u) << *opened;
  EXPECT_EQ(j["people"][0]["email"], "c0@example.org");
  EXPECT_EQ(j["people"][0]["name"], "Customer 1");
  EXPECT_FALSE(j["people"][0].contains("date-of-birth")) << "only the fields declared";

  // The share is on the record for c0 alone: who has had their details, whom to tell.
  auto survey = s_.site().subjects().SurveyOf({*subject::Key::Make(subject::KeyKind::kEmail, "c0@example.org")});
  ASSERT_TRUE(survey.ok());
  EXPECT_EQ(survey->recipients, std::vector<std::string>{"Market research organisations"});
  for (const char* other : {"c1@example.org", "c2@example.org", "c3@example.org"}) {
    EXPECT_TRUE(
        s_.site().subjects().SurveyOf({*subject::Key::Make(subject::KeyKind::kEmail, other)})->recipients.empty())
        << other;
  }
  EXPECT_EQ(s_.site().trail().List({.action = "sharing.shared"})->size(), 1u);
  // Caseworkers and analysts do not share.
  auto worker = s_.SignedIn("worker@example.gov.uk", {staff::Role::kCaseworker});
  EXPECT_EQ(Get("/admin/sharing", worker.cookie)->status, 403);
}

// The same partner collecting through the API with a key of its own scope.
TEST_F(ApiSharingSiteTest, APartnerCollectsItsShareWithAKeyOfItsScopeOnly) {
  ASSERT_NO_FATAL_FAILURE(Register("2026-11-03", 2, "Employed"));
  ASSERT_TRUE(accounts_->SetConsent(2, "surveys", true, "ticked the box in their account", {}).ok());
  auto* keys = s_.site().services().Find<analytics::ApiKeys>();
  ASSERT_NE(keys, nullptr);
  auto partner = keys->Create("Market research", "staff:1", "", "share:market-research");
  auto stats = keys->Create("Dashboard", "staff:1");
  ASSERT_TRUE(partner.ok() && stats.ok());
  auto collect = [&](const std::string& secret) {
    return Fetch(s_.port(), "GET", "/api/shares/market-research", {{"Authorization", "Bearer " + secret}});
  };
  EXPECT_EQ(collect(stats->secret)->status, 401) << "a key of another scope";
  EXPECT_EQ(collect("stw_nothing")->status, 401);
  EXPECT_EQ(Fetch(s_.port(), "GET", "/api/shares/ofsted", {{"Authorization", "Bearer " + partner->secret}})->status,
            404);
  auto got = collect(partner->secret);
  ASSERT_TRUE(got && got->status == 200);
  auto j = nlohmann::json::parse(got->body);
  ASSERT_EQ(j["people"].size(), 1u);
  EXPECT_EQ(j["people"][0]["email"], "c1@example.org");
  EXPECT_EQ(got->Header("Cache-Control"), "no-store");
}

}  // namespace
}  // namespace steward
