#include "store/postgresql.h"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <cstring>

namespace steward::store {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat; stable across versions.
constexpr unsigned kBool = 16;
constexpr unsigned kBytea = 17;
constexpr unsigned kInt8 = 20;
constexpr unsigned kInt2 = 21;
constexpr unsigned kInt4 = 23;
constexpr unsigned kOid = 26;
constexpr unsigned kFloat4 = 700;
constexpr unsigned kFloat8 = 701;
constexpr unsigned kText = 25;
constexpr unsigned kVarchar = 1043;
constexpr unsigned kNumeric = 1700;

// Walks `sql`, calling `word(begin, end)` for each run of plain text outside quotes and comments and
// copying everything else through unchanged. `plain` returns what to emit for that run.
template <typename Plain>
std::string Rewrite(std::string_view sql, Plain plain) {
  std::string out;
  out.reserve(sql.size() + 16);
  size_t i = 0, run = 0;
  auto flush = [&](size_t to) {
    if (to > run) out += plain(sql.substr(run, to - run));
  };
  while (i < sql.size()) {
    char c = sql[i];
    size_t end = i;
    if (c == '\'' || c == '"') {
      end = i + 1;
      while (end < sql.size()) {
        if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;  // a doubled quote inside
            continue;
          }
          ++end;
          break;
        }
        ++end;
      }
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      ++i;
      continue;
    }
    flush(i);
    out.append(sql.substr(i, end - i));
    i = run = end;
  }
  flush(sql.size());
  return out;
}

bool WordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Splits plain text into words and the rest, keeping both.
std::vector<std::string_view> Tokens(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i + 1;
    if (WordChar(text[i])) {
      while (j < text.size() && WordChar(text[j])) ++j;
    } else {
      while (j < text.size() && !WordChar(text[j])) ++j;
    }
    out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// The next word token at or after `k` (skipping separators made only of whitespace).
size_t NextWord(const std::vector<std::string_view>& t, size_t k) {
  while (k < t.size() && !WordChar(t[k][0])) {
    for (char c : t[k]) {
      if (!std::isspace(static_cast<unsigned char>(c))) return t.size();
    }
    ++k;
  }
  return k;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Value ToValue(const char* text, int length, unsigned type) {
  std::string_view s(text, static_cast<size_t>(length));
  switch (type) {
    case kBool:
      return int64_t{s == "t" ? 1 : 0};
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: {
      int64_t n = 0;
      std::from_chars(s.data(), s.data() + s.size(), n);
      return n;
    }
    case kFloat4:
    case kFloat8:
      return std::strtod(std::string(s).c_str(), nullptr);
    case kNumeric: {
      // SUM and COUNT-like aggregates of integers come back as numeric: integral ones stay integers.
      if (s.find_first_of(".eEN") == std::string_view::npos) {
        int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc() && p == s.data() + s.size()) return n;
      }
      return std::strtod(std::string(s).c_str(), nullptr);
    }
    case kBytea: {
      // Text form "\x" followed by hex pairs (bytea_output = hex, set at connect).
      std::string bytes;
      if (s.size() >= 2 && s[0] == '\\' && s[1] == 'x') {
        bytes.reserve((s.size() - 2) / 2);
        for (size_t i = 2; i + 1 < s.size(); i += 2) {
          bytes.push_back(static_cast<char>(HexValue(s[i]) << 4 | HexValue(s[i + 1])));
        }
      }
      return Blob{std::move(bytes)};
    }
    default:
      return std::string(s);
  }
}

std::string ParamText(const Value& v) {
  if (auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (auto* d = std::get_if<double>(&v)) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, p);
  }
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* b = std::get_if<Blob>(&v)) return b->bytes;
  return {};
}

ErrorCode CodeFor(std::string_view sqlstate) {
  if (sqlstate.rfind("23", 0) == 0) return ErrorCode::kAlreadyExists;  // integrity constraint
  if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 || sqlstate == "40001" || sqlstate == "40P01" ||
      sqlstate.rfind("53", 0) == 0) {
    return ErrorCode::kUnavailable;  // connection, shutdown, serialization, resources: try again
  }
  if (sqlstate.rfind("58", 0) == 0) return ErrorCode::kIo;
  if (sqlstate == "XX001" || sqlstate == "XX002") return ErrorCode::kDataLoss;  // corrupted data or index
  return ErrorCode::kInternal;
}

std::vector<const char*> Keywords(const PostgresqlOptions& o, std::vector<std::string>& storage,
                                  std::vector<const char*>& values) {
  std::vector<const char*> keys;
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    keys.push_back(k);
    storage.push_back(v);
  };
  add("dbname", o.url);  // first, so that what follows overrides what the URL says
  add("password", o.password);
  add("sslmode", o.sslmode);
  add("sslrootcert", o.sslrootcert);
  add("application_name", o.application_name);
  add("connect_timeout", std::to_string(o.connect_timeout_seconds));
  // Fixed session settings: UTC, hex bytea, and no statement left waiting on a lock for ever.
  add("options", "-c TimeZone=UTC -c bytea_output=hex -c lock_timeout=30000");
  for (const auto& s : storage) values.push_back(s.c_str());
  keys.push_back(nullptr);
  values.push_back(nullptr);
  return keys;
}

pg_conn* Connect(const PostgresqlOptions& options, std::string& error) {
  std::vector<std::string> storage;
  std::vector<const char*> values;
  std::vector<const char*> keys = Keywords(options, storage, values);
  pg_conn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) {
    error = "out of memory";
    return nullptr;
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names the host and the reason, never the password.
    error = PQerrorMessage(conn);
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    PQfinish(conn);
    return nullptr;
  }
  return conn;
}

std::string Where(pg_conn* conn) {
  if (conn == nullptr) return "PostgreSQL";
  std::string host = PQhost(conn) ? PQhost(conn) : "";
  return "PostgreSQL at " + host + ":" + (PQport(conn) ? PQport(conn) : "") + "/" + (PQdb(conn) ? PQdb(conn) : "");
}

}  // namespace

std::string NumberPlaceholders(std::string_view sql) {
  int n = 0;
  return Rewrite(sql, [&n](std::string_view plain) {
    std::string out;
    out.reserve(plain.size() + 8);
    for (char c : plain) {
      if (c == '?') {
        out += '$';
        out += std::to_string(++n);
      } else {
        out += c;
      }
    }
    return out;
  });
}

std::string TranslateSchema(std::string_view sql) {
  return Rewrite(sql, [](std::string_view plain) {
    std::vector<std::string_view> t = Tokens(plain);
    std::string out;
    for (size_t k = 0; k < t.size(); ++k) {
      std::string_view w = t[k];
      if (IEquals(w, "INTEGER")) {
        size_t p = NextWord(t, k + 1);
        size_t q = p < t.size() ? NextWord(t, p + 1) : t.size();
        if (p < t.size() && q < t.size() && IEquals(t[p], "PRIMARY") && IEquals(t[q], "KEY")) {
          // SQLite's rowid alias: a value is assigned when none is given.
          out += "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
          k = q;
        } else {
          out += "BIGINT";
        }
      } else if (IEquals(w, "BLOB")) {
        out += "BYTEA";
      } else if (IEquals(w, "REAL")) {
        out += "DOUBLE PRECISION";
      } else if (IEquals(w, "WITHOUT")) {
        size_t p = NextWord(t, k + 1);
        if (p < t.size() && IEquals(t[p], "ROWID")) {
          k = p;
        } else {
          out += w;
        }
      } else {
        out += w;
      }
    }
    return out;
  });
}

Result<std::unique_ptr<PostgresqlConnection>> PostgresqlConnection::Open(const PostgresqlOptions& options) {
  std::string error;
  pg_conn* conn = Connect(options, error);
  if (conn == nullptr) return MakeError(ErrorCode::kUnavailable, "cannot connect to PostgreSQL: " + error);
  // Notices ("relation already exists, skipping") are the server talking to a person at a prompt:
  // none is an error, and none goes to standard error.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PostgresqlConnection>(new PostgresqlConnection(conn));
}

PostgresqlConnection::~PostgresqlConnection() { PQfinish(conn_); }

std::string PostgresqlConnection::Describe() const { return Where(conn_); }

bool PostgresqlConnection::InTransaction() const {
  PGTransactionStatusType t = PQtransactionStatus(conn_);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

Status PostgresqlConnection::EnsureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return Ok();
  // The server went away (a restart, a failover, a network cut): its prepared statements went with
  // it. PQreset reconnects with the same parameters.
  statements_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return MakeError(ErrorCode::kUnavailable, "lost the connection to " + Where(conn_) + " and cannot reconnect");
  }
  return Ok();
}

Error PostgresqlConnection::ResultError(pg_result* res, const char* what) const {
  if (PQstatus(conn_) != CONNECTION_OK) {
    return MakeError(ErrorCode::kUnavailable, std::string(what) + ": lost the connection to " + Where(conn_));
  }
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string sqlstate = state ? state : "";
  std::string message = primary ? primary : PQerrorMessage(conn_);
  // Data exceptions quote the offending value ("invalid input syntax for type bigint: \"...\""):
  // keep the words before it only.
  if (sqlstate.rfind("22", 0) == 0) {
    if (size_t colon = message.find(':'); colon != std::string::npos) message.resize(colon);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return MakeError(CodeFor(sqlstate),
                   std::string(what) + ": " + message + (sqlstate.empty() ? "" : " (" + sqlstate + ")"));
}

Status PostgresqlConnection::ExecScript(std::string_view sql) {
  STEWARD_RETURN_IF_ERROR(EnsureConnected());
  std::string text(sql);
  pg_result* res = PQexec(conn_, text.c_str());
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Error e = ResultError(res, "sql script failed");
    PQclear(res);
    return e;
  }
  PQclear(res);
  return Ok();
}

Result<const PostgresqlConnection::Prepared*> PostgresqlConnection::Prepare(std::string_view sql, size_t params) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    Prepared p{"s" + std::to_string(next_statement_++), {}};
    std::string text = NumberPlaceholders(sql);
    pg_result* res = PQprepare(conn_, p.name.c_str(), text.c_str(), 0, nullptr);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      Error e = ResultError(res, "cannot prepare statement");
      PQclear(res);
      return e;
    }
    PQclear(res);
    // The types the server inferred for each parameter: a value is sent in the form its type wants.
    res = PQdescribePrepared(conn_, p.name.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      Error e = ResultError(res, "cannot describe statement");
      PQclear(res);
      return e;
    }
    for (int i = 0; i < PQnparams(res); ++i) p.param_types.push_back(PQparamtype(res, i));
    PQclear(res);
    it = statements_.emplace(std::string(sql), std::move(p)).first;
  }
  if (it->second.param_types.size() != params) {
    return MakeError(ErrorCode::kInternal, "statement expects " + std::to_string(it->second.param_types.size()) +
                                               " parameters, got " + std::to_string(params));
  }
  return &it->second;
}

Result<pg_result*> PostgresqlConnection::Run(std::string_view sql, const std::vector<Value>& params, bool single_row) {
  internal::Observe(sql, params);
  STEWARD_RETURN_IF_ERROR(EnsureConnected());
  STEWARD_ASSIGN_OR_RETURN(const Prepared* p, Prepare(sql, params.size()));
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size()), formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (std::holds_alternative<std::monostate>(params[i])) {
      values[i] = nullptr;
      continue;
    }
    texts[i] = ParamText(params[i]);
    values[i] = texts[i].data();
    lengths[i] = static_cast<int>(texts[i].size());
    // bytea's binary form is the bytes themselves, so a blob (or text bound to a bytea column) goes
    // as it is; text's binary form is its bytes too. Everything else goes as text, which the server
    // parses by the type it inferred.
    unsigned type = p->param_types[i];
    bool binary = type == kBytea || (std::holds_alternative<Blob>(params[i]) && (type == kText || type == kVarchar));
    formats[i] = binary ? 1 : 0;
  }
  if (single_row) {
    if (PQsendQueryPrepared(conn_, p->name.c_str(), static_cast<int>(params.size()), values.data(), lengths.data(),
                            formats.data(), 0) != 1) {
      return ResultError(nullptr, "cannot send query");
    }
    PQsetSingleRowMode(conn_);
    return static_cast<pg_result*>(nullptr);
  }
  pg_result* res = PQexecPrepared(conn_, p->name.c_str(), static_cast<int>(params.size()), values.data(),
                                  lengths.data(), formats.data(), 0);
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Error e = ResultError(res, "statement failed");
    PQclear(res);
    return e;
  }
  return res;
}

Result<int64_t> PostgresqlConnection::Exec(std::string_view sql, const std::vector<Value>& params) {
  STEWARD_ASSIGN_OR_RETURN(pg_result * res, Run(sql, params, false));
  const char* n = PQcmdTuples(res);
  int64_t changed = 0;
  if (n != nullptr && *n != '\0') std::from_chars(n, n + std::strlen(n), changed);
  PQclear(res);
  return changed;
}

namespace {

void AppendRows(pg_result* res, const std::function<bool(const Row&)>& row, bool& stopped) {
  int cols = PQnfields(res);
  std::vector<unsigned> types(cols);
  for (int c = 0; c < cols; ++c) types[c] = PQftype(res, c);
  for (int r = 0, n = PQntuples(res); r < n && !stopped; ++r) {
    std::vector<Value> values;
    values.reserve(cols);
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res, r, c)) {
        values.emplace_back(std::monostate{});
      } else {
        values.push_back(ToValue(PQgetvalue(res, r, c), PQgetlength(res, r, c), types[c]));
      }
    }
    if (!row(Row(std::move(values)))) stopped = true;
  }
}

}  // namespace

Status PostgresqlConnection::ForEach(std::string_view sql, const std::vector<Value>& params,
                                     const std::function<bool(const Row&)>& row) {
  // One row at a time, so an export of a large table does not hold it all in memory.
  STEWARD_ASSIGN_OR_RETURN(pg_result * ignored, Run(sql, params, true));
  (void)ignored;
  bool stopped = false;
  Status status = Ok();
  while (pg_result* res = PQgetResult(conn_)) {
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
      // After an early stop the remaining rows are read and dropped: the connection must be
      // drained before its next statement.
      if (!stopped) AppendRows(res, row, stopped);
    } else if (st != PGRES_COMMAND_OK && status.ok()) {
      status = ResultError(res, "query failed");
    }
    PQclear(res);
  }
  return status;
}

Result<std::vector<Row>> PostgresqlConnection::Query(std::string_view sql, const std::vector<Value>& params) {
  STEWARD_ASSIGN_OR_RETURN(pg_result * res, Run(sql, params, false));
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(PQntuples(res)));
  bool stopped = false;
  AppendRows(
      res,
      [&rows](const Row& r) {
        rows.push_back(r);
        return true;
      },
      stopped);
  PQclear(res);
  return rows;
}

Result<std::vector<std::string>> PostgresqlConnection::TableNames() {
  STEWARD_ASSIGN_OR_RETURN(auto rows, Query("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = "
                                            "current_schema() ORDER BY tablename"));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.Text(0));
  return out;
}

Result<std::vector<std::string>> PostgresqlConnection::Columns(std::string_view table) {
  STEWARD_ASSIGN_OR_RETURN(auto rows, Query("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                            "current_schema() AND table_name = ? ORDER BY ordinal_position",
                                            {std::string(table)}));
  if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no table " + std::string(table));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.Text(0));
  return out;
}

Status PostgresqlConnection::SyncIdentities() {
  STEWARD_ASSIGN_OR_RETURN(auto rows, Query("SELECT table_name, column_name FROM information_schema.columns WHERE "
                                            "table_schema = current_schema() AND is_identity = 'YES'"));
  for (const auto& r : rows) {
    // Names come from the catalogue, not from input; quoted all the same.
    std::string table = "\"" + r.Text(0) + "\"", column = "\"" + r.Text(1) + "\"";
    STEWARD_ASSIGN_OR_RETURN(auto set, Query("SELECT setval(pg_get_serial_sequence(?, ?), coalesce((SELECT max(" +
                                                 column + ") FROM " + table + "), 0) + 1, false)",
                                             {r.Text(0), r.Text(1)}));
    (void)set;
  }
  return Ok();
}

int64_t AdvisoryKey(std::string_view name) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int64_t>(h);
}

Status PostgresqlConnection::Serialise(std::string_view name) {
  STEWARD_ASSIGN_OR_RETURN(auto rows, Query("SELECT pg_advisory_xact_lock(?)", {AdvisoryKey(name)}));
  (void)rows;
  return Ok();
}

Status PostgresqlAdmin(const PostgresqlOptions& options, std::string_view sql) {
  STEWARD_ASSIGN_OR_RETURN(auto conn, PostgresqlConnection::Open(options));
  return conn->ExecScript(sql);
}

}  // namespace steward::store
