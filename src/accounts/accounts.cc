#include "accounts/accounts.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "accounts/accounts_impl.h"
#include "core/strings.h"
#include "mail/mail.h"
#include "staff/accounts.h"
#include "subject/subject.h"
#include "subjects/subjects.h"

namespace steward::accounts {

using namespace internal;  // NOLINT(google-build-using-namespace): the helpers of accounts_impl.h

Accounts::Accounts(store::Store& store, audit::Trail& trail, const crypto::SecretKey& key, const Clock& clock,
                   Settings settings, mail::Queue* queue, std::optional<mail::Settings> mail,
                   std::function<std::string()> base_url, std::string site_name)
    : impl_(std::make_unique<Impl>(store, trail, key, clock, std::move(settings), queue, std::move(mail),
                                   std::move(base_url), std::move(site_name))) {}

Accounts::~Accounts() = default;

const Settings& Accounts::settings() const { return impl_->settings; }

void Accounts::SetCommonPasswords(std::set<std::string> common) { impl_->common = std::move(common); }

std::vector<store::Migration> Accounts::Migrations() {
  return {{"accounts", 1, R"sql(
-- Privacy: the register's datasets that [accounts] names. What a person gives is sealed under their
-- subject key; `lookup` is a keyed hash of name and date of birth for the adviser's search.
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  subject_id TEXT NOT NULL,
  state TEXT NOT NULL,
  email BLOB,
  password BLOB,
  lookup TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  confirmed_at TEXT,
  last_active_at TEXT NOT NULL,
  closed_at TEXT,
  keep_until TEXT
);
CREATE INDEX accounts_subject ON accounts (subject_id);
CREATE INDEX accounts_lookup ON accounts (lookup);
CREATE INDEX accounts_state ON accounts (state, closed_at);
CREATE TABLE account_values (
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  value BLOB NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (account_id, field)
);
CREATE TABLE account_consents (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  subject_id TEXT NOT NULL,
  box TEXT NOT NULL,
  given INTEGER NOT NULL,
  at TEXT NOT NULL,
  how TEXT NOT NULL,
  actor TEXT NOT NULL
);
CREATE INDEX account_consents_account ON account_consents (account_id, box, id);
CREATE INDEX account_consents_box ON account_consents (box, given, at);
CREATE TABLE account_activity (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  subject_id TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX account_activity_account ON account_activity (account_id, id);
CREATE TABLE account_links (
  token_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL,
  purpose TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
-- Sessions are looked up by a keyed hash of the cookie's value (staff/sessions.h).
CREATE TABLE account_sessions (
  id_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  second_factor_pending INTEGER NOT NULL,
  device TEXT NOT NULL
);
CREATE INDEX account_sessions_account ON account_sessions (account_id);
)sql"},
          {"accounts", 2, R"sql(
-- Privacy: the account's dataset: which organisation referred the person, when, and when they were
-- told what we hold (Article 14). The details the referral gave are in account_values, sealed.
CREATE TABLE account_referrals (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  subject_id TEXT NOT NULL,
  source TEXT NOT NULL,
  received_at TEXT NOT NULL,
  told_at TEXT,
  actor TEXT NOT NULL
);
CREATE INDEX account_referrals_account ON account_referrals (account_id, id);
)sql"},
          {"accounts", 3, R"sql(
-- Privacy: the account's dataset: that the person signs in through an OpenID Connect provider
-- (GOV.UK One Login), named by a keyed hash of the provider's identifier of them, never the
-- identifier itself.
CREATE TABLE account_identities (
  identity_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL,
  linked_at TEXT NOT NULL
);
CREATE INDEX account_identities_account ON account_identities (account_id);
)sql"},
          {"accounts", 4, R"sql(
-- Privacy: the account's dataset: a new email address the person asked for, sealed under their
-- subject key, until they use the link sent to it (24 hours) or it expires.
CREATE TABLE account_email_changes (
  account_id INTEGER PRIMARY KEY,
  subject_id TEXT NOT NULL,
  address BLOB NOT NULL,
  token_hash TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX account_email_changes_token ON account_email_changes (token_hash);
-- The referrals whose person has not been told yet, oldest first, for the advisers' list.
CREATE INDEX account_referrals_untold ON account_referrals (told_at, received_at);
)sql"},
          {"accounts", 5, R"sql(
-- Privacy: the account's dataset: a second factor (an authenticator app's secret, sealed under the
-- person's subject key) and keyed hashes of its one-time recovery codes.
ALTER TABLE accounts ADD COLUMN totp_secret BLOB;
ALTER TABLE accounts ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE TABLE account_recovery_codes (
  account_id INTEGER NOT NULL,
  code_hash BLOB NOT NULL,
  used_at TEXT,
  PRIMARY KEY (account_id, code_hash)
);
)sql"},
          {"accounts", 6, R"sql(
-- Privacy: the account's dataset. Each table that names a subject key is found by it: erasing a
-- person asks each whether their key is still named, which without these read every row.
CREATE INDEX account_values_subject ON account_values (subject_id);
CREATE INDEX account_consents_subject ON account_consents (subject_id);
CREATE INDEX account_activity_subject ON account_activity (subject_id);
CREATE INDEX account_referrals_subject ON account_referrals (subject_id);
CREATE INDEX account_email_changes_subject ON account_email_changes (subject_id);
)sql"},
          {"accounts", 7, R"sql(
-- The accounts unused for the account dataset's maximum, which its purge seeks a batch at a time
-- without reading the accounts in use.
CREATE INDEX accounts_inactive ON accounts (last_active_at) WHERE state <> 'closed';
)sql"}};
}

const Field* Accounts::NameField() const {
  for (const auto& f : impl_->settings.fields) {
    if (f.category == "user.contact.name" && f.type == FieldType::kText) return &f;
  }
  return nullptr;
}

const Field* Accounts::BirthField() const {
  for (const auto& f : impl_->settings.fields) {
    if (f.category == "user.demographic.date_of_birth" && f.type == FieldType::kDate) return &f;
  }
  return nullptr;
}

bool Accounts::OldEnough(std::string_view dob) const {
  if (impl_->settings.minimum_age == 0) return true;
  if (!ValidDate(dob)) return false;
  std::time_t now = std::chrono::system_clock::to_time_t(impl_->clock.Now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  int y = 0, m = 0, d = 0;
  std::sscanf(std::string(dob).c_str(), "%4d-%2d-%2d", &y, &m, &d);
  int age = tm.tm_year + 1900 - y;
  if (tm.tm_mon + 1 < m || (tm.tm_mon + 1 == m && tm.tm_mday < d)) --age;
  return age >= impl_->settings.minimum_age;
}

Result<std::map<std::string, std::string>> Accounts::CheckValues(const std::map<std::string, std::string>& values,
                                                                 const std::set<std::string>& consents,
                                                                 bool partial) const {
  std::map<std::string, std::string> out;
  for (const auto& [id, raw] : values) {
    if (impl_->settings.FindField(id) == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument, id + ": this site does not ask for it");
    }
  }
  for (const Field& f : impl_->settings.fields) {
    auto it = values.find(f.id);
    if (it == values.end() && partial) continue;
    std::string value = it == values.end() ? "" : Collapse(it->second);
    if (!f.consent.empty() && !consents.count(f.consent)) {
      if (!value.empty()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         f.id + ": " + f.label + " is kept only if you tick the box that agrees to it");
      }
      continue;
    }
    if (value.empty()) {
      if (f.required) return MakeError(ErrorCode::kInvalidArgument, f.id + ": enter your " + ToLower(f.label));
      if (it != values.end()) out[f.id] = "";
      continue;
    }
    if (value.size() > 500) {
      return MakeError(ErrorCode::kInvalidArgument, f.id + ": " + f.label + " must be 500 characters or fewer");
    }
    switch (f.type) {
      case FieldType::kText:
        break;
      case FieldType::kEmail: {
        auto k = Key::Make(KeyKind::kEmail, value);
        if (!k.ok() || !mail::ValidAddress(k->value())) {
          return MakeError(ErrorCode::kInvalidArgument,
                           f.id + ": enter an email address in the correct format, like name@example.com");
        }
        value = k->value();
        break;
      }
      case FieldType::kTelephone: {
        auto k = Key::Make(KeyKind::kTelephone, value);
        if (!k.ok()) {
          return MakeError(ErrorCode::kInvalidArgument,
                           f.id + ": enter a telephone number, like 01632 960 001 or +44 808 157 0192");
        }
        break;
      }
      case FieldType::kDate:
        if (!ValidDate(value)) {
          return MakeError(ErrorCode::kInvalidArgument, f.id + ": " + f.label + " must be a real date");
        }
        break;
      case FieldType::kPostcode: {
        auto p = NormalisePostcode(value);
        if (!p) return MakeError(ErrorCode::kInvalidArgument, f.id + ": enter a real postcode, like SW1A 1AA");
        value = *p;
        break;
      }
      case FieldType::kChoice:
        if (std::find(f.choices.begin(), f.choices.end(), value) == f.choices.end()) {
          return MakeError(ErrorCode::kInvalidArgument, f.id + ": choose one of the options");
        }
        break;
    }
    out[f.id] = std::move(value);
  }
  return out;
}

Status Accounts::Register(std::string_view email, std::string_view password,
                          const std::map<std::string, std::string>& values, const std::set<std::string>& consents,
                          const Actor& actor) {
  auto key = Key::Make(KeyKind::kEmail, email);
  if (!key.ok() || !mail::ValidAddress(key->value())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "email: Enter an email address in the correct format, like name@example.com");
  }
  STEWARD_ASSIGN_OR_RETURN(auto checked, CheckRegistration(*this, values, consents));
  staff::PasswordPolicy policy;
  for (const auto& p : impl_->common) policy.common.insert(p);
  // NCSC guidance: length over complexity, and no common password.
  if (Status s = policy.Check(password, key->value()); !s.ok()) {
    return MakeError(ErrorCode::kInvalidArgument, "password: " + s.error().message);
  }
  STEWARD_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(password));
  std::string now = impl_->Now();
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto existing, impl_->ByEmail(c, key->value()));
    if (existing && existing->state == "open") {
      // The same answer on the page; the owner of the address is told by email.
      return impl_->Email(c, key->value(), "You already have an account",
                          "Someone tried to create an account on " + impl_->site_name +
                              " with this email address, which already has one.\n\nSign in at " +
                              impl_->Url("/account/sign-in") +
                              "\n\nIf this was not you, you can ignore this email: nothing has changed.");
    }
    if (existing) {
      // An earlier registration that was never confirmed: this one replaces it.
      if (existing->created_at > FormatRfc3339Millis(impl_->clock.Now() - std::chrono::minutes(10)) &&
          actor.id == "self") {
        return Ok();  // at most one confirmation email an address in 10 minutes
      }
      STEWARD_RETURN_IF_ERROR(DeleteAll(c, existing->id));
    }
    STEWARD_ASSIGN_OR_RETURN(std::string subject, impl_->subjects.ForIdentifier(c, *key));
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, subject));
    if (!keys) return MakeError(ErrorCode::kInternal, "the subject has no key");
    // Privacy: the account's dataset ([accounts] dataset): address and password hash sealed.
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("INSERT INTO accounts (subject_id, state, email, password, lookup, created_at, created_by, "
                           "last_active_at) VALUES (?, 'unconfirmed', ?, ?, ?, ?, ?, ?) RETURNING id",
                           {subject, store::Blob{keys->Seal("accounts.email", key->value())},
                            store::Blob{keys->Seal("accounts.password", hash)},
                            impl_->LookupOf(checked, NameField(), BirthField()), now, actor.id, now}));
    int64_t id = rows.front().Int(0);
    STEWARD_RETURN_IF_ERROR(impl_->PutValues(c, id, *keys, checked));
    for (const auto& box : consents) {
      STEWARD_RETURN_IF_ERROR(impl_->Consent(c, id, subject, box, true, "ticked the box when registering", actor));
    }
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, subject, actor, "registered", ""));
    STEWARD_ASSIGN_OR_RETURN(std::string token, impl_->Link(c, id, "confirm"));
    return impl_->Email(c, key->value(), "Confirm your email address",
                        "To finish creating your " + impl_->site_name + " account, confirm your email address:\n\n" +
                            impl_->Url("/account/confirm/" + token) + "\n\nThe link works for " +
                            std::to_string(kLinkHours) +
                            " hours. If you did not ask for an account, ignore this email: without the link, "
                            "nothing is kept.");
  });
}

Result<int64_t> Accounts::Confirm(std::string_view token) {
  int64_t confirmed = 0;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto id, impl_->UseLink(c, token, "confirm"));
    if (!id) return MakeError(ErrorCode::kNotFound, "no such link");
    STEWARD_ASSIGN_OR_RETURN(auto row, impl_->Row(c, *id));
    if (!row) return MakeError(ErrorCode::kNotFound, "no such account");
    std::string now = impl_->Now();
    STEWARD_RETURN_IF_ERROR(
        c.Exec("UPDATE accounts SET state = 'open', confirmed_at = ?, last_active_at = ? "
               "WHERE id = ? AND state = 'unconfirmed'",
               {now, now, *id}));
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM account_links WHERE account_id = ? AND purpose = 'confirm'", {*id}));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, *id, row->Text(1), Actor{}, "confirmed", "email address"));
    confirmed = *id;
    return impl_->Audit(c, "account.opened", *id, Actor{});
  }));
  return confirmed;
}

Result<int64_t> Accounts::SignIn(std::string_view email, std::string_view password, const Actor& actor) {
  std::optional<Account> account;
  std::string stored;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(account, impl_->ByEmail(c, email));
    if (!account || account->state != "open") return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT password FROM accounts WHERE id = ?", {account->id}));
    if (rows.empty() || rows[0].IsNull(0)) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, account->subject_id));
    if (!keys) return Ok();
    // Privacy: the account's password hash, opened to check the password and dropped.
    stored = keys->Open("accounts.password", rows[0].Text(0)).value_or("");
    return Ok();
  }));
  // The same work whether or not there is an account.
  bool right = crypto::VerifyPassword(stored.empty() ? impl_->Dummy() : stored, password) && !stored.empty();
  if (!right) return MakeError(ErrorCode::kPermissionDenied, "the email address or password is not right");
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE accounts SET last_active_at = ? WHERE id = ?", {impl_->Now(), account->id}));
    return impl_->Activity(c, account->id, account->subject_id, actor, "signed_in", "");
  }));
  return account->id;
}

Status Accounts::RequestPasswordReset(std::string_view email, const Actor& actor) {
  auto key = Key::Make(KeyKind::kEmail, email);
  if (!key.ok() || !mail::ValidAddress(key->value())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "email: Enter an email address in the correct format, like name@example.com");
  }
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto account, impl_->ByEmail(c, key->value()));
    if (!account || account->state != "open") return Ok();
    // At most one link every 10 minutes: a form anyone can send never floods a mailbox.
    std::string recent =
        FormatRfc3339Millis(impl_->clock.Now() + std::chrono::hours(kResetHours) - std::chrono::minutes(10));
    STEWARD_ASSIGN_OR_RETURN(auto live, c.Query("SELECT 1 FROM account_links WHERE account_id = ? AND "
                                                "purpose = 'password' AND expires_at > ?",
                                                {account->id, recent}));
    if (!live.empty()) return Ok();
    STEWARD_ASSIGN_OR_RETURN(std::string token, impl_->Link(c, account->id, "password", kResetHours));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, account->id, account->subject_id, actor, "reset_asked", ""));
    STEWARD_RETURN_IF_ERROR(impl_->Audit(c, "account.password_reset_asked", account->id, actor));
    return impl_->Email(c, key->value(), "Reset your password",
                        "Someone, we hope you, asked to reset the password of your " + impl_->site_name +
                            " account. Choose a new one:\n\n" + impl_->Url("/account/password/" + token) +
                            "\n\nThe link works once, for " + std::to_string(kResetHours) +
                            " hour. If you did not ask, ignore this email: your password has not changed.");
  });
}

Result<Account> Accounts::Load(int64_t id) const {
  Account a;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, impl_->Row(c, id));
    if (!row) return MakeError(ErrorCode::kNotFound, "no such account");
    a = ToAccount(*row);
    a.has_password = !row->IsNull(4);
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, a.subject_id));
    // Privacy: the account's datasets, opened for the person or their adviser.
    if (keys && !row->IsNull(3)) a.email = keys->Open("accounts.email", row->Text(3)).value_or("");
    STEWARD_ASSIGN_OR_RETURN(a.values, impl_->Values(c, id, keys ? &*keys : nullptr));
    return Ok();
  }));
  return a;
}

Status Accounts::Update(int64_t id, const std::map<std::string, std::string>& values, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(auto now, ConsentsNow(id));
  std::set<std::string> given;
  for (const auto& [box, on] : now) {
    if (on) given.insert(box);
  }
  STEWARD_ASSIGN_OR_RETURN(auto checked, CheckValues(values, given, /*partial=*/true));
  STEWARD_ASSIGN_OR_RETURN(Account before, Load(id));
  if (before.state == "closed") return MakeError(ErrorCode::kFailedPrecondition, "the account is closed");
  std::map<std::string, std::string> changed;
  for (const auto& [field, value] : checked) {
    auto it = before.values.find(field);
    if ((it == before.values.end() ? std::string() : it->second) != value) changed[field] = value;
  }
  if (changed.empty()) return Ok();
  std::map<std::string, std::string> after = before.values;
  for (const auto& [field, value] : changed) after[field] = value;
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, before.subject_id));
    if (!keys) return MakeError(ErrorCode::kNotFound, "no such account");
    STEWARD_RETURN_IF_ERROR(impl_->PutValues(c, id, *keys, changed));
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE accounts SET lookup = ?, last_active_at = ? WHERE id = ?",
                                   {impl_->LookupOf(after, NameField(), BirthField()), impl_->Now(), id}));
    STEWARD_RETURN_IF_ERROR(
        impl_->Activity(c, id, before.subject_id, actor, "details_changed", impl_->FieldNames(changed)));
    return impl_->Audit(c, "account.details_changed", id, actor, {{"fields", std::to_string(changed.size())}});
  });
}

Status Accounts::SetConsent(int64_t id, std::string_view box, bool given, std::string_view how, const Actor& actor) {
  const ConsentBox* b = impl_->settings.FindConsent(box);
  if (b == nullptr) return MakeError(ErrorCode::kInvalidArgument, "consent: this site has no such box");
  std::string recorded = actor.IsAdviser() ? AdviserHow(how) : std::string(how);
  if (recorded.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "how: say how the customer told you (in person, by telephone, on a video call, or by letter)");
  }
  STEWARD_ASSIGN_OR_RETURN(auto now, ConsentsNow(id));
  // A box never answered and now declined is recorded too, so the person is not asked again.
  bool declined = false;
  if (now[std::string(box)] == given) {
    if (given) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto events, Consents(id));
    if (std::any_of(events.begin(), events.end(), [&](const ConsentEvent& e) { return e.box == box; })) return Ok();
    declined = true;
  }
  STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
  if (a.state == "closed") return MakeError(ErrorCode::kFailedPrecondition, "the account is closed");
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(impl_->Consent(c, id, a.subject_id, box, given, recorded, actor));
    int64_t deleted = 0;
    if (!given && b->delete_on_withdrawal) {
      for (const auto& f : impl_->settings.fields) {
        if (f.consent != box) continue;
        STEWARD_ASSIGN_OR_RETURN(int64_t n,
                                 c.Exec("DELETE FROM account_values WHERE account_id = ? AND field = ?", {id, f.id}));
        deleted += n;
      }
    }
    std::string detail = b->label + (deleted > 0 ? " (what you gave under it was deleted)" : "");
    std::string action = given ? "consent_given" : declined ? "consent_declined" : "consent_withdrawn";
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, a.subject_id, actor, action, detail));
    return impl_->Audit(c, "account." + action, id, actor,
                        {{"box", std::string(box)}, {"fields_deleted", std::to_string(deleted)}});
  });
}

Result<std::vector<ConsentEvent>> Accounts::Consents(int64_t id) const {
  std::vector<ConsentEvent> out;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT box, given, at, how, actor FROM account_consents WHERE account_id = ? ORDER BY id", {id},
                     [&](const store::Row& r) {
                       out.push_back({r.Text(0), r.Int(1) != 0, r.Text(2), r.Text(3), r.Text(4)});
                       return true;
                     });
  }));
  return out;
}

Result<std::map<std::string, bool>> Accounts::ConsentsNow(int64_t id) const {
  STEWARD_ASSIGN_OR_RETURN(auto events, Consents(id));
  std::map<std::string, bool> out;
  for (const auto& b : impl_->settings.consents) out[b.id] = false;
  for (const auto& e : events) out[e.box] = e.given;
  return out;
}

Result<std::vector<Activity>> Accounts::ActivityOf(int64_t id, int64_t limit) const {
  std::vector<Activity> out;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    return c.ForEach(
        "SELECT at, actor, action, detail FROM account_activity WHERE account_id = ? ORDER BY id DESC LIMIT ?",
        {id, limit}, [&](const store::Row& r) {
          out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3)});
          return true;
        });
  }));
  return out;
}

Status Accounts::Note(int64_t id, std::string_view action, std::string_view detail, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
  return impl_->store.Write(
      [&](store::Connection& c) -> Status { return impl_->Activity(c, id, a.subject_id, actor, action, detail); });
}

Result<std::string> Accounts::Close(int64_t id, const Actor& actor, bool email_owner) {
  STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
  if (a.state == "closed") return MakeError(ErrorCode::kFailedPrecondition, "the account is already closed");
  const Settings& s = impl_->settings;
  std::string keep_until;
  std::string kept_text;
  if (!s.closure_dataset.empty()) {
    // The register's dataset says how long the minimum is kept, from the day the account closes.
    for (const auto& f : s.closure_keep) {
      if (a.values.count(f)) {
        const Field* field = s.FindField(f);
        kept_text += (kept_text.empty() ? "" : ", ") + ToLower(field->label);
      }
    }
  }
  std::string now = impl_->Now();
  std::optional<processing::Period> period;
  if (s.closure_period && !kept_text.empty()) period = *s.closure_period;
  if (period) keep_until = FormatRfc3339(processing::Add(impl_->clock.Now(), *period));
  bool keep_any = period.has_value();
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    int64_t deleted = 0;
    std::string keep_list;
    for (const auto& f : s.closure_keep) keep_list += (keep_list.empty() ? "'" : ", '") + f + "'";
    std::string sql = "DELETE FROM account_values WHERE account_id = ?";
    if (keep_any) sql += " AND field NOT IN (" + keep_list + ")";
    STEWARD_ASSIGN_OR_RETURN(deleted, c.Exec(sql, {id}));
    for (const char* table : kPerAccount) {
      if (std::string_view(table) == "account_values") continue;  // what closing keeps, above
      STEWARD_RETURN_IF_ERROR(c.Exec(std::string("DELETE FROM ") + table + " WHERE account_id = ?", {id}));
    }
    if (!a.email.empty() && email_owner) {
      std::string text = "Your " + impl_->site_name + " account is closed.\n\n";
      if (keep_any) {
        bool one = kept_text.find(',') == std::string::npos;
        text += "We have deleted what you gave us, except your " + kept_text + ". We keep " + (one ? "it" : "them") +
                " until " + keep_until.substr(0, 10) + ", and use " + (one ? "it" : "them") + " only to " +
                s.closure_why + ". Then " + (one ? "it is" : "they are") + " deleted too.\n\n";
      } else {
        text += "We have deleted what you gave us.\n\n";
      }
      text += "Our privacy notice says more: " + impl_->Url("/privacy");
      STEWARD_RETURN_IF_ERROR(impl_->Email(c, a.email, "Your account is closed", std::move(text)));
    }
    if (!keep_any) {
      STEWARD_RETURN_IF_ERROR(DeleteAll(c, id));
      STEWARD_RETURN_IF_ERROR(impl_->subjects.DestroyIfUnused(c, a.subject_id));
    } else {
      STEWARD_RETURN_IF_ERROR(
          c.Exec("UPDATE accounts SET state = 'closed', email = NULL, password = NULL, totp_secret = NULL, "
                 "totp_enabled = 0, totp_last_step = 0, lookup = NULL, closed_at = ?, keep_until = ? WHERE id = ?",
                 {now, keep_until, id}));
    }
    return impl_->Audit(c, "account.closed", id, actor,
                        {{"fields_deleted", std::to_string(deleted)}, {"minimum_kept", keep_any ? "yes" : "no"}});
  }));
  return keep_until;
}

Result<Counts> Accounts::Count() const {
  Counts out;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT state, COUNT(*) FROM accounts GROUP BY state", {}, [&](const store::Row& r) {
      std::string state = r.Text(0);
      if (state == "open") out.open = r.Int(1);
      if (state == "unconfirmed") out.unconfirmed = r.Int(1);
      if (state == "closed") out.closed = r.Int(1);
      return true;
    });
  }));
  return out;
}

Result<std::vector<int64_t>> Accounts::AccountsOf(const subject::Key& key) const {
  std::vector<int64_t> ids;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    std::optional<std::string> subject;
    if (key.kind() == KeyKind::kAccountId) {
      if (key.AccountModule() != "accounts") return Ok();
      int64_t id = 0;
      for (char ch : key.AccountId()) {
        if (ch < '0' || ch > '9' || id > (INT64_MAX - 9) / 10) return Ok();
        id = id * 10 + (ch - '0');
      }
      ids.push_back(id);
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id FROM accounts WHERE id = ?", {id}));
      if (rows.empty()) ids.clear();
      return Ok();
    }
    if (key.kind() == KeyKind::kSubjectId) {
      subject = key.value();
    } else if (key.kind() == KeyKind::kEmail) {
      STEWARD_ASSIGN_OR_RETURN(subject, impl_->subjects.Lookup(c, key));
    }
    if (!subject) return Ok();
    return c.ForEach("SELECT id FROM accounts WHERE subject_id = ? ORDER BY id", {*subject}, [&](const store::Row& r) {
      ids.push_back(r.Int(0));
      return true;
    });
  }));
  return ids;
}

Result<int64_t> Accounts::Rectify(int64_t id, std::string_view field, std::string_view value, const Actor& actor) {
  if (field == "email") {
    auto key = Key::Make(KeyKind::kEmail, value);
    if (!key.ok() || !mail::ValidAddress(key->value())) {
      return MakeError(ErrorCode::kInvalidArgument, "email: not an email address");
    }
    STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
    if (a.state == "closed") return MakeError(ErrorCode::kFailedPrecondition, "the account is closed");
    STEWARD_RETURN_IF_ERROR(
        impl_->store.Write([&](store::Connection& c) -> Status { return impl_->ChangeEmail(c, a, *key, actor); }));
    return int64_t{1};
  }
  STEWARD_RETURN_IF_ERROR(Update(id, {{std::string(field), std::string(value)}}, actor));
  return int64_t{1};
}

}  // namespace steward::accounts
