// bench-logs' input: a combined-format access log of N lines with varied IPv4 and IPv6 clients,
// user agents (crawlers among them), paths and query strings, statuses, referrers, sizes and about
// one malformed line in a thousand, over the 30 days before 2026-12-01. Deterministic.
//
// SHAPE "varied" (the default) gives nearly every line a client of its own and spreads the pages
// over a million paths, the hardest case for the tables. "repeat" is a real site's shape: 50,000
// visitors, each with one address and browser, coming back (a few very often), over about 1,600
// pages of which a few take most requests.
//
//   steward_log_generator LINES [SHAPE] > access.log
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

uint64_t state = 0x9e3779b97f4a7c15ull;
uint64_t Next() {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

const char* kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
    "Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/7.88.1",
    "python-requests/2.31.0",
};
const char* kSections[] = {"economy",
                           "peoplepopulationandcommunity",
                           "employmentandlabourmarket",
                           "businessindustryandtrade",
                           "releases",
                           "methodology",
                           "aboutus",
                           "census"};
const char* kStatic[] = {"/css/main.css", "/js/app.js",   "/img/logo.svg",
                         "/img/hero.jpg", "/favicon.ico", "/fonts/a.woff2"};
const char* kAttacks[] = {"/.env", "/wp-login.php", "/.git/config", "/../../etc/passwd",
                          "/index.php?id=1%27%20OR%201=1"};
const char* kReferrers[] = {"-",
                            "-",
                            "-",
                            "https://www.google.com/",
                            "https://www.google.co.uk/",
                            "https://www.bing.com/",
                            "https://www.bbc.co.uk/news",
                            "https://t.co/x",
                            "https://www.ons.gov.uk/"};
const char* kMonths[] = {"Nov", "Dec"};

}  // namespace

int main(int argc, char** argv) {
  long long lines = argc > 1 ? std::atoll(argv[1]) : 2'000'000;
  const bool repeat = argc > 2 && std::string(argv[2]) == "repeat";
  if (argc > 2 && !repeat && std::string(argv[2]) != "varied") {
    std::fprintf(stderr, "steward_log_generator: the shape is varied or repeat, not %s\n", argv[2]);
    return 2;
  }
  std::string out;
  out.reserve(1 << 20);
  for (long long i = 0; i < lines; ++i) {
    if (Next() % 1000 == 0) {
      out += "\\x16\\x03\\x01 malformed line " + std::to_string(i) + "\n";
    } else {
      char ip[64];
      uint64_t r = Next();
      uint64_t visitor = 0;
      if (repeat) {
        // A visitor, the low numbers far more often: their address and browser follow from it.
        uint64_t a = Next() % 50'000, b = Next() % 50'000;
        visitor = a * b / 50'000;
        r = (visitor + 1) * 0x9e3779b97f4a7c15ull;
        r ^= r >> 29;
      }
      if (r % 10 == 0) {
        std::snprintf(ip, sizeof ip, "2001:db8:%x::%x", static_cast<unsigned>(r >> 8 & 0xfff),
                      static_cast<unsigned>(r >> 20 & 0xffff));
      } else {
        std::snprintf(ip, sizeof ip, "%u.%u.%u.%u", static_cast<unsigned>(1 + (r >> 8) % 223),
                      static_cast<unsigned>(r >> 16 & 255), static_cast<unsigned>(r >> 24 & 255),
                      static_cast<unsigned>(1 + (r >> 32) % 254));
      }
      long long t = i * 30LL * 86400 / lines;  // seconds into the 30 days before 2026-12-01
      int day = static_cast<int>(t / 86400);
      int month = day < 29 ? 0 : 1;
      int dom = month == 0 ? day + 2 : 1;  // 2..30 November, then 1 December
      int sec = static_cast<int>(t % 86400);
      std::string path;
      uint64_t p = Next();
      if (p % 100 < 25)
        path = kStatic[p / 100 % 6];
      else if (p % 100 < 27)
        path = kAttacks[p / 100 % 5];
      else {
        uint64_t pages = repeat ? 200 : 3000;  // a section's pages
        path = std::string("/") + kSections[p / 100 % 8] + "/page" +
               std::to_string((p >> 16) % pages * ((p >> 32) % pages) / pages);
        if (p % 17 == 0) path += "?q=term" + std::to_string(p % 500);
      }
      int statuses[] = {200, 200, 200, 200, 200, 200, 200, 304, 301, 404, 403, 500};
      int status = path.rfind("/.", 0) == 0 || path[1] == 'w' ? 404 : statuses[Next() % 12];
      char line[768];
      int n = std::snprintf(line, sizeof line,
                            "%s - - [%02d/%s/2026:%02d:%02d:%02d +0000] \"%s %s HTTP/1.1\" %d %llu \"%s\" \"%s\"\n", ip,
                            dom, kMonths[month], sec / 3600, sec / 60 % 60, sec % 60, Next() % 20 == 0 ? "POST" : "GET",
                            path.c_str(), status, static_cast<unsigned long long>(Next() % 50000),
                            kReferrers[Next() % 9], kAgents[repeat ? r % 11 : Next() % 11]);
      out.append(line, static_cast<size_t>(n));
    }
    if (out.size() > (1 << 20) - 1024) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
