// Throttle: growing delays after failed attempts, and a lock after many, per key (an account, a
// client). In memory; keys are keyed hashes, never raw emails or addresses.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <chrono>
#include <mutex>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace steward::crypto {
class SecretKey;
}

namespace steward::staff {

struct ThrottlePolicy {
  int free_failures = 3;                          // failures before any delay
  int lock_after = 10;                            // failures that lock the key
  Duration max_delay = std::chrono::seconds(60);  // delays double from 1 s up to this
  Duration lock_for = std::chrono::minutes(30);
  Duration forget_after = std::chrono::hours(1);  // a quiet key starts again
};

// What Begin decided about an attempt.
struct Attempt {
  Duration wait{};            // zero: go ahead (a failure is charged already); otherwise refused
  bool first_denial = false;  // refused, and no refusal of these keys was counted since TakeDenied
};

class Throttle {
 public:
  Throttle(const Clock& clock, ThrottlePolicy policy) : clock_(clock), policy_(policy) {}

  // How long `key` must wait before its next attempt; zero when it may try now.
  Duration WaitFor(const std::string& key);
  // Starts an attempt on every key at once. When any must wait, nothing is charged, the refusal is
  // counted against each, and `wait` is the longest. Otherwise each key is charged a failure now,
  // before the work that checks the attempt (a password hash), so attempts sent in parallel cannot
  // all pass before the first failure counts; End says how it went.
  Attempt Begin(std::initializer_list<std::string_view> keys);
  // Ends a begun attempt on `key`. A failure stands (true when it locks the key); a success forgets
  // the key's failures (`forget`, for an account) or takes back the one charged (for a client).
  bool EndFailed(const std::string& key);
  void EndSucceeded(const std::string& key, bool forget);
  // Refusals counted against `key` since the last call, which starts the count again.
  int64_t TakeDenied(const std::string& key);

 private:
  struct State {
    int failures = 0;
    int64_t denied = 0;
    SystemTime last_failure;
    SystemTime locked_until;
  };
  Duration WaitLocked(const std::string& key, SystemTime now);
  void Forget();
  const Clock& clock_;
  ThrottlePolicy policy_;
  std::mutex mu_;
  std::unordered_map<std::string, State> states_;
};

// A public sign-in form's throttle: on what the person typed (an email address, a username) and on
// the client's address, each kept only as a keyed hash under the site key's `label` context.
class SignInThrottle {
 public:
  SignInThrottle(const Clock& clock, const crypto::SecretKey& key, std::string_view label);

  struct Try {
    Duration wait{};  // zero: go ahead; otherwise refused, and nothing was checked
    std::string account, client;
    // The Retry-After value for a refusal, in whole seconds.
    std::string RetryAfter() const;
  };
  // Starts an attempt for `typed` (normalised by the caller) from `client`.
  Try Begin(std::string_view typed, std::string_view client);
  void Failed(const Try& attempt);
  void Succeeded(const Try& attempt);

 private:
  std::string Key(std::string_view kind, std::string_view value) const;
  Throttle throttle_;
  std::string key_;
};

}  // namespace steward::staff
