// The one list of Steward's modules, in the order they start (a module finds the services of the
// ones before it: consent's cookie gate before analytics, analytics' user-agent classifier before
// the access logs). Adding a capability is one line here.
#pragma once

#include <vector>

#include "module/module.h"

namespace steward::app {

const std::vector<module::Descriptor>& Modules();

}  // namespace steward::app
