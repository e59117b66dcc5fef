// The staff pages under /admin: sign-in, set-up links, the staff home, staff accounts, the audit
// trail, the record of processing, consent records, one's own sessions and second factor.
//
// Every staff route is in one table (StaffRoutes) with the permission it needs, and is added
// through one guard that loads the session, requires the second factor when the account has one,
// checks the permission against staff/roles.cc, and checks the CSRF token of every state-changing
// request. A route cannot be added without an entry in the table (a check stops the process), and
// a test walks the router for /admin routes that bypass it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analytics/api_keys.h"
#include "analytics/stats.h"
#include "audit/audit.h"
#include "config/config.h"
#include "consent/gate.h"
#include "consent/records.h"
#include "core/clock.h"
#include "http/router.h"
#include "register/register.h"
#include "site/pages.h"
#include "staff/accounts.h"
#include "staff/roles.h"
#include "staff/sessions.h"

namespace steward::logs {
class RawArchive;
}

namespace steward::admin {

struct StaffRoute {
  http::Method method;
  std::string_view pattern;
  staff::Permission permission;
};

// The staff routes and the permission each needs.
const std::vector<StaffRoute>& StaffRoutes();
// The routes under /admin that need no signed-in session: signing in and set-up links.
const std::vector<std::pair<http::Method, std::string_view>>& OpenRoutes();

struct Deps {
  const config::Config& config;
  // The site's public address for links staff send on ("https://www.example.gov.uk"), without a
  // trailing slash: public_base_url, or the address actually bound when none is configured.
  std::function<std::string()> base_url;
  const site::Pages& pages;
  const processing::Register& reg;
  staff::Accounts& accounts;
  staff::Sessions& sessions;
  audit::Trail& trail;
  const Clock& clock;
  // The proof of cookie choices (/admin/consent); null on a site with no optional cookies.
  consent::Records* consent_records = nullptr;
  const consent::CookieGate* cookie_gate = nullptr;
  // The analyst's dashboard (/admin/analytics); null when the site has no [analytics].
  analytics::Stats* stats = nullptr;
  std::vector<std::string> analytics_sites;
  // Stats API keys (/admin/analytics/keys); null when the site has no [analytics].
  analytics::ApiKeys* api_keys = nullptr;
  // Access-log statistics (/admin/logs) and alerts (/admin/security): the site's store and key.
  store::Store* logs_store = nullptr;
  const crypto::SecretKey* logs_key = nullptr;
  // The raw lines kept (/admin/security/search); null hides the search.
  const logs::RawArchive* raw_logs = nullptr;
};

// Adds every /admin route to `router`. `deps` must outlive the router.
void AddRoutes(http::Router& router, const Deps& deps);

// The staff session cookie's name: "__Host-steward_staff" over https, "steward_staff" otherwise.
std::string SessionCookieName(bool https);
// Every cookie the staff pages set (the register must declare them, audience = "staff").
std::vector<std::string> StaffCookieNames(bool https);

// The public address for links: public_base_url, or http://HOST:PORT from `port` (the port bound).
std::string BaseUrl(const config::Config& config, uint16_t port);
// The set-up link for a token: <base_url>/admin/setup/<token>.
std::string SetupLink(const std::string& base_url, const std::string& token);

}  // namespace steward::admin
