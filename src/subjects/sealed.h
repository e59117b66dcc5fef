// The subject-data contract for what modules seal in the subject store (subjects.h).
//
// A module that keeps what members of the public give declares its tables: which columns are
// sealed under the subject's key, which are plain, and the register's data category of each. One
// SealedData then answers rights requests for them all: found by an email address, telephone
// number or handle (the blind index) or by the subject's id; exported with the sealed fields
// opened; erased by deleting the rows and, when nothing else names the subject, destroying its
// key, so the copies in backups can no longer be read either; rectified by sealing the new value.
//
//   subjects::SealedData data(platform.SubjectDeps(kFeedback), platform.key, platform.clock,
//       {{.table = "feedback_items", .time_column = "received_at",
//         .columns = {{"message", "user.content", "Message", true}, {"page", "user.behavior", "Page"}}}});
//
// Thread safety: safe for concurrent use.
#pragma once

#include <string>
#include <vector>

#include "subject/restrictions.h"
#include "subjects/subjects.h"

namespace steward::subjects {

struct Column {
  std::string name;      // the column: "message"
  std::string category;  // the register's data category: "user.content.feedback"
  std::string title;     // for the person reading their export: "Your message"
  bool sealed = false;   // a BLOB sealed under the subject's key, for the field "<table>.<name>"
};

struct SealedTable {
  std::string table;        // has a subject_id column
  std::string time_column;  // when each row was collected (RFC 3339): the export's order
  std::vector<Column> columns;
  std::string dataset;  // the register's dataset id; empty: the module's first
};

class SealedData : public subject::StoredSubjectData {
 public:
  // `key` and `clock` must outlive this.
  SealedData(Deps deps, const crypto::SecretKey& key, const Clock& clock, std::vector<SealedTable> tables);

  std::vector<subject::KeyKind> Kinds() const override;
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  // Deletes the subject's rows in every table, then destroys the key unless another module's row
  // still names the subject.
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;
  // Seals `value` into every sealed column of `category` (an email address is checked, and then
  // leads to the subject instead of the old one).
  Result<int64_t> Rectify(const subject::Key& key, std::string_view category, std::string_view value,
                          const subject::Actor& actor) override;

  const SubjectStore& store() const { return subjects_; }

 private:
  // The subject `key` names, if it has a key.
  Result<std::optional<std::string>> SubjectOf(store::Connection& c, const subject::Key& key) const;
  std::string DatasetOf(const SealedTable& t) const { return t.dataset.empty() ? Dataset() : t.dataset; }

  SubjectStore subjects_;
  std::vector<SealedTable> tables_;
};

}  // namespace steward::subjects
