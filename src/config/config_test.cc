#include "config/config.h"

#include <gtest/gtest.h>

namespace steward::config {
namespace {

TEST(ConfigTest, DefaultsWhenEmpty) {
  auto c = Parse("", "/etc/steward/site.toml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->server.listen_host, "127.0.0.1");
  EXPECT_EQ(c->server.listen_port, 8080);
  EXPECT_EQ(c->server.limits.max_body_bytes, 64 * 1024);
  EXPECT_EQ(c->storage.data_dir, "/etc/steward/var") << "relative paths resolve against the file";
}

TEST(ConfigTest, ReadsEverySection) {
  auto c = Parse(R"(
[site]
name = "Office for National Statistics"
web_dir = "/srv/web"

[server]
listen = "[::1]:9000"
threads = 4
public_base_url = "https://www.example.gov.uk"
https = true
trusted_proxies = ["10.0.0.0/8", "::1"]

[server.limits]
max_body_bytes = 1024
read_timeout_seconds = 5

[storage]
data_dir = "/var/lib/steward"
write_queue = 50
reader_cache_mib = 64
)",
                 "/x/site.toml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->site.name, "Office for National Statistics");
  EXPECT_EQ(c->server.listen_host, "::1");
  EXPECT_EQ(c->server.listen_port, 9000);
  EXPECT_TRUE(c->server.https);
  EXPECT_EQ(c->server.trusted_proxies.size(), 2u);
  EXPECT_EQ(c->server.limits.max_body_bytes, 1024);
  EXPECT_EQ(c->server.limits.read_timeout_seconds, 5);
  EXPECT_EQ(c->storage.data_dir, "/var/lib/steward");
  EXPECT_EQ(c->storage.write_queue, 50);
  EXPECT_EQ(c->storage.reader_cache_mib, 64);
}

// An https public address means https (Secure and __Host- cookies, HSTS) unless the file says no.
TEST(ConfigTest, HttpsFollowsThePublicAddressUnlessSaidOtherwise) {
  auto on = Parse("[server]\npublic_base_url = \"https://stats.example.gov.uk\"\n", "site.toml");
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_TRUE(on->server.https);
  auto off = Parse("[server]\npublic_base_url = \"https://stats.example.gov.uk\"\nhttps = false\n", "site.toml");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->server.https) << "the file says otherwise";
  auto plain = Parse("[server]\npublic_base_url = \"http://localhost:8080\"\n", "site.toml");
  EXPECT_FALSE(plain->server.https);
}

TEST(ConfigTest, ReportsEveryProblemWithFileLineAndColumn) {
  const std::vector<std::string> module_tables = {"analytics"};
  auto c = Parse(R"([server]
listen = "nowhere"
threads = "two"
colour = "blue"

[server.limits]
max_connections = 0

[storage]
backend = "oracle"

[mystery]

[analytics]
domains = ["a module's own"]
)",
                 "site.toml", &module_tables);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("site.toml:2:10: 'server.listen' must be HOST:PORT"), std::string::npos) << m;
  EXPECT_NE(m.find("site.toml:3:11: 'server.threads' must be a whole number"), std::string::npos) << m;
  EXPECT_NE(m.find("site.toml:4:1: unknown key 'server.colour'"), std::string::npos) << m;
  EXPECT_NE(m.find("site.toml:7:19: 'server.limits.max_connections' must be between 1"), std::string::npos) << m;
  EXPECT_NE(m.find("site.toml:10:11: 'storage.backend'"), std::string::npos) << m;
  EXPECT_NE(m.find("site.toml:12:2: unknown key 'mystery'"), std::string::npos) << m;
}

TEST(ConfigTest, PostgresqlStorageIsCheckedWithFileAndLine) {
  auto ok = Parse(R"([storage]
backend = "postgresql"
url = "postgresql://steward@db.internal:5432/steward"
password_file = "secrets/db-password"
sslmode = "verify-full"
sslrootcert = "ca.pem"
)",
                  "/etc/steward/site.toml");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->storage.backend, "postgresql");
  EXPECT_EQ(ok->storage.password_file, "/etc/steward/secrets/db-password") << "relative to the file";
  EXPECT_EQ(ok->storage.sslrootcert, "/etc/steward/ca.pem");
  EXPECT_TRUE(
      Parse("[storage]\nbackend = \"postgresql\"\nurl = \"host=/run/postgresql dbname=steward\"\n", "s.toml").ok())
      << "a libpq key=value string";

  auto bad = Parse(R"([storage]
backend = "postgresql"
url = "postgresql://steward:hunter2@db.internal/steward"
sslmode = "sometimes"
sslrootcert = "ca.pem"
)",
                   "site.toml");
  ASSERT_FALSE(bad.ok());
  const std::string& m = bad.error().message;
  EXPECT_NE(m.find("site.toml:3:7: 'storage.url' must not hold the password"), std::string::npos) << m;
  EXPECT_EQ(m.find("hunter2"), std::string::npos) << "never repeats the secret";
  EXPECT_NE(m.find("site.toml:4:11: 'storage.sslmode' must be one of"), std::string::npos) << m;
  EXPECT_NE(m.find("site.toml:5:15: 'storage.sslrootcert' is read only with sslmode"), std::string::npos) << m;

  auto no_url = Parse("[storage]\nbackend = \"postgresql\"\n", "site.toml");
  ASSERT_FALSE(no_url.ok());
  EXPECT_NE(no_url.error().message.find("'storage.url'"), std::string::npos) << no_url.error().message;
  auto keyword_password =
      Parse("[storage]\nbackend = \"postgresql\"\nurl = \"host=db password=x dbname=s\"\n", "s.toml");
  EXPECT_FALSE(keyword_password.ok());

  auto sqlite = Parse("[storage]\nurl = \"postgresql://db/steward\"\n", "site.toml");
  ASSERT_FALSE(sqlite.ok());
  EXPECT_NE(sqlite.error().message.find("site.toml:2:7: 'storage.url' is for backend = \"postgresql\" only"),
            std::string::npos)
      << sqlite.error().message;
}

TEST(ConfigTest, SyntaxErrorHasLine) {
  auto c = Parse("[server]\nlisten = \n", "bad.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind("bad.toml:2:", 0), 0u) << c.error().message;
}

TEST(ConfigTest, RejectsBadProxyRange) {
  auto c = Parse("[server]\ntrusted_proxies = [\"10.0.0.0/99\"]\n", "p.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("not an address or CIDR range"), std::string::npos);
}

TEST(ConfigTest, MissingFile) {
  auto c = Load("/nonexistent/steward.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace steward::config
