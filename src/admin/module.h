// The descriptors of the staff module (staff accounts, sign-in and the staff shell) and of the
// audit trail's module (its staff page, its commands and its subject data); see module/module.h.
#pragma once

#include "module/module.h"

namespace steward::admin {

module::Descriptor StaffModule();
module::Descriptor AuditModule();

}  // namespace steward::admin
