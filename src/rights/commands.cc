#include "rights/commands.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "core/days.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "rights/actions.h"
#include "rights/module.h"

#include <fstream>

namespace steward::rights {
namespace {

using module::Option;

Result<Settings> SettingsOrDefault(const config::Config& config, const processing::Register* reg) {
  if (reg != nullptr) {
    STEWARD_ASSIGN_OR_RETURN(auto s, ReadSettings(config, *reg));
    if (s) return *s;
  }
  return Settings{.bank_holidays = config.site.web_dir + "/data/bank-holidays.json"};
}

// `steward rights due`: the due date the cases compute, for scripts and for checking by hand.
int DueCommand(module::CommandContext& ctx) {
  auto reg = processing::FromDocument(*ctx.config.document);
  auto settings = SettingsOrDefault(ctx.config, reg.ok() ? &*reg : nullptr);
  if (!settings.ok()) return module::Fail(settings.error(), 2);
  auto holidays = BankHolidays::Load(settings->bank_holidays);
  if (!holidays.ok()) return module::Fail(holidays.error(), 2);
  Nation nation = settings->nation;
  if (ctx.args.Has("--nation")) nation = *ParseNation(ctx.args.Text("--nation"));
  auto received = ParseDay(ctx.args.Text("--received"));
  if (!received) return module::Fail(MakeError(ErrorCode::kInvalidArgument, "--received: give a date YYYY-MM-DD"), 2);
  DueInput in{.received = *received, .extended = ctx.args.Flag("--extended")};
  if (ctx.args.Has("--proof")) {
    auto proof = ParseDay(ctx.args.Text("--proof"));
    if (!proof) return module::Fail(MakeError(ErrorCode::kInvalidArgument, "--proof: give a date YYYY-MM-DD"), 2);
    in.proof_received = *proof;
  }
  for (const auto& stop : ctx.args.List("--stopped")) {
    auto dots = stop.find("..");
    auto from = ParseDay(stop.substr(0, dots));
    auto to = dots == std::string::npos ? std::nullopt : ParseDay(stop.substr(dots + 2));
    if (!from || !to) {
      return module::Fail(
          MakeError(ErrorCode::kInvalidArgument, "--stopped: give FROM..TO as YYYY-MM-DD..YYYY-MM-DD ('" + stop + "')"),
          2);
    }
    in.pauses.push_back(Pause{.from = *from, .to = *to});
  }
  auto due = DueDate(in, nation, *holidays);
  if (!due.ok()) return module::Fail(due.error(), 2);
  if (ctx.args.Text("--format") == "json") {
    nlohmann::json out = {{"due", DayText(due->day)},
                          {"received", DayText(in.received)},
                          {"starts", DayText(due->start)},
                          {"calendar_day", DayText(due->calendar)},
                          {"paused_days", due->paused_days},
                          {"extended", in.extended},
                          {"nation", NationName(nation)},
                          {"moved_because", due->moved_because},
                          {"bank_holidays_cover", due->beyond_holidays ? false : true}};
    std::printf("%s\n", JsonText(out).c_str());
  } else {
    std::printf("%s\n", DayText(due->day).c_str());
  }
  if (due->beyond_holidays) {
    std::fprintf(stderr, "steward: %s lists bank holidays to %d only: this date skips weekends but no bank holiday\n",
                 holidays->path().c_str(), holidays->last_year());
  }
  return 0;
}

const std::vector<std::pair<std::string, subject::KeyKind>>& FindOptions() {
  static const std::vector<std::pair<std::string, subject::KeyKind>> kOptions = {
      {"--email", subject::KeyKind::kEmail},          {"--account", subject::KeyKind::kAccountId},
      {"--consent-id", subject::KeyKind::kConsentId}, {"--visitor-id", subject::KeyKind::kVisitorId},
      {"--ip", subject::KeyKind::kIpAddress},         {"--telephone", subject::KeyKind::kTelephone},
      {"--handle", subject::KeyKind::kHandle}};
  return kOptions;
}

// `steward rights find`: what every module holds about the identifiers given, as counts by module
// and dataset. Never prints an identifier's value; audited with the counts.
int FindCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  std::vector<subject::Key> keys;
  for (const auto& [option, kind] : FindOptions()) {
    for (const auto& value : ctx.args.List(option)) {
      auto key = subject::Key::Make(kind, value);
      if (!key.ok())
        return module::Fail(MakeError(ErrorCode::kInvalidArgument, option + ": " + key.error().message), 2);
      keys.push_back(*key);
    }
  }
  if (keys.empty()) {
    return module::Fail(MakeError(ErrorCode::kInvalidArgument,
                                  "give at least one identifier: --email, --account, --consent-id, --visitor-id, "
                                  "--ip, --telephone or --handle"),
                        2);
  }
  subject::Directory* dir = p.directory ? p.directory() : nullptr;
  if (dir == nullptr) return module::Fail(MakeError(ErrorCode::kFailedPrecondition, "no module holds personal data"));
  auto survey = SurveyKeys(*dir, keys);
  if (!survey.ok()) return module::Fail(survey.error());
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& h : survey->held) {
    modules.push_back({{"module", h.module},
                       {"dataset", h.dataset},
                       {"count", h.count},
                       {"restricted", h.restricted},
                       {"note", h.note}});
  }
  const auto& followed = survey->followed;
  int64_t total = survey->total;
  nlohmann::json kinds = nlohmann::json::array();
  for (const auto& k : followed) kinds.push_back(std::string(subject::KindName(k.kind())));
  (void)p.trail.Append({.actor = "cli",
                        .action = "rights.searched",
                        .details = {{"identifiers", std::to_string(keys.size())},
                                    {"followed", std::to_string(followed.size())},
                                    {"records", std::to_string(total)}}});
  if (ctx.args.Text("--format") == "json") {
    nlohmann::json out = {{"identifiers", kinds}, {"holdings", modules}, {"total", total}};
    std::printf("%s\n", JsonText(out, 2).c_str());
    return 0;
  }
  std::printf("Searched %zu identifier(s) (%zu with those they lead to).\n", keys.size(), followed.size());
  if (modules.empty()) std::printf("Nothing is held.\n");
  for (const auto& row : modules) {
    std::printf("  %-16s %-28s %8lld%s%s\n", row["module"].get<std::string>().c_str(),
                row["dataset"].get<std::string>().c_str(), static_cast<long long>(row["count"].get<int64_t>()),
                row["restricted"].get<bool>() ? "  restricted" : "",
                row["note"].get<std::string>().empty() ? "" : ("  (" + row["note"].get<std::string>() + ")").c_str());
  }
  std::printf("Total: %lld record(s)\n", static_cast<long long>(total));
  return 0;
}

Result<std::unique_ptr<Cases>> OpenCases(module::Platform& p, std::unique_ptr<BankHolidays>& holidays) {
  STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(p.config, p.reg));
  if (!settings) return MakeError(ErrorCode::kFailedPrecondition, "the site has no [rights] (docs/rights.md)");
  STEWARD_ASSIGN_OR_RETURN(BankHolidays loaded, BankHolidays::Load(settings->bank_holidays));
  holidays = std::make_unique<BankHolidays>(std::move(loaded));
  return std::make_unique<Cases>(p.store, p.trail, p.key, p.clock, std::move(*settings), *holidays);
}

std::string Rights(const std::vector<Right>& rights) {
  std::string out;
  for (Right r : rights) out += (out.empty() ? "" : ", ") + std::string(RightShort(r));
  return out;
}

int ListCommand(module::CommandContext& ctx) {
  std::unique_ptr<BankHolidays> holidays;
  auto cases = OpenCases(*ctx.platform, holidays);
  if (!cases.ok()) return module::Fail(cases.error(), 2);
  bool closed = ctx.args.Flag("--closed");
  auto queue = (*cases)->Queue({.open = !closed});
  if (!queue.ok()) return module::Fail(queue.error());
  if (queue->empty()) std::printf(closed ? "No closed rights requests.\n" : "No open rights requests.\n");
  for (const auto& s : *queue) {
    std::printf("%s  received %s  due %s  %-30s %s%s\n", s.reference.c_str(), DayText(s.received).c_str(),
                DayText(s.due.day).c_str(), closed ? s.status.c_str() : s.ClockText().c_str(), Rights(s.rights).c_str(),
                s.assignee ? ("  staff:" + std::to_string(*s.assignee)).c_str() : "");
  }
  return 0;
}

// The case --case names, with the cases and holidays it is read through.
struct Loaded {
  std::unique_ptr<BankHolidays> holidays;
  std::unique_ptr<Cases> cases;
  Case c;
};
Result<Loaded> LoadCase(module::CommandContext& ctx) {
  Loaded out;
  STEWARD_ASSIGN_OR_RETURN(out.cases, OpenCases(*ctx.platform, out.holidays));
  auto id = Cases::ParseReference(ctx.args.Text("--case"));
  if (!id) return MakeError(ErrorCode::kInvalidArgument, "--case: give a reference such as R-000017");
  STEWARD_ASSIGN_OR_RETURN(out.c, out.cases->Get(*id));
  return out;
}
// 2 for what the operator must fix (a reference, a missing [rights], a case's state), 1 otherwise.
int ExitFor(const Error& e) {
  return e.code == ErrorCode::kInvalidArgument || e.code == ErrorCode::kNotFound ||
                 e.code == ErrorCode::kFailedPrecondition || e.code == ErrorCode::kAlreadyExists
             ? 2
             : 1;
}

int ShowCommand(module::CommandContext& ctx) {
  auto loaded = LoadCase(ctx);
  if (!loaded.ok()) return module::Fail(loaded.error(), ExitFor(loaded.error()));
  const Case* c = &loaded->c;
  // Privacy: rights requests: one case, shown to the operator who asked for it (audited).
  (void)ctx.platform->trail.Append(
      {.actor = "cli", .action = "rights.viewed", .target = "rights:" + std::to_string(c->id)});
  std::printf("%s  %s\n", c->reference.c_str(), Rights(c->rights).c_str());
  std::printf("Received:   %s (%s)\n", DayText(c->received).c_str(), c->channel.c_str());
  std::printf("Due:        %s%s\n", DayText(c->due.day).c_str(),
              c->due.moved_because.empty() ? "" : (" (moved off " + c->due.moved_because + ")").c_str());
  std::printf("Clock:      %s\n", c->ClockText().c_str());
  std::printf("Status:     %s\n", c->status.c_str());
  if (!c->name.empty()) std::printf("Name:       %s\n", c->name.c_str());
  if (!c->email.empty()) std::printf("Email:      %s\n", c->email.c_str());
  if (!c->postal_address.empty()) std::printf("Address:    %s\n", c->postal_address.c_str());
  for (const auto& k : c->identifiers) {
    std::printf("Identifier: %s %s\n", std::string(subject::KindName(k.kind())).c_str(), k.value().c_str());
  }
  if (!c->details.empty()) std::printf("About:      %s\n", c->details.c_str());
  if (!c->outcome.empty()) std::printf("Outcome:    %s\n", c->outcome.c_str());
  std::printf("Timeline:\n");
  for (const auto& e : c->timeline) {
    std::printf("  %s  %-10s %s%s%s\n", e.at.substr(0, 16).c_str(), e.actor.c_str(), e.kind.c_str(),
                e.text.empty() ? "" : ": ", e.text.c_str());
  }
  return 0;
}

// `steward rights export --case N --to FILE.zip`: the case's bundle, never over an existing file.
int ExportCommand(module::CommandContext& ctx) {
  auto loaded = LoadCase(ctx);
  if (!loaded.ok()) return module::Fail(loaded.error(), ExitFor(loaded.error()));
  Cases* cases = loaded->cases.get();
  const Case* c = &loaded->c;
  std::string to = ctx.args.Text("--to");
  if (std::ifstream(to).good()) return module::Fail(MakeError(ErrorCode::kAlreadyExists, to + ": exists already"), 2);
  subject::Directory* dir = ctx.platform->directory ? ctx.platform->directory() : nullptr;
  if (dir == nullptr) return module::Fail(MakeError(ErrorCode::kFailedPrecondition, "no module holds personal data"));
  auto zip = ExportCase(*dir, *cases, ctx.platform->reg, ctx.config.site.name, *c, UkDay(ctx.platform->clock.Now()),
                        {.id = "cli"});
  if (!zip.ok()) return module::Fail(zip.error());
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  out.write(zip->data(), static_cast<std::streamsize>(zip->size()));
  out.close();
  if (!out) return module::Fail(MakeError(ErrorCode::kIo, to + ": cannot be written"));
  std::printf("Wrote %s (%zu bytes) for %s. Read it before it is sent: take out what is about other people.\n",
              to.c_str(), zip->size(), c->reference.c_str());
  return 0;
}

// `steward rights erase --case N --confirm`: erasure across every module, the exemptions named.
int EraseCommand(module::CommandContext& ctx) {
  auto loaded = LoadCase(ctx);
  if (!loaded.ok()) return module::Fail(loaded.error(), ExitFor(loaded.error()));
  Cases* cases = loaded->cases.get();
  const Case* c = &loaded->c;
  if (!ctx.args.Flag("--confirm")) {
    return module::Fail(MakeError(ErrorCode::kInvalidArgument,
                                  "erasure cannot be undone: run `steward rights find` first, then add --confirm"),
                        2);
  }
  subject::Directory* dir = ctx.platform->directory ? ctx.platform->directory() : nullptr;
  if (dir == nullptr) return module::Fail(MakeError(ErrorCode::kFailedPrecondition, "no module holds personal data"));
  auto erased = EraseCase(*dir, *cases, ctx.platform->reg, *c, {.id = "cli"});
  if (!erased.ok()) return module::Fail(erased.error(), erased.error().code == ErrorCode::kFailedPrecondition ? 2 : 1);
  std::printf("%s: %lld record(s) erased or anonymised.\n", c->reference.c_str(),
              static_cast<long long>(erased->Total()));
  for (const auto& e : erased->erasures) {
    if (!e.exemption.empty()) {
      std::printf("  kept   %-28s %s\n", e.dataset.c_str(), e.exemption.c_str());
    } else if (e.erased + e.anonymised > 0) {
      std::printf("  erased %-28s %lld deleted, %lld anonymised\n", e.dataset.c_str(), static_cast<long long>(e.erased),
                  static_cast<long long>(e.anonymised));
    }
  }
  for (const auto& r : erased->recipients) std::printf("Tell %s (it had this data).\n", r.c_str());
  return 0;
}

}  // namespace

std::vector<module::Command> Commands() {
  std::vector<Option> find_options;
  for (const auto& [option, kind] : FindOptions()) {
    find_options.push_back({.name = option,
                            .help = "A " + std::string(subject::KindName(kind)) + " to search by (any number).",
                            .kind = Option::Kind::kList});
  }
  find_options.push_back({.name = "--format",
                          .help = "text or json; default text.",
                          .default_value = "text",
                          .choices = {"text", "json"}});
  return {
      {.path = {"rights", "due"},
       .help = "Print the day a rights request is due: one calendar month from the day it arrived (or the day proof "
               "of identity did), the days stopped for a clarification added, three months when extended, moved "
               "off weekends and the nation's bank holidays.",
       .options = {{.name = "--received", .help = "The day the request arrived (YYYY-MM-DD).", .required = true},
                   {.name = "--nation",
                    .help = "Whose bank holidays count; default the site's [rights] nation, or england-and-wales.",
                    .choices = {"england-and-wales", "scotland", "northern-ireland"}},
                   {.name = "--proof", .help = "The day proof of identity arrived, when it was asked for."},
                   {.name = "--extended", .help = "Extended by two further months.", .kind = Option::Kind::kFlag},
                   {.name = "--stopped",
                    .help = "FROM..TO: the clock stood still waiting for a clarification (any number).",
                    .kind = Option::Kind::kList},
                   {.name = "--format",
                    .help = "text (the date) or json (with how it was reached); default text.",
                    .default_value = "text",
                    .choices = {"text", "json"}}},
       .uses_data = false,
       .run = DueCommand},
      {.path = {"rights", "find"},
       .help = "Print what every module holds about a person, as counts by module and dataset (never a value), "
               "following the identifiers one leads to. Audited with the counts.",
       .options = find_options,
       .run = FindCommand},
      {.path = {"rights", "list"},
       .help = "List the open rights requests by due date, or the closed ones.",
       .options = {{.name = "--closed", .help = "The closed requests, newest first.", .kind = Option::Kind::kFlag}},
       .run = ListCommand},
      {.path = {"rights", "export"},
       .help = "Write a request's copy of the person's data: a zip with a readable page saying why each part is "
               "held, and the data as JSON and CSV. Recorded in the case.",
       .options = {{.name = "--case", .help = "Its reference, such as R-000017.", .required = true},
                   {.name = "--to", .help = "The zip file to write (never over one that exists).", .required = true}},
       .run = ExportCommand},
      {.path = {"rights", "erase"},
       .help = "Erase what every module holds about a request's identifiers, as the register says, naming what "
               "the law keeps and whom to tell. Recorded in the case; cannot be undone.",
       .options = {{.name = "--case", .help = "Its reference, such as R-000017.", .required = true},
                   {.name = "--confirm", .help = "Erase: without it nothing is done.", .kind = Option::Kind::kFlag}},
       .run = EraseCommand},
      {.path = {"rights", "show"},
       .help = "Show one rights request: who asked, what for, the clock and the timeline. Audited.",
       .options = {{.name = "--case", .help = "Its reference, such as R-000017.", .required = true}},
       .run = ShowCommand},
  };
}

std::vector<std::string> Explain(const config::Config& config, const processing::Register& reg) {
  std::vector<std::string> out;
  auto settings = ReadSettings(config, reg);
  if (!settings.ok() || !*settings) return out;
  auto holidays = BankHolidays::Load((*settings)->bank_holidays);
  if (!holidays.ok()) return out;
  out.push_back("rights requests are due by the bank holidays of " + std::string(NationTitle((*settings)->nation)) +
                ", known from " + std::to_string(holidays->first_year()) + " to " +
                std::to_string(holidays->last_year()) + " (" + holidays->path() + ")");
  // A request can be due three months and more after it arrives: warn half a year ahead.
  int64_t today = UkDay(SystemClock::Instance().Now());
  if (holidays->LastDay() - today < 183) {
    out.push_back("warning: the bank holidays run out on " + DayText(holidays->LastDay()) +
                  ": due dates after it skip weekends only. Download GOV.UK's bank-holidays.json and name it in "
                  "[rights] bank_holidays");
  }
  return out;
}

}  // namespace steward::rights
