#include "consent/gate.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "crypto/crypto.h"
#include "http/server.h"
#include "http/testing/raw_client.h"
#include "metrics/metrics.h"

namespace steward::consent {
namespace {

using http::SetCookie;

processing::Register Load(const std::string& example) {
  EXPECT_TRUE(crypto::Init().ok());
  auto c = config::Load(std::string(STEWARD_SOURCE_DIR) + "/examples/" + example + ".toml");
  EXPECT_TRUE(c.ok()) << c.error().message;
  auto r = processing::FromDocument(*c->document);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return *r;
}

http::Request WithCookie(const std::string& cookie, bool gpc = false) {
  http::Request r;
  if (!cookie.empty()) r.headers.push_back({"Cookie", cookie});
  if (gpc) r.headers.push_back({"Sec-GPC", "1"});
  return r;
}

TEST(GateTest, ConsentModeAllowsNothingOptionalUntilAccepted) {
  auto reg = Load("ons");
  CookieGate gate(reg);
  SetCookie visitor{.name = "steward_visitor", .value = "x"};
  SetCookie policy{.name = "cookies_policy", .value = "x"};
  EXPECT_FALSE(gate.Allow(WithCookie(""), {visitor}, visitor)) << "no choice yet";
  EXPECT_TRUE(gate.Allow(WithCookie(""), {policy}, policy)) << "essential";
  std::string accepted = "cookies_policy=" + gate.PolicyValue({{"usage", true}});
  std::string rejected = "cookies_policy=" + gate.PolicyValue({{"usage", false}});
  EXPECT_TRUE(gate.Allow(WithCookie(accepted), {visitor}, visitor));
  EXPECT_FALSE(gate.Allow(WithCookie(rejected), {visitor}, visitor));
  EXPECT_TRUE(gate.Allow(WithCookie(accepted, /*gpc=*/true), {visitor}, visitor)) << "an explicit choice beats GPC";
  SetCookie undeclared{.name = "_hjSession", .value = "x"};
  EXPECT_FALSE(gate.Allow(WithCookie(accepted), {undeclared}, undeclared)) << "undeclared: never";
  EXPECT_TRUE(gate.Allow(WithCookie(""), {SetCookie::Expired("_hjSession")}, SetCookie::Expired("_hjSession")))
      << "deleting is always allowed";
}

TEST(GateTest, AChoiceInTheSameResponseCounts) {
  auto reg = Load("ons");
  CookieGate gate(reg);
  SetCookie policy{.name = "cookies_policy", .value = gate.PolicyValue({{"usage", true}})};
  SetCookie visitor{.name = "steward_visitor", .value = "x"};
  EXPECT_TRUE(gate.Allow(WithCookie(""), {policy, visitor}, visitor));
  std::string old = "cookies_policy=" + gate.PolicyValue({{"usage", true}});
  SetCookie withdraw{.name = "cookies_policy", .value = gate.PolicyValue({{"usage", false}})};
  EXPECT_FALSE(gate.Allow(WithCookie(old), {withdraw, visitor}, visitor)) << "withdrawing in this response wins";
}

TEST(GateTest, AChoiceForAnOlderVersionDoesNotCount) {
  auto reg = Load("ons");
  CookieGate gate(reg);
  std::string stale = "cookies_policy=%7B%22essential%22%3Atrue%2C%22usage%22%3Atrue%2C%22version%22%3A%22old%22%7D";
  EXPECT_FALSE(gate.CurrentChoice(WithCookie(stale)).made);
  std::string govuk_shape = "cookies_policy={\"essential\":true,\"usage\":true,\"version\":\"" + gate.version() + "\"}";
  EXPECT_TRUE(gate.CurrentChoice(WithCookie(govuk_shape)).made) << "raw JSON, as GOV.UK scripts write it";
  auto changed = reg;
  changed.purposes.push_back({.id = "surveys",
                              .description = "Surveys",
                              .basis = processing::LawfulBasis::kConsent,
                              .withdraw = "Cookies page"});
  EXPECT_NE(CookieGate(changed).version(), gate.version()) << "a new consent purpose asks everyone again";
}

TEST(GateTest, StatisticsExemptionAllowsUsageUnlessObjectedOrGpc) {
  auto reg = Load("ons");
  reg.consent_mode = processing::ConsentMode::kStatisticsExemption;
  CookieGate gate(reg);
  SetCookie visitor{.name = "steward_visitor", .value = "x"};
  EXPECT_TRUE(gate.Allow(WithCookie(""), {visitor}, visitor));
  EXPECT_FALSE(gate.Allow(WithCookie("", /*gpc=*/true), {visitor}, visitor)) << "GPC is an objection";
  std::string objected = "cookies_policy=" + gate.PolicyValue({{"usage", false}});
  EXPECT_FALSE(gate.Allow(WithCookie(objected), {visitor}, visitor));
}

TEST(GateTest, NoRouteGetsACookiePastTheGate) {
  auto reg = Load("ons");
  CookieGate gate(reg);
  metrics::Registry registry;
  http::Router router;
  router.Get("/sets", [](http::Request&) {
    http::Response r = http::Response::Text("ok");
    r.cookies.push_back({.name = "steward_visitor", .value = "v1"});
    r.cookies.push_back({.name = "_tracker", .value = "t"});
    r.cookies.push_back({.name = "cookies_preferences_set", .value = "true"});
    r.headers.push_back({"Set-Cookie", "_sneaky=1; Path=/"});  // around the cookie list: dropped too
    return r;
  });
  http::ServerOptions options;
  options.metrics = &registry;
  options.cookie_gate = [&gate](const http::Request& req, const std::vector<SetCookie>& all, const SetCookie& c) {
    return gate.Allow(req, all, c);
  };
  http::Server server(std::move(options), std::move(router));
  ASSERT_TRUE(server.Start().ok());

  auto none = http::testing::Fetch(server.port(), "GET", "/sets");
  ASSERT_TRUE(none);
  auto set = none->Headers("Set-Cookie");
  ASSERT_EQ(set.size(), 1u) << "only the essential cookie";
  EXPECT_EQ(set[0].rfind("cookies_preferences_set=true", 0), 0u);

  auto accepted = http::testing::Fetch(server.port(), "GET", "/sets",
                                       {{"Cookie", "cookies_policy=" + gate.PolicyValue({{"usage", true}})}});
  set = accepted->Headers("Set-Cookie");
  EXPECT_EQ(set.size(), 2u) << "the usage cookie too, never the undeclared one";
  for (const auto& c : set) EXPECT_EQ(c.find("_tracker"), std::string::npos);
  EXPECT_NE(registry.Render().find("steward_http_cookies_refused_total{route=\"/sets\"} 5"), std::string::npos)
      << registry.Render();
}

TEST(GateDeathTest, HandlersCannotSetCookiesAsHeaders) {
  http::Response r;
  EXPECT_DEATH(r.SetHeader("Set-Cookie", "sneaky=1"), "cookies go through Response::cookies");
  EXPECT_DEATH(r.SetHeader("set-cookie", "sneaky=1"), "cookies go through Response::cookies");
}

}  // namespace
}  // namespace steward::consent
