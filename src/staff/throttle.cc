#include "staff/throttle.h"

#include <algorithm>

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
  auto it = states_.find(key);
  if (it == states_.end()) return Duration::zero();
  SystemTime now = clock_.Now();
  State& s = it->second;
  if (now < s.locked_until) return s.locked_until - now;
  if (now - s.last_failure > policy_.forget_after) {
    states_.erase(it);
    return Duration::zero();
  }
  if (s.failures < policy_.free_failures) return Duration::zero();
  int doublings = std::min(s.failures - policy_.free_failures, 20);
  Duration delay = std::min<Duration>(std::chrono::seconds(int64_t{1} << doublings), policy_.max_delay);
  SystemTime allowed = s.last_failure + delay;
  return now < allowed ? allowed - now : Duration::zero();
}

bool Throttle::Fail(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Forget();
  SystemTime now = clock_.Now();
  State& s = states_[key];
  if (now - s.last_failure > policy_.forget_after && now >= s.locked_until) s.failures = 0;
  ++s.failures;
  s.last_failure = now;
  if (s.failures >= policy_.lock_after && now >= s.locked_until) {
    s.locked_until = now + policy_.lock_for;
    s.failures = 0;
    return true;
  }
  return false;
}

void Throttle::Succeed(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  states_.erase(key);
}

}  // namespace steward::staff
