// steward: the command line. The binary's own commands are here; every module's come from its
// descriptor (module/module.h) through one loop.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <deque>
#include <map>

#include "app/modules.h"
#include "app/steward.h"

namespace {

using steward::module::Option;

constexpr int kExitUsage = 2;

// The common options: the site's file, and where its data is for a command that uses it.
void AddSiteOptions(CLI::App* cmd, std::string& config_path, steward::app::Overrides& overrides, bool uses_data) {
  cmd->add_option("--config", config_path, "The site's config file (TOML).")->required()->check(CLI::ExistingFile);
  if (uses_data) cmd->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
}

// A module's command as CLI11 sees it: the values its options collect.
struct Bound {
  const steward::module::Command* command = nullptr;
  CLI::App* app = nullptr;
  std::map<std::string, std::vector<std::string>> values;
  std::map<std::string, bool> flags;

  steward::module::Args Args() const {
    steward::module::Args args;
    for (const auto& option : command->options) {
      if (option.kind == Option::Kind::kFlag) {
        args.Set(option.name, {flags.at(option.name) ? "true" : "false"});
        continue;
      }
      const auto& v = values.at(option.name);
      if (!v.empty()) {
        args.Set(option.name, v);
      } else if (!option.default_value.empty()) {
        args.Set(option.name, {option.default_value});
      }
    }
    return args;
  }
};

void Bind(Bound& b) {
  for (const Option& o : b.command->options) {
    if (o.kind == Option::Kind::kFlag) {
      b.flags[o.name] = false;
      b.app->add_flag(o.name, b.flags[o.name], o.help);
      continue;
    }
    CLI::Option* opt = b.app->add_option(o.name, b.values[o.name], o.help);
    if (o.kind == Option::Kind::kList || o.kind == Option::Kind::kPositionalList) {
      opt->expected(1, -1);
    } else {
      opt->expected(1);
    }
    if (o.required) opt->required();
    if (!o.choices.empty()) opt->check(CLI::IsMember(o.choices));
    if (o.kind == Option::Kind::kInteger) {
      opt->check(CLI::Range(static_cast<double>(o.min == INT64_MIN ? -9e15 : o.min),
                            static_cast<double>(o.max == INT64_MAX ? 9e15 : o.max)));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  using steward::app::Overrides;
  CLI::App cli{
      "Steward: a privacy-by-design data platform for public-service websites.\n"
      "One declaration of a site's processing drives its privacy notice, cookies, analytics,\n"
      "retention and rights requests."};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", STEWARD_VERSION);

  std::string config_path;
  Overrides overrides;

  auto* serve = cli.add_subcommand("serve", "Serve the site's Steward endpoints until SIGTERM or Ctrl-C.");
  AddSiteOptions(serve, config_path, overrides, true);
  serve->add_option("--listen", overrides.listen, "HOST:PORT to listen on (port 0: any free port).");
  serve->add_option("--secret-key-file", overrides.secret_key_file, "Secret key file; default DATA/secret.key.");

  auto* init = cli.add_subcommand("init", "Make a new site: its data directory, secret key and database.");
  AddSiteOptions(init, config_path, overrides, true);

  auto* check = cli.add_subcommand("check-config", "Validate a config file; print every problem with its line.");
  check->add_option("--config", config_path, "The config file to check.")->required();

  std::string backup_to;
  auto* backup = cli.add_subcommand("backup", "Copy the site's database, consistently, while Steward runs.");
  AddSiteOptions(backup, config_path, overrides, true);
  backup->add_option("--to", backup_to, "The new backup file (must not exist).")->required();

  auto* store_group = cli.add_subcommand("store", "The site's database.");
  store_group->require_subcommand(1);
  std::string copy_from, copy_to;
  auto* store_copy = store_group->add_subcommand(
      "copy", "Copy the site into an empty store named by another config file (SQLite to PostgreSQL, or back).");
  store_copy->add_option("--from-config", copy_from, "The config file of the site as it is.")->required();
  store_copy->add_option("--to-config", copy_to, "The same site's config file naming the new store.")->required();

  auto* retention = cli.add_subcommand("retention", "Delete what the register says is kept no longer.");
  retention->require_subcommand(1);
  bool dry_run = false;
  auto* retention_run =
      retention->add_subcommand("run", "Run every dataset's purge now (it also runs daily in serve).");
  AddSiteOptions(retention_run, config_path, overrides, true);
  retention_run->add_flag("--dry-run", dry_run,
                          "List every dataset with its cut-off and what would go; delete nothing.");

  // Every module's commands, under their groups.
  std::map<std::string, CLI::App*> groups;
  for (const auto& d : steward::app::Modules()) {
    for (const auto& g : d.command_groups) {
      groups[g.name] = cli.add_subcommand(g.name, g.help);
      groups[g.name]->require_subcommand(1);
    }
  }
  std::deque<Bound> bound;
  std::vector<steward::module::Command> commands;
  for (const auto& d : steward::app::Modules()) {
    if (!d.commands) continue;
    for (auto& c : d.commands()) commands.push_back(std::move(c));
  }
  for (const auto& c : commands) {
    CLI::App* parent = c.path.size() > 1 ? groups.at(c.path.front()) : &cli;
    Bound& b = bound.emplace_back();
    b.command = &c;
    b.app = parent->add_subcommand(c.path.back(), c.help);
    AddSiteOptions(b.app, config_path, overrides, c.uses_data);
    Bind(b);
  }

  auto* version = cli.add_subcommand("version", "Print Steward's version.");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  if (version->parsed()) {
    std::printf("steward %s\n", STEWARD_VERSION);
    return 0;
  }

  if (store_copy->parsed()) {
    auto from = steward::app::LoadConfig(copy_from, {});
    auto to = steward::app::LoadConfig(copy_to, {});
    for (const auto* c : {&from, &to}) {
      if (!c->ok()) {
        std::fprintf(stderr, "%s\n", c->error().message.c_str());
        return kExitUsage;
      }
    }
    return steward::app::StoreCopy(*from, *to);
  }

  auto config = steward::app::LoadConfig(config_path, overrides);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return kExitUsage;
  }
  if (check->parsed()) return steward::app::CheckConfig(*config);
  if (init->parsed()) return steward::app::Init(*config);
  if (serve->parsed()) return steward::app::Serve(*config);
  if (backup->parsed()) return steward::app::Backup(*config, backup_to);
  if (retention_run->parsed()) return steward::app::RetentionRun(*config, dry_run);
  for (const Bound& b : bound) {
    if (b.app->parsed()) return steward::app::RunCommand(*b.command, *config, b.Args());
  }
  return kExitUsage;
}
