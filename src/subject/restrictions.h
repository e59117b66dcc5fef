// Restriction marks (UK GDPR Article 18): the identifiers whose data a module keeps but must not
// use until the mark is lifted. A mark names the module and a keyed hash of the identifier, never
// the identifier itself; a module's SubjectData sets and lifts marks inside its own writes, reports
// them in Find, and clears them when it erases the person.
//
// The marks are the register's dataset of module "subject". Setting one where the register
// declares no such dataset is refused: nothing is collected before it is declared.
//
// Thread safety: safe for concurrent use (the store serialises writes).
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "register/register.h"
#include "retention/retention.h"
#include "store/store.h"
#include "subject/subject.h"

namespace steward::subject {

// The key of the pseudonyms by which subject actions name a person in the audit trail.
std::string PseudonymKey(const crypto::SecretKey& key);

class Restrictions;

// The marks of some modules, read once, answering for a person known by several identifiers: for
// a module that walks many people (a mailing, a share, a count) and must leave out anyone
// restricted or whose objection was upheld.
//
//   STEWARD_ASSIGN_OR_RETURN(auto marks, restrictions.Load(c, {"accounts", "sharing"}));
//   if (marks.Any({{KeyKind::kAccountId, "accounts:7"}, {KeyKind::kEmail, email}})) continue;
class MarkSet {
 public:
  bool empty() const { return marks_.empty(); }
  // Whether any of the modules holds a mark for any of these identifiers (kind, value); an
  // identifier not of its kind's shape is no one's.
  bool Any(std::initializer_list<std::pair<KeyKind, std::string_view>> ids) const;

 private:
  friend class Restrictions;
  const Restrictions* restrictions_ = nullptr;
  std::vector<std::string> modules_;
  std::unordered_set<std::string> marks_;  // module, NUL, the mark's hash
};

class Restrictions {
 public:
  // `reg` may be null (no register: marks are refused). Everything must outlive this.
  Restrictions(const crypto::SecretKey& key, const Clock& clock, const processing::Register* reg);

  static std::vector<store::Migration> Migrations();
  // The table's storage for the retention runner: marks older than the dataset's retention go.
  static retention::ModuleStorage Storage();

  // Sets (on) or lifts (off) the mark of `module` for `key` in the caller's write. Returns 1 when
  // the mark changed, 0 when it was already so. Errors: kFailedPrecondition when the register
  // declares no dataset of module "subject".
  Result<int64_t> Set(store::Connection& c, std::string_view module, const Key& key, bool on) const;
  // Whether `module` holds a mark for `key`.
  Result<bool> IsRestricted(store::Connection& c, std::string_view module, const Key& key) const;
  // Removes the mark of `module` for `key` (when it erases the person). Returns marks removed.
  Result<int64_t> Clear(store::Connection& c, std::string_view module, const Key& key) const;
  // Every mark of `module`, as the keyed hashes Hash gives, for a module that checks identifiers
  // against them in memory (analytics, at each event).
  Result<std::vector<std::string>> Marks(store::Connection& c, std::string_view module) const;
  // The keyed hash a mark of `module` for `key` is kept under.
  std::string Hash(std::string_view module, const Key& key) const;
  // Every mark of these modules, to check many people against in memory.
  Result<MarkSet> Load(store::Connection& c, std::vector<std::string> modules) const;

 private:
  std::string hash_key_;
  const Clock& clock_;
  const processing::Register* reg_;
};

// What most modules' SubjectData share: the store, the audit trail, the restriction marks and the
// register's dataset ids for the module. Restrict sets or lifts the module's mark in one write with
// its audit entry; a module overrides it only when it restricts in its own tables.
class StoredSubjectData : public SubjectData {
 public:
  struct Deps {
    std::string module;  // the descriptor's id, as the register's datasets name it
    store::Store& store;
    audit::Trail& trail;
    const Restrictions& restrictions;
    const processing::Register* reg = nullptr;
    std::string pseudonym_key;  // for audit entries' subject pseudonyms
  };
  explicit StoredSubjectData(Deps deps) : d_(std::move(deps)) {}

  Result<int64_t> Restrict(const Key& key, bool on, const Actor& actor) override;

 protected:
  // The register's first dataset of this module (or the module's id when it declares none).
  std::string Dataset() const;
  // Whether this module's mark for `key` is set (read in a snapshot of its own).
  Result<bool> Restricted(const Key& key);
  // The audit entry of a subject action in the caller's write: actor, reference and request from
  // `actor`, the subject by pseudonym and kind, and `counts` (never contents).
  Status AuditIn(store::Connection& c, std::string action, const Key& key, const Actor& actor,
                 std::vector<std::pair<std::string, std::string>> counts);
  const Deps& deps() const { return d_; }

 private:
  Deps d_;
};

}  // namespace steward::subject
