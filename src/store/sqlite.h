// SqliteConnection: Connection over one SQLite database handle, with a cache of prepared statements.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/text_hash.h"
#include "store/connection.h"

struct sqlite3;
struct sqlite3_stmt;

namespace steward::store {

class SqliteConnection final : public Connection {
 public:
  // Opens (creating when `create`) the database at `path`, in WAL mode with foreign keys on.
  // `read_only` connections refuse writes (PRAGMA query_only). `cache_kib` > 0 sets the page
  // cache's size (PRAGMA cache_size; SQLite's own is 2 MiB). Errors: kIo, kDataLoss.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, bool create, bool read_only,
                                                        int64_t cache_kib = 0);
  ~SqliteConnection() override;

  Status ExecScript(std::string_view sql) override;
  // SQLite may roll a transaction back whole on some errors: disk full, I/O.
  bool InTransaction() const override;
  Result<std::vector<std::string>> TableNames() override;
  Status Serialise(std::string_view) override { return Ok(); }
  Result<std::vector<std::string>> Columns(std::string_view table) override;
  Status SyncIdentities() override { return Ok(); }
  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params = {}) override;
  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params = {}) override;
  Status ForEach(std::string_view sql, const std::vector<Value>& params,
                 const std::function<bool(const Row&)>& row) override;

  // Copies the whole database to a new file at `to` with SQLite's online backup API.
  // `leave_out`: tables emptied in the copy, which is then rebuilt (VACUUM) so nothing of theirs
  // stays in its free pages.
  Status BackupTo(const std::string& to, const std::vector<std::string>& leave_out = {});
  sqlite3* handle() { return db_; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  Result<sqlite3_stmt*> Prepare(std::string_view sql, const std::vector<Value>& params);
  Error SqlError(const char* what) const;

  sqlite3* db_;
  // Prepared statements by their SQL, found without copying it or hashing all of a long one.
  std::unordered_map<std::string, sqlite3_stmt*, LongTextHash, std::equal_to<>> statements_;
  std::array<sqlite3_stmt*, 4> control_{};  // BEGIN, BEGIN IMMEDIATE, COMMIT, ROLLBACK, once prepared
};

}  // namespace steward::store
