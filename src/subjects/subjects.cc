#include "subjects/subjects.h"

#include <sodium.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/strings.h"

namespace steward::subjects {
namespace {

constexpr size_t kDataKeyBytes = 32;

std::string Derived(const crypto::SecretKey& key, std::string_view context) {
  auto k = key.DeriveKey(context);
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

bool ValidId(std::string_view id) {
  return id.size() == 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The associated data a subject's wrapped key is sealed with: it opens only for its own row.
std::string WrapContext(std::string_view id) { return "subject_keys.data_key:" + std::string(id); }

}  // namespace

SubjectKeys::~SubjectKeys() { sodium_memzero(key_.data(), key_.size()); }

SubjectKeys::SubjectKeys(SubjectKeys&& o) noexcept : id_(std::move(o.id_)), key_(std::move(o.key_)) { o.key_.clear(); }

std::string SubjectKeys::Seal(std::string_view field, std::string_view plaintext) const {
  return crypto::SealAead(key_, plaintext, field);
}

std::optional<std::string> SubjectKeys::Open(std::string_view field, std::string_view sealed) const {
  return crypto::OpenAead(key_, sealed, field);
}

bool Indexed(subject::KeyKind kind) {
  return kind == subject::KeyKind::kEmail || kind == subject::KeyKind::kTelephone || kind == subject::KeyKind::kHandle;
}

SubjectStore::SubjectStore(const crypto::SecretKey& key, const Clock& clock)
    : wrap_key_(Derived(key, "subjwrap")), index_key_(Derived(key, "subjindx")), clock_(clock) {}

SubjectStore::~SubjectStore() {
  sodium_memzero(wrap_key_.data(), wrap_key_.size());
  sodium_memzero(index_key_.data(), index_key_.size());
}

std::vector<store::Migration> SubjectStore::Migrations() {
  return {{"subjects", 1, R"sql(
    -- Each subject's data key, wrapped under a sub-key of the site's secret key. Destroying the
    -- row is erasure: nothing sealed under the key can be read again, here or in any backup.
    -- Left out of `steward backup`'s copy of the database, and backed up apart (docs/backups.md).
    CREATE TABLE subject_keys (
      id TEXT PRIMARY KEY,
      data_key BLOB NOT NULL,
      created_at TEXT NOT NULL
    );
    -- The blind index: a keyed hash of a normalised identifier (email address, telephone number,
    -- handle) leads to the subject's id without anything being decrypted.
    CREATE TABLE subject_identifiers (
      hash BLOB PRIMARY KEY,
      subject_id TEXT NOT NULL
    );
    CREATE INDEX subject_identifiers_by_subject ON subject_identifiers (subject_id);
  )sql"}};
}

std::string SubjectStore::IndexHash(const subject::Key& key) const {
  // Privacy: the identifier is reduced to a keyed hash here and kept only as that.
  return crypto::Hash(std::string(subject::KindName(key.kind())) + '\0' + key.value(), index_key_);
}

Result<std::string> SubjectStore::Create(store::Connection& c) const {
  // 32 hex digits: the second it was made, then 96 random bits. New ids sort after old ones, so a
  // busy form adds to the end of the keys' index instead of touching a random page of it.
  char when[9];
  std::snprintf(
      when, sizeof when, "%08llx",
      static_cast<unsigned long long>(
          std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count() & 0xffffffffULL));
  std::string id = when + crypto::RandomHex(12);
  std::string data_key = crypto::RandomBytes(kDataKeyBytes);
  std::string wrapped = crypto::SealAead(wrap_key_, data_key, WrapContext(id));
  sodium_memzero(data_key.data(), data_key.size());
  STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO subject_keys (id, data_key, created_at) VALUES (?, ?, ?)",
                                 {id, store::Blob{std::move(wrapped)}, FormatRfc3339(clock_.Now())}));
  return id;
}

Result<std::optional<std::string>> SubjectStore::Lookup(store::Connection& c, const subject::Key& key) const {
  if (!Indexed(key.kind())) return std::optional<std::string>();
  STEWARD_ASSIGN_OR_RETURN(
      auto rows, c.Query("SELECT subject_id FROM subject_identifiers WHERE hash = ?", {store::Blob{IndexHash(key)}}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows.front().Text(0));
}

Result<std::string> SubjectStore::ForIdentifier(store::Connection& c, const subject::Key& key) const {
  if (!Indexed(key.kind())) {
    return MakeError(ErrorCode::kInvalidArgument, "a subject is found by an email address, telephone number or handle");
  }
  STEWARD_ASSIGN_OR_RETURN(auto found, Lookup(c, key));
  if (found) {
    // A subject whose key was destroyed keeps no identifiers, so a found one still has its key.
    return *found;
  }
  STEWARD_ASSIGN_OR_RETURN(std::string id, Create(c));
  STEWARD_RETURN_IF_ERROR(Link(c, id, key));
  return id;
}

Status SubjectStore::Link(store::Connection& c, std::string_view id, const subject::Key& key) const {
  if (!Indexed(key.kind())) {
    return MakeError(ErrorCode::kInvalidArgument, "a subject is found by an email address, telephone number or handle");
  }
  STEWARD_ASSIGN_OR_RETURN(auto has, c.Query("SELECT 1 FROM subject_keys WHERE id = ?", {std::string(id)}));
  if (has.empty()) return MakeError(ErrorCode::kNotFound, "the subject has been erased");
  STEWARD_ASSIGN_OR_RETURN(auto found, Lookup(c, key));
  if (found) {
    if (*found == id) return Ok();
    return MakeError(ErrorCode::kAlreadyExists, "the identifier leads to another subject already");
  }
  STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO subject_identifiers (hash, subject_id) VALUES (?, ?)",
                                 {store::Blob{IndexHash(key)}, std::string(id)}));
  return Ok();
}

Result<bool> SubjectStore::Unlink(store::Connection& c, const subject::Key& key) const {
  if (!Indexed(key.kind())) return false;
  STEWARD_ASSIGN_OR_RETURN(int64_t n,
                           c.Exec("DELETE FROM subject_identifiers WHERE hash = ?", {store::Blob{IndexHash(key)}}));
  return n > 0;
}

Result<std::optional<SubjectKeys>> SubjectStore::Keys(store::Connection& c, std::string_view id) const {
  if (!ValidId(id)) return std::optional<SubjectKeys>();
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT data_key FROM subject_keys WHERE id = ?", {std::string(id)}));
  if (rows.empty()) return std::optional<SubjectKeys>();
  auto key = crypto::OpenAead(wrap_key_, rows.front().Text(0), WrapContext(id));
  if (!key || key->size() != kDataKeyBytes) {
    return MakeError(ErrorCode::kDataLoss, "a subject's key does not open under the site's secret key");
  }
  return std::optional<SubjectKeys>(SubjectKeys(std::string(id), std::move(*key)));
}

Result<bool> SubjectStore::Destroy(store::Connection& c, std::string_view id) const {
  // The wrapped key is overwritten before its row goes, so the page that held it keeps nothing.
  STEWARD_ASSIGN_OR_RETURN(int64_t overwritten,
                           c.Exec("UPDATE subject_keys SET data_key = ? WHERE id = ?",
                                  {store::Blob{crypto::RandomBytes(24 + kDataKeyBytes + 16)}, std::string(id)}));
  STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM subject_identifiers WHERE subject_id = ?", {std::string(id)}));
  STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM subject_keys WHERE id = ?", {std::string(id)}));
  return overwritten > 0;
}

Result<std::string> SubjectStore::Unreferenced(store::Connection& c) const {
  STEWARD_ASSIGN_OR_RETURN(auto tables, c.TableNames());
  std::string clause;
  for (const auto& table : tables) {
    if (table == kKeysTable || table == kIndexTable) continue;
    STEWARD_ASSIGN_OR_RETURN(auto columns, c.Columns(table));
    if (std::find(columns.begin(), columns.end(), "subject_id") == columns.end()) continue;
    // Table names come from the database's own catalogue, never from input.
    clause += " AND NOT EXISTS (SELECT 1 FROM " + table + " r WHERE r.subject_id = k.id)";
  }
  return clause;
}

Result<int64_t> SubjectStore::Sweep(store::Connection& c, const std::string& before) const {
  STEWARD_ASSIGN_OR_RETURN(auto ids, Unused(c, before));
  return DestroyUnused(c, ids);
}

Result<std::vector<std::string>> SubjectStore::Unused(store::Connection& c, const std::string& before) const {
  STEWARD_ASSIGN_OR_RETURN(std::string unreferenced, Unreferenced(c));
  std::vector<std::string> ids;
  STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT k.id FROM subject_keys k WHERE k.created_at < ?" + unreferenced, {before},
                                    [&](const store::Row& r) {
                                      ids.push_back(r.Text(0));
                                      return true;
                                    }));
  return ids;
}

Result<int64_t> SubjectStore::DestroyUnused(store::Connection& c, const std::vector<std::string>& ids) const {
  if (ids.empty()) return int64_t{0};
  STEWARD_ASSIGN_OR_RETURN(std::string unreferenced, Unreferenced(c));
  const std::string still = "SELECT 1 FROM subject_keys k WHERE k.id = ?" + unreferenced;
  int64_t destroyed = 0;
  for (const auto& id : ids) {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(still, {id}));
    if (rows.empty()) continue;
    STEWARD_ASSIGN_OR_RETURN(bool gone, Destroy(c, id));
    destroyed += gone ? 1 : 0;
  }
  return destroyed;
}

Result<bool> SubjectStore::DestroyIfUnused(store::Connection& c, std::string_view id) const {
  STEWARD_ASSIGN_OR_RETURN(std::string unreferenced, Unreferenced(c));
  STEWARD_ASSIGN_OR_RETURN(auto rows,
                           c.Query("SELECT k.id FROM subject_keys k WHERE k.id = ?" + unreferenced, {std::string(id)}));
  if (rows.empty()) return false;
  return Destroy(c, id);
}

const std::vector<std::string>& KeyTables() {
  static const std::vector<std::string> tables = {SubjectStore::kKeysTable, SubjectStore::kIndexTable};
  return tables;
}

namespace {

// Copies the keys and the blind index from `r` to `w`; with `keep_existing`, rows `w` has already
// are left alone. Returns the keys inserted.
Result<int64_t> CopyKeyTables(store::Connection& r, store::Connection& w, bool keep_existing) {
  const std::string conflict = keep_existing ? " ON CONFLICT DO NOTHING" : "";
  int64_t keys = 0;
  Status inner = Ok();
  STEWARD_RETURN_IF_ERROR(
      r.ForEach("SELECT id, data_key, created_at FROM subject_keys", {}, [&](const store::Row& row) {
        auto n = w.Exec("INSERT INTO subject_keys (id, data_key, created_at) VALUES (?, ?, ?)" + conflict,
                        {row.Text(0), store::Blob{row.Text(1)}, row.Text(2)});
        if (!n.ok()) inner = n.error();
        keys += n.ok() ? *n : 0;
        return inner.ok();
      }));
  STEWARD_RETURN_IF_ERROR(inner);
  STEWARD_RETURN_IF_ERROR(r.ForEach("SELECT hash, subject_id FROM subject_identifiers", {}, [&](const store::Row& row) {
    auto n = w.Exec("INSERT INTO subject_identifiers (hash, subject_id) VALUES (?, ?)" + conflict,
                    {store::Blob{row.Text(0)}, row.Text(1)});
    if (!n.ok()) inner = n.error();
    return inner.ok();
  }));
  STEWARD_RETURN_IF_ERROR(inner);
  return keys;
}

}  // namespace

Result<int64_t> BackUpKeys(store::Store& from, const std::string& to) {
  if (std::filesystem::exists(to)) return MakeError(ErrorCode::kAlreadyExists, "keys backup " + to + " already exists");
  std::string partial = to + ".partial";
  std::filesystem::remove(partial);
  int64_t keys = 0;
  {
    // Privacy: the keys that read every member of the public's sealed fields; owner only.
    auto out = store::Store::Open({.path = partial, .readers = 1, .check_integrity = false});
    if (!out.ok()) return out.error();
    ::chmod(partial.c_str(), 0600);
    STEWARD_RETURN_IF_ERROR((*out)->Migrate(SubjectStore::Migrations()));
    Status copied = (*out)->Write([&](store::Connection& w) -> Status {
      return from.Read([&](store::Connection& r) -> Status {
        STEWARD_ASSIGN_OR_RETURN(keys, CopyKeyTables(r, w, /*keep_existing=*/false));
        return Ok();
      });
    });
    (*out)->Close();
    if (!copied.ok()) {
      std::filesystem::remove(partial);
      return copied.error();
    }
  }
  std::filesystem::remove(partial + "-wal");
  std::filesystem::remove(partial + "-shm");
  std::error_code ec;
  std::filesystem::rename(partial, to, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot move the keys backup into place at " + to + ": " + ec.message());
  return keys;
}

Result<int64_t> RestoreKeys(store::Store& into, const std::string& from) {
  if (!std::filesystem::exists(from)) return MakeError(ErrorCode::kNotFound, "no keys backup at " + from);
  auto in = store::Store::Open({.path = from, .readers = 1});
  if (!in.ok()) return in.error();
  int64_t restored = 0;
  Status s = into.Write([&](store::Connection& w) -> Status {
    return (*in)->Read([&](store::Connection& r) -> Status {
      auto tables = r.TableNames();
      if (!tables.ok() || std::find(tables->begin(), tables->end(), SubjectStore::kKeysTable) == tables->end()) {
        return MakeError(ErrorCode::kDataLoss, from + " is not a backup of subject keys");
      }
      STEWARD_ASSIGN_OR_RETURN(restored, CopyKeyTables(r, w, /*keep_existing=*/true));
      return Ok();
    });
  });
  (*in)->Close();
  if (!s.ok()) return s.error();
  return restored;
}

Result<int64_t> SubjectStore::Count(store::Connection& c) {
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM subject_keys"));
  return rows.front().Int(0);
}

}  // namespace steward::subjects
