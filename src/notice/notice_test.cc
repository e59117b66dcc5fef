// The notice and cookie pages for every example site, against golden files a reviewer can read in
// tests/golden/. Run with STEWARD_UPDATE_GOLDEN=1 to rewrite them after a deliberate change.
#include "notice/notice.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

// A test's name for an example site: "national_careers".
std::string ExampleName(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

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
                         ExampleName);

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
           "data may be transferred to the United States",                              // transfers and safeguard
           "How long we keep it",                                                       // retention
           "To get a copy",
           "To have it corrected",
           "Your right to object",
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
  EXPECT_NE(html.find("your explicit consent (Article 9(2)(a) of the UK GDPR)"), std::string::npos);
  EXPECT_EQ(html.find("Schedule 1"), std::string::npos) << "explicit consent needs no Schedule 1 condition";
  EXPECT_NE(html.find("Untick the box in your online account details"), std::string::npos);
  EXPECT_NE(html.find("6 years after you stop being a customer"), std::string::npos);
  EXPECT_NE(html.find("To withdraw your consent"), std::string::npos);
}

TEST(NoticeContentTest, ASiteThatSendsEmailSaysItCarriesNoTracking) {
  Site s = Load("ons");
  std::string before = *RenderPrivacy(*s.pages, s.reg, "1 January 2027");
  EXPECT_EQ(before.find("Our emails carry no tracking"), std::string::npos) << "ONS sends none";
  std::ifstream in(std::string(STEWARD_SOURCE_DIR) + "/examples/ons.toml");
  std::stringstream text;
  text << in.rdbuf() << R"(
[[register.datasets]]
id = "outgoing-mail"
module = "mail"
description = "Email we send you, while it waits to be sent"
categories = ["user.contact.email", "user.content"]
subjects = ["people we email"]
purposes = ["feedback"]
retention = "30 days"
)";
  auto doc = config::Document::Parse(text.str(), "ons.toml");
  ASSERT_TRUE(doc.ok());
  auto reg = processing::FromDocument(*doc);
  ASSERT_TRUE(reg.ok()) << reg.error().message;
  std::string html = *RenderPrivacy(*s.pages, *reg, "1 January 2027");
  std::string md = *s.pages->RenderBare("privacy.md", PrivacyData(*reg, "1 January 2027"));
  for (const std::string* t : {&html, &md}) {
    EXPECT_NE(t->find("Our emails carry no tracking: we do not record whether you open them or which of their "
                      "links you follow."),
              std::string::npos);
    EXPECT_EQ(t->find("keyed hash of your address"), std::string::npos) << "no suppression list declared";
  }
  // With the suppression list, the notice says what stays of an address that bounced.
  text << R"(
[[register.datasets]]
id = "mail-suppression"
module = "mail-suppression"
description = "Hashes of addresses that bounced"
categories = ["user.contact.email"]
subjects = ["people we email"]
purposes = ["feedback"]
retention = "6 years"
)";
  doc = config::Document::Parse(text.str(), "ons.toml");
  reg = processing::FromDocument(*doc);
  ASSERT_TRUE(reg.ok()) << reg.error().message;
  html = *RenderPrivacy(*s.pages, *reg, "1 January 2027");
  md = *s.pages->RenderBare("privacy.md", PrivacyData(*reg, "1 January 2027"));
  for (const std::string* t : {&html, &md}) {
    EXPECT_NE(t->find("we keep a keyed hash of your address (never the address itself) so that we do not email it "
                      "again"),
              std::string::npos);
  }
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

// What a section of a rendered notice says: from `start` to the next heading of the same kind.
std::string Section(const std::string& text, const std::string& start, const std::string& next) {
  size_t at = text.find(start);
  if (at == std::string::npos) return "";
  size_t end = text.find(next, at + start.size());
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Each example site's notice, as HTML, Markdown and JSON, says what Articles 13, 14 and 21 ask and
// promises nothing the build does not do.
class NoticeTruthTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    s_ = Load(GetParam());
    html_ = *RenderPrivacy(*s_.pages, s_.reg, "1 January 2027");
    md_ = *s_.pages->RenderBare("privacy.md", PrivacyData(s_.reg, "1 January 2027"));
    cookies_ = *RenderCookies(*s_.pages, s_.reg);
    json_ = nlohmann::json::parse(s_.reg.ToJson());
  }
  Site s_;
  std::string html_, md_, cookies_;
  nlohmann::json json_;
};

TEST_P(NoticeTruthTest, TheRightToObjectIsStatedApart) {
  bool applies = json_["objection"]["applies"];
  bool public_task_or_interests = false;
  for (const auto& p : json_["purposes"]) {
    if (p["audience"] == "public" &&
        (p["lawful_basis"] == "public-task" || p["lawful_basis"] == "legitimate-interests"))
      public_task_or_interests = true;
  }
  EXPECT_EQ(applies, public_task_or_interests);
  std::string rights = Section(html_, "id=\"rights\"", "<h2");
  EXPECT_EQ(rights.find("To object"), std::string::npos) << "not one right among the others";
  std::string object = Section(html_, "id=\"object\"", "<h2");
  std::string md_object = Section(md_, "## Your right to object", "\n## ");
  EXPECT_EQ(!object.empty(), applies);
  EXPECT_EQ(!md_object.empty(), applies);
  for (const auto& id : json_["objection"]["purposes"]) {
    const processing::Purpose* p = s_.reg.FindPurpose(id.get<std::string>());
    ASSERT_NE(p, nullptr);
    EXPECT_NE(object.find(html::Escape(p->description)), std::string::npos) << p->id;
    EXPECT_NE(md_object.find(p->description), std::string::npos) << p->id;
  }
}

TEST_P(NoticeTruthTest, ComplaintsGoToUsFirstThenToTheIco) {
  for (const std::string* text : {&html_, &md_}) {
    size_t us = text->find(text == &html_ ? html::Escape(s_.reg.complaints_to_us) : s_.reg.complaints_to_us);
    size_t ico = text->find("ico.org.uk/make-a-complaint");
    ASSERT_NE(us, std::string::npos);
    ASSERT_NE(ico, std::string::npos);
    EXPECT_LT(us, ico);
    EXPECT_NE(text->find("acknowledge your complaint within 30 days"), std::string::npos);
  }
}

TEST_P(NoticeTruthTest, OnlyWhatAPersonGivesIsSaidToBeOptional) {
  for (const auto& d : s_.reg.datasets) {
    if (d.staff_only) continue;
    std::string html = Section(html_, "id=\"data-" + d.id + "\"", "<h3");
    std::string md = Section(md_, "### " + d.description + "\n", "\n#");
    ASSERT_FALSE(html.empty()) << d.id;
    ASSERT_FALSE(md.empty()) << d.id;
    for (const auto& j : json_["datasets"]) {
      if (j["id"] != d.id) continue;
      EXPECT_EQ(j["collection"]["given"], d.Given()) << d.id;
      EXPECT_EQ(j.contains("kept_by"), !d.kept_by.empty()) << d.id;
      if (d.retention.kind == processing::Retention::Kind::kCriteria) {
        EXPECT_FALSE(j["retention"]["maximum"]["text"].get<std::string>().empty())
            << d.id << ": criteria need a maximum";
      }
    }
    for (const std::string* text : {&html, &md}) {
      EXPECT_EQ(text->find("Do you have to give it") != std::string::npos, d.Given()) << d.id;
      EXPECT_EQ(text->find("How we get it") != std::string::npos, !d.Given()) << d.id;
      // "Then it is deleted" only where Steward's runner deletes it.
      bool deleted = text->find("then it is deleted") != std::string::npos ||
                     text->find("then it is anonymised") != std::string::npos;
      EXPECT_EQ(deleted, d.kept_by.empty()) << d.id;
    }
  }
}

TEST_P(NoticeTruthTest, PseudonymousIsNotCalledAnonymous) {
  for (const std::string* text : {&html_, &md_, &cookies_}) {
    std::string lower = Lower(*text);
    EXPECT_EQ(lower.find("anonymous"), std::string::npos);
    EXPECT_EQ(lower.find("not identify you"), std::string::npos);
    EXPECT_EQ(lower.find("without identifying you"), std::string::npos);
  }
}

TEST_P(NoticeTruthTest, WhereTheDataIsStoredComesFromTheRegister) {
  EXPECT_EQ(json_["stored_in"], s_.reg.stored_in);
  for (const std::string* text : {&html_, &md_}) {
    EXPECT_NE(text->find("Your data is stored in " + s_.reg.stored_in + "."), std::string::npos);
    EXPECT_EQ(text->find("European Economic Area"), std::string::npos);
  }
}

TEST_P(NoticeTruthTest, StaffPurposesAreLeftOutAndRightsFollowThePublicOnes) {
  bool any_staff = false;
  for (const auto& p : s_.reg.purposes) {
    bool is_public = s_.reg.PublicPurpose(p);
    any_staff = any_staff || !is_public;
    EXPECT_EQ(html_.find(html::Escape(p.description)) != std::string::npos, is_public) << p.id;
    EXPECT_EQ(md_.find(p.description) != std::string::npos, is_public) << p.id;
  }
  EXPECT_TRUE(any_staff) << "every example declares Steward's own staff purpose";
  // Erasure is a right only where a public purpose rests on consent, contract, legitimate or vital interests.
  bool erasure = false;
  for (const auto& p : s_.reg.purposes) {
    using enum processing::LawfulBasis;
    if (s_.reg.PublicPurpose(p) && p.basis != kPublicTask && p.basis != kLegalObligation) erasure = true;
  }
  EXPECT_EQ(html_.find("To have it erased") != std::string::npos, erasure);
  EXPECT_EQ(md_.find("To have it erased") != std::string::npos, erasure);
}

TEST_P(NoticeTruthTest, TheMarkdownCarriesWhatTheHtmlDoes) {
  // Every section of the page is a section of the Markdown.
  size_t at = 0;
  int sections = 0;
  while ((at = html_.find("<h2 class=\"govuk-heading-l\"", at)) != std::string::npos) {
    size_t open = html_.find('>', at) + 1;
    std::string title = html_.substr(open, html_.find("</h2>", open) - open);
    EXPECT_NE(md_.find("\n## " + title + "\n"), std::string::npos) << title;
    ++sections;
    at = open;
  }
  EXPECT_GE(sections, 12);
  for (const char* must : {"To use any of these rights", "Our Data Protection Officer", "Changes to this notice",
                           "Last updated 1 January 2027"}) {
    EXPECT_NE(html_.find(must), std::string::npos) << must;
    EXPECT_NE(md_.find(must), std::string::npos) << must;
  }
  if (!s_.reg.joint_controller.empty()) {
    EXPECT_NE(md_.find(s_.reg.joint_controller.name), std::string::npos);
  }
  if (!s_.reg.representative.empty()) {
    EXPECT_NE(md_.find(s_.reg.representative.name), std::string::npos);
  }
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(md_, "then it is deleted"), count(html_, "then it is deleted"));
}

TEST_P(NoticeTruthTest, SpecialCategoryDataNamesItsConditions) {
  for (const auto& d : s_.reg.datasets) {
    if (!d.SpecialCategory()) continue;
    for (const auto& pid : d.purposes) {
      const processing::Purpose* p = s_.reg.FindPurpose(pid);
      ASSERT_NE(p, nullptr);
      EXPECT_NE(p->article_9, processing::Article9::kNone);
      EXPECT_NE(html_.find(html::Escape(p->SpecialConditionText())), std::string::npos) << pid;
      EXPECT_NE(md_.find(p->SpecialConditionText()), std::string::npos) << pid;
      if (p->article_9 == processing::Article9::kExplicitConsent) {
        EXPECT_TRUE(p->schedule_1.empty()) << pid;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, NoticeTruthTest,
                         ::testing::Values("demo", "civil-service", "nlc-connect", "hantsweb", "ons",
                                           "national-careers"),
                         ExampleName);

}  // namespace
}  // namespace steward::notice
