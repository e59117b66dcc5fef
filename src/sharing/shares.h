// Partners' shares: what a partner organisation the register names as a recipient is given of the
// account holders' details, on the record. The site file says, for each partner, which dataset it
// receives, which of its fields, on which basis (the register's recipient), and how: collected by
// the partner through an API key of scope "share:<partner>", or as a file sealed to the partner's
// public key (libsodium's sealed box) that only the partner can open. A share built on consent
// (market research) holds only the people whose box says yes now; nobody restricted, or whose
// objection a rights request upheld, is ever included. Each share is recorded per person (a keyed
// hash of their identifiers), so a rights request says who has had their data and whom to tell of
// a correction or an erasure.
//
//   [sharing]
//   dataset = "share-log"
//   [[sharing.partners]]
//   id = "market-research"
//   recipient = "market-research"
//   dataset = "survey-consent"
//   consent = "surveys"
//   fields = ["name", "email", "phone"]
//   delivery = "sealed-file"
//   public_key = "<64 hex characters>"
//
// Privacy: reads the accounts' datasets a partner receives; keeps the register's dataset of module
// "sharing" ([sharing] dataset): the shares and keyed hashes of who was in each.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "config/config.h"
#include "core/result.h"
#include "module/module.h"
#include "subject/restrictions.h"

namespace steward::sharing {

enum class Delivery { kApi, kSealedFile };

struct Partner {
  std::string id;
  std::string recipient, recipient_name, basis;  // the register's recipient, its name and basis
  std::string dataset;                           // what it receives
  std::string consent;                           // the accounts box a consent-based share needs
  std::vector<std::string> fields;               // "email" and declared account fields' ids
  Delivery delivery = Delivery::kApi;
  std::string public_key;  // kSealedFile: 32 bytes
};

struct Settings {
  std::string dataset;  // the share log's, of module "sharing"
  std::vector<Partner> partners;
  const Partner* Find(std::string_view id) const;
};

// Reads [sharing] with the register and [accounts]; nullopt when the site has none. Errors:
// kInvalidArgument with FILE:LINE:COLUMN for each problem: a recipient, dataset or box not
// declared, a dataset that does not name the recipient, a consent-based recipient without a box,
// a field the dataset does not declare, a bad public key.
Result<std::optional<Settings>> ReadSettings(const config::Config& config, const processing::Register& reg);

// One person in a share: their account and the fields given (field id -> value).
struct Person {
  int64_t account = 0;
  std::map<std::string, std::string> fields;
};

struct ShareRecord {
  int64_t id = 0;
  std::string partner, made_at, made_by, how;
  int64_t people = 0;
};

class Shares {
 public:
  // Everything must outlive this.
  Shares(module::Platform& p, Settings settings, std::shared_ptr<accounts::Accounts> accounts);

  static std::vector<store::Migration> Migrations();
  static retention::ModuleStorage Storage();
  const Settings& settings() const { return s_; }

  // Who `partner`'s share holds now.
  Result<std::vector<Person>> Build(const Partner& partner) const;
  // Builds the share, records it per person and audits it; returns its JSON. `how`: "api",
  // "sealed-file".
  Result<std::string> Make(const Partner& partner, const std::string& actor, const std::string& request_id,
                           const std::string& how);
  // The shares made, newest first.
  Result<std::vector<ShareRecord>> History(size_t limit = 100) const;
  // The shares `key` was in: (partner id, made_at), oldest first.
  Result<std::vector<std::pair<std::string, std::string>>> About(const subject::Key& key) const;
  // Forgets that `key` was in any share (erasure). Returns the rows removed.
  Result<int64_t> Forget(store::Connection& c, const subject::Key& key) const;

 private:
  std::string PersonHash(const subject::Key& key) const;
  module::Platform& p_;
  Settings s_;
  std::shared_ptr<accounts::Accounts> accounts_;
  std::string hash_key_;
};

// The share log's part of the subject-data contract: whom the person's details were shared with.
class ShareSubjects : public subject::StoredSubjectData {
 public:
  ShareSubjects(Deps deps, Shares& shares) : StoredSubjectData(std::move(deps)), shares_(shares) {}
  std::vector<subject::KeyKind> Kinds() const override {
    return {subject::KeyKind::kEmail, subject::KeyKind::kAccountId, subject::KeyKind::kSubjectId};
  }
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;

 private:
  Shares& shares_;
};

}  // namespace steward::sharing
