// The feedback module's descriptor (module/module.h): [feedback] in the site's file; the forms at
// /feedback and "Is this page useful?" in the frame of every public page; POST /api/feedback; the
// items, sealed in the subject store, and their part of the subject-data contract.
#pragma once

#include "module/module.h"

namespace steward::feedback {

module::Descriptor Module();

}  // namespace steward::feedback
