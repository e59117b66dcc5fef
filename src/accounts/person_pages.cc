#include <nlohmann/json.hpp>

#include <cstdio>

#include "accounts/serving.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/strings.h"
#include "http/origin.h"
#include "site/pages.h"
#include "staff/accounts.h"

namespace steward::accounts {

using http::Response;
using module::FieldError;

Response NoStore(Response r) {
  r.SetHeader("Cache-Control", "no-store");
  // Links in the address carry one-time tokens: no other site is told them. (Not "no-referrer":
  // a browser then sends "Origin: null" with the page's own forms.)
  r.SetHeader("Referrer-Policy", "same-origin");
  return r;
}

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
  if (action == "consent_declined") return "Said no";
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

// ---- Sessions ----------------------------------------------------------------------------------

Response AccountsServing::WithSession(Request& req, Handler handler) {
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

std::optional<module::SignedInPerson> AccountsServing::SignedIn(const http::Request& req) {
  auto cookies = req.Cookies();
  std::string cookie = module::Field(cookies, SessionCookieName(req.https));
  if (cookie.empty()) return std::nullopt;
  auto session = sessions_.Load(cookie);
  if (!session.ok() || !*session || (*session)->second_factor_pending) return std::nullopt;
  // Privacy: accounts: the holder's address and name, for the page they are on.
  auto account = accounts_->Load((*session)->staff_id);
  if (!account.ok() || account->state != "open") return std::nullopt;
  auto key = subject::Key::Make(subject::KeyKind::kAccountId, "accounts:" + std::to_string(account->id));
  if (!key.ok()) return std::nullopt;
  module::SignedInPerson out{.account = *key, .email = account->email, .csrf = sessions_.CsrfToken(cookie)};
  for (const auto& f : accounts_->settings().fields) {
    auto value = account->values.find(f.id);
    if (f.category == "user.contact.name" && value != account->values.end() && out.name.empty())
      out.name = value->second;
  }
  return out;
}

bool AccountsServing::CheckCsrf(const http::Request& req, std::string_view token) {
  auto cookies = req.Cookies();
  return sessions_.CheckCsrf(module::Field(cookies, SessionCookieName(req.https)), token);
}

http::SetCookie AccountsServing::SessionCookie(const Request& req, std::string value) const {
  return http::SetCookie{.name = SessionCookieName(req.https),
                         .value = std::move(value),
                         .secure = req.https,
                         .http_only = true,
                         .same_site = http::SameSite::kLax};
}

bool AccountsServing::FromThisSite(const Request& req) const {
  return http::SameOriginOrAllowed(req, p_.config.server.public_base_url, {});
}

Actor AccountsServing::Self(const Request& req) const { return Actor{.id = "self", .request_id = req.request_id}; }

html::Object AccountsServing::Common() const {
  html::Object data{{"site", p_.config.site.name}};
  return data;
}

Response AccountsServing::Render(Request& req, std::string_view tmpl, std::string title, html::Object data,
                                 const Errors& errors, int status) {
  if (!errors.empty()) {
    data["errors"] = module::ErrorSummary(errors);
    for (const auto& [field, message] : errors) data[field + "_error"] = message;
    title = "Error: " + title;
  }
  return NoStore(p_.pages->Page(req, tmpl, title, std::move(data), status));
}

// ---- Registering -------------------------------------------------------------------------------

Response AccountsServing::RegisterPage(Request& req, const std::map<std::string, std::string>& values,
                                       const std::set<std::string>& consents, const Errors& errors, int status) {
  return RegisterForm(req, values, consents, errors, status, "");
}

// `linked_email`: the address a provider confirmed, for the form after signing in there.
Response AccountsServing::RegisterForm(Request& req, const std::map<std::string, std::string>& values,
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

Response AccountsServing::PostRegister(Request& req) {
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

Response AccountsServing::TooYoung(Request& req) {
  // Nothing the person typed is kept.
  html::Object data = Common();
  data["minimum_age"] = accounts_->settings().minimum_age;
  return Render(req, "account_too_young", "You cannot create an account", std::move(data), {}, 403);
}

Response AccountsServing::CheckEmail(Request& req) {
  html::Object data = Common();
  data["hours"] = Accounts::kLinkHours;
  return Render(req, "account_check_email", "Check your email", std::move(data), {}, 200);
}

Response AccountsServing::LinkProblem(Request& req, const Error& e) {
  if (e.code != ErrorCode::kNotFound) return p_.pages->ErrorFor(e, req);
  return Render(req, "account_link", "This link has expired or is not right", Common(), {}, 404);
}

Response AccountsServing::Confirm(Request& req) {
  auto id = accounts_->Confirm(req.PathParam("token"));
  if (!id.ok()) return LinkProblem(req, id.error());
  html::Object data = Common();
  data["confirmed"] = true;
  return Render(req, "account_sign_in", "Your email address is confirmed: sign in", std::move(data), {}, 200);
}

// ---- Signing in --------------------------------------------------------------------------------

Response AccountsServing::SignInPage(Request& req, const std::string& email, const Errors& errors, int status) {
  html::Object data = Common();
  data["email"] = email;
  if (with_) data["provider"] = with_->settings().name;
  return Render(req, "account_sign_in", "Sign in to your account", std::move(data), errors, status);
}

Response AccountsServing::PostSignIn(Request& req) {
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
Response AccountsServing::StartSession(Request& req, int64_t id, const std::string& id_token, bool pending) {
  auto cookies = req.Cookies();
  if (std::string old = module::Field(cookies, SessionCookieName(req.https)); !old.empty()) {
    (void)sessions_.End(old);
  }
  auto cookie = sessions_.Create(id, pending, staff::DescribeDevice(req.Header("User-Agent")));
  if (!cookie.ok()) return p_.pages->ErrorFor(cookie.error(), req);
  // A purpose resting on consent that came into the notice since the account was made is asked
  // about at once.
  std::string next = pending ? "/account/sign-in/code" : "/account";
  if (!pending) {
    if (auto account = accounts_->Load(id); account.ok() && !NewBoxes(*account).empty()) next = "/account/new-consents";
  }
  Response r = NoStore(Response::Redirect(next));
  r.cookies.push_back(SessionCookie(req, *cookie));
  if (with_) r.cookies.push_back(id_token.empty() ? with_->Cleared(req) : with_->HintCookie(req, id, id_token));
  return r;
}

// ---- Signing in through the provider ([accounts.oidc]) -------------------------------------------

Response AccountsServing::OidcCallback(Request& req) {
  auto outcome = with_->Callback(req, Self(req));
  if (auto* r = std::get_if<Response>(&outcome)) return std::move(*r);
  const auto& done = std::get<SignInWith::SignedIn>(outcome);
  return StartSession(req, done.account, done.id_token);
}

// The form a person new here fills in after the provider: the site's fields and consent boxes,
// the address the provider confirmed shown, not asked.
Response AccountsServing::LinkedRegisterPage(Request& req, const std::map<std::string, std::string>& values,
                                             const std::set<std::string>& consents, const Errors& errors, int status) {
  auto pending = with_->PendingOf(req);
  if (!pending) return NoStore(Response::Redirect("/account/sign-in"));
  return RegisterForm(req, values, consents, errors, status, pending->email);
}

Response AccountsServing::PostLinkedRegister(Request& req) {
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

Response AccountsServing::SignedOut(Request& req) {
  html::Object data = Common();
  if (with_) data["provider"] = with_->settings().name;
  return Render(req, "account_signed_out", "You have signed out", std::move(data), {}, 200);
}

Response AccountsServing::SignOut(Request& req, Signed& s) {
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

// ---- Your account ------------------------------------------------------------------------------

Response AccountsServing::Home(Request& req, Signed& s) { return HomeWith(req, s, ""); }

Response AccountsServing::HomeWith(Request& req, Signed& s, const std::string& notice) {
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

Response AccountsServing::DetailsPage(Request& req, Signed& s) { return Details(req, s, s.account.values, {}, 200); }

Response AccountsServing::Details(Request& req, Signed& s, const std::map<std::string, std::string>& values,
                                  const Errors& errors, int status) {
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

Response AccountsServing::PostDetails(Request& req, Signed& s) {
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

Response AccountsServing::PostConsent(Request& req, Signed& s) {
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

Response AccountsServing::Download(Request& req, Signed& s) {
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

Response AccountsServing::ClosePage(Request& req, Signed& s) {
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

Response AccountsServing::PostClose(Request& req, Signed& s) {
  auto until = accounts_->Close(s.account.id, Self(req));
  if (!until.ok()) return p_.pages->ErrorFor(until.error(), req);
  html::Object data = Common();
  if (!until->empty()) data["kept_until"] = DateText(until->substr(0, 10));
  Response r = Render(req, "account_closed", "Your account is closed", std::move(data), {}, 200);
  r.cookies.push_back(http::SetCookie::Expired(SessionCookieName(req.https)));
  return r;
}

}  // namespace steward::accounts
