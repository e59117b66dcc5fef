#include "rights/module.h"

#include <filesystem>

#include "config/document.h"
#include "core/days.h"
#include "rights/commands.h"
#include "rights/staff_pages.h"

namespace steward::rights {
namespace {

constexpr module::Id kRights("rights");

// What serving needs: the holidays and the cases over them, and the pages.
class RightsServing : public module::Serving {
 public:
  RightsServing(module::Platform& p, std::unique_ptr<BankHolidays> holidays, Settings settings)
      : p_(p),
        holidays_(std::move(holidays)),
        cases_(std::make_unique<Cases>(p.store, p.trail, p.key, p.clock, std::move(settings), *holidays_)) {}

  std::vector<module::StaffPage> StaffPages() override { return CasePages(p_, *cases_); }

 private:
  module::Platform& p_;
  std::unique_ptr<BankHolidays> holidays_;
  std::unique_ptr<Cases> cases_;
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
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

module::Descriptor Module() {
  return {
      .id = kRights,
      .migrations = [] { return Cases::Migrations(); },
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
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
        if (!settings) return std::unique_ptr<module::Serving>(std::make_unique<module::Serving>());
        STEWARD_ASSIGN_OR_RETURN(BankHolidays holidays, BankHolidays::Load(settings->bank_holidays));
        return std::unique_ptr<module::Serving>(std::make_unique<RightsServing>(
            p, std::make_unique<BankHolidays>(std::move(holidays)), std::move(*settings)));
      },
  };
}

}  // namespace steward::rights
