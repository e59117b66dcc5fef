#include "staff/roles.h"

#include <algorithm>

#include "core/strings.h"

namespace steward::staff {

const std::vector<Role>& AllRoles() {
  static const std::vector<Role> kAll = {Role::kAdmin,      Role::kDpo,      Role::kAnalyst,
                                         Role::kCaseworker, Role::kSecurity, Role::kCommunications};
  return kAll;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kDpo:
      return "dpo";
    case Role::kAnalyst:
      return "analyst";
    case Role::kCaseworker:
      return "caseworker";
    case Role::kSecurity:
      return "security";
    case Role::kCommunications:
      return "communications";
  }
  return "";
}

std::string_view RoleTitle(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "Administrator";
    case Role::kDpo:
      return "Data protection officer";
    case Role::kAnalyst:
      return "Analyst";
    case Role::kCaseworker:
      return "Caseworker";
    case Role::kSecurity:
      return "Security";
    case Role::kCommunications:
      return "Communications";
  }
  return "";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : AllRoles()) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kSignedIn:
      return "signed_in";
    case Permission::kManageStaff:
      return "manage_staff";
    case Permission::kReadAudit:
      return "read_audit";
    case Permission::kManageRegister:
      return "manage_register";
    case Permission::kReadStatistics:
      return "read_statistics";
    case Permission::kHandleCases:
      return "handle_cases";
    case Permission::kReadSecurity:
      return "read_security";
    case Permission::kCommunications:
      return "communications";
    case Permission::kActForCustomer:
      return "act_for_customer";
    case Permission::kRightsRequests:
      return "rights_requests";
    case Permission::kDisclosures:
      return "disclosures";
    case Permission::kApproveDisclosures:
      return "approve_disclosures";
  }
  return "";
}

// The permission table.
bool RoleGrants(Role role, Permission permission) {
  switch (permission) {
    case Permission::kSignedIn:
      return true;
    case Permission::kManageStaff:
      return role == Role::kAdmin;
    case Permission::kReadAudit:
      return role == Role::kAdmin || role == Role::kDpo;
    case Permission::kManageRegister:
    case Permission::kApproveDisclosures:
      return role == Role::kDpo;
    case Permission::kReadStatistics:
      return role == Role::kAnalyst;
    case Permission::kHandleCases:
      return role == Role::kCaseworker;
    case Permission::kReadSecurity:
      return role == Role::kSecurity;
    case Permission::kCommunications:
      return role == Role::kCommunications;
    case Permission::kActForCustomer:
      return role == Role::kCaseworker;
    case Permission::kRightsRequests:
    case Permission::kDisclosures:
      return role == Role::kDpo || role == Role::kCaseworker;
  }
  return false;
}

bool AnyGrants(const std::vector<Role>& roles, Permission permission) {
  return std::any_of(roles.begin(), roles.end(), [&](Role r) { return RoleGrants(r, permission); });
}

std::string JoinRoles(const std::vector<Role>& roles) {
  std::string out;
  for (Role r : AllRoles()) {  // canonical order, no duplicates
    if (std::find(roles.begin(), roles.end(), r) == roles.end()) continue;
    if (!out.empty()) out.push_back(',');
    out.append(RoleName(r));
  }
  return out;
}

std::vector<Role> SplitRoles(std::string_view text) {
  std::vector<Role> out;
  for (std::string_view part : Split(text, ',')) {
    if (auto r = ParseRole(Trim(part)); r && std::find(out.begin(), out.end(), *r) == out.end()) out.push_back(*r);
  }
  return out;
}

}  // namespace steward::staff
