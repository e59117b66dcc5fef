#include "rights/module.h"

#include <algorithm>
#include <filesystem>

#include "analytics/analytics.h"
#include "config/document.h"
#include "core/days.h"
#include "mail/mail.h"
#include "rights/commands.h"
#include "rights/copies.h"
#include "rights/reminders.h"
#include "staff/accounts.h"
#include "core/log.h"
#include "rights/public_pages.h"
#include "rights/requests.h"
#include "rights/staff_pages.h"
#include "rights/subject_data.h"

namespace steward::rights {
namespace {

constexpr module::Id kRights("rights");

// What serving needs: the holidays and the cases over them, the staff pages, and with [mail] the
// public form whose links prove an address.
class RightsServing : public module::Serving {
 public:
  RightsServing(module::Platform& p, std::unique_ptr<BankHolidays> holidays, Settings settings)
      : p_(p),
        holidays_(std::move(holidays)),
        cases_(std::make_unique<Cases>(p.store, p.trail, p.key, p.clock, std::move(settings), *holidays_)),
        copies_(std::make_unique<Copies>(p.store, p.key, p.clock, *cases_)),
        subjects_(p.SubjectDeps(kRights), *cases_) {}

  subject::SubjectData* Subjects() override { return &subjects_; }

  // The public form, when the site sends email.
  Status OpenPublic() {
    auto* queue = p_.services.Find<mail::Queue>();
    if (queue == nullptr) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto mail, mail::ReadSettings(*p_.config.document, p_.reg));
    if (!mail) return Ok();
    mail_ = std::make_unique<mail::Settings>(std::move(*mail));
    std::string visitor_cookie;
    if (auto analytics = analytics::ReadSettings(*p_.config.document, p_.reg); analytics.ok() && *analytics) {
      visitor_cookie = (*analytics)->visitor_cookie;
    }
    queue_ = queue;
    requests_ = std::make_unique<Requests>(p_.store, p_.key, p_.clock, *cases_, *queue, *mail_, p_.base_url,
                                           p_.config.site.name);
    public_ = std::make_unique<PublicPages>(p_, *requests_, *copies_, visitor_cookie);
    return Ok();
  }

  void AddRoutes(http::Router& router) override {
    if (public_) public_->AddRoutes(router);
  }
  // Reminders to the caseworkers, when the site sends email: checked every hour, each case reminded
  // once a week before it is due and once when it is overdue.
  std::vector<module::Task> Tasks() override {
    auto* accounts = p_.services.Find<staff::Accounts>();
    if (!mail_ || accounts == nullptr) return {};
    return {{.name = "rights.reminders",
             .first = std::chrono::minutes(2),
             .every = std::chrono::hours(1),
             .run = [this, accounts]() -> Status {
               STEWARD_ASSIGN_OR_RETURN(int64_t n,
                                        SendReminders(*cases_, *accounts, *queue_, *mail_,
                                                      {.site_name = p_.config.site.name, .base_url = p_.base_url()}));
               if (n > 0) log::Info("rights.reminded", {{"cases", std::to_string(n)}});
               return Ok();
             }}};
  }

  std::vector<module::StaffPage> StaffPages() override {
    Delivery delivery;
    if (mail_) delivery = {.queue = queue_, .mail = mail_.get(), .copies = copies_.get()};
    return CasePages(p_, *cases_, delivery);
  }

 private:
  module::Platform& p_;
  std::unique_ptr<BankHolidays> holidays_;
  std::unique_ptr<Cases> cases_;
  std::unique_ptr<Copies> copies_;
  mail::Queue* queue_ = nullptr;
  std::unique_ptr<mail::Settings> mail_;
  std::unique_ptr<Requests> requests_;
  std::unique_ptr<PublicPages> public_;
  CaseSubjects subjects_;
};

}  // namespace

Result<std::optional<Settings>> ReadSettings(const config::Config& config, const processing::Register& reg) {
  config::Problems problems(config.document->path());
  config::Table root = config.document->Root(problems);
  auto table = root.Child("rights");
  if (!table) return std::optional<Settings>();
  Settings s;
  if (table->String("dataset", s.dataset, /*required=*/true)) {
    const processing::Dataset* found = nullptr;
    for (const auto& d : reg.datasets) {
      if (d.id == s.dataset) found = &d;
    }
    if (found == nullptr) {
      problems.Add(table->Where("dataset"),
                   "[rights] 'dataset' names '" + s.dataset + "', which the register does not declare");
    } else if (found->module != "rights") {
      problems.Add(table->Where("dataset"), "[rights] 'dataset' names '" + s.dataset + "', which is module '" +
                                                found->module + "'s: name a dataset of module \"rights\"");
    }
  }
  std::string nation = "england-and-wales";
  table->String("nation", nation);
  if (auto n = ParseNation(nation)) {
    s.nation = *n;
  } else {
    problems.Add(table->Where("nation"),
                 "[rights] 'nation' is \"england-and-wales\", \"scotland\" or \"northern-ireland\": whose bank "
                 "holidays move a due date");
  }
  s.bank_holidays = config.site.web_dir + "/data/bank-holidays.json";
  if (std::string file; table->String("bank_holidays", file)) {
    std::filesystem::path path(file);
    if (path.is_relative()) {
      path = std::filesystem::absolute(std::filesystem::path(config.path)).parent_path() / path;
    }
    s.bank_holidays = path.lexically_normal().string();
  }
  if (int64_t days = s.copy_days; table->Int("copy_days", days, 1, 90)) s.copy_days = static_cast<int>(days);
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

module::Descriptor Module() {
  return {
      .id = kRights,
      .migrations =
          [] {
            auto all = Cases::Migrations();
            for (auto& m : Requests::Migrations()) all.push_back(m);
            for (auto& m : Copies::Migrations()) all.push_back(m);
            std::sort(all.begin(), all.end(),
                      [](const store::Migration& a, const store::Migration& b) { return a.version < b.version; });
            return all;
          },
      .storage = [](const config::Config&) { return std::vector<retention::ModuleStorage>{Cases::Storage()}; },
      .config_tables = {"rights"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(config, reg));
        if (settings) STEWARD_RETURN_IF_ERROR(BankHolidays::Load(settings->bank_holidays));
        return Ok();
      },
      .explain = [](const config::Config& config, const processing::Register& reg) { return Explain(config, reg); },
      .command_groups = {{"rights", "Rights requests: due dates, what the site holds about a person, the cases."}},
      .commands = [] { return Commands(); },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
        if (!settings) return std::unique_ptr<subject::SubjectData>();
        STEWARD_ASSIGN_OR_RETURN(BankHolidays holidays, BankHolidays::Load(settings->bank_holidays));
        // The command line's cases live as long as their subject data.
        struct Owned : CaseSubjects {
          Owned(Deps d, std::unique_ptr<BankHolidays> h, std::unique_ptr<Cases> c)
              : CaseSubjects(std::move(d), *c), holidays(std::move(h)), cases(std::move(c)) {}
          std::unique_ptr<BankHolidays> holidays;
          std::unique_ptr<Cases> cases;
        };
        auto owned_holidays = std::make_unique<BankHolidays>(std::move(holidays));
        auto cases = std::make_unique<Cases>(p.store, p.trail, p.key, p.clock, std::move(*settings), *owned_holidays);
        return std::unique_ptr<subject::SubjectData>(
            std::make_unique<Owned>(p.SubjectDeps(kRights), std::move(owned_holidays), std::move(cases)));
      },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
        if (!settings) return std::unique_ptr<module::Serving>(std::make_unique<module::Serving>());
        STEWARD_ASSIGN_OR_RETURN(BankHolidays holidays, BankHolidays::Load(settings->bank_holidays));
        auto serving = std::make_unique<RightsServing>(p, std::make_unique<BankHolidays>(std::move(holidays)),
                                                       std::move(*settings));
        STEWARD_RETURN_IF_ERROR(serving->OpenPublic());
        return std::unique_ptr<module::Serving>(std::move(serving));
      },
  };
}

}  // namespace steward::rights
