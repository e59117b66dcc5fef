#include "rights/zip.h"

#include <zlib.h>

#include <chrono>

namespace steward::rights {
namespace {

void Put16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}
void Put32(std::string& out, uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}

// MS-DOS date: bits 15-9 years since 1980, 8-5 month, 4-0 day; time noon.
uint32_t DosDate(int64_t day) {
  namespace chr = std::chrono;
  chr::year_month_day ymd{chr::sys_days(chr::days(day))};
  int y = static_cast<int>(ymd.year());
  if (y < 1980) return (0 << 9) | (1 << 5) | 1;
  return static_cast<uint32_t>(((y - 1980) << 9) | (static_cast<unsigned>(ymd.month()) << 5) |
                               static_cast<unsigned>(ymd.day()));
}
constexpr uint32_t kDosNoon = 12 << 11;

}  // namespace

Status ZipWriter::Add(std::string_view name, std::string_view content) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find("..") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "a file name in a zip must be a plain relative path");
  }
  for (const auto& e : entries_) {
    if (e.name == name) return MakeError(ErrorCode::kInvalidArgument, "a zip holds each name once");
  }
  if (content.size() >= 0xffffffffu || out_.size() + content.size() + 1024 >= 0xffffffffu ||
      entries_.size() >= 0xffff) {
    return MakeError(ErrorCode::kResourceExhausted, "too large for a zip without ZIP64");
  }
  // Raw deflate (no zlib header), as ZIP's method 8 wants.
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return MakeError(ErrorCode::kInternal, "zlib would not start");
  }
  std::string packed(deflateBound(&z, static_cast<uLong>(content.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
  z.avail_in = static_cast<uInt>(content.size());
  z.next_out = reinterpret_cast<Bytef*>(packed.data());
  z.avail_out = static_cast<uInt>(packed.size());
  int rc = deflate(&z, Z_FINISH);
  packed.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return MakeError(ErrorCode::kInternal, "zlib could not compress a file");
  Entry e{.name = std::string(name),
          .crc = static_cast<uint32_t>(
              crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size()))),
          .compressed = static_cast<uint32_t>(packed.size()),
          .size = static_cast<uint32_t>(content.size()),
          .offset = static_cast<uint32_t>(out_.size())};
  Put32(out_, 0x04034b50);  // local file header
  Put16(out_, 20);          // version needed: 2.0 (deflate)
  Put16(out_, 1 << 11);     // UTF-8 names
  Put16(out_, 8);           // deflate
  Put16(out_, kDosNoon);
  Put16(out_, DosDate(day_));
  Put32(out_, e.crc);
  Put32(out_, e.compressed);
  Put32(out_, e.size);
  Put16(out_, static_cast<uint32_t>(e.name.size()));
  Put16(out_, 0);  // no extra field
  out_ += e.name;
  out_ += packed;
  entries_.push_back(std::move(e));
  return Ok();
}

std::string ZipWriter::Finish() && {
  uint32_t start = static_cast<uint32_t>(out_.size());
  for (const auto& e : entries_) {
    Put32(out_, 0x02014b50);     // central directory header
    Put16(out_, (3 << 8) | 20);  // made by: Unix, 2.0
    Put16(out_, 20);
    Put16(out_, 1 << 11);
    Put16(out_, 8);
    Put16(out_, kDosNoon);
    Put16(out_, DosDate(day_));
    Put32(out_, e.crc);
    Put32(out_, e.compressed);
    Put32(out_, e.size);
    Put16(out_, static_cast<uint32_t>(e.name.size()));
    Put16(out_, 0);               // extra
    Put16(out_, 0);               // comment
    Put16(out_, 0);               // disk
    Put16(out_, 0);               // internal attributes
    Put32(out_, 0100644u << 16);  // external: a regular file, rw-r--r--
    Put32(out_, e.offset);
    out_ += e.name;
  }
  uint32_t size = static_cast<uint32_t>(out_.size()) - start;
  Put32(out_, 0x06054b50);  // end of central directory
  Put16(out_, 0);
  Put16(out_, 0);
  Put16(out_, static_cast<uint32_t>(entries_.size()));
  Put16(out_, static_cast<uint32_t>(entries_.size()));
  Put32(out_, size);
  Put32(out_, start);
  Put16(out_, 0);
  return std::move(out_);
}

}  // namespace steward::rights
