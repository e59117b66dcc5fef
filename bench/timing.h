// What the benches' programs share: a run timed round by round, its median and 95th percentile.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace steward::bench {

inline double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct Timing {
  double median_ms, p95_ms;
};

// Runs `run(round)` `rounds` times (at least once), each timed; a round that returns false sets *ok.
inline Timing Time(int rounds, const std::function<bool(int)>& run, bool* ok) {
  std::vector<double> ms;
  for (int r = 0; r < std::max(rounds, 1); ++r) {
    auto start = std::chrono::steady_clock::now();
    if (!run(r)) *ok = false;
    ms.push_back(Seconds(start) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 95 / 100)]};
}

}  // namespace steward::bench
