// First-party analytics: POST /api/event (the Plausible Events API), visitors counted without
// storing who they are, visits, and durable storage.
//
// For each event: the user agent is required; bots are dropped and counted; only the site's
// configured domains are kept; when the register's analytics purpose rests on consent, the
// visitor's choice (the cookie gate's reading of `cookies_policy`, and GPC) must allow usage
// cookies, or the event is dropped. The visitor is a keyed hash of the day's salt, the site, the IP
// address and the user agent (see salts.h), or, where the visitor allowed usage cookies, of the
// first-party identifier cookie. Neither the IP address nor the user agent is stored. A visit ends
// after 30 minutes without an event. The 202 is sent only once the event has committed.
//
// The site's config file carries the settings:
//
//   [analytics]
//   domains = ["www.ons.gov.uk"]    # the `domain` values accepted; others are dropped
//   search_parameter = "q"          # the query parameter holding site-search terms
//   visitor_cookie = "steward_visitor"
//
// Thread safety: safe for concurrent use.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "edge/device.h"
#include "analytics/event.h"
#include "analytics/salts.h"
#include "config/document.h"
#include "consent/gate.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "http/router.h"
#include "subject/restrictions.h"
#include "metrics/metrics.h"
#include "analytics/visits.h"
#include "register/register.h"
#include "retention/retention.h"
#include "store/store.h"

namespace steward::analytics {

// The edge's classifiers (edge/device.h), as analytics has always named them.
using edge::Agent;
using edge::Countries;
using edge::Edge;
using edge::LoadEdge;
using edge::UserAgents;

struct Settings {
  std::vector<std::string> domains;  // lower case, without "www."
  std::string search_parameter = "q";
  std::string visitor_cookie = "steward_visitor";
  // Origins whose pages may send events from the browser (CORS): the site's script_origins and
  // https:// each domain, with and without "www.". Set while serving.
  std::vector<std::string> origins;
};

// The origins a site's pages are served from: `script_origins`, then https:// each analytics
// domain and its "www." form.
std::vector<std::string> PageOrigins(const std::vector<std::string>& script_origins,
                                     const std::vector<std::string>& domains);

// Reads [analytics] from the site's file. nullopt (and no problem) when the table is absent: the
// site does not use Steward's analytics. Errors: kInvalidArgument with FILE:LINE:COLUMN problems,
// including a visitor cookie the register does not declare as a usage cookie and a register with no
// dataset of module "analytics" (nothing is collected before it is declared).
Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg);

// The analytics module's tables, and their purges for the retention runner: analytics_events
// (dataset of module "analytics"); analytics_salts is not personal data and is destroyed on its own
// schedule. Migrations include the rollups' (rollups.h, module "analytics-rollups").
std::vector<store::Migration> Migrations();
retention::ModuleStorage Storage();

// True when `user_agent` belongs to a crawler, monitor or script by a short list of tell-tale words;
// the fallback when the uap-core and isbot data are not loaded.
bool IsBot(std::string_view user_agent);

class Analytics {
 public:
  static constexpr int64_t kVisitIdleMillis = int64_t{30} * 60 * 1000;

  // Everything must outlive this. `metrics` may be null.
  Analytics(Settings settings, const processing::Register& reg, const consent::CookieGate& gate, store::Store& store,
            Salts& salts, const Clock& clock, const crypto::SecretKey& key, metrics::Registry* metrics);

  // What the edge makes of the user agent and IP address before both are dropped: browser, OS,
  // device class and bots from `agents`, country from `countries`. Either may be null (the columns
  // stay empty; bots are then caught by IsBot alone). Call before serving.
  void SetEdge(UserAgents* agents, Countries* countries) {
    agents_ = agents;
    countries_ = countries;
  }

  // The visitors whose data is restricted (UK GDPR Article 18) or who objected (Article 21): their
  // visitor cookie's restriction marks of module "analytics", read from `restrictions`. An event
  // from such a cookie is not counted. Reloaded by Housekeep; call once before serving.
  Status LoadRestricted(store::Store& store, const subject::Restrictions& restrictions);

  // POST /api/event.
  void AddRoutes(http::Router& router);
  // Answers through `respond`: at once when the event is refused or dropped, or once the commit
  // holding it is done.
  void HandleEvent(http::Request& req, http::Responder respond);

  // Destroys salts older than yesterday and makes tomorrow's: the background task, every ten
  // minutes while serving. (Visits need no sweeping: the table reuses an idle visitor's slot.)
  Status Housekeep();
  ~Analytics();

 private:
  // The visitor (and whether the identifier cookie counted them) for this request and site.
  struct Visitor {
    int64_t hash = 0;
    bool identified = false;
    bool restricted = false;  // the cookie's data is restricted, or its holder objected
  };
  Result<Visitor> Identify(const http::Request& req, const std::string& site, bool cookie_allowed,
                           std::string& new_cookie);
  // The day's anchor of a request (32 hex: a keyed hash of its address and user agent under the
  // day's salt), the same form as an identifier cookie's value.
  std::string DayAnchor(const http::Request& req, const std::string& salt) const;
  // The visitor an anchor (an identifier cookie's value, or the day's anchor) is on `site`.
  int64_t VisitorFor(const std::string& site, const std::string& anchor) const;
  // The visit of `visitor` at `now_ms`; `alternative()` (yesterday's hash, worked out only when
  // needed, 0 for none) continues a visit that crossed midnight.
  template <typename Alternative>
  int64_t VisitFor(int64_t visitor, const Alternative& alternative, int64_t now_ms, int64_t& visitor_out);

  // Accepted events wait here for the writer: one store write commits all that are waiting, and
  // its commit answers each of them (group commit within the store's own).
  struct Pending {
    std::vector<std::vector<store::Value>> rows;
    http::Responder respond;
    http::Response ok;
  };
  // Queues `p`; nullopt, or the answer to give now when too much is waiting.
  std::optional<http::Response> Enqueue(Pending p);
  void WaitForWrites();
  http::Response Dropped(const char* reason);
  // The event checked and queued for the writer (nullopt), or the answer to give now.
  std::optional<http::Response> Prepare(http::Request& req, const http::Responder& respond);

  // Whether the visitor cookie `id` (32 hex) is restricted: only hashed when any visitor is.
  bool IsRestricted(const std::string& id) const;

  Settings settings_;
  const processing::Register& reg_;
  const subject::Restrictions* restrictions_ = nullptr;
  store::Store* restrictions_store_ = nullptr;
  std::atomic<bool> any_restricted_{false};  // checked first: no lock on the path while none is
  mutable std::mutex restricted_mu_;
  std::shared_ptr<const std::unordered_set<std::string>> restricted_;
  const consent::CookieGate& gate_;
  store::Store& store_;
  Salts& salts_;
  const Clock& clock_;
  // Keyed BLAKE2b of the site and the cookie or day's anchor: the visitor. Prepared once.
  std::optional<crypto::KeyedHash> visitor_hash_;
  int64_t cookie_max_age_ = 0;
  UserAgents* agents_ = nullptr;
  Countries* countries_ = nullptr;
  metrics::Counter* events_ = nullptr;
  std::mutex visits_mu_;
  VisitTable visits_{kVisitIdleMillis};  // at most 24 MiB, however many visitors come
  static constexpr size_t kMaxPending = 20000;
  std::mutex pending_mu_;
  std::condition_variable pending_cv_;
  std::vector<Pending> pending_;
  bool write_queued_ = false;  // a store write is queued that will take what is pending
  int writes_in_flight_ = 0;
};

}  // namespace steward::analytics
