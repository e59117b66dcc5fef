// What the staff module stores, for the retention runner and the start-up check.
#pragma once

#include "retention/retention.h"

namespace steward::staff {

// Tables: staff, staff_sessions, staff_recovery_codes, staff_setup_tokens (all personal data, the
// "staff accounts" dataset). Purge: accounts disabled for longer than the retention.
retention::ModuleStorage Storage();

}  // namespace steward::staff
