// The accounts module's command-line side: `steward accounts import` and `accounts count`, and
// what check-config says of a site's accounts. Wired by the module's descriptor (module.cc).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "module/module.h"
#include "register/register.h"

namespace steward::accounts {

// `steward accounts import FILE [--source S]`.
int ImportCommand(module::CommandContext& ctx);
// `steward accounts count [--format text|json]`.
int CountCommand(module::CommandContext& ctx);
// What check-config says of how a site's accounts read its register, one sentence a line.
std::vector<std::string> Explain(const config::Config& config, const processing::Register& reg);

}  // namespace steward::accounts
