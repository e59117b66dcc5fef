#include "crypto/crypto.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace steward::crypto {
namespace {

class SecretKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Init().ok());
    dir_ = std::filesystem::temp_directory_path() / ("steward-key-" + RandomHex(6));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SecretKeyTest, CreatedOnceWithMode0600ThenReloadedUnchanged) {
  std::string path = dir_ / "secret.key";
  auto first = SecretKey::LoadOrCreate(path);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto second = SecretKey::LoadOrCreate(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->DeriveKey("testtest"), second->DeriveKey("testtest"));
  EXPECT_NE(first->DeriveKey("testtest", 1), first->DeriveKey("testtest", 2));
  EXPECT_NE(first->DeriveKey("testtest"), first->DeriveKey("othertst"));
}

TEST_F(SecretKeyTest, RefusesWorldReadableAndWrongSize) {
  std::string path = dir_ / "secret.key";
  ASSERT_TRUE(SecretKey::LoadOrCreate(path).ok());
  ::chmod(path.c_str(), 0644);
  auto r = SecretKey::LoadOrCreate(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);

  std::string short_path = dir_ / "short.key";
  std::ofstream(short_path) << "too short";
  ::chmod(short_path.c_str(), 0600);
  auto s = SecretKey::LoadOrCreate(short_path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kDataLoss);
}

TEST(RandomTest, HexLengthAndDistinct) {
  ASSERT_TRUE(Init().ok());
  std::string a = RandomHex(16), b = RandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(ConstantTimeEquals(a, a));
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals("a", "ab"));
}

}  // namespace
}  // namespace steward::crypto
