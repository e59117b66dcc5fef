// ScanJson against nlohmann-json's strict SAX parser: the same texts accepted, and for those, the
// same calls with the same values in the same order.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/json_scan.h"
#include "core/testing/json_calls.h"
#include "core/testing/mutate.h"

namespace steward {
namespace {

using testing::JsonCalls;

// Both readers on `text`: the same verdict, and when both accept, the same calls.
void ExpectSame(const std::string& text) {
  ASSERT_TRUE(testing::ScansAsNlohmann(text)) << "text: " << ::testing::PrintToString(text);
}

TEST(JsonScanTest, AgreesWithNlohmannOnEdgeCases) {
  const char* cases[] = {
      "",
      " ",
      "{}",
      "[]",
      " {} ",
      "{",
      "}",
      "[",
      "]",
      "{]",
      "[}",
      "{}}",
      "[]]",
      "{} {}",
      "{},",
      "null",
      "true",
      "false",
      "nul",
      "tru",
      "fals",
      "nulll",
      "truex",
      "NULL",
      "True",
      "0",
      "-0",
      "1",
      "-1",
      "01",
      "-01",
      "00",
      "1.",
      ".5",
      "1.5",
      "-1.5",
      "1e5",
      "1E5",
      "1e+5",
      "1e-5",
      "1e",
      "1e+",
      "1.5e3",
      "-",
      "+1",
      "0x10",
      "1 2",
      "18446744073709551615",
      "18446744073709551616",
      "-9223372036854775808",
      "-9223372036854775809",
      "9223372036854775807",
      "9223372036854775808",
      "1e308",
      "1e309",
      "-1e309",
      "1e-400",
      "123456789012345678901234567890",
      "-123456789012345678901234567890",
      "0.1",
      "2.5e-3",
      "1.7976931348623157e308",
      R"("")",
      R"("a")",
      R"("a)",
      R"(")",
      R"("\"")",
      R"("\\")",
      R"("\/")",
      R"("\b\f\n\r\t")",
      R"("\x")",
      R"("\')",
      R"("\u0041")",
      R"("\u00e9")",
      R"("\u00E9")",
      R"("\u20ac")",
      R"("\ud83d\ude00")",
      R"("\ud83d")",
      R"("\ud83dx")",
      R"("\ud83d\u0041")",
      R"("\ude00")",
      R"("\u12")",
      R"("\u12g4")",
      R"("\u0000")",
      "\"\xc3\xa9\"",
      "\"\xe2\x82\xac\"",
      "\"\xf0\x9f\x98\x80\"",
      "\"\xc3\"",
      "\"\xc0\xaf\"",
      "\"\xc1\xbf\"",
      "\"\xe0\x80\xaf\"",
      "\"\xed\xa0\x80\"",
      "\"\xf4\x90\x80\x80\"",
      "\"\xf5\x80\x80\x80\"",
      "\"\xff\"",
      "\"\x80\"",
      "\"\xef\xbf\xbf\"",
      "\"\xf4\x8f\xbf\xbf\"",
      "\"a\tb\"",
      "\"a\nb\"",
      "\"a\x01\"",
      "\"a\x7f\"",
      "\xef\xbb\xbf{}",
      "\xef\xbb{}",
      "\xef\xbb\xbf",
      " \xef\xbb\xbf{}",
      R"({"a":1})",
      R"({"a":1,})",
      R"({"a" 1})",
      R"({"a":})",
      R"({a:1})",
      R"({"a":1 "b":2})",
      R"({,"a":1})",
      R"({"a":1,"a":2})",
      R"({"":0})",
      R"([1,2,3])",
      R"([1,,2])",
      R"([,1])",
      R"([1,])",
      R"([[[]]])",
      R"({"a":{"b":{"c":[1,{"d":null}]}}})",
      R"({"a":[true,false,null,1.5,-2,"x"]})",
      "{\"a\":1}\n",
      "\t[\r\n1 ]",
      R"({"n":"pageview","u":"https://www.ons.gov.uk/economy","d":"www.ons.gov.uk","r":"","w":1280})",
      R"({"n":"File Download","u":"https://x/","d":"x","p":{"url":"https://x/a.xlsx","n":3}})",
      R"({"name":"pageview","props":"{\"a\":\"b\"}"})",
      "{\"a\":\"b\"}\x00",
      "[1]/*c*/",
      "[1]//c",
      "/*c*/[1]",
  };
  for (const char* c : cases) ExpectSame(c);
  ExpectSame(std::string("\"a\0b\"", 5));
  ExpectSame(std::string("3\0\0\0 3.5", 8));
  ExpectSame(std::string("{}\0garbage", 10));
  ExpectSame(std::string("{} \0", 4));
  ExpectSame(std::string("\0", 1));
  ExpectSame(std::string("[1\0]", 4));
  ExpectSame(std::string(200, '[') + std::string(200, ']'));
  ExpectSame(std::string(10, '[') + std::string(9, ']'));
}

TEST(JsonScanTest, StopsWhereTheHandlerSaysAndKeepsNoStackOfItsOwn) {
  // Past the handler's depth, the scan stops at once: a text of a million brackets costs nothing.
  std::string deep(1'000'000, '[');
  JsonCalls shallow(32);
  EXPECT_FALSE(ScanJson(deep, shallow));
  EXPECT_EQ(shallow.calls.size(), 33u);
}

// Texts made by changing valid bodies a byte at a time, and random JSON-like texts: every one
// read the same by both.
TEST(JsonScanTest, AgreesWithNlohmannOnMutatedAndRandomTexts) {
  const std::string seeds[] = {
      R"({"n":"pageview","u":"https://www.ons.gov.uk/economy?utm_source=a","d":"www.ons.gov.uk","r":"https://www.google.com/","w":1280})",
      R"({"n":"engagement","u":"https://www.ons.gov.uk/","d":"www.ons.gov.uk","sd":45,"e":12000})",
      R"({"name":"Outbound Link: Click","url":"https://a.b/c","domain":"a.b","props":{"url":"https://www.gov.uk/","x":[1,2.5e3,-7,true,null]}})",
      R"(["\u00e9\ud83d\ude00\n",{"":{}},[],-0.0,18446744073709551615,-9223372036854775808])",
  };
  const char alphabet[] = "{}[]\",:\\/ \t\n0123456789-+.eEtrufalsn\xc3\xa9\xed\xa0\x80\xf0\x9f\x98\x80\x01u\"abcdDC8";
  std::mt19937 rng(20261206);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (int i = 0; i < 40'000; ++i) {
    ExpectSame(testing::Mutate(seeds[pick(std::size(seeds))], alphabet, rng));
    if (HasFatalFailure()) return;
  }
  for (int i = 0; i < 40'000; ++i) {
    std::string text;
    size_t n = 1 + pick(24);
    for (size_t k = 0; k < n; ++k) text.push_back(alphabet[pick(sizeof alphabet - 1)]);
    ExpectSame(text);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace steward
