#include "sharing/module.h"

#include <cstdio>
#include <fstream>

#include "analytics/api_keys.h"
#include "core/days.h"
#include "core/strings.h"
#include "sharing/shares.h"

namespace steward::sharing {
namespace {

using http::Request;
using http::Response;

constexpr module::Id kSharing("sharing");

std::shared_ptr<accounts::Accounts> OpenAccounts(module::Platform& p) {
  auto settings = accounts::ReadSettings(*p.config.document, p.reg);
  if (!settings.ok() || !*settings) return nullptr;
  // Reading only: no email is sent from here.
  return std::make_shared<accounts::Accounts>(p.store, p.trail, p.key, p.clock, std::move(**settings), nullptr,
                                              std::nullopt, p.base_url, p.config.site.name);
}

// The sealed file's name: "share-market-research-2026-12-04.sealed".
std::string FileName(const Partner& partner, const Clock& clock) {
  return "share-" + partner.id + "-" + DayText(UnixMillis(clock.Now()) / kDayMillis) + ".sealed";
}

std::string Fields(const Partner& p) {
  std::string out;
  for (const auto& f : p.fields) out += (out.empty() ? "" : ", ") + f;
  return out;
}

// `steward share --partner ID --out FILE`: a partner's share, sealed to its public key.
int ShareCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  auto settings = ReadSettings(p.config, p.reg);
  if (!settings.ok()) return module::Fail(settings.error(), 2);
  if (!*settings) {
    return module::Fail(MakeError(ErrorCode::kFailedPrecondition, "this site shares nothing: declare [sharing]"), 2);
  }
  const Partner* partner = (*settings)->Find(ctx.args.Text("--partner"));
  if (partner == nullptr) {
    std::string known;
    for (const auto& x : (*settings)->partners) known += (known.empty() ? "" : ", ") + x.id;
    return module::Fail(MakeError(ErrorCode::kInvalidArgument, "--partner: this site's partners are " + known), 2);
  }
  if (partner->delivery != Delivery::kSealedFile) {
    return module::Fail(MakeError(ErrorCode::kInvalidArgument,
                                  "--partner: " + partner->id + " collects its share through the API, not a file"),
                        2);
  }
  auto accounts = OpenAccounts(p);
  if (!accounts) return module::Fail(MakeError(ErrorCode::kFailedPrecondition, "this site has no [accounts]"), 2);
  Shares shares(p, std::move(**settings), accounts);
  std::string out = ctx.args.Text("--out");
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  if (!file) return module::Fail(MakeError(ErrorCode::kIo, "--out: cannot write " + out));
  auto json = shares.Make(*shares.settings().Find(partner->id), "cli", "", "sealed-file");
  if (!json.ok()) return module::Fail(json.error());
  file << crypto::SealTo(partner->public_key, *json);
  if (!file.flush()) return module::Fail(MakeError(ErrorCode::kIo, "--out: cannot write " + out));
  std::fprintf(stderr, "Sealed the share for %s to its public key in %s.\n", partner->recipient_name.c_str(),
               out.c_str());
  return 0;
}

class Serving : public module::Serving {
 public:
  Serving(module::Platform& p, Settings s, std::shared_ptr<accounts::Accounts> accounts)
      : p_(p),
        shares_(std::make_unique<Shares>(p, std::move(s), std::move(accounts))),
        subjects_(p.SubjectDeps(kSharing), *shares_),
        keys_(p.services.Find<analytics::ApiKeys>()) {}

  subject::SubjectData* Subjects() override { return &subjects_; }

  void AddRoutes(http::Router& router) override {
    router.Get("/api/shares/{partner}", [this](Request& req) { return Api(req); }, {.blocking = true});
  }

  std::vector<module::StaffPage> StaffPages() override {
    return {{.pattern = "/admin/sharing",
             .permission = staff::Permission::kManageRegister,
             .handler = [this](Request& req, module::StaffContext& ctx) { return Page(req, ctx); },
             .nav_title = "Sharing",
             .nav_text = "What each partner organisation may be given, and what it was given.",
             .card_title = "Sharing with partners",
             .nav_order = 47},
            {.method = http::Method::kPost,
             .pattern = "/admin/sharing/{partner}/file",
             .permission = staff::Permission::kManageRegister,
             .handler = [this](Request& req, module::StaffContext& ctx) { return File(req, ctx); }}};
  }

 private:
  static Response Json(int status, const std::string& error) {
    Response r = Response::Json("{\"error\":\"" + error + "\"}", status);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  // GET /api/shares/{partner} with a key of scope "share:<partner>": the share as it stands now.
  Response Api(Request& req) {
    const Partner* partner = shares_->settings().Find(req.PathParam("partner"));
    if (partner == nullptr || partner->delivery != Delivery::kApi) return Json(404, "no such partner collects here");
    std::string_view auth = req.Header("Authorization");
    std::optional<int64_t> key;
    if (keys_ != nullptr && auth.starts_with("Bearer ")) {
      key = keys_->Verify(Trim(auth.substr(7)), "share:" + partner->id);
    }
    if (!key) {
      Response r = Json(401, "send the partner's key (scope share:" + partner->id + "): Authorization: Bearer stw_...");
      r.SetHeader("WWW-Authenticate", "Bearer");
      return r;
    }
    auto json = shares_->Make(*partner, "apikey:" + std::to_string(*key), req.request_id, "api");
    if (!json.ok()) return Json(500, "the share could not be made");
    Response r = Response::Json(*json);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  Response Page(Request& req, module::StaffContext& ctx) {
    html::List partners, shares;
    for (const auto& partner : shares_->settings().partners) {
      auto people = shares_->Build(partner);
      if (!people.ok()) return ctx.layout->ErrorFor(people.error(), req);
      partners.push_back(html::Object{
          {"id", partner.id},
          {"name", partner.recipient_name},
          {"basis", partner.basis},
          {"consent", partner.consent},
          {"dataset", partner.dataset},
          {"fields", Fields(partner)},
          {"delivery", partner.delivery == Delivery::kApi ? "Collected through the API with the partner's key"
                                                          : "A file sealed to the partner's public key"},
          {"api", partner.delivery == Delivery::kApi},
          {"sealed", partner.delivery == Delivery::kSealedFile},
          {"people", module::Thousands(static_cast<int64_t>(people->size()))}});
    }
    auto history = shares_->History();
    if (!history.ok()) return ctx.layout->ErrorFor(history.error(), req);
    for (const auto& s : *history) {
      const Partner* p = shares_->settings().Find(s.partner);
      shares.push_back(html::Object{{"partner", p ? p->recipient_name : s.partner},
                                    {"made_at", s.made_at.substr(0, 16)},
                                    {"made_by", s.made_by},
                                    {"how", s.how},
                                    {"people", s.people}});
    }
    return ctx.layout->Page(req, ctx, "admin_sharing", "Sharing with partners",
                            {{"partners", partners}, {"shares", shares}, {"no_shares", shares.empty()}},
                            "/admin/sharing");
  }

  Response File(Request& req, module::StaffContext& ctx) {
    const Partner* partner = shares_->settings().Find(req.PathParam("partner"));
    if (partner == nullptr || partner->delivery != Delivery::kSealedFile) return ctx.layout->Error(404, req);
    auto json = shares_->Make(*partner, ctx.actor.id, req.request_id, "sealed-file");
    if (!json.ok()) return ctx.layout->ErrorFor(json.error(), req);
    Response r = Response::Text(crypto::SealTo(partner->public_key, *json));
    r.SetHeader("Content-Type", "application/octet-stream");
    r.SetHeader("Content-Disposition", "attachment; filename=\"" + FileName(*partner, p_.clock) + "\"");
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  module::Platform& p_;
  std::unique_ptr<Shares> shares_;
  ShareSubjects subjects_;
  analytics::ApiKeys* keys_;
};

}  // namespace

module::Descriptor Module() {
  return {
      .id = kSharing,
      .migrations = [] { return Shares::Migrations(); },
      .storage = [](const config::Config&) { return std::vector<retention::ModuleStorage>{Shares::Storage()}; },
      .config_tables = {"sharing"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(config, reg));
        (void)settings;
        return Ok();
      },
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"share"},
                 .help = "Write a partner's share as a file sealed to its public key ([[sharing.partners]] with "
                         "delivery = \"sealed-file\"); recorded per person and audited.",
                 .options = {{.name = "--partner", .help = "The partner's id.", .required = true},
                             {.name = "--out", .help = "The file to write.", .required = true}},
                 .run = ShareCommand}};
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
        auto accounts = OpenAccounts(p);
        if (!settings || !accounts) return std::unique_ptr<subject::SubjectData>();
        struct Owned : ShareSubjects {
          Owned(Deps d, std::unique_ptr<Shares> s) : ShareSubjects(std::move(d), *s), shares(std::move(s)) {}
          std::unique_ptr<Shares> shares;
        };
        return std::unique_ptr<subject::SubjectData>(std::make_unique<Owned>(
            p.SubjectDeps(kSharing), std::make_unique<Shares>(p, std::move(*settings), std::move(accounts))));
      },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
        if (!settings) return std::unique_ptr<module::Serving>(std::make_unique<module::Serving>());
        auto accounts = OpenAccounts(p);
        if (!accounts)
          return MakeError(ErrorCode::kFailedPrecondition, "[sharing] shares accounts: declare [accounts]");
        return std::unique_ptr<module::Serving>(
            std::make_unique<Serving>(p, std::move(*settings), std::move(accounts)));
      },
  };
}

}  // namespace steward::sharing
