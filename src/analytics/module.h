// The analytics module's descriptor (module/module.h): /api/event and /api/v2/query, the
// analyst's dashboard and Stats API keys, `steward stats` and `steward apikey`, housekeeping and
// rollups as background tasks, and the events' part of the subject-data contract.
#pragma once

#include "module/module.h"

namespace steward::analytics {

module::Descriptor Module();

}  // namespace steward::analytics
