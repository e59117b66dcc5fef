#include "retention/retention.h"

#include <algorithm>
#include <set>

#include "core/log.h"

namespace steward::retention {

std::vector<ModuleStorage> CoreStorage(audit::Trail* trail) {
  return {
      {.module = "store", .other_tables = {"steward_migrations"}},
      {.module = "register", .other_tables = {"notice_versions"}},
      {.module = "audit",
       .personal_tables = {"audit_log"},
       .other_tables = {"audit_checkpoints", "audit_purge", "audit_purges"},
       .purge = [trail](store::Connection& c, const processing::Dataset& d, const std::string& cutoff,
                        const std::string& now, bool dry_run, int64_t) -> Result<int64_t> {
         if (trail == nullptr) return MakeError(ErrorCode::kFailedPrecondition, "no audit trail to purge");
         return trail->PurgeIn(c, {.dataset = d.id, .rule = d.retention.period.text, .cutoff = cutoff, .now = now},
                               dry_run);
       },
       .stores = {"user.identifier.pseudonym"}},
  };
}

namespace {

bool Within(const std::string& child, const std::string& parent) {
  return child.size() > parent.size() && child.starts_with(parent) && child[parent.size()] == '.';
}

// Whether `declared` (a dataset's categories) covers `category`, which a module stores: the
// category itself, a parent, or (for a module that stores one kind or another, "user.contact") a
// kind of it.
bool Covers(const std::vector<std::string>& declared, const std::string& category) {
  return std::any_of(declared.begin(), declared.end(),
                     [&](const std::string& d) { return d == category || Within(category, d) || Within(d, category); });
}

}  // namespace

Keeping DescribeKeeping(const processing::Register& reg, const std::vector<ModuleStorage>& modules,
                        const std::string& path) {
  Keeping k{.lines = {}, .problems = config::Problems(path)};
  for (const auto& d : reg.datasets) {
    const ModuleStorage* m = nullptr;
    for (const auto& s : modules) {
      if (s.module == d.module && !s.personal_tables.empty()) m = &s;
    }
    std::string what = "dataset '" + d.id + "'";
    if (m != nullptr && !d.kept_by.empty()) {
      k.problems.Add(d.where, what + " names module '" + d.module + "', which this build has, and kept_by '" +
                                  d.kept_by + "': say one (drop kept_by once Steward keeps it)");
      continue;
    }
    if (m == nullptr) {
      if (!d.kept_by.empty()) {
        k.lines.push_back(what + ": kept by " + d.kept_by + " (outside Steward, which deletes nothing of it)");
      } else {
        k.problems.Add(d.where, what + " names module '" + d.module +
                                    "', which this build does not have, so nothing keeps it or deletes it: "
                                    "name the system that keeps it (kept_by = \"...\") or remove the dataset");
      }
      continue;
    }
    std::string deleted = d.retention.anonymise ? "anonymised" : "deleted";
    k.lines.push_back(what + ": kept by module '" + d.module + "', " + deleted + " " +
                      (d.retention.event.empty() ? "after " + d.retention.period.text
                                                 : d.retention.period.text + " after " + d.retention.event));
    std::vector<std::string> missing;
    for (const auto& c : m->stores) {
      if (!Covers(d.categories, c)) missing.push_back(c);
    }
    if (!missing.empty()) {
      std::string list;
      for (const auto& c : missing) list += (list.empty() ? "" : ", ") + c;
      k.problems.Add(d.where, what + " leaves out data categories that module '" + d.module + "' stores: " + list +
                                  " (add them to 'categories')");
    }
    if (m->observed && d.Given()) {
      k.problems.Add(d.where, what + " is collected automatically by module '" + d.module +
                                  "', not given: say how in 'collection' (the notice says it instead of "
                                  "\"You do not have to give us this\")");
    }
  }
  return k;
}

Runner::Runner(store::Store& store, audit::Trail& trail, const Clock& clock, const processing::Register& reg,
               std::vector<ModuleStorage> modules)
    : store_(store), trail_(trail), clock_(clock), reg_(reg), modules_(std::move(modules)) {}

const ModuleStorage* Runner::Find(const std::string& module) const {
  for (const auto& m : modules_) {
    if (m.module == module) return &m;
  }
  return nullptr;
}

Status Runner::Check() {
  std::vector<std::string> problems;
  for (const auto& m : modules_) {
    if (m.personal_tables.empty()) continue;
    bool declared = std::any_of(reg_.datasets.begin(), reg_.datasets.end(),
                                [&](const processing::Dataset& d) { return d.module == m.module; });
    if (!declared && m.in_use && !m.in_use(reg_)) {
      // Not used by this register: fine, unless it holds records from when it was.
      int64_t rows = 0;
      STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
        for (const auto& t : m.personal_tables) {
          // Table names come from the module's own declaration, never from input.
          STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT count(*) FROM " + t, {}, [&](const store::Row& r) {
            rows += r.Int(0);
            return true;
          }));
        }
        return Ok();
      }));
      if (rows > 0) {
        problems.push_back("module '" + m.module + "' holds " + std::to_string(rows) +
                           " records that no dataset in the register declares: declare the dataset so they are "
                           "purged on time");
      }
      declared = true;
    }
    if (!declared) {
      std::string tables;
      for (const auto& t : m.personal_tables) tables += (tables.empty() ? "" : ", ") + t;
      problems.push_back("module '" + m.module + "' stores personal data (" + tables +
                         ") but no dataset in the register declares it");
    }
    if (!m.purge) problems.push_back("module '" + m.module + "' stores personal data but has no purge");
  }
  for (const auto& d : reg_.datasets) {
    const ModuleStorage* m = Find(d.module);
    if (m != nullptr && m->personal_tables.empty()) {
      problems.push_back("dataset '" + d.id + "' names module '" + d.module + "', which stores no personal data");
    }
  }
  std::set<std::string> known;
  for (const auto& m : modules_) {
    known.insert(m.personal_tables.begin(), m.personal_tables.end());
    known.insert(m.other_tables.begin(), m.other_tables.end());
  }
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto tables, c.TableNames());
    for (const auto& t : tables) {
      if (!known.count(t)) {
        problems.push_back("table '" + t +
                           "' is declared by no module, so nobody can say whether it holds personal data");
      }
    }
    return Ok();
  }));
  if (problems.empty()) return Ok();
  std::string message = "the register and what Steward stores disagree:";
  for (const auto& p : problems) message += "\n  " + p;
  return MakeError(ErrorCode::kFailedPrecondition, message);
}

Result<std::vector<Outcome>> Runner::Run(bool dry_run) {
  std::vector<Outcome> outcomes;
  SystemTime now = clock_.Now();
  std::string now_text = FormatRfc3339Millis(now);
  for (const auto& d : reg_.datasets) {
    Outcome o{d.id, d.module, d.retention.text, "", 0, ""};
    // Data kept by criteria goes at the latest at its maximum.
    o.cutoff = FormatRfc3339Millis(processing::Subtract(now, d.retention.period));
    const ModuleStorage* m = Find(d.module);
    if (m == nullptr || !m->purge) {
      o.cutoff.clear();
      o.note = d.kept_by.empty() ? "not stored by this Steward: the '" + d.module + "' module is not part of this build"
                                 : "kept by " + d.kept_by + ", outside Steward";
      outcomes.push_back(o);
      continue;
    }
    // A dry run counts on a reader; a purge goes batch after batch, each its own transaction,
    // until one deletes less than it may.
    int64_t limit = m->batched ? kFirstBatch : 0;
    auto began = std::chrono::steady_clock::now();
    Status s = Ok();
    if (dry_run) {
      s = store_.Read([&](store::Connection& c) -> Status {
        STEWARD_ASSIGN_OR_RETURN(o.count, m->purge(c, d, o.cutoff, now_text, /*dry_run=*/true, /*limit=*/0));
        return Ok();
      });
    }
    while (!dry_run) {
      int64_t deleted = 0;
      // The batch's time as the writes behind it see it: its commit too, which for a batch of
      // deletions spread over a table's indexes can take longer than the deleting.
      auto start = std::chrono::steady_clock::now();
      s = store_.Write([&](store::Connection& c) -> Status {
        STEWARD_ASSIGN_OR_RETURN(deleted, m->purge(c, d, o.cutoff, now_text, /*dry_run=*/false, limit));
        // The counts, never the contents, in the same transaction as the batch.
        std::vector<std::pair<std::string, std::string>> details = {
            {"count", std::to_string(deleted)}, {"cutoff", o.cutoff}, {"rule", d.retention.text}};
        if (o.batches > 0 || (limit > 0 && deleted >= limit))
          details.emplace_back("batch", std::to_string(o.batches + 1));
        return trail_.AppendIn(c, {.actor = "system",
                                   .action = "retention.purged",
                                   .target = "dataset:" + d.id,
                                   .details = std::move(details)});
      });
      auto took = std::chrono::steady_clock::now() - start;
      if (!s.ok()) break;
      ++o.batches;
      o.longest_batch = std::max(o.longest_batch, std::chrono::duration_cast<std::chrono::milliseconds>(took));
      o.count += deleted;
      if (limit == 0 || deleted < limit) break;
      if (took < kBatchTime / 2) {
        limit = std::min(limit * 2, kMaxBatch);
      } else if (took > kBatchTime * 2) {
        limit = std::max(limit / 2, kMinBatch);
      }
    }
    if (!dry_run && o.count > 0) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
      log::Info("retention.purged", {{"dataset", d.id},
                                     {"count", o.count},
                                     {"batches", o.batches},
                                     {"ms", static_cast<int64_t>(ms.count())},
                                     {"longest_batch_ms", static_cast<int64_t>(o.longest_batch.count())}});
    }
    if (!s.ok()) {
      // One dataset's failure must not keep the others' data past its time: note it, go on. What
      // its earlier batches deleted is gone, and counted.
      log::Error("retention.failed", {{"dataset", d.id}, {"error", s.error().ToString()}});
      o.failed = true;
      o.note = "failed: " + s.error().message;
      if (!dry_run) {
        (void)trail_.Append(
            {.actor = "system",
             .action = "retention.purged",
             .target = "dataset:" + d.id,
             .outcome = "failure",
             .details = {{"count", std::to_string(o.count)}, {"cutoff", o.cutoff}, {"rule", d.retention.text}}});
      }
    }
    outcomes.push_back(o);
  }
  if (!dry_run) log::Info("retention.ran", {{"datasets", static_cast<uint64_t>(outcomes.size())}});
  return outcomes;
}

Result<int64_t> DeleteAtMost(store::Connection& c, std::string_view table, std::string_view key, std::string_view where,
                             std::vector<store::Value> params, int64_t limit) {
  std::string t(table), k(key), w = "(" + std::string(where) + ")";
  if (limit <= 0) return c.Exec("DELETE FROM " + t + " WHERE " + w, params);
  // DELETE ... LIMIT is neither PostgreSQL's nor in SQLite's default build: the keys of at most
  // `limit` rows, then those rows (a row value where the key has several columns).
  params.emplace_back(limit);
  return c.Exec("DELETE FROM " + t + " WHERE (" + k + ") IN (SELECT " + k + " FROM " + t + " WHERE " + w + " LIMIT ?)",
                params);
}

Result<std::vector<store::Value>> DistinctValues(store::Connection& c, std::string_view table, std::string_view column,
                                                 std::string_view where, std::vector<store::Value> params) {
  std::string t(table), col(column), cond = where.empty() ? "1 = 1" : "(" + std::string(where) + ")";
  // The smallest, then each next one above the last: a seek each, however many rows share one.
  std::vector<store::Value> both = params;
  both.insert(both.end(), params.begin(), params.end());
  std::vector<store::Value> values;
  STEWARD_RETURN_IF_ERROR(c.ForEach("WITH RECURSIVE k(v) AS (SELECT min(" + col + ") FROM " + t + " WHERE " + cond +
                                        " UNION ALL SELECT (SELECT min(" + col + ") FROM " + t + " WHERE " + cond +
                                        " AND " + col + " > k.v) FROM k WHERE k.v IS NOT NULL) " +
                                        "SELECT v FROM k WHERE v IS NOT NULL",
                                    both, [&](const store::Row& r) {
                                      values.push_back(r.at(0));
                                      return true;
                                    }));
  return values;
}

Result<int64_t> DeleteEndedPeriods(store::Connection& c, std::string_view table, std::string_view key,
                                   std::string_view where, const std::vector<store::Value>& params, int64_t cutoff_ms,
                                   int64_t limit) {
  std::string prefix = where.empty() ? "" : "(" + std::string(where) + ") AND ";
  STEWARD_ASSIGN_OR_RETURN(auto spans, DistinctValues(c, table, "span", where, params));
  int64_t deleted = 0;
  for (const auto& span : spans) {
    if (limit > 0 && deleted >= limit) break;
    const auto* length = std::get_if<int64_t>(&span);
    if (length == nullptr || *length <= 0) {
      return MakeError(ErrorCode::kInternal, "a span in " + std::string(table) + " is not a positive number");
    }
    // A period has ended once its end has: start + span <= cut-off.
    std::vector<store::Value> range = params;
    range.emplace_back(*length);
    range.emplace_back(cutoff_ms - *length);
    STEWARD_ASSIGN_OR_RETURN(int64_t n, DeleteAtMost(c, table, key, prefix + "span = ? AND start <= ?",
                                                     std::move(range), limit == 0 ? 0 : limit - deleted));
    deleted += n;
  }
  return deleted;
}

Result<int64_t> CutoffMillis(const std::string& cutoff) {
  auto at = ParseRfc3339(cutoff);
  if (!at) return MakeError(ErrorCode::kInvalidArgument, "bad retention cut-off");
  return UnixMillis(*at);
}

}  // namespace steward::retention
