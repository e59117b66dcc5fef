// The staff module's own pages (staff accounts, for administrators) and the audit trail's (for
// administrators and the DPO), declared to the shell like every module's.
#include "admin/staff_pages.h"

#include <algorithm>

#include "admin/shell.h"
#include "core/strings.h"

namespace steward::admin {
namespace {

using http::Method;
using http::Request;
using http::Response;
using module::Field;
using module::TimeFilter;
using staff::Permission;

std::string RoleTitles(const std::vector<staff::Role>& roles) {
  std::string out;
  for (staff::Role r : roles) {
    if (!out.empty()) out += ", ";
    out += staff::RoleTitle(r);
  }
  return out;
}

html::List RoleChoices(const std::vector<staff::Role>& checked) {
  html::List out;
  for (staff::Role r : staff::AllRoles()) {
    out.push_back(html::Object{{"name", std::string(staff::RoleName(r))},
                               {"title", std::string(staff::RoleTitle(r))},
                               {"checked", std::find(checked.begin(), checked.end(), r) != checked.end()}});
  }
  return out;
}

std::vector<staff::Role> ChosenRoles(const http::Params& form) {
  std::vector<staff::Role> out;
  for (const auto& name : module::AllFields(form, "role")) {
    if (auto r = staff::ParseRole(name)) out.push_back(*r);
  }
  return out;
}

class StaffAccountPages : public std::enable_shared_from_this<StaffAccountPages> {
 public:
  StaffAccountPages(staff::Accounts& accounts, std::function<std::string()> base_url)
      : d_{accounts, std::move(base_url)} {}

  std::vector<module::StaffPage> Pages() {
    auto bind = [self = shared_from_this()](Response (StaffAccountPages::*h)(Request&, module::StaffContext&)) {
      return module::Bind(self, h);
    };
    const Permission p = Permission::kManageStaff;
    return {{.method = Method::kGet,
             .pattern = "/admin/staff",
             .permission = p,
             .handler = bind(&StaffAccountPages::StaffList),
             .nav_title = "Staff",
             .nav_text = "Add staff, choose their roles, disable accounts.",
             .card_title = "Staff accounts",
             .nav_order = 10},
            {.method = Method::kPost,
             .pattern = "/admin/staff",
             .permission = p,
             .handler = bind(&StaffAccountPages::StaffAdd)},
            {.method = Method::kGet,
             .pattern = "/admin/staff/{id}",
             .permission = p,
             .handler = bind(&StaffAccountPages::StaffMemberPage)},
            {.method = Method::kPost,
             .pattern = "/admin/staff/{id}/roles",
             .permission = p,
             .handler = bind(&StaffAccountPages::StaffRoles)},
            {.method = Method::kPost,
             .pattern = "/admin/staff/{id}/disable",
             .permission = p,
             .handler = bind(&StaffAccountPages::StaffDisable)},
            {.method = Method::kPost,
             .pattern = "/admin/staff/{id}/enable",
             .permission = p,
             .handler = bind(&StaffAccountPages::StaffEnable)},
            {.method = Method::kPost,
             .pattern = "/admin/staff/{id}/setup-link",
             .permission = p,
             .handler = bind(&StaffAccountPages::StaffSetupLink)}};
  }

 private:
  Response StaffListWith(Request& req, module::StaffContext& ctx, html::Object data, int status = 200) {
    auto all = d_.accounts.List();
    if (!all.ok()) return ctx.layout->ErrorFor(all.error(), req);
    html::List rows;
    for (const auto& m : *all) {
      std::string state = m.disabled ? "Disabled" : m.has_password ? "Active" : "Waiting for set-up";
      rows.push_back(html::Object{{"id", m.id},
                                  {"email", m.email},
                                  {"roles", RoleTitles(m.roles)},
                                  {"status", state},
                                  {"disabled", m.disabled},
                                  {"pending", !m.disabled && !m.has_password}});
    }
    data["staff"] = rows;
    if (data.find("roles") == data.end()) data["roles"] = RoleChoices({});
    return ctx.layout->Page(req, ctx, "admin_staff", "Staff accounts", std::move(data), "/admin/staff", status);
  }

  Response StaffList(Request& req, module::StaffContext& ctx) { return StaffListWith(req, ctx, {}); }

  Response StaffAdd(Request& req, module::StaffContext& ctx) {
    std::string email = std::string(Trim(Field(ctx.form, "email")));
    auto roles = ChosenRoles(ctx.form);
    std::vector<std::pair<std::string, std::string>> errors;
    html::Object data{{"email", email}, {"roles", RoleChoices(roles)}};
    if (roles.empty()) {
      errors.emplace_back("roles", "Choose at least one role");
      data["roles_error"] = "Choose at least one role";
    }
    if (errors.empty()) {
      auto id = d_.accounts.Create(email, roles, ctx.actor);
      if (id.ok()) {
        auto token = d_.accounts.IssueSetupToken(*id, ctx.actor);
        if (!token.ok()) return ctx.layout->ErrorFor(token.error(), req);
        return StaffListWith(
            req, ctx,
            html::Object{{"added", html::Object{{"email", email}, {"link", SetupLink(d_.base_url(), *token)}}}});
      }
      if (id.error().code != ErrorCode::kInvalidArgument && id.error().code != ErrorCode::kAlreadyExists) {
        return ctx.layout->ErrorFor(id.error(), req);
      }
      errors.emplace_back("email", id.error().message);
      data["email_error"] = id.error().message;
    }
    data["errors"] = module::ErrorSummary(errors);
    return StaffListWith(req, ctx, std::move(data));
  }

  Response MemberPage(Request& req, module::StaffContext& ctx, int64_t id, html::Object data) {
    auto m = d_.accounts.Find(id);
    if (!m.ok()) return ctx.layout->ErrorFor(m.error(), req);
    std::string state = m->disabled ? "Disabled" : m->has_password ? "Active" : "Waiting for set-up";
    data["member"] = html::Object{{"id", m->id},
                                  {"email", m->email},
                                  {"status", state},
                                  {"disabled", m->disabled},
                                  {"created_at", m->created_at.substr(0, 10)},
                                  {"totp", m->totp_enabled}};
    if (data.find("roles") == data.end()) data["roles"] = RoleChoices(m->roles);
    return ctx.layout->Page(req, ctx, "admin_staff_member", m->email, std::move(data), "/admin/staff");
  }

  Response StaffMemberPage(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto q = req.Query();
    html::Object data;
    if (q.ok() && http::Find(*q, "saved")) data["notice"] = "Saved.";
    return MemberPage(req, ctx, *id, std::move(data));
  }

  Response StaffRoles(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto roles = ChosenRoles(ctx.form);
    Status s = d_.accounts.SetRoles(*id, roles, ctx.actor);
    if (s.ok()) return Response::Redirect("/admin/staff/" + std::to_string(*id) + "?saved=1");
    if (s.error().code != ErrorCode::kInvalidArgument && s.error().code != ErrorCode::kFailedPrecondition) {
      return ctx.layout->ErrorFor(s.error(), req);
    }
    return MemberPage(req, ctx, *id,
                      html::Object{{"roles", RoleChoices(roles)},
                                   {"roles_error", s.error().message},
                                   {"errors", module::ErrorSummary({{"roles", s.error().message}})}});
  }

  Response SetDisabled(Request& req, module::StaffContext& ctx, bool disabled) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    Status s = d_.accounts.SetDisabled(*id, disabled, ctx.actor);
    if (s.ok()) return Response::Redirect("/admin/staff/" + std::to_string(*id) + "?saved=1");
    if (s.error().code != ErrorCode::kFailedPrecondition) return ctx.layout->ErrorFor(s.error(), req);
    return MemberPage(req, ctx, *id, html::Object{{"errors", module::ErrorSummary({{"roles", s.error().message}})}});
  }

  Response StaffDisable(Request& req, module::StaffContext& ctx) { return SetDisabled(req, ctx, true); }
  Response StaffEnable(Request& req, module::StaffContext& ctx) { return SetDisabled(req, ctx, false); }

  Response StaffSetupLink(Request& req, module::StaffContext& ctx) {
    auto id = module::IdParam(req);
    if (!id) return ctx.layout->Error(404, req);
    auto token = d_.accounts.IssueSetupToken(*id, ctx.actor);
    if (!token.ok()) return ctx.layout->ErrorFor(token.error(), req);
    return MemberPage(req, ctx, *id,
                      html::Object{{"notice", "New set-up link made. Send it to the staff member."},
                                   {"link", SetupLink(d_.base_url(), *token)}});
  }

  struct Deps {
    staff::Accounts& accounts;
    std::function<std::string()> base_url;
  };
  const Deps d_;
};

class AuditPages : public std::enable_shared_from_this<AuditPages> {
 public:
  explicit AuditPages(audit::Trail& trail) : d_{trail} {}

  std::vector<module::StaffPage> Pages() {
    auto self = shared_from_this();
    return {{.method = Method::kGet,
             .pattern = "/admin/audit",
             .permission = Permission::kReadAudit,
             .handler = [self](Request& req, module::StaffContext& ctx) { return self->AuditPage(req, ctx); },
             .nav_title = "Audit trail",
             .nav_text = "Every privacy-relevant action: sign-ins, staff changes, configuration, backups.",
             .nav_order = 20}};
  }

 private:
  Response AuditPage(Request& req, module::StaffContext& ctx) {
    auto query = req.Query();
    if (!query.ok()) return ctx.layout->Error(400, req);
    audit::Filter f;
    f.actor = std::string(Trim(Field(*query, "actor")));
    f.action = std::string(Trim(Field(*query, "action")));
    f.since = TimeFilter(Field(*query, "since"));
    f.until = TimeFilter(Field(*query, "until"));
    f.before_seq = static_cast<int64_t>(ParseUint(Field(*query, "before")).value_or(0) & INT64_MAX);
    f.limit = 50;
    auto records = d_.trail.List(f);
    if (!records.ok()) return ctx.layout->ErrorFor(records.error(), req);
    html::List rows;
    for (const auto& r : *records) {
      std::string details;
      for (const auto& [k, v] : r.entry.details) details += (details.empty() ? "" : ", ") + k + ": " + v;
      rows.push_back(html::Object{{"seq", r.seq},
                                  {"at", r.at.substr(0, 19)},
                                  {"actor", r.entry.actor},
                                  {"action", r.entry.action},
                                  {"target", r.entry.target},
                                  {"outcome", r.entry.outcome},
                                  {"details", details}});
    }
    html::Object data{
        {"actor", f.actor}, {"action", f.action}, {"since", f.since}, {"until", f.until}, {"records", rows}};
    if (static_cast<int>(records->size()) == f.limit) {
      std::string href = "/admin/audit?before=" + std::to_string(records->back().seq);
      for (const auto& [k, v] : {std::pair<std::string, std::string>{"actor", f.actor},
                                 {"action", f.action},
                                 {"since", f.since},
                                 {"until", f.until}}) {
        if (!v.empty()) href += "&" + k + "=" + http::PercentEncode(v);
      }
      data["older"] = html::Object{{"href", href}};
    }
    return ctx.layout->Page(req, ctx, "admin_audit", "Audit trail", std::move(data), "/admin/audit");
  }

  struct Deps {
    audit::Trail& trail;
  };
  const Deps d_;
};

}  // namespace

std::vector<module::StaffPage> StaffAccountsPages(staff::Accounts& accounts, std::function<std::string()> base_url) {
  return std::make_shared<StaffAccountPages>(accounts, std::move(base_url))->Pages();
}

std::vector<module::StaffPage> AuditTrailPages(audit::Trail& trail) {
  return std::make_shared<AuditPages>(trail)->Pages();
}

}  // namespace steward::admin
