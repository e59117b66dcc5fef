// The processing register: the one declaration of what a site does with personal data.
//
// It is read from the [register] tables of the site's config file (docs/register.md explains
// every key) and validated as a DPO would check it: every purpose has a lawful basis (and the
// interest, where legitimate interests are relied on), every consent-based purpose says how to
// withdraw, every dataset names known purposes and has a retention (a concrete maximum beside any
// "as long as needed"), special category data has an Article 9 condition and, where the law asks,
// a DPA 2018 Schedule 1 condition and an appropriate policy document, transfers name countries from
// a list, every cookie has a category and an expiry, ids are unique, keys are known. Parse reports
// every problem at once, with file and line.
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
// The rights a person has over data used on `b` ("access", "erasure", "objection", ...).
std::vector<std::string> RightsForBasis(LawfulBasis b);

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
// `t` plus `p`, the same way: the end of a period that starts at `t`.
SystemTime Add(SystemTime t, const Period& p);

struct Retention {
  enum class Kind { kPeriod, kAfterEvent, kCriteria };
  Kind kind = Kind::kPeriod;
  Period period;           // kPeriod, kAfterEvent; kCriteria: the maximum, which the runner enforces
  std::string event;       // kAfterEvent: "the account is closed"
  std::string criteria;    // kCriteria: in words ("only as long as it is needed")
  Period review;           // kCriteria: how often the criteria are reviewed
  bool anonymise = false;  // at the end: anonymise instead of delete
  std::string text;        // the whole rule in words, for the notice
};

struct Contact {
  std::string name, address, email, phone, url;
  bool empty() const { return name.empty() && address.empty() && email.empty() && phone.empty() && url.empty(); }
};

// The Article 9(2) conditions for special category data, as a register names them.
enum class Article9 {
  kNone,
  kExplicitConsent,             // (a): needs no Schedule 1 condition
  kEmployment,                  // (b): Schedule 1 paragraph 1, with an appropriate policy document
  kVitalInterests,              // (c)
  kNotForProfit,                // (d)
  kMadePublic,                  // (e)
  kLegalClaims,                 // (f)
  kSubstantialPublicInterest,   // (g): a Schedule 1 Part 2 condition, with an appropriate policy document
  kHealthOrSocialCare,          // (h): Schedule 1 paragraph 2
  kPublicHealth,                // (i): Schedule 1 paragraph 3
  kArchivingResearchStatistics  // (j): Schedule 1 paragraph 4
};
std::string_view Article9Name(Article9 c);     // "explicit-consent"
std::string_view Article9Article(Article9 c);  // "Article 9(2)(a)"
std::string_view Article9Text(Article9 c);     // "your explicit consent"
// Whether the condition needs a DPA 2018 Schedule 1 condition too (Section 10 DPA 2018).
bool Article9NeedsSchedule1(Article9 c);
// Whether that Schedule 1 condition needs an appropriate policy document (Schedule 1 paragraph 5, 1(1)(b)).
bool Article9NeedsPolicyDocument(Article9 c);

struct Purpose {
  std::string id, description;
  LawfulBasis basis = LawfulBasis::kPublicTask;
  std::string legitimate_interest;  // when basis is legitimate interests
  std::string lia;                  // where the legitimate interests assessment is (a link)
  // For special category and criminal offence data: the Article 9 condition, the DPA 2018
  // Schedule 1 condition where one is needed, and the appropriate policy document where that
  // condition needs one (with whether retention follows it, Schedule 1 paragraph 41).
  Article9 article_9 = Article9::kNone;
  std::string schedule_1;        // "Part 2 paragraph 8 (equality of opportunity or treatment)"
  std::string policy_document;   // a link
  std::string policy_exception;  // why retention and erasure do not follow the policy document; empty: they do
  std::string withdraw;          // how to withdraw consent, when basis is consent
  std::string consent_records;   // where the records of consent are, when basis is consent
  config::Position where;

  // The special category condition in words, for the notice ("" when none).
  std::string SpecialConditionText() const;
};

struct Dataset {
  std::string id, module, description;
  // Kept by another system the register names, not by a module of this build ("the customer
  // record system"): the notice then promises no deletion that Steward does not run.
  std::string kept_by;
  // How it is collected, for data a person does not give but their device or visit yields ("by our
  // web server, from each request"). Empty: the person gives it.
  std::string collection;
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
  // For the record of processing: the data protection impact assessment (a link), who owns the
  // dataset, and when it was last reviewed (YYYY-MM-DD).
  std::string dpia, owner, reviewed;
  config::Position where;

  bool SpecialCategory() const;                               // holds Article 9 data
  bool CriminalOffence() const;                               // holds Article 10 data
  bool Given() const { return collection.empty(); }           // the person gives it
  bool FromOtherSources() const { return !sources.empty(); }  // Article 14 applies
};

struct Recipient {
  std::string id, name, purpose;
  std::string basis;     // "processor", "consent", "legal-obligation", "court-order", "public-task", "contract"
  std::string contract;  // a processor's contract (Article 28): where it is
};

struct Transfer {
  std::string id, safeguard, description;
  std::vector<std::string> countries;  // ISO 3166-1 alpha-2 codes from countries.h
  std::string Destination() const;     // the countries' names: "the United States and Canada"
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
  std::string stored_in;         // where the data is stored: "the UK"
  std::string complaints_to_us;  // how to complain to the controller; from the DPO's contact when not given
  std::string complaints;        // how to complain to the ICO; a standard text when not given
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
  // The cookies a member of the public may get: all but the staff-only ones.
  std::vector<Cookie> PublicCookies() const;
  // Whether a purpose concerns the public: it serves a public dataset, or no dataset at all. A
  // purpose only staff datasets serve is left out of the public notice.
  bool PublicPurpose(const Purpose& p) const;
  // The rights that apply, given the lawful bases of the public purposes ("access", "rectification",
  // ...). The right to object is among them where it applies; the notice states it apart (Art 21(4)).
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
