#include "analytics/analytics.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "analytics/rollups.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/json_text.h"
#include "core/text_hash.h"

namespace steward::analytics {
namespace {

using http::Request;
using http::Response;

constexpr size_t kMaxEventBody = size_t{16} * 1024;

// Substrings of user agents that are not people (lower case). The isbot patterns arrive with the
// user-agent work; these cover the common crawlers, monitors and scripts.
constexpr std::string_view kBotMarks[] = {
    "bot",
    "spider",
    "crawl",
    "slurp",
    "headless",
    "curl/",
    "wget",
    "python-",
    "go-http-client",
    "java/",
    "libwww",
    "httpclient",
    "scrapy",
    "phantomjs",
    "lighthouse",
    "pingdom",
    "uptime",
    "monitor",
    "facebookexternalhit",
    "preview",
    "okhttp",
    "axios/",
    "node-fetch",
    "postman",
    "insomnia",
    "httpie",
    "feedfetcher",
    "validator",
};

std::string CookieValue(const Request& req, std::string_view name) {
  std::string out;
  req.ForEachCookie([&](std::string_view k, std::string_view v) {
    if (k != name) return true;
    out = v;
    return false;
  });
  return out;
}

std::string PropsJson(const std::vector<std::pair<std::string, std::string>>& props) {
  if (props.empty()) return "";
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : props) j[k] = v;
  return JsonText(j);
}

// The referrer without its query or fragment: host and path, which is what reports show.
std::string ReferrerForStorage(std::string_view referrer) {
  auto loc = ParseLocation(referrer);
  if (!loc) return "";
  return std::string(CutUtf8(loc->hostname + loc->path, 500));
}

std::string Query(const Location& loc, const std::string& key, size_t max = 300) {
  auto it = loc.query.find(key);
  return it == loc.query.end() ? "" : std::string(CutUtf8(Trim(it->second), max));
}

// IsBot, remembered per thread for the agents seen last: every event asks, and a site's visitors
// send a few hundred distinct agents, so a lookup by the agent costs a hash of it instead of a pass
// over it for every mark.
bool IsBotRemembered(std::string_view user_agent) {
  static constexpr size_t kMaxAgents = 2048;
  // Privacy: analytics-events. Agents only, as the parsed-agent cache holds them, in this thread's
  // memory; forgotten when the cache fills.
  thread_local std::unordered_map<std::string, bool, TextHash, std::equal_to<>> seen;
  if (auto it = seen.find(user_agent); it != seen.end()) return it->second;
  bool bot = IsBot(user_agent);
  if (seen.size() >= kMaxAgents) seen.clear();
  seen.emplace(std::string(user_agent), bot);
  return bot;
}

}  // namespace

bool IsBot(std::string_view user_agent) {
  // One pass over the agent: at each place, only the marks that begin with its letter are tried
  // (every event asks, and most agents are browsers that match none).
  static const auto kByFirst = [] {
    std::array<std::vector<std::string_view>, 256> by_first;
    for (std::string_view mark : kBotMarks) by_first[static_cast<unsigned char>(mark[0])].push_back(mark);
    return by_first;
  }();
  auto lower = [](char c) { return static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); };
  for (size_t i = 0; i < user_agent.size(); ++i) {
    for (std::string_view mark : kByFirst[lower(user_agent[i])]) {
      if (mark.size() > user_agent.size() - i) continue;
      size_t k = 1;
      while (k < mark.size() && lower(user_agent[i + k]) == static_cast<unsigned char>(mark[k])) ++k;
      if (k == mark.size()) return true;
    }
  }
  return false;
}

Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg) {
  config::Problems problems(document.path());
  config::Table root = document.Root(problems);
  auto table = root.Child("analytics");
  if (!table) return std::optional<Settings>();
  Settings s;
  std::vector<std::string> domains;
  if (table->StringArray("domains", domains, /*required=*/true)) {
    for (const auto& d : domains) {
      std::string one = ToLower(Trim(d));
      if (one.starts_with("www.")) one.erase(0, 4);
      if (one.empty() || one.find_first_of("/: ") != std::string::npos) {
        problems.Add(table->Where("domains"), "'analytics.domains' entries are host names such as \"www.ons.gov.uk\"");
      } else {
        s.domains.push_back(one);
      }
    }
  }
  table->String("search_parameter", s.search_parameter);
  table->String("visitor_cookie", s.visitor_cookie);
  // Declare before collect: the events need a dataset saying what is kept, why and how long.
  if (std::none_of(reg.datasets.begin(), reg.datasets.end(),
                   [](const processing::Dataset& d) { return d.module == "analytics"; })) {
    problems.Add(table->where(),
                 "[analytics] collects events, but the register declares no dataset of module "
                 "\"analytics\" to say what is kept, why and for how long");
  }
  bool declared = std::any_of(reg.cookies.begin(), reg.cookies.end(), [&](const processing::Cookie& c) {
    return c.name == s.visitor_cookie && c.category == processing::CookieCategory::kUsage;
  });
  if (!declared) {
    problems.Add(table->Where("visitor_cookie"), "'analytics.visitor_cookie' is '" + s.visitor_cookie +
                                                     "', which the register does not declare as a usage cookie");
  }
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

std::vector<store::Migration> Migrations() {
  std::vector<store::Migration> all = {{"analytics", 1, R"sql(
    -- Privacy: analytics-events. One row per event. The visitor is a salted or keyed hash; no IP
    -- address and no user agent, only what was derived from them.
    CREATE TABLE analytics_events (
      id INTEGER PRIMARY KEY,
      ts INTEGER NOT NULL,
      site TEXT NOT NULL,
      name TEXT NOT NULL,
      hostname TEXT NOT NULL,
      path TEXT NOT NULL,
      source TEXT NOT NULL DEFAULT '',
      referrer TEXT NOT NULL DEFAULT '',
      utm_medium TEXT NOT NULL DEFAULT '',
      utm_campaign TEXT NOT NULL DEFAULT '',
      utm_content TEXT NOT NULL DEFAULT '',
      utm_term TEXT NOT NULL DEFAULT '',
      search TEXT NOT NULL DEFAULT '',
      visitor INTEGER NOT NULL,
      visit INTEGER NOT NULL,
      identified INTEGER NOT NULL DEFAULT 0,
      interactive INTEGER NOT NULL DEFAULT 1,
      engaged_ms INTEGER,
      scroll_depth INTEGER,
      props TEXT NOT NULL DEFAULT '',
      country TEXT NOT NULL DEFAULT '',
      browser TEXT NOT NULL DEFAULT '',
      browser_version TEXT NOT NULL DEFAULT '',
      os TEXT NOT NULL DEFAULT '',
      os_version TEXT NOT NULL DEFAULT '',
      device TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX analytics_events_by_site_time ON analytics_events (site, ts);
    -- The day's random salts, sealed; destroyed 48 hours after they are made.
    CREATE TABLE analytics_salts (day INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
  )sql"},
                                       {"analytics", 2, R"sql(
    -- Stats API keys: a keyed hash of each, never the key itself. Not personal data: created_by is
    -- the audit actor ("staff:3"), as in the audit trail.
    CREATE TABLE analytics_api_keys (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      prefix TEXT NOT NULL,
      digest BLOB NOT NULL UNIQUE,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      last_used_at TEXT,
      revoked_at TEXT
    );
  )sql"},
                                       {"analytics", 3, R"sql(
    -- What a key may do: "stats" (the Stats API) or "messages" (POST /api/messages).
    ALTER TABLE analytics_api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'stats';
  )sql"},
                                       {"analytics", 4, R"sql(
    -- A visitor's events by their cookie's hash, for a rights request (found, exported, erased):
    -- only the events the cookie identified, which are the only ones a person can be found by, so
    -- events counted without it cost the index nothing.
    CREATE INDEX analytics_events_by_visitor ON analytics_events (visitor) WHERE identified = 1;
  )sql"}};
  for (auto& m : RollupMigrations()) all.push_back(std::move(m));
  return all;
}

retention::ModuleStorage Storage() {
  return {.module = "analytics",
          .personal_tables = {"analytics_events"},
          .other_tables = {"analytics_salts", "analytics_api_keys"},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t limit) -> Result<int64_t> {
            STEWARD_ASSIGN_OR_RETURN(int64_t ms, retention::CutoffMillis(cutoff));
            // Privacy: analytics-events, deleted once older than the register's retention.
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM analytics_events WHERE ts < ?", {ms}));
              return rows.front().Int(0);
            }
            // Site by site, by the index of each site's events by time, so that a batch reads only
            // what it deletes, never the events kept since: the sites, one seek each (a loose
            // index scan), then each site's oldest.
            STEWARD_ASSIGN_OR_RETURN(auto sites, retention::DistinctValues(c, "analytics_events", "site"));
            int64_t deleted = 0;
            for (const auto& site : sites) {
              STEWARD_ASSIGN_OR_RETURN(
                  int64_t n, retention::DeleteAtMost(c, "analytics_events", "id", "site = ? AND ts < ?", {site, ms},
                                                     limit == 0 ? 0 : limit - deleted));
              deleted += n;
              if (limit > 0 && deleted >= limit) break;
            }
            return deleted;
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "analytics"; });
              },
          // Pages and how the visitor came (browsing), site searches, time on page and scroll depth
          // (engagement), browser, operating system, device type, country, and the visitor's
          // random identifier.
          .stores = {"user.behavior.browsing", "user.behavior.search", "user.behavior.engagement",
                     "user.device.browser", "user.device.operating_system", "user.device.type", "user.device.country",
                     "user.identifier.unique_id"},
          .observed = true,
          .batched = true};
}

Analytics::Analytics(Settings settings, const processing::Register& reg, const consent::CookieGate& gate,
                     store::Store& store, Salts& salts, const Clock& clock, const crypto::SecretKey& key,
                     metrics::Registry* metrics)
    : settings_(std::move(settings)), reg_(reg), gate_(gate), store_(store), salts_(salts), clock_(clock) {
  auto k = key.DeriveKey("anavisit");
  visitor_hash_.emplace(std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
  for (const auto& c : reg.cookies) {
    if (c.name == settings_.visitor_cookie) cookie_max_age_ = c.session ? 0 : c.expiry.MaxSeconds();
  }
  if (metrics != nullptr) {
    events_ = &metrics->AddCounter("steward_analytics_events_total",
                                   "Analytics events received, by what became of them.", {"outcome"});
  }
}

Status Analytics::LoadRestricted(store::Store& store, const subject::Restrictions& restrictions) {
  restrictions_ = &restrictions;
  restrictions_store_ = &store;
  std::vector<std::string> marks;
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(marks, restrictions.Marks(c, "analytics"));
    return Ok();
  }));
  auto set = std::make_shared<const std::unordered_set<std::string>>(marks.begin(), marks.end());
  std::lock_guard lock(restricted_mu_);
  any_restricted_.store(!set->empty(), std::memory_order_release);
  restricted_ = std::move(set);
  return Ok();
}

bool Analytics::IsRestricted(const std::string& id) const {
  if (!any_restricted_.load(std::memory_order_acquire)) return false;
  std::shared_ptr<const std::unordered_set<std::string>> set;
  {
    std::lock_guard lock(restricted_mu_);
    set = restricted_;
  }
  if (!set || set->empty() || restrictions_ == nullptr) return false;
  auto key = subject::Key::Make(subject::KeyKind::kVisitorId, id);
  // Privacy: subject-restrictions. The cookie's keyed hash, compared in memory; nothing is kept.
  return key.ok() && set->count(restrictions_->Hash("analytics", *key)) > 0;
}

Response Analytics::Dropped(const char* reason) {
  if (events_) events_->Inc({reason});
  Response r = Response::Text("ok", 202);
  r.SetHeader("x-plausible-dropped", "1");
  return r;
}

Result<Analytics::Visitor> Analytics::Identify(const Request& req, const std::string& site, bool cookie_allowed,
                                               std::string& new_cookie) {
  if (cookie_allowed) {
    std::string id = CookieValue(req, settings_.visitor_cookie);
    bool valid = id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
                   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                 });
    // Privacy: analytics-events. The identifier cookie, reduced to a keyed hash per site.
    if (valid) return Visitor{VisitorFor(site, id), true, IsRestricted(id)};
  }
  // No cookie (not allowed, or not sent: a browser that blocks it, a tracker on another host name,
  // a server): the day's hash. A cookie minted now carries the day's anchor, so the visitor it
  // then identifies is this same one.
  STEWARD_ASSIGN_OR_RETURN(std::string salt, salts_.ForDay(salts_.Today()));
  std::string anchor = DayAnchor(req, salt);
  if (cookie_allowed) new_cookie = anchor;
  return Visitor{VisitorFor(site, anchor), false};
}

std::string Analytics::DayAnchor(const Request& req, const std::string& salt) const {
  // Privacy: analytics-events. The IP address and user agent live only in this hash, never stored;
  // the salt is deleted when its day is over.
  // The first 16 bytes of the keyed hash of address, NUL, agent, in hex.
  std::array<unsigned char, 32> digest;
  crypto::Hash(
      {req.client_ip ? req.client_ip->ToString() : std::string(), std::string_view("\0", 1), req.Header("User-Agent")},
      salt, digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), 16));
}

int64_t Analytics::VisitorFor(const std::string& site, const std::string& anchor) const {
  // The first 8 bytes of the keyed hash as a non-negative integer, without building
  // the input or hashing the key's block again.
  return static_cast<int64_t>(visitor_hash_->Digest64({site, std::string_view("\0", 1), anchor}) &
                              0x7fffffffffffffffULL);
}

template <typename Alternative>
int64_t Analytics::VisitFor(int64_t visitor, const Alternative& alternative, int64_t now_ms, int64_t& visitor_out) {
  visitor_out = visitor;
  std::unique_lock<std::mutex> lock(visits_mu_);
  VisitTable::Slot* slot = visits_.Find(visitor, now_ms);
  if (slot == nullptr) {
    // A visit that began before midnight continues under yesterday's salt.
    lock.unlock();
    int64_t other = alternative();
    lock.lock();
    slot = visits_.Find(visitor, now_ms);
    if (slot == nullptr && other != 0) {
      if (VisitTable::Slot* alt = visits_.Find(other, now_ms)) {
        slot = alt;
        visitor_out = other;
      }
    }
  }
  if (slot == nullptr) slot = &visits_.Take(visitor_out, now_ms);
  if (slot->visit == 0) slot->visit = static_cast<int64_t>((crypto::RandomU64() >> 1) | 1);  // a new visit
  slot->last_ms = std::max(slot->last_ms, now_ms);
  return slot->visit;
}

namespace {

// The events' INSERT for 1, 2, 4 ... 64 rows: a batch goes in statements of 64, 32, ... 1 rows, so
// a group of events costs a few statements (a few round trips to PostgreSQL) whatever its size.
const store::RowStatements& InsertEvents() {
  static const store::RowStatements kInsert(
      "INSERT INTO analytics_events (ts, site, name, hostname, path, source, referrer, utm_medium, utm_campaign, "
      "utm_content, utm_term, search, visitor, visit, identified, interactive, engaged_ms, scroll_depth, props, "
      "country, browser, browser_version, os, os_version, device)",
      25, 64);
  return kInsert;
}

Response Busy(metrics::Counter* events) {
  if (events) events->Inc({"unavailable"});
  Response r = Response::Json(R"({"errors":{"request":["busy; try again"]}})", 503);
  r.SetHeader("Retry-After", "1");
  return r;
}

}  // namespace

std::vector<std::string> PageOrigins(const std::vector<std::string>& script_origins,
                                     const std::vector<std::string>& domains) {
  std::vector<std::string> out = script_origins;
  for (const auto& d : domains) {
    for (const std::string& origin : {"https://" + d, "https://www." + d}) {
      if (std::find(out.begin(), out.end(), origin) == out.end()) out.push_back(origin);
    }
  }
  return out;
}

void Analytics::HandleEvent(Request& req, http::Responder respond) {
  // A page of the site on another origin (the site's own host name, with Steward on another) may
  // read the answer: Plausible's tracker fails the send otherwise. Every answer goes through here.
  std::string_view origin = req.Header("Origin");
  if (!origin.empty()) {
    respond = http::Responder([inner = respond, origin = std::string(origin), this](Response r) {
      http::AllowOrigin(origin, settings_.origins, r);
      inner.Send(std::move(r));
    });
  }
  if (auto early = Prepare(req, respond)) respond.Send(std::move(*early));
}

std::optional<Response> Analytics::Prepare(Request& req, const http::Responder& respond) {
  std::string_view ua = req.Header("User-Agent");
  if (Trim(ua).empty()) {
    if (events_) events_->Inc({"invalid"});
    return Response::Json(ErrorsJson({{"user_agent", {"can't be blank"}}}), 400);
  }
  FieldErrors errors;
  auto event = ParseEvent(req.body, errors);
  if (!event) {
    if (events_) events_->Inc({"invalid"});
    return Response::Json(ErrorsJson(errors), 400);
  }
  // Privacy: analytics-events. The user agent and IP address become these few coarse values here
  // and go no further.
  Agent agent = agents_ ? agents_->Parse(ua) : Agent{};
  if (agent.bot || IsBotRemembered(ua)) return Dropped("dropped_bot");
  std::vector<std::string> sites;
  for (const auto& d : event->domains) {
    if (std::find(settings_.domains.begin(), settings_.domains.end(), d) != settings_.domains.end()) sites.push_back(d);
  }
  if (sites.empty()) return Dropped("dropped_domain");
  consent::Choice choice = gate_.CurrentChoice(req);
  bool gpc = consent::GlobalPrivacyControl(req);
  bool usage_allowed = gate_.CategoryAllowed(processing::CookieCategory::kUsage, choice, gpc);
  // The visitor's choice decides, whatever the lawful basis: in consent mode their yes; with the
  // statistics exemption, no objection (a no, or GPC).
  if (!usage_allowed) return Dropped("dropped_consent");

  const Location& loc = event->location;
  std::string country = countries_ && req.client_ip ? countries_->Lookup(*req.client_ip) : "";
  int64_t now_ms = UnixMillis(clock_.Now());
  std::string new_cookie;
  std::vector<std::vector<store::Value>> rows;
  for (const auto& site : sites) {
    auto visitor = Identify(req, site, usage_allowed, new_cookie);
    if (!visitor.ok()) return Busy(events_);
    // Restricted, or objected: kept, not used, and nothing more counted.
    if (visitor->restricted) return Dropped("dropped_restricted");
    auto alternative = [&]() -> int64_t {
      if (visitor->identified) return 0;
      // Only a visit idle for less than kVisitIdleMillis continues, so after that long into the
      // (UTC) day no visit of yesterday's can.
      if (now_ms % 86'400'000 >= kVisitIdleMillis) return 0;
      // Yesterday's hash, to continue a visit that crossed midnight.
      auto salt = salts_.ForDay(salts_.Today() - 1);
      if (!salt.ok()) return 0;
      return VisitorFor(site, DayAnchor(req, *salt));
    };
    int64_t visitor_id = 0;
    int64_t visit = VisitFor(visitor->hash, alternative, now_ms, visitor_id);
    // The referrer is kept only when it is another site: moving between pages is not a source.
    std::string source = ReferrerSource(loc, event->referrer);
    std::string referrer = source.empty() ? "" : ReferrerForStorage(event->referrer);
    rows.push_back({now_ms,
                    site,
                    event->name,
                    loc.hostname,
                    std::string(CutUtf8(loc.path, 2000)),
                    source,
                    referrer,
                    Query(loc, "utm_medium"),
                    Query(loc, "utm_campaign"),
                    Query(loc, "utm_content"),
                    Query(loc, "utm_term"),
                    Query(loc, settings_.search_parameter, 500),
                    visitor_id,
                    visit,
                    static_cast<int64_t>(visitor->identified),
                    static_cast<int64_t>(event->interactive),
                    event->engaged_ms ? store::Value(*event->engaged_ms) : store::Value(),
                    event->scroll_depth ? store::Value(*event->scroll_depth) : store::Value(),
                    PropsJson(event->props),
                    country,
                    agent.browser,
                    agent.browser_version,
                    agent.os,
                    agent.os_version,
                    agent.device});
  }
  // Privacy: analytics-events (the write). Queued for the writer's next group commit; the 202 goes
  // only once that commit has happened, so an acknowledged event survives kill -9.
  Response ok = Response::Text("ok", 202);
  if (!new_cookie.empty()) {
    ok.cookies.push_back(
        {.name = settings_.visitor_cookie,
         .value = new_cookie,
         .max_age_seconds = cookie_max_age_ > 0 ? std::optional<int64_t>(cookie_max_age_) : std::nullopt,
         .secure = req.https});
  }
  return Enqueue({std::move(rows), respond, std::move(ok)});
}

std::optional<Response> Analytics::Enqueue(Pending p) {
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    if (pending_.size() >= kMaxPending) return Busy(events_);  // memory stays bounded; the client retries
    pending_.push_back(std::move(p));
    if (write_queued_) return std::nullopt;  // the queued write will take it
    write_queued_ = true;
    ++writes_in_flight_;
  }
  // One write for everything waiting when the writer reaches it. Runs on the writer thread.
  auto batch = std::make_shared<std::vector<Pending>>();
  auto taken = std::make_shared<bool>(false);
  Status queued = store_.Submit(
      [this, batch, taken](store::Connection& c) -> Status {
        {
          std::lock_guard<std::mutex> lock(pending_mu_);
          batch->swap(pending_);
          write_queued_ = false;  // what arrives from now on needs a write of its own
          *taken = true;
        }
        // Privacy: analytics-events (the write).
        // Each row is moved into the statement's values, not copied: the batch is answered from
        // `ok`, and a failed write is not run again.
        std::vector<std::vector<store::Value>*> rows;
        for (auto& p : *batch) {
          for (auto& row : p.rows) rows.push_back(&row);
        }
        std::vector<store::Value> values;
        for (size_t at = 0; at < rows.size();) {
          size_t n = InsertEvents().Fit(rows.size() - at);
          values.clear();
          for (size_t r = at; r < at + n; ++r) {
            values.insert(values.end(), std::make_move_iterator(rows[r]->begin()),
                          std::make_move_iterator(rows[r]->end()));
          }
          STEWARD_ASSIGN_OR_RETURN(auto inserted, c.Exec(InsertEvents().Sql(n), values));
          (void)inserted;
          at += n;
        }
        return Ok();
      },
      [this, batch, taken](const Status& committed) {
        if (!*taken) {
          // The group failed before this write ran (the database could not begin a transaction):
          // what waits is answered now, and the next event queues a write of its own.
          std::lock_guard<std::mutex> lock(pending_mu_);
          batch->swap(pending_);
          write_queued_ = false;
        }
        for (auto& p : *batch) {
          if (!committed.ok()) {
            p.respond.Send(Busy(events_));
            continue;
          }
          if (events_) events_->Inc({"accepted"});
          p.respond.Send(std::move(p.ok));
        }
        std::lock_guard<std::mutex> lock(pending_mu_);
        --writes_in_flight_;
        pending_cv_.notify_all();
      });
  if (queued.ok()) return std::nullopt;  // answered when the commit is done
  // The store's queue is full: everything waiting here (this event too) is refused.
  std::vector<Pending> refused;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    refused.swap(pending_);
    write_queued_ = false;
    --writes_in_flight_;
    pending_cv_.notify_all();
  }
  for (auto& r : refused) r.respond.Send(Busy(events_));
  return std::nullopt;
}

void Analytics::WaitForWrites() {
  std::unique_lock<std::mutex> lock(pending_mu_);
  pending_cv_.wait(lock, [this] { return writes_in_flight_ == 0; });
}

Status Analytics::Housekeep() {
  STEWARD_ASSIGN_OR_RETURN(int64_t destroyed, salts_.DestroyOld());
  (void)destroyed;
  STEWARD_RETURN_IF_ERROR(salts_.MakeAhead());
  return Ok();
}

Analytics::~Analytics() {
  WaitForWrites();  // the writer's callbacks use this object
}

void Analytics::AddRoutes(http::Router& router) {
  router.AddAsync(
      http::Method::kPost, "/api/event",
      [this](Request& req, http::Responder respond) { HandleEvent(req, std::move(respond)); },
      // On the I/O thread: nothing here waits (salts are made ahead by Housekeep, the
      // write is queued), and the answer comes from the writer's commit.
      {.max_body_bytes = kMaxEventBody, .blocking = false, .anonymous_write = http::RouteOptions::Anonymous::kEvent});
  // The preflight a tracker sending JSON (not text/plain) makes first.
  router.Add(http::Method::kOptions, "/api/event",
             [this](Request& req) { return http::Preflight(req.Header("Origin"), settings_.origins, "POST"); });
}

}  // namespace steward::analytics
