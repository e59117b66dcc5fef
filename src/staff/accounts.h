// Staff accounts: who may sign in to Steward's staff pages, with which roles, and how they prove it.
//
// Privacy: staff email addresses and password hashes are the "staff accounts" dataset.
//
// Passwords are argon2id hashes, made and checked on the calling thread (a worker-pool thread,
// never an I/O thread), at most two at a time (each takes about 64 MiB). Sign-in is throttled per
// account and per client with growing delays and a lock; an unknown email and a wrong password get
// the same answer and take the same time. Every change is in the audit trail.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <unordered_set>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "staff/totp_factor.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "staff/roles.h"
#include "staff/throttle.h"
#include "store/store.h"

namespace steward::staff {

struct StaffMember {
  int64_t id = 0;
  std::string email;
  std::vector<Role> roles;
  bool disabled = false;
  bool has_password = false;
  bool totp_enabled = false;
  std::string created_at;
};

// Who is acting, for the audit trail: "staff:12" or "system", and the request if there was one.
struct Actor {
  std::string id = "system";
  std::string request_id;
};

// What a set-up link is for: a named account, or the very first admin (who gives their email).
struct SetupLink {
  std::optional<int64_t> staff_id;  // empty: the first admin
  std::string email;                // the account's email, when there is an account
};

enum class SignInOutcome {
  kOk,              // password right; second_factor says whether a code is needed next
  kBadCredentials,  // unknown email, wrong password, no password yet, or disabled: one answer
  kThrottled,       // too many failures: wait `wait`
};

struct SignInResult {
  SignInOutcome outcome = SignInOutcome::kBadCredentials;
  std::optional<StaffMember> staff;  // when kOk
  bool second_factor = false;        // when kOk: a TOTP or recovery code is needed
  Duration wait{};                   // when kThrottled
};

// Who is trying, as keyed hashes (never the address itself): the client's address, and the network
// it holds (an IPv6 /64; empty for IPv4, where they are the same). Each is throttled.
struct Client {
  Client(std::string address_key, std::string network_key = "")  // NOLINT: a bare key is a client
      : address(std::move(address_key)), network(std::move(network_key)) {}
  Client(const char* address_key) : address(address_key) {}  // NOLINT
  std::string address, network;
};

struct PasswordPolicy {
  size_t min_length = 12;
  size_t max_length = 256;
  std::unordered_set<std::string> common;  // lower case
  // Reads one password a line (web/generated/common-passwords.txt). Errors: kNotFound.
  static Result<PasswordPolicy> Load(const std::string& common_passwords_file);
  // NCSC's guidance: length over complexity, no common password, not the email address itself.
  // Errors: kInvalidArgument with a message a person can act on.
  Status Check(std::string_view password, std::string_view email) const;
};

class Accounts {
 public:
  Accounts(store::Store& store, audit::Trail& trail, const Clock& clock, const crypto::SecretKey& key,
           PasswordPolicy policy);
  static const std::vector<store::Migration>& Migrations();

  // Errors: kInvalidArgument (email, no role), kAlreadyExists.
  Result<int64_t> Create(std::string_view email, const std::vector<Role>& roles, const Actor& actor);
  // Errors: kNotFound.
  Result<StaffMember> Find(int64_t id) const;
  Result<std::optional<StaffMember>> FindByEmail(std::string_view email) const;
  Result<std::vector<StaffMember>> List() const;
  Result<int64_t> Count() const;

  // Errors: kNotFound, kInvalidArgument (no role), kFailedPrecondition (would leave no enabled admin).
  Status SetRoles(int64_t id, const std::vector<Role>& roles, const Actor& actor);
  // Disabling ends the account's sessions. Errors: kNotFound, kFailedPrecondition (last admin).
  Status SetDisabled(int64_t id, bool disabled, const Actor& actor);

  // A one-time set-up link's token, valid 24 hours: for an account (to choose a password) or,
  // with no id, for the first admin. Only the token's hash is stored.
  Result<std::string> IssueSetupToken(std::optional<int64_t> staff_id, const Actor& actor);
  // Errors: kNotFound (unknown, used or expired).
  Result<SetupLink> LookupSetupToken(std::string_view token) const;
  // Uses the token: sets the password (and, for the first admin, creates the account with `email`).
  // Returns the account id. Errors: kNotFound, kInvalidArgument (policy), kFailedPrecondition
  // (a first-admin link once any account exists).
  Result<int64_t> CompleteSetup(std::string_view token, std::string_view email, std::string_view password,
                                const Actor& actor);
  // Ends every session of the account. Errors: kNotFound, kInvalidArgument (policy).
  Status SetPassword(int64_t id, std::string_view password, const Actor& actor);
  // Errors: kInvalidArgument with a message a person can act on.
  Status CheckPassword(std::string_view password, std::string_view email) const;

  // Throttled per account, per client address and per client network. The throttle is charged
  // before the password is hashed. A refused attempt is audited once, when refusals start; those
  // that follow are counted, and the count goes in the next audited attempt on the account.
  Result<SignInResult> SignIn(std::string_view email, std::string_view password, const Client& client,
                              const Actor& actor);

  // Second factor. BeginTotp makes a new secret (returned for the person's app) that takes effect
  // once ConfirmTotp sees a right code; ConfirmTotp returns ten one-time recovery codes.
  Result<std::string> BeginTotp(int64_t id, const Actor& actor);
  Result<std::vector<std::string>> ConfirmTotp(int64_t id, std::string_view code, const Actor& actor);
  // A TOTP code (each 30-second step once only) or an unused recovery code. Throttled like sign-in.
  Result<bool> VerifySecondFactor(int64_t id, std::string_view code, const Client& client, const Actor& actor);
  Status DisableTotp(int64_t id, const Actor& actor);
  // Whether `password` is the signed-in person's own: asked again before weakening the account
  // (removing its second factor). Throttled like sign-in; a wrong password is audited.
  Result<bool> Reauthenticate(int64_t id, std::string_view password, const Client& client, const Actor& actor);

  // A keyed hash for throttling and lookups that must not hold the raw value.
  std::string Pseudonym(std::string_view value) const;

 private:
  Result<StaffMember> Load(store::Connection& c, int64_t id) const;
  Status RequireAnotherAdmin(store::Connection& c, int64_t id) const;
  std::string TokenHash(std::string_view token) const;
  const std::string& DummyHash() const;
  // Whether `password` matches `stored` (false for none), after the same work either way.
  bool MatchesHash(const std::string& stored, std::string_view password) const;

  store::Store& store_;
  audit::Trail& trail_;
  const Clock& clock_;
  std::string hash_key_;  // keyed-hash key for tokens and pseudonyms
  std::string totp_key_;  // encrypts TOTP secrets at rest
  TotpFactor totp_;
  PasswordPolicy policy_;
  Throttle account_throttle_;
  Throttle client_throttle_;
  mutable std::counting_semaphore<2> hashing_{2};
  mutable std::once_flag dummy_once_;
  mutable std::string dummy_hash_;
};

// Retention for the staff accounts dataset: deletes accounts disabled before `cutoff` (RFC 3339),
// with their sessions, recovery codes and set-up links, and any set-up link used or expired by
// `now`. Returns the accounts removed (or, with `dry_run`, that would be). Runs on the writer.
Result<int64_t> PurgeDisabledBefore(store::Connection& c, const std::string& cutoff, const std::string& now,
                                    bool dry_run);

// "someone@example.gov.uk", lower case and trimmed, or nullopt when it is not an email address.
std::optional<std::string> NormaliseEmail(std::string_view email);

}  // namespace steward::staff
