#include "accounts/staff_pages.h"

#include "core/strings.h"

namespace steward::accounts {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::Field;
using module::FieldError;
using Errors = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kPath = "/admin/customers";

// How a customer can have told their adviser something: the values the forms offer.
html::List HowOptions(std::string_view chosen = "") {
  html::List out;
  for (auto [value, text] : std::initializer_list<std::pair<const char*, const char*>>{{"in-person", "In person"},
                                                                                       {"telephone", "By telephone"},
                                                                                       {"video", "On a video call"},
                                                                                       {"letter", "By letter"}}) {
    out.push_back(html::Object{{"value", value}, {"text", text}, {"checked", chosen == value}});
  }
  return out;
}

class Pages : public std::enable_shared_from_this<Pages> {
 public:
  Pages(module::Platform& p, Accounts& accounts) : p_(p), accounts_(accounts) {}

  std::vector<module::StaffPage> All() {
    auto self = shared_from_this();
    auto page = [&](Method method, std::string pattern, module::StaffHandler handler) {
      return module::StaffPage{.method = method,
                               .pattern = std::move(pattern),
                               .permission = staff::Permission::kActForCustomer,
                               .handler = std::move(handler)};
    };
    auto home = page(Method::kGet, kPath, module::Bind(self, &Pages::Search));
    home.nav_title = "Customers";
    home.nav_text = "Find a customer's account, create one for them, and act on their behalf.";
    home.nav_order = 35;
    std::string one = std::string(kPath) + "/{id}";
    return {home,
            page(Method::kGet, std::string(kPath) + "/new", module::Bind(self, &Pages::NewPage)),
            page(Method::kPost, std::string(kPath) + "/new", module::Bind(self, &Pages::Create)),
            page(Method::kGet, one, module::Bind(self, &Pages::Customer)),
            page(Method::kPost, one + "/details", module::Bind(self, &Pages::UpdateDetails)),
            page(Method::kPost, one + "/consents", module::Bind(self, &Pages::RecordConsent)),
            page(Method::kPost, one + "/hand-over", module::Bind(self, &Pages::HandOver)),
            page(Method::kPost, one + "/told", module::Bind(self, &Pages::Told)),
            page(Method::kPost, one + "/second-factor/remove", module::Bind(self, &Pages::RemoveSecondFactor)),
            page(Method::kPost, one + "/special", module::Bind(self, &Pages::ShowSpecial))};
  }

 private:
  Actor Adviser(const Request& req, const module::StaffContext& ctx) const {
    return Actor{.id = ctx.actor.id, .request_id = req.request_id};
  }

  Response Render(Request& req, module::StaffContext& ctx, std::string_view tmpl, std::string title, html::Object data,
                  const Errors& errors, int status) {
    if (!errors.empty()) {
      data["errors"] = module::ErrorSummary(errors);
      for (const auto& [field, message] : errors) data[field + "_error"] = message;
      title = "Error: " + title;
    }
    return ctx.layout->Page(req, ctx, tmpl, title, std::move(data), kPath, status);
  }

  // ---- Finding -----------------------------------------------------------------------------------

  Response Search(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    std::string email(Trim(Field(*query, "email"))), name(Trim(Field(*query, "name")));
    std::string day(Trim(Field(*query, "dob-day"))), month(Trim(Field(*query, "dob-month"))),
        year(Trim(Field(*query, "dob-year")));
    html::Object data{
        {"email", email}, {"name", name}, {"dob_date", module::DateInput("dob", *query, std::nullopt, false)}};
    data["can_search_by_name"] = accounts_.NameField() != nullptr && accounts_.BirthField() != nullptr;
    Errors errors;
    bool searched = !email.empty() || !name.empty() || !year.empty();
    if (searched) {
      auto two = [](const std::string& s) { return s.size() == 1 ? "0" + s : s; };
      std::string dob = year.empty() ? "" : year + "-" + two(month) + "-" + two(day);
      auto found = accounts_.Find(email, name, dob);
      if (!found.ok() && found.error().code == ErrorCode::kInvalidArgument) {
        errors.push_back(FieldError(found.error(), "email"));
      } else if (!found.ok()) {
        return ctx.layout->ErrorFor(found.error(), req);
      } else {
        html::List rows;
        // Privacy: the account's dataset, shown to an adviser who searched for this customer.
        for (const auto& m : *found) {
          rows.push_back(html::Object{{"id", m.id},
                                      {"name", m.name.empty() ? "(no name given)" : m.name},
                                      {"email", m.email},
                                      {"state", m.state == "open" ? "Open" : "Waiting for the customer to confirm"},
                                      {"created", DateText(m.created_at)}});
        }
        data["results"] = rows;
        data["searched"] = true;
        data["none"] = rows.empty();
        (void)p_.trail.Append({.actor = ctx.actor.id,
                               .action = "customers.searched",
                               .request_id = req.request_id,
                               .details = {{"by", email.empty() ? "name and date of birth" : "email"},
                                           {"found", std::to_string(rows.size())}}});
      }
    }
    // Referred people whose address could not be emailed: the law's month runs from the referral.
    auto untold = accounts_.Untold();
    if (!untold.ok()) return ctx.layout->ErrorFor(untold.error(), req);
    html::List waiting;
    for (const auto& r : *untold) {
      waiting.push_back(html::Object{{"customer", r.account},
                                     {"source", r.source},
                                     {"received", DateText(r.received_at)},
                                     {"due", DateText(r.due)}});
    }
    data["untold"] = waiting;
    data["any_untold"] = !waiting.empty();
    return Render(req, ctx, "admin_customers", "Customers", std::move(data), errors, errors.empty() ? 200 : 400);
  }

  // ---- Creating ----------------------------------------------------------------------------------

  Response NewPage(Request& req, module::StaffContext& ctx) { return New(req, ctx, {}, "", {}, 200); }

  Response New(Request& req, module::StaffContext& ctx, const std::map<std::string, std::string>& values,
               const std::string& agreed, const Errors& errors, int status) {
    html::Object data;
    std::map<std::string, std::string> by_field(errors.begin(), errors.end());
    data["email"] = values.count("email") ? values.at("email") : "";
    data["fields"] = FieldItems(accounts_.settings(), values, by_field, false, false);
    data["how"] = HowOptions(agreed);
    return Render(req, ctx, "admin_customer_new", "Create an account for a customer", std::move(data), errors, status);
  }

  Response Create(Request& req, module::StaffContext& ctx) {
    auto values = ReadValues(ctx.form, accounts_.settings(), false);
    std::string email(Trim(Field(ctx.form, "email")));
    std::string agreed = Field(ctx.form, "agreed");
    auto id = accounts_.CreateForCustomer(email, values, agreed, Adviser(req, ctx));
    if (!id.ok() && (id.error().code == ErrorCode::kInvalidArgument || id.error().code == ErrorCode::kAlreadyExists)) {
      values["email"] = email;
      return New(req, ctx, values, agreed, {FieldError(id.error(), "email")}, 400);
    }
    if (!id.ok()) return ctx.layout->ErrorFor(id.error(), req);
    return Response::Redirect(std::string(kPath) + "/" + std::to_string(*id));
  }

  // ---- One customer ------------------------------------------------------------------------------

  Response Customer(Request& req, module::StaffContext& ctx) { return View(req, ctx, "", {}, {}, false, 200); }

  Response View(Request& req, module::StaffContext& ctx, const std::string& notice,
                const std::map<std::string, std::string>& edited, const Errors& errors, bool special, int status) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto a = accounts_.Load(*id);
    if (!a.ok() && a.error().code == ErrorCode::kNotFound) return ctx.layout->Error(404, req);
    if (!a.ok()) return ctx.layout->ErrorFor(a.error(), req);
    // A closed account is kept restricted: used for nothing, shown to no one acting for the customer.
    if (a->state == "closed") return ctx.layout->Error(404, req);
    const Settings& settings = accounts_.settings();
    html::Object data{{"id", a->id},
                      {"email", a->email},
                      {"created", DateText(a->created_at)},
                      {"has_password", a->has_password},
                      {"open", a->state == "open"}};
    if (!notice.empty()) data["notice"] = notice;
    std::map<std::string, std::string> by_field(errors.begin(), errors.end());
    std::map<std::string, std::string> values = a->values;
    for (const auto& [k, v] : edited) values[k] = v;
    data["fields"] = FieldItems(settings, values, by_field, false, false);
    auto now = accounts_.ConsentsNow(*id);
    if (!now.ok()) return ctx.layout->ErrorFor(now.error(), req);
    html::List covered;
    bool any_special = false;
    for (const auto& f : settings.fields) {
      if (f.consent.empty()) continue;
      if (f.special) any_special = any_special || a->values.count(f.id) > 0;
      if (f.special && !special) continue;
      auto v = a->values.find(f.id);
      if (v == a->values.end()) continue;
      covered.push_back(html::Object{{"label", f.label}, {"value", v->second}});
    }
    data["covered"] = covered;
    data["special_hidden"] = any_special && !special;
    auto events = accounts_.Consents(*id);
    if (!events.ok()) return ctx.layout->ErrorFor(events.error(), req);
    html::List consents = ConsentItems(settings, *events);
    for (size_t i = 0; i < consents.size() && i < settings.consents.size(); ++i) {
      // What the customer gives under a box, typed by the adviser as they record it.
      Settings only;
      for (const auto& f : settings.fields) {
        if (f.consent == settings.consents[i].id) only.fields.push_back(f);
      }
      html::List covered_fields = FieldItems(only, values, by_field, true, true);
      html::Object item = *consents[i].AsObject();
      item["any_covered"] = !covered_fields.empty();
      item["covered_fields"] = html::Object{{"fields", std::move(covered_fields)}};
      consents[i] = std::move(item);
    }
    data["consents"] = consents;
    auto referrals = accounts_.Referrals(*id);
    if (!referrals.ok()) return ctx.layout->ErrorFor(referrals.error(), req);
    html::List referred;
    for (const auto& r : *referrals) {
      referred.push_back(html::Object{{"id", "referral-" + std::to_string(r.id)},
                                      {"referral", r.id},
                                      {"source", r.source},
                                      {"received", DateText(r.received_at)},
                                      {"due", DateText(r.due)},
                                      {"told", r.told_at.empty() ? "" : DateText(r.told_at)}});
    }
    data["referrals"] = referred;
    data["any_referrals"] = !referred.empty();
    data["how"] = HowOptions();
    data["customer"] = a->id;
    data["second_factor"] = a->second_factor;
    auto activity = accounts_.ActivityOf(*id, 50);
    if (!activity.ok()) return ctx.layout->ErrorFor(activity.error(), req);
    data["activity"] = ActivityItems(*activity);
    std::string name;
    if (const accounts::Field* nf = accounts_.NameField(); nf != nullptr && a->values.count(nf->id))
      name = a->values[nf->id];
    data["name"] = name.empty() ? "Customer " + std::to_string(a->id) : name;
    return Render(req, ctx, "admin_customer", name.empty() ? "Customer" : name, std::move(data), errors, status);
  }

  Response UpdateDetails(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto values = ReadValues(ctx.form, accounts_.settings(), true);
    // Only the fields that are not given under a consent: those go with the consent's form.
    for (const auto& f : accounts_.settings().fields) {
      if (!f.consent.empty()) values.erase(f.id);
    }
    Status s = accounts_.Update(*id, values, Adviser(req, ctx));
    if (!s.ok() && s.error().code == ErrorCode::kInvalidArgument) {
      return View(req, ctx, "", values, {FieldError(s.error(), "details")}, false, 400);
    }
    if (!s.ok()) return ctx.layout->ErrorFor(s.error(), req);
    return View(req, ctx, "The customer's details are updated", {}, {}, false, 200);
  }

  Response RecordConsent(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    std::string box = Field(ctx.form, "box"), action = Field(ctx.form, "action"), how = Field(ctx.form, "how");
    if (action != "give" && action != "withdraw") return ctx.layout->Error(400, req);
    bool give = action == "give";
    Status s = accounts_.SetConsent(*id, box, give, how, Adviser(req, ctx));
    if (!s.ok() && s.error().code == ErrorCode::kInvalidArgument) {
      return View(req, ctx, "", {}, {FieldError(s.error(), "how")}, false, 400);
    }
    if (!s.ok()) return ctx.layout->ErrorFor(s.error(), req);
    if (give) {
      // What the customer gave under the consent, typed by the adviser with it.
      std::map<std::string, std::string> values;
      for (const auto& f : accounts_.settings().fields) {
        if (f.consent != box) continue;
        auto one = ReadValues(ctx.form, Settings{.fields = {f}}, true);
        values.insert(one.begin(), one.end());
      }
      if (!values.empty()) {
        Status u = accounts_.Update(*id, values, Adviser(req, ctx));
        if (!u.ok() && u.error().code == ErrorCode::kInvalidArgument) {
          return View(req, ctx, "The consent is recorded", {}, {FieldError(u.error(), "details")}, false, 400);
        }
        if (!u.ok()) return ctx.layout->ErrorFor(u.error(), req);
      }
    }
    return View(req, ctx, give ? "The customer's consent is recorded" : "The customer's withdrawal is recorded", {}, {},
                false, 200);
  }

  // The adviser told a referred person what we hold, from whom and why, another way than email.
  Response Told(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto referral = ParseUint(Field(ctx.form, "referral"));
    if (!referral || *referral > static_cast<uint64_t>(INT64_MAX)) return ctx.layout->Error(400, req);
    Status s = accounts_.MarkTold(*id, static_cast<int64_t>(*referral), Field(ctx.form, "how"), Adviser(req, ctx));
    if (!s.ok() && s.error().code == ErrorCode::kInvalidArgument) {
      // The summary's link goes to the referral's first choice.
      return View(req, ctx, "", {},
                  {{"how-referral-" + std::to_string(*referral) + "-in-person", "Say how you told the customer"}},
                  false, 400);
    }
    if (!s.ok()) return ctx.layout->ErrorFor(s.error(), req);
    return View(req, ctx, "Recorded that the customer was told what we hold and why", {}, {}, false, 200);
  }

  // A customer who lost their phone and recovery codes: the adviser, sure it is them, turns it off.
  Response RemoveSecondFactor(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    Status s = accounts_.RemoveSecondFactor(*id, Adviser(req, ctx));
    if (!s.ok()) return ctx.layout->ErrorFor(s.error(), req);
    return View(req, ctx, "Security codes are off: the customer has been emailed", {}, {}, false, 200);
  }

  Response HandOver(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    Status s = accounts_.HandOver(*id, Adviser(req, ctx));
    if (!s.ok()) return ctx.layout->ErrorFor(s.error(), req);
    return View(req, ctx, "The customer has been emailed a link to set their password", {}, {}, false, 200);
  }

  Response ShowSpecial(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    // Privacy: special category data (the equality dataset): each view is audited and shown to the
    // customer in their account's activity.
    std::string names;
    for (const auto& f : accounts_.settings().fields) {
      if (f.special) names += (names.empty() ? "" : ", ") + f.label;
    }
    Status noted = accounts_.Note(*id, "viewed_special", names, Adviser(req, ctx));
    if (!noted.ok()) return ctx.layout->ErrorFor(noted.error(), req);
    Status audited = p_.trail.Append({.actor = ctx.actor.id,
                                      .action = "account.special_viewed",
                                      .target = "accounts:" + std::to_string(*id),
                                      .request_id = req.request_id});
    if (!audited.ok()) return ctx.layout->ErrorFor(audited.error(), req);
    return View(req, ctx, "", {}, {}, true, 200);
  }

  module::Platform& p_;
  Accounts& accounts_;
};

}  // namespace

std::vector<module::StaffPage> CustomerPages(module::Platform& p, Accounts& accounts) {
  return std::make_shared<Pages>(p, accounts)->All();
}

}  // namespace steward::accounts
