// The accounts module's part of the subject-data contract: an account found by its email address,
// its id ("accounts:12") or its subject; exported with every field opened, its consents and its
// activity; erased to the minimum the register keeps after closing (named as the exemption), or
// entirely where the site keeps none; rectified field by field.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <map>
#include <string>

#include "accounts/accounts.h"
#include "subject/restrictions.h"

namespace steward::accounts {

class AccountSubjects : public subject::StoredSubjectData {
 public:
  // `accounts` must outlive this.
  AccountSubjects(Deps deps, Accounts& accounts) : StoredSubjectData(std::move(deps)), accounts_(accounts) {}

  std::vector<subject::KeyKind> Kinds() const override;
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;
  // `category` names a declared field's category, or user.contact.email for the account's address.
  Result<int64_t> Rectify(const subject::Key& key, std::string_view category, std::string_view value,
                          const subject::Actor& actor) override;

 private:
  // What an open account holds, as records by dataset (the account, each field, each consent event,
  // each referral).
  Result<std::map<std::string, int64_t>> Counts(const Account& a) const;
  Accounts& accounts_;
};

}  // namespace steward::accounts
