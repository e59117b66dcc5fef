#include "admin/module.h"

#include <cstdio>
#include <iostream>
#include <memory>

#include "admin/shell.h"
#include "admin/staff_pages.h"
#include "core/log.h"
#include "site/pages.h"
#include "staff/accounts.h"
#include "staff/sessions.h"
#include "staff/storage.h"
#include "staff/subject_data.h"
#include "subject/audit_data.h"

namespace steward::admin {
namespace {

using module::CommandContext;
using module::Option;

constexpr module::Id kStaff("staff");
constexpr module::Id kAudit("audit");

std::string CommonPasswordsFile(const config::Config& config) {
  return config.site.web_dir + "/generated/common-passwords.txt";
}

using module::Fail;

// Staff accounts over a command's opened data. Prints the problem and returns null on failure.
std::unique_ptr<staff::Accounts> OpenAccounts(module::Platform& p) {
  auto policy = staff::PasswordPolicy::Load(CommonPasswordsFile(p.config));
  if (!policy.ok()) {
    Fail(policy.error());
    return nullptr;
  }
  return std::make_unique<staff::Accounts>(p.store, p.trail, p.clock, p.key, std::move(*policy));
}

int StaffAdd(CommandContext& c) {
  std::vector<staff::Role> roles;
  for (const auto& name : c.args.List("--role")) {
    auto r = staff::ParseRole(name);
    if (!r) {
      std::fprintf(stderr, "steward: unknown role '%s' (roles: admin, dpo, analyst, caseworker, security)\n",
                   name.c_str());
      return 2;
    }
    roles.push_back(*r);
  }
  auto accounts = OpenAccounts(*c.platform);
  if (!accounts) return 1;
  staff::Actor cli{"system", ""};
  std::string email = c.args.Text("--email"), password;
  bool password_stdin = c.args.Flag("--password-stdin");
  if (password_stdin) {
    std::getline(std::cin, password);
    if (Status s = accounts->CheckPassword(password, email); !s.ok()) return Fail(s.error(), 2);
  }
  auto id = accounts->Create(email, roles, cli);
  if (!id.ok()) {
    return Fail(id.error(),
                id.error().code == ErrorCode::kInvalidArgument || id.error().code == ErrorCode::kAlreadyExists ? 2 : 1);
  }
  if (password_stdin) {
    if (Status s = accounts->SetPassword(*id, password, cli); !s.ok()) return Fail(s.error());
    std::printf("Added staff account %lld. They can sign in now.\n", static_cast<long long>(*id));
    return 0;
  }
  auto token = accounts->IssueSetupToken(*id, cli);
  if (!token.ok()) return Fail(token.error());
  std::printf("Added staff account %lld. Send them this set-up link (valid 24 hours, once):\n  %s\n",
              static_cast<long long>(*id), SetupLink(c.platform->base_url(), *token).c_str());
  return 0;
}

int StaffList(CommandContext& c) {
  auto accounts = OpenAccounts(*c.platform);
  if (!accounts) return 1;
  auto all = accounts->List();
  if (!all.ok()) return Fail(all.error());
  for (const auto& m : *all) {
    // Privacy: staff-accounts, printed for the operator who asked, on their terminal only.
    std::printf("%-5lld %-40s %-30s %s\n", static_cast<long long>(m.id), m.email.c_str(),
                staff::JoinRoles(m.roles).c_str(),
                m.disabled       ? "disabled"
                : m.has_password ? "active"
                                 : "waiting for set-up");
  }
  return 0;
}

int StaffDisable(CommandContext& c) {
  auto accounts = OpenAccounts(*c.platform);
  if (!accounts) return 1;
  auto m = accounts->FindByEmail(c.args.Text("--email"));
  if (!m.ok() || !*m) {
    std::fprintf(stderr, "steward: no staff account with that email address\n");
    return 2;
  }
  if (Status s = accounts->SetDisabled((*m)->id, true, {"system", ""}); !s.ok()) return Fail(s.error());
  std::printf("Disabled staff account %lld and ended its sessions.\n", static_cast<long long>((*m)->id));
  return 0;
}

int AuditVerify(CommandContext& c) {
  std::string public_key = crypto::SigningKey(audit::CheckpointSeed(c.platform->key)).public_key();
  audit::VerifyOptions options{.now = c.platform->clock.Now()};
  if (auto period = c.platform->reg.RetentionPeriod(kAudit.value())) options.rule = period->text;
  audit::VerifyReport report;
  Status s = c.platform->store.Read([&](store::Connection& conn) -> Status {
    STEWARD_ASSIGN_OR_RETURN(report, audit::Verify(conn, public_key, options));
    return Ok();
  });
  if (!s.ok()) {
    std::fprintf(stderr, "steward: cannot read the audit trail: %s\n", s.error().message.c_str());
    return 2;
  }
  if (!report.ok()) {
    std::printf("The audit trail is broken at entry %lld: %s.\n(%lld entries, %lld signed checkpoints read)\n",
                static_cast<long long>(report.first_bad_seq), report.problem.c_str(),
                static_cast<long long>(report.entries), static_cast<long long>(report.checkpoints));
    return 1;
  }
  std::printf("The audit trail is intact: %lld entries, %lld signed checkpoints.\nVerified %s.\n",
              static_cast<long long>(report.entries), static_cast<long long>(report.checkpoints), report.start.c_str());
  return 0;
}

int AuditExport(CommandContext& c) {
  Status s = c.platform->store.Read([&](store::Connection& conn) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t n, audit::ExportJsonLines(conn, c.args.Text("--since"), std::cout));
    (void)n;
    return Ok();
  });
  std::cout.flush();
  if (!s.ok()) {
    std::fprintf(stderr, "steward: cannot read the audit trail: %s\n", s.error().message.c_str());
    return 2;
  }
  return 0;
}

// Staff accounts and sessions while serving, and the shell every module's staff pages go through.
class StaffServing : public module::Serving {
 public:
  static Result<std::unique_ptr<module::Serving>> Start(module::Platform& p) {
    STEWARD_ASSIGN_OR_RETURN(auto policy, staff::PasswordPolicy::Load(CommonPasswordsFile(p.config)));
    auto s = std::unique_ptr<StaffServing>(new StaffServing(p, std::move(policy)));
    (void)s->sessions_.PurgeExpired();
    STEWARD_CHECK(p.pages != nullptr, "the staff shell needs the site's pages");
    s->shell_ = std::make_shared<Shell>(
        Shell::Deps{p.config, p.base_url, *p.pages, s->accounts_, s->sessions_, p.trail, p.clock});
    p.services.Provide<staff::Accounts>(&s->accounts_);
    p.services.Provide<staff::Sessions>(&s->sessions_);
    p.services.Provide<module::StaffShell>(s->shell_.get());
    return std::unique_ptr<module::Serving>(std::move(s));
  }

  std::vector<module::StaffPage> StaffPages() override { return StaffAccountsPages(accounts_, platform_.base_url); }
  subject::SubjectData* Subjects() override { return &subjects_; }

  // Sessions past their idle or absolute expiry are refused when used; this removes them, hourly,
  // so that a site that runs for months keeps none it no longer honours.
  std::vector<module::Task> Tasks() override {
    return {{.name = "staff.sessions_expired",
             .first = std::chrono::minutes(1),
             .every = std::chrono::hours(1),
             .run = [this]() -> Status {
               STEWARD_ASSIGN_OR_RETURN(int64_t n, sessions_.PurgeExpired());
               (void)n;
               return Ok();
             }}};
  }

  // A site with no staff yet: a link to set up the first administrator.
  void Started() override {
    if (auto n = accounts_.Count(); n.ok() && *n == 0) {
      auto token = accounts_.IssueSetupToken(std::nullopt, {});
      if (token.ok()) {
        std::printf("No staff accounts yet. Set up the first administrator (link valid 24 hours, once):\n  %s\n",
                    SetupLink(platform_.base_url(), *token).c_str());
      }
    }
  }

 private:
  StaffServing(module::Platform& p, staff::PasswordPolicy policy)
      : platform_(p),
        accounts_(p.store, p.trail, p.clock, p.key, std::move(policy)),
        sessions_(p.store, p.clock, p.key),
        subjects_(p.SubjectDeps(kStaff)) {}
  module::Platform& platform_;
  staff::Accounts accounts_;
  staff::Sessions sessions_;
  staff::StaffSubjects subjects_;
  std::shared_ptr<Shell> shell_;
};

class AuditServing : public module::Serving {
 public:
  explicit AuditServing(module::Platform& p) : trail_(p.trail), subjects_(p.SubjectDeps(kAudit)) {}
  std::vector<module::StaffPage> StaffPages() override { return AuditTrailPages(trail_); }
  subject::SubjectData* Subjects() override { return &subjects_; }

 private:
  audit::Trail& trail_;
  subject::AuditSubjects subjects_;
};

Option Email() { return {.name = "--email", .help = "Their email address.", .required = true}; }

}  // namespace

module::Descriptor StaffModule() {
  return {
      .id = kStaff,
      .migrations = [] { return staff::Accounts::Migrations(); },
      .storage = [](const config::Config&) { return std::vector<retention::ModuleStorage>{staff::Storage()}; },
      .cookies = [](const config::Config& config,
                    const processing::Register&) { return StaffCookieNames(config.server.https); },
      .command_groups = {{"staff", "Manage staff accounts from the command line."}},
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"staff", "add"},
                 .help = "Add a staff account; print a one-time set-up link.",
                 .options = {Email(),
                             {.name = "--role",
                              .help = "admin, dpo, analyst, caseworker or security (repeat for several).",
                              .kind = Option::Kind::kList,
                              .required = true},
                             {.name = "--password-stdin",
                              .help = "Read their password from standard input instead.",
                              .kind = Option::Kind::kFlag}},
                 .run = StaffAdd},
                {.path = {"staff", "list"}, .help = "List staff accounts.", .run = StaffList},
                {.path = {"staff", "disable"},
                 .help = "Disable a staff account and end its sessions.",
                 .options = {Email()},
                 .run = StaffDisable},
            };
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        return std::unique_ptr<subject::SubjectData>(std::make_unique<staff::StaffSubjects>(p.SubjectDeps(kStaff)));
      },
      .start = StaffServing::Start,
  };
}

module::Descriptor AuditModule() {
  return {
      .id = kAudit,
      .command_groups = {{"audit", "Check or export the tamper-evident audit trail."}},
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"audit", "verify"},
                 .help = "Walk the hash chain and signed checkpoints; name the first bad entry.",
                 .run = AuditVerify},
                {.path = {"audit", "export"},
                 .help = "Write audit entries as JSON lines to standard output.",
                 .options = {{.name = "--since",
                              .help = "Only entries at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z)."}},
                 .run = AuditExport},
            };
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        return std::unique_ptr<subject::SubjectData>(std::make_unique<subject::AuditSubjects>(p.SubjectDeps(kAudit)));
      },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        return std::unique_ptr<module::Serving>(std::make_unique<AuditServing>(p));
      },
  };
}

}  // namespace steward::admin
