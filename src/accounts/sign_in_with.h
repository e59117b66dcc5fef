// Signing in to an account through an OpenID Connect provider (GOV.UK One Login), for the person's
// pages (serving.h): starting the sign-in, the provider's callback, the form a new person fills in,
// and signing out at the provider.
//
// Nothing is stored before the provider has answered: what the callback must match (state, nonce,
// PKCE verifier), then for a person new here the provider's confirmed address while they fill in
// the form, then once signed in the ID token that signing out at the provider needs, each travels
// in one cookie of the person's browser, sealed (XChaCha20-Poly1305 under a key derived from the
// site's) with its own expiry.
//
// Privacy: the account's dataset ([accounts] dataset): the email address and ID token in the
// sealed cookie, the keyed hash of the provider's identifier in account_identities.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "accounts/accounts.h"
#include "http/request.h"
#include "http/response.h"
#include "module/module.h"
#include "oidc/oidc.h"

namespace steward::accounts {

// The sign-in cookie: "__Host-steward_signin" over https.
std::string SignInCookieName(bool https);

class SignInWith {
 public:
  SignInWith(module::Platform& p, Accounts& accounts, std::unique_ptr<oidc::Client> client);
  ~SignInWith();

  const oidc::ProviderSettings& settings() const;
  // {"keys": [...]}: the site's public key, for the provider.
  std::string Jwks() const;

  // GET /account/sign-in/oidc: to the provider, with what the callback must match in the cookie.
  http::Response Start(const http::Request& req);

  // The person the provider sent back, signed in to their account (linked before, or now by their
  // confirmed address).
  struct SignedIn {
    int64_t account = 0;
    std::string id_token;
  };
  // GET /account/sign-in/oidc/callback: the account signed in, or the response to send (a problem
  // page, or for a person new here the form at /account/register/oidc).
  std::variant<SignedIn, http::Response> Callback(const http::Request& req, const Actor& actor);

  // A person new here, between the callback and the form: the provider's confirmed address.
  struct Pending {
    std::string identity, email, id_token;
  };
  std::optional<Pending> PendingOf(const http::Request& req) const;

  // The ID token to sign out at the provider with, when this browser signed in to `account` there.
  std::optional<std::string> HintFor(const http::Request& req, int64_t account) const;
  // The cookie that remembers it, set at sign-in.
  http::SetCookie HintCookie(const http::Request& req, int64_t account, const std::string& id_token) const;
  // The cookie removed (a password sign-in, sign-out).
  http::SetCookie Cleared(const http::Request& req) const;
  // Where to send the person to sign out at the provider too; they come back to /account/signed-out.
  Result<std::string> LogoutUrl(const std::string& id_token) const;

  // The Content-Security-Policy of a page whose form signs out (POST /account/sign-out): the
  // browser must be let follow that form's redirect to the provider.
  std::string SignOutPolicy() const;

  // A page saying the sign-in did not work and what to do, with `status`.
  http::Response Problem(const http::Request& req, std::string heading, std::string text, int status) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::accounts
