#include "oidc/oidc.h"

#include <curl/curl.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include <mutex>
#include <optional>

#include "core/json_text.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "http/request.h"

namespace steward::oidc {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxReply = 1 << 20;
constexpr auto kLeeway = std::chrono::seconds(60);
constexpr auto kMaxDiscoveryAge = std::chrono::hours(24);
constexpr auto kJwksRefetch = std::chrono::seconds(60);

Error Unavailable(std::string why) { return MakeError(ErrorCode::kUnavailable, std::move(why)); }
Error Refused(std::string why) { return MakeError(ErrorCode::kPermissionDenied, std::move(why)); }

struct Reply {
  long status = 0;
  std::string body, cache_control;
};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxReply) return 0;  // too large: the transfer fails
  body->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  std::string_view line(data, size * n);
  if (line.size() > 14 && ToLower(line.substr(0, 14)) == "cache-control:") {
    *static_cast<std::string*>(out) = std::string(Trim(line.substr(14)));
  }
  return size * n;
}

// One request to the provider: no redirects followed, http or https only, a User-Agent always.
Result<Reply> Fetch(const std::string& url, const std::string& form, const std::string& bearer,
                    std::chrono::seconds timeout) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Unavailable("cannot start a request");
  Reply reply;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  std::string auth = "Authorization: Bearer " + bearer;
  if (!bearer.empty()) headers = curl_slist_append(headers, auth.c_str());
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count() * 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(timeout.count(), 5) * 1000));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "Steward (OpenID Connect client)");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply.cache_control);
  if (!form.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) return Unavailable(std::string("the sign-in service did not answer: ") + curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

// The provider's own reason, when it gives an OAuth error code: a short token of letters, never
// free text (which might quote what was sent).
std::string ErrorCodeOf(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_string()) return "";
  std::string e = j["error"].get<std::string>();
  if (e.size() > 40 || e.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) return "";
  return " (" + e + ")";
}

std::string Sha256(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<char*>(d), sizeof d);
}

int64_t Epoch(SystemTime t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

struct Discovery {
  std::string authorization, token, userinfo, end_session, jwks_uri;
  SystemTime fetched{}, expires{};
};

}  // namespace

Result<std::string> CheckIdToken(std::string_view id_token, std::string_view jwks, const Expected& expected) {
  std::vector<std::string> algs = {"ES256", "RS256", "PS256"};
  STEWARD_ASSIGN_OR_RETURN(Verified v, VerifyJws(id_token, jwks, algs));
  Json c = Json::parse(v.payload, nullptr, false);
  if (!c.is_object()) return Refused("the ID token's claims are not a JSON object");
  if (!c.contains("iss") || c["iss"] != expected.issuer) return Refused("the ID token is from another issuer");
  const Json& aud = c.contains("aud") ? c["aud"] : Json();
  bool ours = aud.is_string() ? aud == expected.client_id : false;
  if (aud.is_array()) {
    for (const auto& a : aud) ours = ours || a == expected.client_id;
    if (aud.size() > 1 && (!c.contains("azp") || c["azp"] != expected.client_id)) ours = false;
  }
  if (!ours) return Refused("the ID token is for another client");
  int64_t now = Epoch(expected.now);
  if (!c.contains("exp") || !c["exp"].is_number() || c["exp"].get<int64_t>() + kLeeway.count() < now) {
    return Refused("the ID token has expired");
  }
  if (!c.contains("iat") || !c["iat"].is_number() || c["iat"].get<int64_t>() - kLeeway.count() > now) {
    return Refused("the ID token was issued in the future");
  }
  if (!c.contains("sub") || !c["sub"].is_string() || c["sub"].get<std::string>().empty() ||
      c["sub"].get<std::string>().size() > 255) {
    return Refused("the ID token names no subject");
  }
  if (!c.contains("nonce") || !c["nonce"].is_string() ||
      !crypto::ConstantTimeEquals(c["nonce"].get<std::string>(), expected.nonce)) {
    return Refused("the ID token's nonce is not this sign-in's");
  }
  if (!expected.vot.empty() && (!c.contains("vot") || c["vot"] != expected.vot)) {
    return Refused("the ID token's level of authentication (vot) is not the one asked for");
  }
  return std::move(v.payload);
}

struct Client::Impl {
  ProviderSettings settings;
  const Clock& clock;
  RsaKey key;
  std::mutex mu;
  std::optional<Discovery> discovery;  // guarded by mu
  std::string jwks;                    // guarded by mu
  SystemTime jwks_fetched{};           // guarded by mu

  Impl(ProviderSettings s, const Clock& c, RsaKey k) : settings(std::move(s)), clock(c), key(std::move(k)) {}

  std::string DiscoveryUrl() const {
    std::string base = settings.issuer;
    if (base.ends_with("/")) base.pop_back();
    return base + "/.well-known/openid-configuration";
  }

  // The discovery document, fetched when the cached copy is older than its max-age; a failed
  // refresh keeps the cached copy.
  Result<Discovery> Discover() {
    SystemTime now = clock.Now();
    {
      std::lock_guard lock(mu);
      if (discovery && now < discovery->expires) return *discovery;
    }
    auto fetched = FetchDiscovery(now);
    std::lock_guard lock(mu);
    if (!fetched.ok()) {
      if (discovery) return *discovery;
      return fetched.error();
    }
    discovery = *fetched;
    return *discovery;
  }

  Result<Discovery> FetchDiscovery(SystemTime now) const {
    STEWARD_ASSIGN_OR_RETURN(Reply r, Fetch(DiscoveryUrl(), "", "", settings.timeout));
    if (r.status != 200) {
      return Unavailable("the sign-in service's discovery document answered " + std::to_string(r.status));
    }
    Json d = Json::parse(r.body, nullptr, false);
    if (!d.is_object()) return Unavailable("the sign-in service's discovery document is not JSON");
    if (d.value("issuer", "") != settings.issuer) {
      return Unavailable("the sign-in service's discovery document names another issuer than the site file's");
    }
    Discovery out;
    auto text = [&](const char* name) {
      return d.contains(name) && d[name].is_string() ? d[name].get<std::string>() : "";
    };
    out.authorization = text("authorization_endpoint");
    out.token = text("token_endpoint");
    out.userinfo = text("userinfo_endpoint");
    out.end_session = text("end_session_endpoint");
    out.jwks_uri = text("jwks_uri");
    if (out.authorization.empty() || out.token.empty() || out.jwks_uri.empty()) {
      return Unavailable("the sign-in service's discovery document lacks an endpoint");
    }
    Duration age = kMaxDiscoveryAge;
    if (size_t at = r.cache_control.find("max-age="); at != std::string::npos) {
      int64_t seconds = std::atoll(r.cache_control.c_str() + at + 8);
      if (seconds >= 0) age = std::min<Duration>(age, std::chrono::seconds(seconds));
    }
    out.fetched = now;
    out.expires = now + age;
    return out;
  }

  // The provider's JWK Set: the cached one, or (when `refresh` and not fetched in the last minute)
  // a fresh one.
  Result<std::string> Keys(const Discovery& d, bool refresh) {
    SystemTime now = clock.Now();
    {
      std::lock_guard lock(mu);
      if (!jwks.empty() && (!refresh || now - jwks_fetched < kJwksRefetch)) return jwks;
    }
    STEWARD_ASSIGN_OR_RETURN(Reply r, Fetch(d.jwks_uri, "", "", settings.timeout));
    if (r.status != 200) return Unavailable("the sign-in service's keys answered " + std::to_string(r.status));
    std::lock_guard lock(mu);
    jwks = r.body;
    jwks_fetched = now;
    return jwks;
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Open(ProviderSettings settings, const Clock& clock) {
  STEWARD_ASSIGN_OR_RETURN(RsaKey key, RsaKey::Load(settings.private_key));
  return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(std::move(settings), clock, std::move(key))));
}

const ProviderSettings& Client::settings() const { return impl_->settings; }
const RsaKey& Client::key() const { return impl_->key; }
std::string Client::Jwks() const { return R"({"keys":[)" + impl_->key.PublicJwk() + "]}"; }

Result<Authorization> Client::Begin(std::string_view redirect_uri) {
  STEWARD_ASSIGN_OR_RETURN(Discovery d, impl_->Discover());
  Authorization a;
  a.state = Base64Url(crypto::RandomBytes(16));
  a.nonce = Base64Url(crypto::RandomBytes(16));
  a.verifier = Base64Url(crypto::RandomBytes(32));
  const ProviderSettings& s = impl_->settings;
  std::string url = d.authorization + (d.authorization.find('?') == std::string::npos ? "?" : "&");
  std::string scopes;
  for (const auto& scope : s.scopes) scopes += (scopes.empty() ? "" : " ") + scope;
  url += "response_type=code&scope=" + http::PercentEncode(scopes) + "&client_id=" + http::PercentEncode(s.client_id) +
         "&state=" + a.state + "&redirect_uri=" + http::PercentEncode(redirect_uri) + "&nonce=" + a.nonce +
         "&code_challenge=" + Base64Url(Sha256(a.verifier)) + "&code_challenge_method=S256";
  if (!s.vtr.empty()) url += "&vtr=" + http::PercentEncode(JsonText(Json::array({s.vtr})));
  if (!s.ui_locales.empty()) url += "&ui_locales=" + http::PercentEncode(s.ui_locales);
  a.url = std::move(url);
  return a;
}

Result<Identity> Client::Finish(std::string_view code, std::string_view redirect_uri, std::string_view nonce,
                                std::string_view verifier) {
  if (code.empty() || code.size() > 1024) return Refused("the sign-in service sent no usable code");
  STEWARD_ASSIGN_OR_RETURN(Discovery d, impl_->Discover());
  const ProviderSettings& s = impl_->settings;
  int64_t now = Epoch(impl_->clock.Now());
  Json assertion = {{"iss", s.client_id}, {"sub", s.client_id}, {"aud", d.token},
                    {"iat", now},         {"exp", now + 300},   {"jti", Base64Url(crypto::RandomBytes(16))}};
  STEWARD_ASSIGN_OR_RETURN(std::string jwt, impl_->key.Sign(JsonText(assertion)));
  std::string form = "grant_type=authorization_code&code=" + http::PercentEncode(code) +
                     "&redirect_uri=" + http::PercentEncode(redirect_uri) + "&client_assertion_type=" +
                     http::PercentEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                     "&client_assertion=" + jwt + "&code_verifier=" + http::PercentEncode(verifier);
  STEWARD_ASSIGN_OR_RETURN(Reply r, Fetch(d.token, form, "", s.timeout));
  if (r.status != 200) {
    return Unavailable("the sign-in service refused the code: " + std::to_string(r.status) + ErrorCodeOf(r.body));
  }
  Json t = Json::parse(r.body, nullptr, false);
  if (!t.is_object() || !t.contains("id_token") || !t["id_token"].is_string() || !t.contains("access_token") ||
      !t["access_token"].is_string() || ToLower(t.value("token_type", "")) != "bearer") {
    return Unavailable("the sign-in service's token response lacks a token");
  }
  Identity id;
  id.id_token = t["id_token"].get<std::string>();
  std::string access = t["access_token"].get<std::string>();
  Expected expected{
      .issuer = s.issuer, .client_id = s.client_id, .nonce = std::string(nonce), .vot = "", .now = impl_->clock.Now()};
  if (!s.vtr.empty()) expected.vot = s.vtr;
  STEWARD_ASSIGN_OR_RETURN(std::string keys, impl_->Keys(d, false));
  auto claims = CheckIdToken(id.id_token, keys, expected);
  if (!claims.ok() && claims.error().message.starts_with("no key")) {
    // The provider may have rotated its keys since they were fetched.
    STEWARD_ASSIGN_OR_RETURN(keys, impl_->Keys(d, true));
    claims = CheckIdToken(id.id_token, keys, expected);
  }
  if (!claims.ok()) return claims.error();
  Json c = Json::parse(*claims);
  id.sub = c["sub"].get<std::string>();
  id.vot = c.contains("vot") && c["vot"].is_string() ? c["vot"].get<std::string>() : "";
  if (d.userinfo.empty()) return Unavailable("the sign-in service offers no userinfo endpoint");
  STEWARD_ASSIGN_OR_RETURN(Reply u, Fetch(d.userinfo, "", access, s.timeout));
  if (u.status != 200) return Unavailable("the sign-in service's userinfo answered " + std::to_string(u.status));
  Json info = Json::parse(u.body, nullptr, false);
  if (!info.is_object() || info.value("sub", "") != id.sub) {
    return Refused("the sign-in service's userinfo is about someone else");
  }
  if (info.contains("email") && info["email"].is_string()) id.email = info["email"].get<std::string>();
  id.email_verified = info.contains("email_verified") && info["email_verified"] == true;
  return id;
}

Result<std::string> Client::LogoutUrl(std::string_view id_token_hint, std::string_view post_logout_redirect_uri,
                                      std::string_view state) {
  STEWARD_ASSIGN_OR_RETURN(Discovery d, impl_->Discover());
  if (d.end_session.empty()) return MakeError(ErrorCode::kFailedPrecondition, "the sign-in service has no sign-out");
  return d.end_session + (d.end_session.find('?') == std::string::npos ? "?" : "&") +
         "id_token_hint=" + http::PercentEncode(id_token_hint) +
         "&post_logout_redirect_uri=" + http::PercentEncode(post_logout_redirect_uri) +
         "&state=" + http::PercentEncode(state);
}

}  // namespace steward::oidc
