// StewardProcess: runs the real steward binary for integration tests, with its standard output and
// error captured in files.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace steward::testing {

std::string StewardBinary();
std::string SourcePath(const std::string& relative);
// A fresh directory under /tmp, removed by the caller.
std::string MakeTempDir(const std::string& prefix);
std::string ReadFile(const std::string& path);

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs steward with `args` to completion, with `input` as its standard input.
RunResult RunSteward(const std::vector<std::string>& args, const std::string& input = "");

class StewardProcess {
 public:
  // Starts `steward serve` with these args plus --listen 127.0.0.1:0, and waits for its URL.
  StewardProcess(const std::string& dir, std::vector<std::string> args);
  ~StewardProcess();
  bool started() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  // Sends `signal` and waits for exit; returns the exit code (-1 on timeout, 128+n if killed).
  int Stop(int signal, std::chrono::seconds within = std::chrono::seconds(15));
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string out_path_, err_path_;
};

}  // namespace steward::testing
