// Staff roles and what each may do. The permission table lives here and nowhere else: every staff
// page names the permission it needs (module::StaffPage, declared by its module), and this table
// says which roles grant it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace steward::staff {

enum class Role { kAdmin, kDpo, kAnalyst, kCaseworker, kSecurity, kCommunications };

enum class Permission {
  kSignedIn,            // any staff member: their home, their sessions, their second factor
  kManageStaff,         // add, disable, change roles (admin)
  kReadAudit,           // the audit trail (admin, dpo)
  kManageRegister,      // register, record of processing, rights cases, disclosure log (dpo)
  kReadStatistics,      // analytics and log statistics, exports (analyst)
  kHandleCases,         // feedback, subscriptions, acting for a member of the public (caseworker)
  kReadSecurity,        // access-log alerts (security)
  kCommunications,      // write and send email to a topic's subscribers (communications)
  kActForCustomer,      // find, create and update a citizen's account on their behalf (caseworker)
  kRightsRequests,      // rights requests: the queue, the cases, the search, export and erasure (dpo, caseworker)
  kDisclosures,         // the disclosure log: record requests from other bodies, decide, export (dpo, caseworker)
  kApproveDisclosures,  // approve a decision to disclose, as a second person (dpo)
};

const std::vector<Role>& AllRoles();
std::string_view RoleName(Role role);   // "admin", "dpo", ...
std::string_view RoleTitle(Role role);  // "Administrator", "Data protection officer", ...
std::optional<Role> ParseRole(std::string_view name);
std::string_view PermissionName(Permission p);

// True iff a holder of `role` has `permission`.
bool RoleGrants(Role role, Permission permission);
// True iff any of `roles` grants `permission`.
bool AnyGrants(const std::vector<Role>& roles, Permission permission);

// "admin,dpo" <-> roles. Parsing skips unknown names.
std::string JoinRoles(const std::vector<Role>& roles);
std::vector<Role> SplitRoles(std::string_view text);

}  // namespace steward::staff
