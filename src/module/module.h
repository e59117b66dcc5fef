// A capability is one module, and its descriptor says everything the platform needs of it: its id
// (the `module =` the register's datasets name), its migrations, its storage (tables, which hold
// personal data, the purge), the settings it reads from the site's file, the cookies it sets, its
// commands, its subject data, and, while serving, its public routes, its staff pages and its
// background tasks. `app` holds one list of descriptors and iterates it; the core never names a
// capability (the shape of Envoy's extension registration).
//
//   module::Descriptor Descriptor() {
//     return {.id = module::Id("consent"),
//             .migrations = [] { return Records::Migrations(); },
//             .storage = [](const config::Config&) { return std::vector{Storage()}; },
//             .subjects = [](module::Platform& p) -> ... { return std::make_unique<ConsentSubjects>(...); },
//             .start = [](module::Platform& p) -> ... { return std::make_unique<Serving>(p); }};
//   }
//
// Thread safety: descriptors are immutable values; what `start` returns is used from the serving
// threads as its own header says.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "audit/audit.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "module/counting.h"
#include "module/staff_page.h"
#include "register/register.h"
#include "retention/retention.h"
#include "store/store.h"
#include "subject/restrictions.h"
#include "subject/subject.h"

namespace steward::site {
class Pages;
}

namespace steward::module {

// A module's id, as the register's datasets name it in `module =`.
class Id {
 public:
  constexpr explicit Id(std::string_view value) : value_(value) {}
  constexpr std::string_view value() const { return value_; }
  std::string str() const { return std::string(value_); }
  constexpr bool operator==(const Id& o) const { return value_ == o.value_; }

 private:
  std::string_view value_;
};

// What modules offer one another while serving, found by type: the consent module provides its
// cookie gate, analytics finds it. A module finds only what a module before it in the list
// provided. Not thread-safe: provide and find while starting.
class Services {
 public:
  template <typename T>
  void Provide(T* service) {
    services_[std::type_index(typeid(T))] = service;
  }
  template <typename T>
  T* Find() const {
    auto it = services_.find(std::type_index(typeid(T)));
    return it == services_.end() ? nullptr : static_cast<T*>(it->second);
  }

 private:
  std::map<std::type_index, void*> services_;
};

// The server's cookie policy (http::ServerOptions::cookie_gate), provided by the module that owns
// the visitor's choices: the HTTP layer asks it about every Set-Cookie without knowing consent.
struct CookiePolicy {
  std::function<bool(const http::Request& req, const std::vector<http::SetCookie>& all, const http::SetCookie& cookie)>
      allow;
};

// What every module is given: the site's file, its register and the shared services. In a command
// `pages` is null and `services` empty.
struct Platform {
  const config::Config& config;
  const processing::Register& reg;
  store::Store& store;
  audit::Trail& trail;
  const crypto::SecretKey& key;
  const Clock& clock;
  metrics::Registry* metrics = nullptr;
  site::Pages* pages = nullptr;
  const subject::Restrictions& restrictions;
  Services& services;
  // The site's public address for links ("https://www.example.gov.uk"), known once serving.
  std::function<std::string()> base_url;
  // What every module holds about people (subject::Directory), for rights requests: while serving,
  // the modules' Serving::Subjects once all have started; in a command, each descriptor's
  // `subjects`, made at the first call. Null where there is none.
  std::function<subject::Directory*()> directory;
  // What every module can count for statistics (each descriptor's `counters`), made at the first
  // call; empty where there is nothing.
  std::function<const std::vector<Counter>&()> counters;

  // The deps of a StoredSubjectData for module `id`.
  subject::StoredSubjectData::Deps SubjectDeps(Id id) const;
  // Where the data directory is: the database, the secret key, the raw access logs.
  const std::string& data_dir() const { return config.storage.data_dir; }
};

// ---- Commands ------------------------------------------------------------------------------------

// One option of a command. `app` turns it into the command line; every command also gets
// --config and, when it reads the site's data, --data.
struct Option {
  enum class Kind { kText, kInteger, kFlag, kList, kPositional, kPositionalList };
  std::string name;  // "--period", or for a positional "files"
  std::string help;
  Kind kind = Kind::kText;
  bool required = false;
  std::string default_value;                 // shown in help and given when absent
  std::vector<std::string> choices;          // allowed values; empty: any
  int64_t min = INT64_MIN, max = INT64_MAX;  // for kInteger
};

// The values a command was given, by option name ("--period" or "files").
class Args {
 public:
  void Set(std::string name, std::vector<std::string> values) { values_[std::move(name)] = std::move(values); }
  // The first value, or "" when absent.
  std::string Text(std::string_view name) const;
  int64_t Integer(std::string_view name) const;
  bool Flag(std::string_view name) const;
  std::vector<std::string> List(std::string_view name) const;
  bool Has(std::string_view name) const;

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

// What a command runs with. `platform` is the site's opened data (null for a command that does not
// use it); its `services` are empty and `pages` null.
struct CommandContext {
  const config::Config& config;
  const Args& args;
  Platform* platform = nullptr;
};

struct Command {
  std::vector<std::string> path;  // {"logs", "import"}
  std::string help;
  std::vector<Option> options;
  bool uses_data = true;  // takes --data and runs with the site's opened data
  // With uses_data: runs without the site's data (platform null) where the data directory has no
  // site yet, rather than failing.
  bool data_if_present = false;
  // Makes the site (data directory, key, database) when the data directory has none yet, as
  // `steward init` does: for commands a person runs first, such as importing logs.
  bool makes_site = false;
  // Returns the exit code: 0, 1 when something failed, 2 for a usage or config problem.
  std::function<int(CommandContext& context)> run;
};

// A command's failure for the operator: "steward: MESSAGE" on standard error. Returns `exit_code`.
int Fail(const Error& error, int exit_code = 1);

// Help for a command group ("logs": "Statistics from the web server's access logs.").
struct CommandGroup {
  std::string name, help;
};

// ---- Background work -----------------------------------------------------------------------------

// Work that repeats while serving: run `first` after start, then every `every`, on a thread of its
// own that waits on the platform's Clock (so tests drive it with FakeClock). A failure is logged
// and the task runs again at its next time.
struct Task {
  std::string name;  // "retention.daily", for logs
  Duration first{};
  Duration every{};
  std::function<Status()> run;
  // Most work must happen once for the site however many instances serve it (retention, rollups,
  // followed logs): it runs only on the instance that leads (store::Store::Leads). Work on what
  // each instance keeps for itself runs on every one.
  bool every_instance = false;
};

// ---- Serving -------------------------------------------------------------------------------------

// A module started for `steward serve`. Everything it returns lives as long as it does.
class Serving {
 public:
  virtual ~Serving() = default;
  // Its public routes.
  virtual void AddRoutes(http::Router& router) { (void)router; }
  // Its staff pages, each added through the staff guard.
  virtual std::vector<StaffPage> StaffPages() { return {}; }
  // Its background work.
  virtual std::vector<Task> Tasks() { return {}; }
  // What it holds about people, while serving (null: nothing).
  virtual subject::SubjectData* Subjects() { return nullptr; }
  // Called once the server is listening (the bound address is known).
  virtual void Started() {}
  // Called once the server has stopped and every task has stopped.
  virtual void Stop() {}
};

// ---- The descriptor ------------------------------------------------------------------------------

struct Descriptor {
  Id id;
  // Schema steps of every table it keeps (store::Migration's module may differ from `id`).
  std::function<std::vector<store::Migration>()> migrations;
  // Its tables and purges, for the retention runner.
  std::function<std::vector<retention::ModuleStorage>(const config::Config&)> storage;
  // Top-level tables of the site's file it reads ("analytics"); config::Load leaves them alone.
  std::vector<std::string> config_tables;
  // Reads and checks its tables of the site's file with the register. Errors: kInvalidArgument
  // with every problem as FILE:LINE:COLUMN; kFailedPrecondition when the site switches it on and
  // the register declares no dataset for what it would keep.
  std::function<Status(const config::Config&, const processing::Register&)> check;
  // What check-config and serve say of how it reads this site's register: combinations it accepts
  // that a reader might not expect, one sentence a line ("counts a visitor only after ...").
  std::function<std::vector<std::string>(const config::Config&, const processing::Register&)> explain;
  // The cookies it sets, which the register must declare as essential.
  std::function<std::vector<std::string>(const config::Config&, const processing::Register&)> cookies;
  // Its command groups and commands.
  std::vector<CommandGroup> command_groups;
  std::function<std::vector<Command>()> commands;
  // Its subject data over `platform`, for commands and rights requests; null: holds none.
  std::function<Result<std::unique_ptr<subject::SubjectData>>(Platform& platform)> subjects;
  // What it can count for statistics over `platform` (module/counting.h); null: nothing. Counters
  // of a module the site does not switch on are left out.
  std::function<std::vector<Counter>(Platform& platform)> counters;
  // Starts it for serving; null: nothing to serve. Errors stop the start.
  std::function<Result<std::unique_ptr<Serving>>(Platform& platform)> start;
};

// Runs each task on a thread of its own until Stop (or destruction).
class TaskRunner {
 public:
  // `leads` says, at each run of a task that is not every_instance, whether this instance should
  // run it (null: always).
  explicit TaskRunner(const Clock& clock, std::function<bool()> leads = nullptr)
      : clock_(clock), leads_(std::move(leads)) {}
  ~TaskRunner();
  void Start(std::vector<Task> tasks);
  void Stop();

 private:
  struct State;
  const Clock& clock_;
  std::function<bool()> leads_;
  std::shared_ptr<State> state_;
};

}  // namespace steward::module
