// ScratchSite: for tests, a fresh directory holding a secret key and a migrated store, removed
// when the test ends. Real databases, never a fake: a SQLite file, or, when the test runs on
// PostgreSQL, a database of its own in the test cluster.
//
// Which backend: PostgreSQL when STEWARD_TEST_POSTGRESQL names the socket directory of a test
// cluster (scripts/postgresql-cluster; ctest sets it for every test named "postgresql.*"), SQLite
// otherwise. One test binary thus runs on both, unchanged.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "store/store.h"

namespace steward::store::testing {

// Whether this process's tests run on PostgreSQL.
bool OnPostgresql();

// A new, empty database for one test, dropped when this goes: `dir`/steward.db on SQLite.
class TestDatabase {
 public:
  explicit TestDatabase(const std::filesystem::path& dir);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // For Store::Open; set readers, write_queue and metrics on it as needed.
  Options options() const;
  // The [storage] keys of a site's file that name this database: "" on SQLite (the data directory's
  // steward.db), `backend` and `url` on PostgreSQL.
  std::string ConfigLines() const;
  // The PostgreSQL database's connection string for [storage] url; empty on SQLite.
  std::string url() const;
  // A read-write connection of its own, outside any Store: what someone with the database's owner
  // role (or the SQLite file) can do, for tests that tamper.
  std::unique_ptr<Connection> Connect() const;

 private:
  std::filesystem::path dir_;
  std::string name_;  // the PostgreSQL database; empty on SQLite
};

class ScratchSite {
 public:
  // Creates the directory, the key and the store, and applies `migrations`. Checks on failure.
  explicit ScratchSite(const std::vector<Migration>& migrations, int readers = 2, size_t write_queue = 10000);
  ~ScratchSite();
  ScratchSite(const ScratchSite&) = delete;
  ScratchSite& operator=(const ScratchSite&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::string db_path() const { return (dir_ / "steward.db").string(); }
  crypto::SecretKey& key() { return *key_; }
  Store& store() { return *store_; }
  const TestDatabase& database() const { return *database_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<crypto::SecretKey> key_;
  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<Store> store_;
};

}  // namespace steward::store::testing
