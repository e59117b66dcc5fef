// `steward store copy`: a whole site from one store to another (SQLite to PostgreSQL, and back).
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "app/site.h"
#include "app/steward.h"
#include "audit/audit.h"
#include "core/log.h"
#include "crypto/crypto.h"

namespace steward::app {
namespace {

namespace fs = std::filesystem;

// Rows a statement inserts at once, and so how many values are bound together.
constexpr size_t kRowsPerInsert = 100;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The target must hold the same secret key: every sealed value (salts, alert evidence, raw log
// segments' keys) and the audit trail's signatures depend on it. A target without one gets a copy.
Status SameSecretKey(const config::Config& from, const config::Config& to) {
  if (!fs::exists(from.storage.secret_key_file)) {
    return MakeError(ErrorCode::kNotFound, "no secret key at " + from.storage.secret_key_file);
  }
  if (fs::exists(to.storage.secret_key_file)) {
    if (ReadFile(from.storage.secret_key_file) != ReadFile(to.storage.secret_key_file)) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "the target's secret key " + to.storage.secret_key_file +
                           " is not the source's: sealed data and the audit trail's signatures need the same key");
    }
    return Ok();
  }
  std::error_code ec;
  fs::create_directories(fs::path(to.storage.secret_key_file).parent_path(), ec);
  ::chmod(fs::path(to.storage.secret_key_file).parent_path().c_str(), 0700);
  // Privacy: the secret key is the owner's alone, here as where it came from.
  fs::copy_file(from.storage.secret_key_file, to.storage.secret_key_file, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot copy the secret key: " + ec.message());
  ::chmod(to.storage.secret_key_file.c_str(), 0600);
  return Ok();
}

// The raw access-log segments are files beside the secret key, sealed under keys in the database.
Status CopyRawLogs(const config::Config& from, const config::Config& to) {
  fs::path src = fs::path(from.storage.data_dir) / "logs", dst = fs::path(to.storage.data_dir) / "logs";
  std::error_code ec;
  if (!fs::is_directory(src) || fs::equivalent(from.storage.data_dir, to.storage.data_dir, ec)) return Ok();
  fs::create_directories(dst, ec);
  ::chmod(dst.c_str(), 0700);
  for (const auto& entry : fs::directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    fs::copy_file(entry.path(), dst / entry.path().filename(), fs::copy_options::skip_existing, ec);
    if (ec) return MakeError(ErrorCode::kIo, "cannot copy " + entry.path().string() + ": " + ec.message());
  }
  return Ok();
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

}  // namespace

int StoreCopy(const config::Config& from, const config::Config& to) {
  ::umask(077);
  auto source = CommandSite::Open(from);
  if (!source.ok()) return Report(from, source.error());
  store::Store& src = (*source)->store();
  if (Status s = SameSecretKey(from, to); !s.ok()) return Report(to, s.error());

  auto to_options = StoreOptions(to);
  if (!to_options.ok()) return Report(to, to_options.error());
  to_options->readers = 1;
  auto opened = store::Store::Open(*to_options);
  if (!opened.ok()) return Report(to, opened.error());
  store::Store& dst = **opened;
  if (Status s = dst.Migrate(AllMigrations()); !s.ok()) return Report(to, s.error());

  std::vector<std::string> tables;
  Status listed = src.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(tables, c.TableNames());
    return Ok();
  });
  if (!listed.ok()) return Report(from, listed.error());
  std::erase(tables, std::string("steward_migrations"));

  // Into an empty site only: rows the migrations wrote themselves (audit_purge's one row) are
  // replaced; anything else means the target is some site's already.
  Status empty = dst.Read([&](store::Connection& c) -> Status {
    for (const auto& t : tables) {
      if (t == "audit_purge") continue;
      STEWARD_ASSIGN_OR_RETURN(auto n, c.Query("SELECT count(*) FROM " + Quoted(t)));
      if (n.at(0).Int(0) != 0) {
        return MakeError(ErrorCode::kFailedPrecondition,
                         dst.Describe() + " holds a site already (table " + t + " has rows): copy into an empty one");
      }
    }
    return Ok();
  });
  if (!empty.ok()) return Report(to, empty.error());

  // One transaction on the target for the whole copy, from one snapshot of the source: either every
  // row arrives or none does.
  Status written = dst.Write([&](store::Connection& out) -> Status {
    return src.Read([&](store::Connection& in) -> Status {
      for (const auto& t : tables) {
        STEWARD_ASSIGN_OR_RETURN(auto columns, in.Columns(t));
        auto target_columns = out.Columns(t);
        if (!target_columns.ok() || *target_columns != columns) {
          return MakeError(
              ErrorCode::kFailedPrecondition,
              "table " + t + " differs between the two stores: is one made by another version of Steward?");
        }
        std::string list, marks;
        for (size_t i = 0; i < columns.size(); ++i) {
          list += (i ? ", " : "") + Quoted(columns[i]);
          marks += i ? ", ?" : "?";
        }
        if (t == "audit_purge") STEWARD_RETURN_IF_ERROR(out.Exec("DELETE FROM audit_purge"));
        // Privacy: every dataset in the register passes through here, row by row, from one store of
        // this site to another; nothing is logged but table names and counts.
        std::vector<store::Value> batch;
        size_t rows = 0;
        auto flush = [&]() -> Status {
          if (rows == 0) return Ok();
          std::string sql = "INSERT INTO " + Quoted(t) + " (" + list + ") VALUES ";
          for (size_t r = 0; r < rows; ++r) sql += (r ? ", (" : "(") + marks + ")";
          // The target was empty, so a row already there was written by a trigger from another
          // table's rows copied before (feedback_pages from feedback_items): the same row.
          sql += " ON CONFLICT DO NOTHING";
          STEWARD_ASSIGN_OR_RETURN(auto n, out.Exec(sql, batch));
          (void)n;
          batch.clear();
          rows = 0;
          return Ok();
        };
        Status inner = Ok();
        STEWARD_RETURN_IF_ERROR(in.ForEach("SELECT " + list + " FROM " + Quoted(t), {}, [&](const store::Row& row) {
          for (size_t i = 0; i < row.size(); ++i) batch.push_back(row.at(i));
          if (++rows == kRowsPerInsert) inner = flush();
          return inner.ok();
        }));
        STEWARD_RETURN_IF_ERROR(inner);
        STEWARD_RETURN_IF_ERROR(flush());
      }
      return out.SyncIdentities();
    });
  });
  if (!written.ok()) {
    return Report(
        to, MakeError(written.error().code, "the copy failed and nothing was written: " + written.error().message));
  }
  if (Status s = CopyRawLogs(from, to); !s.ok()) return Report(to, s.error());

  // Verify: the same number of rows in every table, and the audit trail's chain and signatures.
  int problems = 0;
  Status counted = dst.Read([&](store::Connection& c) -> Status {
    return src.Read([&](store::Connection& s) -> Status {
      for (const auto& t : tables) {
        STEWARD_ASSIGN_OR_RETURN(auto a, s.Query("SELECT count(*) FROM " + Quoted(t)));
        STEWARD_ASSIGN_OR_RETURN(auto b, c.Query("SELECT count(*) FROM " + Quoted(t)));
        bool same = a.at(0).Int(0) == b.at(0).Int(0);
        std::printf("  %-28s %10lld rows%s\n", t.c_str(), static_cast<long long>(b.at(0).Int(0)),
                    same ? "" : "  DIFFERS from the source");
        if (!same) ++problems;
      }
      return Ok();
    });
  });
  if (!counted.ok()) return Report(to, counted.error());
  const crypto::SecretKey& key = (*source)->key();
  std::string public_key = crypto::SigningKey(audit::CheckpointSeed(key)).public_key();
  audit::VerifyOptions options{.now = SystemClock::Instance().Now()};
  if (auto period = (*source)->reg().RetentionPeriod("audit")) options.rule = period->text;
  audit::VerifyReport report;
  Status verified = dst.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(report, audit::Verify(c, public_key, options));
    return Ok();
  });
  if (!verified.ok()) return Report(to, verified.error());
  if (!report.ok()) {
    std::printf("The copied audit trail is broken at entry %lld: %s.\n", static_cast<long long>(report.first_bad_seq),
                report.problem.c_str());
    ++problems;
  }
  if (problems > 0) {
    std::fprintf(stderr, "steward: the copy in %s does not match its source\n", dst.Describe().c_str());
    return 1;
  }
  audit::Trail trail(dst, key, SystemClock::Instance());
  if (Status s = trail.Append({.actor = "system",
                               .action = "store.copied",
                               .details = {{"from", src.Describe()}, {"tables", std::to_string(tables.size())}}});
      !s.ok()) {
    return Report(to, s.error());
  }
  log::Info("store.copied", {{"tables", static_cast<uint64_t>(tables.size())}});
  std::printf(
      "Copied the site from %s to %s: %zu tables, every count the same; the audit trail verifies (%lld "
      "entries).\nServe it with: steward serve --config %s\n",
      src.Describe().c_str(), dst.Describe().c_str(), tables.size(), static_cast<long long>(report.entries),
      to.path.c_str());
  dst.Close();
  return 0;
}

}  // namespace steward::app
