// The access logs' descriptor (module/module.h): `steward logs import|report|follow|alerts|search`,
// the logs `steward serve` follows ([[logs.follow]], a background task), /admin/logs and
// /admin/security, and the raw lines' part of the subject-data contract.
#pragma once

#include "module/module.h"

namespace steward::logs {

module::Descriptor Module();

}  // namespace steward::logs
