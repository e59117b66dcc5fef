// ScratchSite: for tests, a fresh directory holding a secret key and a migrated store, removed
// when the test ends. Real SQLite files, never a fake database.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "crypto/crypto.h"
#include "store/store.h"

namespace steward::store::testing {

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

 private:
  std::filesystem::path dir_;
  std::unique_ptr<crypto::SecretKey> key_;
  std::unique_ptr<Store> store_;
};

}  // namespace steward::store::testing
