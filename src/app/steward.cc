#include "app/steward.h"

#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <optional>
#include <sstream>

#include "admin/admin.h"
#include "analytics/analytics.h"
#include "analytics/api_keys.h"
#include "analytics/query_api.h"
#include "analytics/report.h"
#include "analytics/rollups.h"
#include "analytics/salts.h"
#include "audit/audit.h"
#include "consent/consent.h"
#include "consent/gate.h"
#include "consent/records.h"
#include "core/clock.h"
#include "core/strings.h"
#include "core/ip.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "http/server.h"
#include "logs/archive.h"
#include "logs/import.h"
#include "logs/settings.h"
#include "logs/stats.h"
#include "metrics/metrics.h"
#include "notice/notice.h"
#include "register/register.h"
#include "register/versions.h"
#include "retention/retention.h"
#include "site/pages.h"
#include "staff/accounts.h"
#include "staff/sessions.h"
#include "staff/storage.h"
#include "store/store.h"

#ifndef STEWARD_VERSION
#define STEWARD_VERSION "0.0.0"
#endif

namespace steward::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabaseFile = "steward.db";

std::string DatabasePath(const config::Config& config) { return config.storage.data_dir + "/" + kDatabaseFile; }

// Every module's schema, in the order of their layers.
std::vector<store::Migration> AllMigrations() {
  std::vector<store::Migration> all;
  for (const auto& m : audit::Migrations()) all.push_back(m);
  for (const auto& m : processing::VersionMigrations()) all.push_back(m);
  for (const auto& m : staff::Accounts::Migrations()) all.push_back(m);
  for (const auto& m : consent::Records::Migrations()) all.push_back(m);
  for (const auto& m : analytics::Migrations()) all.push_back(m);
  for (const auto& m : logs::Migrations()) all.push_back(m);
  return all;
}

std::string CommonPasswordsFile(const config::Config& config) {
  return config.site.web_dir + "/generated/common-passwords.txt";
}

// Where the raw access-log lines are kept (see logs/archive.h).
std::string RawLogsDir(const config::Config& config) { return config.storage.data_dir + "/logs"; }

// The raw lines' archive, labelling clients as the monitor's alerts do.
std::unique_ptr<logs::RawArchive> MakeRawArchive(const config::Config& config, const crypto::SecretKey& key,
                                                 const logs::Monitor& monitor) {
  return std::make_unique<logs::RawArchive>(RawLogsDir(config), key,
                                            [&monitor](std::string_view host) { return monitor.ClientLabel(host); });
}

// What every module stores: the tables it declares and its purge.
std::vector<retention::ModuleStorage> AllStorage(const config::Config& config) {
  std::vector<retention::ModuleStorage> all = retention::CoreStorage();
  all.push_back(staff::Storage());
  all.push_back(consent::Storage());
  all.push_back(analytics::Storage());
  all.push_back(analytics::RollupStorage());
  all.push_back(logs::Storage(RawLogsDir(config)));
  return all;
}

// A short fingerprint of the config file as loaded, for the audit trail. (The register's own
// version replaces it when the register arrives.)
std::string ConfigFingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return HexEncode(crypto::Hash(buf.str()).substr(0, 8));
}

std::string Absolute(const std::string& p) { return fs::absolute(p).lexically_normal().string(); }

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

// The process-level routes: liveness, readiness and metrics.
void AddOperationsRoutes(http::Router& router, store::Store& store, metrics::Registry& registry,
                         std::vector<Cidr> metrics_allow) {
  router.Get("/livez", [](http::Request&) { return http::Response::Text("ok\n"); });
  router.Get("/healthz", [&store](http::Request&) {
    Status db = store.Check();
    if (!db.ok()) {
      log::Warn("health.database", {{"error", db.error().ToString()}});
      return http::Response::Json(R"({"status":"unavailable","checks":{"database":"failing"}})", 503);
    }
    return http::Response::Json(R"({"status":"ok","checks":{"database":"ok"}})");
  }, {.blocking = true});
  router.Get("/metrics", [&registry, allow = std::move(metrics_allow)](http::Request& req) {
    bool allowed = false;
    for (const Cidr& c : allow) allowed = allowed || (req.client_ip && c.Contains(*req.client_ip));
    // Not found, rather than forbidden: nothing to learn about the deployment from outside.
    if (!allowed) return http::Response::Text("Not found\n", 404);
    http::Response r = http::Response::Text(registry.Render());
    r.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return r;
  });
}

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

Result<config::Config> LoadConfig(const std::string& path, const Overrides& overrides) {
  STEWARD_ASSIGN_OR_RETURN(config::Config config, config::Load(path));
  if (!overrides.listen.empty()) {
    Status s = config::ParseListen(overrides.listen, config.server.listen_host, config.server.listen_port);
    if (!s.ok()) return MakeError(ErrorCode::kInvalidArgument, "--listen: " + s.error().message);
  }
  if (!overrides.data_dir.empty()) config.storage.data_dir = Absolute(overrides.data_dir);
  if (!overrides.secret_key_file.empty()) config.storage.secret_key_file = Absolute(overrides.secret_key_file);
  if (config.storage.secret_key_file.empty()) config.storage.secret_key_file = config.storage.data_dir + "/secret.key";
  return config;
}

int Serve(const config::Config& config) {
  // Every thread started from here on inherits the mask; this thread waits for the signals.
  sigset_t stop = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Privacy: every file Steward creates (database, write-ahead log, backups) is the owner's alone.
  ::umask(077);

  auto fail = [](const std::string& what, const Error& e) {
    log::Error(what, {{"error", e.ToString()}});
    std::fprintf(stderr, "steward: %s\n", e.message.c_str());
    return 1;
  };

  if (Status s = crypto::Init(); !s.ok()) return fail("start.crypto", s.error());
  auto reg = processing::FromDocument(*config.document);
  if (!reg.ok()) {
    std::fprintf(stderr, "%s\n", reg.error().message.c_str());
    log::Error("start.register", {{"problems", static_cast<int64_t>(std::count(reg.error().message.begin(),
                                                                                  reg.error().message.end(), '\n') + 1)}});
    return 2;
  }
  if (Status s = consent::CheckDeclared(*reg, admin::StaffCookieNames(config.server.https)); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", config.path.c_str(), s.error().message.c_str());
    log::Error("start.register", {{"problems", "undeclared cookies"}});
    return 2;
  }
  auto analytics_settings = analytics::ReadSettings(*config.document, *reg);
  if (!analytics_settings.ok()) {
    std::fprintf(stderr, "%s\n", analytics_settings.error().message.c_str());
    log::Error("start.analytics", {{"problems", "analytics settings"}});
    return 2;
  }
  auto log_settings = logs::ReadLogSettings(*config.document);
  if (!log_settings.ok()) {
    std::fprintf(stderr, "%s\n", log_settings.error().message.c_str());
    log::Error("start.logs", {{"problems", "logs settings"}});
    return 2;
  }
  if (Status s = EnsureDataDir(config.storage.data_dir); !s.ok()) return fail("start.data_dir", s.error());
  auto key = crypto::SecretKey::LoadOrCreate(config.storage.secret_key_file);
  if (!key.ok()) return fail("start.secret_key", key.error());

  metrics::Registry registry;
  registry.AddGauge("steward_build_info", "Always 1; the version is in the help text: " STEWARD_VERSION).Set(1);
  registry.AddGauge("steward_process_start_time_seconds", "When the process started (Unix time).")
      .Set(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                   SystemClock::Instance().Now().time_since_epoch()).count()));

  auto store = store::Store::Open({.path = DatabasePath(config),
                                   .readers = static_cast<int>(config.storage.reader_connections),
                                   .write_queue = static_cast<size_t>(config.storage.write_queue),
                                   .metrics = &registry});
  if (!store.ok()) return fail("start.store", store.error());
  if (Status s = (*store)->Migrate(AllMigrations()); !s.ok()) return fail("start.migrate", s.error());
  audit::Trail trail(**store, *key, SystemClock::Instance());
  retention::Runner retention(**store, trail, SystemClock::Instance(), *reg, AllStorage(config));
  if (Status s = retention.Check(); !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    log::Error("start.retention_check", {{"error", "register and storage disagree"}});
    return 2;
  }
  auto version = processing::RecordVersion(**store, *reg, SystemClock::Instance());
  if (!version.ok()) return fail("start.notice_version", version.error());
  if (Status s = trail.Append({.actor = "system", .action = "config.loaded",
                               .details = {{"register_version", reg->Version()},
                                           {"config", ConfigFingerprint(config.path)},
                                           {"steward", STEWARD_VERSION}}});
      !s.ok()) {
    return fail("start.audit", s.error());
  }

  auto pages = site::Pages::Load(config.site);
  if (!pages.ok()) return fail("start.site", pages.error());
  auto policy = staff::PasswordPolicy::Load(CommonPasswordsFile(config));
  if (!policy.ok()) return fail("start.password_policy", policy.error());
  staff::Accounts accounts(**store, trail, SystemClock::Instance(), *key, std::move(*policy));
  staff::Sessions sessions(**store, SystemClock::Instance(), *key);
  (void)sessions.PurgeExpired();

  consent::CookieGate gate(*reg);
  consent::Records consent_records(**store, SystemClock::Instance(), *key);
  consent::Consent consent(config, *reg, gate, consent_records, **pages);
  // The analytics domain that Steward's own pages report as (events for other domains are dropped).
  std::string analytics_domain =
      *analytics_settings && !(*analytics_settings)->domains.empty() ? (*analytics_settings)->domains.front() : "";
  (*pages)->SetPublicFrame([&consent, analytics_domain](const http::Request& req, html::Object& frame,
                                                        std::vector<http::SetCookie>& cookies) {
    consent.Frame(req, frame, cookies);
    if (!analytics_domain.empty()) frame["analytics_domain"] = analytics_domain;
  });

  http::Router router;
  (*pages)->AddRoutes(router);
  consent.AddRoutes(router);
  std::unique_ptr<analytics::Salts> salts;
  analytics::Edge edge;
  std::unique_ptr<analytics::Analytics> site_analytics;
  analytics::Stats stats(**store);
  analytics::ApiKeys api_keys(**store, *key, SystemClock::Instance());
  analytics::Rollups rollups(**store, SystemClock::Instance());
  std::unique_ptr<analytics::QueryApi> query_api;
  std::vector<std::string> analytics_sites;
  if (*analytics_settings) {
    analytics_sites = (*analytics_settings)->domains;
    auto loaded = analytics::LoadEdge(config.site.web_dir);
    if (!loaded.ok()) return fail("start.analytics_data", loaded.error());
    edge = std::move(*loaded);
    salts = std::make_unique<analytics::Salts>(**store, SystemClock::Instance(), *key);
    site_analytics = std::make_unique<analytics::Analytics>(std::move(**analytics_settings), *reg, gate, **store, *salts,
                                                            SystemClock::Instance(), *key, &registry);
    site_analytics->SetEdge(edge.agents.get(), edge.countries.get());
    // Today's salt in memory before the first event: ingestion never waits on the database.
    if (Status s = site_analytics->Housekeep(); !s.ok()) return fail("start.analytics_salts", s.error());
    site_analytics->AddRoutes(router);
    query_api = std::make_unique<analytics::QueryApi>(stats, api_keys, analytics_sites, SystemClock::Instance(), &registry);
    query_api->AddRoutes(router);
  }
  // Access logs: the raw lines' archive for the security role's searches, and the logs the site
  // follows itself ([[logs.follow]]), imported on a thread of their own.
  logs::Monitor log_monitor(log_settings->security, *key);
  auto raw_logs = MakeRawArchive(config, *key, log_monitor);
  std::unique_ptr<logs::Importer> log_importer;
  std::unique_ptr<logs::Watcher> log_watcher;
  if (!log_settings->follow.empty()) {
    if (!edge.agents) {
      auto loaded = analytics::LoadEdge(config.site.web_dir);
      if (!loaded.ok()) return fail("start.logs_data", loaded.error());
      edge = std::move(*loaded);
    }
    log_importer = std::make_unique<logs::Importer>(**store, *key, SystemClock::Instance(), edge.agents.get(), &log_monitor,
                                                    logs::KeepsRawLines(*log_settings, *reg) ? raw_logs.get() : nullptr);
    log_importer->RecordAlertsIn(&trail);
    log_watcher = std::make_unique<logs::Watcher>(*log_importer, log_settings->follow,
                                                  std::chrono::seconds(log_settings->follow_interval_s), &registry);
  }
  notice::AddRoutes(router, **pages, *reg, processing::LongDate(version->effective_at), **store);
  std::atomic<uint16_t> bound_port{config.server.listen_port};  // known once the server has bound
  admin::Deps admin_deps{config, [&config, &bound_port] { return admin::BaseUrl(config, bound_port.load()); },
                         **pages, *reg, accounts, sessions, trail, SystemClock::Instance(),
                         reg->OptionalCategories().empty() ? nullptr : &consent_records, &gate,
                         site_analytics ? &stats : nullptr, analytics_sites,
                         site_analytics ? &api_keys : nullptr, store->get(), &*key, raw_logs.get()};
  admin::AddRoutes(router, admin_deps);
  AddOperationsRoutes(router, **store, registry, ParseRanges(config.server.metrics_allow));

  http::ServerOptions options;
  options.host = config.server.listen_host;
  options.port = config.server.listen_port;
  options.threads = static_cast<int>(config.server.threads);
  options.limits = config.server.limits;
  options.trusted_proxies = ParseRanges(config.server.trusted_proxies);
  options.https = config.server.https;
  options.metrics = &registry;
  // Every Set-Cookie passes the gate: nothing the register or the visitor does not allow.
  options.cookie_gate = [&gate](const http::Request& req, const std::vector<http::SetCookie>& all,
                                const http::SetCookie& cookie) { return gate.Allow(req, all, cookie); };
  const site::Pages* site_pages = pages->get();
  options.error_page = [site_pages](int status, const http::Request* req) { return site_pages->ErrorPage(status, req); };
  http::Server server(std::move(options), std::move(router));
  if (Status s = server.Start(); !s.ok()) return fail("start.listen", s.error());
  bound_port = server.port();
  retention.StartDaily();
  if (log_watcher) log_watcher->Start();
  if (site_analytics) {
    site_analytics->StartHousekeeping();
    rollups.Start(analytics_sites);
  }

  std::string host = config.server.listen_host.find(':') != std::string::npos ? "[" + config.server.listen_host + "]"
                                                                              : config.server.listen_host;
  std::string url = "http://" + host + ":" + std::to_string(server.port()) + "/";
  log::Info("steward.started", {{"version", STEWARD_VERSION}, {"site", config.site.name}, {"port", server.port()}});
  std::printf("Steward is serving %s at %s\nHealth: %shealthz  Metrics: %smetrics  Staff: %sadmin  Stop: Ctrl-C\n",
              config.site.name.c_str(), url.c_str(), url.c_str(), url.c_str(), url.c_str());
  // A site with no staff yet: print a link to set up the first administrator.
  if (auto n = accounts.Count(); n.ok() && *n == 0) {
    auto token = accounts.IssueSetupToken(std::nullopt, {});
    if (token.ok()) {
      std::printf("No staff accounts yet. Set up the first administrator (link valid 24 hours, once):\n  %s\n",
                  admin::SetupLink(admin::BaseUrl(config, server.port()), *token).c_str());
    }
  }
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop, &signal_number);
  log::Info("steward.stopping", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.Shutdown();
  server.Wait();
  retention.Stop();
  if (log_watcher) log_watcher->Stop();
  if (site_analytics) site_analytics->StopHousekeeping();
  rollups.Stop();
  // Sign the trail's last entry, so nothing before the shutdown can be removed unnoticed.
  if (Status s = trail.Checkpoint(); !s.ok()) log::Error("audit.checkpoint_failed", {{"error", s.error().ToString()}});
  (*store)->Close();
  log::Info("steward.stopped");
  return 0;
}

namespace {

// Opens an existing site's database and key for a one-off command. Prints the problem and returns
// nullopt when they are not there.
struct SiteData {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<crypto::SecretKey> key;
};

std::optional<SiteData> OpenExisting(const config::Config& config) {
  if (Status s = crypto::Init(); !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return std::nullopt;
  }
  if (!fs::exists(DatabasePath(config))) {
    std::fprintf(stderr, "steward: no database at %s\n", DatabasePath(config).c_str());
    return std::nullopt;
  }
  auto key = crypto::SecretKey::Load(config.storage.secret_key_file);
  if (!key.ok()) {
    std::fprintf(stderr, "steward: %s\n", key.error().message.c_str());
    return std::nullopt;
  }
  // The command runs beside a serving Steward: no integrity scan, and the schema must already be
  // there (Migrate is a no-op then, and creates it for a database made by an older version).
  auto store = store::Store::Open({.path = DatabasePath(config), .readers = 1, .check_integrity = false});
  if (!store.ok() || !(*store)->Migrate(AllMigrations()).ok()) {
    std::fprintf(stderr, "steward: cannot open the database at %s\n", DatabasePath(config).c_str());
    return std::nullopt;
  }
  return SiteData{std::move(store).value(), std::make_unique<crypto::SecretKey>(std::move(key).value())};
}

}  // namespace

int CheckConfig(const config::Config& config) {
  if (Status s = crypto::Init(); !s.ok()) return 1;
  auto reg = processing::FromDocument(*config.document);
  if (!reg.ok()) {
    std::fprintf(stderr, "%s\n", reg.error().message.c_str());
    return 2;
  }
  if (Status s = consent::CheckDeclared(*reg, admin::StaffCookieNames(config.server.https)); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", config.path.c_str(), s.error().message.c_str());
    return 2;
  }
  if (auto settings = analytics::ReadSettings(*config.document, *reg); !settings.ok()) {
    std::fprintf(stderr, "%s\n", settings.error().message.c_str());
    return 2;
  }
  if (auto settings = logs::ReadLogSettings(*config.document); !settings.ok()) {
    std::fprintf(stderr, "%s\n", settings.error().message.c_str());
    return 2;
  }
  std::printf("%s: ok (register version %s: %zu purposes, %zu datasets, %zu cookies)\n", config.path.c_str(),
              reg->Version().c_str(), reg->purposes.size(), reg->datasets.size(), reg->cookies.size());
  return 0;
}

int RenderNotice(const config::Config& config, const std::string& format) {
  if (Status s = crypto::Init(); !s.ok()) return 1;
  auto reg = processing::FromDocument(*config.document);
  if (!reg.ok()) {
    std::fprintf(stderr, "%s\n", reg.error().message.c_str());
    return 2;
  }
  if (format == "json") {
    std::printf("%s\n", reg->ToJson().c_str());
    return 0;
  }
  auto pages = site::Pages::Load(config.site);
  if (!pages.ok()) {
    std::fprintf(stderr, "steward: %s\n", pages.error().message.c_str());
    return 1;
  }
  // Offline there is no serving history: the date is today's, as the notice would show if served now.
  std::string today = processing::LongDate(FormatRfc3339(SystemClock::Instance().Now()));
  auto out = format == "html" ? notice::RenderPrivacy(**pages, *reg, today)
                              : (*pages)->RenderBare("privacy.md", notice::PrivacyData(*reg, today));
  if (!out.ok()) {
    std::fprintf(stderr, "steward: %s\n", out.error().message.c_str());
    return 1;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return 0;
}

int Backup(const config::Config& config, const std::string& to) {
  ::umask(077);
  auto site = OpenExisting(config);
  if (!site) return 1;
  std::string target = Absolute(to);
  Status s = site->store->Backup(target);
  audit::Trail trail(*site->store, *site->key, SystemClock::Instance());
  (void)trail.Append({.actor = "system", .action = "backup.written", .outcome = s.ok() ? "success" : "failure"});
  if (!s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return 1;
  }
  log::Info("backup.written", {{"bytes", static_cast<uint64_t>(fs::file_size(target))}});
  std::printf("Backup written to %s\n", target.c_str());
  return 0;
}

namespace {

// Accounts over an existing site's data, for the staff commands.
struct StaffTools {
  SiteData site;
  std::unique_ptr<audit::Trail> trail;
  std::unique_ptr<staff::Accounts> accounts;
};

std::optional<StaffTools> OpenStaff(const config::Config& config) {
  auto site = OpenExisting(config);
  if (!site) return std::nullopt;
  auto policy = staff::PasswordPolicy::Load(CommonPasswordsFile(config));
  if (!policy.ok()) {
    std::fprintf(stderr, "steward: %s\n", policy.error().message.c_str());
    return std::nullopt;
  }
  StaffTools t{std::move(*site), nullptr, nullptr};
  t.trail = std::make_unique<audit::Trail>(*t.site.store, *t.site.key, SystemClock::Instance());
  t.accounts = std::make_unique<staff::Accounts>(*t.site.store, *t.trail, SystemClock::Instance(), *t.site.key,
                                                 std::move(*policy));
  return t;
}

}  // namespace

int StaffAdd(const config::Config& config, const std::string& email, const std::vector<std::string>& role_names,
             bool password_stdin) {
  std::vector<staff::Role> roles;
  for (const auto& name : role_names) {
    auto r = staff::ParseRole(name);
    if (!r) {
      std::fprintf(stderr, "steward: unknown role '%s' (roles: admin, dpo, analyst, caseworker, security)\n", name.c_str());
      return 2;
    }
    roles.push_back(*r);
  }
  auto tools = OpenStaff(config);
  if (!tools) return 1;
  staff::Actor cli{"system", ""};
  std::string password;
  if (password_stdin) {
    std::getline(std::cin, password);
    if (Status s = tools->accounts->CheckPassword(password, email); !s.ok()) {
      std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
      return 2;
    }
  }
  auto id = tools->accounts->Create(email, roles, cli);
  if (!id.ok()) {
    std::fprintf(stderr, "steward: %s\n", id.error().message.c_str());
    return id.error().code == ErrorCode::kInvalidArgument || id.error().code == ErrorCode::kAlreadyExists ? 2 : 1;
  }
  if (password_stdin) {
    if (Status s = tools->accounts->SetPassword(*id, password, cli); !s.ok()) {
      std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
      return 1;
    }
    std::printf("Added staff account %lld. They can sign in now.\n", static_cast<long long>(*id));
    return 0;
  }
  auto token = tools->accounts->IssueSetupToken(*id, cli);
  if (!token.ok()) {
    std::fprintf(stderr, "steward: %s\n", token.error().message.c_str());
    return 1;
  }
  std::printf("Added staff account %lld. Send them this set-up link (valid 24 hours, once):\n  %s\n",
              static_cast<long long>(*id),
              admin::SetupLink(admin::BaseUrl(config, config.server.listen_port), *token).c_str());
  return 0;
}

int StaffList(const config::Config& config) {
  auto tools = OpenStaff(config);
  if (!tools) return 1;
  auto all = tools->accounts->List();
  if (!all.ok()) {
    std::fprintf(stderr, "steward: %s\n", all.error().message.c_str());
    return 1;
  }
  for (const auto& m : *all) {
    // Privacy: staff accounts — printed for the operator who asked, on their terminal only.
    std::printf("%-5lld %-40s %-30s %s\n", static_cast<long long>(m.id), m.email.c_str(),
                staff::JoinRoles(m.roles).c_str(),
                m.disabled ? "disabled" : m.has_password ? "active" : "waiting for set-up");
  }
  return 0;
}

int StaffDisable(const config::Config& config, const std::string& email) {
  auto tools = OpenStaff(config);
  if (!tools) return 1;
  auto m = tools->accounts->FindByEmail(email);
  if (!m.ok() || !*m) {
    std::fprintf(stderr, "steward: no staff account with that email address\n");
    return 2;
  }
  if (Status s = tools->accounts->SetDisabled((*m)->id, true, {"system", ""}); !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return 1;
  }
  std::printf("Disabled staff account %lld and ended its sessions.\n", static_cast<long long>((*m)->id));
  return 0;
}

int RetentionRun(const config::Config& config, bool dry_run) {
  auto reg = processing::FromDocument(*config.document);
  if (!reg.ok()) {
    std::fprintf(stderr, "%s\n", reg.error().message.c_str());
    return 2;
  }
  auto site = OpenExisting(config);
  if (!site) return 1;
  audit::Trail trail(*site->store, *site->key, SystemClock::Instance());
  retention::Runner runner(*site->store, trail, SystemClock::Instance(), *reg, AllStorage(config));
  if (Status s = runner.Check(); !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return 2;
  }
  auto outcomes = runner.Run(dry_run);
  if (!outcomes.ok()) {
    std::fprintf(stderr, "steward: retention failed: %s\n", outcomes.error().message.c_str());
    return 1;
  }
  std::printf("%-24s %-44s %-26s %s\n", "DATASET", "KEPT FOR", "CUT-OFF (UTC)",
              dry_run ? "WOULD GO" : "REMOVED");
  for (const auto& o : *outcomes) {
    std::printf("%-24s %-44s %-26s %s\n", o.dataset.c_str(), o.rule.substr(0, 44).c_str(),
                o.cutoff.empty() ? "-" : o.cutoff.c_str(), o.note.empty() ? std::to_string(o.count).c_str() : o.note.c_str());
  }
  return 0;
}

int AuditVerify(const config::Config& config) {
  auto site = OpenExisting(config);
  if (!site) return 2;
  std::string public_key = crypto::SigningKey(audit::CheckpointSeed(*site->key)).public_key();
  audit::VerifyReport report;
  Status s = site->store->Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(report, audit::Verify(c, public_key));
    return Ok();
  });
  if (!s.ok()) {
    std::fprintf(stderr, "steward: cannot read the audit trail: %s\n", s.error().message.c_str());
    return 2;
  }
  if (!report.ok()) {
    std::printf("The audit trail is broken at entry %lld: %s.\n(%lld entries, %lld signed checkpoints read)\n",
                static_cast<long long>(report.first_bad_seq), report.problem.c_str(),
                static_cast<long long>(report.entries), static_cast<long long>(report.checkpoints));
    return 1;
  }
  std::printf("The audit trail is intact: %lld entries, %lld signed checkpoints.\n",
              static_cast<long long>(report.entries), static_cast<long long>(report.checkpoints));
  return 0;
}

int AuditExport(const config::Config& config, const std::string& since) {
  auto site = OpenExisting(config);
  if (!site) return 2;
  Status s = site->store->Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t n, audit::ExportJsonLines(c, since, std::cout));
    (void)n;
    return Ok();
  });
  std::cout.flush();
  if (!s.ok()) {
    std::fprintf(stderr, "steward: cannot read the audit trail: %s\n", s.error().message.c_str());
    return 2;
  }
  return 0;
}

namespace {

// The site's analytics settings, or nullopt (with the reason printed) when it has none.
std::optional<analytics::Settings> AnalyticsSettings(const config::Config& config) {
  auto reg = processing::FromDocument(*config.document);
  if (!reg.ok()) {
    std::fprintf(stderr, "%s\n", reg.error().message.c_str());
    return std::nullopt;
  }
  auto settings = analytics::ReadSettings(*config.document, *reg);
  if (!settings.ok()) {
    std::fprintf(stderr, "%s\n", settings.error().message.c_str());
    return std::nullopt;
  }
  if (!*settings) {
    std::fprintf(stderr, "steward: %s has no [analytics] table: this site does not use Steward's analytics\n",
                 config.path.c_str());
    return std::nullopt;
  }
  return std::move(**settings);
}

}  // namespace

int StatsReport(const config::Config& config, const std::string& site_in, const std::string& period,
                const std::string& format) {
  auto settings = AnalyticsSettings(config);
  if (!settings) return 2;
  std::string site = ToLower(site_in);
  if (site.starts_with("www.")) site = site.substr(4);
  if (site.empty()) site = settings->domains.front();
  if (std::find(settings->domains.begin(), settings->domains.end(), site) == settings->domains.end()) {
    std::string known;
    for (const auto& d : settings->domains) known += (known.empty() ? "" : ", ") + d;
    std::fprintf(stderr, "steward: --site: not one of this site's analytics domains (%s)\n", known.c_str());
    return 2;
  }
  auto days = analytics::ResolvePeriod(period, UnixMillis(SystemClock::Instance().Now()) / analytics::kDayMillis);
  if (!days.ok()) {
    std::fprintf(stderr, "steward: --%s\n", days.error().message.c_str());
    return 2;
  }
  auto data = OpenExisting(config);
  if (!data) return 1;
  analytics::Stats stats(*data->store);
  // Privacy: analytics-events, read as aggregates only.
  auto report = analytics::Report(stats, site, *days, format);
  if (!report.ok()) {
    std::fprintf(stderr, "steward: %s\n", report.error().message.c_str());
    return report.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  std::fwrite(report->data(), 1, report->size(), stdout);
  return 0;
}

int ApiKeyCreate(const config::Config& config, const std::string& name) {
  if (!AnalyticsSettings(config)) return 2;
  auto data = OpenExisting(config);
  if (!data) return 1;
  analytics::ApiKeys keys(*data->store, *data->key, SystemClock::Instance());
  auto made = keys.Create(name, "cli");
  if (!made.ok()) {
    std::fprintf(stderr, "steward: --%s\n", made.error().message.c_str());
    return made.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  audit::Trail trail(*data->store, *data->key, SystemClock::Instance());
  if (Status s = trail.Append({.actor = "cli", .action = "analytics.api_key_created",
                               .target = "api_key:" + std::to_string(made->key.id),
                               .details = {{"prefix", made->key.prefix}}});
      !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr, "Made Stats API key %lld (%s). It is printed once; Steward keeps only its hash.\n",
               static_cast<long long>(made->key.id), made->key.name.c_str());
  std::printf("%s\n", made->secret.c_str());
  return 0;
}

int ApiKeyList(const config::Config& config) {
  if (!AnalyticsSettings(config)) return 2;
  auto data = OpenExisting(config);
  if (!data) return 1;
  analytics::ApiKeys keys(*data->store, *data->key, SystemClock::Instance());
  auto all = keys.List();
  if (!all.ok()) {
    std::fprintf(stderr, "steward: %s\n", all.error().message.c_str());
    return 1;
  }
  std::printf("%-5s %-9s %-21s %-21s %-21s %s\n", "ID", "STARTS", "MADE", "LAST USED", "REVOKED", "NAME");
  for (const auto& k : *all) {
    std::printf("%-5lld %-9s %-21s %-21s %-21s %s\n", static_cast<long long>(k.id), k.prefix.c_str(),
                k.created_at.c_str(), k.last_used_at.empty() ? "-" : k.last_used_at.c_str(),
                k.revoked_at.empty() ? "-" : k.revoked_at.c_str(), k.name.c_str());
  }
  return 0;
}

int ApiKeyRevoke(const config::Config& config, int64_t id) {
  if (!AnalyticsSettings(config)) return 2;
  auto data = OpenExisting(config);
  if (!data) return 1;
  analytics::ApiKeys keys(*data->store, *data->key, SystemClock::Instance());
  if (Status s = keys.Revoke(id); !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return s.error().code == ErrorCode::kInternal || s.error().code == ErrorCode::kIo ? 1 : 2;
  }
  audit::Trail trail(*data->store, *data->key, SystemClock::Instance());
  if (Status s = trail.Append({.actor = "cli", .action = "analytics.api_key_revoked", .target = "api_key:" + std::to_string(id)});
      !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return 1;
  }
  std::printf("Revoked Stats API key %lld. It no longer works.\n", static_cast<long long>(id));
  return 0;
}

namespace {

// What `logs import` and `logs follow` need: the format, and an importer watched by the monitor
// that keeps the raw lines when the register allows.
struct LogTools {
  logs::LogFormat format;
  analytics::Edge edge;
  SiteData data;
  std::unique_ptr<logs::Monitor> monitor;
  std::unique_ptr<logs::RawArchive> archive;  // null: raw lines are not kept
  std::unique_ptr<logs::Importer> importer;
  std::unique_ptr<audit::Trail> trail;  // where alerts raised are recorded
};

// Prints the problem and returns nullopt (with the exit code in `code`) when something is wrong.
std::optional<LogTools> OpenLogTools(const config::Config& config, const LogFormatOptions& options, int& code) {
  code = 2;
  auto format = logs::ChooseFormat(options.log_format.empty() ? options.format : "", options.log_format,
                                   options.date_format, options.time_format);
  if (!format.ok()) {
    std::fprintf(stderr, "steward: --%s\n", format.error().message.c_str());
    return std::nullopt;
  }
  auto settings = logs::ReadLogSettings(*config.document);
  if (!settings.ok()) {
    std::fprintf(stderr, "%s\n", settings.error().message.c_str());
    return std::nullopt;
  }
  auto reg = processing::FromDocument(*config.document);
  if (!reg.ok()) {
    std::fprintf(stderr, "%s\n", reg.error().message.c_str());
    return std::nullopt;
  }
  code = 1;
  auto edge = analytics::LoadEdge(config.site.web_dir);  // uap-core and the crawler pattern
  if (!edge.ok()) {
    std::fprintf(stderr, "steward: %s\n", edge.error().message.c_str());
    return std::nullopt;
  }
  auto data = OpenExisting(config);
  if (!data) return std::nullopt;
  bool keep_raw = logs::KeepsRawLines(*settings, *reg);
  LogTools tools{std::move(*format), std::move(*edge), std::move(*data), nullptr, nullptr, nullptr, nullptr};
  tools.monitor = std::make_unique<logs::Monitor>(std::move(settings->security), *tools.data.key);
  if (keep_raw) tools.archive = MakeRawArchive(config, *tools.data.key, *tools.monitor);
  tools.importer = std::make_unique<logs::Importer>(*tools.data.store, *tools.data.key, SystemClock::Instance(),
                                                    tools.edge.agents.get(), tools.monitor.get(), tools.archive.get());
  tools.trail = std::make_unique<audit::Trail>(*tools.data.store, *tools.data.key, SystemClock::Instance());
  tools.importer->RecordAlertsIn(tools.trail.get());
  return tools;
}

}  // namespace

int LogsImport(const config::Config& config, const LogFormatOptions& options, const std::vector<std::string>& files) {
  // An import allocates and frees a batch's statistics over and over: keep freed memory for the
  // next batch rather than handing it back to the system and faulting it in again.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  int code = 0;
  auto tools = OpenLogTools(config, options, code);
  if (!tools) return code;
  logs::Importer& importer = *tools->importer;
  const logs::LogFormat* format = &tools->format;
  bool terminal = isatty(STDERR_FILENO) != 0;
  auto started = std::chrono::steady_clock::now();
  auto last_shown = started;
  logs::Progress progress = [&](int64_t done, int64_t total, int64_t lines) {
    if (!terminal) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_shown < std::chrono::milliseconds(200) && (total == 0 || done < total)) return;
    last_shown = now;
    double seconds = std::max(0.001, std::chrono::duration<double>(now - started).count());
    double rate = static_cast<double>(lines) / seconds;
    if (total > 0) {
      double left = done > 0 ? seconds * static_cast<double>(total - done) / static_cast<double>(done) : 0;
      std::fprintf(stderr, "\r  %3d%%  %lld of %lld MB  %.0f lines/s  %.0f s left   ",
                   static_cast<int>(100 * done / std::max<int64_t>(total, 1)), static_cast<long long>(done >> 20),
                   static_cast<long long>(total >> 20), rate, left);
    } else {
      std::fprintf(stderr, "\r  %lld MB  %lld lines  %.0f lines/s   ", static_cast<long long>(done >> 20),
                   static_cast<long long>(lines), rate);
    }
  };
  audit::Trail& trail = *tools->trail;
  int exit_code = 0;
  for (const auto& file : files) {
    started = std::chrono::steady_clock::now();
    auto summary = file == "-" ? importer.ImportStream(std::cin, *format, progress) : importer.ImportFile(file, *format, progress);
    if (terminal) std::fprintf(stderr, "\r%70s\r", "");
    if (!summary.ok()) {
      std::fprintf(stderr, "steward: %s\n", summary.error().message.c_str());
      exit_code = 1;
      continue;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%s: %lld lines read, %lld imported, %lld skipped (%.1f s, %.0f lines/s)\n", file.c_str(),
                static_cast<long long>(summary->lines), static_cast<long long>(summary->imported),
                static_cast<long long>(summary->skipped), seconds, static_cast<double>(summary->lines) / std::max(seconds, 0.001));
    if (summary->alerts > 0) {
      std::printf("  %lld security alerts raised or added to: steward logs alerts lists them\n",
                  static_cast<long long>(summary->alerts));
    }
    if (summary->bytes_already > 0) {
      std::printf("  %lld bytes were imported before and were not counted again\n",
                  static_cast<long long>(summary->bytes_already));
    }
    for (const auto& [why, reason] : summary->reasons) {
      std::printf("  skipped, %s: %lld\n", why.c_str(), static_cast<long long>(reason.count));
      // Privacy: access-logs. Samples of the operator's own file, on their terminal only.
      for (const auto& sample : reason.samples) std::printf("    %s\n", Printable(sample).c_str());
    }
    (void)trail.Append({.actor = "cli", .action = "logs.imported",
                        .details = {{"lines", std::to_string(summary->lines)},
                                    {"imported", std::to_string(summary->imported)},
                                    {"skipped", std::to_string(summary->skipped)}}});
  }
  return exit_code;
}

namespace {

// --from and --to (YYYY-MM-DD, both inclusive; empty: open) as [from, to) in ms, or nullopt with
// the problem printed.
std::optional<std::pair<int64_t, int64_t>> DayBounds(const std::string& from, const std::string& to) {
  int64_t from_ms = 0, to_ms = int64_t{4'102'444'800'000};  // 2100-01-01
  if (!from.empty()) {
    auto d = analytics::ParseDay(from);
    if (!d) {
      std::fprintf(stderr, "steward: --from: give a date as YYYY-MM-DD\n");
      return std::nullopt;
    }
    from_ms = *d * analytics::kDayMillis;
  }
  if (!to.empty()) {
    auto d = analytics::ParseDay(to);
    if (!d || (*d + 1) * analytics::kDayMillis <= from_ms) {
      std::fprintf(stderr, "steward: --to: give a date as YYYY-MM-DD, not before --from\n");
      return std::nullopt;
    }
    to_ms = (*d + 1) * analytics::kDayMillis;
  }
  return std::make_pair(from_ms, to_ms);
}

}  // namespace

int LogsReport(const config::Config& config, const std::string& from, const std::string& to, const std::string& format,
               int top) {
  auto bounds = DayBounds(from, to);
  if (!bounds) return 2;
  auto [from_ms, to_ms] = *bounds;
  auto data = OpenExisting(config);
  if (!data) return 1;
  auto report = logs::Report(*data->store, from_ms, to_ms, top);
  if (!report.ok()) {
    std::fprintf(stderr, "steward: %s\n", report.error().message.c_str());
    return 1;
  }
  std::string out = format == "json" ? logs::ReportJson(*report) : format == "csv" ? logs::ReportCsv(*report)
                                                                                    : logs::ReportText(*report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int LogsAlerts(const config::Config& config, const std::string& from, const std::string& to, bool evidence) {
  auto bounds = DayBounds(from, to);
  if (!bounds) return 2;
  auto [from_ms, to_ms] = *bounds;
  auto data = OpenExisting(config);
  if (!data) return 1;
  auto alerts = logs::Monitor::List(*data->store, *data->key, from_ms, to_ms, evidence);
  if (!alerts.ok()) {
    std::fprintf(stderr, "steward: %s\n", alerts.error().message.c_str());
    return 1;
  }
  if (evidence) {
    // Opening evidence reads the raw lines (with addresses): it is on the record.
    audit::Trail trail(*data->store, *data->key, SystemClock::Instance());
    if (Status s = trail.Append({.actor = "cli", .action = "logs.evidence_opened",
                                 .details = {{"alerts", std::to_string(alerts->size())}}});
        !s.ok()) {
      std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  if (alerts->empty()) std::printf("No alerts.\n");
  for (const auto& a : *alerts) {
    std::printf("%-24s %-16s %-16s %6lld  %s\n", FormatRfc3339(SystemTime(std::chrono::milliseconds(a.first_ms))).c_str(),
                a.rule.c_str(), a.client.c_str(), static_cast<long long>(a.count), a.detail.c_str());
    // Privacy: access-logs. Evidence lines on the operator's terminal only, after the audit entry.
    for (const auto& line : a.evidence) std::printf("    %s\n", Printable(line).c_str());
  }
  return 0;
}

int LogsSearch(const config::Config& config, const LogSearchOptions& options) {
  logs::RawQuery query{.ip = options.ip, .client = options.client, .path = options.path,
                       .limit = static_cast<size_t>(options.limit)};
  for (auto [text, end, name] : {std::tuple{&options.from, false, "--from"}, std::tuple{&options.to, true, "--to"}}) {
    if (text->empty()) continue;
    auto ms = logs::SearchBound(*text, end);
    if (!ms) {
      std::fprintf(stderr, "steward: %s: give a day (YYYY-MM-DD) or a time (2026-12-01T10:00:00Z)\n", name);
      return 2;
    }
    (end ? query.to_ms : query.from_ms) = *ms;
  }
  if (Status s = logs::CheckQuery(query); !s.ok()) {
    std::fprintf(stderr, "steward: %s (--ip, --client, --path, --from, --to)\n", s.error().message.c_str());
    return 2;
  }
  auto settings = logs::ReadLogSettings(*config.document);
  if (!settings.ok()) {
    std::fprintf(stderr, "%s\n", settings.error().message.c_str());
    return 2;
  }
  auto data = OpenExisting(config);
  if (!data) return 1;
  logs::Monitor monitor(settings->security, *data->key);
  auto archive = MakeRawArchive(config, *data->key, monitor);
  // Searching the raw lines reads addresses: on the record first, naming the client by its label.
  audit::Trail trail(*data->store, *data->key, SystemClock::Instance());
  if (Status s = trail.Append(archive->SearchRecord(query, "cli")); !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return 1;
  }
  auto found = archive->Search(*data->store, query);
  if (!found.ok()) {
    std::fprintf(stderr, "steward: %s\n", found.error().message.c_str());
    return found.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  // Privacy: access-logs. Raw lines on the operator's terminal only, after the audit entry.
  for (const auto& m : found->matches) std::printf("%s\n", Printable(m.line).c_str());
  std::fprintf(stderr, "%lld matching lines (%zu shown) of %lld read\n", static_cast<long long>(found->total),
               found->matches.size(), static_cast<long long>(found->scanned));
  return 0;
}

namespace {

std::atomic<bool> follow_stop{false};
extern "C" void StopFollowing(int) { follow_stop = true; }

}  // namespace

int LogsFollow(const config::Config& config, const LogFormatOptions& options, const std::string& file,
               int interval_seconds) {
  int code = 0;
  auto tools = OpenLogTools(config, options, code);
  if (!tools) return code;
  logs::Follower follower(*tools->importer, file, tools->format);
  std::signal(SIGINT, StopFollowing);
  std::signal(SIGTERM, StopFollowing);
  std::printf("Following %s every %d s; Ctrl-C stops.\n", file.c_str(), interval_seconds);
  std::fflush(stdout);
  while (!follow_stop) {
    auto s = follower.Poll();
    if (!s.ok()) {
      std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    } else if (s->lines > 0) {
      std::printf("%s: %lld lines, %lld imported, %lld skipped, %lld alerts\n",
                  FormatRfc3339(SystemClock::Instance().Now()).c_str(), static_cast<long long>(s->lines),
                  static_cast<long long>(s->imported), static_cast<long long>(s->skipped),
                  static_cast<long long>(s->alerts));
      std::fflush(stdout);
    }
    for (int i = 0; i < interval_seconds * 10 && !follow_stop; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return 0;
}

}  // namespace steward::app
