#include "rights/reminders.h"

#include "mail/mail.h"
#include "module/staff_page.h"
#include "staff/accounts.h"

namespace steward::rights {

std::map<std::string, std::string> Caseworkers(const staff::Accounts* accounts) {
  std::map<std::string, std::string> out;
  if (accounts == nullptr) return out;
  auto staff = accounts->List();
  if (!staff.ok()) return out;
  for (const auto& m : *staff) {
    if (!m.disabled && staff::AnyGrants(m.roles, staff::Permission::kRightsRequests)) {
      out["staff:" + std::to_string(m.id)] = m.email;
    }
  }
  return out;
}

Result<int64_t> SendReminders(Cases& cases, const staff::Accounts& accounts, mail::Queue& queue,
                              const mail::Settings& mail, const ReminderSettings& settings) {
  auto everyone = Caseworkers(&accounts);
  return cases.Remind([&](store::Connection& c, const Summary& s, bool overdue) -> Status {
    // The one assigned, while they still handle rights requests; otherwise everyone who does.
    std::vector<std::string> to;
    if (s.assignee && everyone.count("staff:" + std::to_string(*s.assignee))) {
      to.push_back(everyone.at("staff:" + std::to_string(*s.assignee)));
    } else {
      for (const auto& [id, email] : everyone) to.push_back(email);
    }
    std::string rights;
    for (Right r : s.rights) rights += (rights.empty() ? "" : ", ") + std::string(RightShort(r));
    std::string due = module::LongDay(s.due.day);
    std::string link = settings.base_url + "/admin/rights/" + std::to_string(s.id);
    for (const auto& address : to) {
      // Privacy: staff accounts: a caseworker's address, for a reminder that names no requester.
      mail::Email email{
          .to = address,
          .subject = overdue ? "Overdue rights request " + s.reference + ": it was due on " + due
                             : "Rights request " + s.reference + " is due on " + due,
          .text = std::string(overdue ? "A rights request is overdue" : "A rights request is due within a week") +
                  " at " + settings.site_name + ".\n\nReference: " + s.reference + "\nAsked for: " + rights +
                  "\nDue: " + due + "\nThe clock: " + s.ClockText() + "\n\n" +
                  (s.assignee ? "It is assigned to you." : "Nobody is assigned to it yet.") + "\n\nOpen it: " + link +
                  (overdue ? "\n\nThe law's time limit has passed: answer as soon as you can, and tell the person "
                             "why it is late."
                           : ""),
          .batch = "rights:reminder"};
      auto queued = queue.Enqueue(c, email, mail);
      // An address that bounced for good is not mailed: the others still are.
      if (!queued.ok() && queued.error().code != ErrorCode::kFailedPrecondition) return queued.error();
    }
    return Ok();
  });
}

}  // namespace steward::rights
