// The subscriptions module's descriptor (module/module.h): its tables, the public pages (sign up,
// confirm, manage, sign in, unsubscribe), POST /api/subscriptions and POST
// /api/topics/{id}/messages, the staff page /admin/subscriptions, the background sends, digests
// and purge, `steward mail send` and `steward subscriptions count`, and its subject data.
#pragma once

#include "module/module.h"

namespace steward::subscriptions {

module::Descriptor Module();

}  // namespace steward::subscriptions
