// The steward binary's own commands (serve, check-config, backup, retention), and the running of
// every module's commands over the site's data. main.cc turns both into the command line.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "module/module.h"

namespace steward::app {

// Values given on the command line, which win over the config file.
struct Overrides {
  std::string listen;           // HOST:PORT
  std::string data_dir;         // relative to the working directory
  std::string secret_key_file;  // relative to the working directory
};

// Reads the config file (with the tables every module reads) and applies the overrides. Errors as
// config::Load, and kInvalidArgument for a bad --listen.
Result<config::Config> LoadConfig(const std::string& path, const Overrides& overrides);

// Validates everything in the file, the register and every module's settings included. Prints
// "FILE: ok" and the register's version, or every problem. Returns the exit code (0, or 2).
int CheckConfig(const config::Config& config);

// Serves until SIGTERM or SIGINT, then drains and exits. Returns the process exit code. Call from
// the main thread before any other thread starts (it blocks those signals for every thread).
int Serve(const config::Config& config);

// Writes a consistent copy of the site's database to `to` (a new file), and audits it.
int Backup(const config::Config& config, const std::string& to);

// `steward store copy`: copies the site whose data `from` names into the empty store `to` names
// (SQLite to PostgreSQL, or back), in one transaction, with its secret key and raw log segments;
// then checks every table's count and the audit trail, and prints them. Returns the exit code.
int StoreCopy(const config::Config& from, const config::Config& to);

// `steward retention run`: purges every dataset past its retention (or, with `dry_run`, lists
// what would go), and prints each dataset with its cut-off. Returns the exit code.
int RetentionRun(const config::Config& config, bool dry_run);

// Runs a module's command: with the site's data opened when it uses it. Returns the exit code.
// `steward init`: makes the site's data directory, secret key and database, and says what to do
// next. A directory that has a site already is left as it is (exit 0).
int Init(const config::Config& config);
int RunCommand(const module::Command& command, const config::Config& config, const module::Args& args);

// Prints an error for the operator: problems that name the file as they are, others after
// "steward: ". Returns ExitCode(error).
int Report(const config::Config& config, const Error& error);

}  // namespace steward::app
