#include "subjects/module.h"

#include <memory>

#include "core/strings.h"

namespace steward::subjects {
namespace {

constexpr module::Id kSubjects("subjects");

// Keys are swept a day after they were made at the earliest, whatever a module's write does
// between making a subject and naming it.
constexpr Duration kSweepGrace = std::chrono::hours(24);

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
               int64_t swept = 0;
               // Privacy: subject keys no dataset's row names any more are destroyed.
               STEWARD_RETURN_IF_ERROR(platform_.store.Write([&](store::Connection& c) -> Status {
                 STEWARD_ASSIGN_OR_RETURN(swept, store.Sweep(c, before));
                 if (swept == 0) return Ok();
                 return platform_.trail.AppendIn(c, {.actor = "system",
                                                     .action = "subjects.swept",
                                                     .details = {{"keys_destroyed", std::to_string(swept)}}});
               }));
               return Ok();
             }}};
  }

 private:
  module::Platform& platform_;
};

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
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        return std::unique_ptr<module::Serving>(std::make_unique<SubjectsServing>(p));
      },
  };
}

}  // namespace steward::subjects
