// The statistics module's descriptor (module/module.h): [statistics] in the site's file, the
// `steward statistics` command and the analysts' pages at /admin/statistics, publishing tables of
// what the modules count (module/counting.h) after disclosure control (sdc.h). It keeps nothing;
// each table published is audited.
#pragma once

#include "module/module.h"

namespace steward::statistics {

module::Descriptor Module();

}  // namespace steward::statistics
