// Per-client limits on anonymous writes: a token bucket per route and client, so that nobody can
// fill the database, or the audit trail, from one machine.
//
// A client is an IPv4 address or an IPv6 /64 (one household or host holds a whole /64, so limiting
// single IPv6 addresses would limit nothing). Buckets are found by a keyed hash of the route and
// the client, under a key made at start: the address itself is never kept. Memory is bounded:
// past `max_clients` buckets, those that have filled up again are dropped, and if none has, all
// are (a burst of new clients then starts afresh rather than growing memory). The buckets live in
// open-addressed tables of twice `max_clients` slots in all (rounded up; 24 bytes a slot: 6 MiB for
// the default 100,000), each of its 16 shards' made at that shard's first write.
//
//   RateLimiter limiter(clock);
//   if (Duration wait = limiter.Take("/api/feedback", *req.client_ip, {.per_minute = 30}); wait > 0s)
//     -> 429 with Retry-After
//
// Thread safety: safe for concurrent use.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/ip.h"
#include "crypto/crypto.h"

namespace steward::http {

struct RateLimit {
  int64_t per_minute = 0;  // 0: no limit
  int64_t burst = 0;       // writes allowed at once; 0: a minute's worth
};

class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock, size_t max_clients = 100'000);

  // Takes one write for `client` under `limit` in the bucket named `route`. Zero when allowed;
  // otherwise how long until one write is, and nothing is taken.
  Duration Take(std::string_view route, const IpAddress& client, const RateLimit& limit);

  // Buckets held now (for tests and metrics).
  size_t size() const;

 private:
  // A bucket, in a shard's open-addressed table (linear probing): most writes come from a client
  // not seen before, and a slot in one array costs a lookup no allocation and no pointer to chase.
  struct Bucket {
    uint64_t key = 0;  // the keyed hash of route and client; 0: an empty slot
    double tokens = 0;
    int64_t at_ms = 0;  // when `tokens` was last brought up to date
  };
  struct Shard {
    mutable std::mutex mu;
    std::vector<Bucket> slots;  // slots_per_shard_ of them, made at the shard's first write
    size_t used = 0;
  };
  // The slot holding `key`, or the empty one where it would go.
  Bucket& Slot(Shard& shard, uint64_t key) const;
  void Sweep(Shard& shard, int64_t now_ms, double capacity, double per_ms);

  const Clock& clock_;
  size_t max_per_shard_;
  size_t slots_per_shard_;  // a power of two, at least twice max_per_shard_: probes stay short
  crypto::ShortHash hash_;  // SipHash, keyed at random per process: the buckets live only in memory
  std::array<Shard, 16> shards_;
};

}  // namespace steward::http
