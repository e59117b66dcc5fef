#include "consent/subject_data.h"

namespace steward::consent {

using subject::Key;
using subject::KeyKind;

Result<subject::Finding> ConsentSubjects::Find(const Key& key) {
  subject::Finding out;
  if (key.kind() != KeyKind::kConsentId) return out;
  int64_t n = 0;
  // Privacy: consent-records, counted for a rights request.
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT COUNT(*) FROM consent_records WHERE consent_key = ?", {records_.Key(key.value())}));
    n = rows.front().Int(0);
    return Ok();
  }));
  if (n == 0) return out;
  STEWARD_ASSIGN_OR_RETURN(bool restricted, Restricted(key));
  out.holdings.push_back({.dataset = Dataset(), .count = n, .restricted = restricted});
  return out;
}

Result<std::vector<subject::Record>> ConsentSubjects::Export(const Key& key) {
  std::vector<subject::Record> out;
  if (key.kind() != KeyKind::kConsentId) return out;
  // Privacy: consent-records, exported to the person they are about.
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    return c.ForEach(
        "SELECT at, notice_version, choices, method, recorded_by FROM consent_records "
        "WHERE consent_key = ? ORDER BY seq",
        {records_.Key(key.value())}, [&](const store::Row& r) {
          std::string method(MethodTitle(ParseMethod(r.Text(3)).value_or(Method::kBanner)));
          if (!r.Text(4).empty()) method += " (" + r.Text(4) + ")";
          out.push_back({.dataset = Dataset(),
                         .collected_at = r.Text(0),
                         .fields = {{"user.identifier.unique_id", "Consent reference", key.value()},
                                    {"user.preferences.consent", "Choices", r.Text(2)},
                                    {"user.preferences.consent", "How the choice was made", method},
                                    {"user.preferences.consent", "Privacy notice version shown", r.Text(1)}}});
          return true;
        });
  }));
  return out;
}

Result<std::vector<subject::Erasure>> ConsentSubjects::Erase(const Key& key, const subject::Actor& actor) {
  std::vector<subject::Erasure> out;
  if (key.kind() != KeyKind::kConsentId) return out;
  int64_t erased = 0;
  // Privacy: consent-records, deleted with their restriction mark and an audit entry of counts.
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(erased,
                             c.Exec("DELETE FROM consent_records WHERE consent_key = ?", {records_.Key(key.value())}));
    STEWARD_ASSIGN_OR_RETURN(int64_t marks, deps().restrictions.Clear(c, deps().module, key));
    if (erased == 0 && marks == 0) return Ok();
    return AuditIn(c, "subject.erased", key, actor, {{"erased", std::to_string(erased)}});
  }));
  out.push_back({.dataset = Dataset(), .erased = erased});
  return out;
}

}  // namespace steward::consent
