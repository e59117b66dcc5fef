// Daily salts for cookieless visitor counting, as Plausible does it.
//
// A visitor is a keyed BLAKE2b hash of the day's random salt, the site, the IP address and the user
// agent. Salts rotate at 00:00 UTC and are destroyed 48 hours after they were made (so yesterday's
// stays for visits that cross midnight, and nothing older can ever be recomputed). They are kept
// in the database sealed with a key derived from the site's secret key, so a restart keeps
// counting the same visitors, and a copy of the database alone cannot recompute a hash.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "store/store.h"

namespace steward::analytics {

class Salts {
 public:
  Salts(store::Store& store, const Clock& clock, const crypto::SecretKey& key);

  // The salt for the UTC day `day` (days since 1970-01-01), made and stored when first asked for
  // on that day. Errors: kFailedPrecondition for a day older than yesterday (destroyed) or in the
  // future; store errors.
  Result<std::string> ForDay(int64_t day);
  // Makes sure today's salt is in memory, and makes tomorrow's when less than an hour of today is
  // left, so that ForDay does not wait on the database at midnight. Housekeeping calls this.
  Status MakeAhead();
  // Today's (by the clock) and yesterday's day numbers.
  int64_t Today() const;
  // Destroys every salt older than yesterday. Returns how many.
  Result<int64_t> DestroyOld();

 private:
  Result<std::string> Get(int64_t day);  // without the range check

  store::Store& store_;
  const Clock& clock_;
  std::string seal_key_;
  std::mutex mu_;
  std::map<int64_t, std::string> cache_;
};

// Days since 1970-01-01 (UTC) of `t`.
int64_t DayOf(SystemTime t);

}  // namespace steward::analytics
