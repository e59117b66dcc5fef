#include "store/sqlite.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <utility>

#include "core/files.h"
#include "store/pattern.h"

namespace steward::store {
namespace {

// A pattern gives up matching (as no match) past kMatchLimit steps, so no pattern can hold a
// reader, or a request, for long.
constexpr uint32_t kMatchLimit = 100'000;

pcre2_code* CompilePattern(std::string_view pattern, std::string* error, uint32_t options) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | options, &code, &offset, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    *error = std::string(reinterpret_cast<const char*>(message)) + " at offset " + std::to_string(offset);
  }
  return re;
}

// value REGEXP pattern, as SQLite calls it: regexp(pattern, value), by the same Pattern as matches
// outside SQL. The compiled pattern is kept with the statement while the pattern stays the same.
void Regexp(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) return;
  auto* re = static_cast<Pattern*>(sqlite3_get_auxdata(ctx, 0));
  if (re == nullptr) {
    const char* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    auto compiled = Pattern::Compile(std::string_view(text, static_cast<size_t>(sqlite3_value_bytes(argv[0]))));
    if (!compiled.ok()) {
      sqlite3_result_error(ctx, ("not a regular expression: " + compiled.error().message).c_str(), -1);
      return;
    }
    sqlite3_set_auxdata(ctx, 0, new Pattern(std::move(*compiled)), [](void* p) { delete static_cast<Pattern*>(p); });
    re = static_cast<Pattern*>(sqlite3_get_auxdata(ctx, 0));
    if (re == nullptr) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  const char* value = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  sqlite3_result_int(ctx, re->Matches(std::string_view(value, static_cast<size_t>(sqlite3_value_bytes(argv[1])))));
}

}  // namespace

Status CheckPattern(std::string_view pattern) {
  auto compiled = Pattern::Compile(pattern);
  if (!compiled.ok()) return compiled.error();
  return Ok();
}

struct Pattern::Compiled {
  pcre2_code* code = nullptr;
  pcre2_match_data* match = nullptr;
  pcre2_match_context* limits = nullptr;
  ~Compiled() {
    pcre2_match_context_free(limits);
    pcre2_match_data_free(match);
    pcre2_code_free(code);
  }
};

Result<Pattern> Pattern::Compile(std::string_view pattern, bool case_sensitive) {
  std::string error;
  pcre2_code* code = CompilePattern(pattern, &error, case_sensitive ? 0 : PCRE2_CASELESS);
  if (code == nullptr) return MakeError(ErrorCode::kInvalidArgument, error);
  Pattern out;
  out.compiled_ = new Compiled{.code = code};
  out.compiled_->match = pcre2_match_data_create_from_pattern(code, nullptr);
  out.compiled_->limits = pcre2_match_context_create(nullptr);
  if (out.compiled_->match == nullptr || out.compiled_->limits == nullptr) {
    return MakeError(ErrorCode::kInternal, "out of memory for a regular expression");
  }
  pcre2_set_match_limit(out.compiled_->limits, kMatchLimit);
  return out;
}

Pattern::Pattern(Pattern&& other) noexcept : compiled_(std::exchange(other.compiled_, nullptr)) {}

Pattern& Pattern::operator=(Pattern&& other) noexcept {
  if (this != &other) {
    delete compiled_;
    compiled_ = std::exchange(other.compiled_, nullptr);
  }
  return *this;
}

Pattern::~Pattern() { delete compiled_; }

bool Pattern::Matches(std::string_view value) const {
  if (compiled_ == nullptr) return false;
  return pcre2_match(compiled_->code, reinterpret_cast<PCRE2_SPTR>(value.data()), value.size(), 0, 0, compiled_->match,
                     compiled_->limits) >= 0;
}

bool SqliteConnection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

int64_t Row::Int(size_t col) const {
  const Value& v = values_.at(col);
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}

double Row::Real(size_t col) const {
  const Value& v = values_.at(col);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return 0;
}

std::string Row::Text(size_t col) const {
  const Value& v = values_.at(col);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* b = std::get_if<Blob>(&v)) return b->bytes;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return {};
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path, bool create, bool read_only,
                                                                 int64_t cache_kib) {
  sqlite3* db = nullptr;
  // No memory statistics: they take a global mutex on every allocation, which every connection's
  // thread would then queue on. Must precede SQLite's initialisation; later calls are no-ops.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return MakeError(ErrorCode::kIo, "cannot open database " + path + ": " + msg);
  }
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_create_function(db, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, Regexp, nullptr, nullptr);
  // WAL lets readers run beside the one writer; FULL makes a commit durable before it returns,
  // which the writer amortises by committing in groups.
  STEWARD_RETURN_IF_ERROR(
      conn->ExecScript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                       "PRAGMA temp_store=MEMORY;"));
  if (read_only) STEWARD_RETURN_IF_ERROR(conn->ExecScript("PRAGMA query_only=1;"));
  if (cache_kib > 0) {
    STEWARD_RETURN_IF_ERROR(conn->ExecScript("PRAGMA cache_size=-" + std::to_string(cache_kib) + ";"));
  }
  return conn;
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  for (sqlite3_stmt* stmt : control_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Error SqliteConnection::SqlError(const char* what) const {
  int code = sqlite3_extended_errcode(db_);
  ErrorCode ec = ErrorCode::kInternal;
  int primary = code & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    ec = ErrorCode::kDataLoss;
  else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    ec = ErrorCode::kUnavailable;
  else if (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN)
    ec = ErrorCode::kIo;
  else if (primary == SQLITE_CONSTRAINT)
    ec = ErrorCode::kAlreadyExists;
  // SQLite's messages name tables and columns, never bound values.
  return MakeError(ec, std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status SqliteConnection::ExecScript(std::string_view sql) {
  // A transaction's own statements, run around every write and read, are prepared once and kept
  // (sqlite3_exec would parse them each time); a script of several statements runs as it comes.
  static constexpr std::string_view kControl[] = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
  static_assert(std::size(kControl) == std::tuple_size_v<decltype(control_)>);
  for (size_t i = 0; i < std::size(kControl); ++i) {
    if (sql != kControl[i]) continue;
    sqlite3_stmt*& stmt = control_[i];
    if (stmt == nullptr && sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                              &stmt, nullptr) != SQLITE_OK) {
      return SqlError("sql script failed");
    }
    int rc = sqlite3_step(stmt);
    Status out = Ok();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) out = SqlError("sql script failed");
    sqlite3_reset(stmt);
    return out;
  }
  std::string text(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Error e = SqlError("sql script failed");
    sqlite3_free(err);
    return e;
  }
  return Ok();
}

Result<sqlite3_stmt*> SqliteConnection::Prepare(std::string_view sql, const std::vector<Value>& params) {
  internal::Observe(sql, params);
  sqlite3_stmt* stmt = nullptr;
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    stmt = it->second;
    // Every parameter is bound again below (their number is checked), so the old bindings need
    // no clearing first: a write of many rows has thousands.
    sqlite3_reset(stmt);
  } else {
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
      return SqlError("cannot prepare statement");
    }
    statements_.emplace(std::string(sql), stmt);
  }
  if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
    return MakeError(ErrorCode::kInternal, "statement expects " + std::to_string(sqlite3_bind_parameter_count(stmt)) +
                                               " parameters, got " + std::to_string(params.size()));
  }
  // Text and blobs are bound in place (SQLITE_STATIC), not copied: `params` outlives every step of
  // the statement, as Exec and ForEach step it to the end (or reset it) before they return, and
  // each use of a kept statement binds afresh.
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    const Value& v = params[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v))
      rc = sqlite3_bind_null(stmt, idx);
    else if (auto* n = std::get_if<int64_t>(&v))
      rc = sqlite3_bind_int64(stmt, idx, *n);
    else if (auto* d = std::get_if<double>(&v))
      rc = sqlite3_bind_double(stmt, idx, *d);
    else if (auto* s = std::get_if<std::string>(&v))
      rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    else if (auto* b = std::get_if<Blob>(&v))
      rc = sqlite3_bind_blob64(stmt, idx, b->bytes.data(), b->bytes.size(), SQLITE_STATIC);
    if (rc != SQLITE_OK) return SqlError("cannot bind parameter");
  }
  return stmt;
}

Result<int64_t> SqliteConnection::Exec(std::string_view sql, const std::vector<Value>& params) {
  STEWARD_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) {
    Error e = SqlError("statement failed");
    sqlite3_reset(stmt);
    return e;
  }
  sqlite3_reset(stmt);
  return static_cast<int64_t>(sqlite3_changes64(db_));
}

Status SqliteConnection::ForEach(std::string_view sql, const std::vector<Value>& params,
                                 const std::function<bool(const Row&)>& row) {
  STEWARD_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
  int cols = sqlite3_column_count(stmt);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<Value> values;
    values.reserve(cols);
    for (int c = 0; c < cols; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(stmt, c));
          break;
        case SQLITE_TEXT:
          values.emplace_back(
              std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)), sqlite3_column_bytes(stmt, c)));
          break;
        case SQLITE_BLOB: {
          const char* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          values.emplace_back(Blob{std::string(p ? p : "", sqlite3_column_bytes(stmt, c))});
          break;
        }
        default:
          values.emplace_back(std::monostate{});
      }
    }
    if (!row(Row(std::move(values)))) {
      sqlite3_reset(stmt);
      return Ok();
    }
  }
  if (rc != SQLITE_DONE) {
    Error e = SqlError("query failed");
    sqlite3_reset(stmt);
    return e;
  }
  sqlite3_reset(stmt);
  return Ok();
}

Result<std::vector<Row>> SqliteConnection::Query(std::string_view sql, const std::vector<Value>& params) {
  std::vector<Row> rows;
  STEWARD_RETURN_IF_ERROR(ForEach(sql, params, [&rows](const Row& r) {
    rows.push_back(r);
    return true;
  }));
  return rows;
}

Result<std::vector<std::string>> SqliteConnection::TableNames() {
  STEWARD_ASSIGN_OR_RETURN(auto rows, Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                            "'sqlite_%' ORDER BY name"));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.Text(0));
  return out;
}

Result<std::vector<std::string>> SqliteConnection::Columns(std::string_view table) {
  STEWARD_ASSIGN_OR_RETURN(auto rows,
                           Query("SELECT name FROM pragma_table_info(?) ORDER BY cid", {std::string(table)}));
  if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no table " + std::string(table));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.Text(0));
  return out;
}

Status SqliteConnection::BackupTo(const std::string& to, const std::vector<std::string>& leave_out) {
  if (std::filesystem::exists(to)) {
    return MakeError(ErrorCode::kAlreadyExists, "backup target " + to + " already exists");
  }
  // Write beside the target and rename, so a half-written backup never carries the final name.
  std::string tmp = to + ".partial";
  std::filesystem::remove(tmp);
  sqlite3* dst = nullptr;
  if (sqlite3_open_v2(tmp.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    sqlite3_close(dst);
    return MakeError(ErrorCode::kIo, "cannot create backup file " + tmp);
  }
  // Privacy: a backup holds every dataset; only the owner may read it.
  ::chmod(tmp.c_str(), 0600);
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", db_, "main");
  if (b == nullptr) {
    std::string msg = sqlite3_errmsg(dst);
    sqlite3_close(dst);
    std::filesystem::remove(tmp);
    return MakeError(ErrorCode::kIo, "cannot start backup: " + msg);
  }
  int rc;
  // Copy in steps so a busy writer is not locked out for the whole copy.
  while ((rc = sqlite3_backup_step(b, 1024)) == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    if (rc != SQLITE_OK) sqlite3_sleep(10);
  }
  sqlite3_backup_finish(b);
  if (rc == SQLITE_DONE && !leave_out.empty()) {
    // Privacy: what is left out (the subject keys) must not survive in the copy's free pages.
    std::string sql;
    for (const auto& table : leave_out) {
      sqlite3_stmt* st = nullptr;
      bool exists = sqlite3_prepare_v2(dst, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &st,
                                       nullptr) == SQLITE_OK &&
                    sqlite3_bind_text(st, 1, table.c_str(), -1, SQLITE_TRANSIENT) == SQLITE_OK &&
                    sqlite3_step(st) == SQLITE_ROW;
      sqlite3_finalize(st);
      if (exists) sql += "DELETE FROM \"" + table + "\";";
    }
    sql += "VACUUM;";
    if (sqlite3_exec(dst, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) rc = sqlite3_errcode(dst);
  }
  int close_rc = sqlite3_close(dst);
  if (rc != SQLITE_DONE || close_rc != SQLITE_OK) {
    std::filesystem::remove(tmp);
    return MakeError(ErrorCode::kIo, std::string("backup failed: ") + sqlite3_errstr(rc));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, to, ec);
  if (ec) return MakeError(ErrorCode::kIo, "cannot move backup into place at " + to + ": " + ec.message());
  // The backup's name is durable only once its directory is synced.
  return SyncDirectory(DirectoryOf(to));
}

}  // namespace steward::store
