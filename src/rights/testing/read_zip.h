// For tests: a zip read by Debian's Python (zipfile), a reader independent of Steward's writer.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "crypto/crypto.h"

namespace steward::rights::testing {

// "bad: None" when every file's CRC holds, then each file as "NAME (Y, M, D) TEXT".
inline std::string ReadZip(const std::string& zip) {
  auto path = std::filesystem::temp_directory_path() / ("steward-zip-" + crypto::RandomHex(6) + ".zip");
  std::ofstream(path, std::ios::binary) << zip;
  std::string cmd =
      "/usr/bin/python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(\"bad:\", z.testzip()); "
      "[print(i.filename, i.date_time[:3], z.read(i).decode()) for i in z.infolist()]' " +
      path.string();
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) pclose(p);
  std::filesystem::remove(path);
  return out;
}

}  // namespace steward::rights::testing
