#include "subject/restrictions.h"

#include <algorithm>

namespace steward::subject {

std::string PseudonymKey(const crypto::SecretKey& key) {
  auto k = key.DeriveKey("subjpsdn");
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

Restrictions::Restrictions(const crypto::SecretKey& key, const Clock& clock, const processing::Register* reg)
    : clock_(clock), reg_(reg) {
  auto k = key.DeriveKey("subjrstr");
  hash_key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
}

std::vector<store::Migration> Restrictions::Migrations() {
  return {{"subject", 1, R"sql(
    -- Privacy: subject-restrictions. Which module must keep but not use a person's data, under a
    -- keyed hash of the identifier they were found by; never the identifier itself.
    CREATE TABLE subject_restrictions (
      module TEXT NOT NULL,
      key_hash BLOB NOT NULL,
      since TEXT NOT NULL,
      PRIMARY KEY (module, key_hash)
    );
  )sql"}};
}

retention::ModuleStorage Restrictions::Storage() {
  return {.module = "subject",
          .personal_tables = {"subject_restrictions"},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t) -> Result<int64_t> {
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows,
                                       c.Query("SELECT COUNT(*) FROM subject_restrictions WHERE since < ?", {cutoff}));
              return rows.front().Int(0);
            }
            return c.Exec("DELETE FROM subject_restrictions WHERE since < ?", {cutoff});
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "subject"; });
              }};
}

std::string Restrictions::Hash(std::string_view module, const Key& key) const {
  // Privacy: subject-restrictions. The identifier reduced to a keyed hash per module.
  return crypto::Hash(std::string(module) + '\0' + std::string(KindName(key.kind())) + '\0' + key.value(), hash_key_);
}

Result<int64_t> Restrictions::Set(store::Connection& c, std::string_view module, const Key& key, bool on) const {
  if (on) {
    bool declared = reg_ && std::any_of(reg_->datasets.begin(), reg_->datasets.end(),
                                        [](const processing::Dataset& d) { return d.module == "subject"; });
    if (!declared) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "the register declares no dataset of module \"subject\" for restriction marks");
    }
    return c.Exec("INSERT INTO subject_restrictions (module, key_hash, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                  {std::string(module), store::Blob{Hash(module, key)}, FormatRfc3339(clock_.Now())});
  }
  return Clear(c, module, key);
}

Result<bool> Restrictions::IsRestricted(store::Connection& c, std::string_view module, const Key& key) const {
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1 FROM subject_restrictions WHERE module = ? AND key_hash = ?",
                                              {std::string(module), store::Blob{Hash(module, key)}}));
  return !rows.empty();
}

Result<int64_t> Restrictions::Clear(store::Connection& c, std::string_view module, const Key& key) const {
  return c.Exec("DELETE FROM subject_restrictions WHERE module = ? AND key_hash = ?",
                {std::string(module), store::Blob{Hash(module, key)}});
}

Result<std::vector<std::string>> Restrictions::Marks(store::Connection& c, std::string_view module) const {
  STEWARD_ASSIGN_OR_RETURN(
      auto rows, c.Query("SELECT key_hash FROM subject_restrictions WHERE module = ?", {std::string(module)}));
  std::vector<std::string> out;
  for (const auto& r : rows) {
    if (const auto* b = std::get_if<store::Blob>(&r.at(0))) out.push_back(b->bytes);
  }
  return out;
}

Result<MarkSet> Restrictions::Load(store::Connection& c, std::vector<std::string> modules) const {
  MarkSet out;
  out.restrictions_ = this;
  for (const auto& module : modules) {
    STEWARD_ASSIGN_OR_RETURN(auto marks, Marks(c, module));
    for (auto& m : marks) out.marks_.insert(module + '\0' + m);
  }
  out.modules_ = std::move(modules);
  return out;
}

bool MarkSet::Any(std::initializer_list<std::pair<KeyKind, std::string_view>> ids) const {
  if (marks_.empty()) return false;
  for (const auto& [kind, value] : ids) {
    auto key = Key::Make(kind, value);
    if (!key.ok()) continue;
    for (const auto& module : modules_) {
      if (marks_.contains(module + '\0' + restrictions_->Hash(module, *key))) return true;
    }
  }
  return false;
}

std::string StoredSubjectData::Dataset() const {
  if (d_.reg) {
    for (const auto& d : d_.reg->datasets) {
      if (d.module == d_.module) return d.id;
    }
  }
  return d_.module;
}

Result<bool> StoredSubjectData::Restricted(const Key& key) {
  bool restricted = false;
  STEWARD_RETURN_IF_ERROR(d_.store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(restricted, d_.restrictions.IsRestricted(c, d_.module, key));
    return Ok();
  }));
  return restricted;
}

Status StoredSubjectData::AuditIn(store::Connection& c, std::string action, const Key& key, const Actor& actor,
                                  std::vector<std::pair<std::string, std::string>> counts) {
  std::vector<std::pair<std::string, std::string>> details = {{"module", d_.module},
                                                              {"kind", std::string(KindName(key.kind()))},
                                                              {"subject", Pseudonym(key, d_.pseudonym_key)}};
  if (!actor.reference.empty()) details.emplace_back("reference", actor.reference);
  for (auto& kv : counts) details.push_back(std::move(kv));
  return d_.trail.AppendIn(c, {.actor = actor.actor,
                               .action = std::move(action),
                               .target = "dataset:" + Dataset(),
                               .request_id = actor.request_id,
                               .details = std::move(details)});
}

Result<int64_t> StoredSubjectData::Restrict(const Key& key, bool on, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(Finding found, Find(key));
  int64_t records = 0;
  for (const auto& h : found.holdings) records += h.count;
  STEWARD_RETURN_IF_ERROR(d_.store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t changed, d_.restrictions.Set(c, d_.module, key, on));
    if (changed == 0) return Ok();
    return AuditIn(c, on ? "subject.restricted" : "subject.restriction_lifted", key, actor,
                   {{"records", std::to_string(records)}});
  }));
  return records;
}

}  // namespace steward::subject
