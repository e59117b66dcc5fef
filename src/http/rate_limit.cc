#include "http/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace steward::http {

RateLimiter::RateLimiter(const Clock& clock, size_t max_clients)
    : clock_(clock), max_per_shard_(std::max<size_t>(1, max_clients / 16)), hash_(crypto::RandomBytes(32)) {}

Duration RateLimiter::Take(std::string_view route, const IpAddress& client, const RateLimit& limit) {
  if (limit.per_minute <= 0) return Duration::zero();
  const double capacity = static_cast<double>(limit.burst > 0 ? limit.burst : limit.per_minute);
  const double per_ms = static_cast<double>(limit.per_minute) / 60'000.0;
  // Privacy: the client's address (or /64) only passes through this keyed hash; it is not kept.
  uint64_t key = hash_.Digest64({route, std::string_view("\0", 1), client.ClientNetwork()});
  Shard& shard = shards_[key % shards_.size()];
  int64_t now_ms = UnixMillis(clock_.Now());
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) Sweep(shard, now_ms, capacity, per_ms);
    it = shard.buckets.emplace(key, Bucket{capacity, now_ms}).first;
  }
  Bucket& b = it->second;
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
  // A bucket that has filled up again holds nothing a new one would not.
  std::erase_if(shard.buckets, [&](const auto& entry) {
    const Bucket& b = entry.second;
    return b.tokens + static_cast<double>(now_ms - b.at_ms) * per_ms >= capacity;
  });
  if (shard.buckets.size() >= max_per_shard_) shard.buckets.clear();
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace steward::http
