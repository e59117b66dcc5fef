#include "logs/archive.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "core/clock.h"
#include "core/files.h"

namespace steward::logs {
namespace {

constexpr size_t kBlockBytes = 1 << 20;      // records a block holds before it is compressed
constexpr size_t kMaxBlockBytes = 64 << 20;  // refuse to unpack more than this from one block
constexpr size_t kHeader = 24;               // sealed length, lines, first and last ms
constexpr int kLevel = 1;                    // as small as level 3 on access logs (about 7:1), and faster
// Set in a block's count of lines when its records have the second form: the line first, then
// the address and the path as places in it (they nearly always are in it), rather than copies
// of them before it. A fifth less to compress, and to keep.
constexpr uint32_t kSecondForm = 1u << 31;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool GetBytes(std::string_view& in, std::string_view& out) {
  uint64_t n = 0;
  if (!GetVarint(in, n) || n > in.size()) return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutI64(char* p, int64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(static_cast<uint64_t>(v) >> (8 * i));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
int64_t GetI64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return static_cast<int64_t>(v);
}

std::string Compress(const std::string& in) {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(
      [] {
        ZSTD_CCtx* c = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, kLevel);
        // A smaller match table than level 1 takes for a block of this size: it stays in the
        // core's cache, and on access logs compresses a little faster and no worse.
        ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, 12);
        return c;
      }(),
      ZSTD_freeCCtx);
  // Into a buffer kept by the thread, then copied at its size: a string made at the bound and
  // shrunk would be zeroed first and keep the bound's memory while the block waits to be written.
  thread_local std::vector<char> buffer;
  buffer.resize(std::max(buffer.size(), ZSTD_compressBound(in.size())));
  size_t n = ZSTD_compress2(ctx.get(), buffer.data(), buffer.size(), in.data(), in.size());
  return ZSTD_isError(n) ? std::string() : std::string(buffer.data(), n);
}

std::optional<std::string> Decompress(std::string_view in) {
  unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxBlockBytes) return std::nullopt;
  std::string out(size, '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != size) return std::nullopt;
  return out;
}

// An address as its bytes (4 or 16), or "" when `text` is not one.
std::string AddressBytes(std::string_view text) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return {};
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char out[16];
  if (inet_pton(AF_INET, buf, out) == 1) return std::string(reinterpret_cast<char*>(out), 4);
  if (inet_pton(AF_INET6, buf, out) == 1) {
    // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address.
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out, mapped, 12) == 0) return std::string(reinterpret_cast<char*>(out + 12), 4);
    return std::string(reinterpret_cast<char*>(out), 16);
  }
  return {};
}

// What an address query matches: exactly one address, or a range.
struct AddressMatch {
  std::string network;  // bytes
  int prefix = 0;       // bits
  std::string text;     // when the query is not an address: compared as written
  bool Matches(std::string_view host) const {
    if (!text.empty()) return host == text;
    std::string bytes = AddressBytes(host);
    if (bytes.size() != network.size()) return false;
    int full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(bytes.data(), network.data(), static_cast<size_t>(full)) != 0) return false;
    if (rest == 0) return true;
    auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (static_cast<uint8_t>(bytes[full]) & mask) == (static_cast<uint8_t>(network[full]) & mask);
  }
};

Result<AddressMatch> ReadAddress(std::string_view q) {
  AddressMatch m;
  size_t slash = q.find('/');
  std::string_view addr = q.substr(0, slash);
  m.network = AddressBytes(addr);
  if (m.network.empty()) {
    if (slash != std::string_view::npos)
      return MakeError(ErrorCode::kInvalidArgument, "give a range as an address/bits, such as 203.0.113.0/24");
    m.text = std::string(q);  // a host name, as a log may hold one
    return m;
  }
  m.prefix = static_cast<int>(m.network.size() * 8);
  if (slash != std::string_view::npos) {
    std::string_view bits = q.substr(slash + 1);
    int n = 0;
    if (bits.empty() || bits.size() > 3 ||
        !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (n = std::stoi(std::string(bits))) > m.prefix || n < 8) {
      return MakeError(ErrorCode::kInvalidArgument, "a range's bits must be 8 to " + std::to_string(m.prefix));
    }
    m.prefix = n;
  }
  return m;
}

// Locks the whole file against other importers (released when the descriptor is closed).
bool Lock(int fd) {
  while (flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

// Reads the sealed blocks of a month's file up to its committed length `bytes`. `skip(first_ms,
// last_ms)` passes over a block unopened; `each(block, records)` gets the opened ones; `stop()`
// ends early. Errors: kDataLoss for a block that runs past the end, cannot be read, fails its seal
// or cannot be unpacked.
struct BlockInfo {
  uint32_t lines = 0;
  int64_t first_ms = 0, last_ms = 0;
  bool second_form = false;  // see kSecondForm
};
template <typename Skip, typename Each, typename Stop>
Status ReadBlocks(int fd, const std::string& path, const std::string& month_key, int64_t bytes, Skip skip, Each each,
                  Stop stop) {
  int64_t at = 0;
  while (at + static_cast<int64_t>(kHeader) <= bytes && !stop()) {
    char header[kHeader];
    if (::pread(fd, header, kHeader, at) != static_cast<ssize_t>(kHeader)) break;
    uint32_t len = GetU32(header);
    uint32_t lines = GetU32(header + 4);
    BlockInfo info{lines & ~kSecondForm, GetI64(header + 8), GetI64(header + 16), (lines & kSecondForm) != 0};
    int64_t next = at + static_cast<int64_t>(kHeader) + len;
    if (next > bytes) return MakeError(ErrorCode::kDataLoss, path + ": a block runs past the recorded end");
    if (skip(info.first_ms, info.last_ms)) {
      at = next;
      continue;
    }
    std::string sealed(len, '\0');
    if (::pread(fd, sealed.data(), len, at + static_cast<int64_t>(kHeader)) != static_cast<ssize_t>(len)) {
      return MakeError(ErrorCode::kDataLoss, path + ": a block cannot be read");
    }
    auto plain = crypto::Unseal(month_key, sealed);
    if (!plain || plain->size() < kHeader - 4 || std::memcmp(plain->data(), header + 4, kHeader - 4) != 0) {
      return MakeError(ErrorCode::kDataLoss, path + ": a block fails its seal");
    }
    auto records = Decompress(std::string_view(*plain).substr(kHeader - 4));
    if (!records) return MakeError(ErrorCode::kDataLoss, path + ": a block cannot be unpacked");
    STEWARD_RETURN_IF_ERROR(each(info, std::string_view(*records)));
    at = next;
  }
  return Ok();
}

// A field of a record in the second form: 0 and its bytes, or its place in the line plus one and
// its length.
void PutField(std::string& out, std::string_view field, std::string_view line) {
  auto at = reinterpret_cast<uintptr_t>(field.data()), begin = reinterpret_cast<uintptr_t>(line.data());
  if (!field.empty() && at >= begin && at + field.size() <= begin + line.size()) {
    PutVarint(out, at - begin + 1);
    PutVarint(out, field.size());
    return;
  }
  PutVarint(out, 0);
  PutVarint(out, field.size());
  out.append(field);
}

bool GetField(std::string_view& in, std::string_view line, std::string_view& field) {
  uint64_t at = 0, size = 0;
  if (!GetVarint(in, at)) return false;
  if (at == 0) return GetBytes(in, field);
  if (!GetVarint(in, size) || at - 1 > line.size() || size > line.size() - (at - 1)) return false;
  field = line.substr(at - 1, size);
  return true;
}

// One line of a block's records; false at a malformed record.
bool NextLine(std::string_view& in, bool second_form, int64_t& time_ms, std::string_view& host, std::string_view& path,
              std::string_view& line) {
  uint64_t time = 0;
  if (!GetVarint(in, time)) return false;
  time_ms = static_cast<int64_t>(time);
  if (second_form) return GetBytes(in, line) && GetField(in, line, host) && GetField(in, line, path);
  return GetBytes(in, host) && GetBytes(in, path) && GetBytes(in, line);
}

// A block as a segment holds it: length, clear header, then the header and packed lines sealed.
void AppendBlock(std::string& out, const std::string& month_key, uint32_t lines, int64_t first_ms, int64_t last_ms,
                 std::string_view packed) {
  std::string plain(kHeader - 4, '\0');
  PutU32(plain.data(), lines);
  PutI64(plain.data() + 4, first_ms);
  PutI64(plain.data() + 12, last_ms);
  std::string header = plain;  // in the clear, to skip blocks outside a search; checked against the sealed copy
  plain.append(packed);
  std::string sealed = crypto::Seal(month_key, plain);
  char len[4];
  PutU32(len, static_cast<uint32_t>(sealed.size()));
  out.append(len, 4);
  out += header;
  out += sealed;
}

Status WriteAll(int fd, const std::string& path, std::string_view data, off_t at) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::pwrite(fd, p, left, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return MakeError(ErrorCode::kIo, path + ": cannot be written: " + std::strerror(errno));
    p += n, left -= static_cast<size_t>(n), at += n;
  }
  return Ok();
}

// "2026-11" as months since 1970-01; nullopt when it is not one.
std::optional<int64_t> MonthFromText(const std::string& text) {
  int y = 0, m = 0;
  if (std::sscanf(text.c_str(), "%d-%d", &y, &m) != 2 || m < 1 || m > 12) return std::nullopt;
  return (y - 1970) * 12 + m - 1;
}

}  // namespace

Status CheckQuery(const RawQuery& q) {
  auto refuse = [](const char* why) { return MakeError(ErrorCode::kInvalidArgument, why); };
  if (q.ip.empty() && q.client.empty() && q.path.empty()) return refuse("give an address, a client or a path");
  if (!q.ip.empty()) STEWARD_RETURN_IF_ERROR(ReadAddress(q.ip));
  if (!q.client.empty() && !IsClientLabel(q.client))
    return refuse("give the client as an alert shows it, such as c-3f2a91c0de41");
  if (!q.path.empty() && (q.path.front() != '/' || q.path.size() > 512))
    return refuse("give a path that starts with /");
  if (q.to_ms <= q.from_ms) return refuse("the end is before the start");
  return Ok();
}

std::optional<int64_t> SearchBound(std::string_view text, bool end) {
  int64_t ms = 0, day = 0;
  if (ParseTimestamp(text, "%Y-%m-%d", ms, day)) return end ? ms + 86'400'000 : ms;
  if (auto at = ParseRfc3339(text)) return UnixMillis(*at) + (end ? 1 : 0);
  return std::nullopt;
}

bool IsClientLabel(std::string_view s) {
  return s.size() == 14 && s.substr(0, 2) == "c-" &&
         std::all_of(s.begin() + 2, s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string MonthText(int64_t month) {
  int64_t y = month >= 0 ? month / 12 : (month - 11) / 12;
  int64_t m = month - y * 12;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld", static_cast<long long>(y) + 1970, static_cast<long long>(m) + 1);
  return buf;
}

int64_t MonthOf(int64_t time_ms) {
  namespace chr = std::chrono;
  int64_t day = time_ms >= 0 ? time_ms / 86'400'000 : (time_ms - 86'399'999) / 86'400'000;
  chr::year_month_day ymd{chr::sys_days(chr::days(day))};
  return (static_cast<int>(ymd.year()) - 1970) * 12 + static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
}

int64_t MonthStartMs(int64_t month) {
  namespace chr = std::chrono;
  int64_t y = month >= 0 ? month / 12 : (month - 11) / 12;
  unsigned m = static_cast<unsigned>(month - y * 12) + 1;
  chr::sys_days d = chr::year_month_day{chr::year(static_cast<int>(1970 + y)), chr::month(m), chr::day(1)};
  return static_cast<int64_t>(d.time_since_epoch().count()) * 86'400'000;
}

void RawPacker::Add(const LogRecord& r, std::string_view line) {
  Open& o = open_[MonthOf(r.time_ms)];
  if (o.records.capacity() < kBlockBytes) o.records.reserve(kBlockBytes + (64 << 10));  // grown once, not doubled
  PutVarint(o.records, static_cast<uint64_t>(r.time_ms));
  if (first_form_) {
    for (std::string_view field : {r.host, r.path, line}) {
      PutVarint(o.records, field.size());
      o.records.append(field);
    }
  } else {
    PutVarint(o.records, line.size());
    o.records.append(line);
    PutField(o.records, r.host, line);
    PutField(o.records, r.path, line);
  }
  o.first_ms = std::min(o.first_ms, r.time_ms);
  o.last_ms = std::max(o.last_ms, r.time_ms);
  ++o.lines;
  if (o.records.size() >= kBlockBytes) Flush(MonthOf(r.time_ms), o);
}

void RawPacker::Flush(int64_t month, Open& o) {
  if (o.lines == 0) return;
  done_.push_back({month, o.first_ms, o.last_ms, o.lines, Compress(o.records), !first_form_});
  o = Open{};
}

std::vector<RawBlock> RawPacker::Finish() {
  for (auto& [month, o] : open_) Flush(month, o);
  open_.clear();
  return std::exchange(done_, {});
}

RawArchive::RawArchive(std::string dir, const crypto::SecretKey& key,
                       std::function<std::string(std::string_view)> client_label)
    : dir_(std::move(dir)), client_label_(std::move(client_label)) {
  auto k = key.DeriveKey("lograwky");
  wrap_key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
}

RawArchive::~RawArchive() = default;

std::string RawArchive::Path(int64_t month) const { return dir_ + "/" + MonthText(month) + ".seg"; }

RawArchive::Pending::~Pending() {
  for (const File& f : files_) {
    if (f.fd >= 0) ::close(f.fd);
  }
}

Status RawArchive::Pending::Commit(store::Connection& c) {
  for (const File& f : files_) {
    if (!f.sealed_key.empty()) {
      STEWARD_ASSIGN_OR_RETURN(auto n,
                               c.Exec("INSERT INTO logs_raw_months (month, key, bytes, lines) VALUES (?, ?, ?, ?)",
                                      {MonthText(f.month), store::Blob{f.sealed_key}, f.length, f.lines}));
      (void)n;
    } else {
      // A month purged meanwhile stays purged: its new lines were past the retention anyway.
      STEWARD_ASSIGN_OR_RETURN(auto n, c.Exec("UPDATE logs_raw_months SET bytes = ?, lines = lines + ? WHERE month = ?",
                                              {f.length, f.lines, MonthText(f.month)}));
      (void)n;
    }
  }
  return Ok();
}

Result<std::unique_ptr<RawArchive::Pending>> RawArchive::Write(store::Store& store,
                                                               const std::vector<RawBlock>& blocks) {
  auto pending = std::make_unique<Pending>();
  if (blocks.empty()) return pending;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return MakeError(ErrorCode::kIo, dir_ + ": cannot be made: " + ec.message());
  ::chmod(dir_.c_str(), 0700);
  std::map<int64_t, std::vector<const RawBlock*>> by_month;
  for (const RawBlock& b : blocks) by_month[b.month].push_back(&b);
  for (const auto& [month, list] : by_month) {
    std::string path = Path(month);
    STEWARD_ASSIGN_OR_RETURN(int fd, OpenLocked(month, true));
    Pending::File& f = pending->files_.emplace_back();
    f.fd = fd;
    f.month = month;
    // Read after the lock, so another importer's commit is seen.
    std::string month_key;
    int64_t committed = 0;
    bool known = false;
    STEWARD_RETURN_IF_ERROR(store.Read([&, month = month](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto rows,
                               c.Query("SELECT key, bytes FROM logs_raw_months WHERE month = ?", {MonthText(month)}));
      if (rows.empty()) return Ok();
      known = true;
      committed = rows.front().Int(1);
      if (const auto* b = std::get_if<store::Blob>(&rows.front().at(0))) {
        if (auto k = crypto::Unseal(wrap_key_, b->bytes)) month_key = std::move(*k);
      }
      return Ok();
    }));
    if (known && month_key.size() != 32)
      return MakeError(ErrorCode::kDataLoss, "the key of month " + MonthText(month) + " cannot be opened");
    if (!known) {
      month_key = crypto::RandomBytes(32);
      f.sealed_key = crypto::Seal(wrap_key_, month_key);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) return MakeError(ErrorCode::kIo, path + ": " + std::strerror(errno));
    // Beyond the committed length: an import that never committed. Shorter: the file was lost,
    // and what follows starts it again.
    if (st.st_size < committed) committed = 0;
    if (::ftruncate(fd, committed) != 0)
      return MakeError(ErrorCode::kIo, path + ": cannot be cut back: " + std::strerror(errno));
    // Privacy: access-logs. The raw lines, addresses and all, written sealed under the month's key.
    std::string out;
    for (const RawBlock* b : list) {
      AppendBlock(out, month_key, static_cast<uint32_t>(b->lines) | (b->second_form ? kSecondForm : 0), b->first_ms,
                  b->last_ms, b->packed);
      f.lines += b->lines;
    }
    STEWARD_RETURN_IF_ERROR(WriteAll(fd, path, out, static_cast<off_t>(committed)));
    if (::fdatasync(fd) != 0) return MakeError(ErrorCode::kIo, path + ": cannot be synced: " + std::strerror(errno));
    f.length = committed + static_cast<int64_t>(out.size());
  }
  return pending;
}

Result<RawResult> RawArchive::Search(store::Store& store, const RawQuery& q) const {
  std::optional<AddressMatch> address;
  if (!q.ip.empty()) {
    STEWARD_ASSIGN_OR_RETURN(AddressMatch m, ReadAddress(q.ip));
    address = std::move(m);
  }
  if (!q.client.empty() && !client_label_)
    return MakeError(ErrorCode::kFailedPrecondition, "searches by client label are not set up");
  struct Month {
    int64_t month = 0, bytes = 0;
    std::string key;
  };
  std::vector<Month> months;
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT month, key, bytes FROM logs_raw_months ORDER BY month", {}, [&](const store::Row& r) {
      std::string text = r.Text(0);
      int y = 0, m = 0;
      if (std::sscanf(text.c_str(), "%d-%d", &y, &m) != 2) return true;
      Month mo{(y - 1970) * 12 + m - 1, r.Int(2), {}};
      if (MonthStartMs(mo.month + 1) <= q.from_ms || MonthStartMs(mo.month) >= q.to_ms) return true;
      if (const auto* b = std::get_if<store::Blob>(&r.at(1))) {
        if (auto k = crypto::Unseal(wrap_key_, b->bytes)) mo.key = std::move(*k);
      }
      months.push_back(std::move(mo));
      return true;
    });
  }));
  RawResult result;
  std::unordered_map<std::string, std::string> labels;  // address -> label, within this search
  for (const Month& mo : months) {
    if (result.stopped) break;
    if (mo.key.size() != 32)
      return MakeError(ErrorCode::kDataLoss, "the key of month " + MonthText(mo.month) + " cannot be opened");
    std::string path = Path(mo.month);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // purged meanwhile
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    STEWARD_RETURN_IF_ERROR(ReadBlocks(
        fd, path, mo.key, mo.bytes, [&](int64_t first, int64_t last) { return last < q.from_ms || first >= q.to_ms; },
        [&](const BlockInfo& info, std::string_view in) -> Status {
          while (!in.empty()) {
            int64_t t = 0;
            std::string_view host, rpath, line;
            if (!NextLine(in, info.second_form, t, host, rpath, line))
              return MakeError(ErrorCode::kDataLoss, path + ": a block's lines cannot be read");
            ++result.scanned;
            if (t < q.from_ms || t >= q.to_ms) continue;
            if (!q.path.empty() && rpath.substr(0, q.path.size()) != q.path) continue;
            if (address && !address->Matches(host)) continue;
            if (!q.client.empty()) {
              auto it = labels.find(std::string(host));
              if (it == labels.end()) it = labels.emplace(std::string(host), client_label_(host)).first;
              if (it->second != q.client) continue;
            }
            ++result.total;
            // Privacy: access-logs. A matched raw line, for the security role's screen only.
            result.matches.push_back({t, std::string(line)});
          }
          // Keep the earliest `limit`: blocks are in import order, not time order.
          if (result.matches.size() > q.limit * 2 + 1024) {
            std::sort(result.matches.begin(), result.matches.end(),
                      [](const RawMatch& a, const RawMatch& b) { return a.time_ms < b.time_ms; });
            result.matches.resize(q.limit);
          }
          return Ok();
        },
        [&] {
          if (q.max_scanned > 0 && result.scanned >= q.max_scanned) result.stopped = true;
          return result.stopped;
        }));
  }
  std::stable_sort(result.matches.begin(), result.matches.end(),
                   [](const RawMatch& a, const RawMatch& b) { return a.time_ms < b.time_ms; });
  if (result.matches.size() > q.limit) result.matches.resize(q.limit);
  return result;
}

Result<int> RawArchive::OpenLocked(int64_t month, bool create) const {
  std::string path = Path(month);
  for (int attempt = 0; attempt < 8; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0 && errno == EEXIST) continue;  // another process made it first: open theirs
      // A new segment's name must survive a power cut as its lines will: sync the directory.
      if (fd >= 0) {
        if (Status s = SyncDirectory(dir_); !s.ok()) {
          ::close(fd);
          return s.error();
        }
      }
    }
    if (fd < 0 && errno == ENOENT && !create) return -1;
    if (fd < 0) return MakeError(ErrorCode::kIo, path + ": cannot be opened: " + std::strerror(errno));
    if (!Lock(fd)) {
      ::close(fd);
      return MakeError(ErrorCode::kIo, path + ": cannot be locked: " + std::strerror(errno));
    }
    // An erasure may have replaced the file while we waited: the lock is then on the old one.
    struct stat held {
    }, now{};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      return fd;
    }
    ::close(fd);
  }
  return MakeError(ErrorCode::kIo, path + ": keeps being replaced");
}

Result<int64_t> RawArchive::Erase(store::Store& store, std::string_view ip, const EraseRecord& record) {
  STEWARD_ASSIGN_OR_RETURN(AddressMatch address, ReadAddress(ip));
  STEWARD_RETURN_IF_ERROR(Recover(store));
  std::vector<int64_t> months;
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT month FROM logs_raw_months ORDER BY month", {}, [&](const store::Row& r) {
      if (auto m = MonthFromText(r.Text(0))) months.push_back(*m);
      return true;
    });
  }));
  int64_t erased = 0;
  for (int64_t month : months) {
    STEWARD_ASSIGN_OR_RETURN(int fd, OpenLocked(month, false));
    if (fd < 0) continue;
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    std::string path = Path(month), month_key;
    int64_t bytes = 0;
    STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto rows,
                               c.Query("SELECT key, bytes FROM logs_raw_months WHERE month = ?", {MonthText(month)}));
      if (rows.empty()) return Ok();
      bytes = rows.front().Int(1);
      if (const auto* b = std::get_if<store::Blob>(&rows.front().at(0))) {
        if (auto k = crypto::Unseal(wrap_key_, b->bytes)) month_key = std::move(*k);
      }
      return Ok();
    }));
    if (bytes == 0) continue;  // purged meanwhile
    if (month_key.size() != 32)
      return MakeError(ErrorCode::kDataLoss, "the key of month " + MonthText(month) + " cannot be opened");
    // Privacy: access-logs. Every line of the month is read and, unless it is from the address
    // being erased, sealed again under a new key.
    std::string new_key = crypto::RandomBytes(32), out;
    int64_t removed = 0, kept = 0;
    STEWARD_RETURN_IF_ERROR(ReadBlocks(
        fd, path, month_key, bytes, [](int64_t, int64_t) { return false; },
        [&](const BlockInfo& info, std::string_view in) -> Status {
          std::string records;  // kept in the block's own form
          const uint32_t form = info.second_form ? kSecondForm : 0;
          int64_t first = INT64_MAX, last = INT64_MIN, lines = 0;
          std::string_view all = in;
          while (!in.empty()) {
            std::string_view start = in, host, rpath, line;
            int64_t t = 0;
            if (!NextLine(in, info.second_form, t, host, rpath, line))
              return MakeError(ErrorCode::kDataLoss, path + ": a block's lines cannot be read");
            if (address.Matches(host)) {
              ++removed;
              continue;
            }
            records.append(start.substr(0, start.size() - in.size()));
            first = std::min(first, t), last = std::max(last, t), ++lines;
          }
          kept += lines;
          if (lines == 0) return Ok();
          if (lines == info.lines) {
            AppendBlock(out, new_key, info.lines | form, info.first_ms, info.last_ms, Compress(std::string(all)));
          } else {
            AppendBlock(out, new_key, static_cast<uint32_t>(lines) | form, first, last, Compress(records));
          }
          return Ok();
        },
        [] { return false; }));
    if (removed == 0) continue;
    std::string next = path + ".new";
    if (kept > 0) {
      int nfd = ::open(next.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (nfd < 0) return MakeError(ErrorCode::kIo, next + ": cannot be opened: " + std::strerror(errno));
      std::unique_ptr<int, void (*)(int*)> next_closer(&nfd, [](int* f) { ::close(*f); });
      STEWARD_RETURN_IF_ERROR(WriteAll(nfd, next, out, 0));
      if (::fdatasync(nfd) != 0) return MakeError(ErrorCode::kIo, next + ": cannot be synced: " + std::strerror(errno));
    }
    // The new key replaces the old in the same commit as the audit entry: from then on the old
    // file, and any copy of it, cannot be opened.
    STEWARD_RETURN_IF_ERROR(store.Write([&](store::Connection& c) -> Status {
      if (kept == 0) {
        STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM logs_raw_months WHERE month = ?", {MonthText(month)}));
      } else {
        STEWARD_RETURN_IF_ERROR(c.Exec(
            "UPDATE logs_raw_months SET key = ?, bytes = ?, lines = ? WHERE month = ?",
            {store::Blob{crypto::Seal(wrap_key_, new_key)}, static_cast<int64_t>(out.size()), kept, MonthText(month)}));
      }
      return record(c, removed);
    }));
    std::error_code ec;
    if (kept == 0) {
      std::filesystem::remove(path, ec);
    } else if (::rename(next.c_str(), path.c_str()) != 0) {
      return MakeError(ErrorCode::kIo, path + ": cannot be replaced: " + std::strerror(errno));
    }
    int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    erased += removed;
  }
  return erased;
}

Status RawArchive::Recover(store::Store& store) {
  std::error_code ec;
  std::vector<std::string> leftovers;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() == 15 && name.compare(7, 8, ".seg.new") == 0) leftovers.push_back(name.substr(0, 7));
  }
  for (const auto& text : leftovers) {
    auto month = MonthFromText(text);
    if (!month) continue;
    STEWARD_ASSIGN_OR_RETURN(int fd, OpenLocked(*month, true));
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    std::string next = Path(*month) + ".new", month_key;
    int64_t bytes = 0;
    STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT key, bytes FROM logs_raw_months WHERE month = ?", {text}));
      if (rows.empty()) return Ok();
      bytes = rows.front().Int(1);
      if (const auto* b = std::get_if<store::Blob>(&rows.front().at(0))) {
        if (auto k = crypto::Unseal(wrap_key_, b->bytes)) month_key = std::move(*k);
      }
      return Ok();
    }));
    // The rewritten file is the committed one iff its blocks open with the committed key.
    bool committed = false;
    int nfd = ::open(next.c_str(), O_RDONLY | O_CLOEXEC);
    if (nfd >= 0 && month_key.size() == 32) {
      struct stat st {};
      committed = ::fstat(nfd, &st) == 0 && st.st_size == bytes &&
                  ReadBlocks(
                      nfd, next, month_key, bytes, [](int64_t, int64_t) { return false; },
                      [](const BlockInfo&, std::string_view) { return Ok(); }, [] { return false; })
                      .ok();
    }
    if (nfd >= 0) ::close(nfd);
    if (committed) {
      if (::rename(next.c_str(), Path(*month).c_str()) != 0) {
        return MakeError(ErrorCode::kIo, next + ": cannot be renamed: " + std::strerror(errno));
      }
      STEWARD_RETURN_IF_ERROR(SyncDirectory(dir_));
    } else {
      std::filesystem::remove(next, ec);
    }
  }
  return Ok();
}

audit::Entry RawArchive::SearchRecord(const RawQuery& q, std::string actor, std::string request_id) const {
  std::string client = q.client;
  if (client.empty() && !q.ip.empty()) {
    size_t slash = q.ip.find('/');
    client = slash != std::string::npos ? "range/" + q.ip.substr(slash + 1)
             : client_label_            ? client_label_(q.ip)
                                        : "address";
  }
  auto when = [](int64_t ms, bool bounded) {
    return bounded ? FormatRfc3339(SystemTime(std::chrono::milliseconds(ms))) : "";
  };
  return {.actor = std::move(actor),
          .action = "logs.raw_searched",
          .request_id = std::move(request_id),
          .details = {{"client", client},
                      {"path", q.path.empty() ? "" : "given"},
                      {"from", when(q.from_ms, q.from_ms > 0)},
                      {"to", when(q.to_ms, q.to_ms != INT64_MAX)}}};
}

Result<std::vector<RawMonth>> RawArchive::Months(store::Store& store) {
  std::vector<RawMonth> out;
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT month, lines, bytes FROM logs_raw_months ORDER BY month", {}, [&](const store::Row& r) {
      out.push_back({r.Text(0), r.Int(1), r.Int(2)});
      return true;
    });
  }));
  return out;
}

Result<int64_t> RawArchive::Purge(store::Connection& c, const std::string& dir, int64_t cutoff_ms, bool dry_run) {
  int64_t lines = 0;
  std::vector<std::string> gone;
  STEWARD_RETURN_IF_ERROR(
      c.ForEach("SELECT month, lines FROM logs_raw_months ORDER BY month", {}, [&](const store::Row& r) {
        int y = 0, m = 0;
        std::string text = r.Text(0);
        if (std::sscanf(text.c_str(), "%d-%d", &y, &m) != 2) return true;
        if (MonthStartMs((y - 1970) * 12 + m) <= cutoff_ms) {  // the month after it starts by the cut-off
          lines += r.Int(1);
          gone.push_back(text);
        }
        return true;
      }));
  if (dry_run) return lines;
  for (const auto& month : gone) {
    // The key first: with it gone, the file (and any copy of it) cannot be read.
    STEWARD_ASSIGN_OR_RETURN(auto n, c.Exec("DELETE FROM logs_raw_months WHERE month = ?", {month}));
    (void)n;
    std::error_code ec;
    std::filesystem::remove(dir + "/" + month + ".seg", ec);
  }
  // Files no commit ever recorded (an import that stopped first), once their month is past too.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    int y = 0, m = 0;
    if (name.size() != 11 || name.compare(7, 4, ".seg") != 0 || std::sscanf(name.c_str(), "%d-%d", &y, &m) != 2)
      continue;
    if (MonthStartMs((y - 1970) * 12 + m) > cutoff_ms) continue;
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1 FROM logs_raw_months WHERE month = ?", {name.substr(0, 7)}));
    if (rows.empty()) std::filesystem::remove(entry.path(), ec);
  }
  return lines;
}

std::vector<store::Migration> RawArchive::Migrations() {
  return {{"logs", 3, R"sql(
    -- Privacy: access-logs. Each month of raw lines kept in a segment file: its key (sealed with a
    -- key derived from the site's secret key) and how much of the file is committed.
    CREATE TABLE logs_raw_months (
      month TEXT PRIMARY KEY,
      key BLOB NOT NULL,
      bytes INTEGER NOT NULL,
      lines INTEGER NOT NULL
    );
  )sql"}};
}

}  // namespace steward::logs
