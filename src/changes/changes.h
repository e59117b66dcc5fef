// Changes to the privacy notice that affect people, told before they take effect. A new register is
// staged (`steward notice stage` with the new site file, while the site still serves the old one):
// its structured notice, the notice as the site will show it, and what changed from the version
// served, each change material or editorial (processing::ClassifyChanges). A person with the DPO
// role publishes it at /admin/notice after reading the changes, giving the day it takes effect:
// from then, public pages carry a banner for the days the site sets, /privacy/next shows the notice
// to come, and account holders and confirmed subscribers are emailed what changes. The site keeps
// serving the old register (and its notice) until the new site file is put in place on that day;
// a materially changed register put in place without being published is shown to the DPO, who
// publishes it then (taking effect at once).
//
// Thread safety: safe for concurrent use (the store serialises writes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "config/config.h"
#include "register/register.h"
#include "register/versions.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace steward::changes {

struct Change {
  std::string version;       // the new register's version
  std::string from_version;  // the version served when it was staged
  std::string notice_json;   // the new structured notice
  std::string notice_html;   // the new notice's content as /privacy/next shows it; empty: the one served
  std::string staged_at, staged_by;
  int64_t effective_from = 0;  // days since 1970-01-01, once published
  int64_t banner_until = 0;    // the last day of the banner
  std::string published_at, published_by;
  int64_t told = -1;  // emails queued; -1 until the emails go
  bool Published() const { return !published_at.empty(); }
};

class ChangeLog {
 public:
  ChangeLog(store::Store& store, audit::Trail& trail, const Clock& clock)
      : store_(store), trail_(trail), clock_(clock) {}

  static std::vector<store::Migration> Migrations();

  // Stages `c` (version, from_version, notice_json, notice_html), replacing a staged change not yet
  // published. Errors: kFailedPrecondition when a published change is waiting to take effect.
  Status Stage(const Change& c, const std::string& actor);
  // The newest change, staged or published.
  Result<std::optional<Change>> Latest() const;
  // Publishes the newest change, to take effect on `effective_from` (today or later), with the
  // banner until `banner_until`. Errors: kInvalidArgument "effective: ..." for a day already past;
  // kFailedPrecondition when there is nothing to publish or it is published already.
  Status Publish(int64_t effective_from, int64_t banner_until, const std::string& actor, const std::string& request_id);
  // Notes that the emails about `version` were queued: `n` of them.
  Status MarkTold(const std::string& version, int64_t n);

 private:
  store::Store& store_;
  audit::Trail& trail_;
  const Clock& clock_;
};

// Stages `reg` (a new site file's register, whose [site] renders its notice) against the version
// `store` serves, as `steward notice stage` does. Returns what changes, each material or not; empty
// when `reg` is the version served (nothing is staged then). Errors: kFailedPrecondition when the
// site has served no notice yet, or a published change waits to take effect; the templates'.
Result<std::vector<processing::NoticeChange>> StageRegister(store::Store& store, audit::Trail& trail,
                                                            const Clock& clock, const config::Site& site,
                                                            const processing::Register& reg, const std::string& actor);

}  // namespace steward::changes
