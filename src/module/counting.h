// What a module can count for statistics that identify no one (the statistics module's tables,
// after disclosure control): each counter names the records it counts, the register's dataset they
// are read from, and the ways they can be broken down; its scan gives each record's day, its
// category and a key for the cell-key method, nothing else. A module declares its counters in its
// descriptor (Descriptor::counters); the platform gathers them (Platform::counters).
//
// Thread safety: a scan may run on any thread; each call reads in a snapshot of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace steward::module {

// One way to break a count down ("employment": "Employment status").
struct Dimension {
  std::string id, title;
  // The categories in the order tables show them, every one shown even when empty (a category no
  // one is in is a zero, not a gap); empty: the categories the records have, in text order.
  std::vector<std::string> categories;
};

// One record counted: its UTC day (days since 1970-01-01), its category under the dimension asked
// for ("" when none was), and a key of the record from 0 to 255, the same every time it is counted.
struct Counted {
  int64_t day = 0;
  std::string category;
  uint32_t key = 0;
};

struct Counter {
  std::string id;       // "accounts.registrations": what a table's `count` names
  std::string title;    // "New accounts"
  std::string dataset;  // the register's dataset the records are read from
  std::vector<Dimension> dimensions;
  // Calls `each` for every record of days [from, to), leaving out everyone restricted or whose
  // objection was upheld. `dimension` is one of `dimensions`' ids, or "" for totals only.
  std::function<Status(int64_t from, int64_t to, std::string_view dimension,
                       const std::function<void(const Counted&)>& each)>
      scan;
};

}  // namespace steward::module
