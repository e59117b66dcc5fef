// The rights module's descriptor (module/module.h): its tables, [rights] in the site's file (the
// register's dataset of module "rights", the nation whose bank holidays count, the bank-holiday
// file), the public form at /your-data, the caseworker's and DPO's pages under /admin/rights, and
// `steward rights due`, `find`, `list`, `show`, `export` and `erase`.
#pragma once

#include <memory>
#include <optional>

#include "config/config.h"
#include "module/module.h"
#include "register/register.h"
#include "rights/cases.h"

namespace steward::rights {

module::Descriptor Module();

// [rights], or nullopt when the site has none. Errors: kInvalidArgument with every problem as
// FILE:LINE:COLUMN (an unknown nation, a dataset that is not module "rights"'s, or one that does
// not declare what a case keeps).
Result<std::optional<Settings>> ReadSettings(const config::Config& config, const processing::Register& reg);

}  // namespace steward::rights
