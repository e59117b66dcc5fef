#include "store/testing/scratch.h"

#include <random>

namespace steward::store::testing {

ScratchSite::ScratchSite(const std::vector<Migration>& migrations, int readers, size_t write_queue) {
  STEWARD_CHECK(crypto::Init().ok(), "libsodium");
  dir_ = std::filesystem::temp_directory_path() / ("steward-test-" + std::to_string(std::random_device()()));
  std::filesystem::create_directories(dir_);
  auto key = crypto::SecretKey::LoadOrCreate((dir_ / "secret.key").string());
  STEWARD_CHECK(key.ok(), "test secret key");
  key_ = std::make_unique<crypto::SecretKey>(std::move(key).value());
  auto store = Store::Open({.path = db_path(), .readers = readers, .write_queue = write_queue});
  STEWARD_CHECK(store.ok(), "test store");
  store_ = std::move(store).value();
  STEWARD_CHECK(store_->Migrate(migrations).ok(), "test migrations");
}

ScratchSite::~ScratchSite() {
  store_->Close();
  store_.reset();
  std::filesystem::remove_all(dir_);
}

}  // namespace steward::store::testing
