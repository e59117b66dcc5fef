// Bearer keys for the Stats API (POST /api/v2/query), for scripts and dashboards elsewhere.
//
// A key is "stw_" and 48 hex characters of randomness (192 bits), shown once when it is
// made: Steward keeps only a keyed hash of it, its first 8 characters (so staff can tell keys
// apart), its name, who made it and when, when it was last used and whether it was revoked.
// A revoked key stays listed and never works again.
//
//   ApiKeys keys(store, secret_key, clock);
//   auto made = keys.Create("Performance dashboard", "staff:3");   // made->secret: show it once
//   auto id = keys.Verify(bearer);                                  // nullopt: no such live key
//
// Thread safety: safe for concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "store/store.h"

namespace steward::analytics {

struct ApiKey {
  int64_t id = 0;
  std::string name;
  std::string prefix;                    // "stw_AbC1"
  std::string created_by;                // the audit actor: "staff:3", "cli"
  std::string created_at;                // RFC 3339
  std::string last_used_at, revoked_at;  // "" when never
  std::string scope = "stats";  // what it may do: "stats", "messages", "topics", "referrals" or "share:<partner>"
};

// The scopes a key may have: the Stats API, sending inbound messages (POST /api/messages),
// publishing to a subscription topic (POST /api/topics/{id}/messages), or referring a person to an
// account (POST /api/referrals), or collecting a partner's share (GET /api/shares/<partner>).
bool ValidScope(std::string_view scope);

class ApiKeys {
 public:
  static constexpr size_t kMaxName = 100;

  // With `trail`, making and revoking a key is audited in the same write as the change.
  ApiKeys(store::Store& store, const crypto::SecretKey& key, const Clock& clock, audit::Trail* trail = nullptr);

  struct Made {
    ApiKey key;
    std::string secret;  // the whole key; not kept anywhere
  };
  // Errors: kInvalidArgument for an empty name or one over kMaxName characters.
  // `created_by` is the audit actor ("staff:3", "cli").
  // `scope`: "stats" (the default) or another of ValidScope; kInvalidArgument for another.
  Result<Made> Create(std::string_view name, const std::string& created_by, const std::string& request_id = "",
                      std::string_view scope = "stats");
  // Newest first, revoked ones included.
  Result<std::vector<ApiKey>> List();
  // One key, revoked or not. Errors: kNotFound.
  Result<ApiKey> Get(int64_t id);
  // Errors: kNotFound for no such key; kFailedPrecondition when already revoked.
  Status Revoke(int64_t id, const std::string& actor = "system", const std::string& request_id = "");
  // The id of the live key `secret` is, or nullopt. Notes the use (at most once a minute a key).
  // A key of another scope is not accepted.
  std::optional<int64_t> Verify(std::string_view secret, std::string_view scope = "stats");

 private:
  std::string Digest(std::string_view secret) const;

  store::Store& store_;
  const Clock& clock_;
  audit::Trail* trail_ = nullptr;
  std::string hash_key_;
};

}  // namespace steward::analytics
