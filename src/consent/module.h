// The consent module's descriptor (module/module.h): the cookie gate (the server's cookie policy),
// the GOV.UK banner and /cookies, /api/consent and /steward.js, the consent records and their
// staff page, and the records' part of the subject-data contract.
#pragma once

#include "module/module.h"

namespace steward::consent {

module::Descriptor Module();

}  // namespace steward::consent
