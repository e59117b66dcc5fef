#include "sharing/shares.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace steward::sharing {
namespace {

// The National Careers example with its partner replaced by `partner`.
Result<std::optional<Settings>> WithPartner(const std::string& partner) {
  std::ifstream in(std::string(STEWARD_SOURCE_DIR) + "/examples/national-careers.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string site =
      std::regex_replace(text.str(), std::regex(R"(\[\[sharing\.partners\]\][\s\S]*?\n\n)"), partner + "\n\n");
  auto config = config::Parse(site, "national-careers.toml", nullptr);
  EXPECT_TRUE(config.ok()) << config.error().message;
  auto reg = processing::FromDocument(*config->document);
  EXPECT_TRUE(reg.ok());
  return ReadSettings(*config, *reg);
}

TEST(SharingSettings, TheExamplesPartnerReadsAsDeclared) {
  auto s = WithPartner(R"([[sharing.partners]]
id = "market-research"
recipient = "market-research"
dataset = "survey-consent"
consent = "surveys"
fields = ["name", "email", "phone"]
delivery = "api")");
  ASSERT_TRUE(s.ok()) << s.error().message;
  const Partner* p = (*s)->Find("market-research");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->recipient_name, "Market research organisations");
  EXPECT_EQ(p->basis, "consent");
  EXPECT_EQ(p->delivery, Delivery::kApi);
}

TEST(SharingSettings, APartnerMustBeOneTheRegisterAndTheAccountsDeclare) {
  auto s = WithPartner(R"([[sharing.partners]]
id = "Market Research"
recipient = "pollsters"
dataset = "equality-data"
fields = ["name", "ethnicity", "shoe-size"]
delivery = "sealed-file"
public_key = "abc")");
  ASSERT_FALSE(s.ok());
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("national-careers.toml:"), std::string::npos) << m;
  EXPECT_NE(m.find("'id' is lower-case letters"), std::string::npos) << m;
  EXPECT_NE(m.find("'recipient' names 'pollsters'"), std::string::npos) << m;
  EXPECT_NE(m.find("does not name recipient"), std::string::npos) << m;
  EXPECT_NE(m.find("field 'name' is user.contact.name, which dataset 'equality-data' does not declare"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("'fields' names 'shoe-size'"), std::string::npos) << m;
  EXPECT_NE(m.find("64 hexadecimal characters"), std::string::npos) << m;

  // A recipient that rests on consent needs the box that agrees to it.
  s = WithPartner(R"([[sharing.partners]]
id = "market-research"
recipient = "market-research"
dataset = "survey-consent"
fields = ["email"])");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("rests on consent"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace steward::sharing
