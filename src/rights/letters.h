// What a case says to the person, from templates the caseworker reads and may edit before it goes:
// the acknowledgement, asking for proof of identity, asking for a clarification, telling of an
// extension, the copy of their data (through a link only they can open), the answer, and a refusal
// with their right to complain to the ICO. Each draft is filled from the case (its reference, the
// day it arrived, the due date and why) and sent by email through the mail queue, sealed under the
// case's key, or printed as a letter.
//
// Privacy: the register's dataset of module "rights": a draft holds the person's name and what
// their request is about; it is never logged.
//
//   auto draft = rights::Draft(rights::Letter::kExtension, kase, {.site_name = "...", .today = day});
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rights/cases.h"

namespace steward::rights {

enum class Letter { kAcknowledgement, kIdentity, kClarification, kExtension, kCopy, kAnswer, kRefusal };
const std::vector<Letter>& AllLetters();
std::string_view LetterName(Letter letter);   // "acknowledgement", "identity", ...
std::string_view LetterTitle(Letter letter);  // "Acknowledgement", "Ask for proof of identity", ...
std::optional<Letter> ParseLetter(std::string_view name);

// Where the copy's link goes in the copy's text: Steward puts the link there when it sends it.
inline constexpr std::string_view kLinkPlaceholder = "((link))";

struct LetterContext {
  std::string site_name;
  int64_t today = 0;     // the UK day it is written
  int copy_days = 28;    // how long the copy's link works
  std::string contact;   // how to reach the site's data protection officer; may be empty
  std::string complain;  // how to complain to the ICO, from the register; a standard text when empty
};

struct Written {
  std::string subject;  // one line
  std::string text;     // plain text; paragraphs separated by a blank line
};

Written Draft(Letter letter, const Case& c, const LetterContext& ctx);

// The rights a case asks for as words: "see what we hold about you and delete it".
std::string RightsSentence(const std::vector<Right>& rights);

}  // namespace steward::rights
