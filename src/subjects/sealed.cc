#include "subjects/sealed.h"

#include <map>

namespace steward::subjects {

using subject::Key;
using subject::KeyKind;

SealedData::SealedData(Deps deps, const crypto::SecretKey& key, const Clock& clock, std::vector<SealedTable> tables)
    : StoredSubjectData(std::move(deps)), subjects_(key, clock), tables_(std::move(tables)) {}

std::vector<KeyKind> SealedData::Kinds() const {
  return {KeyKind::kEmail, KeyKind::kTelephone, KeyKind::kHandle, KeyKind::kSubjectId};
}

Result<std::optional<std::string>> SealedData::SubjectOf(store::Connection& c, const Key& key) const {
  if (key.kind() == KeyKind::kSubjectId) return std::optional<std::string>(key.value());
  return subjects_.Lookup(c, key);
}

Result<subject::Finding> SealedData::Find(const Key& key) {
  subject::Finding out;
  std::map<std::string, int64_t> counts;
  // Privacy: counts the rows of this module's datasets that name the subject; opens nothing.
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto id, SubjectOf(c, key));
    if (!id) return Ok();
    for (const auto& t : tables_) {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM " + t.table + " WHERE subject_id = ?", {*id}));
      counts[DatasetOf(t)] += rows.front().Int(0);
    }
    return Ok();
  }));
  bool any = false;
  for (const auto& [dataset, n] : counts) any = any || n > 0;
  if (!any) return out;
  STEWARD_ASSIGN_OR_RETURN(bool restricted, Restricted(key));
  for (const auto& [dataset, n] : counts) {
    if (n > 0) out.holdings.push_back({.dataset = dataset, .count = n, .restricted = restricted});
  }
  return out;
}

Result<std::vector<subject::Record>> SealedData::Export(const Key& key) {
  std::vector<subject::Record> out;
  // Privacy: the subject's rows, their sealed fields opened for the person they are about.
  STEWARD_RETURN_IF_ERROR(deps().store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto id, SubjectOf(c, key));
    if (!id) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_.Keys(c, *id));
    for (const auto& t : tables_) {
      std::string sql = "SELECT " + t.time_column;
      for (const auto& col : t.columns) sql += ", " + col.name;
      sql += " FROM " + t.table + " WHERE subject_id = ? ORDER BY " + t.time_column;
      STEWARD_RETURN_IF_ERROR(c.ForEach(sql, {*id}, [&](const store::Row& r) {
        subject::Record record{.dataset = DatasetOf(t), .collected_at = r.Text(0)};
        for (size_t i = 0; i < t.columns.size(); ++i) {
          const Column& col = t.columns[i];
          if (r.IsNull(i + 1)) continue;
          std::string value = r.Text(i + 1);
          if (col.sealed) {
            auto opened = keys ? keys->Open(t.table + "." + col.name, value) : std::nullopt;
            // A key already destroyed: the field is gone for good, and the export says so.
            value = opened ? *opened : "(erased: it can no longer be read)";
          }
          if (value.empty()) continue;
          record.fields.push_back({col.category, col.title, std::move(value)});
        }
        out.push_back(std::move(record));
        return true;
      }));
    }
    return Ok();
  }));
  return out;
}

Result<std::vector<subject::Erasure>> SealedData::Erase(const Key& key, const subject::Actor& actor) {
  std::map<std::string, int64_t> erased;
  // Privacy: the subject's rows are deleted, then their key unless another module still names it.
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    erased.clear();
    STEWARD_ASSIGN_OR_RETURN(auto id, SubjectOf(c, key));
    if (!id) return Ok();
    int64_t total = 0;
    for (const auto& t : tables_) {
      STEWARD_ASSIGN_OR_RETURN(int64_t n, c.Exec("DELETE FROM " + t.table + " WHERE subject_id = ?", {*id}));
      erased[DatasetOf(t)] += n;
      total += n;
    }
    STEWARD_ASSIGN_OR_RETURN(int64_t marks, deps().restrictions.Clear(c, deps().module, key));
    STEWARD_ASSIGN_OR_RETURN(bool destroyed, subjects_.DestroyIfUnused(c, *id));
    if (total == 0 && marks == 0 && !destroyed) return Ok();
    return AuditIn(c, "subject.erased", key, actor,
                   {{"erased", std::to_string(total)}, {"key_destroyed", destroyed ? "yes" : "no"}});
  }));
  std::vector<subject::Erasure> out;
  out.reserve(erased.size());
  for (const auto& [dataset, n] : erased) out.push_back({.dataset = dataset, .erased = n});
  return out;
}

Result<int64_t> SealedData::Rectify(const Key& key, std::string_view category, std::string_view value,
                                    const subject::Actor& actor) {
  bool known = false;
  for (const auto& t : tables_) {
    for (const auto& col : t.columns) known = known || col.category == category;
  }
  if (!known) return MakeError(ErrorCode::kFailedPrecondition, "nothing this module holds is of that category");
  std::optional<Key> new_email;
  if (category == "user.contact.email") {
    STEWARD_ASSIGN_OR_RETURN(Key k, Key::Make(KeyKind::kEmail, value));
    new_email = std::move(k);
  }
  int64_t changed = 0;
  // Privacy: the corrected value is sealed under the subject's key in place of the old one.
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    changed = 0;
    STEWARD_ASSIGN_OR_RETURN(auto id, SubjectOf(c, key));
    if (!id) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_.Keys(c, *id));
    if (!keys) return Ok();
    if (new_email) {
      STEWARD_RETURN_IF_ERROR(subjects_.Link(c, *id, *new_email));
      if (key.kind() == KeyKind::kEmail && !(key == *new_email)) STEWARD_RETURN_IF_ERROR(subjects_.Unlink(c, key));
    }
    for (const auto& t : tables_) {
      for (const auto& col : t.columns) {
        if (col.category != category) continue;
        std::string sql =
            "UPDATE " + t.table + " SET " + col.name + " = ? WHERE subject_id = ? AND " + col.name + " IS NOT NULL";
        store::Value v = col.sealed ? store::Value(store::Blob{keys->Seal(t.table + "." + col.name, value)})
                                    : store::Value(std::string(value));
        STEWARD_ASSIGN_OR_RETURN(int64_t n, c.Exec(sql, {v, *id}));
        changed += n;
      }
    }
    if (changed == 0) return Ok();
    return AuditIn(c, "subject.rectified", key, actor, {{"changed", std::to_string(changed)}});
  }));
  return changed;
}

}  // namespace steward::subjects
