// The notice module's descriptor (module/module.h): the privacy notice and its history at /privacy,
// the record of processing for the DPO (/admin/ropa and its CSV), and `steward notice render`.
#pragma once

#include "module/module.h"

namespace steward::notice {

module::Descriptor Module();

}  // namespace steward::notice
