// The subject store: what members of the public give, kept so that it can be erased everywhere.
//
// A subject is a member of the public Steward holds data about. Each has an id (32 hex characters:
// the second it was made, then 96 random bits) and a data key of its own. A module keeps the personal fields it stores
// about them (names, email addresses, free text, handles) sealed under that key (XChaCha20-Poly1305, the table and
// column as associated data), in a column beside plain ones for what is not personal (page, rating, dates, status), and
// names the subject in a column called `subject_id`.
//
// Finding a subject by an identifier never decrypts anything: a blind index (a keyed hash of the
// normalised email address, telephone number or handle) leads to the subject's id.
//
// Erasing a subject destroys its key: every field sealed under it, in the live database and in
// every backup taken before, can no longer be read. The keys are in their own table
// (subject_keys), each wrapped under a sub-key of the site's secret key; `steward backup` leaves
// them out of the database's copy and writes them to a file of their own, which is kept for a
// shorter time (docs/backups.md).
//
//   subjects::SubjectStore subjects(key, clock);
//   store.Write([&](store::Connection& c) -> Status {
//     STEWARD_ASSIGN_OR_RETURN(std::string id, subjects.ForIdentifier(c, *email));  // or Create(c)
//     STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, id));
//     std::string sealed = keys->Seal("feedback_items.message", message);
//     return c.Exec("INSERT INTO feedback_items (subject_id, message) VALUES (?, ?)",
//                   {id, store::Blob{sealed}}).status();
//   });
//
// A key no row refers to (no column named subject_id in any table names it) is destroyed by
// Sweep, so a subject lives exactly as long as something is kept about them.
//
// Thread safety: SubjectStore and SubjectKeys are safe for concurrent use; every method works in
// the caller's transaction.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "subject/subject.h"

namespace steward::subjects {

// One subject's data key, unwrapped for the caller's use. Wiped when destroyed.
class SubjectKeys {
 public:
  ~SubjectKeys();
  SubjectKeys(SubjectKeys&& o) noexcept;
  SubjectKeys& operator=(SubjectKeys&&) = delete;
  SubjectKeys(const SubjectKeys&) = delete;

  const std::string& subject_id() const { return id_; }
  // Seals `plaintext` for the field `field` ("feedback_items.message"): a box that opens only
  // with this key and the same field name.
  std::string Seal(std::string_view field, std::string_view plaintext) const;
  // Opens a box Seal made. nullopt when it was sealed for another field or subject, or altered.
  std::optional<std::string> Open(std::string_view field, std::string_view sealed) const;

 private:
  friend class SubjectStore;
  SubjectKeys(std::string id, std::string key) : id_(std::move(id)), key_(std::move(key)) {}
  std::string id_;
  std::string key_;
};

// The kinds of identifier that lead to a subject through the blind index.
bool Indexed(subject::KeyKind kind);

class SubjectStore {
 public:
  // `key` must outlive the store.
  SubjectStore(const crypto::SecretKey& key, const Clock& clock);
  ~SubjectStore();
  SubjectStore(const SubjectStore&) = delete;
  SubjectStore& operator=(const SubjectStore&) = delete;

  static std::vector<store::Migration> Migrations();
  static constexpr const char* kKeysTable = "subject_keys";
  static constexpr const char* kIndexTable = "subject_identifiers";

  // A new subject with a fresh key and no identifier (an anonymous report's free text).
  Result<std::string> Create(store::Connection& c) const;
  // The subject `key` leads to, or a new one the key is then linked to. Errors: kInvalidArgument
  // for a kind that is not indexed (Indexed).
  Result<std::string> ForIdentifier(store::Connection& c, const subject::Key& key) const;
  // The subject `key` leads to, if any. Decrypts nothing.
  Result<std::optional<std::string>> Lookup(store::Connection& c, const subject::Key& key) const;
  // Links `key` to subject `id` as well. Errors: kAlreadyExists when it leads to another subject,
  // kNotFound when `id` has no key (erased), kInvalidArgument for a kind not indexed.
  Status Link(store::Connection& c, std::string_view id, const subject::Key& key) const;

  // Stops `key` leading to its subject (a corrected email address). Returns whether it did.
  Result<bool> Unlink(store::Connection& c, const subject::Key& key) const;

  // The subject's key, or nullopt once erased (what was sealed under it can no longer be read).
  Result<std::optional<SubjectKeys>> Keys(store::Connection& c, std::string_view id) const;
  // Destroys the subject's key and its identifiers. Returns whether there was a key to destroy.
  Result<bool> Destroy(store::Connection& c, std::string_view id) const;

  // Destroys the subject's key when no row of any table names it any more (after a module erased
  // what it held: another module may still hold something under the same key). Returns whether it
  // was destroyed.
  Result<bool> DestroyIfUnused(store::Connection& c, std::string_view id) const;
  // Destroys the keys made before `before` (RFC 3339) that no row of any table names in a column
  // called subject_id. Returns how many. A write: Unused, then DestroyUnused, on `c`.
  Result<int64_t> Sweep(store::Connection& c, const std::string& before) const;
  // The sweep in two steps, so that its reading holds no write back: the keys made before
  // `before` that no row names, read on any connection (a reader's: every key is looked at), then,
  // on the writer a batch at a time, those of them no row names still (something may have named
  // one since). DestroyUnused returns how many it destroyed.
  Result<std::vector<std::string>> Unused(store::Connection& c, const std::string& before) const;
  Result<int64_t> DestroyUnused(store::Connection& c, const std::vector<std::string>& ids) const;
  // How many subjects have a key now (for /metrics and tests).
  static Result<int64_t> Count(store::Connection& c);

 private:
  std::string IndexHash(const subject::Key& key) const;
  // " AND NOT EXISTS (...)" for every table with a subject_id column, over subject_keys k.
  Result<std::string> Unreferenced(store::Connection& c) const;
  std::string wrap_key_;   // wraps each subject's data key
  std::string index_key_;  // the blind index's hash key
  const Clock& clock_;
};

// The tables `steward backup` leaves out of the database's copy: the keys and the blind index.
// Erasing a subject deletes their rows; a copy of the database made before holds the sealed
// fields but no key to read them, nor a way to tell whose they were.
const std::vector<std::string>& KeyTables();

// Writes the subject keys and the blind index to a new SQLite file at `to` (mode 0600; never
// overwrites), for the keys' own, shorter backup rotation. Works from either backend. Returns how
// many keys. Errors: kAlreadyExists, kIo.
Result<int64_t> BackUpKeys(store::Store& from, const std::string& to);
// Puts back into `into` the keys and identifiers of a file BackUpKeys wrote that it lacks, after
// the database was restored from a backup. A key no row names is swept later, as any other.
// Returns how many keys were put back. Errors: kNotFound, kDataLoss (not such a file).
Result<int64_t> RestoreKeys(store::Store& into, const std::string& from);

}  // namespace steward::subjects
