// For tests of a batched purge (ModuleStorage::batched): calls a module's purge as the retention
// runner does, each call its own write with the same `limit`, again while a call deletes `limit`
// or more, and says what the calls deleted.
#pragma once

#include <algorithm>
#include <string>

#include "retention/retention.h"
#include "store/store.h"

namespace steward::retention::testing {

struct Batches {
  int64_t purged = 0;   // in all
  int calls = 0;        // writes, the last of which found fewer than `limit`
  int64_t largest = 0;  // the most one call deleted
};

// Errors: the first call's that failed. Stops after `max_calls`, as a purge that never ends would.
inline Result<Batches> PurgeInBatches(store::Store& store, const ModuleStorage& module, const std::string& cutoff,
                                      int64_t limit, int max_calls = 1000) {
  Batches b;
  int64_t n = 0;
  do {
    STEWARD_RETURN_IF_ERROR(store.Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(n, module.purge(c, {}, cutoff, "", /*dry_run=*/false, limit));
      return Ok();
    }));
    b.purged += n;
    b.largest = std::max(b.largest, n);
    if (++b.calls >= max_calls) return MakeError(ErrorCode::kInternal, "the purge did not end");
  } while (n >= limit);
  return b;
}

}  // namespace steward::retention::testing
