// A real SMTP server for tests: tests/mail/smtp_server.py (Debian's python3-aiosmtpd) in a process
// of its own on a free port of 127.0.0.1, writing each message it accepts to a directory with the
// email package's reading of it (headers decoded, parts, whether STARTTLS was used).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

extern char** environ;

namespace steward::mail::testing {

// tests/mail/smtp_server.py in a process of its own, writing what it accepts to a directory.
class SmtpServer {
 public:
  explicit SmtpServer(std::vector<std::string> extra = {}) {
    dir_ = std::filesystem::temp_directory_path() /
           ("steward-smtp-" + std::to_string(::getpid()) + "-" + std::to_string(++count_));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<std::string> args = {"/usr/bin/python3", std::string(STEWARD_SOURCE_DIR) + "/tests/mail/smtp_server.py",
                                     "--dir", dir_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    argv.reserve(args.size());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    if (line.rfind("ready ", 0) == 0) port_ = std::stoi(line.substr(6));
    EXPECT_NE(port_, 0) << "the SMTP server did not start";
  }
  ~SmtpServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  // What the server accepted, in order: the email package's reading of each message.
  std::vector<nlohmann::json> Received() const {
    std::vector<nlohmann::json> out;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    out.reserve(files.size());
    for (const auto& f : files) out.push_back(nlohmann::json::parse(std::ifstream(f)));
    return out;
  }

 private:
  static inline int count_ = 0;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Writes to `path` the ONS example's site file with [mail] sending to 127.0.0.1:`port` (no
// STARTTLS, as on loopback) and the register's two mail datasets, its web folder made absolute so
// that the file works from anywhere. Returns `path`.
inline std::string WriteSiteWithMail(const std::string& path, int port) {
  std::ifstream in(std::string(STEWARD_SOURCE_DIR) + "/examples/ons.toml");
  std::string site((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string web = "web_dir = \"../web\"";
  site.replace(site.find(web), web.size(), "web_dir = \"" + std::string(STEWARD_SOURCE_DIR) + "/web\"");
  std::ofstream(path) << site << "\n[mail]\nrelay = \"smtp://127.0.0.1:" << port
                      << "\"\nfrom = \"Office for National Statistics <noreply@ons.gov.uk>\"\nstarttls = \"none\"\n"
                      << R"(
[[register.datasets]]
id = "outgoing-mail"
module = "mail"
description = "Email we send you, while it waits to be sent"
categories = ["user.contact.email", "user.content"]
subjects = ["people we email"]
purposes = ["feedback"]
retention = "30 days"

[[register.datasets]]
id = "mail-suppression"
module = "mail-suppression"
description = "A keyed hash of addresses that bounced for good or complained, so that we do not email them again"
categories = ["user.contact.email"]
subjects = ["people we email"]
purposes = ["feedback"]
retention = "6 years"
)";
  return path;
}

}  // namespace steward::mail::testing
