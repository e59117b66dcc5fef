#include "config/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/ip.h"
#include "core/strings.h"

namespace steward::config {
namespace {

namespace fs = std::filesystem;

std::string ResolvePath(const fs::path& base, const std::string& p) {
  if (p.empty()) return p;
  fs::path path(p);
  if (path.is_absolute()) return path.lexically_normal().string();
  return (base / path).lexically_normal().string();
}

void RequireRanges(Table& t, std::string_view key, const std::vector<std::string>& values) {
  for (const auto& cidr : values) {
    if (!Cidr::Parse(cidr)) {
      t.problems().Add(t.Where(key), "'" + t.name() + "." + std::string(key) + "' entry '" + cidr +
                                         "' is not an address or CIDR range");
    }
  }
}

void ReadLimits(Table t, Limits& l) {
  t.Int("max_header_bytes", l.max_header_bytes, 1024, 1 << 20);
  t.Int("max_url_bytes", l.max_url_bytes, 256, 1 << 20);
  t.Int("max_body_bytes", l.max_body_bytes, 0, int64_t{1} << 32);
  t.Int("read_timeout_seconds", l.read_timeout_seconds, 1, 3600);
  t.Int("idle_timeout_seconds", l.idle_timeout_seconds, 1, 3600);
  t.Int("max_connections", l.max_connections, 1, 1'000'000);
  t.Int("shutdown_grace_seconds", l.shutdown_grace_seconds, 0, 3600);
  t.Int("worker_threads", l.worker_threads, 1, 256);
  t.Int("worker_queue", l.worker_queue, 1, 1'000'000);
  t.Int("form_posts_per_minute", l.form_posts_per_minute, 0, 1'000'000);
  t.Int("events_per_minute", l.events_per_minute, 0, 100'000'000);
  t.Finish();
}

void ReadServer(Table t, Server& s) {
  std::string listen;
  if (t.String("listen", listen)) {
    Status st = ParseListen(listen, s.listen_host, s.listen_port);
    if (!st.ok()) t.problems().Add(t.Where("listen"), st.error().message);
  }
  t.Int("threads", s.threads, 1, 256);
  if (t.String("public_base_url", s.public_base_url) && !s.public_base_url.starts_with("http://") &&
      !s.public_base_url.starts_with("https://")) {
    t.problems().Add(t.Where("public_base_url"), "'server.public_base_url' must start with http:// or https://");
  }
  // A public address on https means Steward is served over https (behind a proxy that ends TLS):
  // Secure and __Host- cookies, HSTS. The file may still say otherwise.
  if (!t.Bool("https", s.https)) s.https = s.public_base_url.starts_with("https://");
  if (t.StringArray("trusted_proxies", s.trusted_proxies)) RequireRanges(t, "trusted_proxies", s.trusted_proxies);
  if (t.StringArray("metrics_allow", s.metrics_allow)) RequireRanges(t, "metrics_allow", s.metrics_allow);
  if (auto limits = t.Child("limits")) ReadLimits(*limits, s.limits);
  t.Finish();
}

// Whether a PostgreSQL URL or key=value string carries a password, which belongs in a file instead.
bool HoldsPassword(const std::string& url) {
  if (url.find("password=") != std::string::npos) return true;
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) return false;
  std::string rest = url.substr(url.find("://") + 3);
  size_t at = rest.find('@');
  size_t slash = rest.find('/');
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return false;
  return rest.substr(0, at).find(':') != std::string::npos;  // user:password@
}

void ReadStorage(Table t, Storage& s) {
  if (t.String("backend", s.backend) && s.backend != "sqlite" && s.backend != "postgresql") {
    t.problems().Add(t.Where("backend"), "'storage.backend' must be \"sqlite\" or \"postgresql\"");
  }
  bool postgresql = s.backend == "postgresql";
  for (const char* key : {"url", "password_file", "sslmode", "sslrootcert"}) {
    if (!postgresql && t.Has(key)) {
      t.problems().Add(t.Where(key), std::string("'storage.") + key + "' is for backend = \"postgresql\" only");
    }
  }
  if (t.String("url", s.url, /*required=*/postgresql) && postgresql) {
    bool url = s.url.starts_with("postgresql://") || s.url.starts_with("postgres://");
    if (!url && s.url.find('=') == std::string::npos) {
      t.problems().Add(t.Where("url"),
                       "'storage.url' must be a PostgreSQL URL (\"postgresql://user@host:5432/db\") or a libpq "
                       "\"key=value\" string");
    } else if (HoldsPassword(s.url)) {
      t.problems().Add(t.Where("url"),
                       "'storage.url' must not hold the password: put it in a file named by "
                       "'storage.password_file' (mode 0600), or leave it to PGPASSWORD or ~/.pgpass");
    }
  }
  t.String("password_file", s.password_file);
  if (t.String("sslmode", s.sslmode)) {
    static const char* kModes[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
    if (std::find(std::begin(kModes), std::end(kModes), s.sslmode) == std::end(kModes)) {
      t.problems().Add(t.Where("sslmode"),
                       "'storage.sslmode' must be one of disable, allow, prefer, require, verify-ca, verify-full");
    }
  }
  t.String("sslrootcert", s.sslrootcert);
  if (!s.sslrootcert.empty() && s.sslmode != "verify-ca" && s.sslmode != "verify-full") {
    t.problems().Add(t.Where("sslrootcert"),
                     "'storage.sslrootcert' is read only with sslmode = \"verify-ca\" or \"verify-full\"");
  }
  t.String("data_dir", s.data_dir);
  t.String("secret_key_file", s.secret_key_file);
  t.Int("reader_connections", s.reader_connections, 1, 64);
  t.Int("reader_cache_mib", s.reader_cache_mib, 1, 4096);
  t.Int("write_queue", s.write_queue, 1, 10'000'000);
  t.Finish();
}

void ReadSite(Table t, Site& s) {
  t.String("name", s.name);
  if (s.name.empty() || s.name.size() > 120)
    t.problems().Add(t.Where("name"), "'site.name' must be 1 to 120 characters");
  t.String("web_dir", s.web_dir);
  if (t.StringArray("script_origins", s.script_origins)) {
    for (const auto& o : s.script_origins) {
      bool scheme = o.starts_with("https://") || o.starts_with("http://");
      size_t host_at = o.find("://") + 3;
      if (!scheme || o.size() <= host_at || o.find('/', host_at) != std::string::npos ||
          o.find_first_of(" \t\r\n\"'<>") != std::string::npos) {
        t.problems().Add(t.Where("script_origins"),
                         "'site.script_origins' entries must be origins such as "
                         "\"https://www.example.gov.uk\" (scheme and host, no path): '" +
                             o + "'");
      }
    }
  }
  t.Finish();
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

Result<Config> Parse(const std::string& text, const std::string& path, const std::vector<std::string>* module_tables) {
  STEWARD_ASSIGN_OR_RETURN(Document doc, Document::Parse(text, path));
  Problems problems(path);
  Config config;
  config.path = path;
  {
    Table root = doc.Root(problems);
    if (auto t = root.Child("site")) ReadSite(*t, config.site);
    if (auto t = root.Child("server")) ReadServer(*t, config.server);
    if (auto t = root.Child("storage")) ReadStorage(*t, config.storage);
    if (module_tables != nullptr) {
      root.Skip("register");
      for (const auto& owned : *module_tables) root.Skip(owned);
      root.Finish();
    }
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());

  fs::path base = fs::absolute(fs::path(path)).parent_path();
  config.storage.data_dir = ResolvePath(base, config.storage.data_dir);
  config.storage.secret_key_file = ResolvePath(base, config.storage.secret_key_file);
  if (!config.storage.password_file.empty()) {
    config.storage.password_file = fs::absolute(base / config.storage.password_file).lexically_normal().string();
  }
  if (!config.storage.sslrootcert.empty()) {
    config.storage.sslrootcert = fs::absolute(base / config.storage.sslrootcert).lexically_normal().string();
  }
  config.site.web_dir = ResolvePath(base, config.site.web_dir);
  config.document = std::make_shared<const Document>(std::move(doc));
  return config;
}

Result<Config> Load(const std::string& path, const std::vector<std::string>* module_tables) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, path + ": cannot open config file");
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return MakeError(ErrorCode::kIo, path + ": cannot read config file");
  return Parse(buf.str(), path, module_tables);
}

std::string BaseUrl(const Config& config, uint16_t port) {
  std::string base = config.server.public_base_url;
  if (base.empty()) {
    const std::string& host = config.server.listen_host;
    base = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

}  // namespace steward::config
