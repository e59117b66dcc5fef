// Throttle: growing delays after failed attempts, and a lock after many, per key (an account, a
// client). In memory; keys are keyed hashes, never raw emails or addresses.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace steward::staff {

struct ThrottlePolicy {
  int free_failures = 3;                          // failures before any delay
  int lock_after = 10;                            // failures that lock the key
  Duration max_delay = std::chrono::seconds(60);  // delays double from 1 s up to this
  Duration lock_for = std::chrono::minutes(30);
  Duration forget_after = std::chrono::hours(1);  // a quiet key starts again
};

class Throttle {
 public:
  Throttle(const Clock& clock, ThrottlePolicy policy) : clock_(clock), policy_(policy) {}

  // How long `key` must wait before its next attempt; zero when it may try now.
  Duration WaitFor(const std::string& key);
  // Records a failure. Returns true when this failure locks the key.
  bool Fail(const std::string& key);
  // Forgets the key's failures.
  void Succeed(const std::string& key);

 private:
  struct State {
    int failures = 0;
    SystemTime last_failure;
    SystemTime locked_until;
  };
  void Forget();
  const Clock& clock_;
  ThrottlePolicy policy_;
  std::mutex mu_;
  std::unordered_map<std::string, State> states_;
};

}  // namespace steward::staff
