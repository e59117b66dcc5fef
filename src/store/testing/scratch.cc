#include "store/testing/scratch.h"

#include "store/sqlite.h"

#include <cstdlib>
#include <random>

#include <cstdio>

namespace steward::store::testing {
namespace {

const char* ClusterDir() {
  const char* dir = std::getenv("STEWARD_TEST_POSTGRESQL");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

std::string Conninfo(const std::string& database) {
  return std::string("host=") + ClusterDir() + " port=5432 user=steward dbname=" + database;
}

}  // namespace

bool OnPostgresql() { return ClusterDir() != nullptr; }

TestDatabase::TestDatabase(const std::filesystem::path& dir) : dir_(dir) {
  if (!OnPostgresql()) return;
  std::random_device random;
  name_ = "steward_test_" + std::to_string(random()) + std::to_string(random());
  Status made = PostgresqlAdmin({.url = Conninfo("postgres")}, "CREATE DATABASE " + name_);
  STEWARD_CHECK(made.ok(), "test database on the PostgreSQL test cluster (scripts/postgresql-cluster start)");
}

TestDatabase::~TestDatabase() {
  if (!name_.empty()) (void)PostgresqlAdmin({.url = Conninfo("postgres")}, "DROP DATABASE " + name_ + " WITH (FORCE)");
}

Options TestDatabase::options() const {
  Options o{.path = (dir_ / "steward.db").string()};
  if (!name_.empty()) {
    o.backend = Backend::kPostgresql;
    o.postgresql.url = Conninfo(name_);
  }
  return o;
}

std::unique_ptr<Connection> TestDatabase::Connect() const {
  Options o = options();
  if (o.backend == Backend::kPostgresql) {
    auto c = PostgresqlConnection::Open(o.postgresql);
    STEWARD_CHECK(c.ok(), "a connection to the test database");
    return std::move(c).value();
  }
  auto c = SqliteConnection::Open(o.path, /*create=*/true, /*read_only=*/false);
  STEWARD_CHECK(c.ok(), "a connection to the test database");
  return std::move(c).value();
}

std::string TestDatabase::url() const { return name_.empty() ? "" : Conninfo(name_); }

std::string TestDatabase::ConfigLines() const {
  if (name_.empty()) return "";
  return "backend = \"postgresql\"\nurl = \"" + Conninfo(name_) + "\"\n";
}

ScratchSite::ScratchSite(const std::vector<Migration>& migrations, int readers, size_t write_queue) {
  STEWARD_CHECK(crypto::Init().ok(), "libsodium");
  dir_ = std::filesystem::temp_directory_path() / ("steward-test-" + std::to_string(std::random_device()()));
  std::filesystem::create_directories(dir_);
  auto key = crypto::SecretKey::LoadOrCreate((dir_ / "secret.key").string());
  STEWARD_CHECK(key.ok(), "test secret key");
  key_ = std::make_unique<crypto::SecretKey>(std::move(key).value());
  database_ = std::make_unique<TestDatabase>(dir_);
  Options options = database_->options();
  options.readers = readers;
  options.write_queue = write_queue;
  auto store = Store::Open(options);
  STEWARD_CHECK(store.ok(), "test store");
  store_ = std::move(store).value();
  Status migrated = store_->Migrate(migrations);
  if (!migrated.ok()) std::fprintf(stderr, "%s\n", migrated.error().ToString().c_str());
  STEWARD_CHECK(migrated.ok(), "test migrations");
}

ScratchSite::~ScratchSite() {
  store_->Close();
  store_.reset();
  database_.reset();
  std::filesystem::remove_all(dir_);
}

}  // namespace steward::store::testing
