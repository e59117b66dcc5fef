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

namespace steward::logs {
namespace {

constexpr size_t kBlockBytes = 1 << 20;      // records a block holds before it is compressed
constexpr size_t kMaxBlockBytes = 64 << 20;  // refuse to unpack more than this from one block
constexpr size_t kHeader = 24;               // sealed length, lines, first and last ms
constexpr int kLevel = 1;  // as small as level 3 on access logs (about 7:1), and faster

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
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compressCCtx(ctx.get(), out.data(), out.size(), in.data(), in.size(), kLevel);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
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
    if (slash != std::string_view::npos) return MakeError(ErrorCode::kInvalidArgument, "give a range as an address/bits, such as 203.0.113.0/24");
    m.text = std::string(q);  // a host name, as a log may hold one
    return m;
  }
  m.prefix = static_cast<int>(m.network.size() * 8);
  if (slash != std::string_view::npos) {
    std::string_view bits = q.substr(slash + 1);
    int n = 0;
    if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
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

}  // namespace

Status CheckQuery(const RawQuery& q) {
  auto refuse = [](const char* why) { return MakeError(ErrorCode::kInvalidArgument, why); };
  if (q.ip.empty() && q.client.empty() && q.path.empty()) return refuse("give an address, a client or a path");
  if (!q.ip.empty()) STEWARD_RETURN_IF_ERROR(ReadAddress(q.ip));
  if (!q.client.empty() && !IsClientLabel(q.client)) return refuse("give the client as an alert shows it, such as c-3f2a91c0de41");
  if (!q.path.empty() && (q.path.front() != '/' || q.path.size() > 512)) return refuse("give a path that starts with /");
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
  std::snprintf(buf, sizeof buf, "%04lld-%02lld", static_cast<long long>(1970 + y), static_cast<long long>(m + 1));
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
  PutVarint(o.records, r.host.size());
  o.records.append(r.host);
  PutVarint(o.records, r.path.size());
  o.records.append(r.path);
  PutVarint(o.records, line.size());
  o.records.append(line);
  o.first_ms = std::min(o.first_ms, r.time_ms);
  o.last_ms = std::max(o.last_ms, r.time_ms);
  ++o.lines;
  if (o.records.size() >= kBlockBytes) Flush(MonthOf(r.time_ms), o);
}

void RawPacker::Flush(int64_t month, Open& o) {
  if (o.lines == 0) return;
  done_.push_back({month, o.first_ms, o.last_ms, o.lines, Compress(o.records)});
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
      STEWARD_ASSIGN_OR_RETURN(auto n, c.Exec("INSERT INTO logs_raw_months (month, key, bytes, lines) VALUES (?, ?, ?, ?)",
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

Result<std::unique_ptr<RawArchive::Pending>> RawArchive::Write(store::Store& store, const std::vector<RawBlock>& blocks) {
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
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return MakeError(ErrorCode::kIo, path + ": cannot be opened: " + std::strerror(errno));
    Pending::File& f = pending->files_.emplace_back();
    f.fd = fd;
    f.month = month;
    if (!Lock(fd)) return MakeError(ErrorCode::kIo, path + ": cannot be locked: " + std::strerror(errno));
    // Read after the lock, so another importer's commit is seen.
    std::string month_key;
    int64_t committed = 0;
    bool known = false;
    STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT key, bytes FROM logs_raw_months WHERE month = ?", {MonthText(month)}));
      if (rows.empty()) return Ok();
      known = true;
      committed = rows.front().Int(1);
      if (const auto* b = std::get_if<store::Blob>(&rows.front().at(0))) {
        if (auto k = crypto::Unseal(wrap_key_, b->bytes)) month_key = std::move(*k);
      }
      return Ok();
    }));
    if (known && month_key.size() != 32) return MakeError(ErrorCode::kDataLoss, "the key of month " + MonthText(month) + " cannot be opened");
    if (!known) {
      month_key = crypto::RandomBytes(32);
      f.sealed_key = crypto::Seal(wrap_key_, month_key);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) return MakeError(ErrorCode::kIo, path + ": " + std::strerror(errno));
    // Beyond the committed length: an import that never committed. Shorter: the file was lost,
    // and what follows starts it again.
    if (st.st_size < committed) committed = 0;
    if (::ftruncate(fd, committed) != 0) return MakeError(ErrorCode::kIo, path + ": cannot be cut back: " + std::strerror(errno));
    // Privacy: access-logs. The raw lines, addresses and all, written sealed under the month's key.
    std::string out;
    for (const RawBlock* b : list) {
      std::string plain(kHeader - 4, '\0');
      PutU32(plain.data(), static_cast<uint32_t>(b->lines));
      PutI64(plain.data() + 4, b->first_ms);
      PutI64(plain.data() + 12, b->last_ms);
      std::string header = plain;  // in the clear, to skip blocks outside a search; checked against the sealed copy
      plain += b->packed;
      std::string sealed = crypto::Seal(month_key, plain);
      char len[4];
      PutU32(len, static_cast<uint32_t>(sealed.size()));
      out.append(len, 4);
      out += header;
      out += sealed;
      f.lines += b->lines;
    }
    const char* p = out.data();
    size_t left = out.size();
    off_t at = static_cast<off_t>(committed);
    while (left > 0) {
      ssize_t n = ::pwrite(fd, p, left, at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return MakeError(ErrorCode::kIo, path + ": cannot be written: " + std::strerror(errno));
      p += n, left -= static_cast<size_t>(n), at += n;
    }
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
  if (!q.client.empty() && !client_label_) return MakeError(ErrorCode::kFailedPrecondition, "searches by client label are not set up");
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
    if (mo.key.size() != 32) return MakeError(ErrorCode::kDataLoss, "the key of month " + MonthText(mo.month) + " cannot be opened");
    std::string path = Path(mo.month);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // purged meanwhile
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    int64_t at = 0;
    while (at + static_cast<int64_t>(kHeader) <= mo.bytes) {
      if (q.max_scanned > 0 && result.scanned >= q.max_scanned) {
        result.stopped = true;
        break;
      }
      char header[kHeader];
      if (::pread(fd, header, kHeader, at) != static_cast<ssize_t>(kHeader)) break;
      uint32_t len = GetU32(header);
      int64_t first = GetI64(header + 8), last = GetI64(header + 16);
      int64_t next = at + static_cast<int64_t>(kHeader) + len;
      if (next > mo.bytes) return MakeError(ErrorCode::kDataLoss, path + ": a block runs past the recorded end");
      if (last < q.from_ms || first >= q.to_ms) {
        at = next;
        continue;
      }
      std::string sealed(len, '\0');
      if (::pread(fd, sealed.data(), len, at + static_cast<int64_t>(kHeader)) != static_cast<ssize_t>(len)) {
        return MakeError(ErrorCode::kDataLoss, path + ": a block cannot be read");
      }
      auto plain = crypto::Unseal(mo.key, sealed);
      if (!plain || plain->size() < kHeader - 4 || std::memcmp(plain->data(), header + 4, kHeader - 4) != 0) {
        return MakeError(ErrorCode::kDataLoss, path + ": a block fails its seal");
      }
      auto records = Decompress(std::string_view(*plain).substr(kHeader - 4));
      if (!records) return MakeError(ErrorCode::kDataLoss, path + ": a block cannot be unpacked");
      std::string_view in(*records);
      while (!in.empty()) {
        uint64_t time = 0;
        std::string_view host, rpath, line;
        if (!GetVarint(in, time) || !GetBytes(in, host) || !GetBytes(in, rpath) || !GetBytes(in, line)) {
          return MakeError(ErrorCode::kDataLoss, path + ": a block's lines cannot be read");
        }
        ++result.scanned;
        auto t = static_cast<int64_t>(time);
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
        std::sort(result.matches.begin(), result.matches.end(), [](const RawMatch& a, const RawMatch& b) { return a.time_ms < b.time_ms; });
        result.matches.resize(q.limit);
      }
      at = next;
    }
  }
  std::stable_sort(result.matches.begin(), result.matches.end(), [](const RawMatch& a, const RawMatch& b) { return a.time_ms < b.time_ms; });
  if (result.matches.size() > q.limit) result.matches.resize(q.limit);
  return result;
}

audit::Entry RawArchive::SearchRecord(const RawQuery& q, std::string actor, std::string request_id) const {
  std::string client = q.client;
  if (client.empty() && !q.ip.empty()) {
    size_t slash = q.ip.find('/');
    client = slash != std::string::npos ? "range/" + q.ip.substr(slash + 1) : client_label_ ? client_label_(q.ip) : "address";
  }
  auto when = [](int64_t ms, bool bounded) { return bounded ? FormatRfc3339(SystemTime(std::chrono::milliseconds(ms))) : ""; };
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
  STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT month, lines FROM logs_raw_months ORDER BY month", {}, [&](const store::Row& r) {
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
    if (name.size() != 11 || name.compare(7, 4, ".seg") != 0 || std::sscanf(name.c_str(), "%d-%d", &y, &m) != 2) continue;
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
