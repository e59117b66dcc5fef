// The audit trail's part of the subject-data contract: the entries that name an account as the
// actor or the target ("staff:12"). The trail is append-only and hash-chained, kept as the
// register's audit dataset says: it is exported, never erased (the answer names the exemption).
//
// Thread safety: safe for concurrent use.
#pragma once

#include "subject/restrictions.h"

namespace steward::subject {

class AuditSubjects : public StoredSubjectData {
 public:
  explicit AuditSubjects(Deps deps) : StoredSubjectData(std::move(deps)) {}

  std::vector<KeyKind> Kinds() const override { return {KeyKind::kAccountId}; }
  Result<Finding> Find(const Key& key) override;
  Result<std::vector<Record>> Export(const Key& key) override;
  // Erases nothing: answers with the exemption when the trail names the account.
  Result<std::vector<Erasure>> Erase(const Key& key, const Actor& actor) override;

  // Why the trail is kept whatever is asked.
  static constexpr const char* kExemption =
      "the audit trail is the tamper-evident record of what was done with personal data (UK GDPR "
      "Articles 5(2) and 17(3)(b)); its entries are kept for the register's retention and then deleted";
};

}  // namespace steward::subject
