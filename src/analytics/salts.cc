#include "analytics/salts.h"

#include "core/log.h"

namespace steward::analytics {

int64_t DayOf(SystemTime t) {
  auto ms = UnixMillis(t);
  return ms >= 0 ? ms / 86'400'000 : (ms - 86'399'999) / 86'400'000;
}

Salts::Salts(store::Store& store, const Clock& clock, const crypto::SecretKey& key) : store_(store), clock_(clock) {
  auto k = key.DeriveKey("anasalts");
  seal_key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
}

int64_t Salts::Today() const { return DayOf(clock_.Now()); }

Result<std::string> Salts::ForDay(int64_t day) {
  int64_t today = Today();
  if (day < today - 1 || day > today) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "no salt for day " + std::to_string(day) + ": only today's and yesterday's exist");
  }
  return Get(day);
}

Status Salts::MakeAhead() {
  int64_t today = Today();
  for (int64_t day : {today - 1, today}) {
    STEWARD_ASSIGN_OR_RETURN(std::string salt, Get(day));
    (void)salt;
  }
  SystemTime next_midnight{std::chrono::hours(24) * (today + 1)};
  if (next_midnight - clock_.Now() <= std::chrono::hours(1)) {
    STEWARD_ASSIGN_OR_RETURN(std::string tomorrow, Get(today + 1));
    (void)tomorrow;
  }
  return Ok();
}

Result<std::string> Salts::Get(int64_t day) {
  int64_t today = Today();
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(day); it != cache_.end()) return it->second;
  std::optional<std::string> salt;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT sealed FROM analytics_salts WHERE day = ?", {day}));
    if (!rows.empty()) {
      const auto* blob = std::get_if<store::Blob>(&rows.front().at(0));
      if (blob != nullptr) salt = crypto::Unseal(seal_key_, blob->bytes);
      if (!salt)
        return MakeError(ErrorCode::kDataLoss,
                         "the analytics salt for day " + std::to_string(day) + " cannot be unsealed");
    }
    return Ok();
  }));
  if (!salt) {
    std::string fresh = crypto::RandomBytes(32);
    std::string sealed = crypto::Seal(seal_key_, fresh);
    STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
      // Another process may have made it first: keep theirs.
      STEWARD_ASSIGN_OR_RETURN(auto n,
                               c.Exec("INSERT INTO analytics_salts (day, sealed) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                      {day, store::Blob{sealed}}));
      (void)n;
      return Ok();
    }));
    STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT sealed FROM analytics_salts WHERE day = ?", {day}));
      const auto* blob = rows.empty() ? nullptr : std::get_if<store::Blob>(&rows.front().at(0));
      if (blob != nullptr) salt = crypto::Unseal(seal_key_, blob->bytes);
      if (!salt) return MakeError(ErrorCode::kDataLoss, "the analytics salt could not be stored");
      return Ok();
    }));
    log::Info("analytics.salt_made", {{"day", day}});
  }
  // Only today's and yesterday's are worth keeping in memory.
  std::erase_if(cache_, [&](const auto& kv) { return kv.first < today - 1; });
  cache_[day] = *salt;
  return *salt;
}

Result<int64_t> Salts::DestroyOld() {
  int64_t keep_from = Today() - 1;
  int64_t destroyed = 0;
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(destroyed, c.Exec("DELETE FROM analytics_salts WHERE day < ?", {keep_from}));
    return Ok();
  }));
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(cache_, [&](const auto& kv) { return kv.first < keep_from; });
  if (destroyed > 0) log::Info("analytics.salts_destroyed", {{"count", destroyed}});
  return destroyed;
}

}  // namespace steward::analytics
