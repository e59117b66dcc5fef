// PostgresqlConnection: Connection over one libpq connection, with its prepared statements.
//
// The SQL modules write is the one they write for SQLite; this backend supplies the differences:
// `?` placeholders become `$1, $2 ...` (once per statement, when it is prepared), a parameter is sent
// in the form its inferred type wants (a Blob as bytea, a number as text for an integer column), and
// results come back as the same Values SQLite gives (integers, reals, text, blobs; a boolean as 0 or 1;
// an integral numeric, such as a SUM, as an integer). Schema steps are translated by TranslateSchema.
//
// A connection that the server drops is opened again before the next statement; statements prepared
// on the old one are prepared again. Error messages carry the SQLSTATE and PostgreSQL's primary
// message only, never its DETAIL (which can quote values).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/text_hash.h"
#include "store/connection.h"

struct pg_conn;
struct pg_result;

namespace steward::store {

// Where and how to reach the server. The password never comes from the site's file: it is read from
// `password_file` by the config layer, or left to libpq (PGPASSWORD, ~/.pgpass).
struct PostgresqlOptions {
  std::string url;  // "postgresql://user@host:port/db", or a libpq "key=value" string
  std::string password;
  std::string sslmode;      // libpq's: disable, prefer, require, verify-ca, verify-full
  std::string sslrootcert;  // CA certificate file for verify-ca / verify-full
  std::string application_name = "steward";
  int connect_timeout_seconds = 10;
};

class PostgresqlConnection final : public Connection {
 public:
  // Connects. Errors: kUnavailable (the server cannot be reached or refused the login).
  static Result<std::unique_ptr<PostgresqlConnection>> Open(const PostgresqlOptions& options);
  ~PostgresqlConnection() override;

  Status ExecScript(std::string_view sql) override;
  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params = {}) override;
  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params = {}) override;
  Status ForEach(std::string_view sql, const std::vector<Value>& params,
                 const std::function<bool(const Row&)>& row) override;
  bool InTransaction() const override;
  Result<std::vector<std::string>> TableNames() override;
  Status Serialise(std::string_view name) override;
  Result<std::vector<std::string>> Columns(std::string_view table) override;
  Status SyncIdentities() override;

  // The server's address without user or password ("host:port/db"), for messages.
  std::string Describe() const;

 private:
  struct Prepared {
    std::string name;
    std::vector<unsigned> param_types;  // as the server inferred them
  };
  explicit PostgresqlConnection(pg_conn* conn) : conn_(conn) {}
  // Opens the connection again when the server dropped it. Errors: kUnavailable.
  Status EnsureConnected();
  Result<const Prepared*> Prepare(std::string_view sql, size_t params);
  // Runs a prepared statement and returns its whole result. Errors as Check.
  Result<pg_result*> Run(std::string_view sql, const std::vector<Value>& params, bool single_row);
  Error ResultError(pg_result* res, const char* what) const;

  pg_conn* conn_;
  // Prepared statements by their SQL, found without copying it or hashing all of a long one.
  std::unordered_map<std::string, Prepared, LongTextHash, std::equal_to<>> statements_;
  int next_statement_ = 0;
};

// `?` placeholders as `$1, $2 ...`, outside quoted text, quoted names and comments.
std::string NumberPlaceholders(std::string_view sql);

// A schema step written for SQLite, for PostgreSQL: INTEGER PRIMARY KEY becomes an identity column,
// INTEGER BIGINT, BLOB BYTEA, REAL DOUBLE PRECISION, and WITHOUT ROWID goes. Words inside quoted
// text, quoted names and comments are left alone.
std::string TranslateSchema(std::string_view sql);

// The advisory lock key for `name` (FNV-1a, 64 bits), the same in every instance and version.
int64_t AdvisoryKey(std::string_view name);

// Runs one statement outside any transaction on a connection of its own (CREATE DATABASE, DROP
// DATABASE), for the tools that make and remove databases. Errors: kUnavailable, kInternal.
Status PostgresqlAdmin(const PostgresqlOptions& options, std::string_view sql);

}  // namespace steward::store
