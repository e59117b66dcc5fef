#include "logs/subject_data.h"

namespace steward::logs {

using subject::Key;
using subject::KeyKind;

Result<subject::Finding> LogSubjects::Find(const Key& key) {
  subject::Finding out;
  if (key.kind() != KeyKind::kIpAddress || archive_ == nullptr) return out;
  // Privacy: access-logs, the raw lines from an address counted for a rights request.
  STEWARD_ASSIGN_OR_RETURN(RawResult found, archive_->Search(deps().store, {.ip = key.value(), .limit = 1}));
  if (found.total == 0) return out;
  STEWARD_ASSIGN_OR_RETURN(bool restricted, Restricted(key));
  out.holdings.push_back({.dataset = Dataset(),
                          .count = found.total,
                          .restricted = restricted,
                          .note = "raw access-log lines; the statistics made from them hold no address"});
  return out;
}

Result<std::vector<subject::Record>> LogSubjects::Export(const Key& key) {
  std::vector<subject::Record> out;
  if (key.kind() != KeyKind::kIpAddress || archive_ == nullptr) return out;
  // Privacy: access-logs, the raw lines exported to the person whose address made them.
  STEWARD_ASSIGN_OR_RETURN(RawResult found, archive_->Search(deps().store, {.ip = key.value(), .limit = kExportLimit}));
  for (auto& m : found.matches) {
    out.push_back({.dataset = Dataset(),
                   .collected_at = FormatRfc3339(SystemTime(std::chrono::milliseconds(m.time_ms))),
                   .fields = {{"user.device.ip_address", "Access-log line", std::move(m.line)}}});
  }
  if (found.total > static_cast<int64_t>(found.matches.size())) {
    out.push_back({.dataset = Dataset(),
                   .fields = {{"user.device.ip_address", "Lines not shown",
                               std::to_string(found.total - static_cast<int64_t>(found.matches.size())) +
                                   " more lines from this range: ask for a narrower one"}}});
  }
  return out;
}

Result<std::vector<subject::Erasure>> LogSubjects::Erase(const Key& key, const subject::Actor& actor) {
  std::vector<subject::Erasure> out;
  if (key.kind() != KeyKind::kIpAddress || archive_ == nullptr) return out;
  bool marks_cleared = false;
  STEWARD_ASSIGN_OR_RETURN(
      int64_t erased, archive_->Erase(deps().store, key.value(), [&](store::Connection& c, int64_t lines) -> Status {
        STEWARD_RETURN_IF_ERROR(deps().restrictions.Clear(c, deps().module, key));
        marks_cleared = true;
        return AuditIn(c, "subject.erased", key, actor, {{"erased", std::to_string(lines)}});
      }));
  // No month held the address: a restriction mark may still need lifting.
  if (!marks_cleared) {
    STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(int64_t n, deps().restrictions.Clear(c, deps().module, key));
      (void)n;
      return Ok();
    }));
  }
  out.push_back({.dataset = Dataset(), .erased = erased});
  return out;
}

}  // namespace steward::logs
