#include "accounts/referrals.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include "core/strings.h"
#include "notice/notice.h"

namespace steward::accounts {
namespace {

// "a, b and c".
std::string Listed(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  }
  return out;
}

std::string LowerFirst(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string RightText(const std::string& right) {
  if (right == "access") return "ask for a copy of what we hold about you";
  if (right == "rectification") return "have it corrected";
  if (right == "erasure") return "have it deleted";
  if (right == "restriction") return "ask us to limit how we use it";
  if (right == "portability") return "get it in a form you can take to another service";
  if (right == "objection") return "object to our using it";
  return "";
}

}  // namespace

std::string Article14Text(const processing::Register& reg, const Settings& settings, const Referral& referral,
                          std::string_view site_name, std::string_view link, int64_t link_days,
                          std::string_view privacy_url) {
  // What is held: the email address and each field given, by its category's words; and the
  // datasets that hold them, for purposes, recipients and retention.
  std::vector<std::string> what = {notice::CategoryLabel("user.contact.email")};
  std::vector<std::string> dataset_ids = {settings.dataset};
  for (const auto& [id, value] : referral.values) {
    const Field* f = settings.FindField(id);
    if (f == nullptr || value.empty()) continue;
    std::string label = notice::CategoryLabel(f->category);
    if (std::find(what.begin(), what.end(), label) == what.end()) what.push_back(label);
    if (std::find(dataset_ids.begin(), dataset_ids.end(), f->dataset) == dataset_ids.end()) {
      dataset_ids.push_back(f->dataset);
    }
  }
  std::vector<std::string> why, recipients, keep;
  std::set<std::string> rights, seen_purposes;
  for (const auto& id : dataset_ids) {
    const processing::Dataset* d = reg.FindDataset(id);
    if (d == nullptr) continue;
    for (const auto& pid : d->purposes) {
      const processing::Purpose* p = reg.FindPurpose(pid);
      if (p == nullptr || !seen_purposes.insert(pid).second) continue;
      why.push_back(LowerFirst(p->description) + " (the law allows this as " +
                    std::string(processing::LawfulBasisArticle(p->basis)) + " of the UK GDPR)");
      for (auto& r : processing::RightsForBasis(p->basis)) rights.insert(std::move(r));
    }
    for (const auto& rid : d->recipients) {
      const processing::Recipient* r = reg.FindRecipient(rid);
      if (r != nullptr && std::find(recipients.begin(), recipients.end(), r->name) == recipients.end()) {
        recipients.push_back(r->name);
      }
    }
    if (!d->retention.text.empty()) keep.push_back(LowerFirst(d->retention.text));
  }
  std::vector<std::string> can;
  for (const char* r : {"access", "rectification", "erasure", "restriction", "portability", "objection"}) {
    if (rights.count(r)) can.push_back(RightText(r));
  }

  std::string text = std::string(Trim(referral.source)) + " has given us your details, so that " +
                     std::string(site_name) + " can help you. Because they did not come from you, the law asks us " +
                     "to tell you what we hold and why.\n\n";
  text += "Who we are: " + reg.controller.name;
  if (!reg.controller.address.empty()) text += ", " + reg.controller.address;
  text += ".";
  if (!reg.controller.email.empty()) text += " Email: " + reg.controller.email + ".";
  text += "\n";
  if (!reg.dpo.email.empty() || !reg.dpo.name.empty()) {
    text += "Our data protection officer: " + (reg.dpo.name.empty() ? std::string("the DPO") : reg.dpo.name) +
            (reg.dpo.email.empty() ? "" : ", " + reg.dpo.email) + ".\n";
  }
  text += "\nWhat we hold about you: your " + Listed(what) + ".\n";
  text += "Where it came from: " + std::string(Trim(referral.source)) + ".\n";
  if (!why.empty()) text += "Why we hold it: to " + Listed(why) + ".\n";
  text += "Who we share it with: " +
          (recipients.empty() ? std::string("nobody outside ") + reg.controller.name : Listed(recipients)) + ".\n";
  if (!keep.empty()) text += "How long we keep it: " + Listed(keep) + ".\n";
  if (!can.empty()) text += "\nYou can " + Listed(can) + ".";
  text += " " + reg.complaints_to_us + " " + reg.complaints + "\n\n";
  text += "To see what we hold and use the account yourself, choose a password (the link works for " +
          std::to_string(link_days) + " days):\n\n" + std::string(link) + "\n\n";
  text += "Our privacy notice says more: " + std::string(privacy_url) + "\n";
  return text;
}

}  // namespace steward::accounts
