#include "rights/zip.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/days.h"

namespace steward::rights {
namespace {

// Reads an archive with Debian's Python (zipfile), an independent reader: every file's CRC checked,
// then the names and each file's text printed.
std::string ReadWithPython(const std::string& zip) {
  auto path = std::filesystem::temp_directory_path() / "steward-zip-test.zip";
  std::ofstream(path, std::ios::binary) << zip;
  std::string cmd =
      "/usr/bin/python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
      "print(\"bad:\", z.testzip()); [print(i.filename, i.date_time[:3], z.read(i).decode()) "
      "for i in z.infolist()]' " +
      path.string();
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  std::filesystem::remove(path);
  return out;
}

TEST(ZipWriterTest, AnotherReaderOpensItAndEveryFileIsIntact) {
  ZipWriter zip(*ParseDay("2026-12-04"));
  ASSERT_TRUE(zip.Add("index.html", "<h1>What we hold about you</h1>").ok());
  std::string big;
  for (int i = 0; i < 5000; ++i) big += "line " + std::to_string(i) + ", café\n";
  ASSERT_TRUE(zip.Add("datasets/feedback.csv", big).ok());
  ASSERT_TRUE(zip.Add("empty.txt", "").ok());
  std::string bytes = std::move(zip).Finish();
  EXPECT_LT(bytes.size(), big.size() / 3) << "deflated";
  std::string read = ReadWithPython(bytes);
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
