#include "analytics/module.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "analytics/analytics.h"
#include "analytics/api_keys.h"
#include "analytics/dashboard.h"
#include "core/log.h"
#include "edge/device.h"
#include "analytics/query_api.h"
#include "analytics/report.h"
#include "analytics/rollups.h"
#include "analytics/salts.h"
#include "analytics/stats.h"
#include "analytics/subject_data.h"
#include "consent/gate.h"
#include "core/strings.h"
#include "site/pages.h"

namespace steward::analytics {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::CommandContext;
using module::Field;
using module::Option;

constexpr module::Id kAnalytics("analytics");

using module::Fail;

// The site's analytics settings, or nullopt (with the reason printed) when it has none.
std::optional<Settings> SettingsOrSay(const config::Config& config, const processing::Register& reg) {
  auto settings = ReadSettings(*config.document, reg);
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

int StatsCommand(CommandContext& c) {
  module::Platform& p = *c.platform;
  auto settings = SettingsOrSay(c.config, p.reg);
  if (!settings) return 2;
  std::string site = ToLower(c.args.Text("--site"));
  if (site.starts_with("www.")) site = site.substr(4);
  if (site.empty()) site = settings->domains.front();
  if (std::find(settings->domains.begin(), settings->domains.end(), site) == settings->domains.end()) {
    std::string known;
    for (const auto& d : settings->domains) known += (known.empty() ? "" : ", ") + d;
    std::fprintf(stderr, "steward: --site: not one of this site's analytics domains (%s)\n", known.c_str());
    return 2;
  }
  auto days = ResolvePeriod(c.args.Text("--period"), UnixMillis(p.clock.Now()) / kDayMillis);
  if (!days.ok()) return Fail(MakeError(days.error().code, "--" + days.error().message), 2);
  Stats stats(p.store);
  // Privacy: analytics-events, read as aggregates only.
  auto report = Report(stats, site, *days, c.args.Text("--format"));
  if (!report.ok()) return Fail(report.error(), report.error().code == ErrorCode::kInvalidArgument ? 2 : 1);
  std::fwrite(report->data(), 1, report->size(), stdout);
  return 0;
}

int ApiKeyCreateCommand(CommandContext& c) {
  module::Platform& p = *c.platform;
  if (!SettingsOrSay(c.config, p.reg)) return 2;
  ApiKeys keys(p.store, p.key, p.clock, &p.trail);
  auto made = keys.Create(c.args.Text("--name"), "cli", "", c.args.Text("--scope"));
  if (!made.ok()) {
    return Fail(MakeError(made.error().code, "--" + made.error().message),
                made.error().code == ErrorCode::kInvalidArgument ? 2 : 1);
  }
  std::fprintf(stderr, "Made %s API key %lld (%s). It is printed once; Steward keeps only its hash.\n",
               made->key.scope == "messages"    ? "a messages"
               : made->key.scope == "topics"    ? "a topics"
               : made->key.scope == "referrals" ? "a referrals"
               : made->key.scope == "stats"     ? "a Stats"
                                                : ("a " + made->key.scope).c_str(),
               static_cast<long long>(made->key.id), made->key.name.c_str());
  std::printf("%s\n", made->secret.c_str());
  return 0;
}

int ApiKeyListCommand(CommandContext& c) {
  module::Platform& p = *c.platform;
  if (!SettingsOrSay(c.config, p.reg)) return 2;
  ApiKeys keys(p.store, p.key, p.clock);
  auto all = keys.List();
  if (!all.ok()) return Fail(all.error());
  std::printf("%-5s %-9s %-9s %-21s %-21s %-21s %s\n", "ID", "STARTS", "SCOPE", "MADE", "LAST USED", "REVOKED", "NAME");
  for (const auto& k : *all) {
    std::printf("%-5lld %-9s %-9s %-21s %-21s %-21s %s\n", static_cast<long long>(k.id), k.prefix.c_str(),
                k.scope.c_str(), k.created_at.c_str(), k.last_used_at.empty() ? "-" : k.last_used_at.c_str(),
                k.revoked_at.empty() ? "-" : k.revoked_at.c_str(), k.name.c_str());
  }
  return 0;
}

int ApiKeyRevokeCommand(CommandContext& c) {
  module::Platform& p = *c.platform;
  if (!SettingsOrSay(c.config, p.reg)) return 2;
  ApiKeys keys(p.store, p.key, p.clock, &p.trail);
  int64_t id = c.args.Integer("--id");
  if (Status s = keys.Revoke(id, "cli"); !s.ok()) {
    return Fail(s.error(), s.error().code == ErrorCode::kInternal || s.error().code == ErrorCode::kIo ? 1 : 2);
  }
  std::printf("Revoked Stats API key %lld. It no longer works.\n", static_cast<long long>(id));
  return 0;
}

// The analyst's pages: the dashboard, its CSV, and the Stats API keys.
class AnalyticsPages : public std::enable_shared_from_this<AnalyticsPages> {
 public:
  struct Deps {
    Stats& stats;
    ApiKeys& api_keys;
    std::vector<std::string> sites;
    const Clock& clock;
  };
  explicit AnalyticsPages(Deps deps) : d_(std::move(deps)) {}

  std::vector<module::StaffPage> Pages() {
    auto bind = [self = shared_from_this()](Response (AnalyticsPages::*h)(Request&, module::StaffContext&)) {
      return module::Bind(self, h);
    };
    const staff::Permission p = staff::Permission::kReadStatistics;
    return {{.method = Method::kGet,
             .pattern = "/admin/analytics",
             .permission = p,
             .handler = bind(&AnalyticsPages::AnalyticsPage),
             .nav_title = "Analytics",
             .nav_order = 40},
            {.method = Method::kGet,
             .pattern = "/admin/analytics.csv",
             .permission = p,
             .handler = bind(&AnalyticsPages::AnalyticsCsv)},
            {.method = Method::kGet,
             .pattern = "/admin/analytics/keys",
             .permission = p,
             .handler = bind(&AnalyticsPages::ApiKeysPage)},
            {.method = Method::kPost,
             .pattern = "/admin/analytics/keys",
             .permission = p,
             .handler = bind(&AnalyticsPages::ApiKeyCreate)},
            {.method = Method::kPost,
             .pattern = "/admin/analytics/keys/{id}/revoke",
             .permission = p,
             .handler = bind(&AnalyticsPages::ApiKeyRevoke)}};
  }

 private:
  Response AnalyticsPage(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    auto range = ParseDashboardRange(*query, d_.sites, d_.clock.Now());
    if (!range.ok()) {
      return ctx.layout->Page(
          req, ctx, "error", "There is a problem with the dates",
          html::Object{{"heading", "There is a problem with the dates"}, {"message", range.error().message}},
          "/admin/analytics", 400);
    }
    auto data = DashboardData(d_.stats, *range, d_.sites, req.query);
    if (!data.ok()) return ctx.layout->ErrorFor(data.error(), req);
    return ctx.layout->Page(req, ctx, "admin_analytics", "Analytics", std::move(*data), "/admin/analytics");
  }

  Response AnalyticsCsv(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    std::string table = Field(*query, "table");
    auto dimension = ParseDimension(table.empty() ? "page" : table);
    auto range = ParseDashboardRange(*query, d_.sites, d_.clock.Now());
    if (!dimension || !range.ok()) return ctx.layout->Error(400, req);
    auto csv = DashboardCsv(d_.stats, *range, *dimension);
    if (!csv.ok()) return ctx.layout->ErrorFor(csv.error(), req);
    Response r;
    r.body = std::move(*csv);
    r.SetHeader("Content-Type", "text/csv; charset=utf-8");
    r.SetHeader("Content-Disposition", "attachment; filename=\"" + std::string(DimensionName(*dimension)) + ".csv\"");
    return r;
  }

  // The list of keys, the form for a new one, and (once, just after it was made) a new key.
  Response ApiKeysView(Request& req, module::StaffContext& ctx, html::Object data, int status) {
    auto keys = d_.api_keys.List();
    if (!keys.ok()) return ctx.layout->ErrorFor(keys.error(), req);
    html::List rows;
    for (const auto& k : *keys) {
      rows.push_back(html::Object{{"id", std::to_string(k.id)},
                                  {"name", k.name},
                                  {"prefix", k.prefix},
                                  {"created_at", k.created_at},
                                  {"created_by", k.created_by},
                                  {"last_used_at", k.last_used_at.empty() ? "Never" : k.last_used_at},
                                  {"revoked_at", k.revoked_at},
                                  {"live", k.revoked_at.empty()}});
    }
    data["keys"] = std::move(rows);
    data["any"] = !keys->empty();
    return ctx.layout->Page(req, ctx, "admin_api_keys", "Stats API keys", std::move(data), "/admin/analytics", status);
  }

  Response ApiKeysPage(Request& req, module::StaffContext& ctx) { return ApiKeysView(req, ctx, {}, 200); }

  Response ApiKeyCreate(Request& req, module::StaffContext& ctx) {
    std::string name(Trim(Field(ctx.form, "name")));
    auto made = d_.api_keys.Create(name, ctx.actor.id, req.request_id);
    if (!made.ok()) {
      if (made.error().code != ErrorCode::kInvalidArgument) return ctx.layout->ErrorFor(made.error(), req);
      std::string message = made.error().message.substr(made.error().message.find(':') + 2);
      return ApiKeysView(req, ctx, html::Object{{"error", message}, {"name", name}}, 400);
    }
    Response r = ApiKeysView(req, ctx, html::Object{{"secret", made->secret}, {"secret_name", made->key.name}}, 200);
    r.SetHeader("Cache-Control", "no-store");  // the key is on this page only
    return r;
  }

  Response ApiKeyRevoke(Request& req, module::StaffContext& ctx) {
    int64_t id = 0;
    std::string_view text = req.PathParam("id");
    if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), ::isdigit)) {
      return ctx.layout->Error(404, req);
    }
    id = std::stoll(std::string(text));
    Status s = d_.api_keys.Revoke(id, ctx.actor.id, req.request_id);
    if (!s.ok() && s.error().code == ErrorCode::kNotFound) return ctx.layout->Error(404, req);
    if (!s.ok() && s.error().code != ErrorCode::kFailedPrecondition) return ctx.layout->ErrorFor(s.error(), req);
    return ApiKeysView(
        req, ctx,
        html::Object{{"notice", s.ok() ? "Key revoked. It no longer works." : "That key was already revoked."}}, 200);
  }

  const Deps d_;
};

// /api/event, /api/v2/query, the dashboard, housekeeping and rollups, while serving.
class AnalyticsServing : public module::Serving {
 public:
  static Result<std::unique_ptr<module::Serving>> Start(module::Platform& p) {
    STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
    auto s = std::unique_ptr<AnalyticsServing>(
        new AnalyticsServing(p, settings ? settings->domains : std::vector<std::string>{}));
    // The API keys, for the modules that take requests with them (POST /api/messages).
    p.services.Provide<ApiKeys>(&s->api_keys_);
    if (!settings) return std::unique_ptr<module::Serving>(std::move(s));  // the site does not use analytics
    const auto* gate = p.services.Find<consent::CookieGate>();
    STEWARD_CHECK(gate != nullptr, "analytics starts after the consent module");
    STEWARD_ASSIGN_OR_RETURN(s->edge_, LoadEdge(p.config.site.web_dir));
    s->salts_ = std::make_unique<Salts>(p.store, p.clock, p.key);
    settings->origins = PageOrigins(p.config.site.script_origins, settings->domains);
    s->analytics_ =
        std::make_unique<Analytics>(std::move(*settings), p.reg, *gate, p.store, *s->salts_, p.clock, p.key, p.metrics);
    s->analytics_->SetEdge(s->edge_.agents.get(), s->edge_.countries.get());
    // Today's salt in memory before the first event: ingestion never waits on the database.
    STEWARD_RETURN_IF_ERROR(s->analytics_->Housekeep());
    // The restricted visitors in memory too, reloaded when a restriction changes here and every
    // minute for those made on another instance.
    STEWARD_RETURN_IF_ERROR(s->analytics_->LoadRestricted(p.store, p.restrictions));
    s->subjects_.OnRestrictionChange([a = s->analytics_.get(), &p] {
      Status loaded = a->LoadRestricted(p.store, p.restrictions);
      if (!loaded.ok()) log::Warn("analytics.restricted_load_failed", {{"error", loaded.error().message}});
    });
    s->query_api_ = std::make_unique<QueryApi>(s->stats_, s->api_keys_, s->sites_, p.clock, p.metrics);
    // The user-agent classifier, for the access logs' statistics.
    p.services.Provide<UserAgents>(s->edge_.agents.get());
    // The domain Steward's own pages report as (events for other domains are dropped).
    if (p.pages != nullptr) {
      p.pages->AddToPublicFrame([domain = s->sites_.front()](const http::Request&, html::Object& frame) {
        frame["analytics_domain"] = domain;
      });
    }
    return std::unique_ptr<module::Serving>(std::move(s));
  }

  void AddRoutes(http::Router& router) override {
    if (!analytics_) return;
    analytics_->AddRoutes(router);
    query_api_->AddRoutes(router);
  }

  std::vector<module::StaffPage> StaffPages() override {
    if (!analytics_) return {};
    return std::make_shared<AnalyticsPages>(AnalyticsPages::Deps{stats_, api_keys_, sites_, platform_.clock})->Pages();
  }

  std::vector<module::Task> Tasks() override {
    if (!analytics_) return {};
    using namespace std::chrono_literals;
    return {{.name = "analytics.housekeeping",
             .first = 10min,
             .every = 10min,
             .run = [this] { return analytics_->Housekeep(); },
             // Each instance keeps the day's salts in memory: all make them ahead (the first to
             // store one wins, the others read it).
             .every_instance = true},
            {.name = "analytics.restricted",
             .first = 1min,
             .every = 1min,
             .run = [this] { return analytics_->LoadRestricted(platform_.store, platform_.restrictions); },
             .every_instance = true},
            {.name = "analytics.rollups", .first = 0s, .every = 30s, .run = [this] {
               return rollups_.RollAllDue(sites_);
             }}};
  }

  subject::SubjectData* Subjects() override { return &subjects_; }
  void Stop() override { rollups_.Stop(); }

 private:
  AnalyticsServing(module::Platform& p, std::vector<std::string> sites)
      : platform_(p),
        sites_(std::move(sites)),
        stats_(p.store),
        api_keys_(p.store, p.key, p.clock, &p.trail),
        rollups_(p.store, p.clock),
        subjects_(p.SubjectDeps(kAnalytics), p.key, sites_) {}

  module::Platform& platform_;
  std::vector<std::string> sites_;
  Edge edge_;
  std::unique_ptr<Salts> salts_;
  std::unique_ptr<Analytics> analytics_;
  Stats stats_;
  ApiKeys api_keys_;
  Rollups rollups_;
  std::unique_ptr<QueryApi> query_api_;
  AnalyticsSubjects subjects_;
};

}  // namespace

namespace {

// How the visitor's usage choice and the lawful basis combine, in words, for check-config.
std::vector<std::string> Explain(const processing::Register& reg) {
  std::vector<std::string> bases;
  for (const auto& d : reg.datasets) {
    if (d.module != "analytics") continue;
    for (const auto& pid : d.purposes) {
      const processing::Purpose* p = reg.FindPurpose(pid);
      if (p == nullptr) continue;
      std::string b(processing::LawfulBasisName(p->basis));
      if (std::find(bases.begin(), bases.end(), b) == bases.end()) bases.push_back(b);
    }
  }
  if (bases.empty()) return {};
  std::string basis;
  for (const auto& b : bases) basis += (basis.empty() ? "" : " and ") + b;
  bool usage = std::any_of(reg.cookies.begin(), reg.cookies.end(), [](const processing::Cookie& c) {
    return c.category == processing::CookieCategory::kUsage && !c.staff_only;
  });
  if (!usage) {
    return {"the register declares no usage cookie, so there is no choice to ask for: it counts visits on " + basis};
  }
  if (reg.consent_mode == processing::ConsentMode::kConsent) {
    return {
        "consent mode: counts a visitor only after they accept usage cookies, and stops when they reject or "
        "withdraw, whatever the lawful basis of its purposes (" +
        basis + "): the cookie law asks for the choice"};
  }
  return {
      "statistics exemption: counts a visitor until they object to usage cookies or their browser sends Global "
      "Privacy Control, on " +
      basis};
}

}  // namespace

module::Descriptor Module() {
  return {
      .id = kAnalytics,
      .migrations = [] { return Migrations(); },
      .storage =
          [](const config::Config&) {
            return std::vector<retention::ModuleStorage>{Storage(), RollupStorage()};
          },
      .config_tables = {"analytics"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*config.document, reg));
        if (settings) return Ok();
        // A register that says Steward counts visits, on a site where it does not, promises what
        // does not run.
        config::Problems problems(config.path);
        for (const auto& d : reg.datasets) {
          if ((d.module == "analytics" || d.module == "analytics-rollups") && d.kept_by.empty()) {
            problems.Add(d.where, "dataset '" + d.id + "' says module '" + d.module +
                                      "' keeps it, but the site's file has no [analytics], so Steward counts "
                                      "nothing: add [analytics] with the site's domains, or name the system that "
                                      "keeps it (kept_by)");
          }
        }
        if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
        return Ok();
      },
      .explain = [](const config::Config&, const processing::Register& reg) { return Explain(reg); },
      .command_groups = {{"apikey", "Keys for the Stats API (POST /api/v2/query) and for POST /api/messages."}},
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"stats"},
                 .help = "Print the analytics headline and top tables for a period.",
                 .options = {{.name = "--site", .help = "One of the [analytics] domains; default: the first."},
                             {.name = "--period",
                              .help = "day, 7d, 30d, month, year or FROM..TO (YYYY-MM-DD); default 7d.",
                              .default_value = "7d"},
                             {.name = "--format",
                              .help = "text, json or csv; default text.",
                              .default_value = "text",
                              .choices = {"text", "json", "csv"}}},
                 .run = StatsCommand},
                {.path = {"apikey", "create"},
                 .help = "Make a key and print it once (only its hash is kept).",
                 .options =
                     {{.name = "--name", .help = "What will use it, e.g. \"Performance dashboard\".", .required = true},
                      {.name = "--scope",
                       .help = "stats (the Stats API), messages (POST /api/messages), topics (POST "
                               "/api/topics/{id}/messages), referrals (POST /api/referrals) or share:PARTNER (GET "
                               "/api/shares/PARTNER); default stats.",
                       .default_value = "stats"}},
                 .run = ApiKeyCreateCommand},
                {.path = {"apikey", "list"},
                 .help = "List the keys (never the keys themselves).",
                 .run = ApiKeyListCommand},
                {.path = {"apikey", "revoke"},
                 .help = "Revoke a key: it never works again.",
                 .options = {{.name = "--id",
                              .help = "The key's id, from apikey list.",
                              .kind = Option::Kind::kInteger,
                              .required = true,
                              .min = 1}},
                 .run = ApiKeyRevokeCommand},
            };
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
        return std::unique_ptr<subject::SubjectData>(std::make_unique<AnalyticsSubjects>(
            p.SubjectDeps(kAnalytics), p.key, settings ? settings->domains : std::vector<std::string>{}));
      },
      .start = AnalyticsServing::Start,
  };
}

}  // namespace steward::analytics
