#include "rights/letters.h"

#include <algorithm>

#include "module/staff_page.h"

namespace steward::rights {
namespace {

bool Asks(const Case& c, Right r) { return std::find(c.rights.begin(), c.rights.end(), r) != c.rights.end(); }

std::string Greeting(const Case& c) { return c.name.empty() ? "Hello,\n\n" : "Dear " + c.name + ",\n\n"; }

std::string SignOff(const LetterContext& ctx) {
  std::string out = "\n\nYours sincerely,\n\nData protection team, " + ctx.site_name;
  if (!ctx.contact.empty()) out += "\n" + ctx.contact;
  return out;
}

std::string Complain(const LetterContext& ctx) {
  if (!ctx.complain.empty()) return ctx.complain;
  return "If you are unhappy with how we have handled your request, you can complain to the Information "
         "Commissioner's Office: https://ico.org.uk/make-a-complaint/ or 0303 123 1113.";
}

}  // namespace

const std::vector<Letter>& AllLetters() {
  static const std::vector<Letter> kAll = {Letter::kAcknowledgement, Letter::kIdentity, Letter::kClarification,
                                           Letter::kExtension,       Letter::kCopy,     Letter::kAnswer,
                                           Letter::kRefusal};
  return kAll;
}

std::string_view LetterName(Letter letter) {
  switch (letter) {
    case Letter::kAcknowledgement:
      return "acknowledgement";
    case Letter::kIdentity:
      return "identity";
    case Letter::kClarification:
      return "clarification";
    case Letter::kExtension:
      return "extension";
    case Letter::kCopy:
      return "copy";
    case Letter::kAnswer:
      return "answer";
    case Letter::kRefusal:
      return "refusal";
  }
  return "";
}

std::string_view LetterTitle(Letter letter) {
  switch (letter) {
    case Letter::kAcknowledgement:
      return "Acknowledge the request";
    case Letter::kIdentity:
      return "Ask for proof of identity";
    case Letter::kClarification:
      return "Ask for a clarification";
    case Letter::kExtension:
      return "Tell the person of the extension";
    case Letter::kCopy:
      return "Send the copy of their data";
    case Letter::kAnswer:
      return "Answer the request";
    case Letter::kRefusal:
      return "Refuse the request";
  }
  return "";
}

std::optional<Letter> ParseLetter(std::string_view name) {
  for (Letter l : AllLetters()) {
    if (LetterName(l) == name) return l;
  }
  return std::nullopt;
}

std::string RightsSentence(const std::vector<Right>& rights) {
  std::string out;
  for (size_t i = 0; i < rights.size(); ++i) {
    std::string title(RightTitle(rights[i]));
    if (!title.empty()) title[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(title[0])));
    out += (i == 0 ? "" : i + 1 == rights.size() ? " and " : ", ") + title;
  }
  return out;
}

Written Draft(Letter letter, const Case& c, const LetterContext& ctx) {
  const std::string ref = c.reference;
  const std::string asked = "your request to " + RightsSentence(c.rights);
  const std::string received = module::LongDay(c.received);
  Written w;
  std::string body;
  switch (letter) {
    case Letter::kAcknowledgement:
      w.subject = "We have your request: " + ref;
      body = "Thank you for " + asked + ". Your reference is " + ref + ".\n\nWe received your request on " + received +
             ".";
      if (c.identity == Identity::kAwaitingProof) {
        body +=
            " Before we can start, we need to be sure you are who you say you are: we will write to you about "
            "this separately. The law gives us one calendar month from the day we have that proof.";
      } else {
        body += " We will answer by " + module::LongDay(c.due.day) +
                ". If your request is complex we may need up to two months more: if so, we will tell you why "
                "before that date.";
      }
      body += "\n\n" + Complain(ctx);
      break;
    case Letter::kIdentity:
      w.subject = "We need to confirm who you are: " + ref;
      body = "Thank you for " + asked + " (reference " + ref + ", received on " + received +
             ").\n\nTo protect your personal data, we only give it to, or change it for, the person it is about. "
             "Please send us one of these, showing the same name and address as your request:\n\n"
             "- a copy of your passport or driving licence\n"
             "- a recent utility bill or bank statement\n\n"
             "Reply to this email or write to us quoting your reference. We will start on your request on the day "
             "we receive it, and the law then gives us one calendar month to answer.";
      break;
    case Letter::kClarification:
      w.subject = "We need more information about your request: " + ref;
      body = "Thank you for " + asked + " (reference " + ref + ", received on " + received +
             ").\n\nTo answer it, we need to know:\n\n[What you need to know, and why]\n\n"
             "Please reply to this email quoting your reference. The time we have to answer stops until we hear "
             "from you and starts again on the day your reply arrives. If we do not hear from you, we may close "
             "your request.";
      break;
    case Letter::kExtension: {
      w.subject = "We need more time for your request: " + ref;
      std::string why;
      for (const auto& e : c.timeline) {
        if (e.kind == "extended") why = e.text;
      }
      body = "We are writing about " + asked + " (reference " + ref + ", received on " + received +
             ").\n\nThe law lets us take up to two further months where a request is complex or one of many from "
             "the same person. We need this extra time because:\n\n" +
             (why.empty() ? std::string("[Why the request needs longer]") : why) + "\n\nWe will now answer by " +
             module::LongDay(c.due.day) + ".\n\n" + Complain(ctx);
      break;
    }
    case Letter::kCopy:
      w.subject = "A copy of your data: " + ref;
      body = "We have answered " + asked + " (reference " + ref +
             ").\n\nYou can download a copy of everything we hold about you from this link until " +
             module::LongDay(ctx.today + ctx.copy_days) + ":\n\n" + std::string(kLinkPlaceholder) +
             "\n\nTo open it you will need to give the email address you made your request from. The download is a "
             "zip file: open index.html in it to read what we hold, why, who we share it with and how long we keep "
             "it. The same data is there as JSON and CSV files that you can take to another organisation.\n\n" +
             Complain(ctx);
      break;
    case Letter::kAnswer: {
      w.subject = "Your request has been answered: " + ref;
      body = "We have completed " + asked + " (reference " + ref + ", received on " + received + ").\n\n";
      if (Asks(c, Right::kErasure)) {
        body +=
            "We have deleted the personal data we held about you, except where the law requires us to keep it: "
            "[what was kept, and why].\n\n";
      }
      if (Asks(c, Right::kRectification)) body += "We have corrected: [what was corrected].\n\n";
      if (Asks(c, Right::kRestriction)) {
        body +=
            "We have restricted your personal data: we keep it but do not use it. We will tell you before the "
            "restriction is lifted.\n\n";
      }
      if (Asks(c, Right::kObjection)) body += "We have considered your objection: [what we decided, and why].\n\n";
      if (Asks(c, Right::kWithdrawConsent)) {
        body +=
            "We have recorded that you withdraw your consent, and no longer use your data for what you had "
            "agreed to.\n\n";
      }
      body += Complain(ctx);
      break;
    }
    case Letter::kRefusal:
      w.subject = "We cannot act on your request: " + ref;
      body = "We are writing about " + asked + " (reference " + ref + ", received on " + received +
             ").\n\nWe have decided not to act on it because it is manifestly unfounded or excessive:\n\n" +
             (c.status == "refused" && !c.outcome.empty() ? c.outcome : std::string("[Why, in full]")) +
             "\n\nYou have the right to complain to the Information Commissioner's Office about this "
             "decision, and to ask a court to enforce your rights. " +
             Complain(ctx);
      break;
  }
  w.text = Greeting(c) + body + SignOff(ctx);
  return w;
}

}  // namespace steward::rights
