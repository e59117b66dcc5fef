#include "register/versions.h"

#include <cstdio>

namespace steward::processing {

const std::vector<store::Migration>& VersionMigrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"register", 1, R"sql(
CREATE TABLE notice_versions (
  version TEXT PRIMARY KEY,
  effective_at TEXT NOT NULL,
  notice_json TEXT NOT NULL
);
CREATE INDEX notice_versions_effective ON notice_versions (effective_at);
)sql"},
  };
  return kMigrations;
}

Result<NoticeVersion> RecordVersion(store::Store& store, const Register& reg, const Clock& clock) {
  NoticeVersion current{reg.Version(), FormatRfc3339Millis(clock.Now()), reg.ToJson()};
  STEWARD_RETURN_IF_ERROR(store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT effective_at FROM notice_versions WHERE version = ?",
                                                {current.version}));
    // A version seen before (a register changed and then changed back) keeps its first date only if
    // it is still the newest; otherwise it takes effect again now.
    STEWARD_ASSIGN_OR_RETURN(auto newest, c.Query("SELECT version FROM notice_versions ORDER BY effective_at DESC LIMIT 1"));
    if (!rows.empty() && !newest.empty() && newest[0].Text(0) == current.version) {
      current.effective_at = rows[0].Text(0);
      return Ok();
    }
    STEWARD_RETURN_IF_ERROR(c.Exec(
        "INSERT INTO notice_versions (version, effective_at, notice_json) VALUES (?, ?, ?) "
        "ON CONFLICT (version) DO UPDATE SET effective_at = excluded.effective_at",
        {current.version, current.effective_at, current.notice_json}));
    return Ok();
  }));
  return current;
}

Result<std::vector<NoticeVersion>> ListVersions(store::Store& store) {
  std::vector<NoticeVersion> out;
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT version, effective_at, notice_json FROM notice_versions ORDER BY effective_at DESC", {},
                     [&](const store::Row& r) {
                       out.push_back({r.Text(0), r.Text(1), r.Text(2)});
                       return true;
                     });
  }));
  return out;
}

std::string LongDate(const std::string& rfc3339) {
  static constexpr const char* kMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                                            "August", "September", "October", "November", "December"};
  int y = 0, m = 0, d = 0;
  if (std::sscanf(rfc3339.c_str(), "%d-%d-%d", &y, &m, &d) != 3 || m < 1 || m > 12) return rfc3339;
  return std::to_string(d) + " " + kMonths[m - 1] + " " + std::to_string(y);
}

}  // namespace steward::processing
