// Cookie consent over HTTP, in process, on the ONS and Civil Service examples: the no-JavaScript
// banner and cookies page, the cookie shapes, withdrawal, GPC, re-consent after a register
// change, the API and its cross-site checks.
#include "consent/consent.h"

#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "http/server.h"
#include "notice/notice.h"
#include "http/testing/raw_client.h"
#include "store/testing/scratch.h"

namespace steward::consent {
namespace {

using http::testing::Fetch;
using http::testing::RawResponse;

constexpr const char* kOwnOrigin = "http://localhost";  // the raw client sends Host: localhost
constexpr const char* kSiteOrigin = "https://www.ons.gov.uk";

processing::Register LoadRegister(const std::string& example) {
  EXPECT_TRUE(crypto::Init().ok());
  auto c = config::Load(std::string(STEWARD_SOURCE_DIR) + "/examples/" + example + ".toml");
  EXPECT_TRUE(c.ok()) << c.error().message;
  auto r = processing::FromDocument(*c->document);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return *r;
}

// The Set-Cookie line for `name`, or "".
std::string SetCookieLine(const RawResponse& r, const std::string& name) {
  for (const auto& line : r.Headers("Set-Cookie")) {
    if (line.rfind(name + "=", 0) == 0) return line;
  }
  return "";
}

std::string CookieValueOf(const RawResponse& r, const std::string& name) {
  std::string line = SetCookieLine(r, name);
  if (line.empty()) return "";
  return line.substr(name.size() + 1, line.find(';') - name.size() - 1);
}

// The Cookie header a browser would send after `r`: every cookie it set and did not delete.
std::string Jar(const RawResponse& r, std::string jar = "") {
  for (const auto& line : r.Headers("Set-Cookie")) {
    std::string pair = line.substr(0, line.find(';'));
    if (line.find("Max-Age=0") != std::string::npos) continue;
    jar += (jar.empty() ? "" : "; ") + pair;
  }
  return jar;
}

bool Has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

class ConsentTest : public ::testing::Test {
 protected:
  void Start(const std::string& example, processing::Register* replace = nullptr) {
    server_.reset();
    reg_ = replace ? *replace : LoadRegister(example);
    if (!site_) site_ = std::make_unique<store::testing::ScratchSite>(Records::Migrations());
    config_.site.name = "Test site";
    config_.site.web_dir = std::string(STEWARD_SOURCE_DIR) + "/web";
    config_.site.script_origins = {kSiteOrigin};
    pages_ = std::move(site::Pages::Load(config_.site).value());
    gate_ = std::make_unique<CookieGate>(reg_);
    records_ = std::make_unique<Records>(site_->store(), clock_, site_->key());
    consent_ = std::make_unique<Consent>(config_, reg_, *gate_, *records_, *pages_);
    pages_->AddToPublicFrame([this](const http::Request& req, html::Object& frame) { consent_->Frame(req, frame); });
    http::Router router;
    pages_->AddRoutes(router);
    notice::AddRoutes(router, *pages_, reg_, "22 November 2026", site_->store());
    consent_->AddRoutes(router);
    http::ServerOptions options;
    options.cookie_gate = [this](const http::Request& req, const std::vector<http::SetCookie>& all,
                                 const http::SetCookie& c) { return gate_->Allow(req, all, c); };
    options.error_page = [this](int status, const http::Request* r) { return pages_->ErrorPage(status, r); };
    server_ = std::make_unique<http::Server>(std::move(options), std::move(router));
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_.reset();
    site_.reset();
  }

  std::optional<RawResponse> Get(const std::string& path, const std::string& cookies = "", bool gpc = false) {
    std::vector<http::HeaderField> h;
    if (!cookies.empty()) h.push_back({"Cookie", cookies});
    if (gpc) h.push_back({"Sec-GPC", "1"});
    return Fetch(server_->port(), "GET", path, h);
  }
  std::optional<RawResponse> Post(const std::string& path, const std::string& body, const std::string& cookies = "",
                                  const std::string& origin = kOwnOrigin,
                                  const std::string& type = "application/x-www-form-urlencoded") {
    std::vector<http::HeaderField> h = {{"Content-Type", type}};
    if (!origin.empty()) h.push_back({"Origin", origin});
    if (!cookies.empty()) h.push_back({"Cookie", cookies});
    return Fetch(server_->port(), "POST", path, h, body);
  }

  std::unique_ptr<store::testing::ScratchSite> site_;
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  config::Config config_;
  processing::Register reg_;
  std::unique_ptr<site::Pages> pages_;
  std::unique_ptr<CookieGate> gate_;
  std::unique_ptr<Records> records_;
  std::unique_ptr<Consent> consent_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(ConsentTest, FirstVisitShowsTheBannerAndSetsNoCookie) {
  Start("ons");
  for (const char* path : {"/", "/privacy", "/cookies", "/no-such-page"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_TRUE(Has(r->body, "Cookies on the ONS website (ons.gov.uk)")) << path;
    EXPECT_TRUE(Has(r->body, "name=\"cookies[additional]\" value=\"yes\"")) << path;
    EXPECT_TRUE(Has(r->body, "Accept analytics cookies")) << path;
    EXPECT_TRUE(Has(r->body, "Reject analytics cookies")) << path;
    EXPECT_TRUE(r->Headers("Set-Cookie").empty()) << path;
  }
  // Right after <body>, before the skip link.
  auto home = Get("/");
  EXPECT_LT(home->body.find("govuk-cookie-banner"), home->body.find("govuk-skip-link"));
}

TEST_F(ConsentTest, AcceptingWithoutJavaScriptSetsTheGovukCookiesAndRecordsTheChoice) {
  Start("ons");
  auto r = Post("/cookies", "cookies%5Badditional%5D=yes&return=%2Fprivacy");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(r->Header("Location"), "/privacy");
  std::string policy = SetCookieLine(*r, "cookies_policy");
  EXPECT_TRUE(Has(policy, "Max-Age=31536000")) << policy;
  EXPECT_TRUE(Has(policy, "Path=/")) << policy;
  EXPECT_FALSE(Has(policy, "HttpOnly")) << "GOV.UK scripts read it";
  auto decoded = http::PercentDecode(CookieValueOf(*r, "cookies_policy"), false);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(Has(*decoded, R"("essential":true)")) << *decoded;
  EXPECT_TRUE(Has(*decoded, R"("usage":true)")) << *decoded;
  EXPECT_TRUE(Has(*decoded, R"("settings":false)")) << *decoded;
  EXPECT_TRUE(Has(*decoded, R"("campaigns":false)")) << *decoded;
  EXPECT_TRUE(Has(*decoded, "\"version\":\"" + gate_->version() + "\"")) << *decoded;
  EXPECT_EQ(CookieValueOf(*r, "cookies_preferences_set"), "true");
  std::string id = CookieValueOf(*r, "steward_consent");
  ASSERT_TRUE(ValidConsentId(id));
  EXPECT_TRUE(Has(SetCookieLine(*r, "steward_consent"), "HttpOnly"));

  // The next page shows the confirmation, not the question.
  std::string jar = Jar(*r);
  auto next = Get("/privacy", jar);
  EXPECT_TRUE(Has(next->body, "You've accepted analytics cookies"));
  EXPECT_FALSE(Has(next->body, "data-steward-question"));
  EXPECT_TRUE(Has(next->body, "data-steward-confirmation=\"accepted\" role=\"alert\" tabindex=\"-1\">"))
      << "shown, not hidden";
  // Hiding it deletes the message cookie and goes back.
  auto hide = Post("/cookies", "cookies%5Bhide%5D=yes&return=%2Fprivacy", jar);
  EXPECT_EQ(hide->status, 303);
  EXPECT_TRUE(Has(SetCookieLine(*hide, "steward_cookie_message"), "Max-Age=0"));
  jar = "cookies_policy=" + CookieValueOf(*r, "cookies_policy") + "; steward_consent=" + id;
  auto after = Get("/", jar);
  EXPECT_FALSE(Has(after->body, "govuk-cookie-banner")) << "no banner once chosen";

  // The record: when, the notice version, the choice, how.
  auto history = records_->History(id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().notice_version, reg_.Version());
  EXPECT_EQ(history->front().consent_version, gate_->version());
  EXPECT_TRUE(history->front().choices.at("usage"));
  EXPECT_EQ(history->front().method, Method::kBanner);
}

TEST_F(ConsentTest, RejectingDeletesEveryCookieOfTheCategory) {
  Start("national-careers");
  auto r = Post("/cookies", "cookies%5Badditional%5D=no", "_ga=GA1.1.1; _gid=x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(r->Header("Location"), "/");
  std::string ga = SetCookieLine(*r, "_ga");
  EXPECT_TRUE(Has(ga, "Max-Age=0")) << ga;
  EXPECT_TRUE(Has(ga, "Domain=.nationalcareers.service.gov.uk")) << ga;
  EXPECT_TRUE(Has(SetCookieLine(*r, "_gid"), "Max-Age=0"));
  EXPECT_TRUE(Has(SetCookieLine(*r, "vocPersonalisation"), "Max-Age=0")) << "settings too: all were rejected";
  EXPECT_TRUE(SetCookieLine(*r, "ARRAffinity").empty()) << "essential cookies stay";
  auto decoded = http::PercentDecode(CookieValueOf(*r, "cookies_policy"), false);
  EXPECT_TRUE(Has(*decoded, R"("usage":false)")) << *decoded;
  auto next = Get("/", Jar(*r));
  EXPECT_TRUE(Has(next->body, "You've rejected additional cookies")) << "several categories: 'additional cookies'";
}

TEST_F(ConsentTest, TheCookiesPageDefaultsToNoAndSavesPerCategory) {
  Start("national-careers");
  auto page = Get("/cookies");
  ASSERT_TRUE(page);
  EXPECT_TRUE(Has(page->body, "<code>_ga</code>"));
  EXPECT_TRUE(Has(page->body, R"(name="cookies[usage]" type="radio" value="no" checked)"));
  EXPECT_TRUE(Has(page->body, R"(name="cookies[settings]" type="radio" value="no" checked)"));
  EXPECT_FALSE(Has(page->body, "steward_staff")) << "staff cookies are not in the public table";
  auto saved = Post("/cookies", "cookies%5Busage%5D=yes&cookies%5Bsettings%5D=no");
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->status, 200);
  EXPECT_TRUE(Has(saved->body, "You've set your cookie preferences."));
  EXPECT_TRUE(Has(saved->body, R"(name="cookies[usage]" type="radio" value="yes" checked)"));
  EXPECT_TRUE(Has(saved->body, R"(name="cookies[settings]" type="radio" value="no" checked)"));
  EXPECT_FALSE(Has(saved->body, "govuk-cookie-banner")) << "no banner once chosen";
  EXPECT_TRUE(Has(SetCookieLine(*saved, "JPsurvey"), "Max-Age=0"));
  EXPECT_TRUE(SetCookieLine(*saved, "_ga").empty()) << "accepted: not deleted";
  std::string id = CookieValueOf(*saved, "steward_consent");
  EXPECT_TRUE(Has(saved->body, "Your cookie choice reference is <code>" + id + "</code>"));
  EXPECT_EQ(records_->Current(id)->value().method, Method::kCookiesPage);
  // A missing or unknown answer is a 400, and nothing is recorded.
  auto bad = Post("/cookies", "cookies%5Busage%5D=maybe&cookies%5Bsettings%5D=no");
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(bad->Headers("Set-Cookie").empty());
}

// GPC answers the question on every request without writing anything: fifty requests (to pages
// and to ones that do not exist) leave no record and set no cookie.
TEST_F(ConsentTest, GlobalPrivacyControlIsHonouredWithoutBeingWritten) {
  Start("ons");
  for (int i = 0; i < 50; ++i) {
    auto r = Get(i % 2 ? "/" : "/no-such-page-" + std::to_string(i), "", /*gpc=*/true);
    ASSERT_TRUE(r);
    EXPECT_FALSE(Has(r->body, "data-steward-question")) << "GPC answers the question";
    EXPECT_TRUE(r->Headers("Set-Cookie").empty()) << i;
  }
  int64_t rows = -1;
  ASSERT_TRUE(site_->store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto n, c.Query("SELECT count(*) FROM consent_records"));
                    rows = n.front().Int(0);
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(rows, 0);
  auto api = Get("/api/consent", "", true);
  EXPECT_TRUE(Has(api->body, R"("allowed":{"usage":false})")) << api->body;
  EXPECT_TRUE(Has(api->body, R"("gpc":true)")) << api->body;
  EXPECT_TRUE(Has(api->body, R"("show_banner":false)")) << api->body;
  // An explicit choice beats GPC, and is recorded.
  auto accept = Post("/cookies", "cookies%5Badditional%5D=yes");
  std::string jar = Jar(*accept);
  auto with = Get("/api/consent", jar, true);
  EXPECT_TRUE(Has(with->body, R"("allowed":{"usage":true})")) << with->body;
  std::string id = CookieValueOf(*accept, "steward_consent");
  ASSERT_EQ(records_->History(id)->size(), 1u);
  EXPECT_EQ(records_->History(id)->front().method, Method::kBanner);
}

TEST_F(ConsentTest, ARegisterChangeAsksEveryoneAgain) {
  Start("ons");
  auto r = Post("/cookies", "cookies%5Badditional%5D=yes");
  std::string jar = Jar(*r);
  EXPECT_FALSE(Has(Get("/", jar)->body, "data-steward-question"));
  // The register adds a purpose that needs consent: the old choice no longer counts.
  processing::Register changed = reg_;
  changed.purposes.push_back({.id = "surveys",
                              .description = "Ask what you think of the site",
                              .basis = processing::LawfulBasis::kConsent,
                              .withdraw = "On the cookies page"});
  Start("ons", &changed);
  auto after = Get("/", jar);
  EXPECT_TRUE(Has(after->body, "data-steward-question")) << "asked again";
  auto api = Get("/api/consent", jar);
  EXPECT_TRUE(Has(api->body, R"("choice_made":false)")) << api->body;
  EXPECT_TRUE(Has(api->body, R"("allowed":{"usage":false})")) << api->body;
}

TEST_F(ConsentTest, StatisticsExemptionInformsAndLetsPeopleObject) {
  processing::Register exempt = LoadRegister("ons");
  exempt.consent_mode = processing::ConsentMode::kStatisticsExemption;
  Start("ons", &exempt);
  auto home = Get("/");
  EXPECT_TRUE(Has(home->body, "You can reject them now or at any time")) << "informs, on the banner";
  auto api = Get("/api/consent");
  EXPECT_TRUE(Has(api->body, R"("mode":"statistics-exemption")")) << api->body;
  EXPECT_TRUE(Has(api->body, R"("allowed":{"usage":true})")) << "on until the visitor objects: " << api->body;
  EXPECT_TRUE(Has(Get("/api/consent", "", true)->body, R"("allowed":{"usage":false})")) << "GPC objects";
  auto page = Get("/cookies");
  EXPECT_TRUE(Has(page->body, R"(name="cookies[usage]" type="radio" value="yes" checked)"));
  EXPECT_TRUE(Has(Get("/privacy")->body, "unless you object")) << "the notice follows the mode";
  auto object = Post("/cookies", "cookies%5Badditional%5D=no");
  auto after = Get("/api/consent", Jar(*object));
  EXPECT_TRUE(Has(after->body, R"("allowed":{"usage":false})")) << after->body;
}

TEST_F(ConsentTest, CrossSitePostsAreRefused) {
  Start("ons");
  auto evil = Post("/cookies", "cookies%5Badditional%5D=yes", "", "https://evil.example");
  EXPECT_EQ(evil->status, 403);
  EXPECT_TRUE(evil->Headers("Set-Cookie").empty());
  auto none = Post("/cookies", "cookies%5Badditional%5D=yes", "", "");
  EXPECT_EQ(none->status, 403) << "neither Origin nor Sec-Fetch-Site";
  auto api = Post("/api/consent", R"({"additional":"yes"})", "", "https://evil.example", "text/plain");
  EXPECT_EQ(api->status, 403);
  EXPECT_TRUE(api->Header("Access-Control-Allow-Origin").empty());
  // The return address is never another site.
  auto r = Post("/cookies", "cookies%5Badditional%5D=no&return=%2F%2Fevil.example%2F");
  EXPECT_EQ(r->Header("Location"), "/");
  auto site = Post("/cookies", "cookies%5Badditional%5D=no&return=https%3A%2F%2Fwww.ons.gov.uk%2Fpeople");
  EXPECT_EQ(site->Header("Location"), "https://www.ons.gov.uk/people") << "an allowed script origin";
}

TEST_F(ConsentTest, TheApiRecordsAChoiceFromTheSitesOwnPages) {
  Start("ons");
  auto r = Post("/api/consent", R"({"additional":"yes"})", "", kSiteOrigin, "text/plain;charset=UTF-8");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), kSiteOrigin);
  EXPECT_EQ(r->Header("Access-Control-Allow-Credentials"), "true");
  EXPECT_TRUE(Has(r->body, R"("allowed":{"usage":true})")) << r->body;
  std::string id = CookieValueOf(*r, "steward_consent");
  EXPECT_EQ(records_->Current(id)->value().method, Method::kScript);
  auto state = Get("/api/consent", Jar(*r));
  EXPECT_TRUE(Has(state->body, R"("choice_made":true)")) << state->body;
  EXPECT_TRUE(Has(state->body, R"("method":"script")")) << state->body;
  EXPECT_TRUE(Has(state->body, "\"notice_version\":\"" + reg_.Version() + "\"")) << state->body;
  // Bad bodies are 400 with a reason, and nothing is set.
  for (const char* body : {"not json", R"({"additional":"perhaps"})", R"({"choices":{}})",
                           R"({"method":"staff","additional":"yes"})", "[]"}) {
    auto bad = Post("/api/consent", body, "", kOwnOrigin, "application/json");
    EXPECT_EQ(bad->status, 400) << body;
    EXPECT_TRUE(Has(bad->body, "\"errors\"")) << body;
    EXPECT_TRUE(bad->Headers("Set-Cookie").empty()) << body;
  }
  auto big = Post("/api/consent", std::string(4096, ' '), "", kOwnOrigin, "application/json");
  EXPECT_EQ(big->status, 413);
}

TEST_F(ConsentTest, TheBannerFragmentForOtherPages) {
  Start("ons");
  std::vector<http::HeaderField> h = {{"Origin", kSiteOrigin}};
  auto r = Fetch(server_->port(), "GET", "/cookies/banner?return=https%3A%2F%2Fwww.ons.gov.uk%2Feconomy", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(Has(r->body, "action=\"http://localhost/cookies\"")) << "posts back to Steward";
  EXPECT_TRUE(Has(r->body, "value=\"https://www.ons.gov.uk/economy\""));
  EXPECT_FALSE(Has(r->body, "<html")) << "a fragment, not a page";
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), kSiteOrigin);
  auto js = Get("/steward.js");
  EXPECT_EQ(js->status, 200);
  EXPECT_TRUE(Has(js->Header("Content-Type"), "javascript"));
}

TEST_F(ConsentTest, ASiteWithoutOptionalCookiesShowsNoBannerAndSetsNoCookie) {
  Start("civil-service");
  for (const char* path : {"/", "/privacy", "/cookies", "/cookies/banner"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_FALSE(Has(r->body, "govuk-cookie-banner")) << path;
    EXPECT_TRUE(r->Headers("Set-Cookie").empty()) << path;
  }
  EXPECT_TRUE(Has(Get("/cookies")->body, "does not use cookies"));
  EXPECT_TRUE(Get("/", "", true)->Headers("Set-Cookie").empty()) << "nothing to record for GPC either";
  EXPECT_EQ(Post("/cookies", "cookies%5Badditional%5D=yes")->status, 400);
}

TEST(CheckDeclaredTest, NamesEachCookieStewardWouldSetUndeclared) {
  auto reg = LoadRegister("ons");
  EXPECT_TRUE(CheckDeclared(reg, {"steward_staff", "steward_presession"}).ok());
  std::erase_if(reg.cookies, [](const processing::Cookie& c) { return c.name == "steward_consent"; });
  auto s = CheckDeclared(reg, {"steward_staff", "steward_unknown"});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Has(s.error().message, "steward_consent"));
  EXPECT_TRUE(Has(s.error().message, "steward_unknown"));
  EXPECT_FALSE(Has(s.error().message, "steward_staff"));
}

}  // namespace
}  // namespace steward::consent
