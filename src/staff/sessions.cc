#include "staff/sessions.h"

#include <ctime>

#include "core/strings.h"

namespace steward::staff {
namespace {

std::string KeyString(const std::array<uint8_t, 32>& k) {
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

// Parses what FormatRfc3339Millis wrote.
SystemTime ParseTime(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms) < 6) {
    return SystemTime();
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

Session ToSession(const store::Row& r) {
  return Session{r.Text(0), r.Int(1), r.Text(2), r.Text(3), r.Int(4) != 0, r.Text(5)};
}

}  // namespace

std::string Sessions::Select() const {
  return "SELECT id_hash, " + table_.owner + ", created_at, last_seen_at, second_factor_pending, device FROM " +
         table_.table;
}

std::string DescribeDevice(std::string_view ua) {
  auto has = [&](std::string_view s) { return ua.find(s) != std::string_view::npos; };
  std::string browser = has("Edg/")                          ? "Edge"
                        : has("Firefox/")                    ? "Firefox"
                        : has("Chrome/") || has("Chromium/") ? "Chrome"
                        : has("Safari/")                     ? "Safari"
                        : has("curl/")                       ? "curl"
                                                             : "A browser";
  std::string os = has("Android")                        ? "Android"
                   : has("iPhone") || has("iPad")        ? "iOS"
                   : has("Windows")                      ? "Windows"
                   : has("Mac OS X") || has("Macintosh") ? "macOS"
                   : has("Linux") || has("X11")          ? "Linux"
                                                         : "";
  return os.empty() ? browser : browser + " on " + os;
}

Sessions::Sessions(store::Store& store, const Clock& clock, const crypto::SecretKey& key, SessionPolicy policy,
                   SessionTable table)
    : store_(store),
      clock_(clock),
      table_(std::move(table)),
      session_key_(KeyString(key.DeriveKey(table_.session_label))),
      csrf_key_(KeyString(key.DeriveKey(table_.csrf_label))),
      policy_(policy) {}

std::string Sessions::Handle(std::string_view cookie) const { return HexEncode(crypto::Hash(cookie, session_key_)); }

bool Sessions::Expired(const Session& s, SystemTime now) const {
  return now - ParseTime(s.last_seen_at) >= policy_.idle || now - ParseTime(s.created_at) >= policy_.absolute;
}

Result<std::string> Sessions::Create(int64_t staff_id, bool second_factor_pending, const std::string& device) {
  std::string cookie = crypto::RandomHex(32);
  std::string now = FormatRfc3339Millis(clock_.Now());
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO " + table_.table + " (id_hash, " + table_.owner +
                   ", created_at, last_seen_at, second_factor_pending, device) VALUES (?, ?, ?, ?, ?, ?)",
               {Handle(cookie), staff_id, now, now, int64_t{second_factor_pending}, device}));
    return Ok();
  }));
  return cookie;
}

Result<std::optional<Session>> Sessions::Load(std::string_view cookie) {
  if (cookie.size() != 64) return std::optional<Session>();
  std::string handle = Handle(cookie);
  std::optional<Session> session;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(Select() + " WHERE id_hash = ?", {handle}));
    if (!rows.empty()) session = ToSession(rows[0]);
    return Ok();
  }));
  if (!session) return session;
  SystemTime now = clock_.Now();
  if (Expired(*session, now)) {
    STEWARD_RETURN_IF_ERROR(End(cookie));
    return std::optional<Session>();
  }
  if (now - ParseTime(session->last_seen_at) > std::chrono::minutes(1)) {
    session->last_seen_at = FormatRfc3339Millis(now);
    STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
      STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE " + table_.table + " SET last_seen_at = ? WHERE id_hash = ?",
                                     {session->last_seen_at, handle}));
      return Ok();
    }));
  }
  return session;
}

Status Sessions::End(std::string_view cookie) {
  std::string handle = Handle(cookie);
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM " + table_.table + " WHERE id_hash = ?", {handle}));
    return Ok();
  });
}

Status Sessions::End(std::string_view cookie, audit::Trail& trail, const audit::Entry& entry) {
  std::string handle = Handle(cookie);
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM " + table_.table + " WHERE id_hash = ?", {handle}));
    return trail.AppendIn(c, entry);
  });
}

Status Sessions::EndByHandle(int64_t staff_id, std::string_view handle) {
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t n,
                             c.Exec("DELETE FROM " + table_.table + " WHERE id_hash = ? AND " + table_.owner + " = ?",
                                    {std::string(handle), staff_id}));
    if (n == 0) return MakeError(ErrorCode::kNotFound, "no such session");
    return Ok();
  });
}

Status Sessions::EndByHandle(int64_t staff_id, std::string_view handle, audit::Trail& trail,
                             const audit::Entry& entry) {
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t n,
                             c.Exec("DELETE FROM " + table_.table + " WHERE id_hash = ? AND " + table_.owner + " = ?",
                                    {std::string(handle), staff_id}));
    if (n == 0) return MakeError(ErrorCode::kNotFound, "no such session");
    return trail.AppendIn(c, entry);
  });
}

Result<std::vector<Session>> Sessions::ListFor(int64_t staff_id) {
  std::vector<Session> out;
  SystemTime now = clock_.Now();
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    return c.ForEach(Select() + " WHERE " + table_.owner + " = ? ORDER BY created_at DESC", {staff_id},
                     [&](const store::Row& r) {
                       Session s = ToSession(r);
                       if (!Expired(s, now)) out.push_back(std::move(s));
                       return true;
                     });
  }));
  return out;
}

Result<int64_t> Sessions::PurgeExpired() {
  SystemTime now = clock_.Now();
  std::string idle_cutoff = FormatRfc3339Millis(now - policy_.idle);
  std::string absolute_cutoff = FormatRfc3339Millis(now - policy_.absolute);
  int64_t n = 0;
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(n, c.Exec("DELETE FROM " + table_.table + " WHERE last_seen_at <= ? OR created_at <= ?",
                                       {idle_cutoff, absolute_cutoff}));
    return Ok();
  }));
  return n;
}

Result<int64_t> Sessions::EndAllIn(store::Connection& c, int64_t owner) const {
  return c.Exec("DELETE FROM " + table_.table + " WHERE " + table_.owner + " = ?", {owner});
}

std::string Sessions::CsrfToken(std::string_view cookie) const { return HexEncode(crypto::Hash(cookie, csrf_key_)); }

bool Sessions::CheckCsrf(std::string_view cookie, std::string_view presented) const {
  return !presented.empty() && crypto::ConstantTimeEquals(CsrfToken(cookie), presented);
}

}  // namespace steward::staff
