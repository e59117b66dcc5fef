// Cookie consent on the GOV.UK pattern: the banner, the cookies page, the choice cookies, the
// records that prove each choice, and /steward.js for the site's own pages.
//
// The visitor's choice lives in GOV.UK's cookies (`cookies_policy`, `cookies_preferences_set`),
// so that GOV.UK scripts read it, with Steward's consent version inside `cookies_policy`. Each
// choice is also recorded (see records.h) under a random consent id kept in the essential
// `steward_consent` cookie. Withdrawing a category deletes every cookie the register lists in it.
// A browser sending `Sec-GPC: 1` that has made no choice is treated as rejecting every optional
// category; the signal is honoured on each request and not recorded (nobody chose anything).
//
// Routes (AddRoutes):
//   GET  /cookies          the cookie table with a yes/no choice per category
//   POST /cookies          the no-JavaScript forms: the banner (cookies[additional]=yes|no,
//                          cookies[hide]=yes; redirects back) and the cookies page
//                          (cookies[<category>]=yes|no)
//   GET  /api/consent      the visitor's current choice, as JSON
//   POST /api/consent      records a choice made in JavaScript (the banner, steward.js)
//   GET  /cookies/banner   the banner alone, for pages Steward does not render
//   GET  /steward.js       the script the site's own pages include with one tag
// Public POSTs are checked against cross-site forgery by Origin (or Sec-Fetch-Site): Steward's own
// origin and `site.script_origins` only.
//
// Thread safety: immutable after construction, apart from the records it writes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "consent/gate.h"
#include "consent/records.h"
#include "http/router.h"
#include "register/register.h"
#include "site/pages.h"

namespace steward::consent {

// The cookies the consent module sets: every register with optional cookie categories must
// declare them (CheckDeclared).
inline constexpr const char* kPolicyCookie = "cookies_policy";
inline constexpr const char* kPreferencesSetCookie = "cookies_preferences_set";
inline constexpr const char* kConsentIdCookie = "steward_consent";
inline constexpr const char* kMessageCookie = "steward_cookie_message";

// The consent module's own cookies: the four above when the register has optional categories.
std::vector<std::string> OwnCookies(const processing::Register& reg);

// Errors: kFailedPrecondition naming each cookie `needed` that `reg` does not declare, plus the
// consent module's own cookies (OwnCookies).
Status CheckDeclared(const processing::Register& reg, const std::vector<std::string>& needed);

class Consent {
 public:
  // `reg`, `gate`, `records` and `pages` must outlive this.
  Consent(const config::Config& config, const processing::Register& reg, const CookieGate& gate, Records& records,
          const site::Pages& pages);

  // Adds the routes above. `this` must outlive the router.
  void AddRoutes(http::Router& router);
  // The public frame for site::Pages: the banner for this visitor (none when GPC answered it).
  void Frame(const http::Request& req, html::Object& frame) const;

  // Records `choices` (category -> allowed; categories not named are refused) made by `method`,
  // and returns the cookies that carry it: the choice, the consent id, and deletions for every
  // cookie of a refused category. Errors: from the store.
  Result<std::vector<http::SetCookie>> Choose(const http::Request& req, std::map<std::string, bool> choices,
                                              Method method, const std::string& recorded_by = "");

  // The banner's HTML for this visitor, or "" when there is nothing to show. `action` is where its
  // form posts; `return_to` where the visitor goes back to.
  std::string BannerHtml(const http::Request& req, const std::string& action, const std::string& return_to) const;

 private:
  http::Response CookiesPage(const http::Request& req, const std::vector<http::SetCookie>* set, int status = 200) const;
  http::Response PostCookies(http::Request& req);
  http::Response GetApi(http::Request& req) const;
  http::Response PostApi(http::Request& req);
  http::Response Banner(http::Request& req) const;
  // Whether a state-changing request comes from Steward's own pages or an allowed origin.
  bool SameOriginOrAllowed(const http::Request& req) const;
  // Adds CORS headers for an allowed cross-origin caller.
  void AllowOrigin(const http::Request& req, http::Response& res) const;
  // A safe place to send the visitor back to: a local path, or an address on an allowed origin.
  std::string SafeReturn(const std::string& wanted) const;
  std::string StateJson(const http::Request& req, const std::vector<http::SetCookie>* set) const;
  std::string CategoryLabel() const;  // "analytics cookies" or "additional cookies"

  const config::Config& config_;
  const processing::Register& reg_;
  const CookieGate& gate_;
  Records& records_;
  const site::Pages& pages_;
  std::string notice_version_;
};

}  // namespace steward::consent
