#include "http/rate_limit.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace steward::http {

RateLimiter::RateLimiter(const Clock& clock, size_t max_clients)
    : clock_(clock),
      max_per_shard_(std::max<size_t>(1, max_clients / 16)),
      slots_per_shard_(std::bit_ceil(2 * max_per_shard_)),
      hash_(crypto::RandomBytes(32)) {}

RateLimiter::Bucket& RateLimiter::Slot(Shard& shard, uint64_t key) const {
  // The low bits chose the shard; the next ones choose the slot.
  size_t mask = slots_per_shard_ - 1;
  for (size_t i = (key >> 4) & mask;; i = (i + 1) & mask) {
    Bucket& b = shard.slots[i];
    if (b.key == key || b.key == 0) return b;
  }
}

Duration RateLimiter::Take(std::string_view route, const IpAddress& client, const RateLimit& limit) {
  if (limit.per_minute <= 0) return Duration::zero();
  const double capacity = static_cast<double>(limit.burst > 0 ? limit.burst : limit.per_minute);
  const double per_ms = static_cast<double>(limit.per_minute) / 60'000.0;
  // Privacy: the client's address (or /64) only passes through this keyed hash; it is not kept.
  uint64_t key = hash_.Digest64({route, std::string_view("\0", 1), client.ClientNetwork()});
  if (key == 0) key = 1;  // 0 marks an empty slot
  Shard& shard = shards_[key % shards_.size()];
  int64_t now_ms = UnixMillis(clock_.Now());
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.slots.empty()) shard.slots.resize(slots_per_shard_);
  Bucket* slot = &Slot(shard, key);
  if (slot->key == 0) {
    if (shard.used >= max_per_shard_) {
      Sweep(shard, now_ms, capacity, per_ms);
      slot = &Slot(shard, key);
    }
    *slot = Bucket{key, capacity, now_ms};
    ++shard.used;
  }
  Bucket& b = *slot;
  if (now_ms > b.at_ms) {
    b.tokens = std::min(capacity, b.tokens + static_cast<double>(now_ms - b.at_ms) * per_ms);
    b.at_ms = now_ms;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return Duration::zero();
  }
  auto wait_ms = static_cast<int64_t>(std::ceil((1.0 - b.tokens) / per_ms));
  return std::chrono::milliseconds(std::max<int64_t>(wait_ms, 1));
}

void RateLimiter::Sweep(Shard& shard, int64_t now_ms, double capacity, double per_ms) {
  // A bucket that has filled up again holds nothing a new one would not. The others are put back
  // in a cleared table (linear probing has no cheaper way to remove).
  std::vector<Bucket> kept;
  for (const Bucket& b : shard.slots) {
    if (b.key != 0 && b.tokens + static_cast<double>(now_ms - b.at_ms) * per_ms < capacity) kept.push_back(b);
  }
  std::fill(shard.slots.begin(), shard.slots.end(), Bucket{});
  shard.used = 0;
  if (kept.size() >= max_per_shard_) return;  // none has refilled: all are dropped
  for (const Bucket& b : kept) Slot(shard, b.key) = b;
  shard.used = kept.size();
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.used;
  }
  return n;
}

}  // namespace steward::http
