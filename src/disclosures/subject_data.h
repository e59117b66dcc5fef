// The disclosure log's part of the subject-data contract: "who has had my data". A person's
// identifiers find the disclosures about them by keyed hash (decrypting nothing); their export says
// who asked, when, on what basis, what was decided and what was given; the bodies their data was
// given to are the recipients to tell of a correction or an erasure (Article 19). Erasure keeps the
// log: the record of a disclosure shows it was lawful, for the register's retention after it
// closes, sealed under a key of its own.
//
// Privacy: the register's dataset of module "disclosures" ([disclosures] dataset).
#pragma once

#include <string>

#include "disclosures/log.h"
#include "subject/restrictions.h"

namespace steward::disclosures {

class DisclosureSubjects : public subject::StoredSubjectData {
 public:
  // `log` must outlive this.
  DisclosureSubjects(Deps deps, Log& log, std::string dataset)
      : StoredSubjectData(std::move(deps)), log_(log), dataset_(std::move(dataset)) {}

  std::vector<subject::KeyKind> Kinds() const override { return subject::AllKinds(); }
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  // Erases nothing: answers with the exemption when a disclosure names the person.
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;

  static constexpr const char* kExemption =
      "the record of a disclosure to another body shows it was lawful (UK GDPR Article 5(2)); it is kept for the "
      "register's retention after the request closes, sealed under a key of its own";
  static constexpr const char* kCrimeNote =
      "a disclosure for the prevention or detection of crime: before telling the person, consider whether it would "
      "prejudice that purpose (DPA 2018 Schedule 2 paragraph 2)";

 private:
  Log& log_;
  std::string dataset_;
};

}  // namespace steward::disclosures
