// The rights module's commands and what check-config says of a site's rights requests. Wired by
// the descriptor (module.cc).
//
//   steward rights due --received 2026-01-31 [--nation scotland] [--proof D] [--extended]
//                      [--stopped FROM..TO ...]        the due date, as a case computes it
//   steward rights find --email E | --ip A | ... [--format json]
//                                                       what every module holds, counts only
//   steward rights list [--closed]                      the queue, by due date
//   steward rights show --case R-000017                 one case, its timeline
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "module/module.h"
#include "register/register.h"

namespace steward::rights {

std::vector<module::Command> Commands();
std::vector<std::string> Explain(const config::Config& config, const processing::Register& reg);

}  // namespace steward::rights
