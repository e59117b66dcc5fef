// The site's configuration file (TOML): how Steward serves and stores. The same file will carry
// the processing register in its own tables.
//
//   [site]     name, web_dir, script_origins
//   [server]   listen, threads, public_base_url, https, trusted_proxies, metrics_allow,
//              [server.limits]
//   [storage]  backend, data_dir, secret_key_file, reader_connections, reader_cache_mib, write_queue
//
// Every key is documented in docs/config.md. Unknown keys are errors. Relative paths are resolved
// against the directory of the config file. Loading reports every problem at once, each as
// "FILE:LINE:COLUMN: message".
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include "config/document.h"
#include "core/result.h"

namespace steward::config {

struct Limits {
  int64_t max_header_bytes = int64_t{8} * 1024;  // request line excluded; 431 past it
  int64_t max_url_bytes = int64_t{8} * 1024;     // 414 past it
  int64_t max_body_bytes = int64_t{64} * 1024;   // default per route; 413 past it
  int64_t read_timeout_seconds = 10;             // to read one whole request once it has begun
  int64_t idle_timeout_seconds = 60;             // a keep-alive connection waiting for its next request
  int64_t max_connections = 1024;                // 503 past it
  int64_t shutdown_grace_seconds = 10;           // in-flight requests get this long at shutdown
  int64_t worker_threads = 4;                    // pool for handlers that block (disk, hashing)
  int64_t worker_queue = 1024;                   // requests waiting for that pool; 503 past it
  // Anonymous writes per client (an IPv4 address or IPv6 /64) a minute; 429 past it; 0: no limit.
  int64_t form_posts_per_minute = 30;  // forms, sign-in, consent choices
  int64_t events_per_minute = 1200;    // analytics events
};

struct Server {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  int64_t threads = 2;                                            // I/O threads running the event loop
  std::string public_base_url;                                    // "https://www.example.gov.uk"; default from listen
  bool https = false;                                             // the public URL is https: Secure cookies, HSTS
  std::vector<std::string> trusted_proxies;                       // CIDR ranges whose X-Forwarded-For is believed
  std::vector<std::string> metrics_allow = {"127.0.0.1", "::1"};  // who may read /metrics
  Limits limits;
};

struct Storage {
  std::string backend = "sqlite";  // or "postgresql"
  // PostgreSQL: the server and database ("postgresql://steward@db.internal:5432/steward"), never
  // with a password; the password from `password_file` (or libpq's PGPASSWORD, ~/.pgpass); TLS.
  std::string url;
  std::string password_file;
  std::string sslmode;
  std::string sslrootcert;
  std::string data_dir = "var";  // SQLite's database; the secret key; raw access-log segments
  std::string secret_key_file;   // default: <data_dir>/secret.key
  int64_t reader_connections = 4;
  int64_t reader_cache_mib = 32;  // SQLite: each reader connection's page cache
  int64_t write_queue = 10000;    // writes waiting for the writer; 503 past it
};

struct Site {
  std::string name = "Steward";  // shown in page headers
  std::string web_dir = "web";   // templates/, static/ and node_modules/ (front-end packages)
  // Origins of the site's own pages that load /steward.js ("https://www.example.gov.uk"): they may
  // read and record the visitor's cookie choice through /api/consent (CORS with credentials).
  std::vector<std::string> script_origins;
};

struct Config {
  std::string path;  // the file it was read from
  Site site;
  Server server;
  Storage storage;
  // The parsed file, for the modules that read their own tables from it (the register).
  std::shared_ptr<const Document> document;
};

// Reads and validates the file. `module_tables` names the other top-level tables that modules read
// from the same file (their descriptors say which); any other top-level table or key is a problem.
// Null leaves every top-level table other than [site], [server] and [storage] alone (for tools and
// tests that read one module's tables). [register] is always the register's.
// Errors: kNotFound (no file), kInvalidArgument (every problem found, one per line, each with file,
// line and column).
Result<Config> Load(const std::string& path, const std::vector<std::string>* module_tables = nullptr);

// Parses `text` as if read from `path` (relative paths resolve against its directory).
Result<Config> Parse(const std::string& text, const std::string& path,
                     const std::vector<std::string>* module_tables = nullptr);

// The site's public address for links, without a trailing slash: server.public_base_url, or
// http://HOST:PORT from the listen host and `port` (the port actually bound).
std::string BaseUrl(const Config& config, uint16_t port);

// Splits "host:port" or "[v6]:port". Errors: kInvalidArgument.
Status ParseListen(const std::string& text, std::string& host, uint16_t& port);

}  // namespace steward::config
