// Sessions: server-side sign-in sessions, for staff and, in a table of their own, for members of the
// public with an account (SessionTable says which).
//
// The cookie carries 32 random bytes; the database holds only a keyed hash of them. A session ends
// after 30 minutes idle or 12 hours in all (both from the injected clock), at sign-out, or when its
// owner ends it from their list of sessions. A new session id is issued at every sign-in and again
// when the second factor is passed, so an id fixed before sign-in is worthless after it.
//
// CSRF: each session has a token derived from its id with a keyed hash; every state-changing
// staff request must carry it (checked in one place, admin::Guard).
//
// Thread safety: safe for concurrent use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "store/store.h"

namespace steward::staff {

struct SessionPolicy {
  Duration idle = std::chrono::minutes(30);
  Duration absolute = std::chrono::hours(12);
};

// Where a kind of session lives: its table (id_hash, OWNER, created_at, last_seen_at,
// second_factor_pending, device), the owner's column, and the labels of the keys its cookie's hash
// and CSRF tokens are derived under (8 characters each), so one kind's cookie is nothing to another.
struct SessionTable {
  std::string table = "staff_sessions";
  std::string owner = "staff_id";
  const char* session_label = "stafsess";
  const char* csrf_label = "stafcsrf";
};

struct Session {
  std::string handle;    // the keyed hash, hex: names the session in lists without revealing it
  int64_t staff_id = 0;  // the owner: a staff account, or for another SessionTable its owner's id
  std::string created_at, last_seen_at;
  bool second_factor_pending = false;
  std::string device;  // "Firefox on Linux": a summary, never the raw user agent
};

class Sessions {
 public:
  Sessions(store::Store& store, const Clock& clock, const crypto::SecretKey& key, SessionPolicy policy = {},
           SessionTable table = {});

  // A new session; returns the cookie value.
  Result<std::string> Create(int64_t staff_id, bool second_factor_pending, const std::string& device);
  // The live session for a cookie value, or nullopt (unknown, or expired, which also ends it).
  // Notes the time it was seen (at most once a minute, to spare the writer).
  Result<std::optional<Session>> Load(std::string_view cookie);
  // Ends the session with this cookie value / this handle (only if it is `staff_id`'s).
  Status End(std::string_view cookie);
  Status EndByHandle(int64_t staff_id, std::string_view handle);
  // As above, with `entry` appended to `trail` in the same write: both commit or neither.
  Status End(std::string_view cookie, audit::Trail& trail, const audit::Entry& entry);
  Status EndByHandle(int64_t staff_id, std::string_view handle, audit::Trail& trail, const audit::Entry& entry);
  // Newest first.
  Result<std::vector<Session>> ListFor(int64_t staff_id);
  // Deletes every expired session; returns how many.
  Result<int64_t> PurgeExpired();
  // Ends every session of `owner` in the caller's write (a password changed, an account closed).
  Result<int64_t> EndAllIn(store::Connection& c, int64_t owner) const;

  std::string CsrfToken(std::string_view cookie) const;
  bool CheckCsrf(std::string_view cookie, std::string_view presented) const;

 private:
  std::string Handle(std::string_view cookie) const;
  bool Expired(const Session& s, SystemTime now) const;
  std::string Select() const;
  store::Store& store_;
  const Clock& clock_;
  SessionTable table_;
  std::string session_key_, csrf_key_;
  SessionPolicy policy_;
};

// "Firefox on Linux" from a User-Agent header, for the list of sessions.
std::string DescribeDevice(std::string_view user_agent);

}  // namespace steward::staff
