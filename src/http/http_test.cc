// Unit tests of the request parsers, cookies, the router and static files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "http/json_body.h"

#include <nlohmann/json.hpp>
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "http/static_files.h"

namespace steward::http {
namespace {

namespace fs = std::filesystem;

TEST(RequestTest, ParsesQueryAndForm) {
  auto q = ParseUrlEncoded("a=1&b=hello+world&c=%2Fx%3F&a=2&flag");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*Find(*q, "a"), "1");
  EXPECT_EQ(*Find(*q, "b"), "hello world");
  EXPECT_EQ(*Find(*q, "c"), "/x?");
  EXPECT_EQ(*Find(*q, "flag"), "");
  EXPECT_EQ(q->size(), 5u);
  EXPECT_FALSE(ParseUrlEncoded("a=%zz").ok());
  EXPECT_FALSE(ParseUrlEncoded("a=%4").ok());

  std::string many;
  for (int i = 0; i < 300; ++i) many += "k" + std::to_string(i) + "=v&";
  auto too_many = ParseUrlEncoded(many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::kInvalidArgument);

  Request r;
  r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=UTF-8"}};
  r.body = "cookies%5Badditional%5D=yes";
  auto form = r.Form();
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(*Find(*form, "cookies[additional]"), "yes");
  r.headers = {{"Content-Type", "application/json"}};
  EXPECT_FALSE(r.Form().ok()) << "a form handler refuses other content types";
}

TEST(RequestTest, ParsesJsonBodies) {
  Request r;
  r.headers = {{"Content-Type", "text/plain"}};
  r.body = R"({"n":"pageview","u":"https://example.gov.uk/","d":"example.gov.uk"})";
  auto j = ParseJsonBody(r);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["n"], "pageview");

  r.body = R"({"n":"pageview", "secret@example.org")";
  auto bad = ParseJsonBody(r);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("malformed JSON at byte"), std::string::npos);
  EXPECT_EQ(bad.error().message.find("secret@example.org"), std::string::npos) << "never quotes the body";

  r.body = R"({"~":1111111e1112})";  // found by json_body_fuzz: overflows a double
  auto overflow = ParseJsonBody(r);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().message, "malformed JSON: a number is out of range");

  r.body = std::string(100, '[') + std::string(100, ']');
  EXPECT_FALSE(ParseJsonBody(r).ok()) << "too deep";
  r.body = R"({"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})";
  EXPECT_TRUE(ParseJsonBody(r).ok()) << "brackets inside strings do not count";

  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  EXPECT_FALSE(ParseJsonBody(r).ok());
}

TEST(RequestTest, ParsesCookiesPerRfc6265) {
  Request r;
  r.headers = {{"Cookie", "cookies_policy=%7B%22essential%22%3Atrue%7D; cookies_preferences_set=true"},
               {"cookie", " x = \"quoted\" ;bad; =novalue"}};
  Params c = r.Cookies();
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(*Find(c, "cookies_preferences_set"), "true");
  EXPECT_EQ(*Find(c, "x"), "quoted");
  EXPECT_EQ(r.Header("COOKIE").substr(0, 6), "cookie");
}

TEST(ResponseTest, SetCookieShapes) {
  SetCookie c{.name = "cookies_policy",
              .value = "%7B%7D",
              .max_age_seconds = 365 * 24 * 3600,
              .secure = true,
              .http_only = false,
              .same_site = SameSite::kLax};
  EXPECT_EQ(*c.Serialize(), "cookies_policy=%7B%7D; Path=/; Max-Age=31536000; Secure; SameSite=Lax");

  SetCookie host{.name = "__Host-session", .value = "abc", .secure = false, .same_site = SameSite::kStrict};
  EXPECT_FALSE(host.Serialize().ok()) << "__Host- needs Secure";
  host.secure = true;
  EXPECT_EQ(*host.Serialize(), "__Host-session=abc; Path=/; Secure; HttpOnly; SameSite=Strict");
  host.path = "/admin";
  EXPECT_FALSE(host.Serialize().ok()) << "__Host- needs Path=/";

  EXPECT_FALSE((SetCookie{.name = "a", .value = "x;y"}.Serialize().ok())) << "no header injection through a value";
  EXPECT_FALSE((SetCookie{.name = "a b", .value = "x"}.Serialize().ok()));
  EXPECT_FALSE((SetCookie{.name = "a", .value = "x", .path = "/\r\nX: y"}.Serialize().ok()));
  EXPECT_EQ(*SetCookie::Expired("_ga").Serialize(), "_ga=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

TEST(ResponseTest, StatusMappingIsInOnePlace) {
  EXPECT_EQ(StatusForError(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(StatusForError(ErrorCode::kNotFound), 404);
  EXPECT_EQ(StatusForError(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(StatusForError(ErrorCode::kResourceExhausted), 503);
  EXPECT_EQ(StatusForError(ErrorCode::kInternal), 500);
}

TEST(RouterTest, MatchesLiteralsParamsAndRest) {
  Router router;
  auto tag = [](const std::string& t) { return [t](Request&) { return Response::Text(t); }; };
  router.Get("/", tag("home"));
  router.Get("/admin/staff/{id}", tag("staff"));
  router.Get("/admin/staff/new", tag("new"));
  router.Post("/admin/staff/{id}", tag("update"));
  router.Get("/assets/{file...}", tag("asset"));

  auto m = router.Find(Method::kGet, "/admin/staff/42");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/admin/staff/{id}");
  EXPECT_EQ(*Find(m.params, "id"), "42");
  EXPECT_EQ(router.Find(Method::kGet, "/admin/staff/new").route->pattern, "/admin/staff/new") << "literals win";
  EXPECT_EQ(*Find(router.Find(Method::kGet, "/admin/staff/a%20b").params, "id"), "a b");
  EXPECT_EQ(*Find(router.Find(Method::kGet, "/assets/fonts/x.woff2").params, "file"), "fonts/x.woff2");
  EXPECT_EQ(router.Find(Method::kHead, "/").route->pattern, "/") << "HEAD uses the GET handler";

  auto missing = router.Find(Method::kGet, "/nowhere");
  EXPECT_EQ(missing.route, nullptr);
  EXPECT_TRUE(missing.allowed.empty());

  auto wrong = router.Find(Method::kDelete, "/admin/staff/42");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_EQ(wrong.allowed.size(), 3u) << "GET, HEAD, POST";

  EXPECT_TRUE(router.Find(Method::kGet, "/admin/staff/%zz").bad_encoding);

  // A path equal to a literal pattern under another method goes on to the patterns with parameters.
  auto post_new = router.Find(Method::kPost, "/admin/staff/new");
  ASSERT_NE(post_new.route, nullptr);
  EXPECT_EQ(post_new.route->pattern, "/admin/staff/{id}");
  EXPECT_EQ(*Find(post_new.params, "id"), "new");
  auto post_home = router.Find(Method::kPost, "/");
  EXPECT_EQ(post_home.route, nullptr);
  EXPECT_EQ(post_home.allowed, (std::vector<Method>{Method::kGet, Method::kHead}));
  EXPECT_EQ(router.Find(Method::kGet, "/admin/staff/new/").route, nullptr) << "a trailing slash is another path";
}

TEST(ClientAddressTest, BelievesForwardedForOnlyFromTrustedProxies) {
  std::vector<Cidr> trusted = {*Cidr::Parse("10.0.0.0/8"), *Cidr::Parse("::1")};
  IpAddress proxy = *IpAddress::Parse("10.1.2.3");
  IpAddress stranger = *IpAddress::Parse("198.51.100.7");
  EXPECT_EQ(ClientAddress(stranger, "203.0.113.9", trusted), stranger) << "an untrusted peer cannot claim an address";
  EXPECT_EQ(ClientAddress(proxy, "203.0.113.9", trusted), *IpAddress::Parse("203.0.113.9"));
  EXPECT_EQ(ClientAddress(proxy, "1.1.1.1, 203.0.113.9, 10.9.9.9", trusted), *IpAddress::Parse("203.0.113.9"))
      << "the rightmost untrusted hop, not what the client wrote first";
  EXPECT_EQ(ClientAddress(proxy, "", trusted), proxy);
  EXPECT_EQ(ClientAddress(proxy, "garbage, 10.9.9.9", trusted), *IpAddress::Parse("10.9.9.9"));
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("steward-static-" + std::to_string(std::random_device()()));
    fs::create_directories(root_ / "public" / "css");
    std::ofstream(root_ / "public" / "css" / "site.css") << "body{}";
    std::ofstream(root_ / "public" / "bold-affa96571d-v2.woff2") << "font";
    std::ofstream(root_ / "public" / ".env") << "SECRET=1";
    std::ofstream(root_ / "secret.txt") << "outside";
    fs::create_symlink(root_ / "secret.txt", root_ / "public" / "link.txt");
    ASSERT_TRUE(files_.AddDirectory("/assets/", (root_ / "public").string()).ok());
  }
  void TearDown() override { fs::remove_all(root_); }
  Response Get(const std::string& path, std::string inm = "") {
    Request r;
    if (!inm.empty()) r.headers = {{"If-None-Match", inm}};
    return files_.Serve(r, path);
  }
  fs::path root_;
  StaticFiles files_;
};

TEST_F(StaticFilesTest, ServesWithTypeEtagAndCaching) {
  Response r = Get("/assets/css/site.css");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body{}");
  EXPECT_EQ(r.Header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(r.Header("Cache-Control"), "public, max-age=3600");
  EXPECT_EQ(Get("/assets/css/site.css", std::string(r.Header("ETag"))).status, 304);
  Response font = Get("/assets/bold-affa96571d-v2.woff2");
  EXPECT_EQ(font.Header("Content-Type"), "font/woff2");
  EXPECT_NE(font.Header("Cache-Control").find("immutable"), std::string_view::npos);
}

TEST_F(StaticFilesTest, NoWayOutOfTheRoot) {
  for (std::string p :
       {"/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/assets/%2E%2E/secret.txt",
        "/assets/css/..%2f..%2fsecret.txt", "/assets/link.txt", "/assets/.env", "/assets/css%5c..%5c..%5csecret.txt",
        "/assets/css/site.css%00.png", "/assets//css/site.css", "/assets/./css/site.css"}) {
    Response r = Get(p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << p;
    EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << p;
  }
  EXPECT_EQ(files_.file_count(), 2u) << "the symlink and the dotfile were never loaded";
}

}  // namespace
}  // namespace steward::http
