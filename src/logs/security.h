// Security monitoring over access logs: rules that watch the stream of requests as it is imported
// and raise alerts with their evidence.
//
// Rules (each can be tuned in the site's file, [logs.security]):
//  - attack paths: requests for known probe targets (/.env, /.git/, /wp-login.php, ...), path
//    traversal, and SQL or script injection in the path or query string;
//  - scanners: many 404s from one client within a window;
//  - brute force: a burst of POSTs to sign-in paths from one client;
//  - floods: very many requests from one client within a window.
// An alert names its rule, the client by a short keyed hash (never the address), when it began
// and ended, how many requests, and keeps up to five evidence lines sealed with a key derived from
// the site's secret key: only `steward logs alerts --evidence` (audited) opens them.
//
// Thread safety: a Monitor is used by one import at a time.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/document.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "logs/format.h"
#include "store/store.h"

namespace steward::logs {

struct SecurityRules {
  bool enabled = true;
  int64_t scanner_404s = 20, scanner_window_s = 60;
  int64_t brute_force_posts = 10, brute_force_window_s = 60;
  std::vector<std::string> sign_in_paths = {"/login", "/admin/login", "/wp-login.php", "/user/login", "/signin"};
  int64_t flood_requests = 600, flood_window_s = 60;
  std::vector<std::string> attack_paths = {"/.env",       "/.git", "/wp-login.php",  "/wp-admin",   "/xmlrpc.php",
                                           "/phpmyadmin", "/.aws", "/server-status", "/etc/passwd", "/cgi-bin/"};
};
// Reads the [logs.security] table (all keys optional) into `rules`, reporting problems to the
// table's list. ReadLogSettings (settings.h) calls it for the whole [logs] table.
void ReadSecurityRules(config::Table& table, SecurityRules& rules);

struct Alert {
  int64_t id = 0;
  std::string rule;    // "attack-path", "scanner", "brute-force", "flood"
  std::string client;  // a short keyed hash of the address
  int64_t first_ms = 0, last_ms = 0, count = 0;
  std::string detail;                 // what matched: the path, or the threshold
  std::vector<std::string> evidence;  // only when opened
};

// The rules a single request breaks by itself (attack paths, traversal, injection), compiled once:
// a request's path and query are each decoded once and read once, however many patterns there
// are. Thread safety: In is safe for concurrent use.
class AttackMatcher {
 public:
  explicit AttackMatcher(const SecurityRules& rules);
  // The rule `r` breaks, or "": "attack-path", "path-traversal", "sql-injection" or
  // "script-injection", the first of them when it breaks several.
  std::string_view In(const LogRecord& r) const;

 private:
  // Patterns found in one pass: each position is tried only against the patterns that begin
  // with its two bytes.
  class Patterns {
   public:
    void Add(std::string pattern, int rule);
    // The lowest rule of a pattern in `text`, or `none`.
    int Lowest(std::string_view text, int none) const;

   private:
    std::vector<std::pair<std::string, int>> patterns_;
    std::array<std::vector<uint32_t>, 256> by_first_;                  // indices into patterns_
    std::vector<uint64_t> pairs_ = std::vector<uint64_t>(65536 / 64);  // first two bytes seen
    int always_ = INT32_MAX;                                           // the lowest rule of an empty pattern
  };
  Patterns path_, query_;
};

// What the monitor needs of one request; views into the line, which must outlive Feed.
struct Sighting {
  int64_t time_ms = 0;
  uint64_t client = 0;  // a SipHash of the address: the key of the client's windows and shard
  bool not_found = false, sign_in_post = false;
  std::string_view attack;  // the rule a single request breaks, or empty
  std::string_view path, line;
  // The address, for the label of an alert (made only when one is raised): a view into `line`;
  // empty when the address was not in the line (an escaped JSON value), and then `label` is made.
  std::string_view host;
  std::string label;
};

class Monitor {
 public:
  Monitor(SecurityRules rules, const crypto::SecretKey& key);
  const SecurityRules& rules() const { return rules_; }

  // Safe for concurrent use: what one request shows (parsing threads call it).
  Sighting See(const LogRecord& r, std::string_view line) const;
  // The label alerts give the client at `host` ("c-3f2a91c0de41"), for searching the raw lines.
  std::string ClientLabel(std::string_view host) const;
  // In time order per client: counts the windows and raises alerts.
  void Feed(const Sighting& s);
  // Feeds every sighting of `parts`, in order, on a thread for each shard of the clients (so each
  // client's requests are still seen in order).
  void FeedAll(const std::vector<const std::vector<Sighting>*>& parts);
  // The alerts found since the last call, taken to be saved (perhaps on another thread).
  struct Found {
    Alert alert;
    std::vector<std::string> lines;
  };
  using Findings = std::map<std::tuple<std::string, uint64_t, int64_t>, Found>;  // (rule, client, hour)
  Findings Take();
  // What SaveFound wrote: the alerts new to the store (by rule, and their ids) and how many
  // stored alerts it added requests to.
  struct Saved {
    std::map<std::string, int64_t> raised;
    std::vector<int64_t> ids;
    int64_t added_to = 0;
  };
  // Writes `found`, merging into the stored alert of the same rule, client and hour, inside the
  // caller's write. Safe beside Feed on another thread.
  Result<Saved> SaveFound(store::Connection& c, Findings& found) const;
  // Take, then SaveFound.
  Result<Saved> Save(store::Connection& c) {
    Findings found = Take();
    return SaveFound(c, found);
  }
  size_t pending() const;

  static std::vector<store::Migration> Migrations();
  // Newest first, in [from_ms, to_ms). With `evidence`, the sealed lines opened (of alert
  // `only_id`'s alone when it is not 0).
  static Result<std::vector<Alert>> List(store::Store& store, const crypto::SecretKey& key, int64_t from_ms,
                                         int64_t to_ms, bool evidence, int64_t only_id = 0);

 private:
  // A client's recent request times, oldest first from `head`: at most the rule's threshold of
  // them (only the newest that many can decide an alert), so each line costs O(1).
  struct Window {
    std::vector<int64_t> times;
    size_t head = 0;            // times before it have left the window
    int64_t alerted_until = 0;  // no second alert for a burst until its window has passed
    int64_t Newest() const { return head < times.size() ? times.back() : INT64_MIN; }
  };
  // Clients' windows by their hash, in one array probed in turn from the hash's place (open
  // addressing, linear probing): a line finds its client's window with one or two reads of
  // memory, no division and no allocation, where a node-based map takes more of each; and most
  // clients of a log are new.
  class Windows {
   public:
    Window& operator[](uint64_t client);
    size_t size() const { return size_; }
    // Forgets the windows whose newest time is before `horizon`, in place: the table keeps its
    // size, so a sweep allocates nothing.
    void ForgetBefore(int64_t horizon);

   private:
    size_t Place(uint64_t client) const { return static_cast<size_t>((client * 0x9E3779B97F4A7C15ULL) >> shift_); }
    void Put(uint64_t client, Window&& window);  // a client not in the table, with room for it
    std::vector<uint64_t> keys_;                 // 0: an empty slot (a client hashed to 0 is kept as 1)
    std::vector<Window> windows_;
    size_t size_ = 0;
    int shift_ = 64;
  };
  // The windows and alerts of the clients whose hash falls to it.
  struct Shard {
    Windows not_found, sign_ins, requests;
    Findings found;
    int64_t lines_since_sweep = 0;
  };
  void FeedShard(Shard& shard, const Sighting& s);
  void Raise(Shard& shard, const std::string& rule, const Sighting& s, std::string_view detail);
  bool Count(Windows& windows, uint64_t client, int64_t at, int64_t window_ms, int64_t threshold);

  SecurityRules rules_;
  AttackMatcher attacks_;
  crypto::KeyedHash label_hash_;   // BLAKE2b: alerts' labels, stored and searched for
  crypto::ShortHash client_hash_;  // SipHash: every line's client, in memory only
  std::string seal_key_;
  std::vector<Shard> shards_;
};

}  // namespace steward::logs
