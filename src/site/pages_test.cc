#include "site/pages.h"

#include <gtest/gtest.h>

namespace steward::site {
namespace {

config::Site RepoSite(std::string name = "Demo <service>") {
  config::Site s;
  s.name = std::move(name);
  s.web_dir = std::string(STEWARD_SOURCE_DIR) + "/web";
  return s;
}

TEST(PagesTest, HomePageIsAGovukPageWithTheSiteNameEscaped) {
  auto pages = Pages::Load(RepoSite());
  ASSERT_TRUE(pages.ok()) << pages.error().ToString();
  auto html = (*pages)->Render("home", "Home", {});
  ASSERT_TRUE(html.ok()) << html.error().ToString();
  EXPECT_NE(html->find("<html lang=\"en\" class=\"govuk-template\">"), std::string::npos);
  EXPECT_NE(html->find("govuk-skip-link"), std::string::npos);
  EXPECT_NE(html->find("Demo &lt;service&gt;"), std::string::npos);
  EXPECT_EQ(html->find("Demo <service>"), std::string::npos);
  EXPECT_NE(html->find("href=\"/privacy\""), std::string::npos);
  EXPECT_NE(html->find("href=\"/cookies\""), std::string::npos);
  EXPECT_EQ(html->find("<script>"), std::string::npos) << "no inline script: the CSP forbids it";
}

TEST(PagesTest, ServesGovukFrontendAssets) {
  auto pages = Pages::Load(RepoSite());
  ASSERT_TRUE(pages.ok());
  http::Request req;
  EXPECT_EQ((*pages)->assets().Serve(req, "/static/govuk/govuk-frontend.min.css").status, 200);
  EXPECT_EQ((*pages)->assets().Serve(req, "/static/govuk/govuk-frontend.min.js").status, 200);
  EXPECT_EQ((*pages)->assets().Serve(req, "/assets/images/favicon.svg").status, 200);
  EXPECT_EQ((*pages)->assets().Serve(req, "/static/steward/js-enabled.js").status, 200);
}

TEST(PagesTest, ErrorPagesAreHtmlOrJsonForTheApi) {
  auto pages = Pages::Load(RepoSite());
  ASSERT_TRUE(pages.ok());
  http::Request req;
  req.path = "/missing";
  req.request_id = "0123456789abcdef";
  http::Response html = (*pages)->ErrorPage(404, &req);
  EXPECT_EQ(html.status, 404);
  EXPECT_NE(html.body.find("Page not found"), std::string::npos);
  EXPECT_NE(html.body.find("0123456789abcdef"), std::string::npos);
  req.path = "/api/event";
  http::Response json = (*pages)->ErrorPage(413, &req);
  EXPECT_EQ(json.Header("Content-Type"), "application/json");
  EXPECT_EQ(json.body, "{\"error\":\"What you sent is too large\",\"request_id\":\"0123456789abcdef\"}");
  EXPECT_EQ((*pages)->ErrorPage(431, nullptr).status, 431);
}

TEST(PagesTest, ErrorsFromBelowMapToStatusesInOnePlace) {
  auto pages = Pages::Load(RepoSite());
  ASSERT_TRUE(pages.ok());
  http::Request req;
  req.path = "/feedback";
  http::Response busy = (*pages)->ErrorFor(MakeError(ErrorCode::kResourceExhausted, "write queue is full"), req);
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.Header("Retry-After"), "1");
  EXPECT_EQ((*pages)->ErrorFor(MakeError(ErrorCode::kNotFound, "no case 7"), req).status, 404);
  EXPECT_EQ((*pages)->ErrorFor(MakeError(ErrorCode::kInvalidArgument, "bad"), req).status, 400);
  http::Response internal = (*pages)->ErrorFor(MakeError(ErrorCode::kDataLoss, "table t corrupt"), req);
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("table t corrupt"), std::string::npos) << "internals are logged, not shown";
}

TEST(PagesTest, MissingWebDirectoryIsAClearError) {
  config::Site s;
  s.web_dir = "/nonexistent/web";
  auto pages = Pages::Load(s);
  ASSERT_FALSE(pages.ok());
  EXPECT_EQ(pages.error().code, ErrorCode::kNotFound);
  EXPECT_NE(pages.error().message.find("/nonexistent/web/templates"), std::string::npos);
}

}  // namespace
}  // namespace steward::site
