// /admin/subscriptions, for staff with the communications permission: the topics with their
// subscribers' counts (never an address), a message to a topic (preview, a test to oneself, send),
// and each send's counts (queued, sent, bounced, unsubscribed since).
#pragma once

#include <vector>

#include "module/module.h"
#include "subscriptions/subscriptions.h"

namespace steward::subscriptions {

// `subs` must outlive the pages.
std::vector<module::StaffPage> SubscriptionsPages(module::Platform& p, Subscriptions& subs);

}  // namespace steward::subscriptions
