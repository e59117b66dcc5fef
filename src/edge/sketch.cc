#include "edge/sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace steward::edge {
namespace {

// Visitor ids are already keyed hashes; this spreads any that are not (tests, small ids).
uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr char kExactTag = 'E';
constexpr char kRegistersTag = 'H';  // every register a byte: read, no longer written
constexpr char kSparseTag = 'S';     // the registers that are not zero: index (2 bytes), value
constexpr char kPackedTag = 'P';     // every register in 4 bits, 15 and above listed after as in 'S'
constexpr uint8_t kPackedEscape = 15;

// The entries of three bytes (index, value) of a sparse or packed sketch, from `at`: fn(index,
// value) for each, once all are checked (none past the registers, below `min_value` or past the
// largest rank). False, calling nothing, when any is not.
template <typename Fn>
bool ForEachEntry(std::string_view bytes, size_t at, uint8_t min_value, Fn fn) {
  if ((bytes.size() - at) % 3 != 0) return false;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  for (size_t i = at; i < bytes.size(); i += 3) {
    size_t index = byte(i) | (static_cast<size_t>(byte(i + 1)) << 8);
    if (index >= VisitorSketch::kRegisters || byte(i + 2) < min_value || byte(i + 2) > VisitorSketch::kMaxRank) {
      return false;
    }
  }
  for (size_t i = at; i < bytes.size(); i += 3) fn(byte(i) | (static_cast<size_t>(byte(i + 1)) << 8), byte(i + 2));
  return true;
}

}  // namespace

void VisitorSketch::Add(int64_t visitor) { AddHash(Mix(static_cast<uint64_t>(visitor))); }

void VisitorSketch::AddHash(uint64_t h) {
  if (registers_.empty()) {
    auto it = std::lower_bound(exact_.begin(), exact_.end(), h);
    if (it != exact_.end() && *it == h) return;
    exact_.insert(it, h);
    if (exact_.size() > kExactLimit) ToRegisters();
    return;
  }
  size_t index = h >> (64 - kPrecision);
  uint64_t rest = (h << kPrecision) | (uint64_t{1} << (kPrecision - 1));  // a sentinel bounds the count
  uint8_t rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
  registers_[index] = std::max(registers_[index], rank);
}

void VisitorSketch::ToRegisters() {
  registers_.assign(kRegisters, 0);
  std::vector<uint64_t> hashes;
  hashes.swap(exact_);
  for (uint64_t h : hashes) AddHash(h);
}

void VisitorSketch::Merge(const VisitorSketch& other) {
  if (other.registers_.empty()) {
    if (registers_.empty()) {
      std::vector<uint64_t> merged;
      merged.reserve(exact_.size() + other.exact_.size());
      std::set_union(exact_.begin(), exact_.end(), other.exact_.begin(), other.exact_.end(),
                     std::back_inserter(merged));
      exact_.swap(merged);
      if (exact_.size() > kExactLimit) ToRegisters();
    } else {
      for (uint64_t h : other.exact_) AddHash(h);
    }
    return;
  }
  if (registers_.empty()) ToRegisters();
  for (size_t i = 0; i < kRegisters; ++i) registers_[i] = std::max(registers_[i], other.registers_[i]);
}

int64_t VisitorSketch::Estimate() const {
  if (registers_.empty()) return static_cast<int64_t>(exact_.size());
  // HyperLogLog (Flajolet et al.), with linear counting while registers are still empty.
  double m = static_cast<double>(kRegisters);
  double sum = 0;
  size_t zeros = 0;
  for (uint8_t r : registers_) {
    sum += std::ldexp(1.0, -r);
    zeros += r == 0;
  }
  double alpha = 0.7213 / (1.0 + 1.079 / m);
  double estimate = alpha * m * m / sum;
  if (estimate <= 2.5 * m && zeros > 0) estimate = m * std::log(m / static_cast<double>(zeros));
  return static_cast<int64_t>(std::llround(estimate));
}

std::string VisitorSketch::Serialize() const {
  if (!registers_.empty()) {
    // The smaller of two forms: rows of a few kilobytes spill out of the store's pages.
    size_t nonzero = 0, high = 0;
    for (uint8_t r : registers_) nonzero += r != 0, high += r >= kPackedEscape;
    auto entry = [](std::string& out, size_t index, uint8_t value) {
      out.push_back(static_cast<char>(index & 0xff));
      out.push_back(static_cast<char>(index >> 8));
      out.push_back(static_cast<char>(value));
    };
    std::string out;
    if (3 * nonzero <= kRegisters / 2 + 3 * high) {
      out.reserve(1 + 3 * nonzero);
      out.push_back(kSparseTag);
      for (size_t i = 0; i < kRegisters; ++i) {
        if (registers_[i] != 0) entry(out, i, registers_[i]);
      }
      return out;
    }
    out.resize(1 + kRegisters / 2);
    out[0] = kPackedTag;
    const uint8_t* r = registers_.data();
    for (size_t i = 0; i < kRegisters / 2; ++i) {
      out[1 + i] = static_cast<char>(std::min(r[2 * i], kPackedEscape) | (std::min(r[2 * i + 1], kPackedEscape) << 4));
    }
    for (size_t i = 0; high > 0 && i < kRegisters; ++i) {
      if (registers_[i] >= kPackedEscape) entry(out, i, registers_[i]), --high;
    }
    return out;
  }
  std::string out(1 + 8 * exact_.size(), kExactTag);
  for (size_t i = 0; i < exact_.size(); ++i) {
    for (int b = 0; b < 8; ++b) out[1 + 8 * i + b] = static_cast<char>((exact_[i] >> (8 * b)) & 0xff);
  }
  return out;
}

std::optional<VisitorSketch> VisitorSketch::Parse(std::string_view bytes) {
  VisitorSketch s;
  if (bytes.empty()) return s;
  if (bytes[0] == kRegistersTag && bytes.size() == 1 + kRegisters) {
    s.registers_.assign(bytes.begin() + 1, bytes.end());
    if (std::any_of(s.registers_.begin(), s.registers_.end(), [](uint8_t r) { return r > kMaxRank; }))
      return std::nullopt;
    return s;
  }
  auto entries = [&](size_t at, uint8_t min_value) {
    return ForEachEntry(bytes, at, min_value, [&](size_t index, uint8_t value) { s.registers_[index] = value; });
  };
  if (bytes[0] == kSparseTag) {
    s.registers_.assign(kRegisters, 0);
    if (!entries(1, 1)) return std::nullopt;
    return s;
  }
  if (bytes[0] == kPackedTag && bytes.size() >= 1 + kRegisters / 2) {
    s.registers_.assign(kRegisters, 0);
    for (size_t i = 0; i < kRegisters; ++i)
      s.registers_[i] = static_cast<uint8_t>(static_cast<uint8_t>(bytes[1 + i / 2]) >> (4 * (i % 2))) & 0xf;
    if (!entries(1 + kRegisters / 2, kPackedEscape)) return std::nullopt;
    return s;
  }
  if (bytes[0] != kExactTag || (bytes.size() - 1) % 8 != 0 || (bytes.size() - 1) / 8 > kExactLimit) return std::nullopt;
  s.exact_.resize((bytes.size() - 1) / 8);
  for (size_t i = 0; i < s.exact_.size(); ++i) {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b) v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[1 + 8 * i + b])) << (8 * b);
    s.exact_[i] = v;
  }
  if (!std::is_sorted(s.exact_.begin(), s.exact_.end())) return std::nullopt;
  return s;
}

bool VisitorSketch::MergeSerialized(std::string_view bytes) {
  if (bytes.empty()) return true;
  // The registers listed from `at`, merged (ForEachEntry checks them all first, so a bad sketch
  // merges nothing); this sketch has registers afterwards, as after Merge of a parsed one.
  auto merge_entries = [&](size_t at, uint8_t min_value) {
    bool ok = ForEachEntry(bytes, at, min_value, [&](size_t index, uint8_t value) {
      if (registers_.empty()) ToRegisters();
      registers_[index] = std::max(registers_[index], value);
    });
    if (ok && registers_.empty()) ToRegisters();
    return ok;
  };
  if (bytes[0] == kSparseTag) return merge_entries(1, 1);
  if (bytes[0] == kPackedTag && bytes.size() >= 1 + kRegisters / 2) {
    // The few registers of 15 and above are checked before the packed ones are merged.
    if (!ForEachEntry(bytes, 1 + kRegisters / 2, kPackedEscape, [](size_t, uint8_t) {})) return false;
    if (registers_.empty()) ToRegisters();
    uint8_t* r = registers_.data();
    for (size_t i = 0; i < kRegisters / 2; ++i) {
      auto b = static_cast<uint8_t>(bytes[1 + i]);
      r[2 * i] = std::max(r[2 * i], static_cast<uint8_t>(b & 0xf));
      r[2 * i + 1] = std::max(r[2 * i + 1], static_cast<uint8_t>(b >> 4));
    }
    return merge_entries(1 + kRegisters / 2, kPackedEscape);
  }
  // The exact form and the old one: small, or no longer written.
  auto other = Parse(bytes);
  if (!other) return false;
  Merge(*other);
  return true;
}

}  // namespace steward::edge
