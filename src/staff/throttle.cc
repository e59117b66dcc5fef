#include "staff/throttle.h"

#include <algorithm>
#include <utility>

#include "core/strings.h"
#include "crypto/crypto.h"

namespace steward::staff {

void Throttle::Forget() {
  // Bounded memory: drop quiet keys whenever the map grows large.
  if (states_.size() < 10000) return;
  SystemTime now = clock_.Now();
  for (auto it = states_.begin(); it != states_.end();) {
    bool quiet = now - it->second.last_failure > policy_.forget_after && now >= it->second.locked_until;
    it = quiet ? states_.erase(it) : std::next(it);
  }
}

Duration Throttle::WaitFor(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return WaitLocked(key, clock_.Now());
}

Duration Throttle::WaitLocked(const std::string& key, SystemTime now) {
  auto it = states_.find(key);
  if (it == states_.end()) return Duration::zero();
  State& s = it->second;
  if (now < s.locked_until) return s.locked_until - now;
  if (now - s.last_failure > policy_.forget_after) {
    s.failures = 0;
    return Duration::zero();
  }
  if (s.failures < policy_.free_failures) return Duration::zero();
  int doublings = std::min(s.failures - policy_.free_failures, 20);
  Duration delay = std::min<Duration>(std::chrono::seconds(int64_t{1} << doublings), policy_.max_delay);
  SystemTime allowed = s.last_failure + delay;
  return now < allowed ? allowed - now : Duration::zero();
}

Attempt Throttle::Begin(std::initializer_list<std::string_view> keys) {
  std::lock_guard<std::mutex> lock(mu_);
  SystemTime now = clock_.Now();
  Attempt a;
  for (std::string_view k : keys) {
    if (!k.empty()) a.wait = std::max(a.wait, WaitLocked(std::string(k), now));
  }
  if (a.wait > Duration::zero()) {
    a.first_denial = true;
    for (std::string_view k : keys) {
      if (k.empty()) continue;
      if (++states_[std::string(k)].denied > 1) a.first_denial = false;
    }
    return a;
  }
  Forget();
  for (std::string_view k : keys) {
    if (k.empty()) continue;
    State& s = states_[std::string(k)];
    if (now - s.last_failure > policy_.forget_after && now >= s.locked_until) s.failures = 0;
    ++s.failures;
    s.last_failure = now;
  }
  return a;
}

bool Throttle::EndFailed(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  SystemTime now = clock_.Now();
  auto it = states_.find(key);
  if (it == states_.end()) return false;
  State& s = it->second;
  if (s.failures >= policy_.lock_after && now >= s.locked_until) {
    s.locked_until = now + policy_.lock_for;
    s.failures = 0;
    return true;
  }
  return false;
}

void Throttle::EndSucceeded(const std::string& key, bool forget) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(key);
  if (it == states_.end()) return;
  if (forget) {
    states_.erase(it);
  } else if (it->second.failures > 0) {
    --it->second.failures;
  }
}

int64_t Throttle::TakeDenied(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(key);
  if (it == states_.end()) return 0;
  return std::exchange(it->second.denied, 0);
}

SignInThrottle::SignInThrottle(const Clock& clock, const crypto::SecretKey& key, std::string_view label)
    : throttle_(clock, ThrottlePolicy{}), key_([&] {
        auto k = key.DeriveKey(label);
        return std::string(reinterpret_cast<const char*>(k.data()), k.size());
      }()) {}

std::string SignInThrottle::Key(std::string_view kind, std::string_view value) const {
  return std::string(kind) + ":" + HexEncode(crypto::Hash(value, key_).substr(0, 12));
}

SignInThrottle::Try SignInThrottle::Begin(std::string_view typed, std::string_view client) {
  // Privacy: what was typed and the client's address only as keyed hashes.
  Try t{.account = Key("account", typed), .client = Key("client", client)};
  t.wait = throttle_.Begin({t.account, t.client}).wait;
  return t;
}

void SignInThrottle::Failed(const Try& attempt) {
  throttle_.EndFailed(attempt.account);
  throttle_.EndFailed(attempt.client);
}

void SignInThrottle::Succeeded(const Try& attempt) {
  throttle_.EndSucceeded(attempt.account, true);
  throttle_.EndSucceeded(attempt.client, false);
}

std::string SignInThrottle::Try::RetryAfter() const {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count() + 1);
}

}  // namespace steward::staff
