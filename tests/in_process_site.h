// The whole site in process, for tests: an example's site file on a fresh data directory and this
// test's store (SQLite, or PostgreSQL for the postgresql.* copies), served on a free port, with a
// clock the test moves.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <string>

#include "app/modules.h"
#include "app/site.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "staff/accounts.h"
#include "staff/sessions.h"
#include "store/testing/scratch.h"

namespace steward::testing {

// Writes a copy of examples/`example` to a scratch file whose templates are the source tree's and
// whose mail relay (one on this machine) is the test SMTP server on `smtp_port`; returns its path (the caller removes
// it).
inline std::string WriteExample(const std::string& example, int smtp_port) {
  std::ifstream in(std::string(STEWARD_SOURCE_DIR) + "/examples/" + example);
  std::string site((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto swap = [&](const std::string& from, const std::string& to) {
    size_t at = site.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) site.replace(at, from.size(), to);
  };
  swap("web_dir = \"../web\"", "web_dir = \"" + std::string(STEWARD_SOURCE_DIR) + "/web\"");
  // Any relay on this machine ("smtp://127.0.0.1:25", the demo's 8025) becomes the test's.
  std::smatch relay;
  EXPECT_TRUE(std::regex_search(site, relay, std::regex("relay = \"smtp://127\\.0\\.0\\.1:[0-9]+\"")));
  if (!relay.empty()) swap(relay.str(), "relay = \"smtp://127.0.0.1:" + std::to_string(smtp_port) + "\"");
  std::string path =
      (std::filesystem::temp_directory_path() / ("steward-example-" + crypto::RandomHex(6) + ".toml")).string();
  std::ofstream(path) << site;
  return path;
}

class InProcessSite {
 public:
  // Call from SetUp with ASSERT_NO_FATAL_FAILURE; `example` is "examples/demo.toml" (or an absolute
  // path to a site file the test wrote). `edit` may
  // change the loaded config before the site opens.
  void Open(const std::string& example, Clock& clock, const std::function<void(config::Config&)>& edit = nullptr) {
    dir_ = std::filesystem::temp_directory_path() / ("steward-site-test-" + crypto::RandomHex(8));
    std::vector<std::string> tables = app::ModuleTables();
    auto config =
        config::Load(example.starts_with("/") ? example : std::string(STEWARD_SOURCE_DIR) + "/" + example, &tables);
    ASSERT_TRUE(config.ok()) << config.error().message;
    config_ = std::move(*config);
    config_.storage.data_dir = dir_.string();
    config_.storage.secret_key_file = (dir_ / "secret.key").string();
    database_ = std::make_unique<store::testing::TestDatabase>(dir_);
    if (!database_->url().empty()) {
      config_.storage.backend = "postgresql";
      config_.storage.url = database_->url();
    }
    if (edit) edit(config_);
    auto site = app::Site::Open(config_, {.clock = &clock, .metrics = &metrics_});
    ASSERT_TRUE(site.ok()) << site.error().message;
    site_ = std::move(*site);
    http::ServerOptions options = site_->ServerOptions();
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<http::Server>(std::move(options), site_->TakeRouter());
    ASSERT_TRUE(server_->Start().ok());
    site_->Started(server_->port());
  }
  ~InProcessSite() {
    server_.reset();
    site_.reset();
    database_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  // A staff member with `roles`, signed in: the Cookie header's value and the session's CSRF token.
  struct Staff {
    int64_t id = 0;
    std::string cookie, csrf;
  };
  Staff SignedIn(const std::string& email, const std::vector<staff::Role>& roles) {
    auto* accounts = site_->services().Find<staff::Accounts>();
    auto* sessions = site_->services().Find<staff::Sessions>();
    EXPECT_TRUE(accounts != nullptr && sessions != nullptr);
    if (accounts == nullptr || sessions == nullptr) return {};
    auto id = accounts->Create(email, roles, {});
    EXPECT_TRUE(id.ok());
    auto session = sessions->Create(*id, false, "test");
    EXPECT_TRUE(session.ok());
    if (!id.ok() || !session.ok()) return {};
    return {*id, "steward_staff=" + *session, sessions->CsrfToken(*session)};
  }

  app::Site& site() { return *site_; }
  uint16_t port() const { return server_->port(); }
  const std::filesystem::path& dir() const { return dir_; }
  const config::Config& config() const { return config_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<store::testing::TestDatabase> database_;
  config::Config config_;
  metrics::Registry metrics_;  // served at /metrics, as serve does
  std::unique_ptr<app::Site> site_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace steward::testing
