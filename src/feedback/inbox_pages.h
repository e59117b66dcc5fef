// The caseworker's inbox: the staff pages under /admin/feedback (feedback and messages in one list,
// one item or message with triage, assignment and notes, the usefulness report, the CSV download)
// and `steward feedback export`. Every view of personal fields and every export is audited.
#pragma once

#include <vector>

#include "feedback/feedback.h"
#include "module/module.h"

namespace steward::messages {
class Inbox;
}

namespace steward::feedback {

// The inbox's pages, for the feedback module's Serving. `messages` is null where the register
// keeps no messages. Everything must outlive the pages.
std::vector<module::StaffPage> InboxPages(module::Platform& p, Inbox& inbox, const messages::Inbox* messages);

// `steward feedback export`: the items as JSON lines or CSV, newest first, audited.
int ExportCommand(module::CommandContext& ctx);

}  // namespace steward::feedback
