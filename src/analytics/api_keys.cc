#include "analytics/api_keys.h"

#include <algorithm>

#include "core/log.h"
#include "core/strings.h"

namespace steward::analytics {
namespace {

constexpr std::string_view kPrefix = "stw_";
constexpr size_t kSecretChars = 48;  // 24 random bytes in hex: 192 bits

}  // namespace

bool ValidScope(std::string_view scope) {
  if (scope.starts_with("share:")) {
    std::string_view partner = scope.substr(6);
    return !partner.empty() && partner.size() <= 64 && std::all_of(partner.begin(), partner.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
  }
  return scope == "stats" || scope == "messages" || scope == "topics" || scope == "referrals";
}

ApiKeys::ApiKeys(store::Store& store, const crypto::SecretKey& key, const Clock& clock, audit::Trail* trail)
    : store_(store), clock_(clock), trail_(trail) {
  auto k = key.DeriveKey("anapikey");
  hash_key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
}

std::string ApiKeys::Digest(std::string_view secret) const { return crypto::Hash(secret, hash_key_); }

Result<ApiKeys::Made> ApiKeys::Create(std::string_view name_in, const std::string& created_by,
                                      const std::string& request_id, std::string_view scope) {
  if (!ValidScope(scope))
    return MakeError(ErrorCode::kInvalidArgument, "scope: stats, messages, topics, referrals or share:PARTNER");
  std::string name(Trim(name_in));
  if (name.empty()) return MakeError(ErrorCode::kInvalidArgument, "name: give the key a name that says what uses it");
  if (name.size() > kMaxName) {
    return MakeError(ErrorCode::kInvalidArgument, "name: at most " + std::to_string(kMaxName) + " characters");
  }
  Made made;
  made.secret = std::string(kPrefix) + crypto::RandomHex(24);
  made.key.name = name;
  made.key.prefix = made.secret.substr(0, 8);
  made.key.created_by = created_by;
  made.key.created_at = FormatRfc3339(clock_.Now());
  made.key.scope = std::string(scope);
  std::string digest = Digest(made.secret);
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("INSERT INTO analytics_api_keys (name, prefix, digest, created_by, created_at, scope) "
                           "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                           {made.key.name, made.key.prefix, store::Blob{digest}, created_by, made.key.created_at,
                            made.key.scope}));
    made.key.id = rows.front().Int(0);
    if (trail_ == nullptr) return Ok();
    return trail_->AppendIn(c, {.actor = created_by,
                                .action = "analytics.api_key_created",
                                .target = "api_key:" + std::to_string(made.key.id),
                                .request_id = request_id,
                                .details = {{"prefix", made.key.prefix}, {"scope", made.key.scope}}});
  }));
  return made;
}

Result<std::vector<ApiKey>> ApiKeys::List() {
  std::vector<ApiKey> out;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) {
    return c.ForEach(
        "SELECT id, name, prefix, created_by, created_at, coalesce(last_used_at, ''), "
        "coalesce(revoked_at, ''), scope FROM analytics_api_keys ORDER BY id DESC",
        {}, [&](const store::Row& r) {
          out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7)});
          return true;
        });
  }));
  return out;
}

Result<ApiKey> ApiKeys::Get(int64_t id) {
  std::optional<ApiKey> key;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) {
    return c.ForEach(
        "SELECT id, name, prefix, created_by, created_at, coalesce(last_used_at, ''), "
        "coalesce(revoked_at, ''), scope FROM analytics_api_keys WHERE id = ?",
        {id}, [&](const store::Row& r) {
          key = ApiKey{r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7)};
          return true;
        });
  }));
  if (!key) return MakeError(ErrorCode::kNotFound, "no such API key");
  return *key;
}

Status ApiKeys::Revoke(int64_t id, const std::string& actor, const std::string& request_id) {
  std::string now = FormatRfc3339(clock_.Now());
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows,
                             c.Query("SELECT revoked_at IS NOT NULL FROM analytics_api_keys WHERE id = ?", {id}));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no such API key");
    if (rows.front().Int(0) != 0) return MakeError(ErrorCode::kFailedPrecondition, "that key is already revoked");
    STEWARD_ASSIGN_OR_RETURN(auto n, c.Exec("UPDATE analytics_api_keys SET revoked_at = ? WHERE id = ?", {now, id}));
    (void)n;
    if (trail_ == nullptr) return Ok();
    return trail_->AppendIn(c, {.actor = actor,
                                .action = "analytics.api_key_revoked",
                                .target = "api_key:" + std::to_string(id),
                                .request_id = request_id});
  });
}

std::optional<int64_t> ApiKeys::Verify(std::string_view secret, std::string_view scope) {
  if (secret.size() != kPrefix.size() + kSecretChars || !secret.starts_with(kPrefix)) return std::nullopt;
  std::string digest = Digest(secret);
  std::optional<int64_t> id;
  std::string last_used;
  Status s = store_.Read([&](store::Connection& c) -> Status {
    // The digest is looked up by equality: it is a keyed hash, so timing reveals nothing of a key.
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id, coalesce(last_used_at, '') FROM analytics_api_keys "
                                                "WHERE digest = ? AND revoked_at IS NULL AND scope = ?",
                                                {store::Blob{digest}, std::string(scope)}));
    if (!rows.empty()) {
      id = rows.front().Int(0);
      last_used = rows.front().Text(1);
    }
    return Ok();
  });
  if (!s.ok() || !id) return std::nullopt;
  SystemTime now = clock_.Now();
  auto last = ParseRfc3339(last_used);
  if (!last || now - *last >= std::chrono::minutes(1)) {
    std::string at = FormatRfc3339(now);
    int64_t key_id = *id;
    // Noted in the background: a query does not wait for it, and a full queue just skips a note.
    (void)store_.Submit(
        [at, key_id](store::Connection& c) -> Status {
          STEWARD_ASSIGN_OR_RETURN(auto n,
                                   c.Exec("UPDATE analytics_api_keys SET last_used_at = ? WHERE id = ?", {at, key_id}));
          (void)n;
          return Ok();
        },
        nullptr);
  }
  return id;
}

}  // namespace steward::analytics
