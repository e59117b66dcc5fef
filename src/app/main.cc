// steward: the command line.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "app/steward.h"

namespace {

constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  using steward::app::Overrides;
  CLI::App cli{"Steward: a privacy-by-design data platform for public-service websites.\n"
               "One declaration of a site's processing drives its privacy notice, cookies, analytics,\n"
               "retention and rights requests."};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", STEWARD_VERSION);

  std::string config_path;
  Overrides overrides;

  auto* serve = cli.add_subcommand("serve", "Serve the site's Steward endpoints until SIGTERM or Ctrl-C.");
  serve->add_option("--config", config_path, "The site's config file (TOML).")->required()->check(CLI::ExistingFile);
  serve->add_option("--listen", overrides.listen, "HOST:PORT to listen on (port 0: any free port).");
  serve->add_option("--data", overrides.data_dir, "Data directory (database, secret key); overrides [storage] data_dir.");
  serve->add_option("--secret-key-file", overrides.secret_key_file, "Secret key file; default DATA/secret.key.");

  auto* check = cli.add_subcommand("check-config", "Validate a config file; print every problem with its line.");
  check->add_option("--config", config_path, "The config file to check.")->required();

  std::string backup_to;
  auto* backup = cli.add_subcommand("backup", "Copy the site's database, consistently, while Steward runs.");
  backup->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  backup->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  backup->add_option("--to", backup_to, "The new backup file (must not exist).")->required();

  auto* audit = cli.add_subcommand("audit", "Check or export the tamper-evident audit trail.");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand("verify", "Walk the hash chain and signed checkpoints; name the first bad entry.");
  verify->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  verify->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  std::string since;
  auto* export_cmd = audit->add_subcommand("export", "Write audit entries as JSON lines to standard output.");
  export_cmd->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  export_cmd->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  export_cmd->add_option("--since", since, "Only entries at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).");

  auto* staff = cli.add_subcommand("staff", "Manage staff accounts from the command line.");
  staff->require_subcommand(1);
  std::string email;
  std::vector<std::string> roles;
  bool password_stdin = false;
  auto* staff_add = staff->add_subcommand("add", "Add a staff account; print a one-time set-up link.");
  staff_add->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  staff_add->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  staff_add->add_option("--email", email, "Their email address.")->required();
  staff_add->add_option("--role", roles, "admin, dpo, analyst, caseworker or security (repeat for several).")
      ->required()->expected(1, -1);
  staff_add->add_flag("--password-stdin", password_stdin, "Read their password from standard input instead.");
  auto* staff_list = staff->add_subcommand("list", "List staff accounts.");
  staff_list->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  staff_list->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  auto* staff_disable = staff->add_subcommand("disable", "Disable a staff account and end its sessions.");
  staff_disable->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  staff_disable->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  staff_disable->add_option("--email", email, "Their email address.")->required();

  auto* notice = cli.add_subcommand("notice", "The privacy notice rendered from the register.");
  notice->require_subcommand(1);
  std::string format = "json";
  auto* render = notice->add_subcommand("render", "Print the notice as html, markdown, or json (the structured notice tools read).");
  render->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  render->add_option("--format", format, "html, markdown or json")->check(CLI::IsMember({"html", "markdown", "json"}));

  auto* retention = cli.add_subcommand("retention", "Delete what the register says is kept no longer.");
  retention->require_subcommand(1);
  bool dry_run = false;
  auto* retention_run = retention->add_subcommand("run", "Run every dataset's purge now (it also runs daily in serve).");
  retention_run->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  retention_run->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  retention_run->add_flag("--dry-run", dry_run, "List every dataset with its cut-off and what would go; delete nothing.");

  std::string stats_site, stats_period = "7d", stats_format = "text";
  auto* stats = cli.add_subcommand("stats", "Print the analytics headline and top tables for a period.");
  stats->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  stats->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  stats->add_option("--site", stats_site, "One of the [analytics] domains; default: the first.");
  stats->add_option("--period", stats_period, "day, 7d, 30d, month, year or FROM..TO (YYYY-MM-DD); default 7d.");
  stats->add_option("--format", stats_format, "text, json or csv; default text.")
      ->check(CLI::IsMember({"text", "json", "csv"}));

  auto* apikey = cli.add_subcommand("apikey", "Keys for the Stats API (POST /api/v2/query).");
  apikey->require_subcommand(1);
  std::string key_name;
  int64_t key_id = 0;
  auto* apikey_create = apikey->add_subcommand("create", "Make a key and print it once (only its hash is kept).");
  apikey_create->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  apikey_create->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  apikey_create->add_option("--name", key_name, "What will use it, e.g. \"Performance dashboard\".")->required();
  auto* apikey_list = apikey->add_subcommand("list", "List the keys (never the keys themselves).");
  apikey_list->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  apikey_list->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  auto* apikey_revoke = apikey->add_subcommand("revoke", "Revoke a key: it never works again.");
  apikey_revoke->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  apikey_revoke->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  apikey_revoke->add_option("--id", key_id, "The key's id, from apikey list.")->required();

  auto* logs = cli.add_subcommand("logs", "Statistics from the web server's access logs.");
  logs->require_subcommand(1);
  steward::app::LogFormatOptions log_format;
  std::vector<std::string> log_files;
  std::string logs_from, logs_to, logs_report_format = "text";
  int logs_top = 10;
  auto* logs_import = logs->add_subcommand("import", "Import access logs (files, or - for standard input).");
  logs_import->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  logs_import->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  logs_import->add_option("--format", log_format.format, "combined (default), vcombined, common, vcommon, w3c, caddy, nginx-json, or a format string.");
  logs_import->add_option("--log-format", log_format.log_format, "A GoAccess log format string instead of --format.");
  logs_import->add_option("--date-format", log_format.date_format, "With --log-format: the date's format (%d/%b/%Y).");
  logs_import->add_option("--time-format", log_format.time_format, "With --log-format: the time's format (%H:%M:%S).");
  logs_import->add_option("files", log_files, "Log files; - reads standard input.")->required();
  auto* logs_report = logs->add_subcommand("report", "Print the access-log statistics.");
  logs_report->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  logs_report->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  logs_report->add_option("--from", logs_from, "First day (YYYY-MM-DD); default: the first there is.");
  logs_report->add_option("--to", logs_to, "Last day (YYYY-MM-DD); default: the last there is.");
  logs_report->add_option("--format", logs_report_format, "text, json or csv; default text.")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  logs_report->add_option("--top", logs_top, "Rows a table; 0 for all; default 10.")->check(CLI::Range(0, 100000));

  std::string follow_file;
  int follow_interval = 2;
  auto* logs_follow = logs->add_subcommand("follow", "Import what a live log gets, through rotation, until Ctrl-C.");
  logs_follow->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  logs_follow->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  logs_follow->add_option("--format", log_format.format, "combined (default), vcombined, common, vcommon, w3c, caddy, nginx-json, or a format string.");
  logs_follow->add_option("--log-format", log_format.log_format, "A GoAccess log format string instead of --format.");
  logs_follow->add_option("--date-format", log_format.date_format, "With --log-format: the date's format.");
  logs_follow->add_option("--time-format", log_format.time_format, "With --log-format: the time's format.");
  logs_follow->add_option("--interval", follow_interval, "Seconds between reads; default 2.")->check(CLI::Range(1, 3600));
  logs_follow->add_option("file", follow_file, "The log file.")->required();
  bool alerts_evidence = false;
  auto* logs_alerts = logs->add_subcommand("alerts", "List the security alerts from imported logs.");
  logs_alerts->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  logs_alerts->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  logs_alerts->add_option("--from", logs_from, "First day (YYYY-MM-DD).");
  logs_alerts->add_option("--to", logs_to, "Last day (YYYY-MM-DD).");
  logs_alerts->add_flag("--evidence", alerts_evidence, "Also print each alert's evidence lines (audited).");
  steward::app::LogSearchOptions search;
  auto* logs_search = logs->add_subcommand("search", "Search the raw lines kept, by address, client or path (audited).");
  logs_search->add_option("--config", config_path, "The site's config file.")->required()->check(CLI::ExistingFile);
  logs_search->add_option("--data", overrides.data_dir, "Data directory; overrides [storage] data_dir.");
  logs_search->add_option("--ip", search.ip, "An address, or a range such as 203.0.113.0/24.");
  logs_search->add_option("--client", search.client, "A client label as alerts show it (c-...).");
  logs_search->add_option("--path", search.path, "A path prefix, such as /admin.");
  logs_search->add_option("--from", search.from, "First day (YYYY-MM-DD) or time (RFC 3339).");
  logs_search->add_option("--to", search.to, "Last day (YYYY-MM-DD) or time (RFC 3339).");
  logs_search->add_option("--limit", search.limit, "Lines shown at most; default 500.")->check(CLI::Range(1, 100000));

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

  auto config = steward::app::LoadConfig(config_path, overrides);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return kExitUsage;
  }
  if (check->parsed()) return steward::app::CheckConfig(*config);
  if (render->parsed()) return steward::app::RenderNotice(*config, format);
  if (serve->parsed()) return steward::app::Serve(*config);
  if (backup->parsed()) return steward::app::Backup(*config, backup_to);
  if (verify->parsed()) return steward::app::AuditVerify(*config);
  if (retention_run->parsed()) return steward::app::RetentionRun(*config, dry_run);
  if (staff_add->parsed()) return steward::app::StaffAdd(*config, email, roles, password_stdin);
  if (staff_list->parsed()) return steward::app::StaffList(*config);
  if (staff_disable->parsed()) return steward::app::StaffDisable(*config, email);
  if (export_cmd->parsed()) return steward::app::AuditExport(*config, since);
  if (stats->parsed()) return steward::app::StatsReport(*config, stats_site, stats_period, stats_format);
  if (apikey_create->parsed()) return steward::app::ApiKeyCreate(*config, key_name);
  if (apikey_list->parsed()) return steward::app::ApiKeyList(*config);
  if (apikey_revoke->parsed()) return steward::app::ApiKeyRevoke(*config, key_id);
  if (logs_import->parsed()) return steward::app::LogsImport(*config, log_format, log_files);
  if (logs_follow->parsed()) return steward::app::LogsFollow(*config, log_format, follow_file, follow_interval);
  if (logs_alerts->parsed()) return steward::app::LogsAlerts(*config, logs_from, logs_to, alerts_evidence);
  if (logs_search->parsed()) return steward::app::LogsSearch(*config, search);
  if (logs_report->parsed()) return steward::app::LogsReport(*config, logs_from, logs_to, logs_report_format, logs_top);
  return kExitUsage;
}
