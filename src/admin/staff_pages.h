// The staff pages of the staff accounts (/admin/staff, administrators) and of the audit trail
// (/admin/audit, administrators and the DPO). The shell adds them through its guard.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "module/staff_page.h"
#include "staff/accounts.h"

namespace steward::admin {

// `base_url` gives the address set-up links start with. `accounts` must outlive the pages.
std::vector<module::StaffPage> StaffAccountsPages(staff::Accounts& accounts, std::function<std::string()> base_url);
std::vector<module::StaffPage> AuditTrailPages(audit::Trail& trail);

}  // namespace steward::admin
