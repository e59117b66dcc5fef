// The notice-changes module's descriptor (module/module.h): [notice] in the site's file,
// `steward notice stage`, /admin/notice where a person with the DPO role publishes a change to the
// privacy notice that affects people, the banner on public pages, /privacy/next, and the emails to
// everyone the modules' audiences reach (module/audience.h). It comes before the modules that add
// to the audience.
#pragma once

#include "module/module.h"

namespace steward::changes {

module::Descriptor Module();

}  // namespace steward::changes
