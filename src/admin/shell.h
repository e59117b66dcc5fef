// The staff shell under /admin: signing in (password, second factor, set-up links), the one guard
// every staff page goes through, the layout and navigation, the staff home page, and one's own
// sessions and security codes. Every other staff page is declared by the module it belongs to
// (module/staff_page.h) and added here through AddRoutes.
//
// The guard loads the session (by a keyed hash of the cookie), sends the person to the second
// factor when their account has one, checks the page's permission against staff/roles.cc (a
// refusal is audited), and checks the CSRF token of every POST. The routes under /admin that need
// no session are OpenRoutes(): signing in and set-up links, which use a pre-session CSRF cookie.
//
// Thread safety: immutable once its routes are added; handlers run on the worker threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "config/config.h"
#include "module/staff_page.h"
#include "site/pages.h"
#include "staff/accounts.h"
#include "staff/sessions.h"

namespace steward::admin {

// The routes under /admin that need no signed-in session: signing in and set-up links.
const std::vector<std::pair<http::Method, std::string_view>>& OpenRoutes();

// The staff session cookie's name: "__Host-steward_staff" over https, "steward_staff" otherwise.
std::string SessionCookieName(bool https);
// Every cookie the staff pages set (the register must declare them, audience = "staff").
std::vector<std::string> StaffCookieNames(bool https);

// The set-up link for a token: <base_url>/admin/setup/<token>.
std::string SetupLink(const std::string& base_url, const std::string& token);

class Shell : public module::StaffShell, public module::StaffLayout, public std::enable_shared_from_this<Shell> {
 public:
  struct Deps {
    const config::Config& config;
    // The site's public address for links staff send on, without a trailing slash.
    std::function<std::string()> base_url;
    const site::Pages& pages;
    staff::Accounts& accounts;
    staff::Sessions& sessions;
    audit::Trail& trail;
    const Clock& clock;
  };
  // Make it with std::make_shared: its routes hold it.
  explicit Shell(Deps deps) : d_(std::move(deps)) {}

  void AddRoutes(http::Router& router, std::vector<module::StaffPage> pages) override;

  http::Response Page(const http::Request& req, const module::StaffContext& ctx, std::string_view tmpl,
                      std::string_view title, html::Object data, std::string_view current,
                      int status = 200) const override;
  http::Response Error(int status, const http::Request& req) const override;
  http::Response ErrorFor(const steward::Error& error, const http::Request& req) const override;

  // The shell's own pages (home, sign-out, sessions, security codes), as declared to the guard.
  std::vector<module::StaffPage> OwnPages();

 private:
  http::Response Guard(http::Request& req, staff::Permission permission, const module::StaffHandler& handler);
  http::Response OpenPage(http::Request& req, std::string_view tmpl, std::string_view title, html::Object data,
                          int status = 200);
  bool PresessionCsrfOk(const http::Request& req, const http::Params& form);
  http::SetCookie SessionCookie(const http::Request& req, std::string value);
  staff::Client ClientKey(const http::Request& req);
  std::string PresessionMac(std::string_view nonce_and_time) const;
  std::string NewPresession() const;
  // The pre-session cookie's age in seconds, when it is Steward's and not expired.
  std::optional<int64_t> PresessionAge(std::string_view cookie) const;
  std::optional<staff::Session> PendingSession(const http::Request& req, std::string& cookie);

  http::Response LoginPage(http::Request& req);
  http::Response LoginSubmit(http::Request& req);
  http::Response CodePage(http::Request& req);
  http::Response CodeSubmit(http::Request& req);
  http::Response SetupPage(http::Request& req);
  http::Response ExpiredLink(http::Request& req);
  http::Response SetupSubmit(http::Request& req);

  http::Response Home(http::Request& req, module::StaffContext& ctx);
  http::Response Logout(http::Request& req, module::StaffContext& ctx);
  http::Response SessionsPage(http::Request& req, module::StaffContext& ctx);
  http::Response EndSession(http::Request& req, module::StaffContext& ctx);
  http::Response SecondFactorPage(http::Request& req, module::StaffContext& ctx);
  http::Response SecondFactorWithSecret(http::Request& req, module::StaffContext& ctx, const std::string& secret,
                                        std::string error);
  http::Response SecondFactorStart(http::Request& req, module::StaffContext& ctx);
  http::Response SecondFactorConfirm(http::Request& req, module::StaffContext& ctx);
  http::Response SecondFactorRemove(http::Request& req, module::StaffContext& ctx);

  Deps d_;
  std::vector<module::StaffPage> pages_;  // every page added (without its handler), for the navigation
};

}  // namespace steward::admin
