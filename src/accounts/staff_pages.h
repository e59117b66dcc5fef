// /admin/customers, for staff with the act_for_customer permission (caseworkers as advisers): find
// a customer by email address, or by name and date of birth; create an account for a customer who
// is with them or on the phone (recording how the customer agreed); correct details; record a
// consent the customer gave or withdrew; hand the account over (the customer sets a password from
// an emailed link). Every action is audited as the adviser, and the customer sees it in their
// account's activity. Special category fields stay hidden until the adviser asks to see them, and
// every such view is audited and shown to the customer.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "html/template.h"
#include "http/request.h"
#include "module/module.h"

namespace steward::accounts {

// `accounts` must outlive the pages.
std::vector<module::StaffPage> CustomerPages(module::Platform& p, Accounts& accounts);

// Shared with the person's pages (serving.h; defined in person_pages.cc).
// The declared fields' values from a form (a date from its day, month and year inputs); with
// `partial`, only the fields the form holds.
std::map<std::string, std::string> ReadValues(const http::Params& form, const Settings& settings, bool partial);
// The declared fields for the account_fields partial: those given under a consent box
// (`consent_fields`) or the others, special category ones only when `show_special`.
html::List FieldItems(const Settings& settings, const std::map<std::string, std::string>& values,
                      const std::map<std::string, std::string>& errors, bool consent_fields, bool show_special);
html::List ActivityItems(const std::vector<Activity>& activity);
html::List ConsentItems(const Settings& settings, const std::vector<ConsentEvent>& events);
std::string DateText(std::string_view rfc3339);

}  // namespace steward::accounts
