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
  EXPECT_EQ(ReferrerSource(plain, "https://m.facebook.com/"), "Facebook") << "a label anywhere but the last";
  EXPECT_EQ(ReferrerSource(plain, "https://notgoogle.com/"), "notgoogle.com") << "a whole label, not part of one";
  EXPECT_EQ(ReferrerSource(plain, "https://a.googlez.google.com/"), "Google") << "found at its second place";
  EXPECT_EQ(ReferrerSource(plain, "https://search.bing/"), "search.bing") << "not the last label";
  EXPECT_EQ(ReferrerSource(plain, "https://www.hants.gov.uk/x"), "hants.gov.uk") << "not every gov.uk site is GOV.UK";
  EXPECT_EQ(ReferrerSource(plain, "https://www.ons.gov.uk/other"), "") << "internal";
  EXPECT_EQ(ReferrerSource(plain, ""), "");
  EXPECT_EQ(ReferrerSource(plain, "android-app://com.google.android.gm/"), "com.google.android.gm");
  EXPECT_FALSE(ParseLocation("ftp://a.uk/"));
  EXPECT_FALSE(ParseLocation("https://"));
}

// The body is read in one pass without building a document; it must read JSON as one would.
TEST(EventTest, TheBodyIsReadAsAJsonDocumentWouldBe) {
  const std::string base = R"("u":"https://www.ons.gov.uk/economy?utm_source=x","d":"ons.gov.uk")";
  auto dup = Parse(R"({"n":"first",)" + base + R"(,"n":"second"})");
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->name, "second") << "a field given twice counts as its last value";
  EXPECT_EQ(dup->location.hostname, "ons.gov.uk") << "the url's parts come with the event";
  EXPECT_EQ(dup->location.path, "/economy");
  EXPECT_EQ(dup->location.query.at("utm_source"), "x");
  auto fallback = Parse(R"({"name":null,"n":"short",)" + base + "}");
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->name, "short") << "a null long name gives way to the short one";
  auto escaped = Parse(R"({"n":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/",)" + base + "}");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->name, "caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" \\ /");
  auto props =
      Parse(R"({"n":"x",)" + base +
            R"(,"p":{"b":"2","a":"1","b":"3","c":null,"f":1.5,"g":1e2,"h":-3,"u":18446744073709551615,"t":false}})");
  ASSERT_TRUE(props);
  std::vector<std::pair<std::string, std::string>> want = {
      {"a", "1"}, {"b", "3"}, {"f", "1.5"}, {"g", "100.0"}, {"h", "-3"}, {"t", "false"}, {"u", "18446744073709551615"}};
  EXPECT_EQ(props->props, want) << "in key order, the last of a key, nulls left out, numbers as JSON writes them";
  auto twice = Parse(R"({"n":"x",)" + base + R"(,"p":{"a":"1"},"p":{"b":"2"}})");
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->props, (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
  auto long_over_short = Parse(R"({"n":"x",)" + base + R"(,"p":{"short":"1"},"props":{"long":"2"}})");
  ASSERT_TRUE(long_over_short);
  EXPECT_EQ(long_over_short->props, (std::vector<std::pair<std::string, std::string>>{{"long", "2"}}));
  auto as_text = Parse(R"({"n":"x",)" + base + R"(,"p":"{\"k\":\"v\",\"n\":2}"})");
  ASSERT_TRUE(as_text);
  EXPECT_EQ(as_text->props, (std::vector<std::pair<std::string, std::string>>{{"k", "v"}, {"n", "2"}}));
  auto unknown = Parse(R"({"x":{"y":[1,{"z":[null,true]}],"n":"not this"},"n":"x",)" + base + R"(,"w":1024})");
  ASSERT_TRUE(unknown) << "unknown fields, however nested, are checked and left";
  EXPECT_EQ(unknown->name, "x");
  auto text_numbers = Parse(R"({"n":"engagement",)" + base + R"(,"sd":"80","e":1500.9})");
  ASSERT_TRUE(text_numbers);
  EXPECT_EQ(*text_numbers->scroll_depth, 80);
  EXPECT_EQ(*text_numbers->engaged_ms, 1500);

  FieldErrors e;
  EXPECT_FALSE(Parse(R"({"n":"engagement",)" + base + R"(,"e":18446744073709551615})", &e));
  EXPECT_TRUE(e.count("e")) << "too large for a count of milliseconds";
  EXPECT_FALSE(Parse(R"({"n":"x",)" + base + R"(,"p":{"a":{"b":1}}})", &e));
  EXPECT_EQ(e["props"].at(0), "values must be strings, numbers or booleans, not objects or lists");
  EXPECT_FALSE(Parse(R"({"n":"x",)" + base + R"(,"p":"not json"})", &e));
  EXPECT_EQ(e["props"].at(0), "must be an object of keys and scalar values");
  EXPECT_FALSE(Parse(R"({"n":{"a":1},)" + base + R"(,"r":[],"i":{}})", &e));
  EXPECT_EQ(e["name"].at(0), "can't be blank");
  EXPECT_EQ(e["referrer"].at(0), "must be a string");
  EXPECT_EQ(e["interactive"].at(0), "must be true or false");
  std::string deep = R"({"n":"x",)" + base + R"(,"z":)" + std::string(40, '[') + std::string(40, ']') + "}";
  for (const std::string& bad : {std::string(R"({"n":"x",)") + base + "} trailing", std::string(R"("a string")"),
                                 std::string("42"), std::string(R"({"n":"x",)") + base, deep,
                                 std::string(R"({"n":"\xff",)") + base + "}", std::string(R"({"n":"x",,})")}) {
    FieldErrors errors;
    EXPECT_FALSE(Parse(bad, &errors)) << bad;
    EXPECT_EQ(errors["request"].at(0), "the body must be a JSON object") << bad;
    EXPECT_EQ(ErrorsJson(errors).find('\377'), std::string::npos);
  }
}

}  // namespace
}  // namespace steward::analytics
