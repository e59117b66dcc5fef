#include "changes/module.h"

#include <cstdio>
#include <set>

#include "changes/changes.h"
#include "core/days.h"
#include "core/log.h"
#include "core/strings.h"
#include "mail/mail.h"
#include "module/audience.h"
#include "notice/notice.h"
#include "register/versions.h"
#include "site/pages.h"

namespace steward::changes {
namespace {

using http::Request;
using http::Response;

constexpr module::Id kChanges("notice-changes");

struct Settings {
  int64_t banner_days = 30;  // how long the banner shows after publishing
  bool email = true;         // email account holders and confirmed subscribers
};

Result<Settings> ReadSettings(const config::Config& config) {
  config::Problems problems(config.document->path());
  config::Table root = config.document->Root(problems);
  Settings s;
  if (auto table = root.Child("notice")) {
    table->Int("banner_days", s.banner_days, 1, 365);
    table->Bool("email", s.email);
    table->Finish();
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return s;
}

int64_t Today(const Clock& clock) { return UnixMillis(clock.Now()) / kDayMillis; }

// The version the site serves now (the newest recorded), or nullopt before the first start.
Result<std::optional<processing::NoticeVersion>> Served(store::Store& store) {
  STEWARD_ASSIGN_OR_RETURN(auto versions, processing::ListVersions(store));
  if (versions.empty()) return std::optional<processing::NoticeVersion>();
  return std::optional<processing::NoticeVersion>(versions.front());
}

// `steward notice stage --config NEW.toml`: the new register, staged for the DPO to publish.
int StageCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  auto changes = StageRegister(p.store, p.trail, p.clock, p.config.site, p.reg, "cli");
  if (!changes.ok())
    return module::Fail(changes.error(), changes.error().code == ErrorCode::kFailedPrecondition ? 2 : 1);
  if (changes->empty()) {
    std::printf("The register is the one the site serves (version %s): nothing to stage.\n", p.reg.Version().c_str());
    return 0;
  }
  std::printf("Staged version %s:\n", p.reg.Version().c_str());
  for (const auto& c : *changes) {
    std::printf("  %s %s\n", c.material ? "[affects people]" : "[editorial]     ", c.text.c_str());
  }
  if (processing::AnyMaterial(*changes)) {
    std::printf(
        "A person with the dpo role publishes it at /admin/notice, with the day it takes effect; put this "
        "site file in place on that day.\n");
  } else {
    std::printf("Nothing in it affects people: it may be put in place at once.\n");
  }
  return 0;
}

html::List ChangeItems(const std::vector<processing::NoticeChange>& changes) {
  html::List out;
  for (const auto& c : changes) out.push_back(html::Object{{"text", c.text}, {"material", c.material}});
  return out;
}

class Serving : public module::Serving {
 public:
  Serving(module::Platform& p, Settings s) : p_(p), s_(s), log_(p.store, p.trail, p.clock) {
    // Modules after this one add who to tell (account holders, subscribers).
    p.services.Provide<module::NoticeAudience>(&audience_);
    if (p.pages != nullptr) {
      p.pages->AddToPublicFrame([this](const Request&, html::Object& frame) {
        if (auto banner = Banner()) frame["notice_change"] = *banner;
      });
    }
    Refresh();
  }

  void AddRoutes(http::Router& router) override {
    if (p_.pages == nullptr) return;
    router.Get("/privacy/next", [this](Request& req) { return Next(req); });
  }

  std::vector<module::StaffPage> StaffPages() override {
    return {{.pattern = "/admin/notice",
             .permission = staff::Permission::kManageRegister,
             .handler = [this](Request& req, module::StaffContext& ctx) { return Page(req, ctx, {}, 200); },
             .nav_title = "Notice changes",
             .nav_text = "Changes to the privacy notice: what affects people, published with a banner and emails.",
             .card_title = "Changes to the privacy notice",
             .nav_order = 31},
            {.method = http::Method::kPost,
             .pattern = "/admin/notice/publish",
             .permission = staff::Permission::kManageRegister,
             .handler = [this](Request& req, module::StaffContext& ctx) { return Publish(req, ctx); }}};
  }

  std::vector<module::Task> Tasks() override {
    // Every instance reads the change again each minute, for its banner and /privacy/next.
    std::vector<module::Task> tasks = {{.name = "notice.refresh",
                                        .first = std::chrono::minutes(1),
                                        .every = std::chrono::minutes(1),
                                        .run = [this]() -> Status {
                                          Refresh();
                                          return Ok();
                                        },
                                        .every_instance = true}};
    auto* queue = p_.services.Find<mail::Queue>();
    auto mail = mail::ReadSettings(*p_.config.document, p_.reg);
    if (!s_.email || queue == nullptr || !mail.ok() || !*mail) return tasks;
    mail_ = std::make_unique<mail::Settings>(std::move(**mail));
    // Once for the site: the instance that leads emails the people affected, within seconds of the
    // DPO publishing (a check when nothing is to be told reads one row).
    tasks.push_back({.name = "notice.tell",
                     .first = std::chrono::seconds(5),
                     .every = std::chrono::seconds(10),
                     .run = [this, queue]() -> Status { return Tell(*queue); }});
    return tasks;
  }

 private:
  // The change as last read; refreshed when published and by the task.
  void Refresh() {
    auto latest = log_.Latest();
    std::lock_guard<std::mutex> lock(mu_);
    if (latest.ok()) latest_ = *latest;
  }

  std::optional<Change> Current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return latest_;
  }

  // The GOV.UK notification banner while a published change is announced.
  std::optional<html::Object> Banner() const {
    auto c = Current();
    int64_t today = Today(p_.clock);
    if (!c || !c->Published() || today > c->banner_until) return std::nullopt;
    bool served = c->version == p_.reg.Version();
    if (!served && c->effective_from > today) {
      return html::Object{{"title", "Important"},
                          {"text", "We are changing our privacy notice on " + module::LongDay(c->effective_from) + "."},
                          {"href", "/privacy/next"},
                          {"link", "Read what changes"}};
    }
    return html::Object{{"title", "Important"},
                        {"text", "We changed our privacy notice on " + module::LongDay(c->effective_from) + "."},
                        {"href", "/privacy/versions"},
                        {"link", "Read what changed"}};
  }

  Response Next(Request& req) {
    auto c = Current();
    if (!c || !c->Published() || c->version == p_.reg.Version() || c->notice_html.empty()) {
      return p_.pages->ErrorPage(404, &req);
    }
    auto served = Served(p_.store);
    if (!served.ok()) return p_.pages->ErrorFor(served.error(), req);
    auto changes = *served ? processing::ClassifyChanges((*served)->notice_json, c->notice_json)
                           : std::vector<processing::NoticeChange>{};
    Response r = p_.pages->Page(req, "privacy_next", "Our privacy notice from " + module::LongDay(c->effective_from),
                                {{"effective", module::LongDay(c->effective_from)},
                                 {"changes", ChangeItems(changes)},
                                 {"notice", c->notice_html}});
    r.SetHeader("Cache-Control", "no-cache");
    return r;
  }

  // What the DPO sees: the version served, the change staged or published, and its changes.
  Response Page(Request& req, module::StaffContext& ctx, const std::vector<std::pair<std::string, std::string>>& errors,
                int status) {
    Refresh();
    auto served = Served(p_.store);
    if (!served.ok()) return ctx.layout->ErrorFor(served.error(), req);
    auto c = Current();
    auto versions = processing::ListVersions(p_.store);
    if (!versions.ok()) return ctx.layout->ErrorFor(versions.error(), req);
    html::Object data{{"served", *served ? (*served)->version : std::string()},
                      {"served_since", *served ? processing::LongDate((*served)->effective_at) : std::string()},
                      {"banner_days", s_.banner_days},
                      {"audience", Audience()}};
    // A change to publish: the staged one, or the version served when it changed what affects
    // people and was never published.
    std::vector<processing::NoticeChange> changes;
    bool publishable = false;
    if (c && c->version != (*served ? (*served)->version : "")) {
      changes = processing::ClassifyChanges(*served ? (*served)->notice_json : "{}", c->notice_json);
      publishable = !c->Published();
      data["staged"] = html::Object{{"version", c->version}, {"staged_at", c->staged_at.substr(0, 10)}};
    } else if (versions->size() >= 2) {
      changes = processing::ClassifyChanges((*versions)[1].notice_json, (*versions)[0].notice_json);
      bool told = c && c->version == (*versions)[0].version && c->Published();
      publishable = processing::AnyMaterial(changes) && !told;
      if (publishable) data["unannounced"] = true;
    }
    data["changes"] = ChangeItems(changes);
    data["has_changes"] = !changes.empty();
    data["material"] = processing::AnyMaterial(changes);
    data["publishable"] = publishable;
    if (c && c->Published()) {
      data["published"] = html::Object{{"version", c->version},
                                       {"effective", module::LongDay(c->effective_from)},
                                       {"banner_until", module::LongDay(c->banner_until)},
                                       {"published_at", c->published_at.substr(0, 10)},
                                       {"told", c->told < 0 ? std::string("not yet") : module::Thousands(c->told)}};
    }
    data["effective_date"] =
        module::DateInput("effective", ctx.form, Today(p_.clock), module::HasError(errors, "effective"));
    return module::FormPage(req, ctx, "admin_notice", "Changes to the privacy notice", std::move(data), errors,
                            "/admin/notice", status);
  }

  std::string Audience() const {
    std::string out;
    for (const auto& [who, _] : audience_.Sources()) out += (out.empty() ? "" : " and ") + who;
    return out.empty() ? "no one (the site keeps no one's address for a service)" : out;
  }

  Response Publish(Request& req, module::StaffContext& ctx) {
    auto effective = module::DateField(ctx.form, "effective");
    if (!effective) return Page(req, ctx, {{"effective", "Enter the day it takes effect, such as 1 1 2027"}}, 400);
    auto served = Served(p_.store);
    if (!served.ok()) return ctx.layout->ErrorFor(served.error(), req);
    auto c = Current();
    std::string served_version = *served ? (*served)->version : "";
    bool staged = c && !c->Published() && c->version != served_version;
    if (!staged) {
      // The version served, materially changed and never published: staged now, taking effect today.
      auto versions = processing::ListVersions(p_.store);
      if (!versions.ok()) return ctx.layout->ErrorFor(versions.error(), req);
      if (versions->size() < 2 || (c && c->version == served_version && c->Published())) {
        return ctx.layout->Error(409, req);
      }
      if (*effective != Today(p_.clock)) {
        return Page(req, ctx, {{"effective", "This version is served already: it takes effect today"}}, 400);
      }
      Status made = log_.Stage({.version = (*versions)[0].version,
                                .from_version = (*versions)[1].version,
                                .notice_json = (*versions)[0].notice_json},
                               ctx.actor.id);
      if (!made.ok()) return ctx.layout->ErrorFor(made.error(), req);
    }
    Status s = log_.Publish(*effective, *effective + s_.banner_days - 1, ctx.actor.id, req.request_id);
    if (!s.ok()) {
      if (s.error().code == ErrorCode::kInvalidArgument)
        return Page(req, ctx, {module::FieldError(s.error(), "effective")}, 400);
      return ctx.layout->ErrorFor(s.error(), req);
    }
    Refresh();
    return Response::Redirect("/admin/notice");
  }

  // Emails everyone the audience reaches, once, about a published change.
  Status Tell(mail::Queue& queue) {
    Refresh();
    auto c = Current();
    if (!c || !c->Published() || c->told >= 0) return Ok();
    auto served = Served(p_.store);
    if (!served.ok()) return served.error();
    std::string from_json = "{}";
    STEWARD_ASSIGN_OR_RETURN(auto versions, processing::ListVersions(p_.store));
    for (const auto& v : versions) {
      if (v.version == c->from_version) from_json = v.notice_json;
    }
    std::string text;
    for (const auto& change : processing::ClassifyChanges(from_json, c->notice_json)) {
      if (change.material) text += "- " + change.text + "\n";
    }
    bool ahead = c->effective_from > Today(p_.clock);
    std::string base = p_.base_url();
    std::string body = std::string(ahead ? "We are changing" : "We have changed") + " how " + p_.config.site.name +
                       " uses personal data" + (ahead ? ", from " : ", on ") + module::LongDay(c->effective_from) +
                       ". What affects you:\n\n" + text + "\nRead the " + (ahead ? "new notice: " : "notice: ") + base +
                       (ahead ? "/privacy/next" : "/privacy") + "\nEvery change: " + base +
                       "/privacy/versions\n\nYou do not need to do anything. You get this email because you have an "
                       "account with us or subscribe to our email updates.";
    std::set<std::string> seen;
    int64_t queued = 0;
    for (const auto& [who, source] : audience_.Sources()) {
      STEWARD_RETURN_IF_ERROR(source([&](const std::string& email) {
        if (!seen.insert(ToLower(email)).second) return;
        mail::Email e{.to = email,
                      .subject = "Changes to how " + p_.config.site.name + " uses your personal data",
                      .text = body,
                      .batch = "notice:" + c->version};
        // Privacy: the outgoing mail's dataset: the address, sealed in the queue, to tell its owner.
        auto id = queue.Enqueue(e, *mail_);
        if (id.ok()) ++queued;  // a suppressed address is not mailed again
      }));
    }
    STEWARD_RETURN_IF_ERROR(log_.MarkTold(c->version, queued));
    log::Info("notice.told", {{"emails", std::to_string(queued)}});
    Refresh();
    return Ok();
  }

  module::Platform& p_;
  Settings s_;
  ChangeLog log_;
  module::NoticeAudience audience_;
  std::unique_ptr<mail::Settings> mail_;
  mutable std::mutex mu_;
  std::optional<Change> latest_;
};

}  // namespace

module::Descriptor Module() {
  return {
      .id = kChanges,
      .migrations = [] { return ChangeLog::Migrations(); },
      .storage =
          [](const config::Config&) {
            return std::vector<retention::ModuleStorage>{
                {.module = "notice-changes", .other_tables = {"notice_changes"}}};
          },
      .config_tables = {"notice"},
      .check = [](const config::Config& config, const processing::Register&) -> Status {
        STEWARD_ASSIGN_OR_RETURN(auto s, ReadSettings(config));
        (void)s;
        return Ok();
      },
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"notice", "stage"},
                 .help = "Stage this site file's register as the next version of the notice, for a person with the "
                         "dpo role to publish at /admin/notice; prints what changes and what affects people.",
                 .run = StageCommand}};
          },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto s, ReadSettings(p.config));
        return std::unique_ptr<module::Serving>(std::make_unique<Serving>(p, s));
      },
  };
}

}  // namespace steward::changes
