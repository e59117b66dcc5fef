// The processing register: the one declaration of what a site does with personal data.
//
// It is read from the [register] tables of the site's config file (docs/register.md explains
// every key) and validated as a DPO would check it: every purpose has a lawful basis (and the
// interest, where legitimate interests are relied on), every consent-based purpose says how to
// withdraw, every dataset names known purposes and has a retention, special category data has a
// DPA 2018 Schedule 1 condition, every cookie has a category and an expiry, ids are unique, keys
// are known. Parse reports every problem at once, with file and line.
//
// The privacy notice, the cookie table and the record of processing are rendered from it; its
// normalised content's hash is the notice version.
//
// (The namespace is `processing` because `register` is a C++ keyword.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/document.h"
#include "core/clock.h"
#include "core/result.h"

namespace steward::processing {

enum class LawfulBasis { kConsent, kContract, kLegalObligation, kVitalInterests, kPublicTask, kLegitimateInterests };
enum class CookieCategory { kEssential, kSettings, kUsage, kCampaigns };
enum class ConsentMode { kConsent, kStatisticsExemption };

std::string_view LawfulBasisName(LawfulBasis b);        // "public-task"
std::string_view LawfulBasisArticle(LawfulBasis b);     // "Article 6(1)(e)"
std::string_view CookieCategoryName(CookieCategory c);  // "usage"

// A length of time as people write it: "12 months", "2 years", "10 minutes".
struct Period {
  int64_t years = 0, months = 0, days = 0, seconds = 0;
  std::string text;  // as written
  bool empty() const { return years == 0 && months == 0 && days == 0 && seconds == 0; }
  // An upper bound in seconds (a month as 31 days, a year as 366), for cookie Max-Age and sorting.
  int64_t MaxSeconds() const;
};

// "12 months" -> Period; nullopt for anything else.
std::optional<Period> ParsePeriod(std::string_view text);

// `t` minus `p` in calendar terms (UTC): years and months move to the same day, or the last day of
// a shorter month (31 March minus 1 month is 28 or 29 February), then days and seconds.
SystemTime Subtract(SystemTime t, const Period& p);

struct Retention {
  enum class Kind { kPeriod, kAfterEvent, kCriteria };
  Kind kind = Kind::kPeriod;
  Period period;           // kPeriod, kAfterEvent
  std::string event;       // kAfterEvent: "the account is closed"
  std::string criteria;    // kCriteria: in words
  Period review;           // kCriteria: how often the criteria are reviewed
  bool anonymise = false;  // at the end: anonymise instead of delete
  std::string text;        // the whole rule in words, for the notice
};

struct Contact {
  std::string name, address, email, phone, url;
  bool empty() const { return name.empty() && address.empty() && email.empty() && phone.empty() && url.empty(); }
};

struct Purpose {
  std::string id, description;
  LawfulBasis basis = LawfulBasis::kPublicTask;
  std::string legitimate_interest;  // when basis is legitimate interests
  std::string special_condition;    // Article 9 and DPA 2018 Schedule 1 condition, for special category data
  std::string withdraw;             // how to withdraw consent, when basis is consent
  config::Position where;
};

struct Dataset {
  std::string id, module, description;
  std::vector<std::string> categories;  // "user.contact.email"
  std::vector<std::string> subjects;    // "website visitors"
  std::vector<std::string> purposes;    // purpose ids
  std::vector<std::string> sources;     // other organisations; empty: from the person
  std::string requirement = "none";     // "none", "statutory", "contractual"
  std::string requirement_note;         // what happens if the data is not given
  Retention retention;
  std::vector<std::string> recipients;  // recipient ids
  std::vector<std::string> transfers;   // transfer ids
  bool staff_only = false;              // audience = "staff": in the record of processing, not the public notice
  config::Position where;

  bool SpecialCategory() const;                               // holds Article 9 data
  bool FromOtherSources() const { return !sources.empty(); }  // Article 14 applies
};

struct Recipient {
  std::string id, name, purpose;
  std::string basis;  // "processor", "consent", "legal-obligation", "court-order", "public-task", "contract"
};

struct Transfer {
  std::string id, destination, safeguard, description;
};

struct Cookie {
  std::string name, provider, purpose;
  std::string path = "/";  // where it is set, so that withdrawing consent can delete it
  std::string domain;      // set for a whole domain (".example.gov.uk"); empty: this host only
  bool first_party = true;
  CookieCategory category = CookieCategory::kEssential;
  bool session = false;  // ends when the browser closes
  Period expiry;         // otherwise
  // Set only for staff signing in (audience = "staff"): declared, so the cookie gate lets it
  // through, but not in the public cookie table. Always essential.
  bool staff_only = false;
  std::string ExpiryText() const;
};

struct Register {
  std::string service;  // the service the notice covers
  Contact controller;
  std::string ico_registration;
  Contact joint_controller, representative, dpo;
  std::string complaints;  // how to complain to the ICO; a standard text when not given
  std::vector<Purpose> purposes;
  std::vector<Dataset> datasets;
  std::vector<Recipient> recipients;
  std::vector<Transfer> transfers;
  std::vector<Cookie> cookies;
  int64_t min_age = 13;
  std::string children;  // the statement about children
  std::string automated_decisions;
  std::vector<std::string> security_measures;
  ConsentMode consent_mode = ConsentMode::kConsent;

  const Purpose* FindPurpose(std::string_view id) const;
  const Dataset* FindDataset(std::string_view id) const;
  // How long `module`'s data is kept for a period: the shortest period among its datasets that keep
  // for one (not by criteria); nullopt when none does.
  std::optional<Period> RetentionPeriod(std::string_view module) const;
  const Recipient* FindRecipient(std::string_view id) const;
  // Non-essential cookie categories in use, in the GOV.UK order (settings, usage, campaigns).
  std::vector<CookieCategory> OptionalCategories() const;
  // True iff a dataset of `module` serves a purpose whose lawful basis is consent.
  bool ModuleNeedsConsent(std::string_view module) const;
  // The cookies a member of the public may get: all but the staff-only ones.
  std::vector<Cookie> PublicCookies() const;
  // The rights that apply, given the lawful bases relied on ("access", "rectification", ...).
  std::vector<std::string> Rights() const;
  // The notice version: a hash of the register's normalised content (hex, 16 characters).
  std::string Version() const;
  // The structured notice (JSON): what tests and other tools read.
  std::string ToJson() const;
};

// Reads and validates the [register] table. Every problem goes into `table.problems()`;
// the result is only meaningful when there were none.
Register Parse(config::Table table);

// Reads the register from a loaded config file. Errors: kInvalidArgument with every problem, one
// per line, with file and line; kNotFound when the file has no [register].
Result<Register> FromDocument(const config::Document& document);

// Errors: kFailedPrecondition naming each of `names` (cookies Steward sets on this site) that `reg`
// does not declare as essential.
Status CheckEssentialCookies(const Register& reg, const std::vector<std::string>& names);

// The data categories Steward knows; a dataset may name one or a parent ("user.contact").
const std::vector<std::string>& KnownCategories();

}  // namespace steward::processing
