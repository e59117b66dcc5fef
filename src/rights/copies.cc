#include "rights/copies.h"

#include "core/strings.h"
#include "subjects/subjects.h"

namespace steward::rights {

struct Copies::Impl {
  store::Store& store;
  const Clock& clock;
  Cases& cases;
  subjects::SubjectStore subjects;
  std::string token_key;

  std::string TokenHash(std::string_view token) const { return HexEncode(crypto::Hash(token, token_key)); }
  std::string Now() const { return FormatRfc3339Millis(clock.Now()); }
};

Copies::Copies(store::Store& store, const crypto::SecretKey& key, const Clock& clock, Cases& cases)
    : impl_(new Impl{.store = store,
                     .clock = clock,
                     .cases = cases,
                     .subjects = subjects::SubjectStore(key, clock),
                     .token_key = [&] {
                       auto k = key.DeriveKey("rightscp");
                       return std::string(reinterpret_cast<const char*>(k.data()), k.size());
                     }()}) {}

Copies::~Copies() = default;

std::vector<store::Migration> Copies::Migrations() {
  return {{"rights", 4, R"sql(
    -- Privacy: rights requests. The copy of a person's data made for their case, sealed under the
    -- case's key, for the link emailed to them; deleted when the link expires.
    CREATE TABLE rights_copies (
      id INTEGER PRIMARY KEY,
      case_id INTEGER NOT NULL,
      token_hash TEXT NOT NULL UNIQUE,
      bundle BLOB NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      failures INTEGER NOT NULL DEFAULT 0,
      downloads INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX rights_copies_case ON rights_copies (case_id);
    CREATE INDEX rights_copies_expires ON rights_copies (expires_at);
  )sql"}};
}

Result<Copies::Kept> Copies::KeepIn(store::Connection& conn, const Case& c, std::string_view zip, int days) {
  // Privacy: rights requests: the person's data from every module, sealed under the case's key.
  STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(conn, c.subject_id));
  if (!keys) return MakeError(ErrorCode::kFailedPrecondition, c.reference + ": the case's key is gone");
  Kept kept{.token = crypto::RandomHex(24), .expires = impl_->clock.Now() + std::chrono::hours(24) * days};
  STEWARD_RETURN_IF_ERROR(conn.Exec(
      "INSERT INTO rights_copies (case_id, token_hash, bundle, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      {c.id, impl_->TokenHash(kept.token), store::Blob{keys->Seal("rights_copies.bundle", zip)}, impl_->Now(),
       FormatRfc3339Millis(kept.expires)}));
  return kept;
}

Result<bool> Copies::Live(std::string_view token) const {
  if (token.size() != 48) return false;
  bool live = false;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT 1 FROM rights_copies WHERE token_hash = ? AND expires_at > ? AND failures < ?",
                           {impl_->TokenHash(token), impl_->Now(), int64_t{kTries}}));
    live = !rows.empty();
    return Ok();
  }));
  return live;
}

Result<Copies::Download> Copies::Open(std::string_view token, std::string_view email, const Actor& actor) {
  if (token.size() != 48) return MakeError(ErrorCode::kNotFound, "this link is not right");
  Download out;
  bool wrong = false;
  Status written = impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT id, case_id, bundle FROM rights_copies WHERE token_hash = ? AND expires_at > ? AND "
                           "failures < ?",
                           {impl_->TokenHash(token), impl_->Now(), int64_t{kTries}}));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "this link has expired or is locked");
    int64_t id = rows.front().Int(0);
    out.case_id = rows.front().Int(1);
    out.reference = Cases::Reference(out.case_id);
    STEWARD_ASSIGN_OR_RETURN(bool theirs, impl_->cases.IsRequester(c, out.case_id, email));
    if (!theirs) {
      // Counted in this write, which commits: the error is returned after it.
      wrong = true;
      STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE rights_copies SET failures = failures + 1 WHERE id = ?", {id}));
      return Ok();
    }
    STEWARD_ASSIGN_OR_RETURN(auto subject, c.Query("SELECT subject_id FROM rights_cases WHERE id = ?", {out.case_id}));
    if (subject.empty()) return MakeError(ErrorCode::kNotFound, "the request is no longer held");
    // Privacy: rights requests: the copy opened for the person it is about.
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, subject.front().Text(0)));
    const auto* blob = std::get_if<store::Blob>(&rows.front().at(2));
    auto zip = keys && blob ? keys->Open("rights_copies.bundle", blob->bytes) : std::nullopt;
    if (!zip) return MakeError(ErrorCode::kNotFound, "the copy can no longer be read");
    out.zip = std::move(*zip);
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE rights_copies SET downloads = downloads + 1 WHERE id = ?", {id}));
    return impl_->cases.Record(c, out.case_id, "downloaded", "", actor);
  });
  STEWARD_RETURN_IF_ERROR(written);
  if (wrong) return MakeError(ErrorCode::kPermissionDenied, "that is not the address the request came from");
  return out;
}

Result<int64_t> Copies::DeleteFor(store::Connection& conn, const std::vector<int64_t>& case_ids) {
  int64_t n = 0;
  for (int64_t id : case_ids) {
    STEWARD_ASSIGN_OR_RETURN(int64_t deleted, conn.Exec("DELETE FROM rights_copies WHERE case_id = ?", {id}));
    n += deleted;
  }
  return n;
}

}  // namespace steward::rights
