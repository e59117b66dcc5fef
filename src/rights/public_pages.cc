#include "rights/public_pages.h"

#include <set>

#include "consent/consent.h"
#include "core/days.h"
#include "core/log.h"
#include "core/strings.h"
#include "http/origin.h"
#include "module/public_sessions.h"
#include "rights/copies.h"
#include "site/pages.h"

namespace steward::rights {
namespace {

using http::Request;
using http::Response;
using Errors = std::vector<std::pair<std::string, std::string>>;

constexpr int64_t kMaxBody = int64_t{32} * 1024;

Response NoStore(Response r) {
  r.SetHeader("Cache-Control", "no-store");
  // The confirmation link's token is in the address: no other site is told it.
  r.SetHeader("Referrer-Policy", "same-origin");
  return r;
}

}  // namespace

struct PublicPages::Impl {
  module::Platform& p;
  Requests& requests;
  Copies& copies;
  std::string visitor_cookie;

  // The references this browser's cookies hold, as keys (none when it holds none).
  std::vector<subject::Key> BrowserKeys(const Request& req) const {
    std::vector<subject::Key> out;
    auto cookies = req.Cookies();
    auto add = [&](const std::string& name, subject::KeyKind kind) {
      if (name.empty()) return;
      // Privacy: rights requests: the browser's own references, sent with the person's agreement.
      if (auto key = subject::Key::Make(kind, module::Field(cookies, name)); key.ok()) out.push_back(*key);
    };
    add(consent::kConsentIdCookie, subject::KeyKind::kConsentId);
    add(visitor_cookie, subject::KeyKind::kVisitorId);
    return out;
  }

  Response Render(Request& req, std::string_view tmpl, std::string title, html::Object data, const Errors& errors,
                  int status) {
    if (!errors.empty()) {
      data["errors"] = module::ErrorSummary(errors);
      for (const auto& [field, message] : errors) data[field + "_error"] = message;
      title = "Error: " + title;
    }
    return NoStore(p.pages->Page(req, tmpl, title, std::move(data), status));
  }

  Response Form(Request& req, const http::Params& form, const Errors& errors, int status) {
    std::set<std::string> chosen;
    for (const auto& r : module::AllFields(form, "rights")) chosen.insert(r);
    html::List rights;
    for (Right r : AllRights()) {
      std::string name(RightName(r));
      rights.push_back(html::Object{{"value", name},
                                    {"text", std::string(RightTitle(r))},
                                    {"id", r == Right::kAccess ? std::string("rights") : "rights-" + name},
                                    {"checked", chosen.count(name) > 0}});
    }
    size_t held = BrowserKeys(req).size();
    auto person = SignedIn(req);
    std::string name = module::Field(form, "name");
    if (person && name.empty() && module::Field(form, "rights").empty()) name = person->name;
    html::Object data{{"rights", rights},
                      {"legend", "What would you like us to do?"},
                      {"name", name},
                      {"email", module::Field(form, "email")},
                      {"signed_in", person.has_value()},
                      {"account_email", person ? person->email : std::string()},
                      {"csrf_token", person ? person->csrf : std::string()},
                      {"details", module::Field(form, "details")},
                      {"browser_holds", held > 0},
                      {"browser_checked", module::Field(form, "browser") == "yes"},
                      {"hours", int64_t{Requests::kLinkHours}},
                      {"site", p.config.site.name}};
    return Render(req, "your_data", "Ask about your personal data", std::move(data), errors, status);
  }

  // The account holder signed in on `req`, when the site has accounts.
  std::optional<module::SignedInPerson> SignedIn(const Request& req) const {
    auto* sessions = p.services.Find<module::PublicSessions>();
    return sessions != nullptr ? sessions->SignedIn(req) : std::nullopt;
  }

  // A signed-in account holder's request: their account proves the address, so the case opens now.
  Response PostSignedIn(Request& req, const http::Params& form, const module::SignedInPerson& person) {
    if (!p.services.Find<module::PublicSessions>()->CheckCsrf(req, module::Field(form, "csrf_token"))) {
      return p.pages->ErrorPage(403, &req);
    }
    NewCase c{.name = std::string(Trim(module::Field(form, "name"))),
              .email = person.email,
              .identifiers = {person.account},
              .details = module::Field(form, "details")};
    for (const auto& r : module::AllFields(form, "rights")) {
      if (auto right = ParseRight(r)) c.rights.push_back(*right);
    }
    if (module::Field(form, "browser") == "yes") {
      for (auto& k : BrowserKeys(req)) c.identifiers.push_back(std::move(k));
    }
    Errors errors;
    if (c.rights.empty()) errors.emplace_back("rights", "Choose what you would like us to do");
    if (errors.empty()) {
      auto opened = requests.OpenSignedIn(c, {.id = "self", .request_id = req.request_id});
      if (opened.ok()) return Received(req, *opened);
      if (opened.error().code != ErrorCode::kInvalidArgument) {
        log::Warn("rights.ask_failed", {{"error", opened.error().message}, {"request_id", req.request_id}});
        return p.pages->ErrorFor(opened.error(), req);
      }
      errors.push_back(module::FieldError(opened.error(), "details"));
    }
    return Form(req, form, errors, 400);
  }

  Response Received(Request& req, const Cases::Opened& opened) {
    return Render(req, "your_data_received", "We have your request",
                  html::Object{{"reference", Cases::Reference(opened.id)},
                               {"due", module::LongDay(opened.due.day)},
                               {"site", p.config.site.name}},
                  {}, 200);
  }

  Response Post(Request& req) {
    if (!http::SameOriginOrAllowed(req, p.config.server.public_base_url, {})) return p.pages->ErrorPage(403, &req);
    auto form = req.Form();
    if (!form.ok()) return p.pages->ErrorPage(400, &req);
    if (auto person = SignedIn(req)) return PostSignedIn(req, *form, *person);
    // The honeypot: people never see it.
    if (!module::Field(*form, "giraffe").empty()) return CheckEmail(req);
    NewCase c{.name = std::string(Trim(module::Field(*form, "name"))),
              .email = std::string(Trim(module::Field(*form, "email"))),
              .details = module::Field(*form, "details")};
    for (const auto& r : module::AllFields(*form, "rights")) {
      if (auto right = ParseRight(r)) c.rights.push_back(*right);
    }
    if (module::Field(*form, "browser") == "yes") c.identifiers = BrowserKeys(req);
    Errors errors;
    if (c.rights.empty()) errors.emplace_back("rights", "Choose what you would like us to do");
    if (c.email.empty()) errors.emplace_back("email", "Enter your email address");
    if (c.email.size() > 254) errors.emplace_back("email", "Enter an email address of 254 characters or fewer");
    if (errors.empty()) {
      Status asked = requests.Ask(c, {.id = "self", .request_id = req.request_id});
      if (asked.ok()) return CheckEmail(req);
      if (asked.error().code == ErrorCode::kInvalidArgument) {
        errors.push_back(module::FieldError(asked.error(), "details"));
      } else if (asked.error().code == ErrorCode::kFailedPrecondition) {
        // The mail queue will not send to the address (it bounced for good, or its owner complained).
        errors.emplace_back("email", "We cannot send email to this address: give another, or contact us another way");
      } else {
        log::Warn("rights.ask_failed", {{"error", asked.error().message}, {"request_id", req.request_id}});
        return p.pages->ErrorFor(asked.error(), req);
      }
    }
    return Form(req, *form, errors, 400);
  }

  Response CheckEmail(Request& req) {
    return Render(req, "your_data_check_email", "Check your email",
                  html::Object{{"hours", int64_t{Requests::kLinkHours}}}, {}, 200);
  }

  Response Confirm(Request& req) {
    auto opened = requests.Confirm(req.PathParam("token"), {.id = "self", .request_id = req.request_id});
    if (!opened.ok() && opened.error().code == ErrorCode::kNotFound) {
      return Render(req, "your_data_link", "This link has expired or is not right",
                    html::Object{{"hours", int64_t{Requests::kLinkHours}}}, {}, 404);
    }
    if (!opened.ok()) return p.pages->ErrorFor(opened.error(), req);
    return Received(req, *opened);
  }

  // ---- The copy of their data ----------------------------------------------------------------------

  Response CopyGone(Request& req) {
    return Render(req, "your_data_copy_gone", "This link no longer works", html::Object{}, {}, 404);
  }

  Response CopyPage(Request& req, const std::string& email, const Errors& errors, int status) {
    return Render(req, "your_data_copy", "Download a copy of your data",
                  html::Object{{"token", std::string(req.PathParam("token"))}, {"email", email}}, errors, status);
  }

  Response CopyGet(Request& req) {
    auto live = copies.Live(req.PathParam("token"));
    if (!live.ok()) return p.pages->ErrorFor(live.error(), req);
    if (!*live) return CopyGone(req);
    return CopyPage(req, "", {}, 200);
  }

  Response CopyPost(Request& req) {
    if (!http::SameOriginOrAllowed(req, p.config.server.public_base_url, {})) return p.pages->ErrorPage(403, &req);
    auto form = req.Form();
    if (!form.ok()) return p.pages->ErrorPage(400, &req);
    std::string email(Trim(module::Field(*form, "email")));
    if (email.empty())
      return CopyPage(req, email, {{"email", "Enter the email address you made your request from"}}, 400);
    // Privacy: rights requests: the address given is compared with the case's keyed hash of it.
    auto download = copies.Open(req.PathParam("token"), email, {.id = "self", .request_id = req.request_id});
    if (!download.ok() && download.error().code == ErrorCode::kNotFound) return CopyGone(req);
    if (!download.ok() && download.error().code == ErrorCode::kPermissionDenied) {
      return CopyPage(req, email, {{"email", "Enter the email address you made your request from"}}, 400);
    }
    if (!download.ok()) return p.pages->ErrorFor(download.error(), req);
    Response r;
    r.status = 200;
    r.body = std::move(download->zip);
    r.SetHeader("Content-Type", "application/zip");
    r.SetHeader("Content-Disposition", "attachment; filename=\"your-data-" + download->reference + ".zip\"");
    return NoStore(std::move(r));
  }
};

PublicPages::PublicPages(module::Platform& p, Requests& requests, Copies& copies, std::string visitor_cookie)
    : impl_(std::make_shared<Impl>(Impl{p, requests, copies, std::move(visitor_cookie)})) {}

PublicPages::~PublicPages() = default;

void PublicPages::AddRoutes(http::Router& router) {
  auto self = impl_;
  // Blocking: a signed-in account holder is looked up in the store.
  router.Get("/your-data", [self](Request& req) { return self->Form(req, {}, {}, 200); }, {.blocking = true});
  router.Post("/your-data", [self](Request& req) { return self->Post(req); },
              {.max_body_bytes = kMaxBody, .blocking = true, .anonymous_write = http::RouteOptions::Anonymous::kForm});
  router.Get("/your-data/confirm/{token}", [self](Request& req) { return self->Confirm(req); },
             {.blocking = true, .anonymous_write = http::RouteOptions::Anonymous::kForm});
  router.Get("/your-data/copy/{token}", [self](Request& req) { return self->CopyGet(req); }, {.blocking = true});
  router.Post("/your-data/copy/{token}", [self](Request& req) { return self->CopyPost(req); },
              {.max_body_bytes = 4096, .blocking = true, .anonymous_write = http::RouteOptions::Anonymous::kForm});
}

}  // namespace steward::rights
