#include "consent/consent.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "http/json_body.h"
#include "http/origin.h"
#include "core/log.h"
#include "core/strings.h"
#include "notice/notice.h"
#include "core/json_text.h"

namespace steward::consent {
namespace {

using http::Request;
using http::Response;
using http::SetCookie;
using processing::CookieCategory;

constexpr int64_t kYearSeconds = 365LL * 24 * 3600;
constexpr int64_t kMessageSeconds = int64_t{5} * 60;
constexpr int64_t kApiBodyBytes = 2048;

std::string CookieValue(const Request& req, std::string_view name) {
  for (const auto& [k, v] : req.Cookies()) {
    if (k == name) return v;
  }
  return "";
}

// RFC 6265 token characters: names outside them cannot be set or deleted by a Set-Cookie header.
bool IsCookieName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c > 0x20 && c < 0x7f && std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
  });
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

Response JsonError(const std::string& message, int status) {
  return Response::Json(JsonText(nlohmann::json{{"errors", {{"request", message}}}}), status);
}

}  // namespace

Status CheckDeclared(const processing::Register& reg, const std::vector<std::string>& needed) {
  std::vector<std::string> all = needed;
  for (auto& c : OwnCookies(reg)) all.push_back(std::move(c));
  return processing::CheckEssentialCookies(reg, all);
}

std::vector<std::string> OwnCookies(const processing::Register& reg) {
  if (reg.OptionalCategories().empty()) return {};
  return {kPolicyCookie, kPreferencesSetCookie, kConsentIdCookie, kMessageCookie};
}

Consent::Consent(const config::Config& config, const processing::Register& reg, const CookieGate& gate,
                 Records& records, const site::Pages& pages)
    : config_(config), reg_(reg), gate_(gate), records_(records), pages_(pages), notice_version_(reg.Version()) {}

std::string Consent::CategoryLabel() const {
  auto optional = reg_.OptionalCategories();
  return optional.size() == 1 && optional.front() == CookieCategory::kUsage ? "analytics cookies"
                                                                            : "additional cookies";
}

bool Consent::SameOriginOrAllowed(const Request& req) const {
  return http::SameOriginOrAllowed(req, config_.server.public_base_url, config_.site.script_origins);
}

void Consent::AllowOrigin(const Request& req, Response& res) const {
  http::AllowOrigin(req.Header("Origin"), config_.site.script_origins, res);
}

std::string Consent::SafeReturn(const std::string& wanted) const {
  if (wanted.find_first_of("\\\r\n\t ") != std::string::npos) return "/";
  if (wanted.starts_with("/") && !wanted.starts_with("//")) return wanted;
  for (const auto& origin : config_.site.script_origins) {
    if (wanted == origin || wanted.starts_with(origin + "/")) return wanted;
  }
  std::string own = TrimSlash(config_.server.public_base_url);
  if (!own.empty() && (wanted == own || wanted.starts_with(own + "/"))) return wanted;
  return "/";
}

Result<std::vector<SetCookie>> Consent::Choose(const Request& req, std::map<std::string, bool> choices, Method method,
                                               const std::string& recorded_by) {
  std::map<std::string, bool> full;
  for (CookieCategory c : reg_.OptionalCategories()) {
    std::string name(processing::CookieCategoryName(c));
    full[name] = choices.count(name) > 0 && choices[name];
  }
  std::string id = CookieValue(req, kConsentIdCookie);
  if (!ValidConsentId(id)) id = NewConsentId();
  // Privacy: consent-records. The proof first: a choice that cannot be recorded is not made.
  STEWARD_RETURN_IF_ERROR(records_.Record({.consent_id = id,
                                           .notice_version = notice_version_,
                                           .consent_version = gate_.version(),
                                           .choices = full,
                                           .method = method,
                                           .recorded_by = recorded_by}));
  std::vector<SetCookie> out;
  // GOV.UK's shape: scripts on the site read these, so they are not HttpOnly.
  out.push_back({.name = kPolicyCookie,
                 .value = gate_.PolicyValue(full),
                 .max_age_seconds = kYearSeconds,
                 .secure = req.https,
                 .http_only = false});
  out.push_back({.name = kPreferencesSetCookie,
                 .value = "true",
                 .max_age_seconds = kYearSeconds,
                 .secure = req.https,
                 .http_only = false});
  out.push_back({.name = kConsentIdCookie, .value = id, .max_age_seconds = kYearSeconds, .secure = req.https});
  // Withdrawing a category deletes every cookie the register lists in it.
  for (const auto& cookie : reg_.PublicCookies()) {
    if (cookie.category == CookieCategory::kEssential || !IsCookieName(cookie.name)) continue;
    if (full[std::string(processing::CookieCategoryName(cookie.category))]) continue;
    out.push_back(SetCookie::Expired(cookie.name, cookie.path, cookie.domain));
  }
  log::Info("consent.recorded", {{"method", std::string(MethodName(method))}});
  return out;
}

void Consent::Frame(const Request& req, html::Object& frame) const {
  if (reg_.OptionalCategories().empty()) return;
  // GPC with no choice made answers the question: a rejection, honoured on every request and never
  // written, so that anonymous requests cannot fill the records. A choice the person makes is.
  if (GlobalPrivacyControl(req) && !gate_.CurrentChoice(req).made) return;
  frame["cookie_banner"] = BannerHtml(req, "/cookies", req.target);
}

std::string Consent::BannerHtml(const Request& req, const std::string& action, const std::string& return_to) const {
  if (reg_.OptionalCategories().empty()) return "";
  Choice choice = gate_.CurrentChoice(req);
  std::string message = CookieValue(req, kMessageCookie);
  bool confirm = choice.made && (message == "accepted" || message == "rejected");
  bool question = !choice.made && !GlobalPrivacyControl(req);
  if (!confirm && !question) return "";
  std::string cookies_url = action.starts_with("/") ? "/cookies" : action;
  html::Object data{{"service", reg_.service},
                    {"label", CategoryLabel()},
                    {"action", action},
                    {"return_to", SafeReturn(return_to)},
                    {"cookies_url", cookies_url},
                    {"exemption", reg_.consent_mode == processing::ConsentMode::kStatisticsExemption},
                    {"question", question},
                    {"accepted_shown", confirm && message == "accepted"},
                    {"rejected_shown", confirm && message == "rejected"}};
  auto html = pages_.RenderBare("cookie_banner", std::move(data));
  if (!html.ok()) {
    log::Error("consent.banner_failed", {{"error", html.error().ToString()}});
    return "";
  }
  return *html;
}

Response Consent::CookiesPage(const Request& req, const std::vector<SetCookie>* set, int status) const {
  html::Object data = notice::CookiesData(reg_);
  Choice choice = gate_.CurrentChoice(req, set);
  bool gpc = GlobalPrivacyControl(req);
  html::List categories;
  for (CookieCategory c : reg_.OptionalCategories()) {
    std::string name(processing::CookieCategoryName(c));
    bool yes = gate_.CategoryAllowed(c, choice, gpc);
    categories.push_back(
        html::Object{{"id", name}, {"question", notice::CookieQuestion(c)}, {"yes", yes}, {"no", !yes}});
  }
  data["categories"] = categories;
  data["saved"] = set != nullptr;
  data["gpc"] = gpc && !choice.made;
  std::string id;
  if (set != nullptr) {
    for (const auto& c : *set) {
      if (c.name == kConsentIdCookie) id = c.value;
    }
  }
  if (id.empty()) id = CookieValue(req, kConsentIdCookie);
  // Privacy: consent-records. The visitor's own reference, so that they can quote it to the DPO.
  if (ValidConsentId(id)) data["reference"] = id;
  if (set == nullptr) {
    Response r = pages_.Page(req, "cookies", "Cookies", std::move(data), status);
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }
  // Just chosen: no banner on the confirmation page.
  auto page = pages_.Render("cookies", "Cookies", std::move(data));
  if (!page.ok()) return pages_.ErrorFor(page.error(), req);
  Response r = Response::Html(std::move(*page), status);
  r.cookies = *set;
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

Response Consent::PostCookies(Request& req) {
  if (!SameOriginOrAllowed(req)) {
    log::Warn("consent.cross_site_refused", {{"route", req.route}});
    return pages_.ErrorPage(403, &req);
  }
  auto form = req.Form();
  if (!form.ok()) return pages_.ErrorPage(400, &req);
  std::string return_to = SafeReturn(http::Find(*form, "return") ? *http::Find(*form, "return") : "/");
  if (const std::string* hide = http::Find(*form, "cookies[hide]"); hide && *hide == "yes") {
    Response r = Response::Redirect(return_to);
    r.cookies.push_back(SetCookie::Expired(kMessageCookie));
    return r;
  }
  if (reg_.OptionalCategories().empty()) return pages_.ErrorPage(400, &req);
  std::map<std::string, bool> choices;
  Method method;
  if (const std::string* additional = http::Find(*form, "cookies[additional]")) {
    if (*additional != "yes" && *additional != "no") return pages_.ErrorPage(400, &req);
    for (CookieCategory c : reg_.OptionalCategories()) {
      choices[std::string(processing::CookieCategoryName(c))] = *additional == "yes";
    }
    method = Method::kBanner;
  } else {
    for (CookieCategory c : reg_.OptionalCategories()) {
      std::string name(processing::CookieCategoryName(c));
      const std::string* v = http::Find(*form, "cookies[" + name + "]");
      if (v == nullptr || (*v != "yes" && *v != "no")) return pages_.ErrorPage(400, &req);
      choices[name] = *v == "yes";
    }
    method = Method::kCookiesPage;
  }
  auto cookies = Choose(req, choices, method);
  if (!cookies.ok()) return pages_.ErrorFor(cookies.error(), req);
  if (method == Method::kCookiesPage) return CookiesPage(req, &*cookies);
  Response r = Response::Redirect(return_to);
  r.cookies = std::move(*cookies);
  bool accepted = std::any_of(choices.begin(), choices.end(), [](const auto& kv) { return kv.second; });
  r.cookies.push_back({.name = kMessageCookie,
                       .value = accepted ? "accepted" : "rejected",
                       .max_age_seconds = kMessageSeconds,
                       .secure = req.https,
                       .http_only = false});
  return r;
}

std::string Consent::StateJson(const Request& req, const std::vector<SetCookie>* set) const {
  Choice choice = gate_.CurrentChoice(req, set);
  bool gpc = GlobalPrivacyControl(req);
  nlohmann::ordered_json j;
  j["mode"] = reg_.consent_mode == processing::ConsentMode::kConsent ? "consent" : "statistics-exemption";
  j["version"] = gate_.version();
  j["notice_version"] = notice_version_;
  j["categories"] = nlohmann::ordered_json::array();
  j["allowed"] = nlohmann::ordered_json::object();
  for (CookieCategory c : reg_.OptionalCategories()) {
    std::string name(processing::CookieCategoryName(c));
    j["categories"].push_back(name);
    j["allowed"][name] = gate_.CategoryAllowed(c, choice, gpc);
  }
  j["choice_made"] = choice.made;
  j["gpc"] = gpc;
  // Whether first-party analytics may count this visitor: exactly when usage is allowed, whatever
  // the purpose's lawful basis. In consent mode that is after a yes; with the statistics exemption,
  // until a no or GPC. A visitor who says no is not counted. The analytics module applies the same
  // rule to each event.
  j["analytics_allowed"] = gate_.CategoryAllowed(CookieCategory::kUsage, choice, gpc);
  j["show_banner"] = !reg_.OptionalCategories().empty() && !choice.made && !gpc;
  // The cookies the register declares in each optional category, so that /steward.js can delete
  // them from the page's own domain when a category is not allowed (scripts on the site's other
  // pages set them where Steward's own Set-Cookie cannot reach).
  j["cookies"] = nlohmann::ordered_json::object();
  for (CookieCategory c : reg_.OptionalCategories()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& cookie : reg_.PublicCookies()) {
      if (cookie.category != c || !IsCookieName(cookie.name)) continue;
      list.push_back({{"name", cookie.name}, {"path", cookie.path}, {"domain", cookie.domain}});
    }
    j["cookies"][std::string(processing::CookieCategoryName(c))] = list;
  }
  return JsonText(j);
}

Response Consent::GetApi(Request& req) const {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(StateJson(req, nullptr));
  std::string id = CookieValue(req, kConsentIdCookie);
  j["recorded"] = nullptr;
  if (ValidConsentId(id)) {
    // Privacy: consent-records. The visitor's own latest record, found by the id their browser holds.
    auto current = records_.Current(id);
    if (!current.ok()) return pages_.ErrorFor(current.error(), req);
    if (*current) {
      j["recorded"] = {{"at", (*current)->at},
                       {"method", std::string(MethodName((*current)->method))},
                       {"notice_version", (*current)->notice_version},
                       {"choices", (*current)->choices}};
    }
  }
  Response r = Response::Json(JsonText(j));
  r.SetHeader("Cache-Control", "no-store");
  AllowOrigin(req, r);
  return r;
}

Response Consent::PostApi(Request& req) {
  if (!SameOriginOrAllowed(req)) {
    log::Warn("consent.cross_site_refused", {{"route", req.route}});
    Response r = JsonError("this origin may not record a choice", 403);
    AllowOrigin(req, r);
    return r;
  }
  auto fail = [&](const std::string& message) {
    Response r = JsonError(message, 400);
    AllowOrigin(req, r);
    return r;
  };
  if (reg_.OptionalCategories().empty()) return fail("this site uses no optional cookies");
  if (req.ContentType() != "application/json" && req.ContentType() != "text/plain") {
    return fail("expected a JSON body (application/json)");
  }
  auto choice = ReadChoice(req.body, reg_.OptionalCategories());
  if (!choice.ok()) return fail(choice.error().message);
  Method method = choice->method;
  std::map<std::string, bool> choices = std::move(choice->choices);
  auto cookies = Choose(req, choices, method);
  if (!cookies.ok()) return pages_.ErrorFor(cookies.error(), req);
  Response r = Response::Json(StateJson(req, &*cookies));
  r.cookies = std::move(*cookies);
  r.SetHeader("Cache-Control", "no-store");
  AllowOrigin(req, r);
  return r;
}

Response Consent::Banner(Request& req) const {
  auto query = req.Query();
  if (!query.ok()) return Response::Text("Bad query\n", 400);
  const std::string* wanted = http::Find(*query, "return");
  std::string html =
      BannerHtml(req, http::OwnOrigin(req, config_.server.public_base_url) + "/cookies", wanted ? *wanted : "/");
  Response r = Response::Html(std::move(html));
  r.SetHeader("Cache-Control", "no-store");
  AllowOrigin(req, r);
  return r;
}

void Consent::AddRoutes(http::Router& router) {
  router.Get("/cookies", [this](Request& req) { return CookiesPage(req, nullptr); });
  constexpr auto kAnonymous = http::RouteOptions::Anonymous::kForm;
  router.Post("/cookies", [this](Request& req) { return PostCookies(req); },
              {.blocking = true, .anonymous_write = kAnonymous});
  router.Get("/api/consent", [this](Request& req) { return GetApi(req); }, {.blocking = true});
  router.Post("/api/consent", [this](Request& req) { return PostApi(req); },
              {.max_body_bytes = kApiBodyBytes, .blocking = true, .anonymous_write = kAnonymous});
  router.Add(http::Method::kOptions, "/api/consent", [this](Request& req) {
    // The preflight of a cross-origin POST with a JSON content type.
    return http::Preflight(req.Header("Origin"), config_.site.script_origins, "GET, POST");
  });
  router.Get("/cookies/banner", [this](Request& req) { return Banner(req); });
  router.Get("/steward.js", [this](Request& req) {
    Response r = pages_.assets().Serve(req, "/static/steward/steward.js");
    // Sites include it by this fixed name, so it must not be cached for long.
    if (r.status == 200) r.SetHeader("Cache-Control", "public, max-age=300");
    return r;
  });
}

}  // namespace steward::consent
