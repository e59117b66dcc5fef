#include "logs/security.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/clock.h"
#include "core/strings.h"

namespace steward::logs {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr size_t kEvidence = 5;

std::string ClientText(uint64_t client) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "c-%012llx", static_cast<unsigned long long>(client >> 16));
  return buf;
}

// Lower-cased, with %xx decoded once: how probes hide.
std::string Decoded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return ToLower(out);
}

std::string ClientKey(const crypto::SecretKey& key) {
  auto c = key.DeriveKey("logclien");
  return std::string(reinterpret_cast<const char*>(c.data()), c.size());
}

}  // namespace

void ReadSecurityRules(config::Table& t, SecurityRules& rules) {
  t.Bool("enabled", rules.enabled);
  t.Int("scanner_404s", rules.scanner_404s, 1, 100000);
  t.Int("scanner_window_seconds", rules.scanner_window_s, 1, 86400);
  t.Int("brute_force_posts", rules.brute_force_posts, 1, 100000);
  t.Int("brute_force_window_seconds", rules.brute_force_window_s, 1, 86400);
  t.StringArray("sign_in_paths", rules.sign_in_paths);
  t.Int("flood_requests", rules.flood_requests, 1, 10'000'000);
  t.Int("flood_window_seconds", rules.flood_window_s, 1, 86400);
  std::vector<std::string> more;
  if (t.StringArray("attack_paths", more)) {
    for (auto& p : more) rules.attack_paths.push_back(ToLower(p));
  }
  t.Finish();
}

std::string_view AttackIn(const LogRecord& r, const SecurityRules& rules) {
  std::string path = Decoded(r.path);
  for (const auto& probe : rules.attack_paths) {
    if (path.find(probe) != std::string::npos) return "attack-path";
  }
  if (path.find("../") != std::string::npos || path.find("..\\") != std::string::npos) return "path-traversal";
  std::string query = Decoded(r.query);
  for (std::string_view sql : {"' or ", "\" or ", " union select", "union all select", "' and ", "sleep(", "benchmark(",
                               "information_schema", "' --", "';--"}) {
    if (query.find(sql) != std::string::npos || path.find(sql) != std::string::npos) return "sql-injection";
  }
  for (std::string_view xss : {"<script", "javascript:", "onerror=", "onload=", "<svg", "alert("}) {
    if (query.find(xss) != std::string::npos || path.find(xss) != std::string::npos) return "script-injection";
  }
  return {};
}

Monitor::Monitor(SecurityRules rules, const crypto::SecretKey& key)
    : rules_(std::move(rules)),
      client_hash_(ClientKey(key)),
      shards_(std::max(1u, std::min(8u, std::thread::hardware_concurrency()))) {
  auto s = key.DeriveKey("logalert");
  seal_key_.assign(reinterpret_cast<const char*>(s.data()), s.size());
}

uint64_t Monitor::Client(std::string_view host) const {
  // Privacy: access-logs. The address becomes a keyed hash here; alerts name clients by it.
  return client_hash_.Digest64({host});
}

std::string Monitor::ClientLabel(std::string_view host) const { return ClientText(Client(host)); }

Sighting Monitor::See(const LogRecord& r, std::string_view line) const {
  Sighting s;
  s.time_ms = r.time_ms;
  s.client = Client(r.host);
  s.not_found = r.status == 404;
  if (r.method == "POST") {
    s.sign_in_post = std::any_of(rules_.sign_in_paths.begin(), rules_.sign_in_paths.end(),
                                 [&](const std::string& p) { return r.path == p; });
  }
  s.attack = AttackIn(r, rules_);
  // The path is a view into the line, unless a JSON log escaped it: then it is in the record's
  // buffer, which the next line reuses, and the alert's evidence line shows it instead.
  auto at = reinterpret_cast<uintptr_t>(r.path.data()), begin = reinterpret_cast<uintptr_t>(line.data());
  bool in_line = at >= begin && at + r.path.size() <= begin + line.size();
  s.path = in_line ? r.path : std::string_view("(escaped: see the evidence)");
  s.line = line;
  return s;
}

bool Monitor::Count(std::unordered_map<uint64_t, Window>& windows, uint64_t client, int64_t at, int64_t window_ms,
                    int64_t threshold) {
  Window& w = windows[client];
  w.times.push_back(at);
  // Times that left the window, and any beyond the newest `threshold`, go from the front.
  while (w.head < w.times.size() &&
         (w.times[w.head] <= at - window_ms || static_cast<int64_t>(w.times.size() - w.head) > threshold)) {
    ++w.head;
  }
  if (w.head > 64 && w.head * 2 > w.times.size()) {  // compact now and then: amortised O(1)
    w.times.erase(w.times.begin(), w.times.begin() + static_cast<std::ptrdiff_t>(w.head));
    w.head = 0;
  }
  if (static_cast<int64_t>(w.times.size() - w.head) < threshold || at < w.alerted_until) return false;
  w.alerted_until = at + window_ms;
  return true;
}

void Monitor::Raise(Shard& shard, const std::string& rule, uint64_t client, int64_t at, std::string_view detail,
                    std::string_view line) {
  Found& f = shard.found[{rule, client, at / kHourMs}];
  if (f.alert.count == 0) {
    f.alert.rule = rule;
    f.alert.client = ClientText(client);
    f.alert.first_ms = at;
    f.alert.detail = ValidUtf8(CutUtf8(detail, 300));
  }
  ++f.alert.count;
  f.alert.last_ms = std::max(f.alert.last_ms, at);
  // Privacy: access-logs. Evidence lines are kept sealed.
  if (f.lines.size() < kEvidence) f.lines.push_back(ValidUtf8(CutUtf8(line, 2000)));
}

void Monitor::Feed(const Sighting& s) { FeedShard(shards_[s.client % shards_.size()], s); }

void Monitor::FeedAll(const std::vector<const std::vector<Sighting>*>& parts) {
  auto feed = [&](size_t n) {
    Shard& shard = shards_[n];
    for (const auto* part : parts) {
      for (const Sighting& s : *part) {
        if (s.client % shards_.size() == n) FeedShard(shard, s);
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t n = 1; n < shards_.size(); ++n) threads.emplace_back(feed, n);
  feed(0);
  for (auto& t : threads) t.join();
}

Monitor::Findings Monitor::Take() {
  Findings all;
  for (Shard& shard : shards_) all.merge(shard.found);  // a client is in one shard: every key moves
  return all;
}

size_t Monitor::pending() const {
  size_t n = 0;
  for (const Shard& shard : shards_) n += shard.found.size();
  return n;
}

void Monitor::FeedShard(Shard& shard, const Sighting& s) {
  if (!rules_.enabled) return;
  if (!s.attack.empty()) Raise(shard, std::string(s.attack), s.client, s.time_ms, s.path, s.line);
  if (s.not_found && Count(shard.not_found, s.client, s.time_ms, rules_.scanner_window_s * 1000, rules_.scanner_404s)) {
    Raise(shard, "scanner", s.client, s.time_ms,
          std::to_string(rules_.scanner_404s) + " or more 404s in " + std::to_string(rules_.scanner_window_s) + " s",
          s.line);
  }
  if (s.sign_in_post &&
      Count(shard.sign_ins, s.client, s.time_ms, rules_.brute_force_window_s * 1000, rules_.brute_force_posts)) {
    Raise(shard, "brute-force", s.client, s.time_ms,
          std::to_string(rules_.brute_force_posts) + " or more sign-in attempts in " +
              std::to_string(rules_.brute_force_window_s) + " s at " + std::string(s.path),
          s.line);
  }
  if (Count(shard.requests, s.client, s.time_ms, rules_.flood_window_s * 1000, rules_.flood_requests)) {
    Raise(
        shard, "flood", s.client, s.time_ms,
        std::to_string(rules_.flood_requests) + " or more requests in " + std::to_string(rules_.flood_window_s) + " s",
        s.line);
  }
  // Windows of clients long quiet are forgotten, so memory stays bounded. The sweep walks the shard,
  // so it runs at most once for each half-limit of lines: O(1) a line however many clients there are.
  const size_t limit = 200'000 / shards_.size();
  if (shard.requests.size() > limit && ++shard.lines_since_sweep >= static_cast<int64_t>(limit / 2)) {
    shard.lines_since_sweep = 0;
    int64_t horizon =
        s.time_ms - std::max({rules_.scanner_window_s, rules_.brute_force_window_s, rules_.flood_window_s}) * 1000;
    for (auto* windows : {&shard.not_found, &shard.sign_ins, &shard.requests}) {
      std::erase_if(*windows, [&](const auto& kv) { return kv.second.Newest() < horizon; });
    }
  }
}

std::vector<store::Migration> Monitor::Migrations() {
  return {{"logs", 2, R"sql(
    -- Privacy: access-logs. Security alerts: the client as a keyed hash, the evidence lines sealed.
    CREATE TABLE logs_alerts (
      id INTEGER PRIMARY KEY,
      rule TEXT NOT NULL,
      client TEXT NOT NULL,
      hour INTEGER NOT NULL,
      first_ms INTEGER NOT NULL,
      last_ms INTEGER NOT NULL,
      count INTEGER NOT NULL,
      detail TEXT NOT NULL,
      evidence BLOB NOT NULL,
      UNIQUE (rule, client, hour)
    );
  )sql"}};
}

Result<Monitor::Saved> Monitor::SaveFound(store::Connection& c, Findings& found) const {
  Saved saved;
  for (auto& [k, f] : found) {
    const auto& [rule, client, hour] = k;
    std::vector<std::string> lines;
    bool stored = false;
    STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT evidence FROM logs_alerts WHERE rule = ? AND client = ? AND hour = ?",
                                      {rule, f.alert.client, hour}, [&](const store::Row& r) {
                                        stored = true;
                                        if (const auto* b = std::get_if<store::Blob>(&r.at(0))) {
                                          if (auto open = crypto::Unseal(seal_key_, b->bytes)) {
                                            for (auto line : Split(*open, '\n')) lines.emplace_back(line);
                                          }
                                        }
                                        return false;
                                      }));
    for (auto& l : f.lines) {
      if (lines.size() < kEvidence) lines.push_back(std::move(l));
    }
    std::string joined;
    for (const auto& l : lines) joined += (joined.empty() ? "" : "\n") + l;
    STEWARD_ASSIGN_OR_RETURN(
        auto n, c.Exec("INSERT INTO logs_alerts (rule, client, hour, first_ms, last_ms, count, detail, evidence) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule, client, hour) DO UPDATE SET "
                       "first_ms = CASE WHEN excluded.first_ms < logs_alerts.first_ms THEN excluded.first_ms "
                       "ELSE logs_alerts.first_ms END, "
                       "last_ms = CASE WHEN excluded.last_ms > logs_alerts.last_ms THEN excluded.last_ms "
                       "ELSE logs_alerts.last_ms END, "
                       "count = logs_alerts.count + excluded.count, evidence = excluded.evidence",
                       {rule, f.alert.client, hour, f.alert.first_ms, f.alert.last_ms, f.alert.count, f.alert.detail,
                        store::Blob{crypto::Seal(seal_key_, joined)}}));
    (void)n;
    (void)client;
    if (stored) {
      ++saved.added_to;
      continue;
    }
    ++saved.raised[rule];
    STEWARD_ASSIGN_OR_RETURN(auto ids, c.Query("SELECT id FROM logs_alerts WHERE rule = ? AND client = ? AND hour = ?",
                                               {rule, f.alert.client, hour}));
    if (!ids.empty()) saved.ids.push_back(ids.front().Int(0));
  }
  found.clear();
  return saved;
}

Result<std::vector<Alert>> Monitor::List(store::Store& store, const crypto::SecretKey& key, int64_t from_ms,
                                         int64_t to_ms, bool evidence, int64_t only_id) {
  auto k = key.DeriveKey("logalert");
  std::string seal_key(reinterpret_cast<const char*>(k.data()), k.size());
  std::vector<Alert> out;
  // Privacy: access-logs (alerts; evidence opened only when asked, and the caller audits it).
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) {
    return c.ForEach(
        "SELECT id, rule, client, first_ms, last_ms, count, detail, evidence FROM logs_alerts "
        "WHERE last_ms >= ? AND first_ms < ? ORDER BY first_ms DESC, id DESC LIMIT 10000",
        {from_ms, to_ms}, [&](const store::Row& r) {
          Alert a{r.Int(0), r.Text(1), r.Text(2), r.Int(3), r.Int(4), r.Int(5), r.Text(6), {}};
          if (evidence && (only_id == 0 || only_id == a.id)) {
            if (const auto* b = std::get_if<store::Blob>(&r.at(7))) {
              if (auto open = crypto::Unseal(seal_key, b->bytes)) {
                for (auto line : Split(*open, '\n')) a.evidence.emplace_back(line);
              }
            }
          }
          out.push_back(std::move(a));
          return true;
        });
  }));
  return out;
}

}  // namespace steward::logs
