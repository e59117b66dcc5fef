// Site: one Steward site assembled from the list of modules, for `steward serve` and for tests that
// run the whole site in process. Opening it reads and checks the register and every module's
// settings, makes the data directory and its key, opens the store with every module's schema,
// refuses a register and storage that disagree, records the start in the audit trail, and starts
// every module. Its router then holds the site's pages, every module's public routes, the staff
// shell with every module's staff pages, and the process's own routes (/livez, /healthz, /metrics).
//
//   auto site = app::Site::Open(config, {.clock = &clock});
//   http::Server server(site->ServerOptions(), site->TakeRouter());
//   server.Start(); site->Started(server.port()); site->StartTasks();
//   ...; server.Shutdown(); server.Wait(); site->Stop();
//
// Thread safety: Open, TakeRouter, Started, StartTasks and Stop from one thread; what the routes
// call is safe for the server's threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "module/module.h"
#include "register/register.h"
#include "site/pages.h"
#include "store/store.h"
#include "subject/restrictions.h"
#include "subject/subject.h"

namespace steward::app {

// Every module's schema, the platform's first.
std::vector<store::Migration> AllMigrations();
// Every module's storage, the platform's first. The trail signs its own purges (null where only
// the declarations are read).
std::vector<retention::ModuleStorage> AllStorage(const config::Config& config, audit::Trail* trail);
// The top-level tables of the site's file that modules read.
std::vector<std::string> ModuleTables();
// Checks the register and every module's settings as a whole, and the register against what this
// build keeps (retention::DescribeKeeping): every problem, with file and line. `notes`, when given,
// gets what keeps each dataset and each module's explanation of what it accepts.
// Errors: kInvalidArgument or kFailedPrecondition with the problems; the register otherwise.
Result<processing::Register> CheckSite(const config::Config& config, std::vector<std::string>* notes = nullptr);

// Whether this site has been made: SQLite's database file, or (on PostgreSQL, where the database is
// made by its administrator) the secret key beside the data.
bool SiteExists(const config::Config& config);

// How to open the site's store from its [storage] table: SQLite's file in the data directory, or
// PostgreSQL with the password read from storage.password_file. Errors: kInvalidArgument (the
// password file cannot be read).
Result<store::Options> StoreOptions(const config::Config& config);
// The exit code for an error: 2 for what the operator must fix in the file or the command line,
// 1 for everything else.
int ExitCode(const Error& error);

class Site {
 public:
  struct Options {
    const Clock* clock = &SystemClock::Instance();
    metrics::Registry* metrics = nullptr;  // may be null
  };
  // Errors: as CheckSite; kIo for the data directory or key; the store's; a module's start.
  static Result<std::unique_ptr<Site>> Open(const config::Config& config, Options options);
  ~Site();

  // Every route of the site. Call once, before serving.
  http::Router TakeRouter();
  // What the server needs from the modules: the cookie policy and the site's error pages.
  http::ServerOptions ServerOptions() const;
  // The server is listening on `port`: links can be made; modules are told.
  void Started(uint16_t port);
  void StartTasks();
  // Stops the modules' long work, then their tasks, then signs the trail's last entry.
  void Stop();

  const processing::Register& reg() const { return reg_; }
  // What keeps each dataset, and the modules' explanations (CheckSite's notes).
  const std::vector<std::string>& notes() const { return notes_; }
  store::Store& store() { return *store_; }
  audit::Trail& trail() { return *trail_; }
  const crypto::SecretKey& key() const { return *key_; }
  module::Services& services() { return services_; }
  module::Platform& platform() { return *platform_; }
  // What every module holds about people.
  subject::Directory& subjects() { return subjects_; }
  // The public address for links: public_base_url, or the address bound.
  std::string BaseUrl() const;

 private:
  explicit Site(const config::Config& config, Options options) : config_(config), options_(options) {}
  Status Start();

  const config::Config& config_;
  Options options_;
  processing::Register reg_;
  std::vector<std::string> notes_;
  std::unique_ptr<crypto::SecretKey> key_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::Trail> trail_;
  std::unique_ptr<subject::Restrictions> restrictions_;
  std::unique_ptr<site::Pages> pages_;
  module::Services services_;
  std::unique_ptr<module::Platform> platform_;
  std::vector<std::unique_ptr<module::Serving>> serving_;
  std::unique_ptr<module::TaskRunner> tasks_;
  std::atomic<bool> leading_{false};  // as the task runner last asked the store
  std::unique_ptr<retention::Runner> retention_;
  subject::Directory subjects_;
  std::atomic<uint16_t> port_{0};
  bool stopped_ = false;
};

// Opens an existing site's data for a one-off command: the register, the key and the store (which
// must exist; the command runs beside a serving Steward, so no integrity scan). Errors: as
// CheckSite; kNotFound for no database; the key's and the store's.
class CommandSite {
 public:
  // Errors: kNotFound (saying what to run) when the data directory has no site yet, unless `make`:
  // then the site is made, as `steward init` makes it.
  static Result<std::unique_ptr<CommandSite>> Open(const config::Config& config, bool make = false);
  // Whether Open made the site.
  bool made() const { return made_; }
  module::Platform& platform() { return *platform_; }
  store::Store& store() { return *store_; }
  audit::Trail& trail() { return *trail_; }
  const crypto::SecretKey& key() const { return *key_; }
  const processing::Register& reg() const { return reg_; }
  // What every module holds about people, made from the descriptors' `subjects` at the first call.
  subject::Directory* Directory();

 private:
  explicit CommandSite(const config::Config& config) : config_(config) {}
  const config::Config& config_;
  processing::Register reg_;
  std::unique_ptr<crypto::SecretKey> key_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::Trail> trail_;
  std::unique_ptr<subject::Restrictions> restrictions_;
  module::Services services_;
  std::unique_ptr<module::Platform> platform_;
  std::vector<std::unique_ptr<subject::SubjectData>> held_;
  std::unique_ptr<subject::Directory> directory_;
  bool made_ = false;
};

}  // namespace steward::app
