#include "rights/zip.h"

#include <gtest/gtest.h>

#include "core/days.h"
#include "rights/testing/read_zip.h"

namespace steward::rights {
namespace {

TEST(ZipWriterTest, AnotherReaderOpensItAndEveryFileIsIntact) {
  ZipWriter zip(*ParseDay("2026-12-04"));
  ASSERT_TRUE(zip.Add("index.html", "<h1>What we hold about you</h1>").ok());
  std::string big;
  for (int i = 0; i < 5000; ++i) big += "line " + std::to_string(i) + ", café\n";
  ASSERT_TRUE(zip.Add("datasets/feedback.csv", big).ok());
  ASSERT_TRUE(zip.Add("empty.txt", "").ok());
  std::string bytes = std::move(zip).Finish();
  EXPECT_LT(bytes.size(), big.size() / 3) << "deflated";
  std::string read = testing::ReadZip(bytes);
  EXPECT_NE(read.find("bad: None"), std::string::npos) << read;
  EXPECT_NE(read.find("index.html (2026, 12, 4) <h1>What we hold about you</h1>"), std::string::npos) << read;
  EXPECT_NE(read.find("datasets/feedback.csv (2026, 12, 4) line 0, café"), std::string::npos);
  EXPECT_NE(read.find("line 4999, café"), std::string::npos);
  EXPECT_NE(read.find("empty.txt"), std::string::npos);
}

TEST(ZipWriterTest, RefusesNamesThatCouldEscapeAFolder) {
  ZipWriter zip;
  EXPECT_FALSE(zip.Add("", "x").ok());
  EXPECT_FALSE(zip.Add("/etc/passwd", "x").ok());
  EXPECT_FALSE(zip.Add("../up", "x").ok());
  EXPECT_FALSE(zip.Add("a\\b", "x").ok());
  ASSERT_TRUE(zip.Add("a", "x").ok());
  EXPECT_FALSE(zip.Add("a", "y").ok()) << "once each";
}

}  // namespace
}  // namespace steward::rights
