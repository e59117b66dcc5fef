#include "staff/storage.h"

#include "staff/accounts.h"

namespace steward::staff {

retention::ModuleStorage Storage() {
  return {
      .module = "staff",
      .personal_tables = {"staff", "staff_sessions", "staff_recovery_codes", "staff_setup_tokens"},
      .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string& now,
                  bool dry_run, int64_t) { return PurgeDisabledBefore(c, cutoff, now, dry_run); },
      .stores = {"user.contact.email", "user.account.password", "user.account.settings"}};
}

}  // namespace steward::staff
