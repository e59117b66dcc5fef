// The steward binary's commands, wired from the modules. The only place that knows them all.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace steward::app {

// Values given on the command line, which win over the config file.
struct Overrides {
  std::string listen;           // HOST:PORT
  std::string data_dir;         // relative to the working directory
  std::string secret_key_file;  // relative to the working directory
};

// Reads the config file and applies the overrides. Errors as config::Load, and kInvalidArgument
// for a bad --listen.
Result<config::Config> LoadConfig(const std::string& path, const Overrides& overrides);

// Validates everything in the file, the register included. Prints "FILE: ok" and the register's
// version, or every problem. Returns the exit code (0, or 2 on any problem).
int CheckConfig(const config::Config& config);

// `steward notice render`: the privacy notice from the register, as `format` ("html",
// "markdown" or "json").
int RenderNotice(const config::Config& config, const std::string& format);

// Serves until SIGTERM or SIGINT, then drains and exits. Returns the process exit code. Call from
// the main thread before any other thread starts (it blocks those signals for every thread).
int Serve(const config::Config& config);

// Writes a consistent copy of the site's database to `to` (a new file), and audits it. Returns the
// exit code.
int Backup(const config::Config& config, const std::string& to);

// `steward staff add`: creates a staff account and prints a one-time set-up link, or, with
// `password_stdin`, reads the password from standard input. Returns the exit code.
int StaffAdd(const config::Config& config, const std::string& email, const std::vector<std::string>& roles,
             bool password_stdin);
// `steward staff list`: one line per account.
int StaffList(const config::Config& config);
// `steward staff disable`: disables the account and ends its sessions.
int StaffDisable(const config::Config& config, const std::string& email);

// `steward retention run`: purges every dataset past its retention (or, with `dry_run`, lists
// what would go), and prints each dataset with its cut-off. Returns the exit code.
int RetentionRun(const config::Config& config, bool dry_run);

// Walks the audit trail and its signed checkpoints; prints what it found. Exit 0 when intact, 1
// when an entry was changed, removed or reordered (naming the first), 2 when it cannot be read.
int AuditVerify(const config::Config& config);

// Writes the audit entries at or after `since` (RFC 3339; empty: all) to standard output as JSON
// lines. Returns the exit code.
int AuditExport(const config::Config& config, const std::string& since);

// `steward stats`: the headline metrics and top tables of `site` (default: the first analytics
// domain) for `period` (day, 7d, 30d, month, year or FROM..TO), as text, json or csv.
int StatsReport(const config::Config& config, const std::string& site, const std::string& period,
                const std::string& format);

// `steward apikey create`: makes a Stats API key named `name` and prints it (alone, on standard
// output) once; audited. `list` prints the keys (never the keys themselves); `revoke` ends one.
int ApiKeyCreate(const config::Config& config, const std::string& name);
int ApiKeyList(const config::Config& config);
int ApiKeyRevoke(const config::Config& config, int64_t id);

// `steward logs import`: reads access logs (paths, "-" for standard input) in `format` (a preset
// name) or `log_format` (a GoAccess format string with its date and time formats) into the
// statistics; shows progress on a terminal and prints a summary with skipped lines by reason.
struct LogFormatOptions {
  std::string format = "combined";
  std::string log_format, date_format = "%d/%b/%Y", time_format = "%H:%M:%S";
};
int LogsImport(const config::Config& config, const LogFormatOptions& format, const std::vector<std::string>& files);
// `steward logs report`: the statistics for FROM..TO (YYYY-MM-DD, both inclusive; default: all) as
// json, csv or text, `top` rows a table (0: all).
int LogsReport(const config::Config& config, const std::string& from, const std::string& to, const std::string& format,
               int top);

// `steward logs follow`: imports what is written to `file` every `interval_seconds`, through
// rotation (the rest of the old file from FILE.1), until SIGINT or SIGTERM.
int LogsFollow(const config::Config& config, const LogFormatOptions& format, const std::string& file,
               int interval_seconds);

// `steward logs alerts`: the security alerts in FROM..TO (default: all), newest first; with
// `evidence` their sealed lines too (audited).
int LogsAlerts(const config::Config& config, const std::string& from, const std::string& to, bool evidence);

// `steward logs search`: the raw lines kept (see logs/archive.h) from an address or range (`ip`),
// a client label as alerts show it, and/or a path prefix, between `from` and `to` (YYYY-MM-DD,
// inclusive, or RFC 3339 times; default: all), oldest first, at most `limit`. Audited, naming the
// client by its label, never the address.
struct LogSearchOptions {
  std::string ip, client, path, from, to;
  int limit = 500;
};
int LogsSearch(const config::Config& config, const LogSearchOptions& options);

}  // namespace steward::app
