// Notice versions: each distinct register is a version of the privacy notice, stored with the date
// it took effect, so the notice can say when it last changed and consent records can cite it.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "register/register.h"
#include "store/store.h"

namespace steward::processing {

struct NoticeVersion {
  std::string version;       // Register::Version()
  std::string effective_at;  // RFC 3339, when it was first served
  std::string notice_json;   // the structured notice as it was
};

const std::vector<store::Migration>& VersionMigrations();

// Records `reg` as the current version if it is new, and returns the current version (its
// effective date is when it was first recorded).
Result<NoticeVersion> RecordVersion(store::Store& store, const Register& reg, const Clock& clock);
// Every version, newest first.
Result<std::vector<NoticeVersion>> ListVersions(store::Store& store);

// What changed between two structured notices (Register::ToJson), in words a person reads: "A new
// purpose: ...", "Access logs are now kept 6 months (was 12 months)", "A new cookie: _ga". Empty
// when nothing a person would notice changed.
std::vector<std::string> DescribeChanges(const std::string& older_json, const std::string& newer_json);

// The same changes, each said to be material or editorial. Material: a new purpose, a changed
// lawful basis, new data or a new category of it, data kept longer (or by a rule that cannot be
// compared), a new recipient, a new international transfer, a change in how cookies are asked
// about; the people the notice is about should be told before it takes effect. Editorial: wording,
// something stopped, data kept for less time, cookies, contact details.
struct NoticeChange {
  std::string text;
  bool material = false;
};
std::vector<NoticeChange> ClassifyChanges(const std::string& older_json, const std::string& newer_json);
bool AnyMaterial(const std::vector<NoticeChange>& changes);

// "22 November 2026", from an RFC 3339 time.
std::string LongDate(const std::string& rfc3339);

}  // namespace steward::processing
