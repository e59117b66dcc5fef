// The staff pages over HTTP, in process, with a fake clock: the whole permission matrix, CSRF,
// session fixation, expiry, the second factor, and that no /admin route escapes the guard.
#include <gtest/gtest.h>

#include <thread>

#include <fstream>

#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "admin/shell.h"
#include "app/site.h"
#include "consent/gate.h"
#include "consent/records.h"
#include "analytics/analytics.h"
#include "analytics/api_keys.h"
#include "logs/archive.h"
#include "logs/import.h"
#include "logs/stats.h"
#include "crypto/totp.h"
#include "http/server.h"
#include "http/testing/raw_client.h"
#include "rights/cases.h"
#include "disclosures/log.h"
#include "store/testing/scratch.h"

namespace steward {
namespace {

namespace fs = std::filesystem;
using http::testing::Fetch;
using http::testing::RawResponse;
using namespace std::chrono_literals;

std::string Extract(const std::string& html, const std::string& pattern) {
  std::smatch m;
  return std::regex_search(html, m, std::regex(pattern)) ? m[1].str() : "";
}

// The expected permission matrix (tests/fixtures/staff-permissions.txt): route -> roles allowed.
struct ExpectedRoute {
  http::Method method;
  std::string pattern;
  std::set<std::string> roles;
};
std::vector<ExpectedRoute> ExpectedMatrix() {
  std::ifstream in(std::string(STEWARD_SOURCE_DIR) + "/tests/fixtures/staff-permissions.txt");
  std::vector<ExpectedRoute> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string method, pattern, role;
    words >> method >> pattern;
    ExpectedRoute r{method == "POST" ? http::Method::kPost : http::Method::kGet, pattern, {}};
    while (words >> role) {
      if (role == "*") {
        for (staff::Role each : staff::AllRoles()) r.roles.insert(std::string(staff::RoleName(each)));
      } else {
        r.roles.insert(role);
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("steward-admin-test-" + crypto::RandomHex(8));
    // The demo site, counting one analytics domain, with its data in a scratch directory.
    std::string path = std::string(STEWARD_SOURCE_DIR) + "/examples/demo.toml";
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const std::string domains = "domains = [\"127.0.0.1\", \"localhost\", \"www.example.gov.uk\"]";
    ASSERT_NE(text.find(domains), std::string::npos);
    text.replace(text.find(domains), domains.size(), "domains = [\"www.example.gov.uk\"]");
    std::vector<std::string> tables = app::ModuleTables();
    auto config = config::Parse(text, path, &tables);
    ASSERT_TRUE(config.ok()) << config.error().message;
    config_ = std::move(*config);
    config_.storage.data_dir = dir_.string();
    config_.storage.secret_key_file = (dir_ / "secret.key").string();
    database_ = std::make_unique<store::testing::TestDatabase>(dir_);
    if (!database_->url().empty()) {
      config_.storage.backend = "postgresql";
      config_.storage.url = database_->url();
    }
    config_.server.public_base_url = "https://staff.example.gov.uk";
    auto site = app::Site::Open(config_, {.clock = &clock_});
    ASSERT_TRUE(site.ok()) << site.error().message;
    site_ = std::move(*site);
    store_ = &site_->store();
    key_ = &site_->key();
    trail_ = &site_->trail();
    reg_ = site_->reg();
    accounts_ = site_->services().Find<staff::Accounts>();
    sessions_ = site_->services().Find<staff::Sessions>();
    ASSERT_TRUE(accounts_ != nullptr && sessions_ != nullptr);
    gate_ = std::make_unique<consent::CookieGate>(reg_);
    consent_records_ = std::make_unique<consent::Records>(*store_, clock_, *key_);
    api_keys_ = std::make_unique<analytics::ApiKeys>(*store_, *key_, clock_);
    monitor_ = std::make_unique<logs::Monitor>(logs::SecurityRules{}, *key_);
    raw_logs_ = std::make_unique<logs::RawArchive>(
        (dir_ / "logs").string(), *key_, [this](std::string_view host) { return monitor_->ClientLabel(host); });
    http::Router router = site_->TakeRouter();
    routes_ = router.routes();  // for the coverage test; the server takes the router
    http::ServerOptions options = site_->ServerOptions();
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<http::Server>(std::move(options), std::move(router));
    ASSERT_TRUE(server_->Start().ok());
    site_->Started(server_->port());
  }
  void TearDown() override {
    server_.reset();
    site_.reset();
    database_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  int64_t MakeStaff(const std::string& email, std::vector<staff::Role> roles) {
    auto id = accounts_->Create(email, roles, {});
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(accounts_->SetPassword(*id, kPassword, {}).ok());
    return *id;
  }

  std::optional<RawResponse> Get(const std::string& path, const std::string& cookies = "") {
    std::vector<http::HeaderField> h;
    if (!cookies.empty()) h.push_back({"Cookie", cookies});
    return Fetch(server_->port(), "GET", path, h);
  }
  std::optional<RawResponse> Post(const std::string& path, const std::string& body, const std::string& cookies = "") {
    std::vector<http::HeaderField> h = {{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!cookies.empty()) h.push_back({"Cookie", cookies});
    return Fetch(server_->port(), "POST", path, h, body);
  }

  static std::string CookieFrom(const RawResponse& r, const std::string& name) {
    for (const auto& sc : r.Headers("Set-Cookie")) {
      if (sc.rfind(name + "=", 0) == 0) return sc.substr(name.size() + 1, sc.find(';') - name.size() - 1);
    }
    return "";
  }

  // Signs in over HTTP; returns the session cookie's value ("" on failure).
  std::string SignIn(const std::string& email, const std::string& extra_cookie = "") {
    auto page = Get("/admin/login");
    std::string pre = CookieFrom(*page, "steward_presession");
    std::string csrf = Extract(page->body, "name=\"csrf_token\" value=\"([0-9a-f]+)\"");
    std::string cookies = "steward_presession=" + pre + (extra_cookie.empty() ? "" : "; " + extra_cookie);
    auto r = Post("/admin/login",
                  "csrf_token=" + csrf + "&email=" + http::PercentEncode(email) +
                      "&password=" + http::PercentEncode(kPassword) + "&next=%2Fadmin",
                  cookies);
    last_login_ = *r;
    return CookieFrom(*r, "steward_staff");
  }

  std::string Csrf(const std::string& session) { return sessions_->CsrfToken(session); }

  static constexpr const char* kPassword = "purple tractor umbrella";
  fs::path dir_;
  std::unique_ptr<store::testing::TestDatabase> database_;
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  config::Config config_;
  std::unique_ptr<app::Site> site_;
  const crypto::SecretKey* key_ = nullptr;
  store::Store* store_ = nullptr;
  audit::Trail* trail_ = nullptr;
  staff::Accounts* accounts_ = nullptr;
  staff::Sessions* sessions_ = nullptr;
  processing::Register reg_;
  std::unique_ptr<consent::CookieGate> gate_;
  std::unique_ptr<consent::Records> consent_records_;
  std::unique_ptr<analytics::ApiKeys> api_keys_;
  std::unique_ptr<logs::Monitor> monitor_;
  std::unique_ptr<logs::RawArchive> raw_logs_;
  std::vector<http::Route> routes_;
  std::unique_ptr<http::Server> server_;
  RawResponse last_login_;
};

TEST_F(AdminTest, EveryAdminRouteIsInTheExpectedMatrixOrOpen) {
  auto expected = ExpectedMatrix();
  ASSERT_GT(expected.size(), 20u);
  int seen = 0;
  for (const http::Route& r : routes_) {
    if (!r.pattern.starts_with("/admin")) continue;
    ++seen;
    bool staff = std::any_of(expected.begin(), expected.end(),
                             [&](const ExpectedRoute& e) { return e.method == r.method && e.pattern == r.pattern; });
    bool open = std::any_of(admin::OpenRoutes().begin(), admin::OpenRoutes().end(),
                            [&](const auto& o) { return o.first == r.method && o.second == r.pattern; });
    EXPECT_TRUE(staff != open) << http::MethodName(r.method) << " " << r.pattern
                               << " must be in exactly one of tests/fixtures/staff-permissions.txt and OpenRoutes()";
  }
  EXPECT_EQ(seen, static_cast<int>(expected.size() + admin::OpenRoutes().size())) << "every expected route exists";
}

TEST_F(AdminTest, ThePermissionMatrix) {
  int64_t target = MakeStaff("target@example.gov.uk", {staff::Role::kCaseworker});
  MakeStaff("spare-admin@example.gov.uk", {staff::Role::kAdmin});
  std::map<staff::Role, std::string> emails;
  for (staff::Role role : staff::AllRoles()) {
    emails[role] = std::string(staff::RoleName(role)) + "@example.gov.uk";
    MakeStaff(emails[role], {role});
  }
  auto path_for = [&](std::string_view pattern) {
    std::string p(pattern);
    p = std::regex_replace(p, std::regex("\\{id\\}"), std::to_string(target));
    p = std::regex_replace(p, std::regex("\\{table\\}"), "new-accounts-by-route");
    return std::regex_replace(p, std::regex("\\{handle\\}"), "0000");
  };
  // Pages of one item ({id}) need the item: feedback up to the target's number.
  for (int64_t i = 0; i < target; ++i) {
    auto sent = Fetch(server_->port(), "POST", "/api/feedback",
                      {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "same-origin"}},
                      R"({"kind":"contact","message":"A question )" + std::to_string(i) + R"("})");
    ASSERT_TRUE(sent && sent->status == 202);
  }
  // And messages from social media, through a key of scope "messages".
  auto messages_key = api_keys_->Create("Social media tool", "staff:1", "", "messages");
  ASSERT_TRUE(messages_key.ok());
  std::string batch = R"({"messages":[)";
  for (int64_t i = 0; i < target; ++i) {
    batch += (i > 0 ? "," : "") + std::string(R"({"channel":"x","handle":"@person)") + std::to_string(i) +
             R"(","text":"A question","time":"2027-01-15T08:00:00Z"})";
  }
  batch += "]}";
  auto sent = Fetch(server_->port(), "POST", "/api/messages",
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + messages_key->secret}}, batch);
  ASSERT_TRUE(sent && sent->status == 202) << (sent ? sent->body : "");
  // And customer accounts, registered on the public form.
  for (int64_t i = 0; i < target; ++i) {
    auto registered =
        Fetch(server_->port(), "POST", "/account/register",
              {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "same-origin"}},
              "email=customer" + std::to_string(i) + "%40example.com&password=" + http::PercentEncode(kPassword) +
                  "&name=Customer+" + std::to_string(i));
    ASSERT_TRUE(registered && registered->status == 200) << (registered ? registered->body : "");
  }
  // And rights requests, as a caseworker records them.
  auto holidays = rights::BankHolidays::Load(config_.site.web_dir + "/data/bank-holidays.json");
  ASSERT_TRUE(holidays.ok()) << holidays.error().message;
  rights::Cases cases(*store_, *trail_, *key_, clock_, {.dataset = "rights-requests"}, *holidays);
  for (int64_t i = 0; i < target; ++i) {
    auto opened = cases.Open({.rights = {rights::Right::kAccess},
                              .channel = "letter",
                              .received = rights::UkDay(clock_.Now()),
                              .email = "asker" + std::to_string(i) + "@example.com"},
                             {.id = "staff:1"});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
  }
  // And requests for disclosure, decided and approved (so that the export is there to fetch).
  disclosures::Log log(*store_, *trail_, *key_, clock_);
  for (int64_t i = 0; i < target; ++i) {
    auto recorded = log.Record({.requester = "A police force",
                                .basis = disclosures::Basis::kCrimeAndTaxation,
                                .received = rights::UkDay(clock_.Now()),
                                .people = {*subject::Key::Make(subject::KeyKind::kEmail, "customer0@example.com")},
                                .asked = "Their account"},
                               {.id = "staff:1"});
    ASSERT_TRUE(recorded.ok()) << recorded.error().message;
    ASSERT_TRUE(
        log.Decide(*recorded, disclosures::Decision::kDisclose, "Needed", {"accounts"}, {.id = "staff:1"}).ok());
    ASSERT_TRUE(log.Approve(*recorded, true, "", {.id = "staff:2"}).ok());
  }
  auto expected = ExpectedMatrix();
  // No session: every staff route sends the person to sign in.
  for (const auto& r : expected) {
    auto res = r.method == http::Method::kGet ? Get(path_for(r.pattern)) : Post(path_for(r.pattern), "csrf_token=x");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 303) << r.pattern;
    EXPECT_EQ(res->Header("Location").rfind("/admin/login", 0), 0u) << r.pattern;
  }
  for (staff::Role role : staff::AllRoles()) {
    std::string session = SignIn(emails[role]);
    ASSERT_FALSE(session.empty()) << staff::RoleName(role);
    std::string cookie = "steward_staff=" + session;
    for (const auto& r : expected) {
      if (r.pattern == "/admin/logout") continue;  // last, below
      bool allowed = r.roles.count(std::string(staff::RoleName(role))) > 0;
      auto res = r.method == http::Method::kGet ? Get(path_for(r.pattern), cookie)
                                                : Post(path_for(r.pattern), "csrf_token=" + Csrf(session), cookie);
      ASSERT_TRUE(res) << r.pattern;
      std::string what = std::string(staff::RoleName(role)) + " " + std::string(http::MethodName(r.method)) + " " +
                         std::string(r.pattern);
      if (allowed) {
        EXPECT_NE(res->status, 403) << what;
        EXPECT_NE(res->Header("Location").rfind("/admin/login", 0), 0u) << what;
        if (r.method == http::Method::kGet) {
          EXPECT_EQ(res->status, 200) << what;
        }
      } else {
        EXPECT_EQ(res->status, 403) << what;
      }
    }
    auto out = Post("/admin/logout", "csrf_token=" + Csrf(session), cookie);
    EXPECT_EQ(out->status, 303);
    EXPECT_EQ(Get("/admin", cookie)->status, 303) << "signed out means signed out";
  }
}

TEST_F(AdminTest, CsrfMissingOrWrongIs403) {
  MakeStaff("boss@example.gov.uk", {staff::Role::kAdmin});
  std::string a = SignIn("boss@example.gov.uk");
  std::string b = SignIn("boss@example.gov.uk");
  std::string body = "email=new%40example.gov.uk&role=analyst";
  EXPECT_EQ(Post("/admin/staff", body, "steward_staff=" + a)->status, 403) << "missing";
  EXPECT_EQ(Post("/admin/staff", body + "&csrf_token=" + Csrf(b), "steward_staff=" + a)->status, 403)
      << "another session's";
  EXPECT_EQ(Post("/admin/staff", body + "&csrf_token=" + std::string(64, '0'), "steward_staff=" + a)->status, 403);
  EXPECT_EQ(Post("/admin/staff", body + "&csrf_token=" + Csrf(a), "steward_staff=" + a)->status, 200);
  EXPECT_TRUE(accounts_->FindByEmail("new@example.gov.uk")->has_value());
  auto denied = trail_->List({.action = "csrf.rejected", .limit = 10});
  EXPECT_EQ(denied->size(), 3u);
  // Sign-in itself needs the pre-session token.
  EXPECT_EQ(Post("/admin/login", "email=boss%40example.gov.uk&password=x")->status, 403);
}

TEST_F(AdminTest, SignInIssuesANewSessionId) {
  MakeStaff("boss@example.gov.uk", {staff::Role::kAdmin});
  std::string planted(64, 'a');
  std::string session = SignIn("boss@example.gov.uk", "steward_staff=" + planted);
  ASSERT_FALSE(session.empty());
  EXPECT_NE(session, planted);
  EXPECT_EQ(Get("/admin", "steward_staff=" + planted)->status, 303);
  EXPECT_EQ(Get("/admin", "steward_staff=" + session)->status, 200);
  std::string set = last_login_.Header("Set-Cookie");
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
}

TEST_F(AdminTest, SessionsEndWhenIdleOrTooOld) {
  MakeStaff("boss@example.gov.uk", {staff::Role::kAdmin});
  std::string idle = SignIn("boss@example.gov.uk");
  clock_.Advance(29min);
  EXPECT_EQ(Get("/admin", "steward_staff=" + idle)->status, 200);
  clock_.Advance(30min);
  auto r = Get("/admin/staff", "steward_staff=" + idle);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(r->Header("Location"), "/admin/login?next=%2Fadmin%2Fstaff") << "back to where they were, after signing in";

  std::string busy = SignIn("boss@example.gov.uk");
  for (int i = 0; i < 47; ++i) {
    clock_.Advance(15min);
    ASSERT_EQ(Get("/admin", "steward_staff=" + busy)->status, 200) << i;
  }
  clock_.Advance(15min);
  EXPECT_EQ(Get("/admin", "steward_staff=" + busy)->status, 303) << "12 hours at most";
}

// Expired sessions are refused when used, and removed by the staff module's hourly task, so that a
// site serving for months keeps none it no longer honours.
TEST_F(AdminTest, ExpiredSessionsAreRemovedByTheHourlyTask) {
  MakeStaff("boss@example.gov.uk", {staff::Role::kAdmin});
  ASSERT_FALSE(SignIn("boss@example.gov.uk").empty());
  auto count = [&] {
    int64_t n = -1;
    EXPECT_TRUE(store_
                    ->Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM staff_sessions"));
                      n = rows.front().Int(0);
                      return Ok();
                    })
                    .ok());
    return n;
  };
  ASSERT_EQ(count(), 1);
  site_->StartTasks();
  // Time moves on a minute at a time (whenever the tasks' threads took their start time, the first
  // run falls due), past the 30 idle minutes that end a session.
  for (int i = 0; i < 400 && count() != 0; ++i) {
    clock_.Advance(1min);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(count(), 0);
}

TEST_F(AdminTest, WrongPasswordAndUnknownEmailLookTheSame) {
  MakeStaff("boss@example.gov.uk", {staff::Role::kAdmin});
  auto page = Get("/admin/login");
  std::string pre = "steward_presession=" + CookieFrom(*page, "steward_presession");
  std::string csrf = Extract(page->body, "name=\"csrf_token\" value=\"([0-9a-f]+)\"");
  auto wrong = Post("/admin/login", "csrf_token=" + csrf + "&email=boss%40example.gov.uk&password=nope", pre);
  auto unknown = Post("/admin/login", "csrf_token=" + csrf + "&email=who%40example.gov.uk&password=nope", pre);
  EXPECT_EQ(wrong->status, unknown->status);
  EXPECT_NE(wrong->body.find("Enter a correct email address and password"), std::string::npos);
  EXPECT_NE(unknown->body.find("Enter a correct email address and password"), std::string::npos);
  EXPECT_NE(wrong->body.find("govuk-error-summary"), std::string::npos);
  EXPECT_TRUE(CookieFrom(*wrong, "steward_staff").empty());
}

// The sign-in form's token lives two hours; a pre-session cookie Steward did not make, or made with
// another time, is refused.
TEST_F(AdminTest, ThePreSessionTokenExpires) {
  MakeStaff("boss@example.gov.uk", {staff::Role::kAdmin});
  auto page = Get("/admin/login");
  std::string value = CookieFrom(*page, "steward_presession");
  std::string pre = "steward_presession=" + value;
  std::string csrf = Extract(page->body, "name=\"csrf_token\" value=\"([0-9a-f]+)\"");
  std::string form = "csrf_token=" + csrf + "&email=boss%40example.gov.uk&password=" + http::PercentEncode(kPassword);
  clock_.Advance(std::chrono::hours(2) + std::chrono::seconds(1));
  EXPECT_EQ(Post("/admin/login", form, pre)->status, 403) << "two hours on";
  // Moving the time inside the cookie breaks its MAC.
  std::string moved = value;
  size_t dot = moved.find('.');
  moved.replace(dot + 1, 10, std::to_string(1'800'000'000 + 7200));
  EXPECT_EQ(Post("/admin/login", "csrf_token=" + Csrf("pre:" + moved) + form.substr(form.find('&')),
                 "steward_presession=" + moved)
                ->status,
            403);
  // A fresh page gives a fresh cookie that works.
  auto again = Get("/admin/login", pre);
  std::string fresh = CookieFrom(*again, "steward_presession");
  ASSERT_FALSE(fresh.empty()) << "an expired cookie is replaced";
  std::string token = Extract(again->body, "name=\"csrf_token\" value=\"([0-9a-f]+)\"");
  auto ok = Post("/admin/login", "csrf_token=" + token + form.substr(form.find('&')), "steward_presession=" + fresh);
  EXPECT_EQ(ok->status, 303);
}

TEST_F(AdminTest, SecondFactorOverHttp) {
  int64_t id = MakeStaff("boss@example.gov.uk", {staff::Role::kAdmin});
  std::string session = SignIn("boss@example.gov.uk");
  std::string cookie = "steward_staff=" + session;
  auto started = Post("/admin/account/second-factor/start", "csrf_token=" + Csrf(session), cookie);
  std::string secret_b32 = Extract(started->body, "class=\"steward-totp-secret\">([A-Z2-7]+)<");
  ASSERT_FALSE(secret_b32.empty()) << started->body;
  std::string secret = *crypto::Base32Decode(secret_b32);
  int64_t now = 1'800'000'000;
  auto confirmed = Post("/admin/account/second-factor/confirm",
                        "csrf_token=" + Csrf(session) + "&code=" + crypto::TotpCode(secret, now), cookie);
  EXPECT_NE(confirmed->body.find("Your second factor is set up"), std::string::npos);
  EXPECT_NE(confirmed->body.find("steward-recovery-codes"), std::string::npos);
  Post("/admin/logout", "csrf_token=" + Csrf(session), cookie);

  std::string pending = SignIn("boss@example.gov.uk");
  EXPECT_EQ(last_login_.Header("Location"), "/admin/login/code");
  EXPECT_EQ(Get("/admin", "steward_staff=" + pending)->Header("Location"), "/admin/login/code")
      << "no staff page before the code";
  clock_.Advance(30s);
  auto wrong = Post("/admin/login/code", "csrf_token=" + Csrf(pending) + "&code=000000", "steward_staff=" + pending);
  EXPECT_NE(wrong->body.find("The code is not right"), std::string::npos);
  auto right = Post("/admin/login/code", "csrf_token=" + Csrf(pending) + "&code=" + crypto::TotpCode(secret, now + 30),
                    "steward_staff=" + pending);
  EXPECT_EQ(right->status, 303);
  std::string full = CookieFrom(*right, "steward_staff");
  EXPECT_NE(full, pending) << "a new id after the second factor";
  EXPECT_EQ(Get("/admin", "steward_staff=" + full)->status, 200);
  EXPECT_EQ(Get("/admin", "steward_staff=" + pending)->status, 303);

  // Removing it asks for the password again: a session left open is not enough.
  auto page = Get("/admin/account/second-factor", "steward_staff=" + full);
  EXPECT_NE(page->body.find("autocomplete=\"current-password\""), std::string::npos);
  auto without = Post("/admin/account/second-factor/remove", "csrf_token=" + Csrf(full), "steward_staff=" + full);
  EXPECT_EQ(without->status, 400);
  EXPECT_NE(without->body.find("Enter your password"), std::string::npos);
  auto wrong_password = Post("/admin/account/second-factor/remove", "csrf_token=" + Csrf(full) + "&password=nope",
                             "steward_staff=" + full);
  EXPECT_EQ(wrong_password->status, 400);
  EXPECT_NE(wrong_password->body.find("Enter your correct password"), std::string::npos);
  EXPECT_TRUE(accounts_->Find(id)->totp_enabled);
  auto removed =
      Post("/admin/account/second-factor/remove",
           "csrf_token=" + Csrf(full) + "&password=" + http::PercentEncode(kPassword), "steward_staff=" + full);
  EXPECT_EQ(removed->status, 303);
  EXPECT_FALSE(accounts_->Find(id)->totp_enabled);

  // A new password ends every session signed in with the old one.
  ASSERT_TRUE(accounts_->SetPassword(id, "a brand new long passphrase", {}).ok());
  EXPECT_EQ(Get("/admin", "steward_staff=" + full)->status, 303);
}

TEST_F(AdminTest, TheDpoReadsTheRecordOfProcessing) {
  MakeStaff("dpo@example.gov.uk", {staff::Role::kDpo});
  std::string session = SignIn("dpo@example.gov.uk");
  auto page = Get("/admin/ropa", "steward_staff=" + session);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Record of processing activities"), std::string::npos);
  EXPECT_NE(page->body.find("legitimate-interests (Article 6(1)(f))"), std::string::npos);
  EXPECT_NE(page->body.find("12 months, then deleted"), std::string::npos);
  auto csv = Get("/admin/ropa.csv", "steward_staff=" + session);
  ASSERT_EQ(csv->status, 200);
  EXPECT_EQ(csv->Header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_NE(csv->Header("Content-Disposition").find("attachment"), std::string::npos);
  EXPECT_EQ(csv->body.rfind("Purpose of processing,", 0), 0u);
}

TEST_F(AdminTest, TheDpoShowsTheRecordOfAChoiceAndRecordsOneMadeByPhone) {
  std::string id = consent::NewConsentId();
  ASSERT_TRUE(consent_records_
                  ->Record({.consent_id = id,
                            .notice_version = reg_.Version(),
                            .consent_version = gate_->version(),
                            .choices = {{"usage", true}},
                            .method = consent::Method::kBanner})
                  .ok());
  int64_t dpo = MakeStaff("dpo@example.gov.uk", {staff::Role::kDpo});
  std::string session = SignIn("dpo@example.gov.uk");
  auto page = Get("/admin/consent?reference=" + id, "steward_staff=" + session);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("usage: yes"), std::string::npos);
  EXPECT_NE(page->body.find("Cookie banner"), std::string::npos);
  EXPECT_NE(page->body.find("<code>" + reg_.Version() + "</code>"), std::string::npos) << "with its notice version";
  auto bad = Get("/admin/consent?reference=%3Cscript%3E", "steward_staff=" + session);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body.find("<script>"), std::string::npos);
  auto rec = Post("/admin/consent", "csrf_token=" + Csrf(session) + "&reference=" + id + "&cookies%5Busage%5D=no",
                  "steward_staff=" + session);
  ASSERT_EQ(rec->status, 200);
  EXPECT_NE(rec->body.find("Choice recorded."), std::string::npos);
  auto history = consent_records_->History(id);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ(history->front().method, consent::Method::kStaff);
  EXPECT_EQ(history->front().recorded_by, "staff:" + std::to_string(dpo));
  EXPECT_FALSE(history->front().choices.at("usage"));
  auto trail = trail_->List({.action = "consent."});
  ASSERT_TRUE(trail.ok());
  EXPECT_EQ(trail->size(), 3u) << "each view (before and after) and the recording are audited";
}

TEST_F(AdminTest, TheAnalystReadsTheDashboardAndDownloadsCsv) {
  int64_t now = UnixMillis(clock_.Now());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_
                    ->Write([&](store::Connection& c) -> Status {
                      auto n = c.Exec(
                          "INSERT INTO analytics_events (ts, site, name, hostname, path, source, visitor, visit) "
                          "VALUES (?, 'example.gov.uk', 'pageview', 'example.gov.uk', ?, ?, ?, ?)",
                          {now - i * 3'600'000, i == 0 ? "/" : "/guidance", i == 0 ? "=cmd|' /C calc'!A0" : "Google",
                           int64_t{i}, int64_t{i}});
                      if (!n.ok()) return n.error();
                      return Ok();
                    })
                    .ok());
  }
  MakeStaff("ana@example.gov.uk", {staff::Role::kAnalyst});
  std::string session = SignIn("ana@example.gov.uk");
  auto page = Get("/admin/analytics?period=7d", "steward_staff=" + session);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Unique visitors"), std::string::npos);
  EXPECT_NE(page->body.find("/guidance"), std::string::npos);
  EXPECT_NE(page->body.find("<svg role=\"img\""), std::string::npos);
  EXPECT_NE(page->body.find("Last 7 days"), std::string::npos);
  auto csv = Get("/admin/analytics.csv?table=page&period=30d", "steward_staff=" + session);
  ASSERT_EQ(csv->status, 200);
  EXPECT_EQ(csv->Header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv->body.rfind("page,visitors,count\r\n/guidance,2,2\r\n", 0), 0u) << csv->body;
  auto sources = Get("/admin/analytics.csv?table=source&period=30d", "steward_staff=" + session);
  EXPECT_NE(sources->body.find("\r\n'=cmd|' /C calc'!A0,1,1"), std::string::npos) << "not a formula: " << sources->body;
  EXPECT_EQ(Get("/admin/analytics?period=forever", "steward_staff=" + session)->status, 400);
  EXPECT_EQ(Get("/admin/analytics?period=custom&from=2027-02-01&to=2027-01-01", "steward_staff=" + session)->status,
            400);
  EXPECT_EQ(Get("/admin/analytics.csv?table=secrets", "steward_staff=" + session)->status, 400);
  EXPECT_EQ(Get("/admin/analytics?site=elsewhere.uk", "steward_staff=" + session)->status, 400);
}

TEST_F(AdminTest, TheAnalystMakesAnApiKeySeesItOnceAndRevokesIt) {
  int64_t analyst = MakeStaff("ana@example.gov.uk", {staff::Role::kAnalyst});
  std::string session = SignIn("ana@example.gov.uk");
  auto page = Get("/admin/analytics/keys", "steward_staff=" + session);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("No keys yet."), std::string::npos);
  EXPECT_EQ(Post("/admin/analytics/keys", "name=Dashboard", "steward_staff=" + session)->status, 403) << "CSRF";
  auto empty = Post("/admin/analytics/keys", "csrf_token=" + Csrf(session) + "&name=", "steward_staff=" + session);
  EXPECT_EQ(empty->status, 400);
  EXPECT_NE(empty->body.find("govuk-error-summary"), std::string::npos);

  auto made = Post("/admin/analytics/keys", "csrf_token=" + Csrf(session) + "&name=%3Cb%3EPerformance%3C%2Fb%3E",
                   "steward_staff=" + session);
  ASSERT_EQ(made->status, 200);
  EXPECT_EQ(made->Header("Cache-Control"), "no-store");
  std::string secret = Extract(made->body, "<code id=\"new-key\" class=\"steward-break\">(stw_[0-9a-f]+)</code>");
  ASSERT_EQ(secret.size(), 52u);
  EXPECT_EQ(made->body.find("<b>Performance"), std::string::npos) << "the name is escaped";
  EXPECT_TRUE(api_keys_->Verify(secret).has_value());
  auto again = Get("/admin/analytics/keys", "steward_staff=" + session);
  EXPECT_EQ(again->body.find(secret), std::string::npos) << "shown once, never again";
  EXPECT_NE(again->body.find(secret.substr(0, 8)), std::string::npos) << "only its start";

  int64_t id = api_keys_->List()->front().id;
  auto revoked = Post("/admin/analytics/keys/" + std::to_string(id) + "/revoke", "csrf_token=" + Csrf(session),
                      "steward_staff=" + session);
  ASSERT_EQ(revoked->status, 200);
  EXPECT_NE(revoked->body.find("Key revoked."), std::string::npos);
  EXPECT_FALSE(api_keys_->Verify(secret).has_value());
  EXPECT_EQ(Post("/admin/analytics/keys/999/revoke", "csrf_token=" + Csrf(session), "steward_staff=" + session)->status,
            404);
  auto trail = trail_->List({.action = "analytics."});
  ASSERT_TRUE(trail.ok());
  ASSERT_EQ(trail->size(), 2u);
  EXPECT_EQ(trail->back().entry.action, "analytics.api_key_created");
  EXPECT_EQ(trail->back().entry.actor, "staff:" + std::to_string(analyst));

  MakeStaff("case@example.gov.uk", {staff::Role::kCaseworker});
  EXPECT_EQ(Get("/admin/analytics/keys", "steward_staff=" + SignIn("case@example.gov.uk"))->status, 403);
}

TEST_F(AdminTest, AccessLogsForTheAnalystAlertsAndEvidenceForSecurity) {
  std::string log;
  for (int i = 0; i < 3; ++i) {
    log += "203.0.113.5 - - [30/Dec/2026:10:00:0" + std::to_string(i) +
           " +0000] \"GET /guidance HTTP/1.1\" 200 100 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
           "Gecko/20100101 Firefox/128.0\"\n";
  }
  log += "198.51.100.9 - - [30/Dec/2026:10:01:00 +0000] \"GET /.env HTTP/1.1\" 404 0 \"-\" \"curl/8.0\"\n";
  std::string path = (dir_ / "access.log").string();
  { std::ofstream(path) << log; }
  logs::Importer importer(*store_, *key_, clock_, nullptr, monitor_.get(), raw_logs_.get());
  importer.RecordAlertsIn(trail_);
  ASSERT_EQ(importer.ImportFile(path, *logs::LogFormat::Preset("combined"))->imported, 4);
  auto raised = trail_->List({.action = "security."});
  ASSERT_TRUE(raised.ok());
  ASSERT_EQ(raised->size(), 1u) << "the alert is in the audit trail";
  EXPECT_EQ(raised->front().entry.action, "security.alerts_raised");
  EXPECT_EQ(raised->front().entry.actor, "system");
  EXPECT_EQ(raised->front().entry.target.rfind("alerts:", 0), 0u);
  EXPECT_NE(std::find(raised->front().entry.details.begin(), raised->front().entry.details.end(),
                      std::pair<std::string, std::string>{"attack-path", "1"}),
            raised->front().entry.details.end());
  // The same probe again within the hour adds to that alert: no second entry.
  {
    std::ofstream(path, std::ios::app)
        << "198.51.100.9 - - [30/Dec/2026:10:02:00 +0000] \"GET /.env HTTP/1.1\" 404 0 \"-\" \"curl/8.0\"\n";
  }
  ASSERT_EQ(importer.ImportFile(path, *logs::LogFormat::Preset("combined"))->imported, 1);
  EXPECT_EQ(trail_->List({.action = "security."})->size(), 1u);
  clock_.Set(SystemTime(std::chrono::seconds(1'798'675'200)));  // 2026-12-31

  MakeStaff("ana@example.gov.uk", {staff::Role::kAnalyst});
  std::string analyst = SignIn("ana@example.gov.uk");
  auto page = Get("/admin/logs?period=7d", "steward_staff=" + analyst);
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_NE(page->body.find("/guidance"), std::string::npos);
  EXPECT_NE(page->body.find("Total requests"), std::string::npos);
  EXPECT_NE(page->body.find("<title>30 Dec: 5 requests, 1 visitors</title>"), std::string::npos)
      << "the day's bar, as on the analytics dashboard (the 404 is no visitor)";
  EXPECT_NE(page->body.find("<title>25 Dec: 0 requests, 0 visitors</title>"), std::string::npos)
      << "every day in the period";
  EXPECT_EQ(page->body.find("203.0.113.5"), std::string::npos);
  auto csv = Get("/admin/logs.csv?period=30d", "steward_staff=" + analyst);
  EXPECT_NE(csv->body.find("requests,/guidance,3,1,300"), std::string::npos) << csv->body;
  EXPECT_EQ(Get("/admin/logs?period=forever", "steward_staff=" + analyst)->status, 400);
  EXPECT_EQ(Get("/admin/security", "steward_staff=" + analyst)->status, 403) << "alerts are for the security role";

  MakeStaff("sec@example.gov.uk", {staff::Role::kSecurity});
  std::string security = SignIn("sec@example.gov.uk");
  auto alerts = Get("/admin/security?period=7d", "steward_staff=" + security);
  ASSERT_EQ(alerts->status, 200);
  EXPECT_NE(alerts->body.find("attack-path"), std::string::npos);
  EXPECT_EQ(alerts->body.find("198.51.100.9"), std::string::npos) << "no address until the evidence is opened";
  std::string id = Extract(alerts->body, "/admin/security/([0-9]+)/evidence");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Post("/admin/security/" + id + "/evidence?period=7d", "", "steward_staff=" + security)->status, 403)
      << "CSRF";
  auto opened = Post("/admin/security/" + id + "/evidence?period=7d", "csrf_token=" + Csrf(security),
                     "steward_staff=" + security);
  ASSERT_EQ(opened->status, 200);
  EXPECT_NE(opened->body.find("198.51.100.9"), std::string::npos);
  EXPECT_EQ(opened->Header("Cache-Control"), "no-store");
  auto trail = trail_->List({.action = "logs."});
  ASSERT_TRUE(trail.ok());
  ASSERT_EQ(trail->size(), 1u);
  EXPECT_EQ(trail->front().entry.target, "alert:" + id);

  // The alert's client, searched in the raw lines kept.
  std::string client = Extract(alerts->body, "/admin/security/search\\?client=(c-[0-9a-f]{12})");
  ASSERT_EQ(client, monitor_->ClientLabel("198.51.100.9"));
  auto form = Get("/admin/security/search?client=" + client, "steward_staff=" + security);
  ASSERT_EQ(form->status, 200);
  EXPECT_NE(form->body.find("value=\"" + client + "\""), std::string::npos) << "filled in from the alert";
  EXPECT_NE(form->body.find("2026-12"), std::string::npos) << "the months kept";
  EXPECT_EQ(Get("/admin/security/search", "steward_staff=" + analyst)->status, 403);
  EXPECT_EQ(Post("/admin/security/search", "client=" + client, "steward_staff=" + security)->status, 403) << "CSRF";
  auto found =
      Post("/admin/security/search", "csrf_token=" + Csrf(security) + "&client=" + client, "steward_staff=" + security);
  ASSERT_EQ(found->status, 200) << found->body;
  EXPECT_NE(found->body.find("2 matching lines"), std::string::npos) << found->body;
  EXPECT_NE(found->body.find("198.51.100.9 - - [30/Dec/2026:10:01:00 +0000] &quot;GET /.env"), std::string::npos)
      << "the line, escaped";
  EXPECT_EQ(found->Header("Cache-Control"), "no-store");
  auto by_range =
      Post("/admin/security/search",
           "csrf_token=" + Csrf(security) + "&ip=203.0.113.0%2F24&path=%2Fguid&from=2026-12-30&to=2026-12-30",
           "steward_staff=" + security);
  EXPECT_NE(by_range->body.find("3 matching lines"), std::string::npos) << by_range->body;
  auto script = Post("/admin/security/search", "csrf_token=" + Csrf(security) + "&path=%3Cscript%3E",
                     "steward_staff=" + security);
  EXPECT_EQ(script->status, 400);
  EXPECT_EQ(script->body.find("<script>"), std::string::npos);
  EXPECT_NE(script->body.find("Enter a path that starts with /"), std::string::npos);
  EXPECT_EQ(Post("/admin/security/search", "csrf_token=" + Csrf(security), "steward_staff=" + security)->status, 400);
  EXPECT_EQ(
      Post("/admin/security/search", "csrf_token=" + Csrf(security) + "&ip=10.0.0.0%2F99", "steward_staff=" + security)
          ->status,
      400);
  auto searched = trail_->List({.action = "logs.raw_searched"});
  ASSERT_TRUE(searched.ok());
  ASSERT_EQ(searched->size(), 2u) << "the two searches that ran";
  for (const auto& e : *searched) {
    for (const auto& [k, v] : e.entry.details) EXPECT_EQ(v.find("198.51.100"), std::string::npos) << k;
  }
}

TEST_F(AdminTest, FirstAdminSetupThenAddAnAnalystAllAudited) {
  auto token = accounts_->IssueSetupToken(std::nullopt, {});
  auto page = Get("/admin/setup/" + *token);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Set up the first administrator"), std::string::npos);
  std::string pre = "steward_presession=" + CookieFrom(*page, "steward_presession");
  std::string csrf = Extract(page->body, "name=\"csrf_token\" value=\"([0-9a-f]+)\"");
  auto mismatch = Post("/admin/setup/" + *token,
                       "csrf_token=" + csrf +
                           "&email=boss%40example.gov.uk&password=" + http::PercentEncode(kPassword) + "&confirm=other",
                       pre);
  EXPECT_NE(mismatch->body.find("The passwords do not match"), std::string::npos);
  auto done = Post("/admin/setup/" + *token,
                   "csrf_token=" + csrf + "&email=boss%40example.gov.uk&password=" + http::PercentEncode(kPassword) +
                       "&confirm=" + http::PercentEncode(kPassword),
                   pre);
  EXPECT_EQ(done->Header("Location"), "/admin/login?setup=1");
  EXPECT_EQ(Get("/admin/setup/" + *token)->status, 404) << "once only";

  std::string session = SignIn("boss@example.gov.uk");
  auto added = Post("/admin/staff", "csrf_token=" + Csrf(session) + "&email=ana%40example.gov.uk&role=analyst",
                    "steward_staff=" + session);
  EXPECT_NE(added->body.find("Staff member added"), std::string::npos);
  EXPECT_NE(added->body.find("https://staff.example.gov.uk/admin/setup/"), std::string::npos);
  auto audit_page = Get("/admin/audit?action=staff.", "steward_staff=" + session);
  EXPECT_EQ(audit_page->status, 200);
  EXPECT_NE(audit_page->body.find("staff.created"), std::string::npos);
  EXPECT_EQ(audit_page->body.find("ana@example.gov.uk"), std::string::npos) << "ids, not emails, in the trail";
  auto records = trail_->List({.action = "staff.created", .limit = 10});
  EXPECT_EQ(records->size(), 2u);
}

}  // namespace
}  // namespace steward
