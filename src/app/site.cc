#include "app/site.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>

#include "app/modules.h"
#include "core/ip.h"
#include "core/log.h"
#include "core/strings.h"
#include "register/versions.h"
#include "retention/retention.h"

#ifndef STEWARD_VERSION
#define STEWARD_VERSION "0.0.0"
#endif

namespace steward::app {
namespace {

namespace fs = std::filesystem;

std::string DatabasePath(const config::Config& config) { return config.storage.data_dir + "/steward.db"; }

bool OnPostgresql(const config::Config& config) { return config.storage.backend == "postgresql"; }

// Privacy: the PostgreSQL password is read from its file when the store opens, kept in memory
// only, and never logged or shown.
Result<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidArgument, "cannot read storage.password_file " + path);
  std::string password((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  if (password.empty() || password.size() > 1024) {
    return MakeError(ErrorCode::kInvalidArgument, "storage.password_file " + path + " must hold one password");
  }
  return password;
}

}  // namespace

Result<store::Options> StoreOptions(const config::Config& config) {
  store::Options o{.path = DatabasePath(config),
                   .readers = static_cast<int>(config.storage.reader_connections),
                   .reader_cache_kib = config.storage.reader_cache_mib * 1024,
                   .write_queue = static_cast<size_t>(config.storage.write_queue)};
  if (OnPostgresql(config)) {
    o.backend = store::Backend::kPostgresql;
    o.postgresql.url = config.storage.url;
    o.postgresql.sslmode = config.storage.sslmode;
    o.postgresql.sslrootcert = config.storage.sslrootcert;
    if (!config.storage.password_file.empty()) {
      STEWARD_ASSIGN_OR_RETURN(o.postgresql.password, ReadPasswordFile(config.storage.password_file));
    }
  }
  return o;
}

namespace {

// A short fingerprint of the config file as loaded, for the audit trail.
std::string ConfigFingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return HexEncode(crypto::Hash(buf.str()).substr(0, 8));
}

// Privacy: the data directory holds every dataset and the secret key, so it is the owner's alone,
// however it was created.
Status EnsureDataDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return MakeError(ErrorCode::kIo, "cannot create data directory " + dir + ": " + ec.message());
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    return MakeError(ErrorCode::kIo, "cannot make data directory " + dir + " private: " + std::strerror(errno));
  }
  return Ok();
}

std::vector<Cidr> ParseRanges(const std::vector<std::string>& texts) {
  std::vector<Cidr> out;
  for (const auto& t : texts) {
    if (auto c = Cidr::Parse(t)) out.push_back(*c);  // validated when the config was loaded
  }
  return out;
}

// The process's own routes: liveness, readiness and metrics.
void AddOperationsRoutes(http::Router& router, store::Store& store, metrics::Registry* registry,
                         std::vector<Cidr> metrics_allow) {
  router.Get("/livez", [](http::Request&) { return http::Response::Text("ok\n"); });
  router.Get("/healthz",
             [&store](http::Request&) {
               Status db = store.Check();
               if (!db.ok()) {
                 log::Warn("health.database", {{"error", db.error().ToString()}});
                 return http::Response::Json(R"({"status":"unavailable","checks":{"database":"failing"}})", 503);
               }
               return http::Response::Json(R"({"status":"ok","checks":{"database":"ok"}})");
             },
             {.blocking = true});
  router.Get("/metrics", [registry, allow = std::move(metrics_allow)](http::Request& req) {
    bool allowed = registry != nullptr;
    bool from_allowed = false;
    for (const Cidr& c : allow) from_allowed = from_allowed || (req.client_ip && c.Contains(*req.client_ip));
    // Not found, rather than forbidden: nothing to learn about the deployment from outside.
    if (!allowed || !from_allowed) return http::Response::Text("Not found\n", 404);
    http::Response r = http::Response::Text(registry->Render());
    r.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return r;
  });
}

// The descriptors' counters over `platform`, gathered at the first call (from any thread).
std::function<const std::vector<module::Counter>&()> LazyCounters(module::Platform* platform) {
  struct State {
    std::once_flag once;
    std::vector<module::Counter> counters;
  };
  auto state = std::make_shared<State>();
  return [platform, state]() -> const std::vector<module::Counter>& {
    std::call_once(state->once, [&] {
      for (const auto& d : Modules()) {
        if (!d.counters) continue;
        for (auto& c : d.counters(*platform)) state->counters.push_back(std::move(c));
      }
    });
    return state->counters;
  };
}

}  // namespace

std::vector<store::Migration> AllMigrations() {
  std::vector<store::Migration> all = audit::Migrations();
  for (const auto& m : processing::VersionMigrations()) all.push_back(m);
  for (const auto& m : subject::Restrictions::Migrations()) all.push_back(m);
  for (const auto& d : Modules()) {
    if (!d.migrations) continue;
    for (auto& m : d.migrations()) all.push_back(std::move(m));
  }
  return all;
}

std::vector<retention::ModuleStorage> AllStorage(const config::Config& config, audit::Trail* trail) {
  std::vector<retention::ModuleStorage> all = retention::CoreStorage(trail);
  all.push_back(subject::Restrictions::Storage());
  for (const auto& d : Modules()) {
    if (!d.storage) continue;
    for (auto& s : d.storage(config)) all.push_back(std::move(s));
  }
  return all;
}

std::vector<std::string> ModuleTables() {
  std::vector<std::string> all;
  for (const auto& d : Modules()) all.insert(all.end(), d.config_tables.begin(), d.config_tables.end());
  return all;
}

bool SiteExists(const config::Config& config) {
  return fs::exists(OnPostgresql(config) ? config.storage.secret_key_file : DatabasePath(config));
}

Result<processing::Register> CheckSite(const config::Config& config, std::vector<std::string>* notes) {
  if (OnPostgresql(config) && !config.storage.password_file.empty()) {
    if (auto p = ReadPasswordFile(config.storage.password_file); !p.ok()) {
      return MakeError(p.error().code, config.path + ": " + p.error().message);
    }
  }
  STEWARD_ASSIGN_OR_RETURN(processing::Register reg, processing::FromDocument(*config.document));
  std::vector<std::string> cookies;
  for (const auto& d : Modules()) {
    if (!d.cookies) continue;
    for (auto& c : d.cookies(config, reg)) cookies.push_back(std::move(c));
  }
  if (Status s = processing::CheckEssentialCookies(reg, cookies); !s.ok()) {
    return MakeError(s.error().code, config.path + ": " + s.error().message);
  }
  std::string problems;
  ErrorCode code = ErrorCode::kInvalidArgument;
  retention::Keeping keeping = retention::DescribeKeeping(reg, AllStorage(config, nullptr), config.path);
  if (!keeping.problems.empty()) problems = keeping.problems.Joined();
  for (const auto& d : Modules()) {
    if (!d.check) continue;
    if (Status s = d.check(config, reg); !s.ok()) {
      problems += (problems.empty() ? "" : "\n") + s.error().message;
      code = s.error().code;
    }
  }
  if (!problems.empty()) return MakeError(code, problems);
  if (notes != nullptr) {
    *notes = std::move(keeping.lines);
    for (const auto& d : Modules()) {
      if (!d.explain) continue;
      for (auto& line : d.explain(config, reg)) notes->push_back(d.id.str() + ": " + line);
    }
  }
  return reg;
}

int ExitCode(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kAlreadyExists:
      return 2;
    default:
      return 1;
  }
}

Result<std::unique_ptr<Site>> Site::Open(const config::Config& config, Options options) {
  STEWARD_RETURN_IF_ERROR(crypto::Init());
  auto site = std::unique_ptr<Site>(new Site(config, options));
  STEWARD_ASSIGN_OR_RETURN(site->reg_, CheckSite(config, &site->notes_));
  STEWARD_RETURN_IF_ERROR(site->Start());
  return site;
}

Status Site::Start() {
  const Clock& clock = *options_.clock;
  STEWARD_RETURN_IF_ERROR(EnsureDataDir(config_.storage.data_dir));
  STEWARD_ASSIGN_OR_RETURN(auto key, crypto::SecretKey::LoadOrCreate(config_.storage.secret_key_file));
  key_ = std::make_unique<crypto::SecretKey>(std::move(key));
  STEWARD_ASSIGN_OR_RETURN(store::Options store_options, StoreOptions(config_));
  store_options.metrics = options_.metrics;
  STEWARD_ASSIGN_OR_RETURN(store_, store::Store::Open(store_options));
  STEWARD_RETURN_IF_ERROR(store_->Migrate(AllMigrations()));
  trail_ = std::make_unique<audit::Trail>(*store_, *key_, clock);
  retention_ = std::make_unique<retention::Runner>(*store_, *trail_, clock, reg_, AllStorage(config_, trail_.get()));
  if (Status s = retention_->Check(); !s.ok()) return MakeError(ErrorCode::kFailedPrecondition, s.error().message);
  STEWARD_RETURN_IF_ERROR(trail_->Append({.actor = "system",
                                          .action = "config.loaded",
                                          .details = {{"register_version", reg_.Version()},
                                                      {"config", ConfigFingerprint(config_.path)},
                                                      {"steward", STEWARD_VERSION}}}));
  restrictions_ = std::make_unique<subject::Restrictions>(*key_, clock, &reg_);
  STEWARD_ASSIGN_OR_RETURN(pages_, site::Pages::Load(config_.site));
  platform_ = std::unique_ptr<module::Platform>(new module::Platform{.config = config_,
                                                                     .reg = reg_,
                                                                     .store = *store_,
                                                                     .trail = *trail_,
                                                                     .key = *key_,
                                                                     .clock = clock,
                                                                     .metrics = options_.metrics,
                                                                     .pages = pages_.get(),
                                                                     .restrictions = *restrictions_,
                                                                     .services = services_,
                                                                     .base_url = [this] { return BaseUrl(); },
                                                                     .directory = [this] { return &subjects_; }});
  platform_->counters = LazyCounters(platform_.get());
  for (const auto& d : Modules()) {
    if (!d.start) continue;
    auto started = d.start(*platform_);
    if (!started.ok()) return MakeError(started.error().code, d.id.str() + ": " + started.error().message);
    if (auto* held = (*started)->Subjects()) subjects_.Add(d.id.str(), held);
    serving_.push_back(std::move(*started));
  }
  // Once-only work runs on the instance that leads (always this one on SQLite).
  tasks_ = std::make_unique<module::TaskRunner>(clock, [this] {
    bool leads = store_->Leads();
    leading_.store(leads);
    return leads;
  });
  if (options_.metrics != nullptr) {
    options_.metrics->AddSampledGauge("steward_leader",
                                      "1 when this instance runs the site's once-only work (retention, rollups, "
                                      "followed logs), as last asked.",
                                      [this] { return leading_.load() ? 1.0 : 0.0; });
  }
  return Ok();
}

Site::~Site() { Stop(); }

http::Router Site::TakeRouter() {
  http::Router router;
  pages_->AddRoutes(router);
  std::vector<module::StaffPage> staff_pages;
  for (auto& s : serving_) {
    s->AddRoutes(router);
    for (auto& p : s->StaffPages()) staff_pages.push_back(std::move(p));
  }
  if (auto* shell = services_.Find<module::StaffShell>()) shell->AddRoutes(router, std::move(staff_pages));
  AddOperationsRoutes(router, *store_, options_.metrics, ParseRanges(config_.server.metrics_allow));
  return router;
}

http::ServerOptions Site::ServerOptions() const {
  http::ServerOptions options;
  options.host = config_.server.listen_host;
  options.port = config_.server.listen_port;
  options.threads = static_cast<int>(config_.server.threads);
  options.limits = config_.server.limits;
  options.trusted_proxies = ParseRanges(config_.server.trusted_proxies);
  options.https = config_.server.https;
  options.metrics = options_.metrics;
  // Every Set-Cookie passes the cookie policy of the module that holds the visitor's choices.
  if (const auto* policy = services_.Find<module::CookiePolicy>()) options.cookie_gate = policy->allow;
  const site::Pages* pages = pages_.get();
  options.error_page = [pages](int status, const http::Request* req) { return pages->ErrorPage(status, req); };
  return options;
}

std::string Site::BaseUrl() const {
  return config::BaseUrl(config_, port_.load() != 0 ? port_.load() : config_.server.listen_port);
}

void Site::Started(uint16_t port) {
  port_ = port;
  for (auto& s : serving_) s->Started();
}

void Site::StartTasks() {
  using namespace std::chrono_literals;
  std::vector<module::Task> tasks = {
      {.name = "retention.daily",
       .first = 1min,
       .every = 24h,
       .run = [this]() -> Status {
         auto r = retention_->Run(false);
         if (!r.ok()) return r.error();
         return Ok();
       }},
      // Asks often whether this instance leads, so that when the leader dies another takes over
      // within seconds (and /metrics says which leads), not at the next run of some daily task.
      {.name = "store.leadership",
       .first = 0s,
       .every = 5s,
       .run = [this]() -> Status {
         leading_.store(store_->Leads());
         return Ok();
       },
       .every_instance = true}};
  for (auto& s : serving_) {
    for (auto& t : s->Tasks()) tasks.push_back(std::move(t));
  }
  tasks_->Start(std::move(tasks));
}

void Site::Stop() {
  if (stopped_ || !tasks_) return;
  stopped_ = true;
  for (auto& s : serving_) s->Stop();
  tasks_->Stop();
  // Sign the trail's last entry, so nothing before the shutdown can be removed unnoticed.
  if (Status s = trail_->Checkpoint(); !s.ok())
    log::Error("audit.checkpoint_failed", {{"error", s.error().ToString()}});
}

Result<std::unique_ptr<CommandSite>> CommandSite::Open(const config::Config& config, bool make) {
  STEWARD_RETURN_IF_ERROR(crypto::Init());
  auto site = std::unique_ptr<CommandSite>(new CommandSite(config));
  STEWARD_ASSIGN_OR_RETURN(site->reg_, CheckSite(config));
  if (!SiteExists(config)) {
    if (!make) {
      std::string what = OnPostgresql(config) ? "no secret key at " + config.storage.secret_key_file
                                              : "no database at " + DatabasePath(config);
      return MakeError(ErrorCode::kNotFound, what +
                                                 ": this data directory has no site yet. Make one with: steward init "
                                                 "--config " +
                                                 config.path + " --data " + config.storage.data_dir);
    }
    // A new site: the directory (0700), the secret key and the database, made here as serve makes them.
    STEWARD_RETURN_IF_ERROR(EnsureDataDir(config.storage.data_dir));
    STEWARD_RETURN_IF_ERROR(crypto::SecretKey::LoadOrCreate(config.storage.secret_key_file));
    site->made_ = true;
  }
  STEWARD_ASSIGN_OR_RETURN(auto key, crypto::SecretKey::Load(config.storage.secret_key_file));
  site->key_ = std::make_unique<crypto::SecretKey>(std::move(key));
  // The command runs beside a serving Steward: no integrity scan, and the schema must already be
  // there (Migrate is a no-op then, and creates it for a database made by an older version).
  STEWARD_ASSIGN_OR_RETURN(store::Options store_options, StoreOptions(config));
  store_options.readers = 1;
  store_options.check_integrity = false;
  auto store = store::Store::Open(store_options);
  if (!store.ok()) return MakeError(store.error().code, "cannot open the site's data: " + store.error().message);
  if (Status s = (*store)->Migrate(AllMigrations()); !s.ok()) {
    return MakeError(s.error().code, "cannot bring " + (*store)->Describe() + " up to date: " + s.error().message);
  }
  site->store_ = std::move(*store);
  const Clock& clock = SystemClock::Instance();
  site->trail_ = std::make_unique<audit::Trail>(*site->store_, *site->key_, clock);
  if (site->made_) {
    STEWARD_RETURN_IF_ERROR(
        site->trail_->Append({.actor = "system",
                              .action = "site.created",
                              .details = {{"register_version", site->reg_.Version()}, {"steward", STEWARD_VERSION}}}));
  }
  site->restrictions_ = std::make_unique<subject::Restrictions>(*site->key_, clock, &site->reg_);
  const config::Config& c = site->config_;
  site->platform_ = std::unique_ptr<module::Platform>(
      new module::Platform{.config = c,
                           .reg = site->reg_,
                           .store = *site->store_,
                           .trail = *site->trail_,
                           .key = *site->key_,
                           .clock = clock,
                           .restrictions = *site->restrictions_,
                           .services = site->services_,
                           .base_url = [&c] { return config::BaseUrl(c, c.server.listen_port); }});
  CommandSite* raw = site.get();
  site->platform_->directory = [raw]() -> subject::Directory* { return raw->Directory(); };
  site->platform_->counters = LazyCounters(site->platform_.get());
  return site;
}

subject::Directory* CommandSite::Directory() {
  if (directory_) return directory_.get();
  directory_ = std::make_unique<subject::Directory>();
  for (const auto& d : Modules()) {
    if (!d.subjects) continue;
    auto data = d.subjects(*platform_);
    if (!data.ok()) {
      log::Warn("subjects.module_failed", {{"module", d.id.str()}, {"error", data.error().message}});
      continue;
    }
    if (!*data) continue;
    directory_->Add(d.id.str(), data->get());
    held_.push_back(std::move(*data));
  }
  return directory_.get();
}

}  // namespace steward::app
