// Connection: the storage interface every backend implements (SQLite, PostgreSQL).
//
// SQL uses `?` placeholders; values are always bound, never spliced into the text. Statements are
// prepared once per connection and reused. Modules write one SQL for both backends: standard
// upserts (`ON CONFLICT ... DO NOTHING / DO UPDATE`), `RETURNING` for generated ids, `BIGINT` in
// casts; the backend supplies the rest (see postgresql.h).
//
// Thread safety: a Connection is used by one thread at a time. The Store hands them out.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace steward::store {

struct Blob {
  std::string bytes;
};

using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

// The statements of a write of many rows at once: "<head> VALUES (?, ...), ... <tail>" for 1, 2,
// 4 ... `max_rows` rows of `columns` values, made once. Binding, stepping and resetting a statement
// (a round trip, on PostgreSQL) then costs once for many rows, and only a few shapes are prepared.
//
//   static const RowStatements insert("INSERT INTO t (a, b)", 2, 64, "ON CONFLICT DO NOTHING");
//   for (size_t at = 0; at < rows; at += n) { n = insert.Fit(rows - at); c.Exec(insert.Sql(n), ...); }
class RowStatements {
 public:
  RowStatements(std::string_view head, size_t columns, size_t max_rows, std::string_view tail = {});
  // The most rows, a power of two and at most max_rows, that `left` rows fill (left > 0).
  size_t Fit(size_t left) const;
  // The statement for `rows` rows, a power of two up to max_rows.
  const std::string& Sql(size_t rows) const { return sql_.at(rows); }

 private:
  size_t max_rows_;
  std::vector<std::string> sql_;  // by rows; only the powers of two are made
};

// One result row. Column accessors return the value or a default when NULL or of another type.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t col) const { return std::holds_alternative<std::monostate>(values_.at(col)); }
  int64_t Int(size_t col) const;
  double Real(size_t col) const;
  std::string Text(size_t col) const;
  const Value& at(size_t col) const { return values_.at(col); }

 private:
  std::vector<Value> values_;
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Runs `sql`, which may hold several statements and no parameters (schema, pragmas).
  virtual Status ExecScript(std::string_view sql) = 0;
  // Runs one statement; returns the number of rows it changed.
  virtual Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Runs one query and returns every row.
  virtual Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Runs one query and calls `row` for each result row in turn, without holding them all; stops
  // early (with Ok) when `row` returns false.
  virtual Status ForEach(std::string_view sql, const std::vector<Value>& params,
                         const std::function<bool(const Row&)>& row) = 0;
  // Whether a transaction is open on this connection (a backend may end one by itself on some
  // errors: SQLite on a full disk, PostgreSQL when the connection drops).
  virtual bool InTransaction() const = 0;
  // The names of the tables in the database, sorted; the backend's own catalogue tables excluded.
  virtual Result<std::vector<std::string>> TableNames() = 0;
  // The columns of `table`, in their order. Errors: kNotFound (no such table).
  virtual Result<std::vector<std::string>> Columns(std::string_view table) = 0;
  // After rows were written with the ids they had elsewhere (a copy), makes the next generated id
  // of every table follow its largest (PostgreSQL's identity sequences; SQLite needs nothing).
  virtual Status SyncIdentities() = 0;
  // Within a write: waits until no other transaction that named `name` is open, and holds `name`
  // until this one ends. For work that reads and then appends to a sequence several Steward
  // instances share (the audit trail's chain). PostgreSQL: an advisory transaction lock; SQLite:
  // nothing to do, its writers already take turns.
  virtual Status Serialise(std::string_view name) = 0;
};

// For tests of a query's shape (EXPLAIN QUERY PLAN): `observer` sees every statement a connection
// prepares, with its parameters, until it is set to null. One at a time; it must outlive its use.
using StatementObserver = std::function<void(std::string_view sql, const std::vector<Value>& params)>;
void ObserveStatements(const StatementObserver* observer);

namespace internal {
// Calls the observer, if any (one atomic load otherwise).
void Observe(std::string_view sql, const std::vector<Value>& params);
}  // namespace internal

}  // namespace steward::store
