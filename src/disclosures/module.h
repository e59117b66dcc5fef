// The disclosures module's descriptor (module/module.h): [disclosures] in the site's file, the
// disclosure log (log.h) at /admin/disclosures for the DPO and caseworkers, with four-eyes
// approval by a second person with the DPO role, the export of what was approved through the
// subject-data contract, and the log's own part of that contract ("who has had my data").
#pragma once

#include "module/module.h"

namespace steward::disclosures {

module::Descriptor Module();

}  // namespace steward::disclosures
