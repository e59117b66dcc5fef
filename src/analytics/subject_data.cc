#include "analytics/subject_data.h"

#include <algorithm>

namespace steward::analytics {

using subject::Key;
using subject::KeyKind;

namespace {

// "visitor IN (?, ?, ...)" for `n` sites.
std::string VisitorIn(size_t n) {
  std::string sql = "visitor IN (";
  for (size_t i = 0; i < n; ++i) sql += i ? ", ?" : "?";
  return sql + ")";
}

}  // namespace

AnalyticsSubjects::AnalyticsSubjects(Deps deps, const crypto::SecretKey& key, std::vector<std::string> sites)
    : StoredSubjectData(std::move(deps)), sites_(std::move(sites)) {
  auto k = key.DeriveKey("anavisit");  // as Analytics derives it
  visitor_key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
}

int64_t AnalyticsSubjects::VisitorHash(std::string_view site, std::string_view visitor_id,
                                       std::string_view visitor_key) {
  std::string digest = crypto::Hash(std::string(site) + '\0' + std::string(visitor_id), visitor_key);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(digest[static_cast<size_t>(i)]);
  return static_cast<int64_t>(v & 0x7fffffffffffffffULL);
}

std::vector<store::Value> AnalyticsSubjects::Hashes(const Key& key) const {
  std::vector<store::Value> out;
  // Privacy: analytics-events. The visitor id reduced to the keyed hash stored for each site.
  for (const auto& site : sites_) out.emplace_back(VisitorHash(site, key.value(), visitor_key_));
  return out;
}

Result<subject::Finding> AnalyticsSubjects::Find(const Key& key) {
  subject::Finding out;
  if (key.kind() != KeyKind::kVisitorId || sites_.empty()) return out;
  int64_t n = 0;
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT COUNT(*) FROM analytics_events WHERE identified = 1 AND " + VisitorIn(sites_.size()),
                           Hashes(key)));
    n = rows.front().Int(0);
    return Ok();
  }));
  STEWARD_ASSIGN_OR_RETURN(bool restricted, n > 0 ? Restricted(key) : Result<bool>(false));
  out.holdings.push_back({.dataset = Dataset(),
                          .count = n,
                          .restricted = restricted,
                          .note = "events sent without the visitor cookie cannot be tied to anyone, so they are "
                                  "neither found nor erased"});
  return out;
}

Result<std::vector<subject::Record>> AnalyticsSubjects::Export(const Key& key) {
  std::vector<subject::Record> out;
  if (key.kind() != KeyKind::kVisitorId || sites_.empty()) return out;
  // Privacy: analytics-events, exported to the visitor they are about.
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    return c.ForEach(
        "SELECT ts, site, name, path, source, referrer, search, engaged_ms, scroll_depth, props, country, "
        "browser, os, device FROM analytics_events WHERE identified = 1 AND " +
            VisitorIn(sites_.size()) + " ORDER BY ts",
        Hashes(key), [&](const store::Row& r) {
          subject::Record rec{.dataset = Dataset(),
                              .collected_at = FormatRfc3339Millis(SystemTime(std::chrono::milliseconds(r.Int(0)))),
                              .fields = {{"user.behavior.browsing", "Site", r.Text(1)},
                                         {"user.behavior.browsing", "Event", r.Text(2)},
                                         {"user.behavior.browsing", "Page", r.Text(3)}}};
          auto add = [&](int col, const char* category, const char* name) {
            if (!r.Text(static_cast<size_t>(col)).empty()) {
              rec.fields.push_back({category, name, r.Text(static_cast<size_t>(col))});
            }
          };
          add(4, "user.behavior.browsing", "Arrived from");
          add(5, "user.behavior.browsing", "Referring page");
          add(6, "user.behavior.search", "Site search");
          add(7, "user.behavior.browsing", "Time engaged (ms)");
          add(8, "user.behavior.browsing", "Scroll depth (%)");
          add(9, "user.behavior.clicks", "Details");
          add(10, "user.device.country", "Country");
          add(11, "user.device.browser", "Browser");
          add(12, "user.device.browser", "Operating system");
          add(13, "user.device.browser", "Device");
          out.push_back(std::move(rec));
          return true;
        });
  }));
  return out;
}

Result<std::vector<subject::Erasure>> AnalyticsSubjects::Erase(const Key& key, const subject::Actor& actor) {
  std::vector<subject::Erasure> out;
  if (key.kind() != KeyKind::kVisitorId || sites_.empty()) return out;
  // The events are found on a reader (a scan: an index on visitors would cost every event's write
  // far more than it saves a rare request), then deleted by id in a short write, so ingestion never
  // waits behind the scan.
  std::vector<int64_t> ids;
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT id FROM analytics_events WHERE identified = 1 AND " + VisitorIn(sites_.size()),
                     Hashes(key), [&](const store::Row& r) {
                       ids.push_back(r.Int(0));
                       return true;
                     });
  }));
  int64_t erased = 0;
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    // Privacy: analytics-events, the visitor's events deleted, a few hundred ids a statement.
    constexpr size_t kBatch = 500;
    for (size_t i = 0; i < ids.size(); i += kBatch) {
      size_t n = std::min(kBatch, ids.size() - i);
      std::string sql = "DELETE FROM analytics_events WHERE id IN (";
      std::vector<store::Value> params;
      for (size_t j = 0; j < n; ++j) {
        sql += j ? ", ?" : "?";
        params.emplace_back(ids[i + j]);
      }
      STEWARD_ASSIGN_OR_RETURN(int64_t deleted, c.Exec(sql + ")", params));
      erased += deleted;
    }
    STEWARD_ASSIGN_OR_RETURN(int64_t marks, deps().restrictions.Clear(c, deps().module, key));
    if (erased == 0 && marks == 0) return Ok();
    return AuditIn(c, "subject.erased", key, actor, {{"erased", std::to_string(erased)}});
  }));
  out.push_back({.dataset = Dataset(), .erased = erased});
  return out;
}

Result<int64_t> AnalyticsSubjects::Restrict(const Key& key, bool on, const subject::Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(int64_t n, StoredSubjectData::Restrict(key, on, actor));
  if (changed_) changed_();
  return n;
}

}  // namespace steward::analytics
