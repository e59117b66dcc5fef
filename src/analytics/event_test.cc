#include "analytics/event.h"

#include <gtest/gtest.h>

namespace steward::analytics {
namespace {

std::optional<Event> Parse(const std::string& body, FieldErrors* out = nullptr) {
  FieldErrors errors;
  auto e = ParseEvent(body, errors);
  if (out) *out = errors;
  return e;
}

TEST(EventTest, LongAndShortNames) {
  auto a = Parse(
      R"({"name":"pageview","url":"https://www.ons.gov.uk/economy?q=gdp","domain":"www.ons.gov.uk","referrer":"https://www.google.com/"})");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "pageview");
  EXPECT_EQ(a->domains, std::vector<std::string>{"ons.gov.uk"});
  EXPECT_EQ(a->referrer, "https://www.google.com/");
  auto b = Parse(
      R"({"n":"Download","u":"https://ons.gov.uk/x","d":"ons.gov.uk, data.ons.gov.uk","p":{"file":"a.csv","n":3,"ok":true},"i":false})");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->domains.size(), 2u);
  EXPECT_FALSE(b->interactive);
  ASSERT_EQ(b->props.size(), 3u);
  EXPECT_EQ(b->props[1].second, "3");
  EXPECT_EQ(b->props[2].second, "true");
}

TEST(EventTest, EveryRuleOfThePlausibleApi) {
  FieldErrors e;
  EXPECT_FALSE(Parse("{}", &e));
  EXPECT_EQ(e["name"].at(0), "can't be blank");
  EXPECT_EQ(e["url"].at(0), "can't be blank");
  EXPECT_EQ(e["domain"].at(0), "can't be blank");
  EXPECT_FALSE(Parse("not json", &e));
  EXPECT_FALSE(Parse("[1,2]", &e));
  std::string long_name(121, 'x');
  EXPECT_FALSE(Parse(R"({"n":")" + long_name + R"(","u":"https://a.uk/","d":"a.uk"})", &e));
  EXPECT_TRUE(e.count("name"));
  EXPECT_TRUE(Parse(R"({"n":")" + std::string(120, 'x') + R"(","u":"https://a.uk/","d":"a.uk"})"));
  EXPECT_TRUE(Parse(R"({"n":")" + std::string(40, 'x') + "\xC3\xA9" + R"(","u":"https://a.uk/","d":"a.uk"})"));
  std::string long_url = "https://a.uk/" + std::string(1990, 'p');
  EXPECT_FALSE(Parse(R"({"n":"pageview","u":")" + long_url + R"(","d":"a.uk"})", &e));
  EXPECT_TRUE(e.count("url"));
  EXPECT_FALSE(Parse(R"j({"n":"pageview","u":"javascript:alert(1)","d":"a.uk"})j", &e));
  EXPECT_EQ(e["url"].at(0), "is not a valid url");
  std::string props = "{";
  for (int i = 0; i < 31; ++i) props += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  props += "}";
  EXPECT_FALSE(Parse(R"({"n":"x","u":"https://a.uk/","d":"a.uk","p":)" + props + "}", &e));
  EXPECT_TRUE(e.count("props"));
  EXPECT_FALSE(Parse(R"({"n":"x","u":"https://a.uk/","d":"a.uk","p":{"a":{"nested":1}}})", &e));
  EXPECT_FALSE(Parse(R"({"n":"x","u":"https://a.uk/","d":"a.uk","p":{"a":[1]}})", &e));
  EXPECT_FALSE(Parse(R"({"n":"x","u":"https://a.uk/","d":"a.uk","p":{"a":")" + std::string(2001, 'v') + R"("}})", &e));
  EXPECT_FALSE(Parse(R"({"n":"x","u":"https://a.uk/","d":"a.uk","i":"yes"})", &e));
  EXPECT_TRUE(e.count("interactive"));
  EXPECT_TRUE(Parse(R"({"n":"x","u":"https://a.uk/","d":"a.uk","p":"{\"a\":\"b\"}"})")) << "props as a JSON string";
}

TEST(EventTest, EngagementCarriesScrollDepthAndTime) {
  auto e = Parse(R"({"n":"engagement","u":"https://a.uk/p","d":"a.uk","sd":80,"e":12000})");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e->scroll_depth, 80);
  EXPECT_EQ(*e->engaged_ms, 12000);
  FieldErrors errors;
  EXPECT_FALSE(Parse(R"({"n":"engagement","u":"https://a.uk/p","d":"a.uk","sd":101})", &errors));
  EXPECT_TRUE(errors.count("sd"));
  EXPECT_FALSE(Parse(R"({"n":"engagement","u":"https://a.uk/p","d":"a.uk","e":-5})", &errors));
  EXPECT_TRUE(errors.count("e"));
  auto pageview = Parse(R"({"n":"pageview","u":"https://a.uk/p","d":"a.uk","sd":500})");
  ASSERT_TRUE(pageview) << "sd is read on engagement events only";
  EXPECT_FALSE(pageview->scroll_depth);
}

TEST(EventTest, ErrorsNeverQuoteTheBody) {
  FieldErrors e;
  Parse(R"({"n":"x","u":"mailto:someone@example.com","d":"a.uk"})", &e);
  EXPECT_EQ(ErrorsJson(e).find("someone"), std::string::npos);
  EXPECT_EQ(ErrorsJson(e), R"({"errors":{"url":["is not a valid url"]}})");
}

TEST(EventTest, LocationsAndSources) {
  auto loc = ParseLocation("https://WWW.ONS.gov.uk:443/economy/gdp?utm_source=newsletter&q=inflation#top");
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->hostname, "ons.gov.uk");
  EXPECT_EQ(loc->path, "/economy/gdp");
  EXPECT_EQ(loc->query.at("q"), "inflation");
  EXPECT_EQ(ReferrerSource(*loc, "https://www.google.co.uk/"), "newsletter") << "utm_source wins";
  auto plain = ParseLocation("https://www.ons.gov.uk").value();
  EXPECT_EQ(plain.path, "/");
  EXPECT_EQ(ReferrerSource(plain, "https://www.google.co.uk/search?q=x"), "Google");
  EXPECT_EQ(ReferrerSource(plain, "https://duckduckgo.com/"), "DuckDuckGo");
  EXPECT_EQ(ReferrerSource(plain, "https://t.co/abc"), "Twitter");
  EXPECT_EQ(ReferrerSource(plain, "https://www.gov.uk/browse"), "GOV.UK");
  EXPECT_EQ(ReferrerSource(plain, "https://www.hants.gov.uk/x"), "hants.gov.uk") << "not every gov.uk site is GOV.UK";
  EXPECT_EQ(ReferrerSource(plain, "https://www.ons.gov.uk/other"), "") << "internal";
  EXPECT_EQ(ReferrerSource(plain, ""), "");
  EXPECT_EQ(ReferrerSource(plain, "android-app://com.google.android.gm/"), "com.google.android.gm");
  EXPECT_FALSE(ParseLocation("ftp://a.uk/"));
  EXPECT_FALSE(ParseLocation("https://"));
}

}  // namespace
}  // namespace steward::analytics
