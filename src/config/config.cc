#include "config/config.h"

#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/ip.h"
#include "core/strings.h"

namespace steward::config {
namespace {

namespace fs = std::filesystem;

// Collects problems as "file:line:col: message".
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  void Add(const toml::source_region& where, const std::string& message) {
    std::ostringstream s;
    s << file_ << ':' << where.begin.line << ':' << where.begin.column << ": " << message;
    lines_.push_back(s.str());
  }
  void AddAt(int line, int column, const std::string& message) {
    lines_.push_back(file_ + ':' + std::to_string(line) + ':' + std::to_string(column) + ": " + message);
  }
  bool empty() const { return lines_.empty(); }
  std::string Joined() const {
    std::string out;
    for (const auto& l : lines_) {
      if (!out.empty()) out.push_back('\n');
      out.append(l);
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<std::string> lines_;
};

// Reads known keys from one table and reports the rest as unknown when it goes out of scope.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string name, Problems& problems)
      : table_(table), name_(std::move(name)), problems_(problems) {}
  ~TableReader() {
    for (auto&& [key, node] : table_) {
      if (!seen_.count(std::string(key.str()))) {
        problems_.Add(key.source(), "unknown key '" + Qualified(key.str()) + "'");
      }
    }
  }

  void String(std::string_view key, std::string& out) {
    if (const toml::node* n = Get(key)) {
      if (auto v = n->value<std::string>()) out = *v;
      else problems_.Add(n->source(), "'" + Qualified(key) + "' must be a string");
    }
  }
  void Bool(std::string_view key, bool& out) {
    if (const toml::node* n = Get(key)) {
      if (auto v = n->value<bool>()) out = *v;
      else problems_.Add(n->source(), "'" + Qualified(key) + "' must be true or false");
    }
  }
  void Int(std::string_view key, int64_t& out, int64_t min, int64_t max) {
    if (const toml::node* n = Get(key)) {
      auto v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
      if (!v) {
        problems_.Add(n->source(), "'" + Qualified(key) + "' must be a whole number");
      } else if (*v < min || *v > max) {
        problems_.Add(n->source(), "'" + Qualified(key) + "' must be between " + std::to_string(min) +
                                       " and " + std::to_string(max));
      } else {
        out = *v;
      }
    }
  }
  void StringArray(std::string_view key, std::vector<std::string>& out) {
    if (const toml::node* n = Get(key)) {
      const toml::array* arr = n->as_array();
      if (arr == nullptr) {
        problems_.Add(n->source(), "'" + Qualified(key) + "' must be a list of strings");
        return;
      }
      out.clear();
      for (const toml::node& item : *arr) {
        if (auto v = item.value<std::string>()) out.push_back(*v);
        else problems_.Add(item.source(), "'" + Qualified(key) + "' must hold only strings");
      }
    }
  }
  // A sub-table; nullptr when absent (or not a table, which is reported).
  const toml::table* Table(std::string_view key) {
    const toml::node* n = Get(key);
    if (n == nullptr) return nullptr;
    if (const toml::table* t = n->as_table()) return t;
    problems_.Add(n->source(), "'" + Qualified(key) + "' must be a table");
    return nullptr;
  }
  const toml::node* Node(std::string_view key) { return Get(key); }
  std::string Qualified(std::string_view key) const {
    return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
  }

 private:
  const toml::node* Get(std::string_view key) {
    seen_.insert(std::string(key));
    return table_.get(key);
  }
  const toml::table& table_;
  std::string name_;
  Problems& problems_;
  std::set<std::string> seen_;
};

std::string ResolvePath(const fs::path& base, const std::string& p) {
  if (p.empty()) return p;
  fs::path path(p);
  if (path.is_absolute()) return path.lexically_normal().string();
  return (base / path).lexically_normal().string();
}

void ReadLimits(const toml::table& t, Limits& l, Problems& problems) {
  TableReader r(t, "server.limits", problems);
  r.Int("max_header_bytes", l.max_header_bytes, 1024, 1 << 20);
  r.Int("max_url_bytes", l.max_url_bytes, 256, 1 << 20);
  r.Int("max_body_bytes", l.max_body_bytes, 0, int64_t{1} << 32);
  r.Int("read_timeout_seconds", l.read_timeout_seconds, 1, 3600);
  r.Int("idle_timeout_seconds", l.idle_timeout_seconds, 1, 3600);
  r.Int("max_connections", l.max_connections, 1, 1'000'000);
  r.Int("shutdown_grace_seconds", l.shutdown_grace_seconds, 0, 3600);
  r.Int("worker_threads", l.worker_threads, 1, 256);
  r.Int("worker_queue", l.worker_queue, 1, 1'000'000);
}

void ReadServer(const toml::table& t, Server& s, Problems& problems) {
  TableReader r(t, "server", problems);
  std::string listen;
  r.String("listen", listen);
  if (!listen.empty()) {
    Status st = ParseListen(listen, s.listen_host, s.listen_port);
    if (!st.ok()) problems.Add(r.Node("listen")->source(), st.error().message);
  }
  r.Int("threads", s.threads, 1, 256);
  r.String("public_base_url", s.public_base_url);
  if (!s.public_base_url.empty() && !s.public_base_url.starts_with("http://") &&
      !s.public_base_url.starts_with("https://")) {
    problems.Add(r.Node("public_base_url")->source(), "'server.public_base_url' must start with http:// or https://");
  }
  r.Bool("https", s.https);
  r.StringArray("trusted_proxies", s.trusted_proxies);
  for (const auto& cidr : s.trusted_proxies) {
    if (!Cidr::Parse(cidr)) {
      problems.Add(r.Node("trusted_proxies")->source(),
                   "'server.trusted_proxies' entry '" + cidr + "' is not an address or CIDR range");
    }
  }
  r.StringArray("metrics_allow", s.metrics_allow);
  for (const auto& cidr : s.metrics_allow) {
    if (!Cidr::Parse(cidr)) {
      problems.Add(r.Node("metrics_allow")->source(),
                   "'server.metrics_allow' entry '" + cidr + "' is not an address or CIDR range");
    }
  }
  if (const toml::table* limits = r.Table("limits")) ReadLimits(*limits, s.limits, problems);
}

void ReadStorage(const toml::table& t, Storage& s, Problems& problems) {
  TableReader r(t, "storage", problems);
  r.String("backend", s.backend);
  if (s.backend != "sqlite") {
    problems.Add(r.Node("backend")->source(), "'storage.backend' must be \"sqlite\" (the only backend built in)");
  }
  r.String("data_dir", s.data_dir);
  r.String("secret_key_file", s.secret_key_file);
  r.Int("reader_connections", s.reader_connections, 1, 64);
  r.Int("write_queue", s.write_queue, 1, 10'000'000);
}

void ReadSite(const toml::table& t, Site& s, Problems& problems) {
  TableReader r(t, "site", problems);
  r.String("name", s.name);
  if (s.name.empty() || s.name.size() > 120) {
    problems.Add(r.Node("name") ? r.Node("name")->source() : t.source(), "'site.name' must be 1 to 120 characters");
  }
  r.String("web_dir", s.web_dir);
}

}  // namespace

Status ParseListen(const std::string& text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "'server.listen' must be HOST:PORT, such as 127.0.0.1:8080");
  }
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto p = ParseUint(std::string_view(text).substr(colon + 1));
  if (!p || *p > 65535) {
    return MakeError(ErrorCode::kInvalidArgument, "'server.listen' port must be a number from 0 to 65535");
  }
  if (!IpAddress::Parse(h) && h != "localhost") {
    return MakeError(ErrorCode::kInvalidArgument, "'server.listen' host must be an IP address or localhost");
  }
  host = h == "localhost" ? "127.0.0.1" : h;
  port = static_cast<uint16_t>(*p);
  return Ok();
}

Result<Config> Parse(const std::string& text, const std::string& path) {
  Problems problems(path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    problems.Add(e.source(), std::string(e.description()));
    return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  }

  Config config;
  config.path = path;
  fs::path base = fs::absolute(fs::path(path)).parent_path();
  {
    TableReader r(root, "", problems);
    if (const toml::table* t = r.Table("site")) ReadSite(*t, config.site, problems);
    if (const toml::table* t = r.Table("server")) ReadServer(*t, config.server, problems);
    if (const toml::table* t = r.Table("storage")) ReadStorage(*t, config.storage, problems);
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());

  config.storage.data_dir = ResolvePath(base, config.storage.data_dir);
  config.storage.secret_key_file = ResolvePath(base, config.storage.secret_key_file);
  config.site.web_dir = ResolvePath(base, config.site.web_dir);
  return config;
}

Result<Config> Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, path + ": cannot open config file");
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return MakeError(ErrorCode::kIo, path + ": cannot read config file");
  return Parse(buf.str(), path);
}

}  // namespace steward::config
