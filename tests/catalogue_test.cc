// The bad-input catalogue (tests/fixtures/bad-input.txt): every case is sent to a running steward,
// and for each the answer is checked (never a 5xx; a 4xx says why; a skipped line has its reason),
// then the server must still be serving and what was stored before must all still be there,
// unchanged. Runs under ASan/UBSan in `make test`, so a crash or an overflow fails it too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/strings.h"
#include "http/request.h"
#include "http/testing/raw_client.h"
#include "process.h"
#include "store/sqlite.h"

namespace steward::testing {
namespace {

namespace fs = std::filesystem;
using http::testing::Fetch;
using http::testing::RawConnection;
using http::testing::RawResponse;

constexpr const char* kPassword = "purple tractor umbrella";

struct Case {
  int line = 0;
  std::string kind, expect, rest;
};

std::vector<Case> LoadCases() {
  std::ifstream in(SourcePath("tests/fixtures/bad-input.txt"));
  std::vector<Case> out;
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.empty() || text[0] == '#') continue;
    Case c{.line = n};
    size_t a = text.find(' '), b = text.find(' ', a + 1);
    c.kind = text.substr(0, a);
    c.expect = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    c.rest = b == std::string::npos ? "" : text.substr(b + 1);
    out.push_back(std::move(c));
  }
  return out;
}

// {rep:N:TEXT} repeated, then the escapes \r \n \t \\ \" \xNN.
std::string Expand(const std::string& s) {
  std::string repeated;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 5, "{rep:") == 0) {
      size_t colon = s.find(':', i + 5), close = s.find('}', colon + 1);
      int n = std::stoi(s.substr(i + 5, colon - i - 5));
      std::string text = s.substr(colon + 1, close - colon - 1);
      for (int k = 0; k < n; ++k) repeated += text;
      i = close + 1;
    } else {
      repeated += s[i++];
    }
  }
  std::string out;
  for (size_t i = 0; i < repeated.size(); ++i) {
    if (repeated[i] != '\\' || i + 1 == repeated.size()) {
      out += repeated[i];
      continue;
    }
    char e = repeated[++i];
    if (e == 'r') {
      out += '\r';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'x' && i + 2 < repeated.size()) {
      out += static_cast<char>(std::stoi(repeated.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += e;  // \\ and \"
    }
  }
  return out;
}

bool Expected(const std::string& expect, int status) {
  for (std::string_view e : Split(expect, '|')) {
    if (e.size() == 3 && e[1] == 'x' && e[2] == 'x' && status / 100 == e[0] - '0') return true;
    if (e == std::to_string(status)) return true;
  }
  return false;
}

void Replace(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// The fields of a CSV document (RFC 4180), unquoted.
std::vector<std::string> CsvCells(const std::string& text) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false, started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cell += ch;
      }
    } else if (ch == '"' && !started) {
      quoted = started = true;
    } else if (ch == ',' || ch == '\n') {
      cells.push_back(std::exchange(cell, {}));
      started = false;
    } else if (ch != '\r' || i + 1 >= text.size() || text[i + 1] != '\n') {
      cell += ch;
      started = true;
    }
  }
  if (!cell.empty()) cells.push_back(cell);
  return cells;
}

class CatalogueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("steward-catalogue-");
    // The demo site, with form posts unlimited so that each case reaches its own check (the
    // per-client limit has tests of its own), and the access-log module's retention long enough for
    // the lines dated December 2026.
    std::string text = ReadFile(SourcePath("examples/demo.toml"));
    Replace(text, "web_dir = \"../web\"", "web_dir = \"" + SourcePath("web") + "\"");
    Replace(text, "[server.limits]\n", "[server.limits]\nform_posts_per_minute = 0\n");
    config_ = dir_ + "/site.toml";
    std::ofstream(config_) << text;
    // The config cases append tables such as [mail] to a site that has none: the demo without its
    // mail, subscriptions, accounts and their datasets.
    size_t from = text.find("# Email through a relay"), to = text.find("\n[analytics]\n");
    ASSERT_TRUE(from != std::string::npos && to != std::string::npos);
    text.erase(from, to + 1 - from);
    for (const char* id : {"subscriptions", "accounts", "research-consent", "outgoing-mail", "mail-suppression"}) {
      size_t at = text.find("[[register.datasets]]\nid = \"" + std::string(id) + "\"");
      ASSERT_NE(at, std::string::npos) << id;
      text.erase(at, text.find("\n\n", at) + 2 - at);
    }
    // And without the statistics and the disclosure log, whose tables the cases add themselves.
    size_t tables = text.find("# Statistics for partners"), reg = text.find("\n[register]\n");
    ASSERT_TRUE(tables != std::string::npos && reg != std::string::npos && tables < reg);
    text.erase(tables, reg + 1 - tables);
    bare_config_ = dir_ + "/bare.toml";
    std::ofstream(bare_config_) << text;
    site_ = {"--config", config_, "--data", dir_ + "/data"};
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> With(std::vector<std::string> args) const {
    args.insert(args.end(), site_.begin(), site_.end());
    return args;
  }

  // Sends one request as raw bytes and reads the answer.
  static std::optional<RawResponse> Send(uint16_t port, const std::string& bytes) {
    RawConnection c(port, std::chrono::seconds(15));
    if (!c.connected() || !c.Send(bytes)) return std::nullopt;
    return c.Read();
  }

  static std::string Request(const std::string& method, const std::string& target,
                             const std::vector<std::string>& headers, const std::string& body, bool with_body) {
    std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& h : headers) r += h + "\r\n";
    if (with_body) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return r + "\r\n" + body;
  }

  std::string dir_, config_, bare_config_;
  std::vector<std::string> site_;
};

TEST_F(CatalogueTest, EveryBadInputIsRefusedWithAReasonAndNothingStoredChanges) {
  std::vector<Case> cases = LoadCases();
  ASSERT_GE(cases.size(), 150u);

  // What is stored before: an admin with every role, a consent choice, an event, the audit trail.
  {
    StewardProcess first(dir_, site_);
    ASSERT_TRUE(first.started()) << first.Stderr();
    ASSERT_EQ(first.Stop(SIGTERM), 0);
  }
  RunResult added =
      RunSteward(With({"staff", "add", "--email", "admin@example.gov.uk", "--role", "admin", "--role", "dpo", "--role",
                       "analyst", "--role", "caseworker", "--role", "security", "--password-stdin"}),
                 std::string(kPassword) + "\n");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  StewardProcess steward(dir_, site_);
  ASSERT_TRUE(steward.started()) << steward.Stderr();
  uint16_t port = steward.port();

  auto chose = Fetch(port, "POST", "/api/consent", {{"Content-Type", "text/plain"}, {"Sec-Fetch-Site", "same-origin"}},
                     R"({"additional":"yes","method":"banner"})");
  ASSERT_EQ(chose->status, 200) << chose->body;
  std::string policy;
  for (const auto& line : chose->Headers("Set-Cookie")) {
    if (line.rfind("cookies_policy=", 0) == 0) policy = line.substr(0, line.find(';'));
  }
  const std::string kUa = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
  auto seeded =
      Fetch(port, "POST", "/api/event", {{"Content-Type", "text/plain"}, {"User-Agent", kUa}, {"Cookie", policy}},
            R"({"n":"pageview","u":"http://127.0.0.1/seeded-before","d":"127.0.0.1"})");
  ASSERT_EQ(seeded->status, 202);

  // Signed in, for the staff cases.
  auto login = Fetch(port, "GET", "/admin/login");
  std::string pre;
  for (const auto& line : login->Headers("Set-Cookie")) {
    if (line.rfind("steward_presession=", 0) == 0) pre = line.substr(0, line.find(';'));
  }
  std::smatch m;
  ASSERT_TRUE(std::regex_search(login->body, m, std::regex("name=\"csrf_token\" value=\"([0-9a-f]+)\"")));
  auto signed_in =
      Fetch(port, "POST", "/admin/login", {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", pre}},
            "csrf_token=" + m[1].str() + "&email=admin%40example.gov.uk&password=" + http::PercentEncode(kPassword) +
                "&next=%2Fadmin");
  ASSERT_EQ(signed_in->status, 303) << signed_in->body;
  std::string session;
  for (const auto& line : signed_in->Headers("Set-Cookie")) {
    if (line.rfind("steward_staff=", 0) == 0) session = line.substr(0, line.find(';'));
  }
  ASSERT_FALSE(session.empty());
  auto home = Fetch(port, "GET", "/admin", {{"Cookie", session}});
  ASSERT_TRUE(std::regex_search(home->body, m, std::regex("name=\"csrf_token\" value=\"([0-9a-f]+)\"")));
  const std::string csrf = m[1].str();

  // The cases.
  std::string log_lines;
  std::map<std::string, int64_t> log_reasons;
  int64_t log_imported = 0;
  std::vector<Case> configs;
  int sent = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE("tests/fixtures/bad-input.txt:" + std::to_string(c.line) + ": " + c.rest.substr(0, 120));
    std::string request;
    if (c.kind == "raw") {
      request = Expand(c.rest);
    } else if (c.kind == "get") {
      std::string target = c.rest.substr(0, c.rest.find(' '));
      std::vector<std::string> headers;
      if (size_t sp = c.rest.find(' '); sp != std::string::npos) {
        std::string all = c.rest.substr(sp + 1);
        for (size_t at = 0; at <= all.size();) {
          size_t bar = all.find(" || ", at);
          headers.push_back(Expand(all.substr(at, bar == std::string::npos ? std::string::npos : bar - at)));
          at = bar == std::string::npos ? all.size() + 1 : bar + 4;
        }
      }
      request = Request("GET", Expand(target), headers, "", false);
    } else if (c.kind == "post") {
      size_t a = c.rest.find(' '), b = c.rest.find(' ', a + 1);
      std::string target = c.rest.substr(0, a);
      std::string type = c.rest.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
      std::string body = b == std::string::npos ? "" : Expand(c.rest.substr(b + 1));
      std::vector<std::string> headers = {"Sec-Fetch-Site: same-origin", "User-Agent: " + kUa, "Cookie: " + policy};
      if (type != "-") headers.push_back("Content-Type: " + type);
      request = Request("POST", Expand(target), headers, body, true);
    } else if (c.kind == "staff") {
      size_t a = c.rest.find(' '), b = c.rest.find(' ', a + 1);
      std::string method = c.rest.substr(0, a);
      std::string target = c.rest.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
      std::string body = b == std::string::npos ? "" : c.rest.substr(b + 1);
      Replace(body, "{csrf}", csrf);
      std::vector<std::string> headers = {"Cookie: " + session};
      if (method == "POST") headers.push_back("Content-Type: application/x-www-form-urlencoded");
      request = Request(method, Expand(target), headers, Expand(body), method == "POST");
    } else if (c.kind == "log") {
      log_lines += Expand(c.rest) + "\n";
      if (c.expect == "imported") {
        ++log_imported;
      } else {
        std::string reason = c.expect;
        std::replace(reason.begin(), reason.end(), '_', ' ');
        ++log_reasons[reason];
      }
      continue;
    } else if (c.kind == "config") {
      configs.push_back(c);
      continue;
    } else {
      ADD_FAILURE() << "unknown kind " << c.kind;
      continue;
    }
    ++sent;
    auto r = Send(port, request);
    ASSERT_TRUE(r.has_value()) << "no answer: the server closed the connection or crashed";
    EXPECT_LT(r->status, 500) << r->body.substr(0, 300);
    EXPECT_TRUE(Expected(c.expect, r->status)) << "status " << r->status << ", expected " << c.expect << "\n"
                                               << r->body.substr(0, 300);
    if (r->status >= 400) {
      EXPECT_FALSE(Trim(r->body).empty()) << "a refusal says why";
    }
    ASSERT_EQ(Fetch(port, "GET", "/livez")->status, 200) << "still serving";
  }

  // The log lines, in one file, beside the running server.
  std::string log_path = dir_ + "/access.log";
  std::ofstream(log_path, std::ios::binary) << log_lines;
  RunResult imported = RunSteward(With({"logs", "import", log_path}));
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find(std::to_string(log_imported) + " imported"), std::string::npos) << imported.out;
  for (const auto& [reason, count] : log_reasons) {
    EXPECT_NE(imported.out.find("skipped, " + reason + ": " + std::to_string(count)), std::string::npos)
        << reason << "\n"
        << imported.out;
  }

  // Config files: each refused with the file and line.
  for (const Case& c : configs) {
    SCOPED_TRACE("tests/fixtures/bad-input.txt:" + std::to_string(c.line) + ": " + c.rest.substr(0, 120));
    std::string path = dir_ + "/bad.toml";
    std::ofstream(path, std::ios::binary) << ReadFile(bare_config_) << "\n" << Expand(c.rest) << "\n";
    RunResult checked = RunSteward({"check-config", "--config", path});
    EXPECT_EQ(checked.exit_code, 2) << checked.out << checked.err;
    EXPECT_TRUE(
        std::regex_search(checked.err, std::regex(std::regex_replace(path, std::regex("[.]"), "[.]") + ":[0-9]+")))
        << checked.err;
    if (c.expect != "-") {
      std::string pattern = c.expect;
      std::replace(pattern.begin(), pattern.end(), '_', ' ');
      EXPECT_NE(ToLower(checked.err).find(pattern), std::string::npos) << checked.err;
    }
  }

  // Exports: every CSV holds what was sent, with no cell a spreadsheet would run.
  std::vector<std::pair<std::string, std::string>> csvs = {
      {"stats", RunSteward(With({"stats", "--period", "day", "--format", "csv"})).out},
      {"logs report", RunSteward(With({"logs", "report", "--format", "csv", "--top", "0"})).out},
      {"/admin/analytics.csv", Fetch(port, "GET", "/admin/analytics.csv", {{"Cookie", session}})->body},
      {"/admin/logs.csv", Fetch(port, "GET", "/admin/logs.csv", {{"Cookie", session}})->body},
      {"/admin/ropa.csv", Fetch(port, "GET", "/admin/ropa.csv", {{"Cookie", session}})->body},
  };
  for (const auto& [name, text] : csvs) {
    EXPECT_FALSE(text.empty()) << name;
    EXPECT_TRUE(IsUtf8(text)) << name;
    for (const std::string& cell : CsvCells(text)) {
      EXPECT_TRUE(cell.empty() || std::string_view("=+-@\t\r").find(cell[0]) == std::string_view::npos)
          << name << ": " << cell.substr(0, 80);
    }
  }
  EXPECT_NE(csvs[0].second.find("seeded-before"), std::string::npos) << "the event stored before is still counted";

  // Still serving; nothing stored before is lost or changed.
  EXPECT_EQ(Fetch(port, "GET", "/livez")->status, 200);
  EXPECT_EQ(Fetch(port, "GET", "/admin", {{"Cookie", session}})->status, 200) << "the session is still there";
  EXPECT_EQ(steward.Stop(SIGTERM), 0) << steward.Stderr();
  RunResult verify = RunSteward(With({"audit", "verify"}));
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  auto db = store::SqliteConnection::Open(dir_ + "/data/steward.db", false, true);
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Query("SELECT count(*) FROM analytics_events WHERE path = '/seeded-before'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->front().Int(0), 1);
  rows = (*db)->Query("SELECT count(*) FROM consent_records");
  EXPECT_GE(rows->front().Int(0), 1);
  rows = (*db)->Query("SELECT count(*) FROM staff WHERE email = 'admin@example.gov.uk' AND disabled = 0");
  EXPECT_EQ(rows->front().Int(0), 1);
  EXPECT_GE(sent, 120);
}

}  // namespace
}  // namespace steward::testing
