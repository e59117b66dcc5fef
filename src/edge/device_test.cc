#include "edge/device.h"

#include <gtest/gtest.h>

namespace steward::edge {
namespace {

const std::string kWeb = std::string(STEWARD_SOURCE_DIR) + "/web";

UserAgents& Agents() {
  static std::unique_ptr<UserAgents> agents = [] {
    auto a = UserAgents::Load(kWeb + "/node_modules/uap-core/regexes.yaml", kWeb + "/generated/bot-pattern.txt");
    EXPECT_TRUE(a.ok()) << a.error().message;
    return std::move(a).value();
  }();
  return *agents;
}

TEST(UserAgentsTest, BrowsersSystemsAndDevices) {
  Agent chrome = Agents().Parse(
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
      "Safari/537.36");
  EXPECT_EQ(chrome.browser, "Chrome");
  EXPECT_EQ(chrome.browser_version, "131");
  EXPECT_EQ(chrome.os, "Windows");
  EXPECT_EQ(chrome.device, "Desktop");
  EXPECT_FALSE(chrome.bot);
  Agent iphone = Agents().Parse(
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
      "Mobile/15E148 Safari/604.1");
  EXPECT_EQ(iphone.browser, "Mobile Safari");
  EXPECT_EQ(iphone.os, "iOS");
  EXPECT_EQ(iphone.os_version, "17");
  EXPECT_EQ(iphone.device, "Mobile");
  Agent ipad = Agents().Parse(
      "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
      "Mobile/15E148 "
      "Safari/604.1");
  EXPECT_EQ(ipad.device, "Tablet");
  Agent tablet = Agents().Parse(
      "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
  EXPECT_EQ(tablet.os, "Android");
  EXPECT_EQ(tablet.device, "Tablet");
  Agent firefox = Agents().Parse("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
  EXPECT_EQ(firefox.browser, "Firefox");
  EXPECT_EQ(firefox.browser_version, "128");
  EXPECT_EQ(firefox.os, "Linux");
  Agent odd = Agents().Parse("something nobody has heard of");
  EXPECT_EQ(odd.browser, "");
  EXPECT_EQ(odd.device, "Desktop");
  EXPECT_GT(Agents().pattern_count(), 1000u);
}

TEST(UserAgentsTest, Bots) {
  const char* headless =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
  for (const char* ua : {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                         "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "curl/7.88.1",
                         "python-requests/2.31.0", headless}) {
    EXPECT_TRUE(Agents().Parse(ua).bot) << ua;
  }
  EXPECT_FALSE(Agents().Parse("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0").bot);
  // A huge user agent is cut, not parsed whole; a string of one letter is no browser.
  EXPECT_EQ(Agents().Parse(std::string(100000, 'a')).browser, "");
}

TEST(CountriesTest, LooksUpCountriesAndNothingForPrivateAddresses) {
  auto countries =
      Countries::Open(kWeb + "/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb");
  ASSERT_TRUE(countries.ok()) << countries.error().message;
  EXPECT_EQ((*countries)->Lookup(*IpAddress::Parse("8.8.8.8")), "US");
  EXPECT_EQ((*countries)->Lookup(*IpAddress::Parse("212.58.244.20")), "GB");
  EXPECT_EQ((*countries)->Lookup(*IpAddress::Parse("81.2.69.160")), "GB");
  EXPECT_EQ((*countries)->Lookup(*IpAddress::Parse("2a00:1450:4009:81f::200e")).size(), 2u);
  EXPECT_EQ((*countries)->Lookup(*IpAddress::Parse("192.168.1.10")), "");
  EXPECT_EQ((*countries)->Lookup(*IpAddress::Parse("127.0.0.1")), "");
  EXPECT_EQ((*countries)->Lookup(*IpAddress::Parse("100.64.3.4")), "");
  EXPECT_EQ((*countries)->Lookup(*IpAddress::Parse("fd00::1")), "");
  EXPECT_FALSE(Countries::Open("/nonexistent.mmdb").ok());
}

}  // namespace
}  // namespace steward::edge
