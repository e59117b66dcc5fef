// The figures a bench program measured, recorded beside its script's (bench/record.sh): one line
// to the file STEWARD_BENCH_RECORD names, under the bench STEWARD_BENCH_NAME names. Nothing when
// the program runs outside a bench script.
//
//   bench::Record("top page ms", 17.0, "ms", bench::kLower, "< 50");
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace steward::bench {

enum Better { kHigher, kLower };

inline void Record(const std::string& name, double value, const std::string& unit, Better better,
                   const std::string& aim = "") {
  const char* path = std::getenv("STEWARD_BENCH_RECORD");
  const char* bench = std::getenv("STEWARD_BENCH_NAME");
  if (path == nullptr || bench == nullptr) return;
  if (FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%s\t%s\t%.6g\t%s\t%s\t%s\n", bench, name.c_str(), value, unit.c_str(),
                 better == kHigher ? "higher" : "lower", aim.c_str());
    std::fclose(f);
  }
}

}  // namespace steward::bench
