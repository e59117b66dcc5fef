#include "admin/shell.h"

#include <algorithm>
#include <map>
#include <memory>

#include "core/log.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "html/template.h"

namespace steward::admin {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::Field;
using staff::Permission;

// The pre-session cookie, with the __Host- prefix over https (as the session cookie has).
std::string PresessionCookieName(bool https) { return https ? "__Host-steward_presession" : "steward_presession"; }
constexpr http::RouteOptions kBlocking{.blocking = true};

std::string CookieValue(const Request& req, std::string_view name) {
  for (const auto& [k, v] : req.Cookies()) {
    if (k == name) return v;
  }
  return {};
}

// Only a path on the staff pages: never another site, never a protocol-relative URL.
std::string SafeNext(const std::string& next) {
  if (!next.starts_with("/admin") || next.find("//") != std::string::npos || next.find('\\') != std::string::npos ||
      next.starts_with("/admin/login") || next.starts_with("/admin/logout")) {
    return "/admin";
  }
  return next;
}

std::string StaffId(int64_t id) { return "staff:" + std::to_string(id); }

}  // namespace

const std::vector<std::pair<http::Method, std::string_view>>& OpenRoutes() {
  static const std::vector<std::pair<http::Method, std::string_view>> kRoutes = {
      {Method::kGet, "/admin/login"},         {Method::kPost, "/admin/login"},
      {Method::kGet, "/admin/login/code"},    {Method::kPost, "/admin/login/code"},
      {Method::kGet, "/admin/setup/{token}"}, {Method::kPost, "/admin/setup/{token}"},
  };
  return kRoutes;
}

std::string SessionCookieName(bool https) { return https ? "__Host-steward_staff" : "steward_staff"; }

std::vector<std::string> StaffCookieNames(bool https) {
  return {SessionCookieName(https), PresessionCookieName(https)};
}

std::string SetupLink(const std::string& base_url, const std::string& token) {
  return base_url + "/admin/setup/" + token;
}

std::vector<module::StaffPage> Shell::OwnPages() {
  auto bind = [self = shared_from_this()](Response (Shell::*handler)(Request&, module::StaffContext&)) {
    return [self, handler](Request& req, module::StaffContext& ctx) { return ((*self).*handler)(req, ctx); };
  };
  return {
      {.method = Method::kGet, .pattern = "/admin", .handler = bind(&Shell::Home), .nav_title = "Home", .nav_order = 0},
      {.method = Method::kPost, .pattern = "/admin/logout", .handler = bind(&Shell::Logout)},
      {.method = Method::kGet,
       .pattern = "/admin/sessions",
       .handler = bind(&Shell::SessionsPage),
       .nav_title = "Your sessions",
       .nav_text = "Where you are signed in, and ending sessions you do not recognise.",
       .nav_order = 90},
      {.method = Method::kPost, .pattern = "/admin/sessions/{handle}/end", .handler = bind(&Shell::EndSession)},
      {.method = Method::kGet,
       .pattern = "/admin/account/second-factor",
       .handler = bind(&Shell::SecondFactorPage),
       .nav_title = "Security codes",
       .nav_text = "Your security codes.",
       .nav_order = 91},
      {.method = Method::kPost,
       .pattern = "/admin/account/second-factor/start",
       .handler = bind(&Shell::SecondFactorStart)},
      {.method = Method::kPost,
       .pattern = "/admin/account/second-factor/confirm",
       .handler = bind(&Shell::SecondFactorConfirm)},
      {.method = Method::kPost,
       .pattern = "/admin/account/second-factor/remove",
       .handler = bind(&Shell::SecondFactorRemove)},
  };
}

void Shell::AddRoutes(http::Router& router, std::vector<module::StaffPage> pages) {
  // Open routes: no session yet.
  auto self = shared_from_this();
  // Posts anyone may make are limited per client, before any password is hashed.
  const http::RouteOptions anonymous{.blocking = true, .anonymous_write = http::RouteOptions::Anonymous::kForm};
  router.Get(
      "/admin/login", [self](Request& r) { return self->LoginPage(r); }, kBlocking);
  router.Post(
      "/admin/login", [self](Request& r) { return self->LoginSubmit(r); }, anonymous);
  router.Get(
      "/admin/login/code", [self](Request& r) { return self->CodePage(r); }, kBlocking);
  router.Post(
      "/admin/login/code", [self](Request& r) { return self->CodeSubmit(r); }, anonymous);
  router.Get(
      "/admin/setup/{token}", [self](Request& r) { return self->SetupPage(r); }, kBlocking);
  router.Post(
      "/admin/setup/{token}", [self](Request& r) { return self->SetupSubmit(r); }, anonymous);

  pages_ = OwnPages();
  for (auto& p : pages) pages_.push_back(std::move(p));
  std::stable_sort(pages_.begin(), pages_.end(),
                   [](const module::StaffPage& a, const module::StaffPage& b) { return a.nav_order < b.nav_order; });
  for (const module::StaffPage& page : pages_) {
    STEWARD_CHECK(page.handler != nullptr, "a staff page needs a handler");
    STEWARD_CHECK(page.pattern.starts_with("/admin"), "staff pages live under /admin");
    router.Add(
        page.method, page.pattern,
        [self, permission = page.permission, handler = page.handler](Request& req) {
          return self->Guard(req, permission, handler);
        },
        kBlocking);
  }
  // The router holds the handlers; the shell keeps only what the navigation needs (a handler kept
  // here would hold the shell that holds it).
  for (module::StaffPage& page : pages_) page.handler = nullptr;
}

// The one place staff requests are checked: session, second factor, permission, CSRF.
Response Shell::Guard(Request& req, Permission permission, const module::StaffHandler& handler) {
  module::StaffContext ctx;
  ctx.layout = this;
  ctx.cookie = CookieValue(req, SessionCookieName(req.https));
  auto session = d_.sessions.Load(ctx.cookie);
  if (!session.ok()) return d_.pages.ErrorFor(session.error(), req);
  if (!*session) {
    std::string next = req.method == Method::kGet ? "?next=" + http::PercentEncode(req.target) : "";
    return Response::Redirect("/admin/login" + next);
  }
  if ((*session)->second_factor_pending) return Response::Redirect("/admin/login/code");
  auto me = d_.accounts.Find((*session)->staff_id);
  if (!me.ok() || me->disabled) {
    (void)d_.sessions.End(ctx.cookie);
    return Response::Redirect("/admin/login");
  }
  ctx.me = std::move(*me);
  ctx.session = std::move(**session);
  ctx.csrf = d_.sessions.CsrfToken(ctx.cookie);
  ctx.actor = {StaffId(ctx.me.id), req.request_id};
  if (!staff::AnyGrants(ctx.me.roles, permission)) {
    if (Status s = d_.trail.Append({.actor = ctx.actor.id,
                                    .action = "access.denied",
                                    .target = req.route,
                                    .outcome = "denied",
                                    .request_id = req.request_id,
                                    .details = {{"needs", std::string(staff::PermissionName(permission))}}});
        !s.ok()) {
      return d_.pages.ErrorFor(s.error(), req);
    }
    return d_.pages.ErrorPage(403, &req);
  }
  if (req.method != Method::kGet && req.method != Method::kHead) {
    auto form = req.Form();
    if (!form.ok()) return d_.pages.ErrorPage(400, &req);
    if (!d_.sessions.CheckCsrf(ctx.cookie, Field(*form, "csrf_token"))) {
      if (Status s = d_.trail.Append({.actor = ctx.actor.id,
                                      .action = "csrf.rejected",
                                      .target = req.route,
                                      .outcome = "denied",
                                      .request_id = req.request_id});
          !s.ok()) {
        return d_.pages.ErrorFor(s.error(), req);
      }
      return d_.pages.ErrorPage(403, &req);
    }
    ctx.form = std::move(*form);
  }
  return handler(req, ctx);
}

Response Shell::Page(const Request& req, const module::StaffContext& ctx, std::string_view tmpl, std::string_view title,
                     html::Object data, std::string_view current, int status) const {
  data["csrf_token"] = ctx.csrf;
  html::List nav;
  for (const module::StaffPage& p : pages_) {
    if (p.nav_title.empty() || p.method != Method::kGet || !staff::AnyGrants(ctx.me.roles, p.permission)) continue;
    nav.push_back(html::Object{{"href", p.pattern}, {"text", p.nav_title}, {"current", p.pattern == current}});
  }
  html::Object admin{{"email", ctx.me.email}, {"csrf_token", ctx.csrf}, {"nav", nav}};
  auto page = d_.pages.Render(tmpl, title, std::move(data), html::Object{{"admin", admin}});
  if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
  return Response::Html(std::move(*page), status);
}

Response Shell::Error(int status, const Request& req) const { return d_.pages.ErrorPage(status, &req); }

Response Shell::ErrorFor(const steward::Error& error, const Request& req) const {
  return d_.pages.ErrorFor(error, req);
}

// The pre-session cookie: "<32 hex random>.<issued, Unix seconds>.<32 hex MAC of both>". The MAC
// makes the time Steward's own, so a form's CSRF token is good for two hours, not for ever.
constexpr int64_t kPresessionSeconds = int64_t{2} * 3600;

std::string Shell::PresessionMac(std::string_view nonce_and_time) const {
  return d_.sessions.CsrfToken("presession:" + std::string(nonce_and_time)).substr(0, 32);
}

std::string Shell::NewPresession() const {
  std::string body = crypto::RandomHex(16) + "." + std::to_string((UnixMillis(d_.clock.Now()) / 1000));
  return body + "." + PresessionMac(body);
}

std::optional<int64_t> Shell::PresessionAge(std::string_view cookie) const {
  if (cookie.size() < 34 + 33 || cookie.size() > 34 + 20 + 33) return std::nullopt;
  size_t dot = cookie.rfind('.');
  std::string_view body = cookie.substr(0, dot), mac = cookie.substr(dot + 1);
  if (body.size() < 34 || body[32] != '.' || !crypto::ConstantTimeEquals(PresessionMac(body), mac)) {
    return std::nullopt;
  }
  auto issued = ParseUint(body.substr(33));
  if (!issued) return std::nullopt;
  int64_t age = (UnixMillis(d_.clock.Now()) / 1000) - static_cast<int64_t>(*issued);
  if (age < 0 || age > kPresessionSeconds) return std::nullopt;
  return age;
}

// A page for someone not signed in (sign-in, set-up), with a pre-session CSRF token.
Response Shell::OpenPage(Request& req, std::string_view tmpl, std::string_view title, html::Object data, int status) {
  std::string pre = CookieValue(req, PresessionCookieName(req.https));
  // A page shown always leaves at least an hour to send its form.
  auto age = PresessionAge(pre);
  bool fresh = !age || *age > kPresessionSeconds / 2;
  if (fresh) pre = NewPresession();
  data["csrf_token"] = d_.sessions.CsrfToken("pre:" + pre);
  auto page = d_.pages.Render(tmpl, title, std::move(data));
  if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
  Response r = Response::Html(std::move(*page), status);
  if (fresh) {
    r.cookies.push_back(http::SetCookie{.name = PresessionCookieName(req.https),
                                        .value = pre,
                                        .max_age_seconds = kPresessionSeconds,
                                        .secure = req.https,
                                        .http_only = true,
                                        .same_site = http::SameSite::kStrict});
  }
  return r;
}

bool Shell::PresessionCsrfOk(const Request& req, const http::Params& form) {
  std::string pre = CookieValue(req, PresessionCookieName(req.https));
  return PresessionAge(pre).has_value() && d_.sessions.CheckCsrf("pre:" + pre, Field(form, "csrf_token"));
}

http::SetCookie Shell::SessionCookie(const Request& req, std::string value) {
  return http::SetCookie{.name = SessionCookieName(req.https),
                         .value = std::move(value),
                         .secure = req.https,
                         .http_only = true,
                         .same_site = http::SameSite::kStrict};
}

staff::Client Shell::ClientKey(const Request& req) {
  // Privacy: the client's address is reduced to keyed hashes here, for throttling only: the
  // address, and for IPv6 the /64 it holds (which can change the rest at will).
  if (!req.client_ip) return staff::Client(d_.accounts.Pseudonym("unknown"));
  const IpAddress& ip = *req.client_ip;
  if (ip.is_v4()) return staff::Client(d_.accounts.Pseudonym(ip.bytes()));
  return staff::Client(d_.accounts.Pseudonym(ip.bytes()), d_.accounts.Pseudonym(ip.ClientNetwork()));
}

http::Response Shell::LoginPage(http::Request& req) {
  auto query = req.Query();
  http::Params q = query.ok() ? *query : http::Params{};
  html::Object data{{"next", SafeNext(Field(q, "next"))}};
  if (http::Find(q, "signed_out")) data["notice"] = "You have signed out.";
  if (http::Find(q, "setup")) data["notice"] = "Your password is saved. You can now sign in.";
  return OpenPage(req, "admin_login", "Sign in", std::move(data));
}

http::Response Shell::LoginSubmit(http::Request& req) {
  auto form = req.Form();
  if (!form.ok()) return d_.pages.ErrorPage(400, &req);
  if (!PresessionCsrfOk(req, *form)) return d_.pages.ErrorPage(403, &req);
  std::string email = std::string(Trim(Field(*form, "email")));
  std::string password = Field(*form, "password");
  std::string next = SafeNext(Field(*form, "next"));
  std::vector<std::pair<std::string, std::string>> errors;
  html::Object data{{"email", email}, {"next", next}};
  if (email.empty()) {
    errors.emplace_back("email", "Enter your email address");
    data["email_error"] = "Enter your email address";
  }
  if (password.empty()) {
    errors.emplace_back("password", "Enter your password");
    data["password_error"] = "Enter your password";
  }
  if (errors.empty()) {
    auto result = d_.accounts.SignIn(email, password, ClientKey(req), {"anonymous", req.request_id});
    if (!result.ok()) return d_.pages.ErrorFor(result.error(), req);
    if (result->outcome == staff::SignInOutcome::kOk) {
      std::string old = CookieValue(req, SessionCookieName(req.https));
      if (!old.empty()) (void)d_.sessions.End(old);  // never carry a session across a sign-in
      auto cookie =
          d_.sessions.Create(result->staff->id, result->second_factor, staff::DescribeDevice(req.Header("User-Agent")));
      if (!cookie.ok()) return d_.pages.ErrorFor(cookie.error(), req);
      Response r = Response::Redirect(result->second_factor ? "/admin/login/code" : next);
      r.cookies.push_back(SessionCookie(req, *cookie));
      return r;
    }
    std::string message = "Enter a correct email address and password";
    if (result->outcome == staff::SignInOutcome::kThrottled) {
      auto minutes = std::chrono::duration_cast<std::chrono::minutes>(result->wait).count();
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(result->wait).count();
      message = "You have tried to sign in too many times. Wait " +
                (minutes >= 1 ? std::to_string(minutes + 1) + " minutes" : std::to_string(seconds + 1) + " seconds") +
                " and try again";
    }
    errors.emplace_back("email", message);
    data["email_error"] = message;
  }
  data["errors"] = module::ErrorSummary(errors);
  return OpenPage(req, "admin_login", "Sign in", std::move(data), 200);
}

// The session waiting for its second factor, if the cookie names one.
std::optional<staff::Session> Shell::PendingSession(const http::Request& req, std::string& cookie) {
  cookie = CookieValue(req, SessionCookieName(req.https));
  auto s = d_.sessions.Load(cookie);
  if (!s.ok() || !*s || !(*s)->second_factor_pending) return std::nullopt;
  return **s;
}

http::Response Shell::CodePage(http::Request& req) {
  std::string cookie;
  if (!PendingSession(req, cookie)) return Response::Redirect("/admin/login");
  auto page = d_.pages.Render("admin_code", "Enter your security code",
                              html::Object{{"csrf_token", d_.sessions.CsrfToken(cookie)}});
  if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
  return Response::Html(std::move(*page));
}

http::Response Shell::CodeSubmit(http::Request& req) {
  std::string cookie;
  auto pending = PendingSession(req, cookie);
  if (!pending) return Response::Redirect("/admin/login");
  auto form = req.Form();
  if (!form.ok()) return d_.pages.ErrorPage(400, &req);
  if (!d_.sessions.CheckCsrf(cookie, Field(*form, "csrf_token"))) return d_.pages.ErrorPage(403, &req);
  auto ok = d_.accounts.VerifySecondFactor(pending->staff_id, Field(*form, "code"), ClientKey(req),
                                           {StaffId(pending->staff_id), req.request_id});
  if (!ok.ok()) return d_.pages.ErrorFor(ok.error(), req);
  if (!*ok) {
    std::string message = "The code is not right. Enter the code your app shows now, or a recovery code";
    auto page = d_.pages.Render("admin_code", "Enter your security code",
                                html::Object{{"csrf_token", d_.sessions.CsrfToken(cookie)},
                                             {"code_error", message},
                                             {"errors", module::ErrorSummary({{"code", message}})}});
    if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
    return Response::Html(std::move(*page));
  }
  // A new id once the second factor is passed.
  (void)d_.sessions.End(cookie);
  auto fresh = d_.sessions.Create(pending->staff_id, false, pending->device);
  if (!fresh.ok()) return d_.pages.ErrorFor(fresh.error(), req);
  Response r = Response::Redirect("/admin");
  r.cookies.push_back(SessionCookie(req, *fresh));
  return r;
}

http::Response Shell::SetupPage(http::Request& req) {
  auto link = d_.accounts.LookupSetupToken(req.PathParam("token"));
  if (!link.ok()) return ExpiredLink(req);
  return OpenPage(req, "admin_setup", link->staff_id ? "Choose your password" : "Set up the first administrator",
                  html::Object{{"first_admin", !link->staff_id}, {"email", link->email}});
}

http::Response Shell::ExpiredLink(http::Request& req) {
  auto page = d_.pages.Render("error", "Set-up link not valid",
                              html::Object{{"heading", "This set-up link has expired or has already been used"},
                                           {"message", "Ask an administrator for a new one."}});
  if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
  return Response::Html(std::move(*page), 404);
}

http::Response Shell::SetupSubmit(http::Request& req) {
  std::string token(req.PathParam("token"));
  auto link = d_.accounts.LookupSetupToken(token);
  if (!link.ok()) return ExpiredLink(req);
  auto form = req.Form();
  if (!form.ok()) return d_.pages.ErrorPage(400, &req);
  if (!PresessionCsrfOk(req, *form)) return d_.pages.ErrorPage(403, &req);
  std::string email = std::string(Trim(Field(*form, "email")));
  std::string password = Field(*form, "password");
  html::Object data{{"first_admin", !link->staff_id}, {"email", link->staff_id ? link->email : email}};
  std::vector<std::pair<std::string, std::string>> errors;
  if (password != Field(*form, "confirm")) {
    errors.emplace_back("confirm", "The passwords do not match");
    data["confirm_error"] = "The passwords do not match";
  } else {
    auto id = d_.accounts.CompleteSetup(token, email, password, {"anonymous", req.request_id});
    if (id.ok()) return Response::Redirect("/admin/login?setup=1");
    if (id.error().code != ErrorCode::kInvalidArgument) return d_.pages.ErrorFor(id.error(), req);
    bool about_email = id.error().message.find("email address in the correct format") != std::string::npos;
    errors.emplace_back(about_email ? "email" : "password", id.error().message);
    data[about_email ? "email_error" : "password_error"] = id.error().message;
  }
  data["errors"] = module::ErrorSummary(errors);
  return OpenPage(req, "admin_setup", "Choose your password", std::move(data));
}

http::Response Shell::Home(http::Request& req, module::StaffContext& ctx) {
  html::List roles;
  for (staff::Role r : ctx.me.roles) roles.push_back(html::Object{{"title", std::string(staff::RoleTitle(r))}});
  html::List cards;
  // A card for each page that offers one and that this person may open.
  for (const module::StaffPage& p : pages_) {
    if (p.nav_text.empty() || p.method != Method::kGet || !staff::AnyGrants(ctx.me.roles, p.permission)) continue;
    std::string text = p.nav_text;
    if (p.pattern == "/admin/account/second-factor") {
      text =
          ctx.me.totp_enabled ? "Your account asks for a code from your app." : "Add a code from an app to signing in.";
    }
    cards.push_back(html::Object{
        {"href", p.pattern}, {"title", p.card_title.empty() ? p.nav_title : p.card_title}, {"text", text}});
  }
  return Page(req, ctx, "admin_home", "Staff pages",
              html::Object{{"email", ctx.me.email}, {"roles", module::Marked(roles)}, {"cards", cards}}, "/admin");
}

http::Response Shell::Logout(http::Request& req, module::StaffContext& ctx) {
  if (Status s = d_.sessions.End(
          ctx.cookie, d_.trail,
          {.actor = ctx.actor.id, .action = "staff.signout", .target = ctx.actor.id, .request_id = req.request_id});
      !s.ok()) {
    return d_.pages.ErrorFor(s.error(), req);
  }
  Response r = Response::Redirect("/admin/login?signed_out=1");
  r.cookies.push_back(http::SetCookie::Expired(SessionCookieName(req.https)));
  r.cookies.back().secure = req.https;
  r.cookies.back().same_site = http::SameSite::kStrict;
  return r;
}

http::Response Shell::SessionsPage(http::Request& req, module::StaffContext& ctx) {
  auto list = d_.sessions.ListFor(ctx.me.id);
  if (!list.ok()) return d_.pages.ErrorFor(list.error(), req);
  html::List rows;
  for (const auto& s : *list) {
    rows.push_back(html::Object{{"handle", s.handle},
                                {"device", s.device},
                                {"created_at", s.created_at.substr(0, 16)},
                                {"last_seen_at", s.last_seen_at.substr(0, 16)},
                                {"current", s.handle == ctx.session.handle}});
  }
  auto q = req.Query();
  html::Object data{{"sessions", rows}};
  if (q.ok() && http::Find(*q, "ended")) data["notice"] = "The session has ended.";
  return Page(req, ctx, "admin_sessions", "Your sessions", std::move(data), "/admin/sessions");
}

http::Response Shell::EndSession(http::Request& req, module::StaffContext& ctx) {
  Status s = d_.sessions.EndByHandle(
      ctx.me.id, req.PathParam("handle"), d_.trail,
      {.actor = ctx.actor.id, .action = "staff.session_ended", .target = ctx.actor.id, .request_id = req.request_id});
  if (!s.ok()) return d_.pages.ErrorFor(s.error(), req);
  return Response::Redirect("/admin/sessions?ended=1");
}

http::Response Shell::SecondFactorPage(http::Request& req, module::StaffContext& ctx) {
  return Page(
      req, ctx, "admin_second_factor", "Security codes",
      html::Object{{"base", "/admin/account/second-factor"}, {"ask_password", true}, {"enabled", ctx.me.totp_enabled}},
      "/admin/account/second-factor");
}

http::Response Shell::SecondFactorWithSecret(http::Request& req, module::StaffContext& ctx, const std::string& secret,
                                             std::string error) {
  std::string issuer = http::PercentEncode(d_.config.site.name);
  std::string uri = "otpauth://totp/" + issuer + ":" + http::PercentEncode(ctx.me.email) + "?secret=" + secret +
                    "&issuer=" + issuer + "&algorithm=SHA1&digits=6&period=30";
  html::Object data{{"base", "/admin/account/second-factor"}, {"enabled", false}, {"secret", secret}, {"uri", uri}};
  if (!error.empty()) {
    data["code_error"] = error;
    data["errors"] = module::ErrorSummary({{"code", error}});
  }
  return Page(req, ctx, "admin_second_factor", "Security codes", std::move(data), "/admin/account/second-factor");
}

http::Response Shell::SecondFactorStart(http::Request& req, module::StaffContext& ctx) {
  auto secret = d_.accounts.BeginTotp(ctx.me.id, ctx.actor);
  if (!secret.ok()) return d_.pages.ErrorFor(secret.error(), req);
  return SecondFactorWithSecret(req, ctx, *secret, "");
}

http::Response Shell::SecondFactorConfirm(http::Request& req, module::StaffContext& ctx) {
  auto codes = d_.accounts.ConfirmTotp(ctx.me.id, Field(ctx.form, "code"), ctx.actor);
  if (!codes.ok()) {
    if (codes.error().code != ErrorCode::kInvalidArgument) return d_.pages.ErrorFor(codes.error(), req);
    // The secret is stored sealed and never shown twice: a wrong code means starting again.
    auto again = d_.accounts.BeginTotp(ctx.me.id, ctx.actor);
    if (!again.ok()) return d_.pages.ErrorFor(again.error(), req);
    return SecondFactorWithSecret(req, ctx, *again,
                                  "The code is not right. Add this new key to your app and try again");
  }
  html::List list;
  for (const auto& c : *codes) list.push_back(html::Object{{"code", c}});
  return Page(
      req, ctx, "admin_second_factor", "Security codes",
      html::Object{{"base", "/admin/account/second-factor"}, {"enabled", true}, {"codes", module::Marked(list)}},
      "/admin/account/second-factor");
}

http::Response Shell::SecondFactorRemove(http::Request& req, module::StaffContext& ctx) {
  // Weakening the account needs the password again: a session left open is not enough.
  auto right = d_.accounts.Reauthenticate(ctx.me.id, Field(ctx.form, "password"), ClientKey(req), ctx.actor);
  if (!right.ok()) return d_.pages.ErrorFor(right.error(), req);
  if (!*right) {
    std::string error = Field(ctx.form, "password").empty() ? "Enter your password" : "Enter your correct password";
    return Page(req, ctx, "admin_second_factor", "Security codes",
                html::Object{{"base", "/admin/account/second-factor"},
                             {"ask_password", true},
                             {"enabled", true},
                             {"password_error", error},
                             {"errors", module::ErrorSummary({{"password", error}})}},
                "/admin/account/second-factor", 400);
  }
  Status s = d_.accounts.DisableTotp(ctx.me.id, ctx.actor);
  if (!s.ok()) return d_.pages.ErrorFor(s.error(), req);
  return Response::Redirect("/admin/account/second-factor");
}

}  // namespace steward::admin
