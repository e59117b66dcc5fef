#include "edge/device.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <maxminddb.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "core/log.h"
#include "core/strings.h"

namespace steward::edge {

struct UserAgents::Parser {
  pcre2_code* code = nullptr;
  // Replacements, "" for "use the group": family/os/device, then v1, v2.
  std::string name, v1, v2;
};

namespace {

struct Entry {
  int line = 0;
  std::map<std::string, std::string> fields;
};

// The uap-core file is YAML of one simple shape: three top-level lists of maps whose values are
// all single-quoted strings. Reading that shape needs no YAML library.
std::map<std::string, std::vector<Entry>> ReadRegexes(const std::string& text) {
  std::map<std::string, std::vector<Entry>> out;
  std::string section;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string_view l = line;
    std::string_view t = Trim(l);
    if (t.empty() || t.front() == '#') continue;
    if (l.front() != ' ' && t.back() == ':') {
      section = std::string(t.substr(0, t.size() - 1));
      continue;
    }
    bool starts = t.starts_with("- ");
    if (starts) t = Trim(t.substr(2));
    size_t colon = t.find(": ");
    if (colon == std::string_view::npos || section.empty()) continue;
    std::string key(t.substr(0, colon));
    std::string_view value = Trim(t.substr(colon + 2));
    if (value.size() < 2 || value.front() != '\'' || value.back() != '\'') continue;
    std::string unquoted;
    for (size_t i = 1; i + 1 < value.size(); ++i) {
      unquoted += value[i];
      if (value[i] == '\'' && value[i + 1] == '\'') ++i;
    }
    auto& list = out[section];
    if (starts || list.empty()) list.push_back(Entry{n, {}});
    list.back().fields[key] = std::move(unquoted);
  }
  return out;
}

pcre2_code* Compile(const std::string& pattern, bool caseless, std::string& error) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 caseless ? PCRE2_CASELESS : 0, &code, &offset, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    error = reinterpret_cast<char*>(message);
    return nullptr;
  }
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
  return re;
}

// One match's groups, "" for a group that did not take part.
struct Groups {
  std::vector<std::string> g;
  std::string operator[](size_t i) const { return i < g.size() ? g[i] : ""; }
};

bool Match(const pcre2_code* re, std::string_view subject, Groups& groups) {
  // One per thread, freed when the thread ends.
  struct Data {
    pcre2_match_data* p = pcre2_match_data_create(32, nullptr);
    ~Data() { pcre2_match_data_free(p); }
  };
  thread_local Data holder;
  pcre2_match_data* data = holder.p;
  int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, data, nullptr);
  if (rc <= 0) return false;
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
  groups.g.assign(static_cast<size_t>(rc), "");
  for (size_t i = 0; i < static_cast<size_t>(rc); ++i) {
    if (ov[2 * i] != PCRE2_UNSET) groups.g[i] = std::string(subject.substr(ov[2 * i], ov[2 * i + 1] - ov[2 * i]));
  }
  return true;
}

// A replacement with $1..$9 filled in, or group `fallback` when there is no replacement.
std::string Fill(const std::string& replacement, const Groups& groups, size_t fallback) {
  if (replacement.empty()) return groups[fallback];
  std::string out;
  for (size_t i = 0; i < replacement.size(); ++i) {
    if (replacement[i] == '$' && i + 1 < replacement.size() && replacement[i + 1] >= '1' && replacement[i + 1] <= '9') {
      out += groups[static_cast<size_t>(replacement[i + 1] - '0')];
      ++i;
    } else {
      out += replacement[i];
    }
  }
  return std::string(Trim(out));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

Result<std::unique_ptr<UserAgents>> UserAgents::Load(const std::string& regexes_yaml,
                                                     const std::string& bot_pattern_file) {
  std::string yaml = ReadFile(regexes_yaml);
  if (yaml.empty()) return MakeError(ErrorCode::kNotFound, regexes_yaml + " is missing (run scripts/install-deps)");
  std::string bot = std::string(Trim(ReadFile(bot_pattern_file)));
  if (bot.empty()) return MakeError(ErrorCode::kNotFound, bot_pattern_file + " is missing (run scripts/install-deps)");
  std::unique_ptr<UserAgents> agents(new UserAgents());
  std::string error;
  agents->bot_ = Compile(bot, /*caseless=*/true, error);
  if (agents->bot_ == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     bot_pattern_file + ": the crawler pattern does not compile: " + error);
  }
  auto sections = ReadRegexes(yaml);
  int skipped = 0;
  auto build = [&](const char* section, const char* name_key, const char* v1_key, const char* v2_key,
                   std::vector<Parser>& into) {
    for (const auto& e : sections[section]) {
      auto get = [&](const char* k) {
        auto it = e.fields.find(k);
        return it == e.fields.end() ? std::string() : it->second;
      };
      pcre2_code* re = Compile(get("regex"), get("regex_flag") == "i", error);
      if (re == nullptr) {
        ++skipped;
        log::Warn("analytics.user_agent_pattern_skipped", {{"line", e.line}, {"error", error}});
        continue;
      }
      into.push_back(Parser{re, get(name_key), get(v1_key), get(v2_key)});
    }
  };
  build("user_agent_parsers", "family_replacement", "v1_replacement", "v2_replacement", agents->browsers_);
  build("os_parsers", "os_replacement", "os_v1_replacement", "os_v2_replacement", agents->systems_);
  build("device_parsers", "device_replacement", "", "", agents->devices_);
  if (agents->browsers_.size() < 100 || agents->systems_.size() < 50 || agents->devices_.size() < 100) {
    return MakeError(ErrorCode::kInvalidArgument, regexes_yaml + ": too few user-agent patterns could be read");
  }
  log::Info("analytics.user_agents_loaded",
            {{"patterns", static_cast<int64_t>(agents->pattern_count())}, {"skipped", static_cast<int64_t>(skipped)}});
  return agents;
}

UserAgents::~UserAgents() {
  for (auto* list : {&browsers_, &systems_, &devices_}) {
    for (auto& p : *list) pcre2_code_free(p.code);
  }
  if (bot_ != nullptr) pcre2_code_free(static_cast<pcre2_code*>(bot_));
}

size_t UserAgents::pattern_count() const { return browsers_.size() + systems_.size() + devices_.size() + 1; }

Agent UserAgents::ParseUncached(std::string_view ua) const {
  Agent a;
  Groups g;
  for (const auto& p : browsers_) {
    if (!Match(p.code, ua, g)) continue;
    a.browser = Fill(p.name, g, 1);
    a.browser_version = Fill(p.v1, g, 2);
    break;
  }
  for (const auto& p : systems_) {
    if (!Match(p.code, ua, g)) continue;
    a.os = Fill(p.name, g, 1);
    a.os_version = Fill(p.v1, g, 2);
    break;
  }
  std::string device_family;
  for (const auto& p : devices_) {
    if (!Match(p.code, ua, g)) continue;
    device_family = Fill(p.name, g, 1);
    break;
  }
  a.bot = device_family == "Spider" || Match(static_cast<const pcre2_code*>(bot_), ua, g);
  auto has = [&](std::string_view s) { return ua.find(s) != std::string_view::npos; };
  if (a.os == "iOS" || a.os == "iPadOS") {
    a.device = device_family.find("iPad") != std::string::npos ? "Tablet" : "Mobile";
  } else if (a.os == "Android") {
    a.device = has("Mobile") ? "Mobile" : "Tablet";
  } else if (device_family.find("Tablet") != std::string::npos || device_family.find("Kindle") != std::string::npos) {
    a.device = "Tablet";
  } else if (has("Mobi") || a.os == "Windows Phone" || a.os == "KaiOS" || a.os == "BlackBerry OS") {
    a.device = "Mobile";
  } else {
    a.device = "Desktop";
  }
  if (a.browser == "Other") a.browser.clear();
  if (a.os == "Other") a.os.clear();
  return a;
}

Agent UserAgents::Parse(std::string_view ua) {
  if (ua.size() > 1024) ua = ua.substr(0, 1024);  // no real browser needs more; bounds the work
  Shard& shard = cache_[std::hash<std::string_view>{}(ua) % kShards];
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.entries.find(ua);
    if (it != shard.entries.end()) return it->second;
  }
  Agent a = ParseUncached(ua);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.entries.size() >= kPerShard) shard.entries.clear();
  shard.entries.emplace(std::string(ua), a);
  return a;
}

struct Countries::Db {
  MMDB_s mmdb{};
  bool open = false;
  ~Db() {
    if (open) MMDB_close(&mmdb);
  }
};

Result<std::unique_ptr<Countries>> Countries::Open(const std::string& mmdb_path) {
  std::unique_ptr<Countries> c(new Countries());
  c->db_ = std::make_unique<Db>();
  int status = MMDB_open(mmdb_path.c_str(), MMDB_MODE_MMAP, &c->db_->mmdb);
  if (status != MMDB_SUCCESS) {
    return MakeError(status == MMDB_FILE_OPEN_ERROR ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                     mmdb_path + ": " + MMDB_strerror(status) + " (run scripts/install-deps)");
  }
  c->db_->open = true;
  return c;
}

Countries::~Countries() = default;

namespace {

// Addresses that are nobody's on the public internet. The whois-derived database gives some of
// them a country (the registrant of the block), which would be wrong for a visitor.
bool IsPublic(const IpAddress& ip) {
  static const std::vector<Cidr> kNotPublic = [] {
    std::vector<Cidr> v;
    for (const char* c :
         {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
          "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3", "::/127", "fc00::/7", "fe80::/10", "ff00::/8"}) {
      v.push_back(*Cidr::Parse(c));
    }
    return v;
  }();
  return std::none_of(kNotPublic.begin(), kNotPublic.end(), [&](const Cidr& c) { return c.Contains(ip); });
}

}  // namespace

std::string Countries::Lookup(const IpAddress& ip) const {
  // Privacy: the address is looked up and forgotten; only the country goes on.
  if (!IsPublic(ip)) return "";
  // A sockaddr built from the bytes: no getaddrinfo, no string.
  sockaddr_storage ss{};
  std::string_view b = ip.bytes();
  if (ip.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    std::memcpy(&in->sin_addr, b.data(), 4);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_addr, b.data(), 16);
  }
  int mmdb_error = 0;
  MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&db_->mmdb, reinterpret_cast<const sockaddr*>(&ss), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS || !r.found_entry) return "";
  MMDB_entry_data_s data;
  for (const char* key : {"country_code", "country"}) {
    if (MMDB_get_value(&r.entry, &data, key, nullptr) == MMDB_SUCCESS && data.has_data &&
        data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2) {
      return std::string(data.utf8_string, data.data_size);
    }
  }
  return "";
}

Result<Edge> LoadEdge(const std::string& web_dir) {
  Edge edge;
  STEWARD_ASSIGN_OR_RETURN(edge.agents, UserAgents::Load(web_dir + "/node_modules/uap-core/regexes.yaml",
                                                         web_dir + "/generated/bot-pattern.txt"));
  STEWARD_ASSIGN_OR_RETURN(edge.countries,
                           Countries::Open(web_dir + "/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/"
                                                     "geo-whois-asn-country.mmdb"));
  return edge;
}

}  // namespace steward::edge
