#include "logs/security.h"

#include <algorithm>
#include <bit>
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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `s` lower-cased, with %xx decoded once and + as a space: how probes hide. Into `out`, whose
// buffer is kept from line to line.
std::string_view Decoded(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && (hi = HexValue(s[i + 1])) >= 0 && (lo = HexValue(s[i + 2])) >= 0) {
      out += Lower(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : Lower(s[i]);
    }
  }
  return out;
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

namespace {

constexpr std::array<std::string_view, 4> kAttackRules = {"attack-path", "path-traversal", "sql-injection",
                                                          "script-injection"};
constexpr std::array<std::string_view, 10> kSqlInjection = {"' or ",  "\" or ", " union select", "union all select",
                                                            "' and ", "sleep(", "benchmark(",    "information_schema",
                                                            "' --",   "';--"};
constexpr std::array<std::string_view, 6> kScriptInjection = {
    "<script", "javascript:", "onerror=", "onload=", "<svg", "alert("};

size_t PairOf(unsigned char a, unsigned char b) { return static_cast<size_t>(a) << 8 | b; }

}  // namespace

void AttackMatcher::Patterns::Add(std::string pattern, int rule) {
  if (pattern.empty()) {
    always_ = std::min(always_, rule);
    return;
  }
  auto first = static_cast<unsigned char>(pattern[0]);
  // A one-byte pattern begins every pair that begins with its byte.
  for (int second = 0; second < 256; ++second) {
    if (pattern.size() > 1 && second != static_cast<unsigned char>(pattern[1])) continue;
    size_t pair = PairOf(first, static_cast<unsigned char>(second));
    pairs_[pair / 64] |= 1ULL << (pair % 64);
  }
  by_first_[first].push_back(static_cast<uint32_t>(patterns_.size()));
  patterns_.emplace_back(std::move(pattern), rule);
}

int AttackMatcher::Patterns::Lowest(std::string_view text, int none) const {
  int lowest = std::min(none, always_);
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    // A one-byte pattern marks every pair it begins, so the last byte pairs with 0.
    size_t pair = PairOf(c, i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0);
    if ((pairs_[pair / 64] >> (pair % 64) & 1) == 0) continue;
    std::string_view rest = text.substr(i);
    for (uint32_t k : by_first_[c]) {
      const auto& [pattern, rule] = patterns_[k];
      if (rule < lowest && rest.starts_with(pattern)) lowest = rule;
    }
  }
  return lowest;
}

AttackMatcher::AttackMatcher(const SecurityRules& rules) {
  // Rules by their place in kAttackRules: a path may break several, and the first is named.
  for (const auto& probe : rules.attack_paths) path_.Add(probe, 0);
  for (std::string_view traversal : {"../", "..\\"}) path_.Add(std::string(traversal), 1);
  for (std::string_view sql : kSqlInjection) {
    path_.Add(std::string(sql), 2);
    query_.Add(std::string(sql), 2);
  }
  for (std::string_view xss : kScriptInjection) {
    path_.Add(std::string(xss), 3);
    query_.Add(std::string(xss), 3);
  }
}

std::string_view AttackMatcher::In(const LogRecord& r) const {
  thread_local std::string path_buffer, query_buffer;  // every parsing thread has its own
  constexpr int kNone = static_cast<int>(kAttackRules.size());
  int rule = path_.Lowest(Decoded(r.path, path_buffer), kNone);
  if (rule > 1) rule = std::min(rule, query_.Lowest(Decoded(r.query, query_buffer), kNone));
  return rule < kNone ? kAttackRules[static_cast<size_t>(rule)] : std::string_view();
}

Monitor::Monitor(SecurityRules rules, const crypto::SecretKey& key)
    : rules_(std::move(rules)),
      attacks_(rules_),
      label_hash_(ClientKey(key)),
      client_hash_([&] {
        auto k = key.DeriveKey("logshard");
        return std::string(reinterpret_cast<const char*>(k.data()), k.size());
      }()),
      shards_(std::max(1u, std::min(8u, std::thread::hardware_concurrency()))) {
  auto s = key.DeriveKey("logalert");
  seal_key_.assign(reinterpret_cast<const char*>(s.data()), s.size());
}

std::string Monitor::ClientLabel(std::string_view host) const {
  // Privacy: access-logs. The address becomes a keyed hash here; alerts name clients by it.
  return ClientText(label_hash_.Digest64({host}));
}

Sighting Monitor::See(const LogRecord& r, std::string_view line) const {
  Sighting s;
  s.time_ms = r.time_ms;
  // Privacy: access-logs. The address, hashed under a key of its own for counting; the label an
  // alert shows (a slower hash) is made only for a client that raises one.
  s.client = client_hash_.Digest64({r.host});
  s.not_found = r.status == 404;
  if (r.method == "POST") {
    s.sign_in_post = std::any_of(rules_.sign_in_paths.begin(), rules_.sign_in_paths.end(),
                                 [&](const std::string& p) { return r.path == p; });
  }
  s.attack = attacks_.In(r);
  // The path is a view into the line, unless a JSON log escaped it: then it is in the record's
  // buffer, which the next line reuses, and the alert's evidence line shows it instead.
  auto at = reinterpret_cast<uintptr_t>(r.path.data()), begin = reinterpret_cast<uintptr_t>(line.data());
  bool in_line = at >= begin && at + r.path.size() <= begin + line.size();
  s.path = in_line ? r.path : std::string_view("(escaped: see the evidence)");
  s.line = line;
  auto host = reinterpret_cast<uintptr_t>(r.host.data());
  if (host >= begin && host + r.host.size() <= begin + line.size())
    s.host = r.host;
  else
    s.label = ClientLabel(r.host);
  return s;
}

void Monitor::Windows::Put(uint64_t client, Window&& window) {
  size_t mask = keys_.size() - 1;
  size_t i = Place(client);
  while (keys_[i] != 0) i = (i + 1) & mask;
  keys_[i] = client;
  windows_[i] = std::move(window);
  ++size_;
}

Monitor::Window& Monitor::Windows::operator[](uint64_t client) {
  if (client == 0) client = 1;
  if ((size_ + 1) * 2 > keys_.size()) {
    // Twice the room, the windows moved over.
    std::vector<uint64_t> keys = std::exchange(keys_, std::vector<uint64_t>(std::max<size_t>(64, keys_.size() * 2)));
    std::vector<Window> windows = std::exchange(windows_, std::vector<Window>(keys_.size()));
    shift_ = 64 - std::countr_zero(keys_.size());  // the size is a power of two
    size_ = 0;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (keys[k] != 0) Put(keys[k], std::move(windows[k]));
    }
  }
  size_t mask = keys_.size() - 1;
  for (size_t i = Place(client);; i = (i + 1) & mask) {
    if (keys_[i] == client) return windows_[i];
    if (keys_[i] == 0) {
      keys_[i] = client;
      ++size_;
      return windows_[i];
    }
  }
}

void Monitor::Windows::ForgetBefore(int64_t horizon) {
  // The windows kept are few (clients seen within the longest window) and set aside; the table
  // is emptied where it is and they go back in.
  std::vector<std::pair<uint64_t, Window>> kept;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == 0) continue;
    if (windows_[i].Newest() >= horizon) kept.emplace_back(keys_[i], std::move(windows_[i]));
    keys_[i] = 0;
    windows_[i] = Window{};
  }
  size_ = 0;
  for (auto& [client, window] : kept) Put(client, std::move(window));
}

bool Monitor::Count(Windows& windows, uint64_t client, int64_t at, int64_t window_ms, int64_t threshold) {
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

void Monitor::Raise(Shard& shard, const std::string& rule, const Sighting& s, std::string_view detail) {
  const int64_t at = s.time_ms;
  const std::string_view line = s.line;
  Found& f = shard.found[{rule, s.client, at / kHourMs}];
  if (f.alert.count == 0) {
    f.alert.rule = rule;
    f.alert.client = s.label.empty() ? ClientLabel(s.host) : s.label;
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
  if (!s.attack.empty()) Raise(shard, std::string(s.attack), s, s.path);
  if (s.not_found && Count(shard.not_found, s.client, s.time_ms, rules_.scanner_window_s * 1000, rules_.scanner_404s)) {
    Raise(shard, "scanner", s,
          std::to_string(rules_.scanner_404s) + " or more 404s in " + std::to_string(rules_.scanner_window_s) + " s");
  }
  if (s.sign_in_post &&
      Count(shard.sign_ins, s.client, s.time_ms, rules_.brute_force_window_s * 1000, rules_.brute_force_posts)) {
    Raise(shard, "brute-force", s,
          std::to_string(rules_.brute_force_posts) + " or more sign-in attempts in " +
              std::to_string(rules_.brute_force_window_s) + " s at " + std::string(s.path));
  }
  if (Count(shard.requests, s.client, s.time_ms, rules_.flood_window_s * 1000, rules_.flood_requests)) {
    Raise(
        shard, "flood", s,
        std::to_string(rules_.flood_requests) + " or more requests in " + std::to_string(rules_.flood_window_s) + " s");
  }
  // Windows of clients long quiet are forgotten, so memory stays bounded. The sweep walks the shard,
  // so it runs at most once for each half-limit of lines: O(1) a line however many clients there are.
  const size_t limit = 200'000 / shards_.size();
  if (shard.requests.size() > limit && ++shard.lines_since_sweep >= static_cast<int64_t>(limit / 2)) {
    shard.lines_since_sweep = 0;
    int64_t horizon =
        s.time_ms - std::max({rules_.scanner_window_s, rules_.brute_force_window_s, rules_.flood_window_s}) * 1000;
    for (Windows* windows : {&shard.not_found, &shard.sign_ins, &shard.requests}) windows->ForgetBefore(horizon);
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
