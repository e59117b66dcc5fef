// Signing in through an OpenID Connect provider, in the way GOV.UK One Login requires of a service:
// the authorization code flow with PKCE (S256), `state` and `nonce`, the `vtr` level asked for and
// the ID token's `vot` checked against it, the client authenticated by `private_key_jwt` (a JWT
// signed RS256 with the site's RSA key), the ID token's signature checked against the provider's
// JWK Set, the email address read from userinfo, and sign-out at the provider with `id_token_hint`.
//
// The provider's discovery document is cached for its Cache-Control max-age (a day at most) and kept
// when a refresh fails; its JWK Set is fetched again when a token names a key it does not hold (at
// most once a minute), so the provider may rotate keys. Every request to the provider carries a
// User-Agent (One Login answers 403 without one) and gives up after the configured timeout.
//
// Privacy: the accounts dataset. `sub` and the email address pass through to the caller; nothing
// here logs or keeps them, and errors never quote a token.
//
// Thread safety: Client is safe for concurrent use.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "oidc/jose.h"

namespace steward::oidc {

struct ProviderSettings {
  std::string name;         // "GOV.UK One Login": the button says "Sign in with GOV.UK One Login"
  std::string issuer;       // "https://oidc.integration.account.gov.uk/"
  std::string client_id;    // given by the provider when the service registers
  std::string private_key;  // the site's RSA key (PEM), a path outside the repository
  std::string vtr;          // "Cl.Cm" (One Login's default, two factors), "Cl", or "" to ask none
  std::vector<std::string> scopes = {"openid", "email"};
  std::string ui_locales;  // "en", "cy" or ""
  std::chrono::seconds timeout{10};
};

// Where to send the person, and what the callback must match: keep state, nonce and verifier in
// the person's browser (sealed) until the provider sends them back.
struct Authorization {
  std::string url, state, nonce, verifier;
};

// Who the provider says signed in.
struct Identity {
  std::string sub;  // the provider's identifier of the person (One Login's is pairwise)
  std::string email;
  bool email_verified = false;
  std::string id_token;  // for sign-out's id_token_hint
  std::string vot;
};

// What an ID token must say.
struct Expected {
  std::string issuer, client_id, nonce;
  std::string vot;  // "" when no vtr was asked
  SystemTime now;
};

// Checks an ID token against the provider's JWK Set (ES256, RS256 or PS256) and `expected`: iss
// exact, aud containing the client (and azp the client when there are several), exp in the future
// and iat not in it (a minute's leeway each way), the nonce, the vot. Returns the token's claims
// (JSON text). Errors: kPermissionDenied with the reason, never the token's content.
Result<std::string> CheckIdToken(std::string_view id_token, std::string_view jwks, const Expected& expected);

class Client {
 public:
  // Loads the site's key. Errors: kInvalidArgument (the key file).
  static Result<std::unique_ptr<Client>> Open(ProviderSettings settings, const Clock& clock);
  ~Client();

  const ProviderSettings& settings() const;
  const RsaKey& key() const;
  // {"keys": [the site's public key]}: what the provider is told, as a JWKS.
  std::string Jwks() const;

  // The provider's authorize URL for a new sign-in, with a fresh state, nonce and PKCE verifier.
  // Errors: kUnavailable (the provider's discovery document cannot be had).
  Result<Authorization> Begin(std::string_view redirect_uri);
  // Exchanges the code the provider sent back (with the client assertion and the verifier), checks
  // the ID token and reads userinfo. Errors: kUnavailable (the provider did not answer as it
  // should), kPermissionDenied (the token is not right: the reason).
  Result<Identity> Finish(std::string_view code, std::string_view redirect_uri, std::string_view nonce,
                          std::string_view verifier);
  // The provider's end-session URL for this ID token, coming back to `post_logout_redirect_uri`
  // with `state`. Errors: kUnavailable, kFailedPrecondition (the provider offers no sign-out).
  Result<std::string> LogoutUrl(std::string_view id_token_hint, std::string_view post_logout_redirect_uri,
                                std::string_view state);

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::oidc
