#include "accounts/module.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>

#include "accounts/accounts.h"
#include "accounts/serving.h"
#include "accounts/commands.h"
#include "accounts/referrals.h"
#include "accounts/sign_in_with.h"
#include "accounts/statistics.h"
#include "accounts/staff_pages.h"
#include "accounts/subject_data.h"
#include "core/days.h"
#include "core/json_text.h"
#include "module/audience.h"
#include "core/log.h"
#include "analytics/api_keys.h"
#include "core/strings.h"
#include "http/json_body.h"
#include "http/origin.h"
#include "site/pages.h"
#include "staff/accounts.h"
#include "staff/sessions.h"
#include "staff/throttle.h"

namespace steward::accounts {
namespace {

using http::Response;
using module::FieldError;

std::string CommonPasswordsFile(const config::Config& config) {
  return config.site.web_dir + "/generated/common-passwords.txt";
}

Result<std::unique_ptr<Accounts>> Open(module::Platform& p, mail::Queue* queue) {
  STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
  if (!settings) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     p.config.path + ": there is no [accounts]: declare the account's fields (docs/accounts.md)");
  }
  STEWARD_ASSIGN_OR_RETURN(auto mail, mail::ReadSettings(*p.config.document, p.reg));
  auto accounts = std::make_unique<Accounts>(p.store, p.trail, p.key, p.clock, std::move(*settings), queue,
                                             std::move(mail), p.base_url, p.config.site.name);
  if (auto policy = staff::PasswordPolicy::Load(CommonPasswordsFile(p.config)); policy.ok()) {
    accounts->SetCommonPasswords({policy->common.begin(), policy->common.end()});
  }
  return accounts;
}

Response Json(int status, const nlohmann::json& j) {
  Response r = Response::Json(JsonText(j), status);
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace

AccountsServing::AccountsServing(module::Platform& p, std::unique_ptr<Accounts> accounts,
                                 std::unique_ptr<oidc::Client> oidc)
    : p_(p),
      accounts_(std::move(accounts)),
      sessions_(p.store, p.clock, p.key, staff::SessionPolicy{},
                staff::SessionTable{.table = "account_sessions",
                                    .owner = "account_id",
                                    .session_label = "acctsess",
                                    .csrf_label = "acctcsrf"}),
      throttle_(p.clock, p.key, "accthrot"),
      keys_(p.services.Find<analytics::ApiKeys>()),
      subjects_(p.SubjectDeps(kAccounts), *accounts_) {
  if (oidc) with_ = std::make_unique<SignInWith>(p, *accounts_, std::move(oidc));
  p.services.Provide<module::PublicSessions>(this);
  // Account holders are told when the privacy notice changes in a way that affects them: every open
  // account, but no one restricted or whose objection was upheld.
  if (auto* audience = p.services.Find<module::NoticeAudience>()) {
    audience->Add("account holders", [this](const std::function<void(const std::string&)>& each) -> Status {
      subject::MarkSet marks;
      STEWARD_RETURN_IF_ERROR(p_.store.Read([&](store::Connection& c) -> Status {
        STEWARD_ASSIGN_OR_RETURN(marks, p_.restrictions.Load(c, {"accounts"}));
        return Ok();
      }));
      // Privacy: the account's dataset: the address, to tell its owner of a change to the notice.
      return accounts_->ForEachOpen(0, *ParseDay("9999-12-31"), {}, [&](const Accounts::Opened& a) {
        if (a.email.empty()) return;
        if (marks.Any({{subject::KeyKind::kAccountId, "accounts:" + std::to_string(a.id)},
                       {subject::KeyKind::kSubjectId, a.subject_id},
                       {subject::KeyKind::kEmail, a.email}})) {
          return;
        }
        each(a.email);
      });
    });
  }
}

void AccountsServing::AddRoutes(http::Router& router) {
  http::RouteOptions form{
      .max_body_bytes = kMaxBody, .blocking = true, .anonymous_write = http::RouteOptions::Anonymous::kForm};
  http::RouteOptions signed_in{.max_body_bytes = kMaxBody, .blocking = true};
  router.Get("/account/register", [this](Request& req) { return RegisterPage(req, {}, {}, {}, 200); },
             {.blocking = false});
  router.Post(
      "/account/register", [this](Request& req) { return PostRegister(req); }, form);
  router.Get(
      "/account/confirm/{token}", [this](Request& req) { return Confirm(req); }, form);
  router.Get("/account/sign-in", [this](Request& req) { return SignInPage(req, "", {}, 200); }, {.blocking = false});
  router.Post(
      "/account/sign-in", [this](Request& req) { return PostSignIn(req); }, form);
  router.Get("/account/password-reset", [this](Request& req) { return ResetPage(req, "", {}, 200); },
             {.blocking = false});
  router.Post(
      "/account/password-reset", [this](Request& req) { return PostReset(req); }, form);
  router.Get("/account/password/{token}", [this](Request& req) { return PasswordPage(req, {}, 200); },
             {.blocking = true});
  router.Post(
      "/account/password/{token}", [this](Request& req) { return PostPassword(req); }, form);
  router.Get(
      "/account", [this](Request& req) { return WithSession(req, &AccountsServing::Home); }, signed_in);
  router.Get(
      "/account/details", [this](Request& req) { return WithSession(req, &AccountsServing::DetailsPage); }, signed_in);
  router.Post(
      "/account/details", [this](Request& req) { return WithSession(req, &AccountsServing::PostDetails); }, signed_in);
  router.Get("/account/sign-in/code", [this](Request& req) { return CodePage(req, {}, 200); }, {.blocking = true});
  router.Post(
      "/account/sign-in/code", [this](Request& req) { return PostCode(req); }, form);
  router.Get(
      "/account/security", [this](Request& req) { return WithSession(req, &AccountsServing::SecurityPage); },
      signed_in);
  router.Post(
      "/account/security/start", [this](Request& req) { return WithSession(req, &AccountsServing::PostSecurityStart); },
      signed_in);
  router.Post(
      "/account/security/confirm",
      [this](Request& req) { return WithSession(req, &AccountsServing::PostSecurityConfirm); }, signed_in);
  router.Post(
      "/account/security/remove",
      [this](Request& req) { return WithSession(req, &AccountsServing::PostSecurityRemove); }, signed_in);
  router.Get(
      "/account/email", [this](Request& req) { return WithSession(req, &AccountsServing::EmailPage); }, signed_in);
  router.Post(
      "/account/email", [this](Request& req) { return WithSession(req, &AccountsServing::PostEmail); }, signed_in);
  router.Get(
      "/account/email/{token}", [this](Request& req) { return ConfirmEmail(req); }, form);
  router.Post(
      "/account/consents", [this](Request& req) { return WithSession(req, &AccountsServing::PostConsent); }, signed_in);
  router.Get(
      "/account/new-consents", [this](Request& req) { return WithSession(req, &AccountsServing::NewConsentsPage); },
      signed_in);
  router.Post(
      "/account/new-consents", [this](Request& req) { return WithSession(req, &AccountsServing::PostNewConsents); },
      signed_in);
  router.Get(
      "/account/download", [this](Request& req) { return WithSession(req, &AccountsServing::Download); }, signed_in);
  router.Get(
      "/account/close", [this](Request& req) { return WithSession(req, &AccountsServing::ClosePage); }, signed_in);
  router.Post(
      "/account/close", [this](Request& req) { return WithSession(req, &AccountsServing::PostClose); }, signed_in);
  router.Post(
      "/account/sign-out", [this](Request& req) { return WithSession(req, &AccountsServing::SignOut); }, signed_in);
  if (with_) {
    router.Get("/account/sign-in/oidc", [this](Request& req) { return with_->Start(req); }, {.blocking = true});
    router.Get(
        "/account/sign-in/oidc/callback", [this](Request& req) { return OidcCallback(req); }, form);
    router.Get("/account/register/oidc", [this](Request& req) { return LinkedRegisterPage(req, {}, {}, {}, 200); },
               {.blocking = false});
    router.Post(
        "/account/register/oidc", [this](Request& req) { return PostLinkedRegister(req); }, form);
    router.Get("/account/signed-out", [this](Request& req) { return SignedOut(req); }, {.blocking = false});
    router.Get("/account/oidc/jwks.json", [this](Request&) {
      Response r = Response::Json(with_->Jwks());
      r.SetHeader("Cache-Control", "public, max-age=3600");
      return r;
    });
  }
  if (accounts_->settings().referrals) {
    router.Post("/api/referrals", [this](Request& req) { return ApiRefer(req); },
                {.max_body_bytes = kMaxBody, .blocking = true});
  }
}

std::vector<module::Task> AccountsServing::Tasks() {
  return {{.name = "accounts.unconfirmed",
           .first = std::chrono::minutes(1),
           .every = std::chrono::hours(1),
           .run = [this]() -> Status {
             STEWARD_ASSIGN_OR_RETURN(int64_t purged, accounts_->PurgeUnconfirmed());
             if (purged > 0) log::Info("accounts.unconfirmed_deleted", {{"count", purged}});
             STEWARD_RETURN_IF_ERROR(sessions_.PurgeExpired());
             return Ok();
           }}};
}

// ---- Referrals from partner organisations -------------------------------------------------------

// POST /api/referrals with a key of scope "referrals": {"email": "...", "details": {field: value}}.
// The key's name is the referral source.
Response AccountsServing::ApiRefer(Request& req) {
  std::string_view auth = req.Header("Authorization");
  std::optional<int64_t> key;
  if (keys_ != nullptr && auth.starts_with("Bearer ")) key = keys_->Verify(Trim(auth.substr(7)), "referrals");
  if (!key) {
    Response r = Json(401, {{"error",
                             "send a key made with steward apikey create --scope referrals --name "
                             "\"the referring organisation\": Authorization: Bearer stw_..."}});
    r.SetHeader("WWW-Authenticate", "Bearer");
    return r;
  }
  auto body = http::ParseJsonBody(req, {.max_depth = 3, .max_bytes = static_cast<size_t>(kMaxBody)});
  if (!body.ok()) return Json(400, {{"error", body.error().message}});
  const char* shape = "the body is {\"email\": \"...\", \"details\": {\"field id\": \"value\", ...}}";
  if (!body->is_object()) return Json(400, {{"error", shape}});
  Referral referral;
  for (const auto& [name, value] : body->items()) {
    if (name == "email" && value.is_string()) {
      referral.email = value.get<std::string>();
    } else if (name == "details" && value.is_object()) {
      for (const auto& [field, v] : value.items()) {
        if (!v.is_string()) return Json(400, {{"error", "'details." + field + "' is a string"}});
        referral.values[field] = v.get<std::string>();
      }
    } else {
      return Json(400, {{"error", "'" + name + "' is not expected: " + shape}});
    }
  }
  if (referral.email.empty()) return Json(400, {{"error", "'email' is required: " + std::string(shape)}});
  auto partner = keys_->Get(*key);
  if (!partner.ok()) return Json(500, {{"error", "the key could not be read"}});
  referral.source = partner->name;
  const Settings& s = accounts_->settings();
  auto told = [&](const std::string& link) {
    return Article14Text(p_.reg, s, referral, p_.config.site.name, link, Accounts::kReferralLinkDays,
                         p_.base_url() + "/privacy");
  };
  auto id =
      accounts_->Refer(referral, told, Actor{.id = "api-key:" + std::to_string(*key), .request_id = req.request_id});
  if (!id.ok() && id.error().code == ErrorCode::kInvalidArgument) {
    auto [field, message] = FieldError(id.error(), "email");
    return Json(400, {{"error", "some fields need correcting"}, {"errors", {{field, message}}}});
  }
  if (!id.ok() && id.error().code == ErrorCode::kPermissionDenied) {
    return Json(422, {{"error", "the service is for people " + std::to_string(s.minimum_age) +
                                    " or older: nothing about this person is kept"}});
  }
  if (!id.ok()) {
    log::Warn("accounts.referral_failed", {{"error", id.error().message}, {"request_id", req.request_id}});
    return Json(http::StatusForError(id.error().code), {{"error", "the referral could not be kept"}});
  }
  return Json(202, {{"status", "recorded; the person is emailed what we hold, from whom and why"}});
}

std::string SessionCookieName(bool https) { return https ? "__Host-steward_account" : "steward_account"; }

module::Descriptor Module() {
  return {
      .id = kAccounts,
      .migrations = [] { return Accounts::Migrations(); },
      .storage =
          [](const config::Config& config) {
            std::shared_ptr<const Settings> settings;
            if (auto reg = processing::FromDocument(*config.document); reg.ok()) {
              if (auto s = ReadSettings(*config.document, *reg); s.ok() && *s) {
                settings = std::make_shared<const Settings>(std::move(**s));
              }
            }
            return std::vector<retention::ModuleStorage>{Accounts::Storage(settings)};
          },
      .config_tables = {"accounts"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_RETURN_IF_ERROR(ReadSettings(*config.document, reg));
        return Ok();
      },
      .explain = [](const config::Config& config, const processing::Register& reg) { return Explain(config, reg); },
      .cookies =
          [](const config::Config& config, const processing::Register& reg) {
            std::vector<std::string> names;
            auto s = ReadSettings(*config.document, reg);
            if (s.ok() && *s) names.push_back(SessionCookieName(config.server.https));
            if (s.ok() && *s && (*s)->oidc) names.push_back(SignInCookieName(config.server.https));
            return names;
          },
      .command_groups = {{"accounts", "Citizen accounts."}},
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"accounts", "count"},
                 .help = "Print how many accounts are open, waiting to confirm, and closed with a minimum kept "
                         "(counts only).",
                 .options = {{.name = "--format",
                              .help = "text or json; default text.",
                              .default_value = "text",
                              .choices = {"text", "json"}}},
                 .run = CountCommand},
                {.path = {"accounts", "import"},
                 .help = "Bring accounts from the service's previous system: a CSV whose header names its columns, "
                         "email and the declared fields' ids (dates as YYYY-MM-DD). Each is open with no password "
                         "and no consents. Prints counts and the lines skipped, never a value. Audited.",
                 .options = {{.name = "file",
                              .help = "The CSV file.",
                              .kind = module::Option::Kind::kPositional,
                              .required = true},
                             {.name = "--source",
                              .help = "Where the accounts come from, shown in each account's activity.",
                              .default_value = "our previous system"}},
                 .run = ImportCommand}};
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
        if (!settings) return std::unique_ptr<subject::SubjectData>();
        // The command line's Accounts sends no email; it lives as long as its subject data.
        struct Owned : AccountSubjects {
          Owned(Deps d, std::unique_ptr<Accounts> a) : AccountSubjects(std::move(d), *a), accounts(std::move(a)) {}
          std::unique_ptr<Accounts> accounts;
        };
        auto accounts = std::make_unique<Accounts>(p.store, p.trail, p.key, p.clock, std::move(*settings), nullptr,
                                                   std::nullopt, p.base_url, p.config.site.name);
        return std::unique_ptr<subject::SubjectData>(
            std::make_unique<Owned>(p.SubjectDeps(kAccounts), std::move(accounts)));
      },
      .counters = [](module::Platform& p) { return Counters(p); },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
        if (!settings) return std::unique_ptr<module::Serving>(std::make_unique<module::Serving>());
        STEWARD_CHECK(p.pages != nullptr, "accounts serves pages");
        auto* queue = p.services.Find<mail::Queue>();
        if (queue == nullptr) return MakeError(ErrorCode::kFailedPrecondition, "[accounts] needs [mail]");
        STEWARD_ASSIGN_OR_RETURN(auto accounts, Open(p, queue));
        std::unique_ptr<oidc::Client> client;
        if (const auto& o = accounts->settings().oidc) {
          STEWARD_ASSIGN_OR_RETURN(client, oidc::Client::Open(*o, p.clock));
        }
        return std::unique_ptr<module::Serving>(
            std::make_unique<AccountsServing>(p, std::move(accounts), std::move(client)));
      },
  };
}

}  // namespace steward::accounts
