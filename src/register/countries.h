// The countries a transfer may name, from a list rather than free text (the record of processing
// must identify each third country, Article 30(1)(e)).
#pragma once

#include <string_view>
#include <vector>

namespace steward::processing {

struct Country {
  std::string_view code;  // ISO 3166-1 alpha-2: "US"
  std::string_view name;  // "United States"
};

// Every country but the UK, by code.
const std::vector<Country>& Countries();
// Null for an unknown code (codes are upper case).
const Country* FindCountry(std::string_view code);

}  // namespace steward::processing
