// A distinct-count sketch for visitors in rollups: exact up to 256 visitors (a sorted list of their
// 64-bit hashes), then a HyperLogLog with 4,096 registers (about 1.6% standard error), as
// ClickHouse's uniq, which Plausible counts with, is approximate too. Sketches merge, so an hour's,
// a day's and a month's visitors come from the sketches of their parts.
//
//   VisitorSketch s;
//   s.Add(visitor_hash);
//   s.Merge(other);
//   int64_t n = s.Estimate();
//   std::string bytes = s.Serialize();   // for a BLOB; VisitorSketch::Parse reads it back
//
// Serialized, an exact sketch is its hashes (8 bytes each); past that, the registers that are not
// zero with their index (3 bytes each) while few, then every register in 4 bits (2 KB). The
// registers a byte each (4 KB, the first form) are still read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace steward::edge {

class VisitorSketch {
 public:
  static constexpr size_t kExactLimit = 256;
  static constexpr int kPrecision = 12;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;
  // A register's largest value: the leading zeros of the hash's other 52 bits, and one.
  static constexpr uint8_t kMaxRank = 64 - kPrecision + 1;

  void Add(int64_t visitor);
  void Merge(const VisitorSketch& other);
  int64_t Estimate() const;
  bool exact() const { return registers_.empty(); }

  std::string Serialize() const;
  // nullopt for bytes that are not a sketch.
  static std::optional<VisitorSketch> Parse(std::string_view bytes);
  // Merge(*Parse(bytes)) without building the other sketch: registers kept sparse or packed are
  // merged from where they lie. False, merging nothing, for bytes Parse refuses.
  bool MergeSerialized(std::string_view bytes);

 private:
  void AddHash(uint64_t h);
  void ToRegisters();

  std::vector<uint64_t> exact_;     // sorted, distinct hashes while exact
  std::vector<uint8_t> registers_;  // kRegisters once past kExactLimit
};

}  // namespace steward::edge
