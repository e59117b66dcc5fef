// Reminders of rights requests coming due: seven days before the due date and once it has passed,
// emailed to the caseworker assigned, or to everyone who handles rights requests when nobody is,
// through the mail queue. A reminder names the case's reference, what was asked for and the due
// date, never who asked.
//
// Privacy: the staff accounts' dataset (the staff members' email addresses), sent through the mail
// queue's dataset.
#pragma once

#include <map>
#include <string>

#include "rights/cases.h"

namespace steward::mail {
class Queue;
struct Settings;
}  // namespace steward::mail

namespace steward::staff {
class Accounts;
}  // namespace steward::staff

namespace steward::rights {

// The staff who handle rights requests (not disabled, a role granting rights_requests), as
// "staff:3" -> their email address.
std::map<std::string, std::string> Caseworkers(const staff::Accounts* accounts);

struct ReminderSettings {
  std::string site_name;
  std::string base_url;  // the staff pages' address, for the link
};

// Sends the reminders due now (Cases::Remind). Returns how many cases were reminded of.
Result<int64_t> SendReminders(Cases& cases, const staff::Accounts& accounts, mail::Queue& queue,
                              const mail::Settings& mail, const ReminderSettings& settings);

}  // namespace steward::rights
