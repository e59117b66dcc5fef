#include "process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace steward::testing {

std::string StewardBinary() { return std::string(STEWARD_BINARY_DIR) + "/src/app/steward"; }
std::string SourcePath(const std::string& relative) { return std::string(STEWARD_SOURCE_DIR) + "/" + relative; }

std::string MakeTempDir(const std::string& prefix) {
  auto dir = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(std::random_device()()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

pid_t Spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err,
            const std::string& in = "/dev/null") {
  pid_t pid = fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(e, 2);
    int input = ::open(in.c_str(), O_RDONLY);
    dup2(input, 0);
    std::vector<char*> argv;
    std::string bin = StewardBinary();
    argv.push_back(bin.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid, std::chrono::seconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

}  // namespace

RunResult RunSteward(const std::vector<std::string>& args, const std::string& input) {
  std::string dir = MakeTempDir("steward-run");
  std::ofstream(dir + "/in") << input;
  pid_t pid = Spawn(args, dir + "/out", dir + "/err", dir + "/in");
  RunResult r;
  r.exit_code = WaitExit(pid, std::chrono::seconds(60));
  r.out = ReadFile(dir + "/out");
  r.err = ReadFile(dir + "/err");
  std::filesystem::remove_all(dir);
  return r;
}

StewardProcess::StewardProcess(const std::string& dir, std::vector<std::string> args) {
  // Each process its own files, so a second start never reads the first one's URL.
  static std::atomic<int> count{0};
  int n = count++;
  out_path_ = dir + "/serve-" + std::to_string(n) + ".out";
  err_path_ = dir + "/serve-" + std::to_string(n) + ".err";
  args.insert(args.begin(), "serve");
  args.push_back("--listen");
  args.push_back("127.0.0.1:0");
  pid_ = Spawn(args, out_path_, err_path_);
  static const std::regex kUrl(R"(http://127\.0\.0\.1:(\d+)/)");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string out = ReadFile(out_path_);
    if (std::regex_search(out, m, kUrl)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

StewardProcess::~StewardProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

int StewardProcess::Stop(int signal, std::chrono::seconds within) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int code = WaitExit(pid_, within);
  if (code != -1) pid_ = -1;
  return code;
}

std::string StewardProcess::Stdout() const { return ReadFile(out_path_); }
std::string StewardProcess::Stderr() const { return ReadFile(err_path_); }

}  // namespace steward::testing
