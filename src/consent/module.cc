#include "consent/module.h"

#include <map>
#include <memory>

#include "consent/consent.h"
#include "consent/gate.h"
#include "consent/records.h"
#include "consent/subject_data.h"
#include "core/strings.h"
#include "site/pages.h"

namespace steward::consent {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::Field;

constexpr module::Id kConsent("consent");

// The consent records for the DPO (/admin/consent): the proof of one visitor's choices, and a
// choice recorded for a visitor who gave it off the website.
class ConsentPages : public std::enable_shared_from_this<ConsentPages> {
 public:
  struct Deps {
    const processing::Register& reg;
    Records& records;
    const CookieGate& gate;
    audit::Trail& trail;
  };
  explicit ConsentPages(Deps deps) : d_(deps) {}

  std::vector<module::StaffPage> Pages() {
    auto self = shared_from_this();
    return {{.method = Method::kGet,
             .pattern = "/admin/consent",
             .permission = staff::Permission::kManageRegister,
             .handler = [self](Request& req, module::StaffContext& ctx) { return self->ConsentPage(req, ctx); },
             .nav_title = "Consent records",
             .nav_order = 70},
            {.method = Method::kPost,
             .pattern = "/admin/consent",
             .permission = staff::Permission::kManageRegister,
             .handler = [self](Request& req, module::StaffContext& ctx) { return self->ConsentRecord(req, ctx); }}};
  }

 private:
  // The history of one consent reference, as proof of what the visitor chose, when, on which
  // notice version and how.
  Response ConsentPage(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    return ConsentView(req, ctx, std::string(Trim(Field(*query, "reference"))), "", 200);
  }

  Response ConsentView(Request& req, module::StaffContext& ctx, const std::string& reference, const std::string& notice,
                       int status) {
    html::Object data{{"reference", reference}, {"notice", notice}};
    html::List categories;
    for (auto c : d_.reg.OptionalCategories()) {
      categories.push_back(html::Object{{"id", std::string(processing::CookieCategoryName(c))}});
    }
    data["categories"] = categories;
    if (!reference.empty()) {
      if (!ValidConsentId(reference)) {
        data["error"] = "Enter the reference as the visitor's cookies page shows it: 32 characters, 0 to 9 and a to f";
        return ctx.layout->Page(req, ctx, "admin_consent", "Consent records", std::move(data), "/admin/consent", 400);
      }
      // Privacy: consent-records, read by staff as proof of one visitor's choices.
      auto history = d_.records.History(reference);
      if (!history.ok()) return ctx.layout->ErrorFor(history.error(), req);
      html::List rows;
      for (const auto& r : *history) {
        std::string choices;
        for (const auto& [k, v] : r.choices) choices += (choices.empty() ? "" : ", ") + k + (v ? ": yes" : ": no");
        rows.push_back(html::Object{{"at", r.at.substr(0, 19) + "Z"},
                                    {"notice_version", r.notice_version},
                                    {"consent_version", r.consent_version},
                                    {"choices", choices.empty() ? "none asked" : choices},
                                    {"method", std::string(MethodTitle(r.method))},
                                    {"recorded_by", r.recorded_by}});
      }
      data["searched"] = true;
      data["records"] = rows;
      data["found"] = !rows.empty();
      if (Status s = d_.trail.Append({.actor = ctx.actor.id,
                                      .action = "consent.viewed",
                                      .request_id = req.request_id,
                                      .details = {{"records", std::to_string(rows.size())}}});
          !s.ok()) {
        return ctx.layout->ErrorFor(s.error(), req);
      }
    }
    return ctx.layout->Page(req, ctx, "admin_consent", "Consent records", std::move(data), "/admin/consent", status);
  }

  // A choice the visitor made off the website (by phone, by letter), recorded by staff as proof.
  Response ConsentRecord(Request& req, module::StaffContext& ctx) {
    std::string reference(Trim(Field(ctx.form, "reference")));
    if (!ValidConsentId(reference)) return ConsentView(req, ctx, reference, "", 400);
    std::map<std::string, bool> choices;
    for (auto c : d_.reg.OptionalCategories()) {
      std::string name(processing::CookieCategoryName(c));
      std::string v(Field(ctx.form, "cookies[" + name + "]"));
      if (v != "yes" && v != "no") return ConsentView(req, ctx, reference, "", 400);
      choices[name] = v == "yes";
    }
    // Privacy: consent-records (a choice recorded by staff).
    Status s = d_.records.Record(
        {.consent_id = reference,
         .notice_version = d_.reg.Version(),
         .consent_version = d_.gate.version(),
         .choices = choices,
         .method = consent::Method::kStaff,
         .recorded_by = ctx.actor.id},
        d_.trail, {.actor = ctx.actor.id, .action = "consent.recorded_by_staff", .request_id = req.request_id});
    if (!s.ok()) return ctx.layout->ErrorFor(s.error(), req);
    return ConsentView(req, ctx, reference, "Choice recorded.", 200);
  }

  const Deps d_;
};

// The cookie gate, the banner and /cookies, and the records, while serving.
class ConsentServing : public module::Serving {
 public:
  explicit ConsentServing(module::Platform& p)
      : platform_(p),
        gate_(p.reg),
        records_(p.store, p.clock, p.key),
        consent_(p.config, p.reg, gate_, records_, *p.pages),
        subjects_(p.SubjectDeps(kConsent), p.clock, p.key) {
    policy_.allow = [this](const http::Request& req, const std::vector<http::SetCookie>& all,
                           const http::SetCookie& cookie) { return gate_.Allow(req, all, cookie); };
    p.services.Provide<CookieGate>(&gate_);
    p.services.Provide<module::CookiePolicy>(&policy_);
    p.pages->AddToPublicFrame([this](const http::Request& req, html::Object& frame) { consent_.Frame(req, frame); });
  }

  void AddRoutes(http::Router& router) override { consent_.AddRoutes(router); }

  // The records' pages only where there are choices to record.
  std::vector<module::StaffPage> StaffPages() override {
    if (platform_.reg.OptionalCategories().empty()) return {};
    return std::make_shared<ConsentPages>(ConsentPages::Deps{platform_.reg, records_, gate_, platform_.trail})->Pages();
  }

  subject::SubjectData* Subjects() override { return &subjects_; }

 private:
  module::Platform& platform_;
  CookieGate gate_;
  Records records_;
  Consent consent_;
  ConsentSubjects subjects_;
  module::CookiePolicy policy_;
};

}  // namespace

module::Descriptor Module() {
  return {
      .id = kConsent,
      .migrations = [] { return Records::Migrations(); },
      .storage = [](const config::Config&) { return std::vector<retention::ModuleStorage>{Storage()}; },
      .cookies = [](const config::Config&, const processing::Register& reg) { return OwnCookies(reg); },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        return std::unique_ptr<subject::SubjectData>(
            std::make_unique<ConsentSubjects>(p.SubjectDeps(kConsent), p.clock, p.key));
      },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_CHECK(p.pages != nullptr, "consent serves pages");
        return std::unique_ptr<module::Serving>(std::make_unique<ConsentServing>(p));
      },
  };
}

}  // namespace steward::consent
