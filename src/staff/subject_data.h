// The staff module's part of the subject-data contract (subject/subject.h): staff are people too.
// A staff member is found by their email address or their account id ("staff:12"); each links to
// the other, so the audit trail's entries naming them as the actor are found from their email.
//
// Erasure removes a disabled account with its sessions, codes and links (as the retention purge
// does once the register's period has run); an account still enabled is refused, since it is how
// the person does their job: disable it first. The email address can be corrected.
//
// Thread safety: safe for concurrent use.
#pragma once

#include "subject/restrictions.h"

namespace steward::staff {

class StaffSubjects : public subject::StoredSubjectData {
 public:
  explicit StaffSubjects(Deps deps) : StoredSubjectData(std::move(deps)) {}

  std::vector<subject::KeyKind> Kinds() const override {
    return {subject::KeyKind::kEmail, subject::KeyKind::kAccountId};
  }
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  // Errors: kFailedPrecondition for an account still enabled.
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;
  // "user.contact.email" only. Errors: kInvalidArgument (another category, a malformed address),
  // kAlreadyExists (another account has it).
  Result<int64_t> Rectify(const subject::Key& key, std::string_view category, std::string_view value,
                          const subject::Actor& actor) override;

 private:
  // The account's id for `key`, or 0 when there is none.
  Result<int64_t> AccountOf(store::Connection& c, const subject::Key& key) const;
};

}  // namespace steward::staff
