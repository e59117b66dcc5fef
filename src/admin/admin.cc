#include "admin/admin.h"

#include <algorithm>
#include <memory>

#include "admin/analytics_view.h"
#include "logs/archive.h"
#include "logs/security.h"
#include "logs/stats.h"
#include "core/log.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "html/template.h"
#include "register/ropa.h"

namespace steward::admin {
namespace {

using http::Method;
using http::Request;
using http::Response;
using staff::Permission;

constexpr const char* kPresessionCookie = "steward_presession";

// What a guarded handler knows about the person making the request.
struct Context {
  staff::StaffMember me;
  staff::Session session;
  std::string cookie;  // the session cookie's value
  std::string csrf;    // the session's CSRF token, for forms on the page
  http::Params form;   // the parsed form of a POST
  staff::Actor actor;
};

using StaffHandler = std::function<Response(Request&, Context&)>;

std::string CookieValue(const Request& req, std::string_view name) {
  for (const auto& [k, v] : req.Cookies()) {
    if (k == name) return v;
  }
  return {};
}

std::vector<std::string> All(const http::Params& params, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) {
    if (k == name) out.push_back(v);
  }
  return out;
}

std::string Field(const http::Params& params, std::string_view name) {
  const std::string* v = http::Find(params, name);
  return v ? *v : std::string();
}

// GOV.UK error summary items, with first/last marks for the template.
html::List Errors(const std::vector<std::pair<std::string, std::string>>& errors) {
  html::List out;
  for (size_t i = 0; i < errors.size(); ++i) {
    out.push_back(html::Object{{"field", errors[i].first}, {"message", errors[i].second},
                               {"first", i == 0}, {"last", i + 1 == errors.size()}});
  }
  return out;
}

html::List Marked(html::List items) {
  for (size_t i = 0; i < items.size(); ++i) {
    html::Object o = items[i].AsObject() ? *items[i].AsObject() : html::Object{};
    o["first"] = i == 0;
    o["last"] = i + 1 == items.size();
    items[i] = o;
  }
  return items;
}

std::string RoleTitles(const std::vector<staff::Role>& roles) {
  std::string out;
  for (staff::Role r : roles) {
    if (!out.empty()) out += ", ";
    out += staff::RoleTitle(r);
  }
  return out;
}

html::List RoleChoices(const std::vector<staff::Role>& checked) {
  html::List out;
  for (staff::Role r : staff::AllRoles()) {
    out.push_back(html::Object{{"name", std::string(staff::RoleName(r))}, {"title", std::string(staff::RoleTitle(r))},
                               {"checked", std::find(checked.begin(), checked.end(), r) != checked.end()}});
  }
  return out;
}

std::vector<staff::Role> ChosenRoles(const http::Params& form) {
  std::vector<staff::Role> out;
  for (const auto& name : All(form, "role")) {
    if (auto r = staff::ParseRole(name)) out.push_back(*r);
  }
  return out;
}

// Only a path on the staff pages: never another site, never a protocol-relative URL.
std::string SafeNext(const std::string& next) {
  if (!next.starts_with("/admin") || next.find("//") != std::string::npos || next.find('\\') != std::string::npos ||
      next.starts_with("/admin/login") || next.starts_with("/admin/logout")) {
    return "/admin";
  }
  return next;
}

// An RFC 3339 prefix such as "2026-11-01" or "2026-11-01T09:00"; anything else is dropped.
std::string TimeFilter(const std::string& text) {
  if (text.size() > 30) return {};
  for (char c : text) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == 'T' || c == ':' || c == '.' || c == 'Z')) return {};
  }
  return text;
}

std::string StaffId(int64_t id) { return "staff:" + std::to_string(id); }

class Admin : public std::enable_shared_from_this<Admin> {
 public:
  explicit Admin(const Deps& deps) : d_(deps) {}

  void AddAll(http::Router& router) {
    // Open routes: no session yet.
    router.Get("/admin/login", [self = shared_from_this()](Request& r) { return self->LoginPage(r); }, kBlocking);
    router.Post("/admin/login", [self = shared_from_this()](Request& r) { return self->LoginSubmit(r); }, kBlocking);
    router.Get("/admin/login/code", [self = shared_from_this()](Request& r) { return self->CodePage(r); }, kBlocking);
    router.Post("/admin/login/code", [self = shared_from_this()](Request& r) { return self->CodeSubmit(r); }, kBlocking);
    router.Get("/admin/setup/{token}", [self = shared_from_this()](Request& r) { return self->SetupPage(r); }, kBlocking);
    router.Post("/admin/setup/{token}", [self = shared_from_this()](Request& r) { return self->SetupSubmit(r); }, kBlocking);

    Add(router, Method::kGet, "/admin", &Admin::Home);
    Add(router, Method::kPost, "/admin/logout", &Admin::Logout);
    Add(router, Method::kGet, "/admin/sessions", &Admin::SessionsPage);
    Add(router, Method::kPost, "/admin/sessions/{handle}/end", &Admin::EndSession);
    Add(router, Method::kGet, "/admin/account/second-factor", &Admin::SecondFactorPage);
    Add(router, Method::kPost, "/admin/account/second-factor/start", &Admin::SecondFactorStart);
    Add(router, Method::kPost, "/admin/account/second-factor/confirm", &Admin::SecondFactorConfirm);
    Add(router, Method::kPost, "/admin/account/second-factor/remove", &Admin::SecondFactorRemove);
    Add(router, Method::kGet, "/admin/staff", &Admin::StaffList);
    Add(router, Method::kPost, "/admin/staff", &Admin::StaffAdd);
    Add(router, Method::kGet, "/admin/staff/{id}", &Admin::StaffMemberPage);
    Add(router, Method::kPost, "/admin/staff/{id}/roles", &Admin::StaffRoles);
    Add(router, Method::kPost, "/admin/staff/{id}/disable", &Admin::StaffDisable);
    Add(router, Method::kPost, "/admin/staff/{id}/enable", &Admin::StaffEnable);
    Add(router, Method::kPost, "/admin/staff/{id}/setup-link", &Admin::StaffSetupLink);
    Add(router, Method::kGet, "/admin/audit", &Admin::AuditPage);
    Add(router, Method::kGet, "/admin/ropa", &Admin::RopaPage);
    Add(router, Method::kGet, "/admin/ropa.csv", &Admin::RopaCsv);
    Add(router, Method::kGet, "/admin/analytics", &Admin::AnalyticsPage);
    Add(router, Method::kGet, "/admin/analytics.csv", &Admin::AnalyticsCsv);
    Add(router, Method::kGet, "/admin/analytics/keys", &Admin::ApiKeysPage);
    Add(router, Method::kPost, "/admin/analytics/keys", &Admin::ApiKeyCreate);
    Add(router, Method::kPost, "/admin/analytics/keys/{id}/revoke", &Admin::ApiKeyRevoke);
    Add(router, Method::kGet, "/admin/logs", &Admin::LogsPage);
    Add(router, Method::kGet, "/admin/logs.csv", &Admin::LogsCsv);
    Add(router, Method::kGet, "/admin/security", &Admin::SecurityPage);
    Add(router, Method::kPost, "/admin/security/{id}/evidence", &Admin::SecurityEvidence);
    Add(router, Method::kGet, "/admin/security/search", &Admin::RawSearchPage);
    Add(router, Method::kPost, "/admin/security/search", &Admin::RawSearch);
    Add(router, Method::kGet, "/admin/consent", &Admin::ConsentPage);
    Add(router, Method::kPost, "/admin/consent", &Admin::ConsentRecord);
  }

 private:
  static constexpr http::RouteOptions kBlocking{.blocking = true};
  using Member = Response (Admin::*)(Request&, Context&);

  // Adds a staff route through the guard. The route must be in the permission table.
  void Add(http::Router& router, Method method, std::string_view pattern, Member handler) {
    auto it = std::find_if(StaffRoutes().begin(), StaffRoutes().end(),
                           [&](const StaffRoute& r) { return r.method == method && r.pattern == pattern; });
    STEWARD_CHECK(it != StaffRoutes().end(), "every staff route needs an entry in StaffRoutes()");
    Permission permission = it->permission;
    router.Add(method, std::string(pattern),
               [self = shared_from_this(), permission, handler](Request& req) {
                 return self->Guard(req, permission, handler);
               },
               kBlocking);
  }

  // The one place staff requests are checked: session, second factor, permission, CSRF.
  Response Guard(Request& req, Permission permission, Member handler) {
    Context ctx;
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
      (void)d_.trail.Append({.actor = ctx.actor.id, .action = "access.denied", .target = req.route,
                             .outcome = "denied", .request_id = req.request_id,
                             .details = {{"needs", std::string(staff::PermissionName(permission))}}});
      return d_.pages.ErrorPage(403, &req);
    }
    if (req.method != Method::kGet && req.method != Method::kHead) {
      auto form = req.Form();
      if (!form.ok()) return d_.pages.ErrorPage(400, &req);
      if (!d_.sessions.CheckCsrf(ctx.cookie, Field(*form, "csrf_token"))) {
        (void)d_.trail.Append({.actor = ctx.actor.id, .action = "csrf.rejected", .target = req.route,
                               .outcome = "denied", .request_id = req.request_id});
        return d_.pages.ErrorPage(403, &req);
      }
      ctx.form = std::move(*form);
    }
    return (this->*handler)(req, ctx);
  }

  // A staff page: the template inside the layout, with the staff navigation.
  Response Page(Request& req, const Context& ctx, std::string_view tmpl, std::string_view title, html::Object data,
                std::string_view current, int status = 200) {
    data["csrf_token"] = ctx.csrf;
    html::List nav;
    auto item = [&](std::string href, std::string text, bool allowed) {
      if (allowed) nav.push_back(html::Object{{"href", href}, {"text", text}, {"current", href == current}});
    };
    item("/admin", "Home", true);
    item("/admin/staff", "Staff", staff::AnyGrants(ctx.me.roles, Permission::kManageStaff));
    item("/admin/audit", "Audit trail", staff::AnyGrants(ctx.me.roles, Permission::kReadAudit));
    item("/admin/ropa", "Record of processing", staff::AnyGrants(ctx.me.roles, Permission::kManageRegister));
    item("/admin/analytics", "Analytics", d_.stats != nullptr && staff::AnyGrants(ctx.me.roles, Permission::kReadStatistics));
    item("/admin/logs", "Access logs", d_.logs_store != nullptr && staff::AnyGrants(ctx.me.roles, Permission::kReadStatistics));
    item("/admin/security", "Security alerts",
         d_.logs_store != nullptr && staff::AnyGrants(ctx.me.roles, Permission::kReadSecurity));
    item("/admin/consent", "Consent records",
         d_.consent_records != nullptr && staff::AnyGrants(ctx.me.roles, Permission::kManageRegister));
    item("/admin/sessions", "Your sessions", true);
    item("/admin/account/second-factor", "Security codes", true);
    html::Object admin{{"email", ctx.me.email}, {"csrf_token", ctx.csrf}, {"nav", nav}};
    auto page = d_.pages.Render(tmpl, title, std::move(data), html::Object{{"admin", admin}});
    if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
    return Response::Html(std::move(*page), status);
  }

  // A page for someone not signed in (sign-in, set-up), with a pre-session CSRF token.
  Response OpenPage(Request& req, std::string_view tmpl, std::string_view title, html::Object data, int status = 200) {
    std::string pre = CookieValue(req, kPresessionCookie);
    bool fresh = pre.size() != 64;
    if (fresh) pre = crypto::RandomHex(32);
    data["csrf_token"] = d_.sessions.CsrfToken("pre:" + pre);
    auto page = d_.pages.Render(tmpl, title, std::move(data));
    if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
    Response r = Response::Html(std::move(*page), status);
    if (fresh) {
      r.cookies.push_back(http::SetCookie{.name = kPresessionCookie, .value = pre, .max_age_seconds = 3600,
                                          .secure = req.https, .http_only = true,
                                          .same_site = http::SameSite::kStrict});
    }
    return r;
  }

  bool PresessionCsrfOk(const Request& req, const http::Params& form) {
    std::string pre = CookieValue(req, kPresessionCookie);
    return pre.size() == 64 && d_.sessions.CheckCsrf("pre:" + pre, Field(form, "csrf_token"));
  }

  http::SetCookie SessionCookie(const Request& req, std::string value) {
    return http::SetCookie{.name = SessionCookieName(req.https), .value = std::move(value), .secure = req.https,
                           .http_only = true, .same_site = http::SameSite::kStrict};
  }

  std::string ClientKey(const Request& req) {
    // Privacy: the client's address is reduced to a keyed hash here, for throttling only.
    return d_.accounts.Pseudonym(req.client_ip ? req.client_ip->ToString() : "unknown");
  }

  // ---- Signing in -----------------------------------------------------------------------------

  Response LoginPage(Request& req) {
    auto query = req.Query();
    http::Params q = query.ok() ? *query : http::Params{};
    html::Object data{{"next", SafeNext(Field(q, "next"))}};
    if (http::Find(q, "signed_out")) data["notice"] = "You have signed out.";
    if (http::Find(q, "setup")) data["notice"] = "Your password is saved. You can now sign in.";
    return OpenPage(req, "admin_login", "Sign in", std::move(data));
  }

  Response LoginSubmit(Request& req) {
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
        auto cookie = d_.sessions.Create(result->staff->id, result->second_factor,
                                         staff::DescribeDevice(req.Header("User-Agent")));
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
    data["errors"] = Errors(errors);
    return OpenPage(req, "admin_login", "Sign in", std::move(data), 200);
  }

  // The session waiting for its second factor, if the cookie names one.
  std::optional<staff::Session> PendingSession(const Request& req, std::string& cookie) {
    cookie = CookieValue(req, SessionCookieName(req.https));
    auto s = d_.sessions.Load(cookie);
    if (!s.ok() || !*s || !(*s)->second_factor_pending) return std::nullopt;
    return **s;
  }

  Response CodePage(Request& req) {
    std::string cookie;
    if (!PendingSession(req, cookie)) return Response::Redirect("/admin/login");
    auto page = d_.pages.Render("admin_code", "Enter your security code",
                                html::Object{{"csrf_token", d_.sessions.CsrfToken(cookie)}});
    if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
    return Response::Html(std::move(*page));
  }

  Response CodeSubmit(Request& req) {
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
                                               {"code_error", message}, {"errors", Errors({{"code", message}})}});
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

  Response SetupPage(Request& req) {
    auto link = d_.accounts.LookupSetupToken(req.PathParam("token"));
    if (!link.ok()) return ExpiredLink(req);
    return OpenPage(req, "admin_setup", link->staff_id ? "Choose your password" : "Set up the first administrator",
                    html::Object{{"first_admin", !link->staff_id}, {"email", link->email}});
  }

  Response ExpiredLink(Request& req) {
    auto page = d_.pages.Render("error", "Set-up link not valid",
                                html::Object{{"heading", "This set-up link has expired or has already been used"},
                                             {"message", "Ask an administrator for a new one."}});
    if (!page.ok()) return d_.pages.ErrorFor(page.error(), req);
    return Response::Html(std::move(*page), 404);
  }

  Response SetupSubmit(Request& req) {
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
    data["errors"] = Errors(errors);
    return OpenPage(req, "admin_setup", "Choose your password", std::move(data));
  }

  // ---- Signed in ------------------------------------------------------------------------------

  Response Home(Request& req, Context& ctx) {
    html::List roles;
    for (staff::Role r : ctx.me.roles) roles.push_back(html::Object{{"title", std::string(staff::RoleTitle(r))}});
    html::List cards;
    auto card = [&](bool allowed, std::string href, std::string title, std::string text) {
      if (allowed) cards.push_back(html::Object{{"href", href}, {"title", title}, {"text", text}});
    };
    card(staff::AnyGrants(ctx.me.roles, Permission::kManageStaff), "/admin/staff", "Staff accounts",
         "Add staff, choose their roles, disable accounts.");
    card(staff::AnyGrants(ctx.me.roles, Permission::kReadAudit), "/admin/audit", "Audit trail",
         "Every privacy-relevant action: sign-ins, staff changes, configuration, backups.");
    card(staff::AnyGrants(ctx.me.roles, Permission::kManageRegister), "/admin/ropa", "Record of processing",
         "The Article 30 record, from the register: purposes, bases, data, recipients, retention. As a page or CSV.");
    card(true, "/admin/sessions", "Your sessions", "Where you are signed in, and ending sessions you do not recognise.");
    card(true, "/admin/account/second-factor", "Security codes",
         ctx.me.totp_enabled ? "Your account asks for a code from your app." : "Add a code from an app to signing in.");
    return Page(req, ctx, "admin_home", "Staff pages", html::Object{{"email", ctx.me.email}, {"roles", Marked(roles)},
                                                                  {"cards", cards}}, "/admin");
  }

  Response Logout(Request& req, Context& ctx) {
    (void)d_.sessions.End(ctx.cookie);
    (void)d_.trail.Append({.actor = ctx.actor.id, .action = "staff.signout", .target = ctx.actor.id,
                           .request_id = req.request_id});
    Response r = Response::Redirect("/admin/login?signed_out=1");
    r.cookies.push_back(http::SetCookie::Expired(SessionCookieName(req.https)));
    r.cookies.back().secure = req.https;
    r.cookies.back().same_site = http::SameSite::kStrict;
    return r;
  }

  Response SessionsPage(Request& req, Context& ctx) {
    auto list = d_.sessions.ListFor(ctx.me.id);
    if (!list.ok()) return d_.pages.ErrorFor(list.error(), req);
    html::List rows;
    for (const auto& s : *list) {
      rows.push_back(html::Object{{"handle", s.handle}, {"device", s.device}, {"created_at", s.created_at.substr(0, 16)},
                                  {"last_seen_at", s.last_seen_at.substr(0, 16)}, {"current", s.handle == ctx.session.handle}});
    }
    auto q = req.Query();
    html::Object data{{"sessions", rows}};
    if (q.ok() && http::Find(*q, "ended")) data["notice"] = "The session has ended.";
    return Page(req, ctx, "admin_sessions", "Your sessions", std::move(data), "/admin/sessions");
  }

  Response EndSession(Request& req, Context& ctx) {
    Status s = d_.sessions.EndByHandle(ctx.me.id, req.PathParam("handle"));
    if (!s.ok()) return d_.pages.ErrorFor(s.error(), req);
    (void)d_.trail.Append({.actor = ctx.actor.id, .action = "staff.session_ended", .target = ctx.actor.id,
                           .request_id = req.request_id});
    return Response::Redirect("/admin/sessions?ended=1");
  }

  Response SecondFactorPage(Request& req, Context& ctx) {
    return Page(req, ctx, "admin_second_factor", "Security codes", html::Object{{"enabled", ctx.me.totp_enabled}},
                "/admin/account/second-factor");
  }

  Response SecondFactorWithSecret(Request& req, Context& ctx, const std::string& secret, std::string error) {
    std::string issuer = http::PercentEncode(d_.config.site.name);
    std::string uri = "otpauth://totp/" + issuer + ":" + http::PercentEncode(ctx.me.email) + "?secret=" + secret +
                      "&issuer=" + issuer + "&algorithm=SHA1&digits=6&period=30";
    html::Object data{{"enabled", false}, {"secret", secret}, {"uri", uri}};
    if (!error.empty()) {
      data["code_error"] = error;
      data["errors"] = Errors({{"code", error}});
    }
    return Page(req, ctx, "admin_second_factor", "Security codes", std::move(data), "/admin/account/second-factor");
  }

  Response SecondFactorStart(Request& req, Context& ctx) {
    auto secret = d_.accounts.BeginTotp(ctx.me.id, ctx.actor);
    if (!secret.ok()) return d_.pages.ErrorFor(secret.error(), req);
    return SecondFactorWithSecret(req, ctx, *secret, "");
  }

  Response SecondFactorConfirm(Request& req, Context& ctx) {
    auto codes = d_.accounts.ConfirmTotp(ctx.me.id, Field(ctx.form, "code"), ctx.actor);
    if (!codes.ok()) {
      if (codes.error().code != ErrorCode::kInvalidArgument) return d_.pages.ErrorFor(codes.error(), req);
      // The secret is stored sealed and never shown twice: a wrong code means starting again.
      auto again = d_.accounts.BeginTotp(ctx.me.id, ctx.actor);
      if (!again.ok()) return d_.pages.ErrorFor(again.error(), req);
      return SecondFactorWithSecret(req, ctx, *again, "The code is not right. Add this new key to your app and try again");
    }
    html::List list;
    for (const auto& c : *codes) list.push_back(html::Object{{"code", c}});
    return Page(req, ctx, "admin_second_factor", "Security codes",
                html::Object{{"enabled", true}, {"codes", Marked(list)}}, "/admin/account/second-factor");
  }

  Response SecondFactorRemove(Request& req, Context& ctx) {
    Status s = d_.accounts.DisableTotp(ctx.me.id, ctx.actor);
    if (!s.ok()) return d_.pages.ErrorFor(s.error(), req);
    return Response::Redirect("/admin/account/second-factor");
  }

  // ---- Staff accounts (admin) -----------------------------------------------------------------

  Response StaffListWith(Request& req, Context& ctx, html::Object data, int status = 200) {
    auto all = d_.accounts.List();
    if (!all.ok()) return d_.pages.ErrorFor(all.error(), req);
    html::List rows;
    for (const auto& m : *all) {
      std::string state = m.disabled ? "Disabled" : m.has_password ? "Active" : "Waiting for set-up";
      rows.push_back(html::Object{{"id", m.id}, {"email", m.email}, {"roles", RoleTitles(m.roles)}, {"status", state},
                                  {"disabled", m.disabled}, {"pending", !m.disabled && !m.has_password}});
    }
    data["staff"] = rows;
    if (data.find("roles") == data.end()) data["roles"] = RoleChoices({});
    return Page(req, ctx, "admin_staff", "Staff accounts", std::move(data), "/admin/staff", status);
  }

  Response StaffList(Request& req, Context& ctx) { return StaffListWith(req, ctx, {}); }

  Response StaffAdd(Request& req, Context& ctx) {
    std::string email = std::string(Trim(Field(ctx.form, "email")));
    auto roles = ChosenRoles(ctx.form);
    std::vector<std::pair<std::string, std::string>> errors;
    html::Object data{{"email", email}, {"roles", RoleChoices(roles)}};
    if (roles.empty()) {
      errors.emplace_back("roles", "Choose at least one role");
      data["roles_error"] = "Choose at least one role";
    }
    if (errors.empty()) {
      auto id = d_.accounts.Create(email, roles, ctx.actor);
      if (id.ok()) {
        auto token = d_.accounts.IssueSetupToken(*id, ctx.actor);
        if (!token.ok()) return d_.pages.ErrorFor(token.error(), req);
        return StaffListWith(req, ctx, html::Object{{"added", html::Object{{"email", email}, {"link", SetupLink(d_.base_url(), *token)}}}});
      }
      if (id.error().code != ErrorCode::kInvalidArgument && id.error().code != ErrorCode::kAlreadyExists) {
        return d_.pages.ErrorFor(id.error(), req);
      }
      errors.emplace_back("email", id.error().message);
      data["email_error"] = id.error().message;
    }
    data["errors"] = Errors(errors);
    return StaffListWith(req, ctx, std::move(data));
  }

  Response MemberPage(Request& req, Context& ctx, int64_t id, html::Object data) {
    auto m = d_.accounts.Find(id);
    if (!m.ok()) return d_.pages.ErrorFor(m.error(), req);
    std::string state = m->disabled ? "Disabled" : m->has_password ? "Active" : "Waiting for set-up";
    data["member"] = html::Object{{"id", m->id}, {"email", m->email}, {"status", state}, {"disabled", m->disabled},
                                  {"created_at", m->created_at.substr(0, 10)}, {"totp", m->totp_enabled}};
    if (data.find("roles") == data.end()) data["roles"] = RoleChoices(m->roles);
    return Page(req, ctx, "admin_staff_member", m->email, std::move(data), "/admin/staff");
  }

  static std::optional<int64_t> IdParam(const Request& req) {
    auto v = ParseUint(req.PathParam("id"));
    if (!v || *v > INT64_MAX) return std::nullopt;
    return static_cast<int64_t>(*v);
  }

  Response StaffMemberPage(Request& req, Context& ctx) {
    auto id = IdParam(req);
    if (!id) return d_.pages.ErrorPage(404, &req);
    auto q = req.Query();
    html::Object data;
    if (q.ok() && http::Find(*q, "saved")) data["notice"] = "Saved.";
    return MemberPage(req, ctx, *id, std::move(data));
  }

  Response StaffRoles(Request& req, Context& ctx) {
    auto id = IdParam(req);
    if (!id) return d_.pages.ErrorPage(404, &req);
    auto roles = ChosenRoles(ctx.form);
    Status s = d_.accounts.SetRoles(*id, roles, ctx.actor);
    if (s.ok()) return Response::Redirect("/admin/staff/" + std::to_string(*id) + "?saved=1");
    if (s.error().code != ErrorCode::kInvalidArgument && s.error().code != ErrorCode::kFailedPrecondition) {
      return d_.pages.ErrorFor(s.error(), req);
    }
    return MemberPage(req, ctx, *id, html::Object{{"roles", RoleChoices(roles)}, {"roles_error", s.error().message},
                                                 {"errors", Errors({{"roles", s.error().message}})}});
  }

  Response SetDisabled(Request& req, Context& ctx, bool disabled) {
    auto id = IdParam(req);
    if (!id) return d_.pages.ErrorPage(404, &req);
    Status s = d_.accounts.SetDisabled(*id, disabled, ctx.actor);
    if (s.ok()) return Response::Redirect("/admin/staff/" + std::to_string(*id) + "?saved=1");
    if (s.error().code != ErrorCode::kFailedPrecondition) return d_.pages.ErrorFor(s.error(), req);
    return MemberPage(req, ctx, *id, html::Object{{"errors", Errors({{"roles", s.error().message}})}});
  }

  Response StaffDisable(Request& req, Context& ctx) { return SetDisabled(req, ctx, true); }
  Response StaffEnable(Request& req, Context& ctx) { return SetDisabled(req, ctx, false); }

  Response StaffSetupLink(Request& req, Context& ctx) {
    auto id = IdParam(req);
    if (!id) return d_.pages.ErrorPage(404, &req);
    auto token = d_.accounts.IssueSetupToken(*id, ctx.actor);
    if (!token.ok()) return d_.pages.ErrorFor(token.error(), req);
    return MemberPage(req, ctx, *id, html::Object{{"notice", "New set-up link made. Send it to the staff member."},
                                                 {"link", SetupLink(d_.base_url(), *token)}});
  }

  // ---- Audit trail ----------------------------------------------------------------------------

  Response AuditPage(Request& req, Context& ctx) {
    auto query = req.Query();
    if (!query.ok()) return d_.pages.ErrorPage(400, &req);
    audit::Filter f;
    f.actor = std::string(Trim(Field(*query, "actor")));
    f.action = std::string(Trim(Field(*query, "action")));
    f.since = TimeFilter(Field(*query, "since"));
    f.until = TimeFilter(Field(*query, "until"));
    f.before_seq = static_cast<int64_t>(ParseUint(Field(*query, "before")).value_or(0) & INT64_MAX);
    f.limit = 50;
    auto records = d_.trail.List(f);
    if (!records.ok()) return d_.pages.ErrorFor(records.error(), req);
    html::List rows;
    for (const auto& r : *records) {
      std::string details;
      for (const auto& [k, v] : r.entry.details) details += (details.empty() ? "" : ", ") + k + ": " + v;
      rows.push_back(html::Object{{"seq", r.seq}, {"at", r.at.substr(0, 19)}, {"actor", r.entry.actor},
                                  {"action", r.entry.action}, {"target", r.entry.target}, {"outcome", r.entry.outcome},
                                  {"details", details}});
    }
    html::Object data{{"actor", f.actor}, {"action", f.action}, {"since", f.since}, {"until", f.until}, {"records", rows}};
    if (static_cast<int>(records->size()) == f.limit) {
      std::string href = "/admin/audit?before=" + std::to_string(records->back().seq);
      for (const auto& [k, v] : {std::pair<std::string, std::string>{"actor", f.actor}, {"action", f.action},
                                 {"since", f.since}, {"until", f.until}}) {
        if (!v.empty()) href += "&" + k + "=" + http::PercentEncode(v);
      }
      data["older"] = html::Object{{"href", href}};
    }
    return Page(req, ctx, "admin_audit", "Audit trail", std::move(data), "/admin/audit");
  }

  // ---- Record of processing (dpo) -------------------------------------------------------------

  Response RopaPage(Request& req, Context& ctx) {
    html::List rows;
    const auto& columns = processing::RopaColumns();
    for (const auto& row : processing::RecordOfProcessing(d_.reg)) {
      html::List fields;
      for (size_t i = 1; i < row.size(); ++i) {
        if (!row[i].empty()) fields.push_back(html::Object{{"key", columns[i]}, {"value", row[i]}});
      }
      rows.push_back(html::Object{{"title", row[0]}, {"fields", fields}});
    }
    return Page(req, ctx, "admin_ropa", "Record of processing",
                html::Object{{"service", d_.reg.service}, {"version", d_.reg.Version()}, {"rows", rows}}, "/admin/ropa");
  }

  Response RopaCsv(Request&, Context&) {
    Response r;
    r.body = processing::RopaCsv(d_.reg);
    r.SetHeader("Content-Type", "text/csv; charset=utf-8");
    r.SetHeader("Content-Disposition", "attachment; filename=\"record-of-processing-" + d_.reg.Version() + ".csv\"");
    return r;
  }

  // ---- Analytics (analyst) --------------------------------------------------------------------

  Response AnalyticsPage(Request& req, Context& ctx) {
    if (d_.stats == nullptr) return d_.pages.ErrorPage(404, &req);
    auto query = req.Query();
    if (!query.ok()) return d_.pages.ErrorPage(400, &req);
    auto range = ParseDashboardRange(*query, d_.analytics_sites, d_.clock.Now());
    if (!range.ok()) {
      return Page(req, ctx, "error", "There is a problem with the dates",
                  html::Object{{"heading", "There is a problem with the dates"}, {"message", range.error().message}},
                  "/admin/analytics", 400);
    }
    auto data = DashboardData(*d_.stats, *range, d_.analytics_sites, req.query);
    if (!data.ok()) return d_.pages.ErrorFor(data.error(), req);
    return Page(req, ctx, "admin_analytics", "Analytics", std::move(*data), "/admin/analytics");
  }

  Response AnalyticsCsv(Request& req, Context&) {
    if (d_.stats == nullptr) return d_.pages.ErrorPage(404, &req);
    auto query = req.Query();
    if (!query.ok()) return d_.pages.ErrorPage(400, &req);
    std::string table = Field(*query, "table");
    auto dimension = analytics::ParseDimension(table.empty() ? "page" : table);
    auto range = ParseDashboardRange(*query, d_.analytics_sites, d_.clock.Now());
    if (!dimension || !range.ok()) return d_.pages.ErrorPage(400, &req);
    auto csv = DashboardCsv(*d_.stats, *range, *dimension);
    if (!csv.ok()) return d_.pages.ErrorFor(csv.error(), req);
    Response r;
    r.body = std::move(*csv);
    r.SetHeader("Content-Type", "text/csv; charset=utf-8");
    r.SetHeader("Content-Disposition", "attachment; filename=\"" + std::string(analytics::DimensionName(*dimension)) +
                                           ".csv\"");
    return r;
  }

  // ---- Stats API keys (analyst) ---------------------------------------------------------------

  // The list of keys, the form for a new one, and (once, just after it was made) a new key.
  Response ApiKeysView(Request& req, Context& ctx, html::Object data, int status) {
    auto keys = d_.api_keys->List();
    if (!keys.ok()) return d_.pages.ErrorFor(keys.error(), req);
    html::List rows;
    for (const auto& k : *keys) {
      rows.push_back(html::Object{{"id", std::to_string(k.id)}, {"name", k.name}, {"prefix", k.prefix},
                                  {"created_at", k.created_at}, {"created_by", k.created_by},
                                  {"last_used_at", k.last_used_at.empty() ? "Never" : k.last_used_at},
                                  {"revoked_at", k.revoked_at}, {"live", k.revoked_at.empty()}});
    }
    data["keys"] = std::move(rows);
    data["any"] = !keys->empty();
    return Page(req, ctx, "admin_api_keys", "Stats API keys", std::move(data), "/admin/analytics", status);
  }

  Response ApiKeysPage(Request& req, Context& ctx) {
    if (d_.api_keys == nullptr) return d_.pages.ErrorPage(404, &req);
    return ApiKeysView(req, ctx, {}, 200);
  }

  Response ApiKeyCreate(Request& req, Context& ctx) {
    if (d_.api_keys == nullptr) return d_.pages.ErrorPage(404, &req);
    std::string name(Trim(Field(ctx.form, "name")));
    auto made = d_.api_keys->Create(name, ctx.actor.id);
    if (!made.ok()) {
      if (made.error().code != ErrorCode::kInvalidArgument) return d_.pages.ErrorFor(made.error(), req);
      std::string message = made.error().message.substr(made.error().message.find(':') + 2);
      return ApiKeysView(req, ctx, html::Object{{"error", message}, {"name", name}}, 400);
    }
    (void)d_.trail.Append({.actor = ctx.actor.id, .action = "analytics.api_key_created",
                           .target = "api_key:" + std::to_string(made->key.id), .request_id = req.request_id,
                           .details = {{"prefix", made->key.prefix}}});
    Response r = ApiKeysView(req, ctx, html::Object{{"secret", made->secret}, {"secret_name", made->key.name}}, 200);
    r.SetHeader("Cache-Control", "no-store");  // the key is on this page only
    return r;
  }

  Response ApiKeyRevoke(Request& req, Context& ctx) {
    if (d_.api_keys == nullptr) return d_.pages.ErrorPage(404, &req);
    int64_t id = 0;
    std::string_view text = req.PathParam("id");
    if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), ::isdigit)) {
      return d_.pages.ErrorPage(404, &req);
    }
    id = std::stoll(std::string(text));
    Status s = d_.api_keys->Revoke(id);
    if (!s.ok() && s.error().code == ErrorCode::kNotFound) return d_.pages.ErrorPage(404, &req);
    if (!s.ok() && s.error().code != ErrorCode::kFailedPrecondition) return d_.pages.ErrorFor(s.error(), req);
    if (s.ok()) {
      (void)d_.trail.Append({.actor = ctx.actor.id, .action = "analytics.api_key_revoked",
                             .target = "api_key:" + std::to_string(id), .request_id = req.request_id});
    }
    return ApiKeysView(req, ctx, html::Object{{"notice", s.ok() ? "Key revoked. It no longer works." : "That key was already revoked."}},
                       200);
  }

  // ---- Access logs (analyst) and security alerts (security) ---------------------------------

  // [from, to) in ms from ?period= (day, 7d, 30d, month, year; default 30d) or ?from=&to=.
  Result<std::pair<int64_t, int64_t>> LogsRange(Request& req, html::Object& data) {
    auto query = req.Query();
    if (!query.ok()) return MakeError(ErrorCode::kInvalidArgument, "the address is not valid");
    std::string period(Trim(Field(*query, "period"))), from(Trim(Field(*query, "from"))), to(Trim(Field(*query, "to")));
    if (period.empty()) period = from.empty() && to.empty() ? "30d" : from + ".." + to;
    int64_t today = UnixMillis(d_.clock.Now()) / analytics::kDayMillis;
    auto days = analytics::ResolvePeriod(period, today);
    if (!days.ok()) return days.error();
    data["period"] = period.find("..") == std::string::npos ? period : "";
    data["from"] = analytics::DayText(days->from);
    data["to"] = analytics::DayText(days->to - 1);
    html::List periods;
    for (auto [value, text] : {std::pair<const char*, const char*>{"day", "Today"}, {"7d", "Last 7 days"},
                               {"30d", "Last 30 days"}, {"month", "This month"}, {"year", "This year"}}) {
      periods.push_back(html::Object{{"value", value}, {"text", text}, {"selected", period == value}});
    }
    data["periods"] = std::move(periods);
    return std::make_pair(days->from * analytics::kDayMillis, days->to * analytics::kDayMillis);
  }

  Response LogsPage(Request& req, Context& ctx) {
    if (d_.logs_store == nullptr) return d_.pages.ErrorPage(404, &req);
    html::Object data;
    auto range = LogsRange(req, data);
    if (!range.ok()) {
      return Page(req, ctx, "error", "There is a problem with the dates",
                  html::Object{{"heading", "There is a problem with the dates"}, {"message", range.error().message}},
                  "/admin/logs", 400);
    }
    // Privacy: access-logs, read as statistics.
    auto report = logs::Report(*d_.logs_store, range->first, range->second, 20);
    if (!report.ok()) return d_.pages.ErrorFor(report.error(), req);
    html::List totals;
    for (auto [name, value] : {std::pair<const char*, int64_t>{"Total requests", report->total_requests},
                               {"Valid requests", report->valid_requests},
                               {"Failed requests", report->failed_requests},
                               {"Unique visitors", report->unique_visitors},
                               {"Bandwidth (bytes)", report->bandwidth}}) {
      totals.push_back(html::Object{{"name", name}, {"value", std::to_string(value)}});
    }
    data["totals"] = std::move(totals);
    html::List tables;
    // Requests and visitors each day of the period, the days without any at zero.
    std::map<std::string, const logs::ReportRow*> by_day;
    for (const auto& r : report->visitors) by_day[r.key] = &r;
    std::vector<ChartPoint> points;
    for (int64_t day = range->first / analytics::kDayMillis; day < range->second / analytics::kDayMillis; ++day) {
      auto it = by_day.find(analytics::DayText(day));
      points.push_back({day, {it == by_day.end() ? 0 : it->second->hits, it == by_day.end() ? 0 : it->second->visitors}});
    }
    data["chart"] = DailyChart("Requests per day, " + analytics::DayText(range->first / analytics::kDayMillis) + " to " +
                                   analytics::DayText(range->second / analytics::kDayMillis - 1),
                               {"Requests", "Visitors"}, points);
    for (auto [id, title, rows] : {std::tuple<const char*, const char*, const std::vector<logs::ReportRow>*>{
                                       "requests", "Pages", &report->requests},
                                   {"static_requests", "Static files", &report->static_requests},
                                   {"not_found", "Not found (404)", &report->not_found},
                                   {"status_codes", "Status codes", &report->status_codes},
                                   {"referring_sites", "Referring sites", &report->referring_sites},
                                   {"browsers", "Browsers", &report->browsers},
                                   {"os", "Operating systems", &report->os},
                                   {"crawlers", "Crawlers and scripts", &report->crawlers},
                                   {"visit_time", "Time of day (UTC)", &report->visit_time}}) {
      html::List list;
      for (const auto& r : *rows) {
        list.push_back(html::Object{{"key", r.key}, {"hits", std::to_string(r.hits)},
                                    {"visitors", std::to_string(r.visitors)}});
      }
      tables.push_back(html::Object{{"id", id}, {"title", title}, {"rows", std::move(list)}, {"empty", rows->empty()}});
    }
    data["tables"] = std::move(tables);
    data["query"] = req.query;
    return Page(req, ctx, "admin_logs", "Access logs", std::move(data), "/admin/logs");
  }

  Response LogsCsv(Request& req, Context&) {
    if (d_.logs_store == nullptr) return d_.pages.ErrorPage(404, &req);
    html::Object data;
    auto range = LogsRange(req, data);
    if (!range.ok()) return d_.pages.ErrorPage(400, &req);
    auto report = logs::Report(*d_.logs_store, range->first, range->second, 0);
    if (!report.ok()) return d_.pages.ErrorFor(report.error(), req);
    Response r;
    r.body = logs::ReportCsv(*report);
    r.SetHeader("Content-Type", "text/csv; charset=utf-8");
    r.SetHeader("Content-Disposition", "attachment; filename=\"access-logs.csv\"");
    return r;
  }

  Response SecurityView(Request& req, Context& ctx, int64_t open_id) {
    html::Object data;
    auto range = LogsRange(req, data);
    if (!range.ok()) return d_.pages.ErrorPage(400, &req);
    auto alerts = logs::Monitor::List(*d_.logs_store, *d_.logs_key, range->first, range->second, open_id != 0, open_id);
    if (!alerts.ok()) return d_.pages.ErrorFor(alerts.error(), req);
    html::List rows;
    for (const auto& a : *alerts) {
      html::List lines;
      // Privacy: access-logs. Evidence lines shown to the security role on request, audited.
      for (const auto& l : a.evidence) lines.push_back(html::Object{{"line", l}});
      rows.push_back(html::Object{{"id", std::to_string(a.id)}, {"rule", a.rule}, {"client", a.client},
                                  {"first", FormatRfc3339(SystemTime(std::chrono::milliseconds(a.first_ms)))},
                                  {"count", std::to_string(a.count)}, {"detail", a.detail},
                                  {"evidence", std::move(lines)}, {"opened", !a.evidence.empty()}});
    }
    data["alerts"] = std::move(rows);
    data["any"] = !alerts->empty();
    data["search"] = d_.raw_logs != nullptr;
    data["query"] = req.query;
    return Page(req, ctx, "admin_security", "Security alerts", std::move(data), "/admin/security");
  }

  Response SecurityPage(Request& req, Context& ctx) {
    if (d_.logs_store == nullptr) return d_.pages.ErrorPage(404, &req);
    return SecurityView(req, ctx, 0);
  }

  Response SecurityEvidence(Request& req, Context& ctx) {
    if (d_.logs_store == nullptr) return d_.pages.ErrorPage(404, &req);
    std::string_view text = req.PathParam("id");
    if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), ::isdigit)) {
      return d_.pages.ErrorPage(404, &req);
    }
    int64_t id = std::stoll(std::string(text));
    if (Status s = d_.trail.Append({.actor = ctx.actor.id, .action = "logs.evidence_opened",
                                    .target = "alert:" + std::to_string(id), .request_id = req.request_id});
        !s.ok()) {
      return d_.pages.ErrorFor(s.error(), req);
    }
    Response r = SecurityView(req, ctx, id);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  // The raw lines (security role): a search by address or range, client label and/or path prefix,
  // within the months kept. The search is audited before it runs, naming the client by its label.
  Response RawSearchView(Request& req, Context& ctx, html::Object data, int status) {
    auto months = logs::RawArchive::Months(*d_.logs_store);
    if (!months.ok()) return d_.pages.ErrorFor(months.error(), req);
    html::List kept;
    for (const auto& m : *months) {
      kept.push_back(html::Object{{"month", m.month}, {"lines", std::to_string(m.lines)}});
    }
    data["kept"] = !kept.empty();
    data["months"] = std::move(kept);
    Response r = Page(req, ctx, "admin_security_search", "Search access logs", std::move(data), "/admin/security", status);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  Response RawSearchPage(Request& req, Context& ctx) {
    if (d_.raw_logs == nullptr) return d_.pages.ErrorPage(404, &req);
    auto query = req.Query();
    if (!query.ok()) return d_.pages.ErrorPage(400, &req);
    // From an alert's "search its lines" link.
    std::string client(Trim(Field(*query, "client")));
    html::Object data{{"client", client.size() <= 64 ? client : ""}};
    return RawSearchView(req, ctx, std::move(data), 200);
  }

  Response RawSearch(Request& req, Context& ctx) {
    if (d_.raw_logs == nullptr) return d_.pages.ErrorPage(404, &req);
    std::string ip(Trim(Field(ctx.form, "ip"))), client(Trim(Field(ctx.form, "client"))),
        path(Trim(Field(ctx.form, "path"))), from(Trim(Field(ctx.form, "from"))), to(Trim(Field(ctx.form, "to")));
    html::Object data{{"ip", ip}, {"client", client}, {"path", path}, {"from", from}, {"to", to}};
    auto refuse = [&](const char* field, const std::string& message) {
      data["error"] = message;
      data["error_field"] = field;
      return RawSearchView(req, ctx, std::move(data), 400);
    };
    if (ip.empty() && client.empty() && path.empty()) return refuse("ip", "Enter an address, a client or a path");
    if (ip.size() > 64) return refuse("ip", "Enter an address such as 203.0.113.7, or a range such as 203.0.113.0/24");
    if (!client.empty() && !logs::IsClientLabel(client)) return refuse("client", "Enter the client as an alert shows it, such as c-3f2a91c0de41");
    if (!path.empty() && (path.front() != '/' || path.size() > 512)) return refuse("path", "Enter a path that starts with /, such as /admin");
    // A page answers within seconds: at most 20 million lines read (about 4 GB of them), oldest
    // first; the command line reads them all.
    logs::RawQuery q{.ip = ip, .client = client, .path = path, .limit = 500, .max_scanned = 20'000'000};
    if (!from.empty()) {
      auto ms = logs::SearchBound(from, false);
      if (!ms) return refuse("from", "Enter the first day as YYYY-MM-DD, or a time such as 2026-12-01T10:00:00Z");
      q.from_ms = *ms;
    }
    if (!to.empty()) {
      auto ms = logs::SearchBound(to, true);
      if (!ms || *ms <= q.from_ms) return refuse("to", "Enter the last day as YYYY-MM-DD, or a time, not before the first");
      q.to_ms = *ms;
    }
    if (Status s = logs::CheckQuery(q); !s.ok()) {
      return refuse("ip", "Enter an address such as 203.0.113.7, or a range such as 203.0.113.0/24: " + s.error().message);
    }
    if (Status s = d_.trail.Append(d_.raw_logs->SearchRecord(q, ctx.actor.id, req.request_id)); !s.ok()) {
      return d_.pages.ErrorFor(s.error(), req);
    }
    auto found = d_.raw_logs->Search(*d_.logs_store, q);
    if (!found.ok()) return d_.pages.ErrorFor(found.error(), req);
    html::List lines;
    // Privacy: access-logs. Raw lines shown to the security role on request, audited above.
    for (const auto& m : found->matches) lines.push_back(html::Object{{"line", m.line}});
    data["searched"] = true;
    data["lines"] = std::move(lines);
    data["total"] = std::to_string(found->total);
    data["shown"] = std::to_string(found->matches.size());
    data["scanned"] = std::to_string(found->scanned);
    data["more"] = found->total > static_cast<int64_t>(found->matches.size());
    data["stopped"] = found->stopped;
    return RawSearchView(req, ctx, std::move(data), 200);
  }

  // ---- Consent records (dpo) ------------------------------------------------------------------

  // The history of one consent reference, as proof of what the visitor chose, when, on which
  // notice version and how.
  Response ConsentPage(Request& req, Context& ctx) {
    auto query = req.Query();
    if (!query.ok()) return d_.pages.ErrorPage(400, &req);
    return ConsentView(req, ctx, std::string(Trim(Field(*query, "reference"))), "", 200);
  }

  Response ConsentView(Request& req, Context& ctx, const std::string& reference, const std::string& notice, int status) {
    if (d_.consent_records == nullptr) return d_.pages.ErrorPage(404, &req);
    html::Object data{{"reference", reference}, {"notice", notice}};
    html::List categories;
    for (auto c : d_.reg.OptionalCategories()) {
      categories.push_back(html::Object{{"id", std::string(processing::CookieCategoryName(c))}});
    }
    data["categories"] = categories;
    if (!reference.empty()) {
      if (!consent::ValidConsentId(reference)) {
        data["error"] = "Enter the reference as the visitor's cookies page shows it: 32 characters, 0 to 9 and a to f";
        return Page(req, ctx, "admin_consent", "Consent records", std::move(data), "/admin/consent", 400);
      }
      // Privacy: consent-records, read by staff as proof of one visitor's choices.
      auto history = d_.consent_records->History(reference);
      if (!history.ok()) return d_.pages.ErrorFor(history.error(), req);
      html::List rows;
      for (const auto& r : *history) {
        std::string choices;
        for (const auto& [k, v] : r.choices) choices += (choices.empty() ? "" : ", ") + k + (v ? ": yes" : ": no");
        rows.push_back(html::Object{{"at", r.at.substr(0, 19) + "Z"}, {"notice_version", r.notice_version},
                                    {"consent_version", r.consent_version}, {"choices", choices.empty() ? "none asked" : choices},
                                    {"method", std::string(consent::MethodTitle(r.method))},
                                    {"recorded_by", r.recorded_by}});
      }
      data["searched"] = true;
      data["records"] = rows;
      data["found"] = !rows.empty();
      (void)d_.trail.Append({.actor = ctx.actor.id, .action = "consent.viewed", .request_id = req.request_id,
                             .details = {{"records", std::to_string(rows.size())}}});
    }
    return Page(req, ctx, "admin_consent", "Consent records", std::move(data), "/admin/consent", status);
  }

  // A choice the visitor made off the website (by phone, by letter), recorded by staff as proof.
  Response ConsentRecord(Request& req, Context& ctx) {
    if (d_.consent_records == nullptr || d_.cookie_gate == nullptr) return d_.pages.ErrorPage(404, &req);
    std::string reference(Trim(Field(ctx.form, "reference")));
    if (!consent::ValidConsentId(reference)) return ConsentView(req, ctx, reference, "", 400);
    std::map<std::string, bool> choices;
    for (auto c : d_.reg.OptionalCategories()) {
      std::string name(processing::CookieCategoryName(c));
      std::string v(Field(ctx.form, "cookies[" + name + "]"));
      if (v != "yes" && v != "no") return ConsentView(req, ctx, reference, "", 400);
      choices[name] = v == "yes";
    }
    // Privacy: consent-records (a choice recorded by staff).
    Status s = d_.consent_records->Record({.consent_id = reference, .notice_version = d_.reg.Version(),
                                           .consent_version = d_.cookie_gate->version(), .choices = choices,
                                           .method = consent::Method::kStaff, .recorded_by = ctx.actor.id});
    if (!s.ok()) return d_.pages.ErrorFor(s.error(), req);
    (void)d_.trail.Append({.actor = ctx.actor.id, .action = "consent.recorded_by_staff", .request_id = req.request_id});
    return ConsentView(req, ctx, reference, "Choice recorded.", 200);
  }

  const Deps d_;
};

}  // namespace

const std::vector<StaffRoute>& StaffRoutes() {
  static const std::vector<StaffRoute> kRoutes = {
      {Method::kGet, "/admin", Permission::kSignedIn},
      {Method::kPost, "/admin/logout", Permission::kSignedIn},
      {Method::kGet, "/admin/sessions", Permission::kSignedIn},
      {Method::kPost, "/admin/sessions/{handle}/end", Permission::kSignedIn},
      {Method::kGet, "/admin/account/second-factor", Permission::kSignedIn},
      {Method::kPost, "/admin/account/second-factor/start", Permission::kSignedIn},
      {Method::kPost, "/admin/account/second-factor/confirm", Permission::kSignedIn},
      {Method::kPost, "/admin/account/second-factor/remove", Permission::kSignedIn},
      {Method::kGet, "/admin/staff", Permission::kManageStaff},
      {Method::kPost, "/admin/staff", Permission::kManageStaff},
      {Method::kGet, "/admin/staff/{id}", Permission::kManageStaff},
      {Method::kPost, "/admin/staff/{id}/roles", Permission::kManageStaff},
      {Method::kPost, "/admin/staff/{id}/disable", Permission::kManageStaff},
      {Method::kPost, "/admin/staff/{id}/enable", Permission::kManageStaff},
      {Method::kPost, "/admin/staff/{id}/setup-link", Permission::kManageStaff},
      {Method::kGet, "/admin/audit", Permission::kReadAudit},
      {Method::kGet, "/admin/ropa", Permission::kManageRegister},
      {Method::kGet, "/admin/ropa.csv", Permission::kManageRegister},
      {Method::kGet, "/admin/analytics", Permission::kReadStatistics},
      {Method::kGet, "/admin/analytics.csv", Permission::kReadStatistics},
      {Method::kGet, "/admin/analytics/keys", Permission::kReadStatistics},
      {Method::kPost, "/admin/analytics/keys", Permission::kReadStatistics},
      {Method::kPost, "/admin/analytics/keys/{id}/revoke", Permission::kReadStatistics},
      {Method::kGet, "/admin/logs", Permission::kReadStatistics},
      {Method::kGet, "/admin/logs.csv", Permission::kReadStatistics},
      {Method::kGet, "/admin/security", Permission::kReadSecurity},
      {Method::kPost, "/admin/security/{id}/evidence", Permission::kReadSecurity},
      {Method::kGet, "/admin/security/search", Permission::kReadSecurity},
      {Method::kPost, "/admin/security/search", Permission::kReadSecurity},
      {Method::kGet, "/admin/consent", Permission::kManageRegister},
      {Method::kPost, "/admin/consent", Permission::kManageRegister},
  };
  return kRoutes;
}

const std::vector<std::pair<http::Method, std::string_view>>& OpenRoutes() {
  static const std::vector<std::pair<http::Method, std::string_view>> kRoutes = {
      {Method::kGet, "/admin/login"},       {Method::kPost, "/admin/login"},
      {Method::kGet, "/admin/login/code"},  {Method::kPost, "/admin/login/code"},
      {Method::kGet, "/admin/setup/{token}"}, {Method::kPost, "/admin/setup/{token}"},
  };
  return kRoutes;
}

std::string SessionCookieName(bool https) { return https ? "__Host-steward_staff" : "steward_staff"; }

std::vector<std::string> StaffCookieNames(bool https) { return {SessionCookieName(https), kPresessionCookie}; }

std::string BaseUrl(const config::Config& config, uint16_t port) {
  std::string base = config.server.public_base_url;
  if (base.empty()) {
    const std::string& host = config.server.listen_host;
    base = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string SetupLink(const std::string& base_url, const std::string& token) {
  return base_url + "/admin/setup/" + token;
}

void AddRoutes(http::Router& router, const Deps& deps) { std::make_shared<Admin>(deps)->AddAll(router); }

}  // namespace steward::admin
