// What is kept of a visitor's user agent and IP address, worked out at the edge so that
// neither is ever stored:
//
//  - UserAgents: browser family and major version, operating system and major version, and device
//    class (Desktop, Mobile, Tablet), from the uap-core regexes; and whether it is a bot (the isbot
//    pattern, or uap-core's "Spider" device). Results are cached per user-agent string.
//  - Countries: the ISO 3166 country code of an IP address, from an MMDB country database
//    (@ip-location-db/geo-whois-asn-country-mmdb) read with libmaxminddb.
//
//   auto agents = edge::UserAgents::Load(web + "/node_modules/uap-core/regexes.yaml",
//                                             web + "/generated/bot-pattern.txt");
//   edge::Agent a = (*agents)->Parse(user_agent);   // {"Chrome", "131", "Windows", "10", "Desktop"}
//
// Thread safety: Parse and Lookup are safe for concurrent use.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ip.h"
#include "core/result.h"
#include "core/text_hash.h"

namespace steward::edge {

struct Agent {
  std::string browser, browser_version;  // "Chrome", "131"
  std::string os, os_version;            // "Windows", "10"
  std::string device;                    // "Desktop", "Mobile" or "Tablet"
  bool bot = false;
};

class UserAgents {
 public:
  // Errors: kNotFound for a missing file; kInvalidArgument for a pattern that does not compile
  // (named by its line).
  static Result<std::unique_ptr<UserAgents>> Load(const std::string& regexes_yaml, const std::string& bot_pattern_file);
  ~UserAgents();

  Agent Parse(std::string_view user_agent);
  size_t pattern_count() const;

  struct Parser;  // one compiled uap-core entry (internal)

 private:
  UserAgents() = default;
  Agent ParseUncached(std::string_view ua) const;

  std::vector<Parser> browsers_, systems_, devices_;
  void* bot_ = nullptr;  // pcre2_code_8*

  // A small cache in shards, each cleared when full: user agents repeat a great deal.
  static constexpr size_t kShards = 16;
  static constexpr size_t kPerShard = 4096;
  struct Shard {
    std::mutex mu;
    // Found by a view of the user agent, without copying it into a string first.
    std::unordered_map<std::string, Agent, TextHash, std::equal_to<>> entries;
  };
  std::array<Shard, kShards> cache_;
};

class Countries {
 public:
  // Errors: kNotFound or kInvalidArgument when the database cannot be opened.
  static Result<std::unique_ptr<Countries>> Open(const std::string& mmdb_path);
  ~Countries();
  // "GB", or "" when not known (a private address, or not in the database).
  std::string Lookup(const IpAddress& ip) const;

 private:
  Countries() = default;
  struct Db;
  std::unique_ptr<Db> db_;
};

// Both, from where scripts/install-deps puts them under the site's web folder:
// node_modules/uap-core/regexes.yaml, generated/bot-pattern.txt and the country database in
// node_modules/@ip-location-db/geo-whois-asn-country-mmdb/.
struct Edge {
  std::unique_ptr<UserAgents> agents;
  std::unique_ptr<Countries> countries;
};
Result<Edge> LoadEdge(const std::string& web_dir);

}  // namespace steward::edge
