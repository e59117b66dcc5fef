#include "accounts/subject_data.h"

#include <map>

namespace steward::accounts {

using subject::Key;
using subject::KeyKind;

namespace {

Actor AsAdviser(const subject::Actor& actor) {
  // Rights requests are handled by staff ("staff:3") or the command line ("cli"), never the person.
  return Actor{.id = actor.actor == "self" ? "system" : actor.actor, .request_id = actor.request_id};
}

}  // namespace

std::vector<KeyKind> AccountSubjects::Kinds() const {
  return {KeyKind::kEmail, KeyKind::kAccountId, KeyKind::kSubjectId};
}

Result<std::map<std::string, int64_t>> AccountSubjects::Counts(const Account& a) const {
  const Settings& s = accounts_.settings();
  std::map<std::string, int64_t> out;
  out[s.dataset] += 1;
  for (const auto& [field, value] : a.values) {
    const Field* f = s.FindField(field);
    out[f != nullptr ? f->dataset : s.dataset] += 1;
  }
  STEWARD_ASSIGN_OR_RETURN(auto consents, accounts_.Consents(a.id));
  for (const auto& e : consents) {
    const ConsentBox* b = s.FindConsent(e.box);
    out[b != nullptr ? b->dataset : s.dataset] += 1;
  }
  STEWARD_ASSIGN_OR_RETURN(auto referrals, accounts_.Referrals(a.id));
  out[s.dataset] += static_cast<int64_t>(referrals.size());
  return out;
}

Result<subject::Finding> AccountSubjects::Find(const Key& key) {
  subject::Finding out;
  STEWARD_ASSIGN_OR_RETURN(auto ids, accounts_.AccountsOf(key));
  if (ids.empty()) return out;
  STEWARD_ASSIGN_OR_RETURN(bool marked, Restricted(key));
  const Settings& s = accounts_.settings();
  std::map<std::string, std::pair<int64_t, bool>> counts;  // dataset -> (records, restricted)
  // Privacy: counts the account's records by dataset; opens nothing it shows.
  for (int64_t id : ids) {
    STEWARD_ASSIGN_OR_RETURN(Account a, accounts_.Load(id));
    out.linked.push_back(*Key::Make(KeyKind::kAccountId, "accounts:" + std::to_string(id)));
    if (a.state == "closed") {
      auto& c = counts[s.closure_dataset.empty() ? s.dataset : s.closure_dataset];
      c.first += 1 + static_cast<int64_t>(a.values.size());
      c.second = true;
      continue;
    }
    STEWARD_ASSIGN_OR_RETURN(auto held, Counts(a));
    for (const auto& [dataset, n] : held) counts[dataset].first += n;
  }
  for (const auto& [dataset, c] : counts) {
    out.holdings.push_back({.dataset = dataset,
                            .count = c.first,
                            .restricted = marked || c.second,
                            .note = c.second ? "kept to the minimum after the account was closed, and used for "
                                               "nothing else"
                                             : ""});
  }
  return out;
}

Result<std::vector<subject::Record>> AccountSubjects::Export(const Key& key) {
  std::vector<subject::Record> out;
  STEWARD_ASSIGN_OR_RETURN(auto ids, accounts_.AccountsOf(key));
  const Settings& s = accounts_.settings();
  for (int64_t id : ids) {
    // Privacy: the account's datasets, opened for the person they are about.
    STEWARD_ASSIGN_OR_RETURN(Account a, accounts_.Load(id));
    std::string own = a.state == "closed" && !s.closure_dataset.empty() ? s.closure_dataset : s.dataset;
    subject::Record account{.dataset = own, .collected_at = a.created_at};
    account.fields.push_back({"user.account", "Account number", std::to_string(a.id)});
    if (!a.email.empty()) account.fields.push_back({"user.contact.email", "Email address", a.email});
    account.fields.push_back({"user.account.settings", "State", a.state});
    if (a.has_password) account.fields.push_back({"user.account.password", "Password", "set (kept only as a hash)"});
    if (!a.keep_until.empty()) account.fields.push_back({"user.account.settings", "Kept until", a.keep_until});
    STEWARD_ASSIGN_OR_RETURN(std::string linked, accounts_.LinkedSince(id));
    if (!linked.empty()) {
      account.fields.push_back({"user.account.settings", "Signs in with",
                                (s.oidc ? s.oidc->name : std::string("a sign-in service")) + ", since " + linked +
                                    " (we keep only a keyed hash of its identifier of you)"});
    }
    std::map<std::string, subject::Record> by_dataset;
    for (const auto& [field, value] : a.values) {
      const Field* f = s.FindField(field);
      std::string dataset = a.state == "closed" ? own : (f != nullptr ? f->dataset : s.dataset);
      subject::Field out_field{f != nullptr ? f->category : "user", f != nullptr ? f->label : field, value};
      if (dataset == own) {
        account.fields.push_back(std::move(out_field));
      } else {
        auto& r = by_dataset[dataset];
        r.dataset = dataset;
        r.collected_at = a.created_at;
        r.fields.push_back(std::move(out_field));
      }
    }
    out.push_back(std::move(account));
    for (auto& [dataset, r] : by_dataset) out.push_back(std::move(r));
    STEWARD_ASSIGN_OR_RETURN(auto consents, accounts_.Consents(id));
    for (const auto& e : consents) {
      const ConsentBox* b = s.FindConsent(e.box);
      out.push_back({.dataset = b != nullptr ? b->dataset : s.dataset,
                     .collected_at = e.at,
                     .fields = {{"user.preferences.consent", b != nullptr ? b->label : e.box,
                                 std::string(e.given ? "given" : "withdrawn") + " (" + e.how + ")"}}});
    }
    STEWARD_ASSIGN_OR_RETURN(auto referrals, accounts_.Referrals(id));
    for (const auto& r : referrals) {
      out.push_back({.dataset = own,
                     .collected_at = r.received_at,
                     .fields = {{"user.account.settings", "Referred by", r.source},
                                {"user.account.settings", "Told what we hold",
                                 r.told_at.empty() ? "not yet: the address could not be emailed" : r.told_at}}});
    }
    STEWARD_ASSIGN_OR_RETURN(auto activity, accounts_.ActivityOf(id, 10000));
    for (auto it = activity.rbegin(); it != activity.rend(); ++it) {
      std::string who = it->actor == "self" ? "you" : it->actor.starts_with("staff:") ? "an adviser" : "us";
      out.push_back({.dataset = own,
                     .collected_at = it->at,
                     .fields = {{"user.account.settings", "Activity",
                                 it->action + (it->detail.empty() ? "" : ": " + it->detail) + " (by " + who + ")"}}});
    }
  }
  return out;
}

Result<std::vector<subject::Erasure>> AccountSubjects::Erase(const Key& key, const subject::Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(auto ids, accounts_.AccountsOf(key));
  const Settings& s = accounts_.settings();
  std::vector<subject::Erasure> out;
  for (int64_t id : ids) {
    STEWARD_ASSIGN_OR_RETURN(Account a, accounts_.Load(id));
    std::string kept_until = a.keep_until;
    if (a.state != "closed") {
      // Erasure closes the account: what the closure keeps stays, as the register says.
      STEWARD_ASSIGN_OR_RETURN(auto held, Counts(a));
      // The answer to the request tells the person: no closing email re-writes their address.
      STEWARD_ASSIGN_OR_RETURN(kept_until, accounts_.Close(id, AsAdviser(actor), /*email_owner=*/false));
      if (!kept_until.empty()) {
        // The account itself and the fields the closure keeps are the exemption below.
        held[s.dataset] -= 1;
        for (const auto& f : s.closure_keep) {
          const Field* field = s.FindField(f);
          if (a.values.count(f) && field != nullptr) held[field->dataset] -= 1;
        }
      }
      for (const auto& [dataset, n] : held) {
        if (n > 0) out.push_back({.dataset = dataset, .erased = n});
      }
    }
    if (!kept_until.empty()) {
      out.push_back({.dataset = s.closure_dataset,
                     .exemption = "the minimum kept after an account closes, until " + kept_until.substr(0, 10) +
                                  ", restricted: used only to " + s.closure_why});
    }
  }
  if (ids.empty()) return out;
  int64_t erased = 0;
  bool kept = false;
  for (const auto& e : out) {
    erased += e.erased;
    kept = kept || !e.exemption.empty();
  }
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    return AuditIn(c, "subject.erased", key, actor,
                   {{"erased", std::to_string(erased)}, {"minimum_kept", kept ? "yes" : "no"}});
  }));
  return out;
}

Result<int64_t> AccountSubjects::Rectify(const Key& key, std::string_view category, std::string_view value,
                                         const subject::Actor& actor) {
  const Settings& s = accounts_.settings();
  std::string field;
  if (category == "user.contact.email") field = "email";
  for (const auto& f : s.fields) {
    if (field.empty() && f.category == category) field = f.id;
  }
  if (field.empty()) return MakeError(ErrorCode::kFailedPrecondition, "nothing this module holds is of that category");
  STEWARD_ASSIGN_OR_RETURN(auto ids, accounts_.AccountsOf(key));
  int64_t changed = 0;
  for (int64_t id : ids) {
    STEWARD_ASSIGN_OR_RETURN(Account a, accounts_.Load(id));
    if (a.state == "closed") continue;
    STEWARD_ASSIGN_OR_RETURN(int64_t n, accounts_.Rectify(id, field, value, AsAdviser(actor)));
    changed += n;
  }
  return changed;
}

}  // namespace steward::accounts
