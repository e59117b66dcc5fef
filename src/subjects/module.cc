#include "subjects/module.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/strings.h"

namespace steward::subjects {
namespace {

constexpr module::Id kSubjects("subjects");

// Keys are swept a day after they were made at the earliest, whatever a module's write does
// between making a subject and naming it.
constexpr Duration kSweepGrace = std::chrono::hours(24);
// Keys destroyed in one write: each is looked up again and overwritten, about a tenth of a second's
// work for the writer.
constexpr size_t kSweepBatch = 1000;

class SubjectsServing : public module::Serving {
 public:
  explicit SubjectsServing(module::Platform& p) : platform_(p) {}

  std::vector<module::Task> Tasks() override {
    return {{.name = "subjects.sweep",
             .first = std::chrono::minutes(5),
             .every = std::chrono::hours(24),
             .run = [this]() -> Status {
               SubjectStore store(platform_.key, platform_.clock);
               std::string before = FormatRfc3339(platform_.clock.Now() - kSweepGrace);
               // Privacy: subject keys no dataset's row names any more are destroyed. Every key is
               // looked at on a reader, so that the writes meanwhile go on; those found are destroyed
               // a batch at a time, each batch a write of its own (after a purge of many items, many
               // keys go).
               std::vector<std::string> unused;
               STEWARD_RETURN_IF_ERROR(platform_.store.Read([&](store::Connection& c) -> Status {
                 STEWARD_ASSIGN_OR_RETURN(unused, store.Unused(c, before));
                 return Ok();
               }));
               for (size_t from = 0; from < unused.size(); from += kSweepBatch) {
                 std::vector<std::string> batch(
                     unused.begin() + static_cast<std::ptrdiff_t>(from),
                     unused.begin() + static_cast<std::ptrdiff_t>(std::min(unused.size(), from + kSweepBatch)));
                 STEWARD_RETURN_IF_ERROR(platform_.store.Write([&](store::Connection& c) -> Status {
                   STEWARD_ASSIGN_OR_RETURN(int64_t swept, store.DestroyUnused(c, batch));
                   if (swept == 0) return Ok();
                   return platform_.trail.AppendIn(c, {.actor = "system",
                                                       .action = "subjects.swept",
                                                       .details = {{"keys_destroyed", std::to_string(swept)}}});
                 }));
               }
               return Ok();
             }}};
  }

 private:
  module::Platform& platform_;
};

int BackupKeysCommand(module::CommandContext& ctx) {
  std::string to = std::filesystem::absolute(ctx.args.Text("--to")).string();
  auto keys = BackUpKeys(ctx.platform->store, to);
  Status audited = ctx.platform->trail.Append({.actor = "cli",
                                               .action = "subjects.keys_backed_up",
                                               .outcome = keys.ok() ? "success" : "failure",
                                               .details = {{"keys", keys.ok() ? std::to_string(*keys) : "0"}}});
  if (!keys.ok()) return module::Fail(keys.error());
  if (!audited.ok()) return module::Fail(audited.error());
  std::printf("Subject keys (%lld) written to %s\n", static_cast<long long>(*keys), to.c_str());
  return 0;
}

int RestoreKeysCommand(module::CommandContext& ctx) {
  auto keys = RestoreKeys(ctx.platform->store, ctx.args.Text("--from"));
  Status audited = ctx.platform->trail.Append({.actor = "cli",
                                               .action = "subjects.keys_restored",
                                               .outcome = keys.ok() ? "success" : "failure",
                                               .details = {{"keys", keys.ok() ? std::to_string(*keys) : "0"}}});
  if (!keys.ok()) return module::Fail(keys.error());
  if (!audited.ok()) return module::Fail(audited.error());
  std::printf("Subject keys put back: %lld (those already here were left as they are)\n",
              static_cast<long long>(*keys));
  return 0;
}

}  // namespace

module::Descriptor Module() {
  return {
      .id = kSubjects,
      .migrations = [] { return SubjectStore::Migrations(); },
      .storage =
          [](const config::Config&) {
            // The keys and the blind index hold nothing personal on their own (random keys, keyed
            // hashes): each subject lives exactly as long as a dataset's row names it (Sweep), and
            // the personal fields are in those datasets' tables.
            return std::vector<retention::ModuleStorage>{
                {.module = "subjects", .other_tables = {SubjectStore::kKeysTable, SubjectStore::kIndexTable}}};
          },
      .command_groups = {{"subjects", "The keys that seal what members of the public give."}},
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"subjects", "backup-keys"},
                 .help = "Write the subject keys to a file of their own (steward backup does this beside the "
                         "database's copy; on PostgreSQL use this beside pg_dump).",
                 .options = {{.name = "--to", .help = "The new file.", .required = true}},
                 .run = BackupKeysCommand},
                {.path = {"subjects", "restore-keys"},
                 .help = "Put back the subject keys of a keys backup after restoring the database.",
                 .options = {{.name = "--from", .help = "The keys backup.", .required = true}},
                 .run = RestoreKeysCommand},
            };
          },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        return std::unique_ptr<module::Serving>(std::make_unique<SubjectsServing>(p));
      },
  };
}

}  // namespace steward::subjects
