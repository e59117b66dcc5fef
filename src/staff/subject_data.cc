#include "staff/subject_data.h"

#include <charconv>

namespace steward::staff {

using subject::Key;
using subject::KeyKind;

Result<int64_t> StaffSubjects::AccountOf(store::Connection& c, const Key& key) const {
  if (key.kind() == KeyKind::kAccountId) {
    if (key.AccountModule() != "staff") return int64_t{0};
    int64_t id = 0;
    std::string_view text = key.AccountId();
    if (std::from_chars(text.data(), text.data() + text.size(), id).ec != std::errc{}) return int64_t{0};
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id FROM staff WHERE id = ?", {id}));
    return rows.empty() ? int64_t{0} : rows.front().Int(0);
  }
  if (key.kind() != KeyKind::kEmail) return int64_t{0};
  // Privacy: staff-accounts, looked up by the email address a rights request gives.
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id FROM staff WHERE email = ?", {key.value()}));
  return rows.empty() ? int64_t{0} : rows.front().Int(0);
}

Result<subject::Finding> StaffSubjects::Find(const Key& key) {
  subject::Finding out;
  int64_t id = 0, records = 0;
  std::string email;
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(id, AccountOf(c, key));
    if (id == 0) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto rows,
                             c.Query("SELECT email, (SELECT COUNT(*) FROM staff_sessions WHERE staff_id = ?), "
                                     "(SELECT COUNT(*) FROM staff_recovery_codes WHERE staff_id = ?) "
                                     "FROM staff WHERE id = ?",
                                     {id, id, id}));
    email = rows.front().Text(0);
    records = 1 + rows.front().Int(1) + rows.front().Int(2);
    return Ok();
  }));
  if (id == 0) return out;
  STEWARD_ASSIGN_OR_RETURN(bool restricted, Restricted(key));
  out.holdings.push_back({.dataset = Dataset(),
                          .count = records,
                          .restricted = restricted,
                          .note = "the account, its sessions and its unused recovery codes"});
  // The same person by their other identifier: the audit trail names staff by account id.
  if (auto account = Key::Make(KeyKind::kAccountId, "staff:" + std::to_string(id)); account.ok()) {
    out.linked.push_back(*account);
  }
  if (auto by_email = Key::Make(KeyKind::kEmail, email); by_email.ok()) out.linked.push_back(*by_email);
  return out;
}

Result<std::vector<subject::Record>> StaffSubjects::Export(const Key& key) {
  std::vector<subject::Record> out;
  // Only by email: the account id names the same records, which would otherwise come twice.
  if (key.kind() != KeyKind::kEmail) return out;
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t id, AccountOf(c, key));
    if (id == 0) return Ok();
    // Privacy: staff-accounts, exported to the staff member they are about. The password hash and
    // second-factor secret are said to exist, not given: they are credentials, not information.
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT email, roles, disabled, created_at, password_hash IS NOT NULL, "
                                                "totp_enabled, COALESCE(disabled_at, '') FROM staff WHERE id = ?",
                                                {id}));
    const store::Row& r = rows.front();
    out.push_back(
        {.dataset = Dataset(),
         .collected_at = r.Text(3),
         .fields = {{"user.contact.email", "Email address", r.Text(0)},
                    {"user.account.settings", "Account", "staff:" + std::to_string(id)},
                    {"user.account.settings", "Roles", r.Text(1)},
                    {"user.account.settings", "Disabled", r.Int(2) ? "yes, at " + r.Text(6) : "no"},
                    {"user.account.password", "Password set", r.Int(4) ? "yes (kept as an argon2id hash)" : "no"},
                    {"user.account.settings", "Second factor", r.Int(5) ? "on" : "off"}}});
    return c.ForEach(
        "SELECT created_at, last_seen_at, device FROM staff_sessions WHERE staff_id = ? ORDER BY created_at", {id},
        [&](const store::Row& s) {
          out.push_back({.dataset = Dataset(),
                         .collected_at = s.Text(0),
                         .fields = {{"user.account.settings", "Session last used", s.Text(1)},
                                    {"user.account.settings", "Session device", s.Text(2)}}});
          return true;
        });
  }));
  return out;
}

Result<std::vector<subject::Erasure>> StaffSubjects::Erase(const Key& key, const subject::Actor& actor) {
  std::vector<subject::Erasure> out;
  int64_t erased = 0;
  bool found = false;
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t id, AccountOf(c, key));
    if (id == 0) return Ok();
    found = true;
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT disabled FROM staff WHERE id = ?", {id}));
    if (rows.front().Int(0) == 0) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "staff:" + std::to_string(id) + " is still enabled: disable the account before erasing it");
    }
    // Privacy: staff-accounts, erased with everything of theirs. The audit trail keeps the id.
    for (const char* table : {"staff_sessions", "staff_recovery_codes", "staff_setup_tokens"}) {
      STEWARD_ASSIGN_OR_RETURN(int64_t n, c.Exec(std::string("DELETE FROM ") + table + " WHERE staff_id = ?", {id}));
      erased += n;
    }
    STEWARD_ASSIGN_OR_RETURN(int64_t n, c.Exec("DELETE FROM staff WHERE id = ?", {id}));
    erased += n;
    STEWARD_RETURN_IF_ERROR(deps().restrictions.Clear(c, deps().module, key));
    return AuditIn(c, "subject.erased", key, actor, {{"erased", std::to_string(erased)}});
  }));
  if (found) out.push_back({.dataset = Dataset(), .erased = erased});
  return out;
}

Result<int64_t> StaffSubjects::Rectify(const Key& key, std::string_view category, std::string_view value,
                                       const subject::Actor& actor) {
  if (category != "user.contact.email") {
    return MakeError(ErrorCode::kFailedPrecondition, "only a staff account's email address can be corrected");
  }
  STEWARD_ASSIGN_OR_RETURN(Key corrected, Key::Make(KeyKind::kEmail, value));
  int64_t changed = 0;
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t id, AccountOf(c, key));
    if (id == 0) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto taken,
                             c.Query("SELECT 1 FROM staff WHERE email = ? AND id <> ?", {corrected.value(), id}));
    if (!taken.empty()) return MakeError(ErrorCode::kAlreadyExists, "another staff account has that email address");
    // Privacy: staff-accounts, the email address corrected at the person's request.
    STEWARD_ASSIGN_OR_RETURN(changed, c.Exec("UPDATE staff SET email = ? WHERE id = ?", {corrected.value(), id}));
    return AuditIn(c, "subject.rectified", key, actor,
                   {{"records", std::to_string(changed)}, {"field", "user.contact.email"}});
  }));
  return changed;
}

}  // namespace steward::staff
