// The disclosure log: requests from the police, a court or another body for what Steward holds
// about people, the decision on each with its reasons, the second person's approval, and what was
// given, when and how. A request moves through:
//
//   awaiting-decision -> awaiting-approval -> approved -> disclosed
//                        (sent back: awaiting-decision)   or, a refusal approved: refused
//
// Four eyes: a decision is approved by someone with the DPO role (checked by the pages) who
// neither recorded the request nor made the decision (checked here).
//
// Privacy: the register's dataset of module "disclosures" ([disclosures] dataset). Who the request
// is about, what was asked for, the reasons and any note are sealed under a subject key of the
// disclosure's own (subjects::SubjectStore::Create); each identifier of the people concerned is
// also kept as a keyed hash, so that a rights request finds the disclosures about a person without
// decrypting anything. Who asked (an organisation), the basis, the dates, the decision and the
// datasets given are plain: the log must show them to the DPO and the ICO. Audit entries hold the
// disclosure's id and counts, never a value.
//
//   disclosures::Log log(store, trail, key, clock);
//   auto id = log.Record({.requester = "Metropolitan Police Service", .basis = Basis::kCrimeAndTaxation, ...}, by);
//   log.Decide(*id, Decision::kDisclose, "an investigation of fraud", {"customer-records"}, by);
//   log.Approve(*id, true, "", second_dpo);
//
// Thread safety: safe for concurrent use (the store serialises writes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "retention/retention.h"
#include "store/store.h"
#include "subject/subject.h"

namespace steward::disclosures {

// The lawful ground the body asking relies on.
enum class Basis { kCrimeAndTaxation, kRequiredByLaw, kCourtOrder, kLegalProceedings, kVitalInterests, kOther };
const std::vector<Basis>& AllBases();
std::string_view BasisName(Basis b);  // "crime-and-taxation", ...
// "The prevention or detection of crime, or catching or prosecuting offenders (DPA 2018 Schedule 2
// paragraph 2)", ...
std::string_view BasisText(Basis b);
std::optional<Basis> ParseBasis(std::string_view name);

enum class Decision { kDisclose, kInPart, kRefuse };
std::string_view DecisionName(Decision d);  // "disclose", "in-part", "refuse"
std::string_view DecisionText(Decision d);  // "Disclose", "Disclose in part", "Refuse"
std::optional<Decision> ParseDecision(std::string_view name);

// Who acts: "staff:3" or "cli", and the HTTP request when there was one.
struct Actor {
  std::string id;
  std::string request_id;
};

struct NewRequest {
  std::string requester;        // the body: "Metropolitan Police Service"
  std::string their_reference;  // the body's own reference; may be empty
  Basis basis = Basis::kCrimeAndTaxation;
  int64_t received = 0;  // days since 1970-01-01
  // Privacy: sealed under the disclosure's key.
  std::string basis_detail;          // the order's reference, the offence, the enactment
  std::vector<subject::Key> people;  // whom it is about: at least one, at most kMostPeople
  std::string asked;                 // what was asked for, in the body's words
};

inline constexpr size_t kMostPeople = 50;
inline constexpr size_t kMostText = 5000;

struct Disclosure {
  int64_t id = 0;
  std::string reference;  // "D-000001"
  std::string requester, their_reference;
  Basis basis = Basis::kCrimeAndTaxation;
  int64_t received = 0;
  std::string status;  // "awaiting-decision", "awaiting-approval", "approved", "disclosed", "refused"
  std::string recorded_by, recorded_at;
  std::optional<Decision> decision;
  std::vector<std::string> datasets;  // what a disclosure gives (register dataset ids)
  std::string decided_by, decided_at, approved_by, approved_at;
  std::string disclosed_at, disclosed_how;
  int64_t disclosed_records = 0;
  int64_t people_count = 0;
  // Opened from the disclosure's key (Get only).
  std::string subject_id;
  std::string basis_detail, asked, reasons, note;  // note: why it was last sent back
  std::vector<subject::Key> people;
  bool Closed() const { return status == "disclosed" || status == "refused"; }
};

class Log {
 public:
  // Everything must outlive the log.
  Log(store::Store& store, audit::Trail& trail, const crypto::SecretKey& key, const Clock& clock);
  ~Log();

  static std::vector<store::Migration> Migrations();
  // The log's tables for the retention runner: a closed request goes once the dataset's retention
  // has passed since it closed; an open one never.
  static retention::ModuleStorage Storage();

  // Errors: kInvalidArgument "FIELD: message" (requester, basis_detail, people, asked).
  Result<int64_t> Record(const NewRequest& r, const Actor& actor);
  // Errors: kNotFound.
  Result<Disclosure> Get(int64_t id) const;
  // The log, newest first, without opening anything sealed.
  Result<std::vector<Disclosure>> List(size_t limit = 500) const;
  // The disclosures about any of `keys` (by keyed hash), oldest first.
  Result<std::vector<int64_t>> About(const std::vector<subject::Key>& keys) const;

  // The decision, with its reasons, and for a disclosure the datasets it gives. Errors:
  // kInvalidArgument "FIELD: message" (reasons, datasets), kFailedPrecondition unless awaiting a
  // decision, kNotFound.
  Status Decide(int64_t id, Decision decision, std::string_view reasons, const std::vector<std::string>& datasets,
                const Actor& actor);
  // The second person approves the decision, or sends it back with a note (required). Errors:
  // kPermissionDenied when `actor` recorded the request or made the decision; kFailedPrecondition
  // unless awaiting approval; kInvalidArgument "note: ..."; kNotFound.
  Status Approve(int64_t id, bool approve, std::string_view note, const Actor& actor);
  // What was given, when and how ("secure email"), once approved. Errors: kFailedPrecondition
  // unless approved, kInvalidArgument "how: ...", kNotFound.
  Status MarkDisclosed(int64_t id, std::string_view how, int64_t records, const Actor& actor);
  // Notes an export of the records in the audit trail (and nothing else changes).
  Status NoteExport(int64_t id, int64_t people, int64_t records, const Actor& actor);

  static std::string Reference(int64_t id);  // "D-000001"
  static std::optional<int64_t> ParseReference(std::string_view text);

 private:
  Status ApproveOnce(int64_t id, bool approve, std::string_view note, const Actor& actor);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the people concerned from a form's text: one a line, an email address, a telephone number
// or KIND:VALUE (subject::Key::Parse). Errors: kInvalidArgument "people: ..." naming the line.
Result<std::vector<subject::Key>> ParsePeople(std::string_view text);

}  // namespace steward::disclosures
