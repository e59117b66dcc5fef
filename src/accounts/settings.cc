#include <algorithm>
#include <set>

#include "accounts/accounts.h"
#include "core/strings.h"

namespace steward::accounts {
namespace {

constexpr const char* kModule = "accounts";

bool IdShape(const std::string& id) {
  return !id.empty() && id.size() <= 40 &&
         id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos && id.front() != '-' &&
         id.back() != '-';
}

bool Within(const std::string& child, const std::string& parent) {
  return child == parent || (child.size() > parent.size() && child.starts_with(parent) && child[parent.size()] == '.');
}

std::optional<FieldType> ParseType(std::string_view name) {
  for (FieldType t : {FieldType::kText, FieldType::kEmail, FieldType::kTelephone, FieldType::kDate,
                      FieldType::kPostcode, FieldType::kChoice}) {
    if (FieldTypeName(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kText:
      return "text";
    case FieldType::kEmail:
      return "email";
    case FieldType::kTelephone:
      return "telephone";
    case FieldType::kDate:
      return "date";
    case FieldType::kPostcode:
      return "postcode";
    case FieldType::kChoice:
      return "choice";
  }
  return "";
}

const Field* Settings::FindField(std::string_view id) const {
  for (const auto& f : fields) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const ConsentBox* Settings::FindConsent(std::string_view id) const {
  for (const auto& c : consents) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg) {
  config::Problems problems(document.path());
  config::Table root = document.Root(problems);
  auto table = root.Child("accounts");
  if (!table) return std::optional<Settings>();
  Settings s;

  // A dataset of this module, by id; reports why not at `where`.
  auto dataset = [&](const std::string& id, config::Position where,
                     const std::string& what) -> const processing::Dataset* {
    for (const auto& d : reg.datasets) {
      if (d.id != id) continue;
      if (d.module != kModule) {
        problems.Add(where, what + " names dataset '" + id + "', which is module '" + d.module +
                                "'s: name a dataset of module \"accounts\"");
        return nullptr;
      }
      if (!d.kept_by.empty()) {
        problems.Add(where, what + " keeps its data here, but the register's dataset '" + id + "' says it is kept by " +
                                d.kept_by + ": take out its kept_by");
        return nullptr;
      }
      return &d;
    }
    problems.Add(where, what + " names dataset '" + id + "', which the register does not declare");
    return nullptr;
  };
  auto covers = [](const processing::Dataset& d, const std::string& category) {
    return std::any_of(d.categories.begin(), d.categories.end(),
                       [&](const std::string& c) { return Within(category, c); });
  };

  const processing::Dataset* own = nullptr;
  if (table->String("dataset", s.dataset, /*required=*/true)) {
    own = dataset(s.dataset, table->Where("dataset"), "[accounts] 'dataset'");
    if (own != nullptr) {
      for (const char* c : {"user.contact.email", "user.account.password"}) {
        if (!covers(*own, c)) {
          problems.Add(table->Where("dataset"), std::string("an account keeps ") + c +
                                                    ", but the register's dataset '" + s.dataset +
                                                    "' does not declare it (add it to 'categories')");
        }
      }
    }
  }

  // Consent boxes first: fields name them.
  std::set<std::string> seen;
  for (auto& t : table->Children("consents")) {
    ConsentBox box;
    if (t.String("id", box.id, true)) {
      if (!IdShape(box.id)) {
        problems.Add(t.Where("id"), "a consent box's 'id' is lower-case letters, digits and dashes: \"surveys\"");
      } else if (!seen.insert(box.id).second) {
        problems.Add(t.Where("id"), "consent box '" + box.id + "' is declared twice");
      }
    }
    if (t.String("label", box.label, true) && (box.label.empty() || box.label.size() > 300)) {
      problems.Add(t.Where("label"), "a consent box's 'label' (what the person agrees to) is 1 to 300 characters");
    }
    t.String("hint", box.hint);
    if (t.String("purpose", box.purpose, true)) {
      auto p = std::find_if(reg.purposes.begin(), reg.purposes.end(),
                            [&](const processing::Purpose& x) { return x.id == box.purpose; });
      if (p == reg.purposes.end()) {
        problems.Add(t.Where("purpose"), "consent box '" + box.id + "' names purpose '" + box.purpose +
                                             "', which the register does not declare");
      } else if (p->basis != processing::LawfulBasis::kConsent) {
        problems.Add(t.Where("purpose"), "consent box '" + box.id + "' asks consent for purpose '" + box.purpose +
                                             "', whose lawful basis is " +
                                             std::string(processing::LawfulBasisName(p->basis)) +
                                             ": a box is for a purpose that relies on consent");
      }
    }
    if (t.String("dataset", box.dataset, true)) {
      if (const auto* d = dataset(box.dataset, t.Where("dataset"), "consent box '" + box.id + "'")) {
        if (std::find(d->purposes.begin(), d->purposes.end(), box.purpose) == d->purposes.end()) {
          problems.Add(t.Where("dataset"), "consent box '" + box.id + "': dataset '" + box.dataset +
                                               "' does not list purpose '" + box.purpose + "'");
        }
        if (!covers(*d, "user.preferences.consent")) {
          problems.Add(t.Where("dataset"), "consent box '" + box.id +
                                               "' keeps a record of each consent, but dataset '" + box.dataset +
                                               "' does not declare user.preferences.consent");
        }
      }
    }
    std::string withdrawal = "stop";
    t.String("withdrawal", withdrawal);
    if (withdrawal != "stop" && withdrawal != "delete") {
      problems.Add(t.Where("withdrawal"),
                   "'withdrawal' is \"stop\" (the data is kept for its dataset's time) or \"delete\" (at once)");
    }
    box.delete_on_withdrawal = withdrawal == "delete";
    t.Finish();
    s.consents.push_back(std::move(box));
  }

  seen.clear();
  for (auto& t : table->Children("fields")) {
    Field f;
    if (t.String("id", f.id, true)) {
      if (!IdShape(f.id) || f.id == "email" || f.id == "password") {
        problems.Add(t.Where("id"),
                     "a field's 'id' is lower-case letters, digits and dashes, and not \"email\" or \"password\" "
                     "(every account has those)");
      } else if (!seen.insert(f.id).second) {
        problems.Add(t.Where("id"), "field '" + f.id + "' is declared twice");
      }
    }
    if (t.String("label", f.label, true) && (f.label.empty() || f.label.size() > 120)) {
      problems.Add(t.Where("label"), "a field's 'label' is 1 to 120 characters");
    }
    t.String("hint", f.hint);
    std::string type = "text";
    t.String("type", type);
    if (auto parsed = ParseType(type)) {
      f.type = *parsed;
    } else {
      problems.Add(t.Where("type"), "a field's 'type' is text, email, telephone, date, postcode or choice");
    }
    t.Bool("required", f.required);
    t.StringArray("choices", f.choices);
    if (f.type == FieldType::kChoice && f.choices.empty()) {
      problems.Add(t.where(), "field '" + f.id + "' is a choice: list its 'choices'");
    }
    if (f.type != FieldType::kChoice && !f.choices.empty()) {
      problems.Add(t.Where("choices"), "only a field of type \"choice\" has 'choices'");
    }
    f.dataset = s.dataset;
    t.String("dataset", f.dataset);
    t.String("consent", f.consent);
    const ConsentBox* box = nullptr;
    if (!f.consent.empty()) {
      box = s.FindConsent(f.consent);
      if (box == nullptr) {
        problems.Add(t.Where("consent"), "field '" + f.id + "' names consent box '" + f.consent +
                                             "', which [[accounts.consents]] does not declare");
      } else if (!t.Has("dataset")) {
        f.dataset = box->dataset;
      }
    }
    if (t.String("category", f.category, true)) {
      const auto& known = processing::KnownCategories();
      if (std::find(known.begin(), known.end(), f.category) == known.end()) {
        problems.Add(t.Where("category"), "field '" + f.id + "': '" + f.category + "' is not a data category");
      } else if (const auto* d =
                     dataset(f.dataset, t.Where(t.Has("dataset") ? "dataset" : "category"), "field '" + f.id + "'")) {
        if (!covers(*d, f.category)) {
          problems.Add(t.Where("category"), "field '" + f.id + "' keeps " + f.category +
                                                ", which the register's dataset '" + f.dataset +
                                                "' does not declare (add it to 'categories')");
        }
        f.special = Within(f.category, "user.special");
        if (f.special && box == nullptr) {
          problems.Add(t.where(),
                       "field '" + f.id + "' is special category data: give it only with a consent box ('consent')");
        }
      }
    }
    if (f.required && !f.consent.empty()) {
      problems.Add(t.Where("required"), "field '" + f.id + "' is given under a consent box, so it cannot be required");
    }
    t.Finish();
    s.fields.push_back(std::move(f));
  }

  if (table->Int("minimum_age", s.minimum_age, 1, 25)) {
    if (!table->String("age_check", s.age_check, true)) {
      // reported as missing
    } else if (s.age_check != "confirm") {
      const Field* f = s.FindField(s.age_check);
      if (f == nullptr || f->type != FieldType::kDate || !f->required) {
        problems.Add(table->Where("age_check"),
                     "'age_check' is \"confirm\" (a tick box) or the id of a required date field (the date of birth)");
      }
    }
  } else if (table->Has("age_check")) {
    problems.Add(table->Where("age_check"), "'age_check' goes with 'minimum_age'");
  }

  if (table->Bool("referrals", s.referrals) && s.referrals && own != nullptr && own->sources.empty()) {
    problems.Add(table->Where("referrals"),
                 "[accounts] takes referrals from other organisations, so the register's dataset '" + s.dataset +
                     "' names them in 'sources' (the notice must say where data comes from: Article 14)");
  }

  if (auto closure = table->Child("closure")) {
    if (closure->String("dataset", s.closure_dataset, true)) {
      if (const auto* d = dataset(s.closure_dataset, closure->Where("dataset"), "[accounts.closure]")) {
        s.closure_period = d->retention.period;
        for (const auto& pid : d->purposes) {
          if (const auto* purpose = reg.FindPurpose(pid)) {
            std::string why = purpose->description;
            if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
            s.closure_why += (s.closure_why.empty() ? "" : ", and to ") + why;
          }
        }
        closure->StringArray("keep", s.closure_keep);
        for (const auto& id : s.closure_keep) {
          const Field* f = s.FindField(id);
          if (f == nullptr) {
            problems.Add(closure->Where("keep"), "[accounts.closure] keeps field '" + id + "', which is not declared");
          } else if (!covers(*d, f->category)) {
            problems.Add(closure->Where("keep"), "[accounts.closure] keeps field '" + id + "' (" + f->category +
                                                     "), which dataset '" + d->id + "' does not declare");
          }
        }
      }
    }
    closure->Finish();
  }

  if (auto t = table->Child("oidc")) {
    oidc::ProviderSettings o;
    o.name = "GOV.UK One Login";
    o.vtr = "Cl.Cm";
    t->String("name", o.name);
    if (o.name.empty() || o.name.size() > 60) {
      problems.Add(t->Where("name"), "[accounts.oidc] 'name' (\"Sign in with NAME\") is 1 to 60 characters");
    }
    if (t->String("issuer", o.issuer, true)) {
      bool loopback = o.issuer.starts_with("http://127.0.0.1") || o.issuer.starts_with("http://localhost") ||
                      o.issuer.starts_with("http://[::1]");
      if (!o.issuer.starts_with("https://") && !loopback) {
        problems.Add(t->Where("issuer"),
                     "[accounts.oidc] 'issuer' is the provider's https:// address, exactly as its discovery document "
                     "names it: \"https://oidc.account.gov.uk/\"");
      }
    }
    if (t->String("client_id", o.client_id, true) &&
        (o.client_id.empty() || o.client_id.size() > 200 || o.client_id.find_first_of(" \t\"&") != std::string::npos)) {
      problems.Add(t->Where("client_id"),
                   "[accounts.oidc] 'client_id' is the identifier the provider gave the service");
    }
    t->String("private_key_file", o.private_key, true);
    if (t->String("vtr", o.vtr) && o.vtr != "Cl.Cm" && o.vtr != "Cl" && !o.vtr.empty()) {
      problems.Add(t->Where("vtr"), o.vtr.find(".P") != std::string::npos
                                        ? "[accounts.oidc] proving identity (P1, P2) is not supported: 'vtr' is "
                                          "\"Cl.Cm\" (two factors) or \"Cl\""
                                        : "[accounts.oidc] 'vtr' is \"Cl.Cm\" (two factors, One Login's default), "
                                          "\"Cl\" or \"\" (ask none)");
    }
    if (t->String("ui_locales", o.ui_locales) && o.ui_locales != "en" && o.ui_locales != "cy" &&
        !o.ui_locales.empty()) {
      problems.Add(t->Where("ui_locales"), "[accounts.oidc] 'ui_locales' is \"en\" or \"cy\"");
    }
    int64_t timeout = 10;
    t->Int("timeout_seconds", timeout, 1, 30);
    o.timeout = std::chrono::seconds(timeout);
    // The provider gives the email address: the notice must say so (Article 13(1) and 14(2)(f)).
    if (own != nullptr && !std::any_of(own->sources.begin(), own->sources.end(), [&](const std::string& src) {
          return ToLower(src).find(ToLower(o.name)) != std::string::npos;
        })) {
      problems.Add(t->Where("issuer"), "people who sign in with " + o.name +
                                           " get their email address from it: the register's dataset '" + s.dataset +
                                           "' names it in 'sources'");
    }
    t->Finish();
    s.oidc = std::move(o);
  }

  if (!root.IsTable("mail")) {
    problems.Add(table->where(),
                 "[accounts] emails people a link to confirm their address: the site's file needs a "
                 "[mail] to say how (docs/mail.md)");
  }
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

}  // namespace steward::accounts
