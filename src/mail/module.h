// The mail module: outbound email through the site's relay (mail.h), its queue's storage and
// subject data, the worker that sends, and `steward mail test` / `steward mail status`.
#pragma once

#include "module/module.h"

namespace steward::mail {

module::Descriptor Module();

}  // namespace steward::mail
