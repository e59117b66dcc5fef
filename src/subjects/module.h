// The subject store's descriptor (module/module.h): its tables and the daily sweep of keys no row
// names any more. Modules answer for what they sealed through subjects::SealedData (sealed.h).
#pragma once

#include "module/module.h"
#include "subjects/subjects.h"

namespace steward::subjects {

module::Descriptor Module();

}  // namespace steward::subjects
