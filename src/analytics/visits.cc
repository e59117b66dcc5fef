#include "analytics/visits.h"

#include <algorithm>

namespace steward::analytics {

VisitTable::VisitTable(int64_t idle_ms, size_t max_slots, size_t first_slots)
    : idle_ms_(idle_ms), max_slots_(std::max(max_slots, kProbe)), slots_(std::min(first_slots, max_slots_)) {}

VisitTable::Slot* VisitTable::Find(int64_t visitor, int64_t now_ms) {
  size_t mask = slots_.size() - 1;
  for (size_t i = 0, at = Index(visitor); i < kProbe; ++i, at = (at + 1) & mask) {
    Slot& s = slots_[at];
    if (s.visitor == visitor) return Free(s, now_ms) ? nullptr : &s;
  }
  return nullptr;
}

VisitTable::Slot& VisitTable::Take(int64_t visitor, int64_t now_ms) {
  while (true) {
    size_t mask = slots_.size() - 1;
    Slot* free = nullptr;
    Slot* oldest = nullptr;
    for (size_t i = 0, at = Index(visitor); i < kProbe; ++i, at = (at + 1) & mask) {
      Slot& s = slots_[at];
      if (s.visitor == visitor) {
        if (Free(s, now_ms)) s.visit = 0;  // their last visit is over: a new one begins
        return s;
      }
      if (free == nullptr && Free(s, now_ms)) free = &s;
      if (oldest == nullptr || s.last_ms < oldest->last_ms) oldest = &s;
    }
    Slot* slot = free;
    if (slot == nullptr && slots_.size() < max_slots_) {
      Grow(now_ms);
      continue;
    }
    if (slot == nullptr) slot = oldest;  // full: the longest idle near it gives way
    *slot = Slot{visitor, 0, now_ms};
    return *slot;
  }
}

void VisitTable::Grow(int64_t now_ms) {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (Free(s, now_ms)) continue;
    for (size_t i = 0, at = Index(s.visitor); i < kProbe; ++i, at = (at + 1) & mask) {
      if (slots_[at].visitor == 0) {
        slots_[at] = s;
        break;
      }
    }
  }
}

size_t VisitTable::Live(int64_t now_ms) const {
  return static_cast<size_t>(
      std::count_if(slots_.begin(), slots_.end(), [&](const Slot& s) { return !Free(s, now_ms); }));
}

}  // namespace steward::analytics
