// What the accounts module counts for statistics that identify no one (module/counting.h): new
// accounts by how they came, by the organisation that referred them, by age band at registration,
// by postcode area, and by each choice the account's own dataset asks for (never a special category
// field, which its consent covers for other purposes). Only open accounts are counted: a closed one
// is kept to the minimum and used for nothing else; a restricted person, or one whose objection was
// upheld, is left out.
#pragma once

#include <vector>

#include "module/module.h"

namespace steward::accounts {

// Empty when the site has no accounts.
std::vector<module::Counter> Counters(module::Platform& p);

// "19 to 24" for someone born on `date_of_birth` (YYYY-MM-DD) on `day` (YYYY-MM-DD); "" when
// either is not a date.
std::string AgeBand(std::string_view date_of_birth, std::string_view day);
// "SW" for "SW1A 1AA": the letters its outward code starts with; "" when it has none.
std::string PostcodeArea(std::string_view postcode);

}  // namespace steward::accounts
