// JSON Web Signatures for OpenID Connect, over OpenSSL: the site's RSA key signing its client
// assertions (private_key_jwt, RS256), its public half as a JWK, and checking a provider's tokens
// against the provider's JWK Set (RS256, PS256, ES256; never "none", never HMAC).
//
// Thread safety: RsaKey is immutable after Load and safe for concurrent use; the functions are pure.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace steward::oidc {

// Base64url without padding (RFC 7515 section 2).
std::string Base64Url(std::string_view bytes);
std::optional<std::string> FromBase64Url(std::string_view text);

// The site's private RSA key (a PEM file, at least 2048 bits), as GOV.UK One Login asks of a client.
class RsaKey {
 public:
  // Errors: kInvalidArgument "FILE: ..." (unreadable, not a private key, not RSA, too short).
  static Result<RsaKey> Load(const std::string& pem_file);
  // A compact JWS of `payload_json` signed RS256, its header naming the key's kid.
  Result<std::string> Sign(std::string_view payload_json) const;
  // {"kty":"RSA","n":..,"e":..,"kid":..,"alg":"RS256","use":"sig"}: the public key to register.
  std::string PublicJwk() const;
  // The public key as PEM (SubjectPublicKeyInfo), which One Login's registration form takes.
  std::string PublicPem() const;
  // The RFC 7638 thumbprint of the public key.
  const std::string& kid() const { return kid_; }

 private:
  std::shared_ptr<void> key_;  // EVP_PKEY
  std::string n_, e_, kid_;
};

// A verified JWS: its header and payload, as JSON text.
struct Verified {
  std::string header, payload;
};

// Checks a compact JWS against a JWK Set (JSON text): the key the header's kid names (or, without a
// kid, the set's only key of the algorithm's type), the header's alg among `allowed` and fit for
// that key (a key's own "alg", when it has one, must match). Errors: kPermissionDenied with the
// reason (malformed, unknown key, algorithm, signature); never the token's content.
Result<Verified> VerifyJws(std::string_view token, std::string_view jwks, const std::vector<std::string>& allowed);

}  // namespace steward::oidc
