// The rights module's part of the subject-data contract: the requests a person made, found by
// their email address (the keyed hash, decrypting nothing), exported with what they asked and how
// each was answered. Erasure keeps them: the record that a request was answered is what shows the
// law was kept (UK GDPR Article 5(2)), for the register's retention after it closes; the person's
// own key, elsewhere, is destroyed all the same, since a case is sealed under a key of its own.
//
// Privacy: the register's dataset of module "rights" ([rights] dataset).
#pragma once

#include <memory>

#include "rights/cases.h"
#include "subject/restrictions.h"

namespace steward::rights {

class CaseSubjects : public subject::StoredSubjectData {
 public:
  // `cases` must outlive this.
  CaseSubjects(Deps deps, Cases& cases) : StoredSubjectData(std::move(deps)), cases_(cases) {}

  std::vector<subject::KeyKind> Kinds() const override { return {subject::KeyKind::kEmail}; }
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  // Erases nothing: answers with the exemption when the person made a request.
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;

  static constexpr const char* kExemption =
      "the record of a rights request shows it was answered and on time (UK GDPR Article 5(2)); it is kept for the "
      "register's retention after the request closes, sealed under a key of its own";

 private:
  Cases& cases_;
};

}  // namespace steward::rights
