// The notice and cookie pages for every example site, against golden files a reviewer can read in
// tests/golden/. Run with STEWARD_UPDATE_GOLDEN=1 to rewrite them after a deliberate change.
#include "notice/notice.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "crypto/crypto.h"

namespace steward::notice {
namespace {

struct Site {
  config::Config config;
  processing::Register reg;
  std::unique_ptr<site::Pages> pages;
};

Site Load(const std::string& example) {
  EXPECT_TRUE(crypto::Init().ok());
  Site s;
  auto c = config::Load(std::string(STEWARD_SOURCE_DIR) + "/examples/" + example + ".toml");
  EXPECT_TRUE(c.ok()) << c.error().message;
  s.config = *c;
  auto r = processing::FromDocument(*s.config.document);
  EXPECT_TRUE(r.ok()) << r.error().message;
  s.reg = *r;
  auto p = site::Pages::Load(s.config.site);
  EXPECT_TRUE(p.ok()) << p.error().message;
  s.pages = std::move(*p);
  return s;
}

void Golden(const std::string& name, const std::string& actual) {
  std::string path = std::string(STEWARD_SOURCE_DIR) + "/tests/golden/" + name;
  if (std::getenv("STEWARD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing: run with STEWARD_UPDATE_GOLDEN=1";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << name << " differs from its golden file; if the change is meant, "
                                    << "rerun with STEWARD_UPDATE_GOLDEN=1 and read the diff";
}

class NoticeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(NoticeTest, MatchesGoldenFiles) {
  Site s = Load(GetParam());
  auto privacy = RenderPrivacy(*s.pages, s.reg, "1 January 2027");
  ASSERT_TRUE(privacy.ok()) << privacy.error().ToString();
  Golden(GetParam() + "-privacy.html", *privacy);
  auto cookies = RenderCookies(*s.pages, s.reg);
  ASSERT_TRUE(cookies.ok()) << cookies.error().ToString();
  Golden(GetParam() + "-cookies.html", *cookies);
  auto markdown = s.pages->RenderBare("privacy.md", PrivacyData(s.reg, "1 January 2027"));
  ASSERT_TRUE(markdown.ok()) << markdown.error().ToString();
  Golden(GetParam() + "-privacy.md", *markdown);
}

INSTANTIATE_TEST_SUITE_P(Examples, NoticeTest,
                         ::testing::Values("demo", "civil-service", "nlc-connect", "hantsweb", "ons",
                                           "national-careers"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(NoticeContentTest, EveryArticle13ItemIsThere) {
  Site s = Load("nlc-connect");
  std::string html = *RenderPrivacy(*s.pages, s.reg, "9 December 2019");
  for (const char* must : {
           "Cabinet Office (National Leadership Centre)",                               // controller
           "NLC@CabinetOffice.gov.uk",                                                  // its contact
           "DPO@cabinetoffice.gov.uk",                                                  // the DPO
           "Z7414053",                                                                  // ICO registration
           "our legitimate interests (Article 6(1)(f) of the UK GDPR). The interest:",  // basis and interest
           "a task we carry out in the public interest",                                // public task
           "Other government departments, agencies and public bodies",                  // recipients
           "Outside the European Economic Area",                                        // transfers and safeguard
           "How long we keep it",                                                       // retention
           "To get a copy",
           "To have it corrected",
           "To object",
           "To restrict how we use it",   // rights
           "Information Commissioner",    // complaints
           "Do you have to give it",      // statutory or contractual requirement
           "Automated decisions",         // automated decision-making
           "13 years of age or younger",  // children
           "Last updated 9 December 2019",
       }) {
    EXPECT_NE(html.find(must), std::string::npos) << must;
  }
}

TEST(NoticeContentTest, Article14SourcesAndWithdrawal) {
  Site s = Load("national-careers");
  std::string html = *RenderPrivacy(*s.pages, s.reg, "30 April 2019");
  EXPECT_NE(html.find("From you, and from Find an Apprenticeship"), std::string::npos);
  EXPECT_NE(html.find("Jobcentre Plus"), std::string::npos);
  EXPECT_NE(html.find("special category data, which the law protects more strongly"), std::string::npos);
  EXPECT_NE(html.find("Schedule 1 Part 2 paragraph 8"), std::string::npos);
  EXPECT_NE(html.find("Untick the box in your online account details"), std::string::npos);
  EXPECT_NE(html.find("6 years after you stop being a customer"), std::string::npos);
  EXPECT_NE(html.find("To withdraw your consent"), std::string::npos);
}

TEST(NoticeContentTest, CookieTables) {
  Site careers = Load("national-careers");
  std::string c = *RenderCookies(*careers.pages, careers.reg);
  EXPECT_NE(c.find("<code>_ga</code>"), std::string::npos);
  EXPECT_NE(c.find("Cookies that measure website use"), std::string::npos);
  EXPECT_NE(c.find("Strictly necessary cookies"), std::string::npos);
  EXPECT_NE(c.find("When you close your browser"), std::string::npos);
  EXPECT_NE(c.find("SmartSurvey (third party)"), std::string::npos);
  Site civil = Load("civil-service");
  std::string none = *RenderCookies(*civil.pages, civil.reg);
  EXPECT_NE(none.find("does not use cookies"), std::string::npos);
  EXPECT_EQ(none.find("<table"), std::string::npos);
  std::string notice = *RenderPrivacy(*civil.pages, civil.reg, "2 September 2011");
  EXPECT_NE(notice.find("This site does not use cookies."), std::string::npos);
}

}  // namespace
}  // namespace steward::notice
