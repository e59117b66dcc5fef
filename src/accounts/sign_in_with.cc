#include "accounts/sign_in_with.h"

#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "oidc/jose.h"
#include "site/pages.h"

namespace steward::accounts {
namespace {

using Json = nlohmann::json;
using http::Request;
using http::Response;

constexpr int64_t kFlowSeconds = int64_t{10} * 60;     // to sign in at the provider
constexpr int64_t kPendingSeconds = int64_t{30} * 60;  // to fill in the form here
constexpr const char* kContext = "accounts.signin";

int64_t Epoch(SystemTime t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

}  // namespace

std::string SignInCookieName(bool https) { return https ? "__Host-steward_signin" : "steward_signin"; }

struct SignInWith::Impl {
  module::Platform& p;
  Accounts& accounts;
  std::unique_ptr<oidc::Client> client;
  std::string key;

  Impl(module::Platform& platform, Accounts& a, std::unique_ptr<oidc::Client> c)
      : p(platform), accounts(a), client(std::move(c)) {
    auto k = p.key.DeriveKey("acctsign");
    key.assign(reinterpret_cast<const char*>(k.data()), k.size());
  }

  std::string Callback() const { return p.base_url() + "/account/sign-in/oidc/callback"; }

  http::SetCookie Cookie(const Request& req, const Json& content) const {
    // Privacy: the account's dataset: sealed, so the browser holds it but cannot read or change it.
    return http::SetCookie{.name = SignInCookieName(req.https),
                           .value = oidc::Base64Url(crypto::SealAead(key, JsonText(content), kContext)),
                           .secure = req.https,
                           .http_only = true,
                           .same_site = http::SameSite::kLax};
  }

  // The cookie's content when it is of `kind` and has not expired.
  std::optional<Json> Read(const Request& req, std::string_view kind) const {
    auto cookies = req.Cookies();
    std::string value = module::Field(cookies, SignInCookieName(req.https));
    if (value.empty() || value.size() > 4096) return std::nullopt;
    auto sealed = oidc::FromBase64Url(value);
    if (!sealed) return std::nullopt;
    auto text = crypto::OpenAead(key, *sealed, kContext);
    if (!text) return std::nullopt;
    Json j = Json::parse(*text, nullptr, false);
    if (!j.is_object() || j.value("k", "") != kind || j.value("exp", int64_t{0}) < Epoch(p.clock.Now())) {
      return std::nullopt;
    }
    return j;
  }
};

SignInWith::SignInWith(module::Platform& p, Accounts& accounts, std::unique_ptr<oidc::Client> client)
    : impl_(std::make_unique<Impl>(p, accounts, std::move(client))) {}
SignInWith::~SignInWith() = default;

const oidc::ProviderSettings& SignInWith::settings() const { return impl_->client->settings(); }
std::string SignInWith::Jwks() const { return impl_->client->Jwks(); }

Response SignInWith::Problem(const Request& req, std::string heading, std::string text, int status) const {
  html::Object data{{"site", impl_->p.config.site.name},
                    {"heading", heading},
                    {"text", std::move(text)},
                    {"provider", settings().name}};
  Response r = impl_->p.pages->Page(req, "account_sign_in_problem", heading, std::move(data), status);
  r.SetHeader("Cache-Control", "no-store");
  r.cookies.push_back(Cleared(req));
  return r;
}

Response SignInWith::Start(const Request& req) {
  auto a = impl_->client->Begin(impl_->Callback());
  if (!a.ok()) {
    log::Warn("accounts.oidc_unavailable", {{"error", a.error().message}, {"request_id", req.request_id}});
    return Problem(req, settings().name + " is not available at the moment",
                   "Try again in a few minutes, or sign in with your email address and password.", 503);
  }
  Json flow = {{"k", "flow"},
               {"state", a->state},
               {"nonce", a->nonce},
               {"verifier", a->verifier},
               {"exp", Epoch(impl_->p.clock.Now()) + kFlowSeconds}};
  Response r = Response::Redirect(a->url, 303);
  r.SetHeader("Cache-Control", "no-store");
  r.cookies.push_back(impl_->Cookie(req, flow));
  return r;
}

std::variant<SignInWith::SignedIn, Response> SignInWith::Callback(const Request& req, const Actor& actor) {
  const std::string& name = settings().name;
  auto query = req.Query();
  auto flow = impl_->Read(req, "flow");
  if (!query.ok() || !flow) {
    return Problem(req, "Your sign-in did not finish",
                   "It took longer than 10 minutes, or began in another browser. Start again.", 400);
  }
  std::string error = module::Field(*query, "error");
  if (!error.empty()) {
    // The person turned back at the provider, or it could not sign them in.
    if (error == "access_denied") {
      return Problem(req, "You did not finish signing in with " + name, "Start again, or sign in with your password.",
                     400);
    }
    log::Warn("accounts.oidc_refused", {{"error", error.substr(0, 40)}, {"request_id", req.request_id}});
    return Problem(req, name + " could not sign you in", "Try again in a few minutes.", 502);
  }
  if (!crypto::ConstantTimeEquals(module::Field(*query, "state"), flow->value("state", ""))) {
    return Problem(req, "Your sign-in did not finish",
                   "The answer from " + name + " was not for this sign-in. Start again.", 400);
  }
  auto id = impl_->client->Finish(module::Field(*query, "code"), impl_->Callback(), flow->value("nonce", ""),
                                  flow->value("verifier", ""));
  if (!id.ok()) {
    // The reason names a claim or a status, never a token or a person.
    log::Warn("accounts.oidc_failed", {{"error", id.error().message}, {"request_id", req.request_id}});
    if (id.error().code == ErrorCode::kUnavailable) {
      return Problem(req, name + " is not available at the moment",
                     "Try again in a few minutes, or sign in with your email address and password.", 503);
    }
    return Problem(req, name + " could not sign you in", "Start again. If it happens again, tell us.", 403);
  }
  if (id->email.empty() || !id->email_verified) {
    return Problem(req, name + " did not give us a confirmed email address",
                   "Your account here is kept by your email address. Confirm it in " + name + ", then start again.",
                   403);
  }
  std::string identity = impl_->accounts.IdentityHash(settings().issuer, id->sub);
  auto linked = impl_->accounts.SignInLinked(identity, actor);
  if (linked.ok() && !*linked) linked = impl_->accounts.LinkByEmail(identity, id->email, actor);
  if (!linked.ok()) return impl_->p.pages->ErrorFor(linked.error(), req);
  if (*linked) return SignedIn{**linked, id->id_token};
  // New here: the form asks what the site needs; nothing is kept until it is sent.
  Json pending = {{"k", "new"},
                  {"identity", identity},
                  {"email", id->email},
                  {"id_token", id->id_token},
                  {"exp", Epoch(impl_->p.clock.Now()) + kPendingSeconds}};
  Response r = Response::Redirect("/account/register/oidc", 303);
  r.SetHeader("Cache-Control", "no-store");
  r.cookies.push_back(impl_->Cookie(req, pending));
  return r;
}

std::optional<SignInWith::Pending> SignInWith::PendingOf(const Request& req) const {
  auto j = impl_->Read(req, "new");
  if (!j) return std::nullopt;
  return Pending{j->value("identity", ""), j->value("email", ""), j->value("id_token", "")};
}

std::optional<std::string> SignInWith::HintFor(const Request& req, int64_t account) const {
  auto j = impl_->Read(req, "hint");
  if (!j || j->value("account", int64_t{0}) != account) return std::nullopt;
  return j->value("id_token", "");
}

http::SetCookie SignInWith::HintCookie(const Request& req, int64_t account, const std::string& id_token) const {
  // As long as the longest session (staff::SessionPolicy's 12 hours).
  return impl_->Cookie(req, {{"k", "hint"},
                             {"account", account},
                             {"id_token", id_token},
                             {"exp", Epoch(impl_->p.clock.Now()) + int64_t{12} * 3600}});
}

http::SetCookie SignInWith::Cleared(const Request& req) const {
  return http::SetCookie::Expired(SignInCookieName(req.https));
}

std::string SignInWith::SignOutPolicy() const {
  // The issuer's origin: its scheme and authority. One Login's sign-out is on the issuer's host.
  const std::string& issuer = settings().issuer;
  size_t start = issuer.find("://");
  size_t end = start == std::string::npos ? std::string::npos : issuer.find('/', start + 3);
  return http::ContentSecurityPolicy(issuer.substr(0, end));
}

Result<std::string> SignInWith::LogoutUrl(const std::string& id_token) const {
  return impl_->client->LogoutUrl(id_token, impl_->p.base_url() + "/account/signed-out",
                                  oidc::Base64Url(crypto::RandomBytes(12)));
}

}  // namespace steward::accounts
