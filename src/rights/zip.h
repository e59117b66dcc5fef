// A ZIP archive (PKWARE APPNOTE 6.3) written in memory: each file deflated (method 8) with its
// CRC-32, a local header before it and the central directory at the end, names in UTF-8 (flag bit
// 11). No ZIP64: an archive and each file stay under 4 GiB, and under 65,535 files. Enough for a
// person's bundle of their own data, which every system opens.
//
//   rights::ZipWriter zip;
//   zip.Add("index.html", page);
//   zip.Add("data/records.json", json);
//   std::string bytes = std::move(zip).Finish();
//
// Thread safety: a ZipWriter is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace steward::rights {

class ZipWriter {
 public:
  // `modified`: the files' time, as days since 1970-01-01 (DOS dates start in 1980).
  explicit ZipWriter(int64_t modified_day = 0) : day_(modified_day) {}
  // Errors: kInvalidArgument for an empty name, one over 255 bytes, with "..", a leading '/' or a
  // backslash, or one added before; kResourceExhausted past the format's limits.
  Status Add(std::string_view name, std::string_view content);
  // The archive's bytes.
  std::string Finish() &&;

 private:
  struct Entry {
    std::string name;
    uint32_t crc = 0, compressed = 0, size = 0, offset = 0;
  };
  int64_t day_;
  std::string out_;
  std::vector<Entry> entries_;
};

}  // namespace steward::rights
