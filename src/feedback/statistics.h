// What the feedback module counts for statistics that identify no one (module/counting.h): the
// feedback received (problem reports, messages and ratings; "Is this page useful?" answers are
// counted elsewhere and keep no row), by kind, by rating and by where it stands (the outcome).
// Spam and duplicates are not counted, nor feedback from anyone restricted or whose objection was
// upheld.
#pragma once

#include <vector>

#include "module/module.h"

namespace steward::feedback {

// Empty when the site has no [feedback].
std::vector<module::Counter> Counters(module::Platform& p);

}  // namespace steward::feedback
