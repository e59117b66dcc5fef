#include "app/steward.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "app/modules.h"
#include "app/site.h"
#include "core/log.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "retention/retention.h"
#include "subjects/subjects.h"

#ifndef STEWARD_VERSION
#define STEWARD_VERSION "0.0.0"
#endif

namespace steward::app {
namespace {

namespace fs = std::filesystem;

std::string Absolute(const std::string& p) { return fs::absolute(p).lexically_normal().string(); }

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

int Report(const config::Config& config, const Error& error) {
  if (error.message.starts_with(config.path)) {
    std::fprintf(stderr, "%s\n", error.message.c_str());
  } else {
    std::fprintf(stderr, "steward: %s\n", error.message.c_str());
  }
  return ExitCode(error);
}

Result<config::Config> LoadConfig(const std::string& path, const Overrides& overrides) {
  std::vector<std::string> tables = ModuleTables();
  STEWARD_ASSIGN_OR_RETURN(config::Config config, config::Load(path, &tables));
  if (!overrides.listen.empty()) {
    Status s = config::ParseListen(overrides.listen, config.server.listen_host, config.server.listen_port);
    if (!s.ok()) return MakeError(ErrorCode::kInvalidArgument, "--listen: " + s.error().message);
  }
  if (!overrides.data_dir.empty()) config.storage.data_dir = Absolute(overrides.data_dir);
  if (!overrides.secret_key_file.empty()) config.storage.secret_key_file = Absolute(overrides.secret_key_file);
  if (config.storage.secret_key_file.empty()) config.storage.secret_key_file = config.storage.data_dir + "/secret.key";
  return config;
}

int Serve(const config::Config& config) {
  // Every thread started from here on inherits the mask; this thread waits for the signals.
  sigset_t stop = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Privacy: every file Steward creates (database, write-ahead log, backups) is the owner's alone.
  ::umask(077);

  metrics::Registry registry;
  registry.AddGauge("steward_build_info", "Always 1; the version is in the help text: " STEWARD_VERSION).Set(1);
  registry.AddGauge("steward_process_start_time_seconds", "When the process started (Unix time).")
      .Set(static_cast<double>(
          std::chrono::duration_cast<std::chrono::seconds>(SystemClock::Instance().Now().time_since_epoch()).count()));

  auto site = Site::Open(config, {.metrics = &registry});
  if (!site.ok()) {
    log::Error("start.failed", {{"error", std::string(ErrorCodeName(site.error().code))}});
    return Report(config, site.error());
  }
  http::Server server((*site)->ServerOptions(), (*site)->TakeRouter());
  if (Status s = server.Start(); !s.ok()) {
    log::Error("start.listen", {{"error", s.error().ToString()}});
    return Report(config, s.error());
  }
  std::string host = config.server.listen_host.find(':') != std::string::npos ? "[" + config.server.listen_host + "]"
                                                                              : config.server.listen_host;
  std::string url = "http://" + host + ":" + std::to_string(server.port()) + "/";
  log::Info("steward.started", {{"version", STEWARD_VERSION}, {"site", config.site.name}, {"port", server.port()}});
  std::printf("Steward is serving %s at %s\nHealth: %shealthz  Metrics: %smetrics  Staff: %sadmin  Stop: Ctrl-C\n",
              config.site.name.c_str(), url.c_str(), url.c_str(), url.c_str(), url.c_str());
  // What keeps each dataset of the register, so the operator sees what this build promises.
  for (const auto& n : (*site)->notes()) std::printf("  %s\n", n.c_str());
  // Modules may add to the banner (the first administrator's set-up link); one flush shows it whole.
  (*site)->Started(server.port());
  std::fflush(stdout);
  (*site)->StartTasks();

  int signal_number = 0;
  sigwait(&stop, &signal_number);
  log::Info("steward.stopping", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.Shutdown();
  server.Wait();
  (*site)->Stop();
  (*site)->store().Close();
  log::Info("steward.stopped");
  return 0;
}

int CheckConfig(const config::Config& config) {
  if (Status s = crypto::Init(); !s.ok()) return 1;
  std::vector<std::string> notes;
  auto reg = CheckSite(config, &notes);
  if (!reg.ok()) {
    Report(config, reg.error());
    return 2;
  }
  std::printf("%s: ok (register version %s: %zu purposes, %zu datasets, %zu cookies)\n", config.path.c_str(),
              reg->Version().c_str(), reg->purposes.size(), reg->datasets.size(), reg->cookies.size());
  for (const auto& n : notes) std::printf("  %s\n", n.c_str());
  return 0;
}

int Backup(const config::Config& config, const std::string& to) {
  ::umask(077);
  auto site = CommandSite::Open(config);
  if (!site.ok()) return Report(config, site.error());
  std::string target = Absolute(to);
  std::string keys_target = target + ".keys";
  if (fs::exists(keys_target)) {
    return Report(config, MakeError(ErrorCode::kAlreadyExists, "keys backup " + keys_target + " already exists")), 1;
  }
  // The subject keys go to a file of their own, kept for a shorter time: erasing a member of the
  // public then reaches every copy of the database once the keys' copies from before are gone.
  Status s = (*site)->store().Backup(target, subjects::KeyTables());
  Result<int64_t> keys = s.ok() ? subjects::BackUpKeys((*site)->store(), keys_target) : Result<int64_t>(s.error());
  if (s.ok() && !keys.ok()) {
    fs::remove(target);
    s = keys.error();
  }
  Status audited = (*site)->trail().Append({.actor = "system",
                                            .action = "backup.written",
                                            .outcome = s.ok() ? "success" : "failure",
                                            .details = {{"subject_keys", keys.ok() ? std::to_string(*keys) : "0"}}});
  // A target that exists already is a failure of this run, not of the command line: exit 1.
  if (!s.ok()) return Report(config, s.error()), 1;
  if (!audited.ok()) return Report(config, audited.error()), 1;
  log::Info("backup.written", {{"bytes", static_cast<uint64_t>(fs::file_size(target))}});
  std::printf(
      "Backup written to %s\n"
      "Subject keys (%lld) written to %s: keep them apart, and for no longer than docs/backups.md says\n",
      target.c_str(), static_cast<long long>(*keys), keys_target.c_str());
  return 0;
}

int RetentionRun(const config::Config& config, bool dry_run) {
  auto site = CommandSite::Open(config);
  if (!site.ok()) return Report(config, site.error());
  retention::Runner runner((*site)->store(), (*site)->trail(), SystemClock::Instance(), (*site)->reg(),
                           AllStorage(config, &(*site)->trail()));
  if (Status s = runner.Check(); !s.ok()) {
    std::fprintf(stderr, "steward: %s\n", s.error().message.c_str());
    return 2;
  }
  auto outcomes = runner.Run(dry_run);
  if (!outcomes.ok()) {
    std::fprintf(stderr, "steward: retention failed: %s\n", outcomes.error().message.c_str());
    return 1;
  }
  std::printf("%-24s %-44s %-26s %s\n", "DATASET", "KEPT FOR", "CUT-OFF (UTC)", dry_run ? "WOULD GO" : "REMOVED");
  int failed = 0;
  for (const auto& o : *outcomes) {
    std::string done = std::to_string(o.count);
    if (o.batches > 1) {
      done += " in " + std::to_string(o.batches) + " batches, the longest " + std::to_string(o.longest_batch.count()) +
              " ms";
    }
    if (!o.note.empty()) done = o.failed && o.count > 0 ? done + " before it " + o.note : o.note;
    std::printf("%-24s %-44s %-26s %s\n", o.dataset.c_str(), o.rule.substr(0, 44).c_str(),
                o.cutoff.empty() ? "-" : o.cutoff.c_str(), done.c_str());
    failed += o.failed;
  }
  if (failed > 0) std::fprintf(stderr, "steward: the purge of %d dataset(s) failed; the others ran\n", failed);
  return failed > 0 ? 1 : 0;
}

int Init(const config::Config& config) {
  ::umask(077);
  auto site = CommandSite::Open(config, /*make=*/true);
  if (!site.ok()) return Report(config, site.error());
  const std::string& dir = config.storage.data_dir;
  if (!(*site)->made()) {
    std::printf("There is a site in %s already; nothing was changed.\n", dir.c_str());
    return 0;
  }
  std::printf(
      "Made a new site in %s: its database, and its secret key (%s), which seals what it keeps and\n"
      "signs its audit trail: back it up, and keep the copy apart from the database's backups.\n"
      "Next:\n"
      "  steward staff add --config %s --data %s --email YOU --role admin\n"
      "  steward serve --config %s --data %s\n",
      dir.c_str(), config.storage.secret_key_file.c_str(), config.path.c_str(), dir.c_str(), config.path.c_str(),
      dir.c_str());
  return 0;
}

int RunCommand(const module::Command& command, const config::Config& config, const module::Args& args) {
  module::CommandContext context{config, args, nullptr};
  if (!command.uses_data || (command.data_if_present && !SiteExists(config))) return command.run(context);
  auto site = CommandSite::Open(config, command.makes_site);
  if (!site.ok()) return Report(config, site.error());
  if ((*site)->made()) {
    std::fprintf(stderr, "steward: made a new site in %s (as steward init does)\n", config.storage.data_dir.c_str());
  }
  context.platform = &(*site)->platform();
  return command.run(context);
}

}  // namespace steward::app
