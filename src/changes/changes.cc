#include "changes/changes.h"

#include "core/days.h"
#include "notice/notice.h"
#include "site/pages.h"

namespace steward::changes {

std::vector<store::Migration> ChangeLog::Migrations() {
  return {{"changes", 1, R"sql(
-- Changes to the privacy notice: staged, published with the day they take effect and the banner's
-- last day, and whether the people affected were emailed. Holds no personal data.
CREATE TABLE notice_changes (
  id INTEGER PRIMARY KEY,
  version TEXT NOT NULL,
  from_version TEXT NOT NULL,
  notice_json TEXT NOT NULL,
  notice_html TEXT NOT NULL,
  staged_at TEXT NOT NULL,
  staged_by TEXT NOT NULL,
  effective_from TEXT,
  banner_until TEXT,
  published_at TEXT,
  published_by TEXT,
  told INTEGER NOT NULL DEFAULT -1
);
)sql"}};
}

namespace {

constexpr const char* kSelect =
    "SELECT version, from_version, notice_json, notice_html, staged_at, staged_by, effective_from, banner_until, "
    "published_at, published_by, told FROM notice_changes";

Change FromRow(const store::Row& r) {
  auto text = [&](int i) { return r.IsNull(i) ? std::string() : r.Text(i); };
  return Change{.version = r.Text(0),
                .from_version = r.Text(1),
                .notice_json = r.Text(2),
                .notice_html = r.Text(3),
                .staged_at = r.Text(4),
                .staged_by = r.Text(5),
                .effective_from = ParseDay(text(6)).value_or(0),
                .banner_until = ParseDay(text(7)).value_or(0),
                .published_at = text(8),
                .published_by = text(9),
                .told = r.Int(10)};
}

}  // namespace

Status ChangeLog::Stage(const Change& c, const std::string& actor) {
  int64_t today = UnixMillis(clock_.Now()) / kDayMillis;
  return store_.Write([&](store::Connection& conn) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string(kSelect) + " ORDER BY id DESC LIMIT 1"));
    if (!rows.empty()) {
      Change latest = FromRow(rows.front());
      if (latest.Published() && latest.effective_from > today && latest.version != c.version) {
        return MakeError(ErrorCode::kFailedPrecondition, "a published change takes effect on " +
                                                             DayText(latest.effective_from) +
                                                             ": put its site file in place first");
      }
      // A staged change not yet published is replaced.
      if (!latest.Published()) {
        STEWARD_RETURN_IF_ERROR(conn.Exec("DELETE FROM notice_changes WHERE published_at IS NULL"));
      }
    }
    STEWARD_RETURN_IF_ERROR(
        conn.Exec("INSERT INTO notice_changes (version, from_version, notice_json, notice_html, staged_at, staged_by) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  {c.version, c.from_version, c.notice_json, c.notice_html, FormatRfc3339Millis(clock_.Now()), actor}));
    return trail_.AppendIn(conn, {.actor = actor,
                                  .action = "notice.staged",
                                  .target = "register:" + c.version,
                                  .details = {{"from", c.from_version}}});
  });
}

Result<std::optional<Change>> ChangeLog::Latest() const {
  std::optional<Change> out;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& conn) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string(kSelect) + " ORDER BY id DESC LIMIT 1"));
    if (!rows.empty()) out = FromRow(rows.front());
    return Ok();
  }));
  return out;
}

Status ChangeLog::Publish(int64_t effective_from, int64_t banner_until, const std::string& actor,
                          const std::string& request_id) {
  int64_t today = UnixMillis(clock_.Now()) / kDayMillis;
  if (effective_from < today) {
    return MakeError(ErrorCode::kInvalidArgument, "effective: Enter today or a day to come");
  }
  return store_.Write([&](store::Connection& conn) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto latest, conn.Query("SELECT id, published_at, version FROM notice_changes ORDER BY id "
                                                     "DESC LIMIT 1"));
    if (latest.empty()) return MakeError(ErrorCode::kFailedPrecondition, "no change to the notice is staged");
    if (!latest.front().IsNull(1)) return MakeError(ErrorCode::kFailedPrecondition, "the change is published already");
    STEWARD_RETURN_IF_ERROR(
        conn.Exec("UPDATE notice_changes SET effective_from = ?, banner_until = ?, published_at = ?, published_by = ? "
                  "WHERE id = ?",
                  {DayText(effective_from), DayText(banner_until), FormatRfc3339Millis(clock_.Now()), actor,
                   latest.front().Int(0)}));
    return trail_.AppendIn(
        conn, {.actor = actor,
               .action = "notice.published",
               .target = "register:" + latest.front().Text(2),
               .request_id = request_id,
               .details = {{"effective_from", DayText(effective_from)}, {"banner_until", DayText(banner_until)}}});
  });
}

Status ChangeLog::MarkTold(const std::string& version, int64_t n) {
  return store_.Write([&](store::Connection& conn) -> Status {
    STEWARD_RETURN_IF_ERROR(
        conn.Exec("UPDATE notice_changes SET told = ? WHERE version = ? AND published_at IS NOT NULL", {n, version}));
    return trail_.AppendIn(conn, {.actor = "system",
                                  .action = "notice.told",
                                  .target = "register:" + version,
                                  .details = {{"emails", std::to_string(n)}}});
  });
}

Result<std::vector<processing::NoticeChange>> StageRegister(store::Store& store, audit::Trail& trail,
                                                            const Clock& clock, const config::Site& site,
                                                            const processing::Register& reg, const std::string& actor) {
  STEWARD_ASSIGN_OR_RETURN(auto versions, processing::ListVersions(store));
  if (versions.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "this site has served no notice yet: the first register needs no staging");
  }
  const processing::NoticeVersion& served = versions.front();
  if (served.version == reg.Version()) return std::vector<processing::NoticeChange>{};
  auto changes = processing::ClassifyChanges(served.notice_json, reg.ToJson());
  STEWARD_ASSIGN_OR_RETURN(auto pages, site::Pages::Load(site));
  STEWARD_ASSIGN_OR_RETURN(std::string html,
                           pages->RenderBare("privacy", notice::PrivacyData(reg, "the day it takes effect")));
  ChangeLog log(store, trail, clock);
  STEWARD_RETURN_IF_ERROR(log.Stage(
      {.version = reg.Version(), .from_version = served.version, .notice_json = reg.ToJson(), .notice_html = html},
      actor));
  return changes;
}

}  // namespace steward::changes
