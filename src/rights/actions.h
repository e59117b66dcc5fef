// What a case does to the person's data in every module, through the subject-data contract: the
// copy for an access or portability request, and erasure. Each runs over every identifier the
// request gave (and those they lead to), records a step in the case's timeline with counts, and is
// audited by the modules with the case as the reference.
#pragma once

#include <string>
#include <vector>

#include "register/register.h"
#include "rights/bundle.h"
#include "rights/cases.h"
#include "subject/subject.h"

namespace steward::rights {

// What every module holds about `keys` and the identifiers they lead to, as counts by module and
// dataset: a module's holding under one identifier counts once, however many of `keys` lead to it.
using Held = subject::Directory::Held;
using Survey = subject::Directory::Survey;
inline Result<Survey> SurveyKeys(subject::Directory& dir, const std::vector<subject::Key>& keys) {
  return dir.SurveyOf(keys);
}

// Every record the modules hold about the case's identifiers, each once.
Result<std::vector<subject::Record>> Collect(subject::Directory& dir, const Case& c);

// The bundle of a case (bundle.h), recorded in its timeline. Errors: the modules'.
Result<std::string> ExportCase(subject::Directory& dir, Cases& cases, const processing::Register& reg,
                               const std::string& site_name, const Case& c, int64_t today, const Actor& actor);

struct Erased {
  std::vector<subject::Erasure> erasures;  // by dataset, the exemptions among them
  // The recipients of the datasets something was erased from (Article 19: tell them), by name.
  std::vector<std::string> recipients;
  int64_t Total() const;
};
// Erases what every module holds about the case's identifiers, as the register says for each
// dataset, leaving the exempt ones; recorded in the case's timeline. Errors: kFailedPrecondition
// when the case is closed or did not ask for erasure; a module's failure after the others ran.
Result<Erased> EraseCase(subject::Directory& dir, Cases& cases, const processing::Register& reg, const Case& c,
                         const Actor& actor);

// The categories a caseworker can correct, as the register declares them (a category, or a parent of
// it, named by one of its datasets), with their labels: "user.contact.phone" -> "Telephone number".
std::vector<std::pair<std::string, std::string>> CorrectableCategories(const processing::Register& reg);

struct Corrected {
  std::vector<subject::Directory::Correction> corrections;  // by module
  std::vector<std::string> recipients;  // of the datasets corrected (Article 19: tell them), by name
  int64_t Total() const;
};
// Corrects the field of `category` to `value` in what every module holds about the case's
// identifiers; recorded in the case's timeline with the new value (sealed) and the counts. Errors:
// kFailedPrecondition when the case is closed or did not ask for rectification; kInvalidArgument
// for a category the register does not declare, or a value a module refuses.
Result<Corrected> RectifyCase(subject::Directory& dir, Cases& cases, const processing::Register& reg, const Case& c,
                              std::string_view category, std::string_view value, const Actor& actor);

// The purposes a person can object to (Article 21): those resting on public task or legitimate
// interests that a module holding the public's data serves, each with those modules.
struct Objectable {
  const processing::Purpose* purpose = nullptr;
  std::vector<std::string> modules;
};
std::vector<Objectable> ObjectablePurposes(const processing::Register& reg);

struct Objected {
  bool upheld = false;
  std::vector<std::string> purposes;  // upheld for these (their ids)
  int64_t records = 0;                // restricted from then on
  std::vector<std::string> modules;   // where
};
// Records the decision on an objection. Upheld: what every module serving `purposes` holds about
// the case's identifiers (and those they lead to) is marked kept-not-used, and analytics counts
// nothing more from the visitor cookie given, held or not yet; not upheld: `reason` (the compelling
// grounds) is required. In the case's timeline. Errors: kFailedPrecondition when the case is
// closed or did not ask to object; kInvalidArgument for no purpose, a purpose not objectable, or no
// reason.
Result<Objected> ObjectCase(subject::Directory& dir, Cases& cases, const processing::Register& reg, const Case& c,
                            bool upheld, const std::vector<std::string>& purposes, std::string_view reason,
                            const Actor& actor);

// Marks (on) or unmarks (off) what every module holds about the case's identifiers as restricted:
// kept, not used (Article 18), until the restriction is lifted; recorded in the case's timeline.
// Returns the records affected. Errors: kFailedPrecondition when the case is closed, did not ask
// for restriction (or rectification, while accuracy is checked), or the register declares no
// dataset of module "subject" for the marks.
Result<int64_t> RestrictCase(subject::Directory& dir, Cases& cases, const Case& c, bool on, const Actor& actor);
// Whether the case's latest restriction step restricted (true) or lifted (false); false when none.
bool Restricted(const Case& c);

}  // namespace steward::rights
