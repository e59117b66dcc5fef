// Several `steward serve` instances on one PostgreSQL database, as behind a load balancer: shared
// state, one leader for the once-only work, one audit chain, and nothing acknowledged lost when an
// instance is killed in the middle of the load.
#include <gtest/gtest.h>
#include <signal.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "core/strings.h"
#include "http/request.h"
#include "http/testing/raw_client.h"
#include "process.h"
#include "store/testing/scratch.h"

namespace steward::testing {
namespace {

namespace fs = std::filesystem;
using http::testing::Fetch;

constexpr const char* kPassword = "purple tractor umbrella";
constexpr const char* kUa = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

std::string Cookie(const http::testing::RawResponse& r, const std::string& name) {
  for (const auto& line : r.Headers("Set-Cookie")) {
    if (line.rfind(name + "=", 0) == 0) return line.substr(0, line.find(';'));
  }
  return "";
}

// The value of a metric line "name value" in /metrics, or -1.
double Metric(uint16_t port, const std::string& name) {
  auto m = Fetch(port, "GET", "/metrics");
  if (!m) return -1;
  std::smatch match;
  if (!std::regex_search(m->body, match, std::regex("\n" + name + " ([0-9.e+-]+)"))) return -1;
  return std::stod(match[1].str());
}

class InstancesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!store::testing::OnPostgresql()) GTEST_SKIP() << "several instances share a PostgreSQL database";
    dir_ = MakeTempDir("steward-instances");
    database_ = std::make_unique<store::testing::TestDatabase>(dir_);
    // The demo site, its [storage] naming the test database.
    std::string text = ReadFile(SourcePath("examples/demo.toml"));
    size_t at = text.find("backend = \"sqlite\"\n");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("backend = \"sqlite\"\n").size(), database_->ConfigLines());
    at = text.find("web_dir = \"../web\"");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("web_dir = \"../web\"").size(), "web_dir = \"" + SourcePath("web") + "\"");
    at = text.find("data_dir = \"../var\"");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("data_dir = \"../var\"").size(), "data_dir = \"" + dir_ + "/a\"");
    config_ = dir_ + "/site.toml";
    std::ofstream(config_) << text;
  }
  void TearDown() override {
    database_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::vector<std::string> Site(const std::string& data) { return {"--config", config_, "--data", dir_ + "/" + data}; }
  std::vector<std::string> With(std::vector<std::string> args, const std::string& data) {
    auto site = Site(data);
    args.insert(args.end(), site.begin(), site.end());
    return args;
  }

  std::string dir_, config_;
  std::unique_ptr<store::testing::TestDatabase> database_;
};

TEST_F(InstancesTest, TwoInstancesShareOneSiteAndSurviveTheLossOfOne) {
  // One site: made once, its secret key given to both machines.
  RunResult init = RunSteward(With({"init"}, "a"));
  ASSERT_EQ(init.exit_code, 0) << init.err;
  fs::create_directories(dir_ + "/b");
  fs::copy_file(dir_ + "/a/secret.key", dir_ + "/b/secret.key");
  RunResult added = RunSteward(With({"staff", "add", "--email", "admin@example.gov.uk", "--role", "admin", "--role",
                                     "analyst", "--password-stdin"},
                                    "a"),
                               std::string(kPassword) + "\n");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  RunResult key = RunSteward(With({"apikey", "create", "--name", "Dashboard"}, "a"));
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string api_key(Trim(key.out));

  auto a = std::make_unique<StewardProcess>(dir_, Site("a"));
  ASSERT_TRUE(a->started()) << a->Stderr();
  // The first to start leads; the second waits its turn.
  for (int i = 0; i < 100 && Metric(a->port(), "steward_leader") != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  StewardProcess b(dir_, Site("b"));
  ASSERT_TRUE(b.started()) << b.Stderr();
  EXPECT_EQ(Metric(a->port(), "steward_leader"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(Metric(b.port(), "steward_leader"), 0);

  // A consent choice made on one instance is known to the other.
  auto chose =
      Fetch(a->port(), "POST", "/api/consent", {{"Content-Type", "text/plain"}, {"Sec-Fetch-Site", "same-origin"}},
            R"({"additional":"yes","method":"banner"})");
  ASSERT_EQ(chose->status, 200) << chose->body;
  std::string consent = Cookie(*chose, "steward_consent"), policy = Cookie(*chose, "cookies_policy");
  ASSERT_FALSE(consent.empty());
  auto known = Fetch(b.port(), "GET", "/api/consent", {{"Cookie", consent + "; " + policy}});
  EXPECT_NE(known->body.find(R"("method":"banner")"), std::string::npos) << known->body;

  // A sign-in form from one instance is accepted by the other, and its session works on both.
  auto form = Fetch(a->port(), "GET", "/admin/login");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(form->body, m, std::regex("name=\"csrf_token\" value=\"([0-9a-f]+)\"")));
  auto signed_in =
      Fetch(b.port(), "POST", "/admin/login",
            {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", Cookie(*form, "steward_presession")}},
            "csrf_token=" + m[1].str() + "&email=admin%40example.gov.uk&password=" + http::PercentEncode(kPassword) +
                "&next=%2Fadmin");
  ASSERT_EQ(signed_in->status, 303) << signed_in->body;
  std::string session = Cookie(*signed_in, "steward_staff");
  EXPECT_EQ(Fetch(a->port(), "GET", "/admin", {{"Cookie", session}})->status, 200);
  EXPECT_EQ(Fetch(b.port(), "GET", "/admin", {{"Cookie", session}})->status, 200);

  // Load on both; the leader is killed in the middle of it.
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<bool> a_alive{true};
  std::atomic<int> sent{0};
  auto load = [&](int instance) {
    for (int i = 0; i < 150; ++i) {
      bool to_a = instance == 0;
      if (to_a && !a_alive) return;
      uint16_t port = to_a ? a->port() : b.port();
      std::string path = "/load/" + std::to_string(instance) + "/" + std::to_string(i);
      ++sent;
      auto r =
          Fetch(port, "POST", "/api/event", {{"Content-Type", "text/plain"}, {"User-Agent", kUa}, {"Cookie", policy}},
                R"({"n":"pageview","u":"http://127.0.0.1)" + path + R"(","d":"127.0.0.1"})");
      if (r && r->status == 202) {
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.insert(path);
      }
      // Failed sign-ins on both: the audit trail is appended to from both at once.
      if (i % 30 == 0) {
        (void)Fetch(port, "POST", "/admin/login", {{"Content-Type", "application/x-www-form-urlencoded"}},
                    "email=nobody%40example.gov.uk&password=wrong");
      }
    }
  };
  std::thread to_a(load, 0), to_b(load, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  a_alive = false;
  EXPECT_EQ(a->Stop(SIGKILL), 128 + SIGKILL);
  to_a.join();
  to_b.join();
  ASSERT_GT(acknowledged.size(), 150u) << "the survivor took the rest of the load";

  // The survivor leads now: it took the lock the dead instance's connection held.
  bool leads = false;
  for (int i = 0; i < 150 && !leads; ++i) {
    leads = Metric(b.port(), "steward_leader") == 1;
    if (!leads) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(leads) << "the survivor runs the once-only work";
  auto healthy = Fetch(b.port(), "GET", "/healthz");
  EXPECT_EQ(healthy->status, 200) << healthy->body;

  // A third instance joins; both answer the dashboard's query alike, and every acknowledged event
  // is in it.
  StewardProcess c(dir_, Site("b"));
  ASSERT_TRUE(c.started()) << c.Stderr();
  const std::string query =
      R"({"site_id":"127.0.0.1","date_range":"day","metrics":["pageviews"],"dimensions":["event:page"],)"
      R"("pagination":{"limit":1000}})";
  auto from_b = Fetch(b.port(), "POST", "/api/v2/query",
                      {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + api_key}}, query);
  auto from_c = Fetch(c.port(), "POST", "/api/v2/query",
                      {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + api_key}}, query);
  ASSERT_EQ(from_b->status, 200) << from_b->body;
  EXPECT_EQ(from_b->body, from_c->body);
  for (const auto& path : acknowledged) {
    EXPECT_NE(from_b->body.find("\"" + path + "\""), std::string::npos) << path << " was acknowledged and is lost";
  }
  EXPECT_EQ(c.Stop(SIGTERM), 0);
  EXPECT_EQ(b.Stop(SIGTERM), 0);

  // One unbroken chain, written by three processes, one of them killed.
  RunResult verified = RunSteward(With({"audit", "verify"}, "b"));
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("intact"), std::string::npos) << verified.out;
}

// The database goes away under a serving instance (a restart, a failover): /healthz says so with
// 503 and writes are refused rather than acknowledged; when it returns, the instance recovers by
// itself, and nothing it acknowledged before is lost.
TEST_F(InstancesTest, AnInstanceThatLosesTheDatabaseSaysSoAndRecovers) {
  // A cluster of this test's own, which it stops and starts.
  std::string cluster = "/tmp/steward-outage-" + std::to_string(::getpid());
  std::string script = SourcePath("scripts/postgresql-cluster");
  ASSERT_EQ(std::system((script + " start " + cluster + " --fast > /dev/null").c_str()), 0);
  std::string url = "host=" + cluster + " port=5432 user=steward dbname=postgres";
  std::string text = ReadFile(config_);
  text.replace(text.find(database_->url()), database_->url().size(), url);
  std::string config = dir_ + "/outage.toml";
  std::ofstream(config) << text;

  StewardProcess steward(dir_, {"--config", config, "--data", dir_ + "/outage"});
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  auto chose =
      Fetch(steward.port(), "POST", "/api/consent", {{"Content-Type", "text/plain"}, {"Sec-Fetch-Site", "same-origin"}},
            R"({"additional":"yes","method":"banner"})");
  ASSERT_EQ(chose->status, 200);
  std::string policy = Cookie(*chose, "cookies_policy");
  auto event = [&](const std::string& path) {
    auto r = Fetch(steward.port(), "POST", "/api/event",
                   {{"Content-Type", "text/plain"}, {"User-Agent", kUa}, {"Cookie", policy}},
                   R"({"n":"pageview","u":"http://127.0.0.1)" + path + R"(","d":"127.0.0.1"})");
    return r ? r->status : 0;
  };
  ASSERT_EQ(event("/before"), 202);
  EXPECT_EQ(Fetch(steward.port(), "GET", "/healthz")->status, 200);

  ASSERT_EQ(std::system((script + " stop " + cluster).c_str()), 0);
  auto down = Fetch(steward.port(), "GET", "/healthz");
  EXPECT_EQ(down->status, 503) << down->body;
  EXPECT_NE(down->body.find("\"database\":\"failing\""), std::string::npos) << down->body;
  int refused = event("/during");
  EXPECT_NE(refused, 202) << "nothing is acknowledged that is not committed";
  EXPECT_EQ(Fetch(steward.port(), "GET", "/")->status, 200) << "pages that need no database still answer";

  ASSERT_EQ(std::system((script + " start " + cluster + " --fast > /dev/null").c_str()), 0);
  int healthy = 0;
  for (int i = 0; i < 100 && healthy != 200; ++i) {
    healthy = Fetch(steward.port(), "GET", "/healthz")->status;
    if (healthy != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(healthy, 200) << "recovered by itself";
  EXPECT_EQ(event("/after"), 202) << steward.Stderr();
  EXPECT_EQ(steward.Stop(SIGTERM), 0);

  RunResult stats =
      RunSteward({"stats", "--period", "day", "--format", "csv", "--config", config, "--data", dir_ + "/outage"});
  EXPECT_NE(stats.out.find("page,/before,pageviews,1"), std::string::npos) << stats.out << stats.err;
  EXPECT_NE(stats.out.find("page,/after,pageviews,1"), std::string::npos) << stats.out;
  EXPECT_EQ(stats.out.find("/during"), std::string::npos) << stats.out;
  (void)std::system((script + " remove " + cluster).c_str());
}

// A site moves from SQLite to PostgreSQL and back with `steward store copy`: every row, the secret
// key, the audit trail verified; a store that holds a site already is refused.
TEST_F(InstancesTest, StoreCopyMovesASiteBetweenBackends) {
  std::string text = ReadFile(config_);
  std::string sqlite_config = dir_ + "/sqlite.toml";
  std::string sqlite_text = text;
  sqlite_text.replace(sqlite_text.find(database_->ConfigLines()), database_->ConfigLines().size(),
                      "backend = \"sqlite\"\n");
  sqlite_text.replace(sqlite_text.find(dir_ + "/a\""), dir_.size() + 3, dir_ + "/sqlite\"");
  std::ofstream(sqlite_config) << sqlite_text;
  auto on = [&](const std::string& config, const std::string& data, std::vector<std::string> args) {
    args.insert(args.end(), {"--config", config, "--data", dir_ + "/" + data});
    return args;
  };

  // A site on SQLite with a staff account, a key, a consent choice and events.
  ASSERT_EQ(RunSteward(on(sqlite_config, "sqlite", {"init"})).exit_code, 0);
  ASSERT_EQ(RunSteward(on(sqlite_config, "sqlite",
                          {"staff", "add", "--email", "admin@example.gov.uk", "--role", "analyst", "--password-stdin"}),
                       std::string(kPassword) + "\n")
                .exit_code,
            0);
  RunResult key = RunSteward(on(sqlite_config, "sqlite", {"apikey", "create", "--name", "Dashboard"}));
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string api_key(Trim(key.out));
  const std::string query =
      R"({"site_id":"127.0.0.1","date_range":"day","metrics":["visitors","pageviews"],"dimensions":["event:page"]})";
  std::string before;
  {
    StewardProcess sqlite(dir_, {"--config", sqlite_config, "--data", dir_ + "/sqlite"});
    ASSERT_TRUE(sqlite.started()) << sqlite.Stderr();
    auto chose = Fetch(sqlite.port(), "POST", "/api/consent",
                       {{"Content-Type", "text/plain"}, {"Sec-Fetch-Site", "same-origin"}},
                       R"({"additional":"yes","method":"banner"})");
    ASSERT_EQ(chose->status, 200);
    for (const char* path : {"/", "/guidance", "/guidance"}) {
      auto r =
          Fetch(sqlite.port(), "POST", "/api/event",
                {{"Content-Type", "text/plain"}, {"User-Agent", kUa}, {"Cookie", Cookie(*chose, "cookies_policy")}},
                std::string(R"({"n":"pageview","u":"http://127.0.0.1)") + path + R"(","d":"127.0.0.1"})");
      ASSERT_EQ(r->status, 202);
    }
    auto api = Fetch(sqlite.port(), "POST", "/api/v2/query",
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + api_key}}, query);
    ASSERT_EQ(api->status, 200) << api->body;
    before = api->body;
    EXPECT_EQ(sqlite.Stop(SIGTERM), 0);
  }

  // Each file names its own data directory: the secret key goes with the copy.
  RunResult copied = RunSteward({"store", "copy", "--from-config", sqlite_config, "--to-config", config_});
  ASSERT_EQ(copied.exit_code, 0) << copied.out << copied.err;
  EXPECT_NE(copied.out.find("analytics_events"), std::string::npos) << copied.out;
  EXPECT_NE(copied.out.find("the audit trail verifies"), std::string::npos) << copied.out;
  EXPECT_EQ(copied.out.find("DIFFERS"), std::string::npos) << copied.out;

  // The same answers from PostgreSQL, and the key and the staff account work there.
  {
    StewardProcess pg(dir_, Site("a"));
    ASSERT_TRUE(pg.started()) << pg.Stderr();
    auto api = Fetch(pg.port(), "POST", "/api/v2/query",
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + api_key}}, query);
    ASSERT_EQ(api->status, 200) << api->body;
    EXPECT_EQ(api->body, before);
    // New rows get new ids after the copied ones.
    RunResult another = RunSteward(With({"apikey", "create", "--name", "Second"}, "a"));
    EXPECT_EQ(another.exit_code, 0) << another.err;
    EXPECT_EQ(pg.Stop(SIGTERM), 0);
  }
  EXPECT_EQ(RunSteward(With({"audit", "verify"}, "a")).exit_code, 0);

  // Again into the same database: refused, nothing changed.
  RunResult again = RunSteward({"store", "copy", "--from-config", sqlite_config, "--to-config", config_});
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_NE(again.err.find("holds a site already"), std::string::npos) << again.err;

  // And back, into a new SQLite file.
  std::string back_config = dir_ + "/back.toml";
  std::string back_text = sqlite_text;
  back_text.replace(back_text.find(dir_ + "/sqlite\""), dir_.size() + 8, dir_ + "/back\"");
  std::ofstream(back_config) << back_text;
  RunResult back = RunSteward({"store", "copy", "--from-config", config_, "--to-config", back_config});
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  EXPECT_EQ(RunSteward({"audit", "verify", "--config", back_config}).exit_code, 0);
}

}  // namespace
}  // namespace steward::testing
