// Personal data typed where it was not asked for, found and taken out before anything is stored.
//
// A member of the public writing "what went wrong" often adds their email address, telephone
// number, National Insurance number, postcode or card number. Feedback keeps none of these unless
// it is the contact detail the person gave to be answered: Redact replaces each with a marker
// naming what was there ("[email address removed]") and says which kinds it found, so the item
// records that something was removed without keeping it.
//
//   auto r = feedback::Redact("Ring me on 020 7946 0000");
//   r.text   // "Ring me on [telephone number removed]"
//   r.found  // {"telephone number"}
//
// Thread safety: pure functions.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace steward::feedback {

struct Redacted {
  std::string text;
  std::set<std::string> found;  // "email address", "telephone number", "National Insurance number",
                                // "postcode", "card number"
  bool changed() const { return !found.empty(); }
};

// Finds and replaces email addresses, UK and international telephone numbers, National Insurance
// numbers, UK postcodes and card numbers that pass the Luhn check. The rest of the text is kept
// as it was.
Redacted Redact(std::string_view text);

// A page address with any email address in it replaced by "[email]", as GOV.UK's feedback
// component scrubs its URLs.
std::string ScrubUrl(std::string_view url);

// Whether `digits` (only digits) passes the Luhn check.
bool Luhn(std::string_view digits);

}  // namespace steward::feedback
