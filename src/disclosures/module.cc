#include "disclosures/module.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "core/days.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "disclosures/log.h"
#include "disclosures/subject_data.h"
#include "staff/accounts.h"

namespace steward::disclosures {
namespace {

using http::Request;
using http::Response;
using module::Field;
using Errors = std::vector<std::pair<std::string, std::string>>;

constexpr module::Id kDisclosures("disclosures");
constexpr const char* kPath = "/admin/disclosures";

struct Settings {
  std::string dataset;
};

Result<std::optional<Settings>> ReadSettings(const config::Config& config, const processing::Register& reg) {
  config::Problems problems(config.document->path());
  config::Table root = config.document->Root(problems);
  auto table = root.Child("disclosures");
  if (!table) return std::optional<Settings>();
  Settings s;
  if (table->String("dataset", s.dataset, /*required=*/true)) {
    const auto* d = reg.FindDataset(s.dataset);
    if (d == nullptr) {
      problems.Add(table->Where("dataset"),
                   "[disclosures] 'dataset' names '" + s.dataset + "', which the register does not declare");
    } else if (d->module != "disclosures") {
      problems.Add(table->Where("dataset"), "[disclosures] 'dataset' names '" + s.dataset + "', which is module '" +
                                                d->module + "'s: name a dataset of module \"disclosures\"");
    }
  }
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

std::pair<std::string, std::string> StatusShown(const std::string& status) {
  if (status == "awaiting-decision") return {"Waiting for a decision", "blue"};
  if (status == "awaiting-approval") return {"Waiting for a second person to approve", "yellow"};
  if (status == "approved") return {"Approved: to be given", "turquoise"};
  if (status == "disclosed") return {"Disclosed", "green"};
  if (status == "refused") return {"Refused", "grey"};
  return {status, "grey"};
}

bool IsDpo(const module::StaffContext& ctx) {
  return staff::AnyGrants(ctx.me.roles, staff::Permission::kApproveDisclosures);
}

class Pages {
 public:
  Pages(module::Platform& p, Log& log, Settings s) : p_(p), log_(log), s_(std::move(s)) {}

  Response List(Request& req, module::StaffContext& ctx) {
    auto all = log_.List();
    if (!all.ok()) return ctx.layout->ErrorFor(all.error(), req);
    html::List rows;
    for (const auto& d : *all) {
      auto [status, colour] = StatusShown(d.status);
      rows.push_back(html::Object{{"id", d.id},
                                  {"reference", d.reference},
                                  {"requester", d.requester},
                                  {"basis", std::string(BasisName(d.basis))},
                                  {"received", module::LongDay(d.received)},
                                  {"people", d.people_count},
                                  {"status", status},
                                  {"colour", colour}});
    }
    return ctx.layout->Page(req, ctx, "admin_disclosures", "Disclosures to other bodies",
                            {{"rows", rows}, {"empty", rows.empty()}}, kPath);
  }

  Response New(Request& req, module::StaffContext& ctx) { return Form(req, ctx, {}, {}, 200); }

  Response Create(Request& req, module::StaffContext& ctx) {
    const http::Params& form = ctx.form;
    NewRequest r{.requester = Field(form, "requester"),
                 .their_reference = Field(form, "their_reference"),
                 .basis_detail = Field(form, "basis_detail"),
                 .asked = Field(form, "asked")};
    Errors errors;
    auto basis = ParseBasis(Field(form, "basis"));
    if (!basis) errors.emplace_back("basis", "Choose the basis the request relies on");
    r.basis = basis.value_or(Basis::kOther);
    auto received = module::DateField(form, "received");
    if (!received) errors.emplace_back("received", "Enter the day the request arrived, such as 27 3 2026");
    r.received = received.value_or(0);
    auto people = ParsePeople(Field(form, "people"));
    if (!people.ok()) {
      errors.push_back(module::FieldError(people.error(), "people"));
    } else {
      r.people = *people;
    }
    if (errors.empty()) {
      auto id = log_.Record(r, Who(req, ctx));
      if (id.ok()) return Response::Redirect(std::string(kPath) + "/" + std::to_string(*id));
      if (id.error().code != ErrorCode::kInvalidArgument) return ctx.layout->ErrorFor(id.error(), req);
      errors.push_back(module::FieldError(id.error(), "asked"));
    }
    return Form(req, ctx, form, errors, 400);
  }

  Response Show(Request& req, module::StaffContext& ctx) { return Page(req, ctx, {}, {}, 200); }

  Response Decide(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    Errors errors;
    auto decision = ParseDecision(Field(ctx.form, "decision"));
    if (!decision) errors.emplace_back("decision", "Choose whether to disclose, disclose in part or refuse");
    std::vector<std::string> datasets = module::AllFields(ctx.form, "datasets");
    if (decision && *decision != Decision::kRefuse) {
      // Only datasets that hold something about the people can be chosen.
      auto d = log_.Get(*id);
      if (!d.ok()) return ctx.layout->ErrorFor(d.error(), req);
      auto held = Held(*d);
      if (!held.ok()) return ctx.layout->ErrorFor(held.error(), req);
      std::set<std::string> known;
      for (const auto& h : held->held) known.insert(h.dataset);
      for (const auto& ds : datasets) {
        if (!known.count(ds)) errors.emplace_back("datasets", "Choose only datasets that hold something about them");
      }
    }
    if (errors.empty()) {
      Status s = log_.Decide(*id, *decision, Field(ctx.form, "reasons"), datasets, Who(req, ctx));
      if (s.ok()) return Response::Redirect(std::string(kPath) + "/" + std::to_string(*id));
      if (s.error().code != ErrorCode::kInvalidArgument) return ctx.layout->ErrorFor(s.error(), req);
      errors.push_back(module::FieldError(s.error(), "reasons"));
    }
    return Page(req, ctx, ctx.form, errors, 400);
  }

  Response Approve(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    std::string approval = Field(ctx.form, "approval");
    Errors errors;
    if (approval != "approve" && approval != "back") {
      errors.emplace_back("approval", "Choose whether you approve the decision");
    } else {
      Status s = log_.Approve(*id, approval == "approve", Field(ctx.form, "note"), Who(req, ctx));
      if (s.ok()) return Response::Redirect(std::string(kPath) + "/" + std::to_string(*id));
      if (s.error().code == ErrorCode::kPermissionDenied) return ctx.layout->Error(403, req);
      if (s.error().code != ErrorCode::kInvalidArgument) return ctx.layout->ErrorFor(s.error(), req);
      errors.push_back(module::FieldError(s.error(), "note"));
    }
    return Page(req, ctx, ctx.form, errors, 400);
  }

  Response Export(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto d = log_.Get(*id);
    if (!d.ok()) return ctx.layout->ErrorFor(d.error(), req);
    if (d->status != "approved" && d->status != "disclosed") return ctx.layout->Error(409, req);
    auto records = Records(*d);
    if (!records.ok()) return ctx.layout->ErrorFor(records.error(), req);
    nlohmann::json out{{"reference", d->reference},
                       {"requester", d->requester},
                       {"their_reference", d->their_reference},
                       {"basis", std::string(BasisText(d->basis))},
                       {"decision", d->decision ? std::string(DecisionText(*d->decision)) : ""},
                       {"datasets", d->datasets},
                       {"exported_at", FormatRfc3339(p_.clock.Now())},
                       {"records", nlohmann::json::array()}};
    for (const auto& r : *records) {
      nlohmann::json fields = nlohmann::json::array();
      for (const auto& f : r.fields) fields.push_back({{"category", f.category}, {"name", f.name}, {"value", f.value}});
      out["records"].push_back({{"dataset", r.dataset}, {"collected_at", r.collected_at}, {"fields", fields}});
    }
    Status noted = log_.NoteExport(*id, static_cast<int64_t>(d->people.size()), static_cast<int64_t>(records->size()),
                                   Who(req, ctx));
    if (!noted.ok()) return ctx.layout->ErrorFor(noted.error(), req);
    Response r = Response::Json(JsonText(out, 2));
    r.SetHeader("Content-Disposition", "attachment; filename=\"" + d->reference + ".json\"");
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }

  Response Disclosed(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto d = log_.Get(*id);
    if (!d.ok()) return ctx.layout->ErrorFor(d.error(), req);
    auto records = Records(*d);
    if (!records.ok()) return ctx.layout->ErrorFor(records.error(), req);
    Status s = log_.MarkDisclosed(*id, Field(ctx.form, "how"), static_cast<int64_t>(records->size()), Who(req, ctx));
    if (s.ok()) return Response::Redirect(std::string(kPath) + "/" + std::to_string(*id));
    if (s.error().code != ErrorCode::kInvalidArgument) return ctx.layout->ErrorFor(s.error(), req);
    return Page(req, ctx, ctx.form, {module::FieldError(s.error(), "how")}, 400);
  }

 private:
  static Actor Who(const Request& req, const module::StaffContext& ctx) {
    return {.id = ctx.actor.id, .request_id = req.request_id};
  }

  // What every module holds about the people named, the disclosure log itself left out.
  Result<subject::Directory::Survey> Held(const Disclosure& d) {
    subject::Directory* dir = p_.directory ? p_.directory() : nullptr;
    if (dir == nullptr) return subject::Directory::Survey{};
    // Privacy: every dataset of the register, searched for the people a body asked about; counts only.
    STEWARD_ASSIGN_OR_RETURN(auto survey, dir->SurveyOf(d.people));
    std::erase_if(survey.held, [&](const subject::Directory::Held& h) { return h.dataset == s_.dataset; });
    return survey;
  }

  // The records a disclosure gives: the approved datasets only, about the people named only.
  Result<std::vector<subject::Record>> Records(const Disclosure& d) {
    subject::Directory* dir = p_.directory ? p_.directory() : nullptr;
    if (dir == nullptr) return std::vector<subject::Record>{};
    // Privacy: the datasets a second person approved giving, about the people the body named.
    STEWARD_ASSIGN_OR_RETURN(auto all, dir->ExportAll(d.people));
    std::set<std::string> approved(d.datasets.begin(), d.datasets.end());
    std::erase_if(all, [&](const subject::Record& r) { return !approved.count(r.dataset); });
    return all;
  }

  std::string NameOf(const std::string& actor) const {
    auto* accounts = p_.services.Find<staff::Accounts>();
    if (accounts != nullptr && actor.starts_with("staff:")) {
      if (auto n = ParseUint(std::string_view(actor).substr(6))) {
        if (auto m = accounts->Find(static_cast<int64_t>(*n)); m.ok()) return m->email;
      }
    }
    if (actor == "cli") return "the command line";
    return actor;
  }

  Response Form(Request& req, module::StaffContext& ctx, const http::Params& form, const Errors& errors, int status) {
    html::List bases;
    std::string chosen = Field(form, "basis");
    for (Basis b : AllBases()) {
      std::string name(BasisName(b));
      bases.push_back(html::Object{{"value", name},
                                   {"text", std::string(BasisText(b))},
                                   {"id", b == AllBases().front() ? std::string("basis") : "basis-" + name},
                                   {"checked", chosen == name}});
    }
    html::Object data{{"requester", Field(form, "requester")},
                      {"their_reference", Field(form, "their_reference")},
                      {"bases", bases},
                      {"basis_detail", Field(form, "basis_detail")},
                      {"people", Field(form, "people")},
                      {"asked", Field(form, "asked")}};
    data["received_date"] = module::DateInput("received", form, UnixMillis(p_.clock.Now()) / kDayMillis,
                                              module::HasError(errors, "received"));
    return module::FormPage(req, ctx, "admin_disclosures_new", "Record a request for disclosure", std::move(data),
                            errors, kPath, status);
  }

  Response Page(Request& req, module::StaffContext& ctx, const http::Params& form, const Errors& errors, int status) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto d = log_.Get(*id);
    if (!d.ok()) return ctx.layout->ErrorFor(d.error(), req);
    auto held = Held(*d);
    if (!held.ok()) return ctx.layout->ErrorFor(held.error(), req);
    auto [status_text, colour] = StatusShown(d->status);
    html::List people, held_rows, datasets, decisions;
    for (const auto& k : d->people) {
      people.push_back(html::Object{{"text", std::string(subject::KindName(k.kind())) + ": " + k.value()}});
    }
    std::set<std::string> chosen;
    for (const auto& ds : module::AllFields(form, "datasets")) chosen.insert(ds);
    std::set<std::string> offered;
    for (const auto& h : held->held) {
      held_rows.push_back(html::Object{{"module", h.module},
                                       {"dataset", h.dataset},
                                       {"count", h.count},
                                       {"restricted", h.restricted},
                                       {"note", h.note}});
      if (!offered.insert(h.dataset).second) continue;
      datasets.push_back(html::Object{{"value", h.dataset},
                                      {"text", h.dataset + (h.restricted ? " (restricted)" : "")},
                                      {"id", datasets.empty() ? std::string("datasets") : "datasets-" + h.dataset},
                                      {"checked", chosen.count(h.dataset) > 0}});
    }
    for (Decision dec : {Decision::kDisclose, Decision::kInPart, Decision::kRefuse}) {
      std::string name(DecisionName(dec));
      decisions.push_back(
          html::Object{{"value", name},
                       {"text", std::string(DecisionText(dec))},
                       {"id", dec == Decision::kDisclose ? std::string("decision") : "decision-" + name},
                       {"checked", Field(form, "decision") == name}});
    }
    std::string datasets_text;
    for (const auto& ds : d->datasets) datasets_text += (datasets_text.empty() ? "" : ", ") + ds;
    std::string cannot;
    bool approving = d->status == "awaiting-approval";
    if (approving) {
      if (!IsDpo(ctx)) {
        cannot = "Waiting for someone with the data protection officer role to approve it.";
      } else if (ctx.actor.id == d->recorded_by || ctx.actor.id == d->decided_by) {
        cannot = std::string("You ") +
                 (ctx.actor.id == d->decided_by ? "made this decision" : "recorded this request") +
                 ": a second person with the data protection officer role must approve it.";
      }
    }
    html::Object data{{"id", d->id},
                      {"reference", d->reference},
                      {"requester", d->requester},
                      {"their_reference", d->their_reference.empty() ? std::string("None given") : d->their_reference},
                      {"basis", std::string(BasisText(d->basis))},
                      {"basis_detail", d->basis_detail},
                      {"received", module::LongDay(d->received)},
                      {"status", status_text},
                      {"colour", colour},
                      {"recorded", NameOf(d->recorded_by) + ", " + d->recorded_at.substr(0, 10)},
                      {"people", people},
                      {"asked", d->asked},
                      {"held", held_rows},
                      {"held_empty", held_rows.empty()},
                      {"note", d->status == "awaiting-decision" ? d->note : std::string()},
                      {"deciding", d->status == "awaiting-decision"},
                      {"decisions", decisions},
                      {"datasets", datasets},
                      {"reasons", d->status == "awaiting-decision" ? Field(form, "reasons") : d->reasons},
                      {"decided", d->decision.has_value()},
                      {"decision", d->decision ? std::string(DecisionText(*d->decision)) : std::string()},
                      {"decided_by", NameOf(d->decided_by) + ", " + d->decided_at.substr(0, 10)},
                      {"datasets_text", datasets_text},
                      {"approving", approving},
                      {"can_approve", approving && cannot.empty()},
                      {"cannot_approve", cannot},
                      {"approved", !d->approved_by.empty()},
                      {"approved_by", NameOf(d->approved_by) + ", " + d->approved_at.substr(0, 10)},
                      {"exportable", d->status == "approved" || d->status == "disclosed"},
                      {"disclosing", d->status == "approved"},
                      {"disclosed", d->status == "disclosed"},
                      {"disclosed_at", d->disclosed_at.substr(0, 10)},
                      {"disclosed_how", d->disclosed_how},
                      {"disclosed_records", d->disclosed_records}};
    return module::FormPage(req, ctx, "admin_disclosure", d->reference + ": " + d->requester, std::move(data), errors,
                            kPath, status);
  }

  module::Platform& p_;
  Log& log_;
  Settings s_;
};

class Serving : public module::Serving {
 public:
  Serving(module::Platform& p, Settings s)
      : log_(std::make_unique<Log>(p.store, p.trail, p.key, p.clock)),
        subjects_(p.SubjectDeps(kDisclosures), *log_, s.dataset),
        pages_(std::make_shared<Pages>(p, *log_, std::move(s))) {}

  subject::SubjectData* Subjects() override { return &subjects_; }

  std::vector<module::StaffPage> StaffPages() override {
    using http::Method;
    auto page = [&](Method method, std::string pattern, module::StaffHandler handler) {
      return module::StaffPage{.method = method,
                               .pattern = std::move(pattern),
                               .permission = staff::Permission::kDisclosures,
                               .handler = std::move(handler)};
    };
    auto list = page(Method::kGet, kPath, module::Bind(pages_, &Pages::List));
    list.nav_title = "Disclosures";
    list.nav_text = "Requests from the police, courts and other bodies: decided, approved by a second person, given.";
    list.card_title = "Disclosures to other bodies";
    list.nav_order = 46;
    auto approve = page(Method::kPost, std::string(kPath) + "/{id}/approve", module::Bind(pages_, &Pages::Approve));
    approve.permission = staff::Permission::kApproveDisclosures;
    return {list,
            page(Method::kGet, std::string(kPath) + "/new", module::Bind(pages_, &Pages::New)),
            page(Method::kPost, std::string(kPath) + "/new", module::Bind(pages_, &Pages::Create)),
            page(Method::kGet, std::string(kPath) + "/{id}", module::Bind(pages_, &Pages::Show)),
            page(Method::kPost, std::string(kPath) + "/{id}/decide", module::Bind(pages_, &Pages::Decide)),
            approve,
            page(Method::kGet, std::string(kPath) + "/{id}/export", module::Bind(pages_, &Pages::Export)),
            page(Method::kPost, std::string(kPath) + "/{id}/disclosed", module::Bind(pages_, &Pages::Disclosed))};
  }

 private:
  std::unique_ptr<Log> log_;
  DisclosureSubjects subjects_;
  std::shared_ptr<Pages> pages_;
};

}  // namespace

module::Descriptor Module() {
  return {
      .id = kDisclosures,
      .migrations = [] { return Log::Migrations(); },
      .storage = [](const config::Config&) { return std::vector<retention::ModuleStorage>{Log::Storage()}; },
      .config_tables = {"disclosures"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(config, reg));
        (void)settings;
        return Ok();
      },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
        if (!settings) return std::unique_ptr<subject::SubjectData>();
        struct Owned : DisclosureSubjects {
          Owned(Deps d, std::unique_ptr<Log> l, std::string dataset)
              : DisclosureSubjects(std::move(d), *l, std::move(dataset)), log(std::move(l)) {}
          std::unique_ptr<Log> log;
        };
        return std::unique_ptr<subject::SubjectData>(std::make_unique<Owned>(
            p.SubjectDeps(kDisclosures), std::make_unique<Log>(p.store, p.trail, p.key, p.clock), settings->dataset));
      },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
        if (!settings) return std::unique_ptr<module::Serving>(std::make_unique<module::Serving>());
        return std::unique_ptr<module::Serving>(std::make_unique<Serving>(p, std::move(*settings)));
      },
  };
}

}  // namespace steward::disclosures
