#include "accounts/module.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "accounts/accounts.h"
#include "accounts/commands.h"
#include "accounts/referrals.h"
#include "accounts/sign_in_with.h"
#include "accounts/staff_pages.h"
#include "accounts/subject_data.h"
#include "core/json_text.h"
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

using http::Request;
using http::Response;
using module::FieldError;

constexpr module::Id kAccounts("accounts");
constexpr int64_t kMaxBody = 32 * 1024;
using Errors = std::vector<std::pair<std::string, std::string>>;

Response NoStore(Response r) {
  r.SetHeader("Cache-Control", "no-store");
  // Links in the address carry one-time tokens: no other site is told them. (Not "no-referrer":
  // a browser then sends "Origin: null" with the page's own forms.)
  r.SetHeader("Referrer-Policy", "same-origin");
  return r;
}

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

}  // namespace

// ---- Shared by the person's pages and the adviser's ------------------------------------------------

std::string DateText(std::string_view rfc3339) {
  // "2026-12-03T10:15:00.000Z" -> "3 December 2026 at 10:15 (UTC)"
  static const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};
  int y = 0, m = 0, d = 0, hh = 0, mm = 0;
  if (std::sscanf(std::string(rfc3339).c_str(), "%4d-%2d-%2dT%2d:%2d", &y, &m, &d, &hh, &mm) < 3 || m < 1 || m > 12) {
    return std::string(rfc3339);
  }
  char buf[80];
  if (rfc3339.size() > 10) {
    std::snprintf(buf, sizeof buf, "%d %s %d at %02d:%02d (UTC)", d, kMonths[m - 1], y, hh, mm);
  } else {
    std::snprintf(buf, sizeof buf, "%d %s %d", d, kMonths[m - 1], y);
  }
  return buf;
}

std::map<std::string, std::string> ReadValues(const http::Params& form, const Settings& settings, bool partial) {
  std::map<std::string, std::string> out;
  for (const auto& f : settings.fields) {
    if (f.type == FieldType::kDate) {
      std::string d(Trim(module::Field(form, f.id + "-day"))), m(Trim(module::Field(form, f.id + "-month"))),
          y(Trim(module::Field(form, f.id + "-year")));
      bool present = !module::AllFields(form, f.id + "-year").empty();
      if (partial && !present) continue;
      if (d.empty() && m.empty() && y.empty()) {
        out[f.id] = "";
        continue;
      }
      auto two = [](const std::string& s) { return s.size() == 1 ? "0" + s : s; };
      out[f.id] = y + "-" + two(m) + "-" + two(d);
      continue;
    }
    if (partial && module::AllFields(form, f.id).empty()) continue;
    out[f.id] = module::Field(form, f.id);
  }
  return out;
}

html::List FieldItems(const Settings& settings, const std::map<std::string, std::string>& values,
                      const std::map<std::string, std::string>& errors, bool consent_fields, bool show_special) {
  html::List items;
  for (const auto& f : settings.fields) {
    if (f.consent.empty() == consent_fields) continue;
    if (f.special && !show_special) continue;
    auto v = values.find(f.id);
    std::string value = v == values.end() ? "" : v->second;
    html::Object item{{"id", f.id},
                      {"label", f.label},
                      {"hint", f.hint},
                      {"value", value},
                      {"optional", !f.required},
                      {"is_text", f.type == FieldType::kText || f.type == FieldType::kPostcode},
                      {"is_email", f.type == FieldType::kEmail},
                      {"is_tel", f.type == FieldType::kTelephone},
                      {"is_date", f.type == FieldType::kDate},
                      {"is_choice", f.type == FieldType::kChoice}};
    if (f.type == FieldType::kPostcode) item["autocomplete"] = "postal-code";
    if (f.category == "user.contact.name") item["autocomplete"] = "name";
    if (f.type == FieldType::kDate) {
      std::string y = value.size() == 10 ? value.substr(0, 4) : "", m = value.size() == 10 ? value.substr(5, 2) : "",
                  d = value.size() == 10 ? value.substr(8, 2) : "";
      item["day"] = d;
      item["month"] = m;
      item["year"] = y;
      if (f.category == "user.demographic.date_of_birth") item["bday"] = true;
    }
    if (f.type == FieldType::kChoice) {
      html::List choices;
      for (size_t i = 0; i < f.choices.size(); ++i) {
        choices.push_back(html::Object{{"value", f.choices[i]},
                                       {"n", static_cast<int64_t>(i)},
                                       {"first", i == 0},
                                       {"field", f.id},
                                       {"checked", f.choices[i] == value}});
      }
      item["choices"] = choices;
    }
    if (auto e = errors.find(f.id); e != errors.end()) item["error"] = e->second;
    items.push_back(std::move(item));
  }
  return items;
}

std::string WhoText(std::string_view actor) {
  if (actor == "self") return "You";
  if (actor.starts_with("staff:")) return "An adviser";
  if (actor.starts_with("api-key:")) return "A partner organisation";
  return "We";
}

std::string ActionText(std::string_view action) {
  if (action == "registered") return "Created the account";
  if (action == "confirmed") return "Confirmed the email address";
  if (action == "signed_in") return "Signed in";
  if (action == "signed_out") return "Signed out";
  if (action == "details_changed") return "Changed details";
  if (action == "consent_given") return "Gave consent";
  if (action == "consent_withdrawn") return "Withdrew consent";
  if (action == "created_for_you") return "Created the account for you";
  if (action == "handed_over") return "Sent you";
  if (action == "password_set") return "Set a password";
  if (action == "downloaded") return "Downloaded your data";
  if (action == "viewed_special") return "Looked at";
  if (action == "referred") return "Referred you to us";
  if (action == "imported") return "Brought your account from";
  if (action == "told_of_referral") return "Emailed you what we hold and why";
  if (action == "referral_told") return "Told you what we hold and why";
  if (action == "linked") return "Linked your account to";
  if (action == "reset_asked") return "Asked for a link to reset your password";
  if (action == "email_change_asked") return "Asked to change your email address";
  if (action == "second_factor_on") return "Turned on security codes from an app";
  if (action == "second_factor_off") return "Turned off security codes from an app";
  if (action == "recovery_code_used") return "Signed in with a recovery code";
  return std::string(action);
}

html::List ActivityItems(const std::vector<Activity>& activity) {
  html::List rows;
  for (const auto& a : activity) {
    rows.push_back(html::Object{{"at", DateText(a.at)},
                                {"who", WhoText(a.actor)},
                                {"what", ActionText(a.action)},
                                {"detail", a.detail},
                                {"adviser", a.actor.starts_with("staff:")}});
  }
  return rows;
}

html::List ConsentItems(const Settings& settings, const std::vector<ConsentEvent>& events) {
  html::List items;
  for (const auto& box : settings.consents) {
    const ConsentEvent* last = nullptr;
    html::List history;
    for (const auto& e : events) {
      if (e.box != box.id) continue;
      last = &e;
      history.push_back(html::Object{{"text", std::string(e.given ? "Given" : "Withdrawn") + " on " + DateText(e.at) +
                                                  ": " + (e.by == "self" ? "you " : "") + e.how}});
    }
    items.push_back(html::Object{{"id", box.id},
                                 {"label", box.label},
                                 {"hint", box.hint},
                                 {"given", last != nullptr && last->given},
                                 {"history", history},
                                 {"deletes", box.delete_on_withdrawal}});
  }
  return items;
}

namespace {

class AccountsServing : public module::Serving {
 public:
  AccountsServing(module::Platform& p, std::unique_ptr<Accounts> accounts, std::unique_ptr<oidc::Client> oidc)
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
  }

  subject::SubjectData* Subjects() override { return &subjects_; }

  void AddRoutes(http::Router& router) override {
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
        "/account/details", [this](Request& req) { return WithSession(req, &AccountsServing::DetailsPage); },
        signed_in);
    router.Post(
        "/account/details", [this](Request& req) { return WithSession(req, &AccountsServing::PostDetails); },
        signed_in);
    router.Get("/account/sign-in/code", [this](Request& req) { return CodePage(req, {}, 200); }, {.blocking = true});
    router.Post(
        "/account/sign-in/code", [this](Request& req) { return PostCode(req); }, form);
    router.Get(
        "/account/security", [this](Request& req) { return WithSession(req, &AccountsServing::SecurityPage); },
        signed_in);
    router.Post(
        "/account/security/start",
        [this](Request& req) { return WithSession(req, &AccountsServing::PostSecurityStart); }, signed_in);
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
        "/account/consents", [this](Request& req) { return WithSession(req, &AccountsServing::PostConsent); },
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

  std::vector<module::StaffPage> StaffPages() override { return CustomerPages(p_, *accounts_); }

  std::vector<module::Task> Tasks() override {
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

 private:
  struct Signed {
    std::string cookie, csrf;
    Account account;
  };
  using Handler = Response (AccountsServing::*)(Request&, Signed&);

  // ---- Sessions ----------------------------------------------------------------------------------

  Response WithSession(Request& req, Handler handler) {
    auto cookies = req.Cookies();
    std::string cookie = module::Field(cookies, SessionCookieName(req.https));
    auto session = sessions_.Load(cookie);
    if (!session.ok()) return p_.pages->ErrorFor(session.error(), req);
    if (!*session) return NoStore(Response::Redirect("/account/sign-in"));
    // Signed in with the password, the code from the app still to come.
    if ((*session)->second_factor_pending) return NoStore(Response::Redirect("/account/sign-in/code"));
    auto account = accounts_->Load((*session)->staff_id);
    if (!account.ok() || account->state != "open") return NoStore(Response::Redirect("/account/sign-in"));
    Signed s{cookie, sessions_.CsrfToken(cookie), std::move(*account)};
    if (req.method == http::Method::kPost) {
      // Every form of a signed-in person carries the session's CSRF token, and comes from this site.
      auto form = req.Form();
      if (!form.ok() || !FromThisSite(req) || !sessions_.CheckCsrf(cookie, module::Field(*form, "csrf_token"))) {
        return p_.pages->ErrorPage(403, &req);
      }
    }
    return (this->*handler)(req, s);
  }

  http::SetCookie SessionCookie(const Request& req, std::string value) const {
    return http::SetCookie{.name = SessionCookieName(req.https),
                           .value = std::move(value),
                           .secure = req.https,
                           .http_only = true,
                           .same_site = http::SameSite::kLax};
  }

  bool FromThisSite(const Request& req) const {
    return http::SameOriginOrAllowed(req, p_.config.server.public_base_url, {});
  }

  Actor Self(const Request& req) const { return Actor{.id = "self", .request_id = req.request_id}; }

  html::Object Common() const {
    html::Object data{{"site", p_.config.site.name}};
    return data;
  }

  Response Render(Request& req, std::string_view tmpl, std::string title, html::Object data, const Errors& errors,
                  int status) {
    if (!errors.empty()) {
      data["errors"] = module::ErrorSummary(errors);
      for (const auto& [field, message] : errors) data[field + "_error"] = message;
      title = "Error: " + title;
    }
    return NoStore(p_.pages->Page(req, tmpl, title, std::move(data), status));
  }

  // ---- Registering -------------------------------------------------------------------------------

  Response RegisterPage(Request& req, const std::map<std::string, std::string>& values,
                        const std::set<std::string>& consents, const Errors& errors, int status) {
    return RegisterForm(req, values, consents, errors, status, "");
  }

  // `linked_email`: the address a provider confirmed, for the form after signing in there.
  Response RegisterForm(Request& req, const std::map<std::string, std::string>& values,
                        const std::set<std::string>& consents, const Errors& errors, int status,
                        const std::string& linked_email) {
    const Settings& s = accounts_->settings();
    html::Object data = Common();
    if (with_) data["provider"] = with_->settings().name;
    if (!linked_email.empty()) {
      data["linked_email"] = linked_email;
      data["action"] = "/account/register/oidc";
    } else {
      data["action"] = "/account/register";
    }
    std::map<std::string, std::string> by_field(errors.begin(), errors.end());
    data["email"] = values.count("email") ? values.at("email") : "";
    data["fields"] = FieldItems(s, values, by_field, false, true);
    html::List boxes;
    for (const auto& box : s.consents) {
      html::Object b{{"id", box.id}, {"label", box.label}, {"hint", box.hint}, {"checked", consents.count(box.id) > 0}};
      Settings only;
      for (const auto& x : s.fields) {
        if (x.consent == box.id) only.fields.push_back(x);
      }
      html::List covered = FieldItems(only, values, by_field, true, true);
      b["any_covered"] = !covered.empty();
      b["covered"] = html::Object{{"fields", std::move(covered)}};
      boxes.push_back(std::move(b));
    }
    data["consents"] = boxes;
    data["any_consents"] = !s.consents.empty();
    data["confirm_age"] = s.minimum_age > 0 && s.age_check == "confirm";
    data["minimum_age"] = s.minimum_age;
    return Render(req, "account_register", linked_email.empty() ? "Create an account" : "Finish creating your account",
                  std::move(data), errors, status);
  }

  Response PostRegister(Request& req) {
    if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
    auto form = req.Form();
    if (!form.ok()) return p_.pages->ErrorPage(400, &req);
    const Settings& s = accounts_->settings();
    // The honeypot: people never see it.
    if (!module::Field(*form, "giraffe").empty()) return CheckEmail(req);
    auto values = ReadValues(*form, s, false);
    std::string email(Trim(module::Field(*form, "email")));
    std::string password = module::Field(*form, "password");
    std::set<std::string> consents;
    for (const auto& box : module::AllFields(*form, "consents")) consents.insert(box);
    Errors errors;
    if (s.minimum_age > 0 && s.age_check == "confirm" && module::Field(*form, "age") != "yes") {
      if (module::Field(*form, "age") == "no") return TooYoung(req);
      errors.emplace_back("age", "Say whether you are " + std::to_string(s.minimum_age) + " or older");
    }
    if (email.empty()) errors.emplace_back("email", "Enter your email address");
    if (password.empty()) errors.emplace_back("password", "Enter a password");
    if (errors.empty()) {
      Status r = accounts_->Register(email, password, values, consents, Self(req));
      if (!r.ok() && r.error().code == ErrorCode::kPermissionDenied) return TooYoung(req);
      if (!r.ok() && r.error().code == ErrorCode::kInvalidArgument) {
        errors.push_back(FieldError(r.error(), "email"));
      } else if (!r.ok()) {
        log::Warn("accounts.register_failed", {{"error", r.error().message}, {"request_id", req.request_id}});
        return p_.pages->ErrorFor(r.error(), req);
      }
    }
    if (!errors.empty()) {
      values["email"] = email;
      return RegisterPage(req, values, consents, errors, 400);
    }
    return CheckEmail(req);
  }

  Response TooYoung(Request& req) {
    // Nothing the person typed is kept.
    html::Object data = Common();
    data["minimum_age"] = accounts_->settings().minimum_age;
    return Render(req, "account_too_young", "You cannot create an account", std::move(data), {}, 403);
  }

  Response CheckEmail(Request& req) {
    html::Object data = Common();
    data["hours"] = Accounts::kLinkHours;
    return Render(req, "account_check_email", "Check your email", std::move(data), {}, 200);
  }

  Response LinkProblem(Request& req, const Error& e) {
    if (e.code != ErrorCode::kNotFound) return p_.pages->ErrorFor(e, req);
    return Render(req, "account_link", "This link has expired or is not right", Common(), {}, 404);
  }

  Response Confirm(Request& req) {
    auto id = accounts_->Confirm(req.PathParam("token"));
    if (!id.ok()) return LinkProblem(req, id.error());
    html::Object data = Common();
    data["confirmed"] = true;
    return Render(req, "account_sign_in", "Your email address is confirmed: sign in", std::move(data), {}, 200);
  }

  // ---- Signing in --------------------------------------------------------------------------------

  Response SignInPage(Request& req, const std::string& email, const Errors& errors, int status) {
    html::Object data = Common();
    data["email"] = email;
    if (with_) data["provider"] = with_->settings().name;
    return Render(req, "account_sign_in", "Sign in to your account", std::move(data), errors, status);
  }

  Response PostSignIn(Request& req) {
    if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
    auto form = req.Form();
    if (!form.ok()) return p_.pages->ErrorPage(400, &req);
    std::string email(Trim(module::Field(*form, "email")));
    std::string password = module::Field(*form, "password");
    if (email.empty() || password.empty() || email.size() > 254 || password.size() > 256) {
      return SignInPage(req, email, {{"email", "Enter your email address and password"}}, 400);
    }
    auto attempt = throttle_.Begin(ToLower(email), req.client_ip ? req.client_ip->ToString() : "unknown");
    if (attempt.wait.count() > 0) {
      Response r =
          SignInPage(req, email, {{"email", "Too many attempts to sign in: wait a few minutes and try again"}}, 429);
      r.SetHeader("Retry-After", attempt.RetryAfter());
      return r;
    }
    auto id = accounts_->SignIn(email, password, Self(req));
    if (!id.ok()) {
      throttle_.Failed(attempt);
      if (id.error().code != ErrorCode::kPermissionDenied) return p_.pages->ErrorFor(id.error(), req);
      return SignInPage(req, email, {{"email", "The email address or password is not right"}}, 400);
    }
    throttle_.Succeeded(attempt);
    auto account = accounts_->Load(*id);
    if (!account.ok()) return p_.pages->ErrorFor(account.error(), req);
    return StartSession(req, *id, "", account->second_factor);
  }

  // A new session id at every sign-in: one fixed before it is worthless. `id_token`: the provider's,
  // when the person signed in there, for signing out there too.
  Response StartSession(Request& req, int64_t id, const std::string& id_token, bool pending = false) {
    auto cookies = req.Cookies();
    if (std::string old = module::Field(cookies, SessionCookieName(req.https)); !old.empty()) {
      (void)sessions_.End(old);
    }
    auto cookie = sessions_.Create(id, pending, staff::DescribeDevice(req.Header("User-Agent")));
    if (!cookie.ok()) return p_.pages->ErrorFor(cookie.error(), req);
    Response r = NoStore(Response::Redirect(pending ? "/account/sign-in/code" : "/account"));
    r.cookies.push_back(SessionCookie(req, *cookie));
    if (with_) r.cookies.push_back(id_token.empty() ? with_->Cleared(req) : with_->HintCookie(req, id, id_token));
    return r;
  }

  // ---- The second factor -------------------------------------------------------------------------

  // The session signed in with the password and waiting for the code, or null.
  std::optional<staff::Session> Pending(Request& req, std::string* cookie) {
    auto cookies = req.Cookies();
    *cookie = module::Field(cookies, SessionCookieName(req.https));
    auto session = sessions_.Load(*cookie);
    if (!session.ok() || !*session || !(*session)->second_factor_pending) return std::nullopt;
    return **session;
  }

  Response CodePage(Request& req, const Errors& errors, int status) {
    std::string cookie;
    if (!Pending(req, &cookie)) return NoStore(Response::Redirect("/account/sign-in"));
    return Render(req, "account_code", "Enter the code from your app", Common(), errors, status);
  }

  Response PostCode(Request& req) {
    if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
    std::string cookie;
    auto pending = Pending(req, &cookie);
    if (!pending) return NoStore(Response::Redirect("/account/sign-in"));
    auto form = req.Form();
    if (!form.ok()) return p_.pages->ErrorPage(400, &req);
    std::string code(Trim(module::Field(*form, "code")));
    if (code.empty() || code.size() > 32) return CodePage(req, {{"code", "Enter the code your app shows"}}, 400);
    int64_t id = pending->staff_id;
    auto attempt = throttle_.Begin("code:" + std::to_string(id), req.client_ip ? req.client_ip->ToString() : "unknown");
    if (attempt.wait.count() > 0) {
      Response r = CodePage(req, {{"code", "Too many codes tried: wait a few minutes and try again"}}, 429);
      r.SetHeader("Retry-After", attempt.RetryAfter());
      return r;
    }
    auto right = accounts_->VerifySecondFactor(id, code, Self(req));
    if (!right.ok()) return p_.pages->ErrorFor(right.error(), req);
    if (!*right) {
      throttle_.Failed(attempt);
      return CodePage(req, {{"code", "The code is not right: enter the code your app shows now, or a recovery code"}},
                      400);
    }
    throttle_.Succeeded(attempt);
    // A new session id once the second factor is passed, as at sign-in.
    return StartSession(req, id, "");
  }

  Response SecurityPage(Request& req, Signed& s) { return Security(req, s, {}, 200); }

  Response Security(Request& req, Signed& s, html::Object data, int status) {
    data["base"] = "/account/security";
    data["csrf_token"] = s.csrf;
    data["ask_password"] = s.account.has_password;
    if (!data.count("enabled")) data["enabled"] = s.account.second_factor;
    return Render(req, "admin_second_factor", "Security codes from an app", std::move(data), {}, status);
  }

  Response WithSecret(Request& req, Signed& s, const std::string& secret, const std::string& error) {
    std::string issuer = http::PercentEncode(p_.config.site.name);
    html::Object data{{"enabled", false},
                      {"secret", secret},
                      {"uri", "otpauth://totp/" + issuer + ":" + http::PercentEncode(s.account.email) +
                                  "?secret=" + secret + "&issuer=" + issuer + "&algorithm=SHA1&digits=6&period=30"}};
    if (!error.empty()) {
      data["code_error"] = error;
      data["errors"] = module::ErrorSummary({{"code", error}});
    }
    return Security(req, s, std::move(data), error.empty() ? 200 : 400);
  }

  Response PostSecurityStart(Request& req, Signed& s) {
    auto secret = accounts_->BeginSecondFactor(s.account.id, Self(req));
    if (!secret.ok()) return p_.pages->ErrorFor(secret.error(), req);
    return WithSecret(req, s, *secret, "");
  }

  Response PostSecurityConfirm(Request& req, Signed& s) {
    auto form = req.Form();
    auto codes = accounts_->ConfirmSecondFactor(s.account.id, module::Field(*form, "code"), Self(req));
    if (!codes.ok()) {
      if (codes.error().code != ErrorCode::kInvalidArgument) return p_.pages->ErrorFor(codes.error(), req);
      // The secret is kept sealed and never shown twice: a wrong code means starting again.
      auto again = accounts_->BeginSecondFactor(s.account.id, Self(req));
      if (!again.ok()) return p_.pages->ErrorFor(again.error(), req);
      return WithSecret(req, s, *again, "The code is not right. Add this new key to your app and try again");
    }
    html::List list;
    for (const auto& c : *codes) list.push_back(html::Object{{"code", c}});
    return Security(req, s, html::Object{{"enabled", true}, {"codes", module::Marked(list)}}, 200);
  }

  Response PostSecurityRemove(Request& req, Signed& s) {
    auto form = req.Form();
    if (s.account.has_password) {
      // Weakening the account needs the password again: a session left open is not enough.
      std::string password = module::Field(*form, "password");
      auto attempt = throttle_.Begin("reauth:" + std::to_string(s.account.id),
                                     req.client_ip ? req.client_ip->ToString() : "unknown");
      auto right = attempt.wait.count() > 0 || password.size() > 256 ? Result<bool>(false)
                                                                     : accounts_->PasswordIs(s.account.id, password);
      if (!right.ok()) return p_.pages->ErrorFor(right.error(), req);
      if (!*right) {
        throttle_.Failed(attempt);
        std::string error = password.empty() ? "Enter your password" : "Enter your correct password";
        return Security(
            req, s,
            html::Object{
                {"enabled", true}, {"password_error", error}, {"errors", module::ErrorSummary({{"password", error}})}},
            400);
      }
      throttle_.Succeeded(attempt);
    }
    Status removed = accounts_->RemoveSecondFactor(s.account.id, Self(req));
    if (!removed.ok()) return p_.pages->ErrorFor(removed.error(), req);
    return NoStore(Response::Redirect("/account/security"));
  }

  // ---- Signing in through the provider ([accounts.oidc]) -------------------------------------------

  Response OidcCallback(Request& req) {
    auto outcome = with_->Callback(req, Self(req));
    if (auto* r = std::get_if<Response>(&outcome)) return std::move(*r);
    const auto& done = std::get<SignInWith::SignedIn>(outcome);
    return StartSession(req, done.account, done.id_token);
  }

  // The form a person new here fills in after the provider: the site's fields and consent boxes,
  // the address the provider confirmed shown, not asked.
  Response LinkedRegisterPage(Request& req, const std::map<std::string, std::string>& values,
                              const std::set<std::string>& consents, const Errors& errors, int status) {
    auto pending = with_->PendingOf(req);
    if (!pending) return NoStore(Response::Redirect("/account/sign-in"));
    return RegisterForm(req, values, consents, errors, status, pending->email);
  }

  Response PostLinkedRegister(Request& req) {
    if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
    auto pending = with_->PendingOf(req);
    if (!pending) {
      return with_->Problem(req, "Your sign-in did not finish",
                            "It took longer than 30 minutes to fill in the form. Start again: nothing was kept.", 400);
    }
    auto form = req.Form();
    if (!form.ok()) return p_.pages->ErrorPage(400, &req);
    const Settings& s = accounts_->settings();
    auto values = ReadValues(*form, s, false);
    std::set<std::string> consents;
    for (const auto& box : module::AllFields(*form, "consents")) consents.insert(box);
    Errors errors;
    if (s.minimum_age > 0 && s.age_check == "confirm" && module::Field(*form, "age") != "yes") {
      if (module::Field(*form, "age") == "no") return TooYoung(req);
      errors.emplace_back("age", "Say whether you are " + std::to_string(s.minimum_age) + " or older");
    }
    if (errors.empty()) {
      auto id = accounts_->RegisterLinked(pending->identity, pending->email, values, consents, Self(req));
      if (!id.ok() && id.error().code == ErrorCode::kPermissionDenied) return TooYoung(req);
      if (!id.ok() && id.error().code == ErrorCode::kInvalidArgument) {
        errors.push_back(FieldError(id.error(), "details"));
      } else if (!id.ok()) {
        log::Warn("accounts.register_failed", {{"error", id.error().message}, {"request_id", req.request_id}});
        return p_.pages->ErrorFor(id.error(), req);
      } else {
        return StartSession(req, *id, pending->id_token);
      }
    }
    return LinkedRegisterPage(req, values, consents, errors, 400);
  }

  Response SignedOut(Request& req) {
    html::Object data = Common();
    if (with_) data["provider"] = with_->settings().name;
    return Render(req, "account_signed_out", "You have signed out", std::move(data), {}, 200);
  }

  Response SignOut(Request& req, Signed& s) {
    (void)accounts_->Note(s.account.id, "signed_out", "", Self(req));
    (void)sessions_.End(s.cookie);
    // Signed in at the provider too: signed out there as well (its session outlives ours).
    std::optional<std::string> hint = with_ ? with_->HintFor(req, s.account.id) : std::nullopt;
    std::string to = "/account/signed-out";
    if (hint) {
      auto url = with_->LogoutUrl(*hint);
      if (url.ok()) to = *url;
    } else if (!with_) {
      to = "/account/sign-in";
    }
    Response r = NoStore(Response::Redirect(to));
    r.cookies.push_back(http::SetCookie::Expired(SessionCookieName(req.https)));
    if (with_) r.cookies.push_back(with_->Cleared(req));
    return r;
  }

  // ---- Referrals from partner organisations -------------------------------------------------------

  static Response Json(int status, const nlohmann::json& j) {
    Response r = Response::Json(JsonText(j), status);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  // POST /api/referrals with a key of scope "referrals": {"email": "...", "details": {field: value}}.
  // The key's name is the referral source.
  Response ApiRefer(Request& req) {
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

  // ---- Setting a password from an adviser's hand-over ----------------------------------------------

  Response PasswordPage(Request& req, const Errors& errors, int status) {
    auto id = accounts_->CheckPasswordLink(req.PathParam("token"));
    if (!id.ok()) return LinkProblem(req, id.error());
    html::Object data = Common();
    data["token"] = std::string(req.PathParam("token"));
    return Render(req, "account_password", "Choose a password", std::move(data), errors, status);
  }

  // ---- A forgotten password ----------------------------------------------------------------------

  Response ResetPage(Request& req, const std::string& email, const Errors& errors, int status) {
    html::Object data = Common();
    data["email"] = email;
    return Render(req, "account_password_reset", "Reset your password", std::move(data), errors, status);
  }

  Response PostReset(Request& req) {
    if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
    auto form = req.Form();
    if (!form.ok()) return p_.pages->ErrorPage(400, &req);
    std::string email(Trim(module::Field(*form, "email")));
    if (email.empty()) return ResetPage(req, email, {{"email", "Enter your email address"}}, 400);
    if (email.size() > 254)
      return ResetPage(req, "", {{"email", "Enter an email address of 254 characters or fewer"}}, 400);
    Status asked = accounts_->RequestPasswordReset(email, Self(req));
    if (!asked.ok() && asked.error().code == ErrorCode::kInvalidArgument) {
      return ResetPage(req, email, {FieldError(asked.error(), "email")}, 400);
    }
    if (!asked.ok()) return p_.pages->ErrorFor(asked.error(), req);
    // The same page whether or not the address has an account.
    html::Object data = Common();
    data["reset"] = true;
    data["hours"] = Accounts::kResetHours;
    return Render(req, "account_check_email", "Check your email", std::move(data), {}, 200);
  }

  Response PostPassword(Request& req) {
    if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
    auto form = req.Form();
    if (!form.ok()) return p_.pages->ErrorPage(400, &req);
    std::string password = module::Field(*form, "password");
    if (password.empty()) return PasswordPage(req, {{"password", "Enter a password"}}, 400);
    auto id = accounts_->SetPasswordByLink(req.PathParam("token"), password);
    if (!id.ok() && id.error().code == ErrorCode::kInvalidArgument) {
      return PasswordPage(req, {FieldError(id.error(), "password")}, 400);
    }
    if (!id.ok()) return LinkProblem(req, id.error());
    return SignInPage(req, "", {}, 200);
  }

  // ---- Your account ------------------------------------------------------------------------------

  Response Home(Request& req, Signed& s) { return HomeWith(req, s, ""); }

  Response HomeWith(Request& req, Signed& s, const std::string& notice) {
    const Settings& settings = accounts_->settings();
    html::Object data = Common();
    data["csrf_token"] = s.csrf;
    data["email"] = s.account.email;
    if (!notice.empty()) data["notice"] = notice;
    html::List details;
    for (const auto& f : settings.fields) {
      auto v = s.account.values.find(f.id);
      if (v == s.account.values.end()) continue;
      std::string value = f.type == FieldType::kDate ? DateText(v->second) : v->second;
      details.push_back(html::Object{{"label", f.label}, {"value", value}});
    }
    data["details"] = details;
    auto events = accounts_->Consents(s.account.id);
    if (!events.ok()) return p_.pages->ErrorFor(events.error(), req);
    data["consents"] = ConsentItems(settings, *events);
    data["any_consents"] = !settings.consents.empty();
    auto activity = accounts_->ActivityOf(s.account.id, 50);
    if (!activity.ok()) return p_.pages->ErrorFor(activity.error(), req);
    data["activity"] = ActivityItems(*activity);
    data["created"] = DateText(s.account.created_at);
    data["second_factor"] = s.account.second_factor;
    if (with_) {
      auto since = accounts_->LinkedSince(s.account.id);
      if (!since.ok()) return p_.pages->ErrorFor(since.error(), req);
      if (!since->empty()) {
        data["provider"] = with_->settings().name;
        data["linked_since"] = DateText(*since);
      }
    }
    Response r = Render(req, "account", "Your account", std::move(data), {}, 200);
    if (with_) r.SetHeader("Content-Security-Policy", with_->SignOutPolicy());
    return r;
  }

  Response DetailsPage(Request& req, Signed& s) { return Details(req, s, s.account.values, {}, 200); }

  Response Details(Request& req, Signed& s, const std::map<std::string, std::string>& values, const Errors& errors,
                   int status) {
    const Settings& settings = accounts_->settings();
    html::Object data = Common();
    data["csrf_token"] = s.csrf;
    std::map<std::string, std::string> by_field(errors.begin(), errors.end());
    auto now = accounts_->ConsentsNow(s.account.id);
    if (!now.ok()) return p_.pages->ErrorFor(now.error(), req);
    html::List fields = FieldItems(settings, values, by_field, false, true);
    // Fields given under a consent are shown while it stands.
    for (const auto& box : settings.consents) {
      if (!(*now)[box.id]) continue;
      Settings only;
      for (const auto& f : settings.fields) {
        if (f.consent == box.id) only.fields.push_back(f);
      }
      for (auto& item : FieldItems(only, values, by_field, true, true)) fields.push_back(std::move(item));
    }
    data["fields"] = fields;
    return Render(req, "account_details", "Change your details", std::move(data), errors, status);
  }

  Response PostDetails(Request& req, Signed& s) {
    auto form = req.Form();
    auto values = ReadValues(*form, accounts_->settings(), true);
    Status updated = accounts_->Update(s.account.id, values, Self(req));
    if (!updated.ok() && updated.error().code == ErrorCode::kInvalidArgument) {
      return Details(req, s, values, {FieldError(updated.error(), "details")}, 400);
    }
    if (!updated.ok()) return p_.pages->ErrorFor(updated.error(), req);
    auto fresh = accounts_->Load(s.account.id);
    if (!fresh.ok()) return p_.pages->ErrorFor(fresh.error(), req);
    s.account = std::move(*fresh);
    return HomeWith(req, s, "Your details are updated");
  }

  // ---- Changing the email address ------------------------------------------------------------------

  Response EmailPage(Request& req, Signed& s) { return EmailForm(req, s, "", {}, 200); }

  Response EmailForm(Request& req, Signed& s, const std::string& email, const Errors& errors, int status) {
    html::Object data = Common();
    data["csrf_token"] = s.csrf;
    data["current"] = s.account.email;
    data["email"] = email;
    data["has_password"] = s.account.has_password;
    return Render(req, "account_email", "Change your email address", std::move(data), errors, status);
  }

  Response PostEmail(Request& req, Signed& s) {
    auto form = req.Form();
    std::string email(Trim(module::Field(*form, "email")));
    std::string password = module::Field(*form, "password");
    Errors errors;
    if (email.empty()) errors.emplace_back("email", "Enter your new email address");
    if (email.size() > 254) errors.emplace_back("email", "Enter an email address of 254 characters or fewer");
    if (s.account.has_password && password.empty()) errors.emplace_back("password", "Enter your password");
    if (password.size() > 256) errors.emplace_back("password", "Your password is not right");
    if (errors.empty()) {
      Status asked = accounts_->AskEmailChange(s.account.id, email, password, Self(req));
      if (!asked.ok() && asked.error().code == ErrorCode::kInvalidArgument) {
        errors.push_back(FieldError(asked.error(), "email"));
      } else if (!asked.ok()) {
        return p_.pages->ErrorFor(asked.error(), req);
      }
    }
    if (!errors.empty()) return EmailForm(req, s, email, errors, 400);
    html::Object data = Common();
    data["email_change"] = true;
    data["to"] = email;
    data["hours"] = Accounts::kLinkHours;
    return Render(req, "account_check_email", "Check your email", std::move(data), {}, 200);
  }

  Response ConfirmEmail(Request& req) {
    auto id = accounts_->ConfirmEmailChange(req.PathParam("token"));
    if (!id.ok() && id.error().code == ErrorCode::kAlreadyExists) {
      html::Object data = Common();
      data["taken"] = true;
      return Render(req, "account_link", "This address has an account already", std::move(data), {}, 409);
    }
    if (!id.ok()) return LinkProblem(req, id.error());
    html::Object data = Common();
    data["email_changed"] = true;
    return Render(req, "account_sign_in", "Your email address is changed: sign in", std::move(data), {}, 200);
  }

  Response PostConsent(Request& req, Signed& s) {
    auto form = req.Form();
    std::string box = module::Field(*form, "box");
    std::string action = module::Field(*form, "action");
    if (action != "give" && action != "withdraw") return p_.pages->ErrorPage(400, &req);
    bool give = action == "give";
    Status set = accounts_->SetConsent(
        s.account.id, box, give, give ? "ticked the box in your account" : "withdrew it in your account", Self(req));
    if (!set.ok() && set.error().code == ErrorCode::kInvalidArgument) return p_.pages->ErrorPage(400, &req);
    if (!set.ok()) return p_.pages->ErrorFor(set.error(), req);
    auto fresh = accounts_->Load(s.account.id);
    if (!fresh.ok()) return p_.pages->ErrorFor(fresh.error(), req);
    s.account = std::move(*fresh);
    return HomeWith(req, s, give ? "You have given your consent" : "You have withdrawn your consent");
  }

  Response Download(Request& req, Signed& s) {
    auto query = req.Query();
    std::string format = query.ok() ? module::Field(*query, "format") : "";
    if (format != "json" && format != "csv") return p_.pages->ErrorPage(400, &req);
    auto key = subject::Key::Make(subject::KeyKind::kAccountId, "accounts:" + std::to_string(s.account.id));
    if (!key.ok()) return p_.pages->ErrorFor(key.error(), req);
    // Privacy: the person's own data, exported for them (the subject-data contract's export).
    auto records = subjects_.Export(*key);
    if (!records.ok()) return p_.pages->ErrorFor(records.error(), req);
    (void)accounts_->Note(s.account.id, "downloaded", format == "json" ? "as JSON" : "as CSV", Self(req));
    Response r;
    if (format == "json") {
      nlohmann::json out = {{"site", p_.config.site.name}, {"records", nlohmann::json::array()}};
      for (const auto& rec : *records) {
        nlohmann::json fields = nlohmann::json::array();
        for (const auto& f : rec.fields)
          fields.push_back({{"category", f.category}, {"name", f.name}, {"value", f.value}});
        out["records"].push_back({{"dataset", rec.dataset}, {"collected_at", rec.collected_at}, {"fields", fields}});
      }
      r = Response::Json(JsonText(out, 2) + "\n");
      r.SetHeader("Content-Disposition", "attachment; filename=\"your-account.json\"");
    } else {
      std::string csv = "dataset,collected_at,category,name,value\r\n";
      for (const auto& rec : *records) {
        for (const auto& f : rec.fields) {
          csv += CsvField(rec.dataset) + "," + CsvField(rec.collected_at) + "," + CsvField(f.category) + "," +
                 CsvField(f.name) + "," + CsvField(f.value) + "\r\n";
        }
      }
      r = Response::Text(std::move(csv));
      r.SetHeader("Content-Type", "text/csv; charset=utf-8");
      r.SetHeader("Content-Disposition", "attachment; filename=\"your-account.csv\"");
    }
    return NoStore(std::move(r));
  }

  Response ClosePage(Request& req, Signed& s) {
    const Settings& settings = accounts_->settings();
    html::Object data = Common();
    data["csrf_token"] = s.csrf;
    std::string kept;
    for (const auto& id : settings.closure_keep) {
      if (const Field* f = settings.FindField(id)) kept += (kept.empty() ? "" : ", ") + ToLower(f->label);
    }
    if (settings.closure_period && !kept.empty()) {
      data["kept"] = kept;
      data["kept_for"] = settings.closure_period->text;
      data["kept_why"] = settings.closure_why;
    }
    return Render(req, "account_close", "Close your account", std::move(data), {}, 200);
  }

  Response PostClose(Request& req, Signed& s) {
    auto until = accounts_->Close(s.account.id, Self(req));
    if (!until.ok()) return p_.pages->ErrorFor(until.error(), req);
    html::Object data = Common();
    if (!until->empty()) data["kept_until"] = DateText(until->substr(0, 10));
    Response r = Render(req, "account_closed", "Your account is closed", std::move(data), {}, 200);
    r.cookies.push_back(http::SetCookie::Expired(SessionCookieName(req.https)));
    return r;
  }

  module::Platform& p_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<SignInWith> with_;  // null without [accounts.oidc]
  staff::Sessions sessions_;
  staff::SignInThrottle throttle_;
  analytics::ApiKeys* keys_;
  AccountSubjects subjects_;
};

}  // namespace

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
