// The sharing module's descriptor (module/module.h): [sharing] in the site's file, partners' shares
// (shares.h) collected through GET /api/shares/{partner} with a key of scope "share:<partner>" or
// made as a sealed file on /admin/sharing and by `steward share`, the share log, and its part of
// the subject-data contract.
#pragma once

#include "module/module.h"

namespace steward::sharing {

module::Descriptor Module();

}  // namespace steward::sharing
