// The consent module's part of the subject-data contract (subject/subject.h): the consent records
// of one consent id, the reference the visitor's essential cookie holds and /cookies shows.
//
// Thread safety: safe for concurrent use.
#pragma once

#include "consent/records.h"
#include "subject/restrictions.h"

namespace steward::consent {

class ConsentSubjects : public subject::StoredSubjectData {
 public:
  ConsentSubjects(Deps deps, const Clock& clock, const crypto::SecretKey& key)
      : StoredSubjectData(std::move(deps)), records_(deps_store(), clock, key) {}

  std::vector<subject::KeyKind> Kinds() const override { return {subject::KeyKind::kConsentId}; }
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  // Deletes every record of the consent id: with no choice on record, the visitor is asked again.
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;

 private:
  store::Store& deps_store() { return deps().store; }
  Records records_;
};

}  // namespace steward::consent
