// Consent records: the proof of every cookie choice (UK GDPR Article 7(1)).
//
// Each choice is one row: when, the notice version the visitor saw, the consent version (which
// categories were asked about), the choice for each category, and how it was made (banner, cookies
// page, script, GPC, or recorded by staff). The visitor is known only by a random consent id kept
// in an essential cookie; the database holds a keyed hash of it, so the table alone cannot be
// matched to a browser. No IP address and no user agent are ever stored.
//
//   consent::Records records(store, clock, key);
//   records.Record({.consent_id = id, .notice_version = v, ...});
//   auto history = records.History(id);  // newest first
//
// Thread safety: safe for concurrent use.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "register/register.h"
#include "retention/retention.h"
#include "store/store.h"

namespace steward::consent {

enum class Method { kBanner, kCookiesPage, kScript, kGpc, kStaff };
std::string_view MethodName(Method m);   // "banner", "cookies-page", "script", "gpc", "staff"
std::string_view MethodTitle(Method m);  // "Cookie banner", ...
std::optional<Method> ParseMethod(std::string_view name);

struct ConsentRecord {
  std::string consent_id;               // as the visitor's cookie holds it; empty when read back
  std::string at;                       // RFC 3339, set by Record
  std::string notice_version;           // the register version the visitor was shown
  std::string consent_version;          // CookieGate::version(): the categories asked about
  std::map<std::string, bool> choices;  // category -> allowed
  Method method = Method::kBanner;
  std::string recorded_by;  // the staff id, for Method::kStaff
};

// A new consent id: 32 lower-case hex characters.
std::string NewConsentId();
// True iff `id` has the shape NewConsentId makes.
bool ValidConsentId(std::string_view id);

class Records {
 public:
  Records(store::Store& store, const Clock& clock, const crypto::SecretKey& key);

  static std::vector<store::Migration> Migrations();

  // Stores a choice and waits for it to commit. Errors: kInvalidArgument for a malformed consent
  // id; kResourceExhausted when the write queue is full; store errors.
  Status Record(ConsentRecord record);
  // As Record, with `entry` appended to `trail` in the same write (a choice recorded by staff).
  Status Record(ConsentRecord record, audit::Trail& trail, const audit::Entry& entry);
  // Every choice for `consent_id`, newest first (at most `limit`).
  Result<std::vector<ConsentRecord>> History(std::string_view consent_id, int limit = 100);
  // The newest choice for `consent_id`, if any.
  Result<std::optional<ConsentRecord>> Current(std::string_view consent_id);

  // The keyed hash a consent id's records are stored under (consent_records.consent_key).
  std::string Key(std::string_view consent_id) const;

 private:
  Result<store::WriteFn> Insert(ConsentRecord record);
  store::Store& store_;
  const Clock& clock_;
  std::string key_;
};

// A choice sent to POST /api/consent: how it was made, and allowed or not for every optional
// category (categories not named are refused). Errors: kInvalidArgument saying what to send.
struct ChoiceRequest {
  Method method = Method::kScript;
  std::map<std::string, bool> choices;
};
Result<ChoiceRequest> ReadChoice(std::string_view body, const std::vector<processing::CookieCategory>& categories);

// The consent module's storage for the retention runner: consent_records (the "consent records"
// dataset), purged when older than the retention; in use when the register has optional cookies.
retention::ModuleStorage Storage();

}  // namespace steward::consent
