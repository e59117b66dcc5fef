#include "staff/accounts.h"

#include <fstream>

#include "core/log.h"
#include "core/strings.h"

namespace steward::staff {
namespace {

constexpr auto kSetupLinkLife = std::chrono::hours(24);
std::string Id(int64_t id) { return "staff:" + std::to_string(id); }

std::string KeyString(const std::array<uint8_t, 32>& k) {
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

StaffMember ToStaff(const store::Row& r) {
  StaffMember s;
  s.id = r.Int(0);
  s.email = r.Text(1);
  s.roles = SplitRoles(r.Text(2));
  s.disabled = r.Int(3) != 0;
  s.has_password = !r.IsNull(4);
  s.totp_enabled = r.Int(5) != 0;
  s.created_at = r.Text(6);
  return s;
}

// Privacy: staff accounts — the email and password hash are read here, and only here.
constexpr const char* kSelectStaff =
    "SELECT id, email, roles, disabled, password_hash, totp_enabled, created_at FROM staff";

// Recovery codes: ten groups of 4+4 characters from an alphabet without look-alikes.

// One attempt to prove who someone is, throttled on its account and on the client (address and
// network) together: begun before the check, then ended as it went.
class ThrottledAttempt {
 public:
  ThrottledAttempt(Throttle& accounts, Throttle& clients, std::string account, const Client& client)
      : accounts_(accounts),
        clients_(clients),
        account_(std::move(account)),
        client_("client:" + client.address),
        network_(client.network.empty() ? "" : "network:" + client.network) {
    Attempt a = accounts_.Begin({account_});
    Attempt c = clients_.Begin({client_, network_});
    wait_ = std::max(a.wait, c.wait);
    first_denial_ = a.first_denial || c.first_denial;
    if (wait_ == Duration::zero()) {
      // Tried: the refusals before it are taken now, so the next refusal is audited again.
      int64_t n = std::max(accounts_.TakeDenied(account_), clients_.TakeDenied(client_));
      if (!network_.empty()) n = std::max(n, clients_.TakeDenied(network_));
      refused_before_ = std::max<int64_t>(n - 1, 0);  // the first was audited itself
      return;
    }
    // Refused: whichever side was charged takes it back, as nothing was tried.
    if (a.wait == Duration::zero()) accounts_.EndSucceeded(account_, false);
    if (c.wait == Duration::zero()) EndClient(/*failed=*/false);
  }
  Duration wait() const { return wait_; }
  bool first_denial() const { return first_denial_; }
  // Refusals since the last attempt that was tried, apart from the first (audited itself).
  int64_t refused_before() const { return refused_before_; }
  void Succeeded() {
    accounts_.EndSucceeded(account_, /*forget=*/true);
    EndClient(false);
  }
  // Whether the failure locked the account, or the client.
  std::pair<bool, bool> Failed() {
    bool account = accounts_.EndFailed(account_);
    return {account, EndClient(true)};
  }

 private:
  bool EndClient(bool failed) {
    bool locked = false;
    for (const std::string* k : {&client_, &network_}) {
      if (k->empty()) continue;
      if (failed) {
        locked = clients_.EndFailed(*k) || locked;
      } else {
        clients_.EndSucceeded(*k, false);
      }
    }
    return locked;
  }
  Throttle& accounts_;
  Throttle& clients_;
  std::string account_, client_, network_;
  Duration wait_{};
  bool first_denial_ = false;
  int64_t refused_before_ = 0;
};

}  // namespace

std::optional<std::string> NormaliseEmail(std::string_view email) {
  std::string e = ToLower(Trim(email));
  size_t at = e.find('@');
  if (e.size() < 3 || e.size() > 254 || at == std::string::npos || at == 0 || at == e.size() - 1 ||
      e.find('@', at + 1) != std::string::npos) {
    return std::nullopt;
  }
  for (unsigned char c : e) {
    if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' || c == 0x7f) return std::nullopt;
  }
  return e;
}

Result<PasswordPolicy> PasswordPolicy::Load(const std::string& common_passwords_file) {
  std::ifstream in(common_passwords_file);
  if (!in) {
    return MakeError(ErrorCode::kNotFound,
                     "common-password list " + common_passwords_file + " is missing (run scripts/install-deps)");
  }
  PasswordPolicy p;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) p.common.insert(ToLower(line));
  }
  return p;
}

const std::vector<store::Migration>& Accounts::Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"staff", 1, R"sql(
-- Privacy: dataset "staff accounts" (staff email addresses, password hashes, second factors).
CREATE TABLE staff (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT,
  roles TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  totp_secret BLOB,
  totp_enabled INTEGER NOT NULL DEFAULT 0,
  totp_last_step INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE staff_recovery_codes (
  staff_id INTEGER NOT NULL REFERENCES staff (id),
  code_hash BLOB NOT NULL,
  used_at TEXT,
  PRIMARY KEY (staff_id, code_hash)
);
CREATE TABLE staff_setup_tokens (
  token_hash BLOB PRIMARY KEY,
  staff_id INTEGER REFERENCES staff (id),
  expires_at TEXT NOT NULL,
  used_at TEXT
);
-- Sessions are looked up by a keyed hash of the cookie's value: the value itself is never stored.
CREATE TABLE staff_sessions (
  id_hash TEXT PRIMARY KEY,
  staff_id INTEGER NOT NULL REFERENCES staff (id),
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  second_factor_pending INTEGER NOT NULL,
  device TEXT NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
)sql"},
      {"staff", 2, R"sql(
-- When an account was disabled: its retention runs from then.
ALTER TABLE staff ADD COLUMN disabled_at TEXT;
)sql"},
  };
  return kMigrations;
}

Accounts::Accounts(store::Store& store, audit::Trail& trail, const Clock& clock, const crypto::SecretKey& key,
                   PasswordPolicy policy)
    : store_(store),
      trail_(trail),
      clock_(clock),
      hash_key_(KeyString(key.DeriveKey("stafhash"))),
      totp_key_(KeyString(key.DeriveKey("stafotp_"))),
      // Privacy: staff accounts: the TOTP secret, sealed with a key derived from the site's key.
      totp_(
          clock, TotpTable{},
          [this](store::Connection&, int64_t, const std::string& secret) -> Result<std::string> {
            return crypto::Seal(totp_key_, secret);
          },
          [this](store::Connection&, int64_t, const std::string& sealed) { return crypto::Unseal(totp_key_, sealed); },
          [this](std::string_view code) { return TokenHash(code); }),
      policy_(std::move(policy)),
      account_throttle_(clock, ThrottlePolicy{}),
      client_throttle_(clock,
                       ThrottlePolicy{.free_failures = 10, .lock_after = 30, .lock_for = std::chrono::minutes(15)}) {}

std::string Accounts::Pseudonym(std::string_view value) const { return HexEncode(crypto::Hash(value, hash_key_)); }
std::string Accounts::TokenHash(std::string_view token) const { return crypto::Hash(token, hash_key_); }

const std::string& Accounts::DummyHash() const {
  std::call_once(dummy_once_, [this] {
    auto h = crypto::HashPassword(crypto::RandomHex(16));
    dummy_hash_ = h.ok() ? *h : std::string();
  });
  return dummy_hash_;
}

Result<StaffMember> Accounts::Load(store::Connection& c, int64_t id) const {
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(std::string(kSelectStaff) + " WHERE id = ?", {id}));
  if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no staff account " + std::to_string(id));
  return ToStaff(rows[0]);
}

Result<int64_t> Accounts::Create(std::string_view email, const std::vector<Role>& roles, const Actor& actor) {
  auto normal = NormaliseEmail(email);
  if (!normal) return MakeError(ErrorCode::kInvalidArgument, "Enter an email address in the correct format");
  if (roles.empty()) return MakeError(ErrorCode::kInvalidArgument, "Choose at least one role");
  int64_t id = 0;
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto existing, c.Query("SELECT 1 FROM staff WHERE email = ?", {*normal}));
    if (!existing.empty())
      return MakeError(ErrorCode::kAlreadyExists, "A staff account with that email address already exists");
    // Privacy: staff accounts — stores the staff member's email address.
    STEWARD_ASSIGN_OR_RETURN(auto made, c.Query("INSERT INTO staff (email, roles, created_at) VALUES (?, ?, ?) "
                                                "RETURNING id",
                                                {*normal, JoinRoles(roles), FormatRfc3339Millis(clock_.Now())}));
    id = made.at(0).Int(0);
    return trail_.AppendIn(c, {.actor = actor.id,
                               .action = "staff.created",
                               .target = Id(id),
                               .request_id = actor.request_id,
                               .details = {{"roles", JoinRoles(roles)}}});
  }));
  return id;
}

Result<StaffMember> Accounts::Find(int64_t id) const {
  StaffMember out;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(out, Load(c, id));
    return Ok();
  }));
  return out;
}

Result<std::optional<StaffMember>> Accounts::FindByEmail(std::string_view email) const {
  auto normal = NormaliseEmail(email);
  if (!normal) return std::optional<StaffMember>();
  std::optional<StaffMember> out;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(std::string(kSelectStaff) + " WHERE email = ?", {*normal}));
    if (!rows.empty()) out = ToStaff(rows[0]);
    return Ok();
  }));
  return out;
}

Result<std::vector<StaffMember>> Accounts::List() const {
  std::vector<StaffMember> out;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    return c.ForEach(std::string(kSelectStaff) + " ORDER BY email", {}, [&](const store::Row& r) {
      out.push_back(ToStaff(r));
      return true;
    });
  }));
  return out;
}

Result<int64_t> PurgeDisabledBefore(store::Connection& c, const std::string& cutoff, const std::string& now,
                                    bool dry_run) {
  // Privacy: staff accounts — removes accounts disabled before the cut-off, with everything of theirs.
  STEWARD_ASSIGN_OR_RETURN(auto ids, c.Query("SELECT id FROM staff WHERE disabled = 1 AND disabled_at < ?", {cutoff}));
  if (dry_run) return static_cast<int64_t>(ids.size());
  for (const auto& row : ids) {
    int64_t id = row.Int(0);
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM staff_sessions WHERE staff_id = ?", {id}));
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM staff_recovery_codes WHERE staff_id = ?", {id}));
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM staff_setup_tokens WHERE staff_id = ?", {id}));
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM staff WHERE id = ?", {id}));
  }
  // Housekeeping that needs no cut-off: set-up links that can no longer be used.
  STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM staff_setup_tokens WHERE used_at IS NOT NULL OR expires_at < ?", {now}));
  return static_cast<int64_t>(ids.size());
}

Result<int64_t> Accounts::Count() const {
  int64_t n = 0;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM staff"));
    n = rows[0].Int(0);
    return Ok();
  }));
  return n;
}

Status Accounts::RequireAnotherAdmin(store::Connection& c, int64_t id) const {
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id, roles FROM staff WHERE disabled = 0 AND id != ?", {id}));
  for (const auto& r : rows) {
    auto roles = SplitRoles(r.Text(1));
    if (AnyGrants(roles, Permission::kManageStaff)) return Ok();
  }
  return MakeError(ErrorCode::kFailedPrecondition, "There must always be at least one active administrator");
}

Status Accounts::SetRoles(int64_t id, const std::vector<Role>& roles, const Actor& actor) {
  if (roles.empty()) return MakeError(ErrorCode::kInvalidArgument, "Choose at least one role");
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(StaffMember before, Load(c, id));
    if (AnyGrants(before.roles, Permission::kManageStaff) && !AnyGrants(roles, Permission::kManageStaff) &&
        !before.disabled) {
      STEWARD_RETURN_IF_ERROR(RequireAnotherAdmin(c, id));
    }
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE staff SET roles = ? WHERE id = ?", {JoinRoles(roles), id}));
    return trail_.AppendIn(c, {.actor = actor.id,
                               .action = "staff.roles_changed",
                               .target = Id(id),
                               .request_id = actor.request_id,
                               .details = {{"from", JoinRoles(before.roles)}, {"to", JoinRoles(roles)}}});
  });
}

Status Accounts::SetDisabled(int64_t id, bool disabled, const Actor& actor) {
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(StaffMember before, Load(c, id));
    if (disabled && AnyGrants(before.roles, Permission::kManageStaff))
      STEWARD_RETURN_IF_ERROR(RequireAnotherAdmin(c, id));
    store::Value when = disabled ? store::Value(FormatRfc3339Millis(clock_.Now())) : store::Value(std::monostate{});
    STEWARD_RETURN_IF_ERROR(
        c.Exec("UPDATE staff SET disabled = ?, disabled_at = ? WHERE id = ?", {int64_t{disabled}, when, id}));
    if (disabled) STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM staff_sessions WHERE staff_id = ?", {id}));
    return trail_.AppendIn(c, {.actor = actor.id,
                               .action = disabled ? "staff.disabled" : "staff.enabled",
                               .target = Id(id),
                               .request_id = actor.request_id});
  });
}

Result<std::string> Accounts::IssueSetupToken(std::optional<int64_t> staff_id, const Actor& actor) {
  std::string token = crypto::RandomHex(24);
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    store::Value sid = std::monostate{};
    if (staff_id) {
      STEWARD_RETURN_IF_ERROR(Load(c, *staff_id));
      sid = *staff_id;
    }
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO staff_setup_tokens (token_hash, staff_id, expires_at) VALUES (?, ?, ?)",
               {store::Blob{TokenHash(token)}, sid, FormatRfc3339Millis(clock_.Now() + kSetupLinkLife)}));
    return trail_.AppendIn(c, {.actor = actor.id,
                               .action = "staff.setup_link_issued",
                               .target = staff_id ? Id(*staff_id) : "first-admin",
                               .request_id = actor.request_id});
  }));
  return token;
}

Result<SetupLink> Accounts::LookupSetupToken(std::string_view token) const {
  SetupLink link;
  bool found = false;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows,
        c.Query("SELECT t.staff_id, s.email FROM staff_setup_tokens t LEFT JOIN staff s ON s.id = t.staff_id "
                "WHERE t.token_hash = ? AND t.used_at IS NULL AND t.expires_at > ?",
                {store::Blob{TokenHash(token)}, FormatRfc3339Millis(clock_.Now())}));
    if (rows.empty()) return Ok();
    found = true;
    if (!rows[0].IsNull(0)) {
      link.staff_id = rows[0].Int(0);
      link.email = rows[0].Text(1);
    }
    return Ok();
  }));
  if (!found) return MakeError(ErrorCode::kNotFound, "This set-up link has expired or has already been used");
  return link;
}

Result<int64_t> Accounts::CompleteSetup(std::string_view token, std::string_view email, std::string_view password,
                                        const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(SetupLink link, LookupSetupToken(token));
  std::string account_email = link.email;
  if (!link.staff_id) {
    auto normal = NormaliseEmail(email);
    if (!normal) return MakeError(ErrorCode::kInvalidArgument, "Enter an email address in the correct format");
    account_email = *normal;
  }
  STEWARD_RETURN_IF_ERROR(CheckPassword(password, account_email));
  std::string hash;
  {
    hashing_.acquire();
    auto h = crypto::HashPassword(password);
    hashing_.release();
    if (!h.ok()) return h.error();
    hash = std::move(*h);
  }
  int64_t id = link.staff_id.value_or(0);
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    // Use the token inside the same write, so two submissions cannot both succeed.
    STEWARD_ASSIGN_OR_RETURN(
        int64_t used,
        c.Exec("UPDATE staff_setup_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
               {FormatRfc3339Millis(clock_.Now()), store::Blob{TokenHash(token)}, FormatRfc3339Millis(clock_.Now())}));
    if (used != 1) return MakeError(ErrorCode::kNotFound, "This set-up link has expired or has already been used");
    if (!link.staff_id) {
      STEWARD_ASSIGN_OR_RETURN(auto any, c.Query("SELECT count(*) FROM staff"));
      if (any[0].Int(0) != 0) {
        return MakeError(ErrorCode::kFailedPrecondition, "The first administrator has already been set up");
      }
      // Privacy: staff accounts — the first administrator's email address.
      STEWARD_ASSIGN_OR_RETURN(auto made,
                               c.Query("INSERT INTO staff (email, roles, created_at) VALUES (?, ?, ?) RETURNING id",
                                       {account_email, JoinRoles({Role::kAdmin}), FormatRfc3339Millis(clock_.Now())}));
      id = made.at(0).Int(0);
      STEWARD_RETURN_IF_ERROR(trail_.AppendIn(c, {.actor = actor.id,
                                                  .action = "staff.created",
                                                  .target = Id(id),
                                                  .request_id = actor.request_id,
                                                  .details = {{"roles", "admin"}, {"via", "first-admin link"}}}));
    }
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE staff SET password_hash = ? WHERE id = ?", {hash, id}));
    // A new password ends every session signed in with the old one.
    STEWARD_ASSIGN_OR_RETURN(int64_t ended, c.Exec("DELETE FROM staff_sessions WHERE staff_id = ?", {id}));
    return trail_.AppendIn(c, {.actor = Id(id),
                               .action = "staff.password_set",
                               .target = Id(id),
                               .request_id = actor.request_id,
                               .details = {{"via", "set-up link"}, {"sessions_ended", std::to_string(ended)}}});
  }));
  return id;
}

Status Accounts::SetPassword(int64_t id, std::string_view password, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(StaffMember member, Find(id));
  STEWARD_RETURN_IF_ERROR(CheckPassword(password, member.email));
  hashing_.acquire();
  auto hash = crypto::HashPassword(password);
  hashing_.release();
  if (!hash.ok()) return hash.error();
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE staff SET password_hash = ? WHERE id = ?", {*hash, id}));
    // A new password ends every session signed in with the old one.
    STEWARD_ASSIGN_OR_RETURN(int64_t ended, c.Exec("DELETE FROM staff_sessions WHERE staff_id = ?", {id}));
    return trail_.AppendIn(c, {.actor = actor.id,
                               .action = "staff.password_set",
                               .target = Id(id),
                               .request_id = actor.request_id,
                               .details = {{"sessions_ended", std::to_string(ended)}}});
  });
}

Status Accounts::CheckPassword(std::string_view password, std::string_view email) const {
  return policy_.Check(password, email);
}

Status PasswordPolicy::Check(std::string_view password, std::string_view email) const {
  if (password.size() < min_length) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Password must be " + std::to_string(min_length) + " characters or more");
  }
  if (password.size() > max_length) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Password must be " + std::to_string(max_length) + " characters or fewer");
  }
  std::string lower = ToLower(password);
  if (common.count(lower)) {
    return MakeError(ErrorCode::kInvalidArgument, "That password is too common. Try three random words");
  }
  std::string local = ToLower(email.substr(0, email.find('@')));
  if (local.size() >= 4 && lower.find(local) != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "Password must not contain your email address");
  }
  return Ok();
}

Result<SignInResult> Accounts::SignIn(std::string_view email, std::string_view password, const Client& client,
                                      const Actor& actor) {
  SignInResult result;
  std::string normal = NormaliseEmail(email).value_or(ToLower(Trim(email)));
  STEWARD_ASSIGN_OR_RETURN(std::optional<StaffMember> member, FindByEmail(normal));
  std::string who = member ? Id(member->id) : "anonymous";
  std::string target = member ? Id(member->id) : "";
  ThrottledAttempt attempt(account_throttle_, client_throttle_, "account:" + Pseudonym(normal), client);
  if (attempt.wait() > Duration::zero()) {
    result.outcome = SignInOutcome::kThrottled;
    result.wait = attempt.wait();
    // The first refusal is audited; the rest are counted, and reported with the next attempt.
    if (attempt.first_denial()) {
      STEWARD_RETURN_IF_ERROR(trail_.Append({.actor = who,
                                             .action = "staff.signin",
                                             .target = target,
                                             .outcome = "denied",
                                             .request_id = actor.request_id,
                                             .details = {{"reason", "throttled"}}}));
    }
    return result;
  }

  std::string stored;
  if (member && member->has_password) {
    STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
      // Privacy: staff accounts — reads the password hash to check it.
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT password_hash FROM staff WHERE id = ?", {member->id}));
      if (!rows.empty()) stored = rows[0].Text(0);
      return Ok();
    }));
  }
  // The same work whether or not the account exists, so timing reveals nothing.
  bool right = MatchesHash(stored, password);
  std::string refused_before = std::to_string(attempt.refused_before());

  if (right && !member->disabled) {
    attempt.Succeeded();
    result.outcome = SignInOutcome::kOk;
    result.second_factor = member->totp_enabled;
    result.staff = member;
    STEWARD_RETURN_IF_ERROR(trail_.Append({.actor = Id(member->id),
                                           .action = "staff.signin",
                                           .target = Id(member->id),
                                           .outcome = member->totp_enabled ? "password_ok" : "success",
                                           .request_id = actor.request_id,
                                           .details = {{"refused_before", refused_before}}}));
    return result;
  }
  auto [account_locked, client_locked] = attempt.Failed();
  std::string reason = !member ? "unknown_account" : (right && member->disabled) ? "disabled" : "wrong_password";
  STEWARD_RETURN_IF_ERROR(trail_.Append({.actor = who,
                                         .action = "staff.signin",
                                         .target = target,
                                         .outcome = "failure",
                                         .request_id = actor.request_id,
                                         .details = {{"reason", reason}, {"refused_before", refused_before}}}));
  if (account_locked || client_locked) {
    STEWARD_RETURN_IF_ERROR(trail_.Append({.actor = "system",
                                           .action = "staff.locked",
                                           .target = target,
                                           .request_id = actor.request_id,
                                           .details = {{"what", account_locked ? "account" : "client"}}}));
  }
  result.outcome = SignInOutcome::kBadCredentials;
  return result;
}

bool Accounts::MatchesHash(const std::string& stored, std::string_view password) const {
  // The same work whether or not there is a hash, so timing reveals nothing; at most two at once.
  hashing_.acquire();
  bool right = crypto::VerifyPassword(stored.empty() ? DummyHash() : stored, password) && !stored.empty();
  hashing_.release();
  return right;
}

Result<bool> Accounts::Reauthenticate(int64_t id, std::string_view password, const Client& client, const Actor& actor) {
  ThrottledAttempt attempt(account_throttle_, client_throttle_, "reauth:" + std::to_string(id), client);
  if (attempt.wait() > Duration::zero()) return false;
  std::string stored;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    // Privacy: staff accounts — reads the password hash to check it.
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT password_hash FROM staff WHERE id = ? AND disabled = 0", {id}));
    if (!rows.empty() && !rows[0].IsNull(0)) stored = rows[0].Text(0);
    return Ok();
  }));
  if (MatchesHash(stored, password)) {
    attempt.Succeeded();
    return true;
  }
  (void)attempt.Failed();
  STEWARD_RETURN_IF_ERROR(trail_.Append({.actor = Id(id),
                                         .action = "staff.reauthenticate",
                                         .target = Id(id),
                                         .outcome = "failure",
                                         .request_id = actor.request_id}));
  return false;
}

Result<std::string> Accounts::BeginTotp(int64_t id, const Actor& actor) {
  std::string secret;
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(Load(c, id));
    STEWARD_ASSIGN_OR_RETURN(secret, totp_.Begin(c, id));
    return trail_.AppendIn(
        c, {.actor = actor.id, .action = "staff.totp_started", .target = Id(id), .request_id = actor.request_id});
  }));
  return secret;
}

Result<std::vector<std::string>> Accounts::ConfirmTotp(int64_t id, std::string_view code, const Actor& actor) {
  std::vector<std::string> codes;
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(codes, totp_.Confirm(c, id, code));
    return trail_.AppendIn(
        c, {.actor = actor.id, .action = "staff.totp_enabled", .target = Id(id), .request_id = actor.request_id});
  }));
  return codes;
}

Result<bool> Accounts::VerifySecondFactor(int64_t id, std::string_view code, const Client& client, const Actor& actor) {
  ThrottledAttempt attempt(account_throttle_, client_throttle_, "second-factor:" + std::to_string(id), client);
  if (attempt.wait() > Duration::zero()) {
    if (attempt.first_denial()) {
      STEWARD_RETURN_IF_ERROR(trail_.Append({.actor = Id(id),
                                             .action = "staff.second_factor",
                                             .target = Id(id),
                                             .outcome = "denied",
                                             .request_id = actor.request_id,
                                             .details = {{"reason", "throttled"}}}));
    }
    return false;
  }
  std::string via;
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(via, totp_.Verify(c, id, code));
    return Ok();
  }));
  bool ok = !via.empty();
  if (ok) {
    attempt.Succeeded();
  } else {
    (void)attempt.Failed();
  }
  STEWARD_RETURN_IF_ERROR(trail_.Append({.actor = Id(id),
                                         .action = "staff.second_factor",
                                         .target = Id(id),
                                         .outcome = ok ? "success" : "failure",
                                         .request_id = actor.request_id,
                                         .details = {{"via", ok ? via : "none"}}}));
  return ok;
}

Status Accounts::DisableTotp(int64_t id, const Actor& actor) {
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(Load(c, id));
    STEWARD_RETURN_IF_ERROR(totp_.Disable(c, id));
    return trail_.AppendIn(
        c, {.actor = actor.id, .action = "staff.totp_disabled", .target = Id(id), .request_id = actor.request_id});
  });
}

}  // namespace steward::staff
