// The visits in progress: for each visitor seen lately, their visit and when they were last seen.
//
// A fixed-width open-addressing table (24 bytes a visitor) that starts small and doubles up to
// `max_slots`, and no further: memory under any load is at most max_slots * 24 bytes, reached only
// when that many visitors are in a visit at once. A slot whose visitor has been idle longer than a
// visit lasts is free again, so nothing needs sweeping. Past the cap, a new visitor takes the slot
// of the longest idle visitor near it, whose visit then ends early: a flood of new visitors
// shortens visits rather than growing memory.
//
// Thread safety: none; Analytics holds it under its mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace steward::analytics {

class VisitTable {
 public:
  struct Slot {
    int64_t visitor = 0;  // 0: empty (visitor hashes are never 0)
    int64_t visit = 0;
    int64_t last_ms = 0;
  };

  // `idle_ms`: how long without an event ends a visit.
  explicit VisitTable(int64_t idle_ms, size_t max_slots = size_t{1} << 20, size_t first_slots = size_t{1} << 12);

  // The slot of `visitor` if they are in a visit at `now_ms`; null otherwise.
  Slot* Find(int64_t visitor, int64_t now_ms);
  // A slot for `visitor` (their own, or a free one, or the longest idle near it), holding `visitor`;
  // the caller sets the visit when it is new (visit == 0).
  Slot& Take(int64_t visitor, int64_t now_ms);

  size_t capacity() const { return slots_.size(); }
  // Visitors in a visit at `now_ms` (a walk over the table: for tests and metrics).
  size_t Live(int64_t now_ms) const;

 private:
  static constexpr size_t kProbe = 16;
  bool Free(const Slot& s, int64_t now_ms) const { return s.visitor == 0 || now_ms - s.last_ms > idle_ms_; }
  void Grow(int64_t now_ms);
  size_t Index(int64_t visitor) const {
    return static_cast<size_t>(static_cast<uint64_t>(visitor)) & (slots_.size() - 1);
  }

  int64_t idle_ms_;
  size_t max_slots_;
  std::vector<Slot> slots_;
};

}  // namespace steward::analytics
