#include "subject/audit_data.h"

namespace steward::subject {

Result<Finding> AuditSubjects::Find(const Key& key) {
  Finding out;
  if (key.kind() != KeyKind::kAccountId) return out;
  int64_t n = 0;
  // Privacy: audit-trail, counted where it names the account.
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT COUNT(*) FROM audit_log WHERE actor = ? OR target = ?", {key.value(), key.value()}));
    n = rows.front().Int(0);
    return Ok();
  }));
  if (n == 0) return out;
  STEWARD_ASSIGN_OR_RETURN(bool restricted, Restricted(key));
  out.holdings.push_back({.dataset = Dataset(),
                          .count = n,
                          .restricted = restricted,
                          .note = "entries naming the account as who acted or what was acted on; kept, not erased"});
  return out;
}

Result<std::vector<Record>> AuditSubjects::Export(const Key& key) {
  std::vector<Record> out;
  if (key.kind() != KeyKind::kAccountId) return out;
  // Privacy: audit-trail, exported to the person it names.
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    return c.ForEach(
        "SELECT seq, at, actor, action, target, outcome, details FROM audit_log "
        "WHERE actor = ? OR target = ? ORDER BY seq",
        {key.value(), key.value()}, [&](const store::Row& r) {
          out.push_back({.dataset = Dataset(),
                         .collected_at = r.Text(1),
                         .fields = {{"user.identifier.pseudonym", "Entry", std::to_string(r.Int(0))},
                                    {"user.identifier.pseudonym", "Who acted", r.Text(2)},
                                    {"user.identifier.pseudonym", "Action", r.Text(3)},
                                    {"user.identifier.pseudonym", "Acted on", r.Text(4)},
                                    {"user.identifier.pseudonym", "Outcome", r.Text(5)},
                                    {"user.identifier.pseudonym", "Details", r.Text(6)}}});
          return true;
        });
  }));
  return out;
}

Result<std::vector<Erasure>> AuditSubjects::Erase(const Key& key, const Actor&) {
  STEWARD_ASSIGN_OR_RETURN(Finding found, Find(key));
  std::vector<Erasure> out;
  if (!found.holdings.empty()) out.push_back({.dataset = Dataset(), .exemption = kExemption});
  return out;
}

}  // namespace steward::subject
