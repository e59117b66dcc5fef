// The inside of Accounts, shared by the files that implement it (accounts.cc: the person's own
// operations; advisers.cc: what an adviser does for a customer; purge.cc: retention). Not for other
// modules: they use accounts.h.
#pragma once

#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "accounts/accounts.h"
#include "audit/audit.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "mail/mail.h"
#include "staff/totp_factor.h"
#include "store/store.h"
#include "subject/subject.h"
#include "subjects/subjects.h"

namespace steward::accounts {
namespace internal {

using subject::Key;
using subject::KeyKind;

template <typename T>
Status Done(Result<T> r) {
  if (!r.ok()) return r.error();
  return Ok();
}

inline std::string DerivedKey(const crypto::SecretKey& key, const char* label) {
  auto k = key.DeriveKey(label);
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

// "2026-12-03" when it is a real date.
inline bool ValidDate(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || std::sscanf(std::string(text).c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3) return false;
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

// Spaces collapsed, trimmed.
inline std::string Collapse(std::string_view text) {
  std::string out;
  for (char ch : Trim(text)) {
    bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : ch);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A UK postcode, upper case with one space before the inward code: "SW1A 1AA".
inline std::optional<std::string> NormalisePostcode(std::string_view text) {
  std::string compact;
  for (char ch : text) {
    if (ch == ' ') continue;
    if (!std::isalnum(static_cast<unsigned char>(ch))) return std::nullopt;
    compact.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  if (compact.size() < 5 || compact.size() > 7) return std::nullopt;
  std::string inward = compact.substr(compact.size() - 3);
  if (!std::isdigit(static_cast<unsigned char>(inward[0])) || !std::isalpha(static_cast<unsigned char>(inward[1])) ||
      !std::isalpha(static_cast<unsigned char>(inward[2])) || !std::isalpha(static_cast<unsigned char>(compact[0]))) {
    return std::nullopt;
  }
  return compact.substr(0, compact.size() - 3) + " " + inward;
}

inline std::string AdviserHow(std::string_view how) {
  if (how == "in-person") return "told an adviser in person";
  if (how == "telephone") return "told an adviser by telephone";
  if (how == "video") return "told an adviser on a video call";
  if (how == "letter") return "told us in a letter";
  return "";
}

inline Account ToAccount(const store::Row& r) {
  Account a;
  a.id = r.Int(0);
  a.subject_id = r.Text(1);
  a.state = r.Text(2);
  a.created_at = r.Text(5);
  a.created_by = r.Text(6);
  a.confirmed_at = r.IsNull(7) ? "" : r.Text(7);
  a.last_active_at = r.Text(8);
  a.closed_at = r.IsNull(9) ? "" : r.Text(9);
  a.keep_until = r.IsNull(10) ? "" : r.Text(10);
  a.restricted = a.state == "closed";
  a.second_factor = r.Int(11) != 0;
  return a;
}

// The tables that hold rows of one account (by account_id), besides `accounts` itself.
inline constexpr const char* kPerAccount[] = {"account_values",     "account_consents",      "account_activity",
                                              "account_links",      "account_sessions",      "account_referrals",
                                              "account_identities", "account_email_changes", "account_recovery_codes"};

// Deletes an account and everything about it (not the subject's key: the sweep or the caller).
inline Status DeleteAll(store::Connection& c, int64_t id) {
  for (const char* table : kPerAccount) {
    STEWARD_RETURN_IF_ERROR(c.Exec(std::string("DELETE FROM ") + table + " WHERE account_id = ?", {id}));
  }
  return Done(c.Exec("DELETE FROM accounts WHERE id = ?", {id}));
}

// What registering checks, however the person registers (a form, a provider): each consent box
// declared, the values as CheckValues checks them, and the minimum age. Returns the values
// normalised. Errors: kInvalidArgument "FIELD: message", kPermissionDenied (too young).
inline Result<std::map<std::string, std::string>> CheckRegistration(const Accounts& accounts,
                                                                    const std::map<std::string, std::string>& values,
                                                                    const std::set<std::string>& consents) {
  const Settings& s = accounts.settings();
  for (const auto& box : consents) {
    if (s.FindConsent(box) == nullptr)
      return MakeError(ErrorCode::kInvalidArgument, "consents: this site has no such box");
  }
  STEWARD_ASSIGN_OR_RETURN(auto checked, accounts.CheckValues(values, consents));
  if (s.minimum_age > 0 && s.age_check != "confirm" && !accounts.OldEnough(checked[s.age_check])) {
    return MakeError(ErrorCode::kPermissionDenied, "too young");
  }
  return checked;
}

inline constexpr const char* kSelect =
    "SELECT id, subject_id, state, email, password, created_at, created_by, confirmed_at, last_active_at, "
    "closed_at, keep_until, totp_enabled FROM accounts";

}  // namespace internal

struct Accounts::Impl {
  Impl(store::Store& s, audit::Trail& t, const crypto::SecretKey& key, const Clock& c, Settings st, mail::Queue* q,
       std::optional<mail::Settings> m, std::function<std::string()> url, std::string name)
      : store(s),
        trail(t),
        clock(c),
        settings(std::move(st)),
        queue(q),
        mail(std::move(m)),
        base_url(std::move(url)),
        site_name(std::move(name)),
        subjects(key, c),
        link_key(internal::DerivedKey(key, "acctlink")),
        lookup_key(internal::DerivedKey(key, "acctfind")),
        identity_key(internal::DerivedKey(key, "acctoidc")),
        // Privacy: the account's dataset: the second factor's secret sealed under the person's key.
        totp(
            c, staff::TotpTable{.table = "accounts", .codes = "account_recovery_codes", .owner = "account_id"},
            [this](store::Connection& conn, int64_t id, const std::string& secret) -> Result<std::string> {
              STEWARD_ASSIGN_OR_RETURN(auto keys, KeysOf(conn, id));
              if (!keys) return MakeError(ErrorCode::kNotFound, "no such account");
              return keys->Seal("accounts.totp_secret", secret);
            },
            [this](store::Connection& conn, int64_t id, const std::string& sealed) -> std::optional<std::string> {
              auto keys = KeysOf(conn, id);
              if (!keys.ok() || !*keys) return std::nullopt;
              return (*keys)->Open("accounts.totp_secret", sealed);
            },
            [this](std::string_view code) { return crypto::Hash(code, link_key); }) {}

  store::Store& store;
  audit::Trail& trail;
  const Clock& clock;
  Settings settings;
  mail::Queue* queue;
  std::optional<mail::Settings> mail;
  std::function<std::string()> base_url;
  std::string site_name;
  subjects::SubjectStore subjects;
  std::string link_key, lookup_key, identity_key;
  staff::TotpFactor totp;
  std::set<std::string> common;
  std::once_flag dummy_once;
  std::string dummy_hash;

  std::string Now() const { return FormatRfc3339Millis(clock.Now()); }
  // The subject keys of account `id`'s person, in the caller's transaction.
  Result<std::optional<subjects::SubjectKeys>> KeysOf(store::Connection& c, int64_t id) const {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT subject_id FROM accounts WHERE id = ?", {id}));
    if (rows.empty()) return std::optional<subjects::SubjectKeys>();
    return subjects.Keys(c, rows[0].Text(0));
  }
  std::string LinkHash(std::string_view token) const { return HexEncode(crypto::Hash(token, link_key)); }

  // The adviser's search key: a keyed hash of the name (case and spaces ignored) and the date of birth.
  std::string Lookup(std::string_view name, std::string_view dob) const {
    if (name.empty() || dob.empty()) return "";
    return HexEncode(crypto::Hash(ToLower(internal::Collapse(name)) + "|" + std::string(dob), lookup_key));
  }
  std::string LookupOf(const std::map<std::string, std::string>& values, const Field* name, const Field* birth) const {
    if (name == nullptr || birth == nullptr) return "";
    auto n = values.find(name->id), b = values.find(birth->id);
    if (n == values.end() || b == values.end()) return "";
    return Lookup(n->second, b->second);
  }

  const std::string& Dummy() {
    std::call_once(dummy_once, [&] {
      auto h = crypto::HashPassword(crypto::RandomHex(16));
      dummy_hash = h.ok() ? *h : "";
    });
    return dummy_hash;
  }

  Status Audit(store::Connection& c, std::string action, int64_t id, const Actor& actor,
               std::vector<std::pair<std::string, std::string>> details = {}) {
    return trail.AppendIn(c, {.actor = actor.id == "self" ? "account:" + std::to_string(id) : actor.id,
                              .action = std::move(action),
                              .target = "accounts:" + std::to_string(id),
                              .request_id = actor.request_id,
                              .details = std::move(details)});
  }

  // Privacy: the account's activity names fields and consent boxes, never their values.
  Status Activity(store::Connection& c, int64_t id, const std::string& subject, const Actor& actor,
                  std::string_view action, std::string_view detail) {
    return internal::Done(c.Exec(
        "INSERT INTO account_activity (account_id, subject_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
        {id, subject, Now(), actor.id, std::string(action), std::string(detail)}));
  }

  // The live account `email` leads to (not closed), in the caller's transaction.
  Result<std::optional<Account>> ByEmail(store::Connection& c, std::string_view email) const {
    auto key = subject::Key::Make(subject::KeyKind::kEmail, email);
    if (!key.ok()) return std::optional<Account>();
    STEWARD_ASSIGN_OR_RETURN(auto subject, subjects.Lookup(c, *key));
    if (!subject) return std::optional<Account>();
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query(std::string(internal::kSelect) + " WHERE subject_id = ? AND state <> 'closed'", {*subject}));
    if (rows.empty()) return std::optional<Account>();
    Account a = internal::ToAccount(rows[0]);
    a.has_password = !rows[0].IsNull(4);
    return std::optional<Account>(std::move(a));
  }

  Result<std::optional<store::Row>> Row(store::Connection& c, int64_t id) const {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(std::string(internal::kSelect) + " WHERE id = ?", {id}));
    if (rows.empty()) return std::optional<store::Row>();
    return std::optional<store::Row>(rows[0]);
  }

  // A new open account with no password for the address `key`, its values sealed under the
  // person's key: for accounts an adviser makes, a partner refers or an import brings. Returns
  // (id, subject id).
  Result<std::pair<int64_t, std::string>> InsertOpen(store::Connection& c, const subject::Key& key,
                                                     const std::map<std::string, std::string>& values,
                                                     const std::string& lookup, const std::string& created_by) {
    STEWARD_ASSIGN_OR_RETURN(std::string subject, subjects.ForIdentifier(c, key));
    STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, subject));
    if (!keys) return MakeError(ErrorCode::kInternal, "the subject has no key");
    std::string now = Now();
    // Privacy: the account's dataset (Settings::dataset): the address sealed, the search key hashed.
    STEWARD_ASSIGN_OR_RETURN(
        auto rows,
        c.Query("INSERT INTO accounts (subject_id, state, email, lookup, created_at, created_by, confirmed_at, "
                "last_active_at) VALUES (?, 'open', ?, ?, ?, ?, ?, ?) RETURNING id",
                {subject, store::Blob{keys->Seal("accounts.email", key.value())}, lookup, now, created_by, now, now}));
    int64_t id = rows.front().Int(0);
    STEWARD_RETURN_IF_ERROR(PutValues(c, id, *keys, values));
    return std::make_pair(id, subject);
  }

  // Seals and stores each value; an empty value removes the field.
  Status PutValues(store::Connection& c, int64_t id, const subjects::SubjectKeys& keys,
                   const std::map<std::string, std::string>& values) {
    std::string now = Now();
    for (const auto& [field, value] : values) {
      if (value.empty()) {
        STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM account_values WHERE account_id = ? AND field = ?", {id, field}));
        continue;
      }
      // Privacy: the field's dataset (Settings::fields): sealed under the person's key.
      STEWARD_RETURN_IF_ERROR(
          c.Exec("INSERT INTO account_values (account_id, field, subject_id, value, updated_at) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, field) DO UPDATE SET "
                 "value = excluded.value, updated_at = excluded.updated_at",
                 {id, field, keys.subject_id(), store::Blob{keys.Seal("account_values." + field, value)}, now}));
    }
    return Ok();
  }

  Result<std::map<std::string, std::string>> Values(store::Connection& c, int64_t id,
                                                    const subjects::SubjectKeys* keys) const {
    std::map<std::string, std::string> out;
    STEWARD_RETURN_IF_ERROR(
        c.ForEach("SELECT field, value FROM account_values WHERE account_id = ?", {id}, [&](const store::Row& r) {
          std::string field = r.Text(0);
          auto opened = keys != nullptr ? keys->Open("account_values." + field, r.Text(1)) : std::nullopt;
          if (opened) out[field] = *opened;
          return true;
        }));
    return out;
  }

  Status Consent(store::Connection& c, int64_t id, const std::string& subject, std::string_view box, bool given,
                 std::string_view how, const Actor& actor) {
    return internal::Done(
        c.Exec("INSERT INTO account_consents (account_id, subject_id, box, given, at, how, actor) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               {id, subject, std::string(box), int64_t{given}, Now(), std::string(how), actor.id}));
  }

  // A one-time link for `purpose` ("confirm", "password"), valid `hours`: its token.
  Result<std::string> Link(store::Connection& c, int64_t id, std::string_view purpose,
                           int64_t hours = Accounts::kLinkHours) {
    std::string token = crypto::RandomHex(24);
    STEWARD_RETURN_IF_ERROR(
        c.Exec("DELETE FROM account_links WHERE account_id = ? AND purpose = ?", {id, std::string(purpose)}));
    STEWARD_RETURN_IF_ERROR(c.Exec(
        "INSERT INTO account_links (token_hash, account_id, purpose, expires_at) VALUES (?, ?, ?, ?)",
        {LinkHash(token), id, std::string(purpose), FormatRfc3339Millis(clock.Now() + std::chrono::hours(hours))}));
    return token;
  }

  // The account a live link names, in the caller's transaction.
  Result<std::optional<int64_t>> UseLink(store::Connection& c, std::string_view token, std::string_view purpose) const {
    if (token.size() != 48) return std::optional<int64_t>();
    STEWARD_ASSIGN_OR_RETURN(auto rows,
                             c.Query("SELECT account_id FROM account_links WHERE token_hash = ? AND purpose = ? AND "
                                     "expires_at > ?",
                                     {LinkHash(token), std::string(purpose), Now()}));
    if (rows.empty()) return std::optional<int64_t>();
    return std::optional<int64_t>(rows[0].Int(0));
  }

  // Queues an email to `to` in the caller's write (none when the site has no mail). Returns whether
  // it was queued: an address that bounced for good or complained is not mailed, and the account
  // still stands.
  // `sealed_for`: the subject to seal it under when the address is not yet theirs.
  Result<bool> EmailSent(store::Connection& c, const std::string& to, std::string subject, std::string text,
                         const std::string& sealed_for = "") {
    if (queue == nullptr || !mail) return false;
    auto queued = queue->Enqueue(
        c, {.to = to, .subject = std::move(subject), .text = std::move(text), .subject_id = sealed_for}, *mail);
    if (!queued.ok() && queued.error().code == ErrorCode::kFailedPrecondition) return false;
    if (!queued.ok()) return queued.error();
    return true;
  }
  Status Email(store::Connection& c, const std::string& to, std::string subject, std::string text) {
    return internal::Done(EmailSent(c, to, std::move(subject), std::move(text)));
  }

  std::string Url(std::string_view path) const { return base_url() + std::string(path); }

  // Gives account `a` the address `key` in the caller's write: re-indexed (the old address no
  // longer leads to the person), sealed, recorded and audited. Errors: kAlreadyExists (another
  // account has it), kNotFound.
  Status ChangeEmail(store::Connection& c, const Account& a, const subject::Key& key, const Actor& actor) {
    STEWARD_ASSIGN_OR_RETURN(auto other, ByEmail(c, key.value()));
    if (other && other->id != a.id) return MakeError(ErrorCode::kAlreadyExists, "email: another account has it");
    STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, a.subject_id));
    if (!keys) return MakeError(ErrorCode::kNotFound, "no such account");
    STEWARD_RETURN_IF_ERROR(subjects.Link(c, a.subject_id, key));
    auto old = subject::Key::Make(subject::KeyKind::kEmail, a.email);
    if (old.ok() && !(*old == key)) STEWARD_RETURN_IF_ERROR(subjects.Unlink(c, *old));
    // Privacy: the account's dataset: the address sealed under the person's key.
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE accounts SET email = ? WHERE id = ?",
                                   {store::Blob{keys->Seal("accounts.email", key.value())}, a.id}));
    STEWARD_RETURN_IF_ERROR(Activity(c, a.id, a.subject_id, actor, "details_changed", "Email address"));
    return Audit(c, "account.details_changed", a.id, actor, {{"fields", "1"}});
  }

  std::string FieldNames(const std::map<std::string, std::string>& values) const {
    std::string out;
    for (const auto& [id, v] : values) {
      const Field* f = settings.FindField(id);
      out += (out.empty() ? "" : ", ") + (f != nullptr ? f->label : id);
    }
    return out;
  }
};

}  // namespace steward::accounts
