#include "staff/throttle.h"

#include <algorithm>
#include <utility>

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

}  // namespace steward::staff
