// Consent asked again after a change to the notice: when the register gains a purpose resting on
// consent that an account's box asks for, the holder is asked at their next sign-in, once, with
// "yes" and "no" equally easy, and can answer later from their account.
#include <nlohmann/json.hpp>

#include "accounts/serving.h"
#include "register/versions.h"
#include "site/pages.h"

namespace steward::accounts {

using http::Response;

std::vector<const ConsentBox*> AccountsServing::NewBoxes(const Account& a) const {
  std::vector<const ConsentBox*> out;
  const auto& boxes = accounts_->settings().consents;
  if (boxes.empty()) return out;
  auto versions = processing::ListVersions(p_.store);
  if (!versions.ok() || versions->size() < 2) return out;  // one version: nothing is new
  auto events = accounts_->Consents(a.id);
  if (!events.ok()) return out;
  for (const auto& box : boxes) {
    bool answered = std::any_of(events->begin(), events->end(), [&](const ConsentEvent& e) { return e.box == box.id; });
    if (answered) continue;
    // When the box's purpose first came into the notice: the oldest version that names it.
    std::string since;
    for (auto it = versions->rbegin(); it != versions->rend(); ++it) {
      auto j = nlohmann::json::parse(it->notice_json, nullptr, false);
      if (!j.is_object() || !j.contains("purposes") || !j["purposes"].is_array()) continue;
      bool named = std::any_of(j["purposes"].begin(), j["purposes"].end(), [&](const nlohmann::json& p) {
        return p.is_object() && p.value("id", "") == box.purpose;
      });
      if (named) {
        since = it->effective_at;
        break;
      }
    }
    if (!since.empty() && since > a.created_at) out.push_back(&box);
  }
  return out;
}

Response AccountsServing::NewConsentsPage(Request& req, Signed& s) { return NewConsents(req, s, {}, 200); }

Response AccountsServing::NewConsents(Request& req, Signed& s, const Errors& errors, int status) {
  auto boxes = NewBoxes(s.account);
  if (boxes.empty()) return NoStore(Response::Redirect("/account"));
  html::List items;
  for (const ConsentBox* b : boxes) {
    const auto* purpose = p_.reg.FindPurpose(b->purpose);
    std::string error;
    for (const auto& [field, message] : errors) {
      if (field == b->id) error = message;
    }
    items.push_back(html::Object{{"id", b->id},
                                 {"error", error},
                                 {"label", b->label},
                                 {"hint", b->hint},
                                 {"purpose", purpose != nullptr ? purpose->description : std::string()},
                                 {"withdraw", purpose != nullptr ? purpose->withdraw : std::string()}});
  }
  html::Object data = Common();
  data["csrf_token"] = s.csrf;
  data["boxes"] = items;
  return NoStore(
      Render(req, "account_new_consents", "We would like to ask you something new", std::move(data), errors, status));
}

Response AccountsServing::PostNewConsents(Request& req, Signed& s) {
  auto form = req.Form();
  auto boxes = NewBoxes(s.account);
  Errors errors;
  std::vector<std::pair<const ConsentBox*, bool>> answers;
  for (const ConsentBox* b : boxes) {
    std::string answer = module::Field(*form, b->id);
    if (answer != "yes" && answer != "no") {
      errors.emplace_back(b->id, "Choose yes or no");
      continue;
    }
    answers.emplace_back(b, answer == "yes");
  }
  if (!errors.empty()) return NewConsents(req, s, errors, 400);
  for (const auto& [b, yes] : answers) {
    Status set = accounts_->SetConsent(
        s.account.id, b->id, yes, yes ? "agreed when asked after signing in" : "declined when asked after signing in",
        Self(req));
    if (!set.ok()) return p_.pages->ErrorFor(set.error(), req);
  }
  auto fresh = accounts_->Load(s.account.id);
  if (!fresh.ok()) return p_.pages->ErrorFor(fresh.error(), req);
  s.account = std::move(*fresh);
  return HomeWith(req, s, "Thank you: your answers are saved, and you can change them here at any time");
}

}  // namespace steward::accounts
