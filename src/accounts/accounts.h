// Citizen accounts: a member of the public registers (or an adviser registers them), keeps the
// details the site declares, gives and withdraws consents, sees everything done with the account,
// and closes it, after which only the minimum the register names is kept, restricted, until its
// time ends.
//
//   [accounts]
//   dataset = "customer-records"          # the register's dataset of the account itself
//   minimum_age = 13                       # refuse younger people (needs age_check)
//   age_check = "date-of-birth"            # a date field, or "confirm" for a tick box
//   [[accounts.fields]]
//   id = "name"
//   label = "Full name"
//   type = "text"                          # text, email, telephone, date, postcode, choice
//   required = true
//   category = "user.contact.name"         # the register's data category
//   dataset = "customer-records"           # default: [accounts] dataset
//   consent = "equality"                   # only given and kept under this consent box
//   [[accounts.consents]]
//   id = "surveys"
//   label = "Contact me for satisfaction surveys"
//   purpose = "satisfaction-surveys"       # a purpose whose lawful basis is consent
//   dataset = "survey-consent"
//   withdrawal = "stop"                    # or "delete": withdrawing deletes the fields it covers
//   [accounts.closure]
//   dataset = "payment-records"            # what is kept after closing, and for how long
//   keep = ["name"]                        # the fields kept, restricted, until then
//   [accounts.oidc]                        # people may sign in with GOV.UK One Login too
//   issuer = "https://oidc.integration.account.gov.uk/"
//   client_id = "..."                      # given when the service registers
//   private_key_file = "/etc/steward/one-login.pem"   # the site's RSA key, never in the repository
//   vtr = "Cl.Cm"                          # the level asked for (One Login's default)
//
// Privacy: the register's datasets the site file names. Every field a person gives is sealed
// under their subject key (the email address also in the blind index, so the account is found
// without opening anything); the password is an argon2id hash, sealed too, so erasing the person
// reaches backups. A consent is a row per giving or withdrawal (when, how, who), so the account
// shows each consent's history. Activity (sign-ins, changes, what an adviser did) names fields,
// never their values.
//
// Thread safety: Accounts is safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "config/document.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "mail/mail.h"
#include "oidc/oidc.h"
#include "register/register.h"
#include "retention/retention.h"
#include "store/store.h"
#include "subject/restrictions.h"
#include "subject/subject.h"

namespace steward::accounts {

enum class FieldType { kText, kEmail, kTelephone, kDate, kPostcode, kChoice };
std::string_view FieldTypeName(FieldType t);  // "text", ...

struct Field {
  std::string id, label, hint;
  FieldType type = FieldType::kText;
  bool required = false;
  std::string category;  // "user.contact.name"
  std::string dataset;   // the register's dataset
  std::string consent;   // a consent box: given and kept only while it is given; empty: none
  std::vector<std::string> choices;
  bool special = false;  // an Article 9 category (user.special.*)
};

struct ConsentBox {
  std::string id, label, hint;
  std::string purpose, dataset;
  bool delete_on_withdrawal = false;  // withdrawal = "delete"
};

struct Settings {
  std::string dataset;  // the account's own
  std::vector<Field> fields;
  std::vector<ConsentBox> consents;
  int64_t minimum_age = 0;  // 0: no check
  std::string age_check;    // a date field's id, or "confirm"
  std::string closure_dataset;
  std::vector<std::string> closure_keep;
  // From the closure dataset: how long the minimum is kept after closing, and what for ("evidence
  // and support payments to ...", from its purposes).
  std::optional<processing::Period> closure_period;
  std::string closure_why;
  // Whether partner organisations may refer people (POST /api/referrals); the account's dataset
  // then names its sources, as Article 14 asks.
  bool referrals = false;
  // Signing in through an OpenID Connect provider as well as with a password ([accounts.oidc]).
  std::optional<oidc::ProviderSettings> oidc;

  const Field* FindField(std::string_view id) const;
  const ConsentBox* FindConsent(std::string_view id) const;
};

// Reads [accounts]; nullopt when the site has none. Errors: kInvalidArgument with every problem as
// FILE:LINE:COLUMN: a field whose category its dataset does not declare, a consent box whose
// purpose is not consent-based, a dataset of another module, a closure that keeps an undeclared
// field, accounts without [mail].
Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg);

// One account as its owner and their adviser see it.
struct Account {
  int64_t id = 0;
  std::string subject_id;
  std::string state;  // "unconfirmed", "open", "closed"
  std::string email;
  std::map<std::string, std::string> values;  // field id -> value
  std::string created_at, created_by, confirmed_at, last_active_at, closed_at, keep_until;
  bool has_password = false;
  bool restricted = false;     // closed: kept to the minimum and used for nothing else
  bool second_factor = false;  // signing in with a password asks for a code from an app too
};

// One giving or withdrawal of a consent.
struct ConsentEvent {
  std::string box;
  bool given = false;
  std::string at;   // RFC 3339
  std::string how;  // "ticked the box when registering", "told an adviser by telephone"
  std::string by;   // "you" or "staff:3"
};

struct Activity {
  std::string at, actor, action, detail;  // detail names fields, never values
};

// Who does something to an account: the person ("self") or an adviser ("staff:3").
struct Actor {
  std::string id = "self";
  std::string request_id;
  bool IsAdviser() const { return id.starts_with("staff:"); }
};

// What the adviser's search shows of one customer.
struct Match {
  int64_t id = 0;
  std::string state, name, email, created_at;
};

struct Counts {
  int64_t open = 0, unconfirmed = 0, closed = 0;
};

// A partner organisation's referral: the person's email address and the details it gives, and the
// partner's name (the referral source).
struct Referral {
  std::string email;
  std::map<std::string, std::string> values;
  std::string source;
};

// One referral as the account keeps it: who referred, when, and when the person was told.
struct ReferralRecord {
  int64_t id = 0;
  std::string source, received_at;
  std::string told_at;  // "" until the Article 14 email is queued (an address that cannot be emailed)
  int64_t account = 0;
  std::string due;  // the day the law's month ends: received_at plus one calendar month
};

class Accounts {
 public:
  // `queue` and `mail` send the confirmation and closure emails; `base_url` gives the site's public
  // address for links. Everything must outlive this.
  Accounts(store::Store& store, audit::Trail& trail, const crypto::SecretKey& key, const Clock& clock,
           Settings settings, mail::Queue* queue, std::optional<mail::Settings> mail,
           std::function<std::string()> base_url, std::string site_name);
  ~Accounts();

  static std::vector<store::Migration> Migrations();
  // The module's storage for the retention runner; `settings` null for a site without accounts.
  static retention::ModuleStorage Storage(const std::shared_ptr<const Settings>& settings);

  const Settings& settings() const;

  static constexpr int64_t kLinkHours = 24;

  // Checks the values against the declared fields: required ones present, each of its type, none
  // undeclared, consent-covered fields only with their box. Returns them normalised. Errors:
  // kInvalidArgument "FIELD: message" for the first problem.
  Result<std::map<std::string, std::string>> CheckValues(const std::map<std::string, std::string>& values,
                                                         const std::set<std::string>& consents,
                                                         bool partial = false) const;
  // Whether someone born on `date_of_birth` (YYYY-MM-DD) is at least the minimum age today.
  bool OldEnough(std::string_view date_of_birth) const;

  // A person registers. Keeps the account unconfirmed and emails a link (valid kLinkHours) that
  // confirms it; an address that already has an account is emailed a sign-in reminder instead, so
  // the form never tells whether an address has an account. Errors: kInvalidArgument
  // "FIELD: message" (email, password, a field, age).
  Status Register(std::string_view email, std::string_view password, const std::map<std::string, std::string>& values,
                  const std::set<std::string>& consents, const Actor& actor);
  // Applies a confirmation link. Returns the account. Errors: kNotFound (unknown, used, expired).
  Result<int64_t> Confirm(std::string_view token);
  // The open account with this email and password. Errors: kPermissionDenied for either wrong
  // (the same answer, after the same work).
  Result<int64_t> SignIn(std::string_view email, std::string_view password, const Actor& actor);

  static constexpr int64_t kResetHours = 1;
  // A person who forgot their password asks for a link. When the address has an open account, it
  // is emailed a link (valid kResetHours, once) to choose a new one, at most one every 10 minutes;
  // otherwise nothing happens, and the caller says the same either way.
  Status RequestPasswordReset(std::string_view email, const Actor& actor);

  // The person asks to change their address to `email`; `password` must be theirs when the account
  // has one. A link (valid kLinkHours, once) goes to the new address and nothing changes until it
  // is used; an address another account has is emailed that instead (the caller says the same).
  // Errors: kInvalidArgument "email: ..." or "password: ...", kFailedPrecondition (closed).
  Status AskEmailChange(int64_t id, std::string_view email, std::string_view password, const Actor& actor);
  // Uses the link: the account's address becomes the new one (re-indexed), and the old address is
  // told. Returns the account. Errors: kNotFound (unknown, used, expired), kAlreadyExists (another
  // account took the address meanwhile).
  Result<int64_t> ConfirmEmailChange(std::string_view token);

  // Errors: kNotFound.
  Result<Account> Load(int64_t id) const;
  // Corrects details (rectification): only the fields given change; an empty optional field is
  // removed. Recorded in the activity with the fields' names, audited. Errors: kInvalidArgument,
  // kNotFound, kFailedPrecondition (closed).
  Status Update(int64_t id, const std::map<std::string, std::string>& values, const Actor& actor);
  // Gives or withdraws a consent box, with how; withdrawing a box that deletes removes the fields
  // it covers. Errors: kInvalidArgument (box), kNotFound, kFailedPrecondition (closed).
  Status SetConsent(int64_t id, std::string_view box, bool given, std::string_view how, const Actor& actor);
  // Each box's events, oldest first.
  Result<std::vector<ConsentEvent>> Consents(int64_t id) const;
  // Whether each box is given now.
  Result<std::map<std::string, bool>> ConsentsNow(int64_t id) const;
  Result<std::vector<Activity>> ActivityOf(int64_t id, int64_t limit = 200) const;
  // Records a sign-in (or another event with no data) in the activity.
  Status Note(int64_t id, std::string_view action, std::string_view detail, const Actor& actor);

  // Closes the account: every field the closure does not keep, the password, the consents and the
  // activity are deleted; what is kept is restricted until keep_until (the closure dataset's
  // retention from now); the person is emailed what is kept, why and until when, unless
  // `email_owner` is false (an erasure for a rights request, whose answer tells them: nothing of
  // theirs is written again). Returns keep_until. Errors: kNotFound, kFailedPrecondition (already
  // closed).
  Result<std::string> Close(int64_t id, const Actor& actor, bool email_owner = true);

  // ---- A second factor: an authenticator app, as staff have (staff::TotpFactor) ------------------

  // A new secret for the person's app (base32), which takes effect once confirmed. Errors:
  // kNotFound, kFailedPrecondition (one is on already).
  Result<std::string> BeginSecondFactor(int64_t id, const Actor& actor);
  // Turns it on when `code` is right; returns ten recovery codes, shown once. Errors:
  // kInvalidArgument (the code), kFailedPrecondition.
  Result<std::vector<std::string>> ConfirmSecondFactor(int64_t id, std::string_view code, const Actor& actor);
  // Whether `code` is right: a code from the app (each once) or an unused recovery code (used up).
  // Recorded in the activity and audited either way; the caller throttles.
  Result<bool> VerifySecondFactor(int64_t id, std::string_view code, const Actor& actor);
  // Whether `password` is the account's own (false when it has none): asked again before a change
  // that weakens or moves the account.
  Result<bool> PasswordIs(int64_t id, std::string_view password) const;
  // Turns it off: the person (after their password), or an adviser for someone who lost their phone.
  // The owner is emailed. Errors: kNotFound, kFailedPrecondition (none is on).
  Status RemoveSecondFactor(int64_t id, const Actor& actor);

  // ---- Advisers -----------------------------------------------------------------------------------

  // An account an adviser makes for a customer who is with them or on the phone: open at once,
  // no password until it is handed over. `agreed` says how the customer agreed (recorded).
  // Errors: kInvalidArgument, kAlreadyExists (an account has that address).
  Result<int64_t> CreateForCustomer(std::string_view email, const std::map<std::string, std::string>& values,
                                    std::string_view agreed, const Actor& actor);
  // Customers by email address (exact), or by name and date of birth (exact, case and spaces
  // ignored): never a list of everyone. Errors: kInvalidArgument when neither is given.
  Result<std::vector<Match>> Find(std::string_view email, std::string_view name, std::string_view date_of_birth) const;
  // Emails the customer a link (valid kLinkHours) to set their password. Errors: kNotFound,
  // kFailedPrecondition (closed).
  Status HandOver(int64_t id, const Actor& actor);
  // Uses a hand-over link. Returns the account. Errors: kNotFound (link), kInvalidArgument (policy).
  Result<int64_t> SetPasswordByLink(std::string_view token, std::string_view password);
  // Whether a hand-over link is live (for its page). Errors: kNotFound.
  Result<int64_t> CheckPasswordLink(std::string_view token) const;

  // ---- Referrals ----------------------------------------------------------------------------------

  static constexpr int64_t kReferralLinkDays = 7;
  // A partner refers someone: a new open account with the details given (no password, no consent:
  // a partner cannot agree for the person), or, when the address has an account already, the
  // referral noted on it with nothing overwritten. Because the data did not come from the person,
  // they are emailed at once what we hold, from whom, why, for how long and their rights (Article
  // 14, which allows a month), with a link (valid kReferralLinkDays) to see it and set a password;
  // `told(link)` writes that email's text. The referral and the telling are recorded and audited.
  // Returns the account. Errors: kInvalidArgument "FIELD: message" (email, a field, a consent-covered
  // field), kPermissionDenied (under the minimum age: nothing kept), kFailedPrecondition (the site
  // takes no referrals).
  Result<int64_t> Refer(const Referral& referral, const std::function<std::string(const std::string& link)>& told,
                        const Actor& actor);
  // The account's referrals, oldest first.
  Result<std::vector<ReferralRecord>> Referrals(int64_t id) const;
  // Referrals whose person has not been told (their address could not be emailed), oldest first,
  // at most `limit`: the advisers' list of people to tell another way within the month.
  Result<std::vector<ReferralRecord>> Untold(int64_t limit = 100) const;
  // An adviser records telling the person another way (`how`: "telephone", "letter", "in-person",
  // "video"). Errors: kInvalidArgument (how), kNotFound (no such untold referral of the account).
  Status MarkTold(int64_t id, int64_t referral, std::string_view how, const Actor& actor);

  // Brings one account from the service's previous system, in the caller's write (the import
  // command batches them): open, no password (the person sets one through an adviser's hand-over),
  // no consents (a box is given in the account, never carried over). Returns false, changing
  // nothing, when the address has an account. Errors: kInvalidArgument "FIELD: message".
  Result<bool> Import(store::Connection& c, std::string_view email, const std::map<std::string, std::string>& values,
                      std::string_view source);

  // ---- Statistics and partners' shares (statistics.cc)
  // -----------------------------------------------------------------

  // One open account as the statistics read it.
  struct Opened {
    int64_t id = 0;
    std::string created_at, created_by, subject_id;
    std::string email;                          // Privacy: opened to check restriction marks only
    std::string source;                         // the first referral's source; "" when not referred
    std::map<std::string, std::string> values;  // the fields asked for
    std::set<std::string> consents;             // with_consents: the boxes given now
  };
  // Calls `each` for every open account created on UTC days [from, to), oldest first, with the
  // values of `fields` opened and, `with_consents`, the boxes given now. Reads in one snapshot.
  Status ForEachOpen(int64_t from, int64_t to, const std::set<std::string>& fields,
                     const std::function<void(const Opened&)>& each, bool with_consents = false) const;

  // ---- Signing in through an OpenID Connect provider ([accounts.oidc]) -----------------------------

  // What names a provider's person in the store: a keyed hash of the issuer and their `sub`, never
  // the identifier itself.
  std::string IdentityHash(std::string_view issuer, std::string_view sub) const;
  // The open account the provider's person is linked to, with the sign-in recorded; nullopt when
  // they are linked to none.
  Result<std::optional<int64_t>> SignInLinked(std::string_view identity, const Actor& actor);
  // Links the provider's person to the account of `email` (which the provider confirmed) and records
  // the sign-in: an unconfirmed account is confirmed by it, and the owner is emailed that the
  // account can now be signed in to that way. nullopt when the address has no account.
  Result<std::optional<int64_t>> LinkByEmail(std::string_view identity, std::string_view email, const Actor& actor);
  // A new open account for the provider's person (the address confirmed by the provider, no
  // password), with the details and consents of the form they filled in here, linked and signed in.
  // When an account of that address appeared meanwhile, links it instead. Errors: kInvalidArgument
  // "FIELD: message", kPermissionDenied (under the minimum age: nothing kept).
  Result<int64_t> RegisterLinked(std::string_view identity, std::string_view email,
                                 const std::map<std::string, std::string>& values,
                                 const std::set<std::string>& consents, const Actor& actor);
  // When the account was linked to the provider, or "" when it is not.
  Result<std::string> LinkedSince(int64_t id) const;

  // The accounts (in any state) an email address, an account id ("accounts:12") or a subject id
  // leads to.
  Result<std::vector<int64_t>> AccountsOf(const subject::Key& key) const;
  // Corrects one field ("email" or a declared field's id), recorded and audited. Returns 1.
  // Errors: kInvalidArgument, kAlreadyExists (another account has the address), kFailedPrecondition.
  Result<int64_t> Rectify(int64_t id, std::string_view field, std::string_view value, const Actor& actor);

  Result<Counts> Count() const;
  // Deletes unconfirmed accounts whose link has expired. Returns how many.
  Result<int64_t> PurgeUnconfirmed();

  // Passwords Register and SetPasswordByLink refuse (lower case): the common-passwords list.
  void SetCommonPasswords(std::set<std::string> common);

  // The field of category user.contact.name (the adviser's search), or null.
  const Field* NameField() const;
  // The date field of category user.demographic.date_of_birth, or null.
  const Field* BirthField() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The purge of the accounts module for `dataset` (as retention::PurgeFn): the closure dataset's
// kept minimum once its time ends, a consent dataset's fields and records once withdrawn for its
// retention, and the account dataset's accounts unused for its maximum. With a `limit` (a batch of
// the retention runner's), at most that many accounts.
Result<int64_t> Purge(store::Connection& c, const Settings& settings, const processing::Dataset& dataset,
                      const std::string& cutoff, const std::string& now, bool dry_run, int64_t limit = 0);

}  // namespace steward::accounts
