// The record of processing activities (UK GDPR Article 30), from the register: one row per purpose
// and dataset, with the columns of the ICO's template for controllers.
#pragma once

#include <string>
#include <vector>

#include "register/register.h"

namespace steward::processing {

// The column headings, in order.
const std::vector<std::string>& RopaColumns();

// One row per (purpose, dataset) pair, in register order; every value already in words.
// `notice_date` is when the notice version came into force ("3 December 2026"; empty: unknown).
std::vector<std::vector<std::string>> RecordOfProcessing(const Register& reg, const std::string& notice_date = "");

// RFC 4180 CSV of the record, headings first. A value that a spreadsheet would run as a formula
// (starting with = + - @) is prefixed with a single quote.
std::string RopaCsv(const Register& reg, const std::string& notice_date = "");

}  // namespace steward::processing
