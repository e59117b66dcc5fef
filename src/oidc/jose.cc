#include "oidc/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include <cstdio>

#include "core/json_text.h"

namespace steward::oidc {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

using Json = nlohmann::json;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

Error Refused(std::string why) { return MakeError(ErrorCode::kPermissionDenied, std::move(why)); }

std::string BnBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

BnPtr BnOf(std::string_view bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr),
               &BN_free);
}

// A public key from a JWK: RSA (n, e) or EC P-256 (x, y). Null when it is neither or malformed.
KeyPtr FromJwk(const Json& jwk) {
  KeyPtr none(nullptr, &EVP_PKEY_free);
  std::string kty = jwk.value("kty", "");
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), &OSSL_PARAM_BLD_free);
  BnPtr n(nullptr, &BN_free), e(nullptr, &BN_free);
  std::string point;
  const char* type = nullptr;
  if (kty == "RSA") {
    auto nb = FromBase64Url(jwk.value("n", "")), eb = FromBase64Url(jwk.value("e", ""));
    if (!nb || !eb || nb->size() < 256 || eb->empty()) return none;  // 2048 bits at least
    n = BnOf(*nb);
    e = BnOf(*eb);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    type = "RSA";
  } else if (kty == "EC" && jwk.value("crv", "") == "P-256") {
    auto x = FromBase64Url(jwk.value("x", "")), y = FromBase64Url(jwk.value("y", ""));
    if (!x || !y || x->size() != 32 || y->size() != 32) return none;
    point = "\x04" + *x + *y;
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    type = "EC";
  } else {
    return none;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()), &OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr),
                                                                  &EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return none;
  }
  return KeyPtr(key, &EVP_PKEY_free);
}

// ES256's signature is r and s, 32 bytes each; OpenSSL verifies DER.
std::optional<std::string> EcdsaDer(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool VerifyWith(EVP_PKEY* key, const std::string& alg, std::string_view input, std::string signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, key) != 1) return false;
  if (alg == "PS256") {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return false;
    }
  }
  if (alg == "ES256") {
    auto der = EcdsaDer(signature);
    if (!der) return false;
    signature = std::move(*der);
  }
  return EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

}  // namespace

std::string Base64Url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = at(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Left-over bits must be zero: one text, one value.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Result<RsaKey> RsaKey::Load(const std::string& pem_file) {
  FILE* f = std::fopen(pem_file.c_str(), "r");
  if (f == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, pem_file + ": cannot read the private key");
  }
  EVP_PKEY* raw = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (raw == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     pem_file +
                         ": not a private key in PEM (make one with openssl genpkey -algorithm RSA "
                         "-pkeyopt rsa_keygen_bits:2048)");
  }
  KeyPtr key(raw, &EVP_PKEY_free);
  if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_RSA || EVP_PKEY_get_bits(raw) < 2048) {
    return MakeError(ErrorCode::kInvalidArgument, pem_file + ": the key must be RSA of 2048 bits or more");
  }
  BIGNUM *n = nullptr, *e = nullptr;
  if (EVP_PKEY_get_bn_param(raw, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
      EVP_PKEY_get_bn_param(raw, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    BN_free(n);
    return MakeError(ErrorCode::kInvalidArgument, pem_file + ": cannot read the key's public half");
  }
  RsaKey out;
  out.n_ = Base64Url(BnBytes(n));
  out.e_ = Base64Url(BnBytes(e));
  BN_free(n);
  BN_free(e);
  // RFC 7638: the required members in lexicographic order, no spaces.
  std::string thumb = R"({"e":")" + out.e_ + R"(","kty":"RSA","n":")" + out.n_ + R"("})";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(thumb.data()), thumb.size(), digest);
  out.kid_ = Base64Url(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
  out.key_ = std::shared_ptr<void>(key.release(), [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
  return out;
}

Result<std::string> RsaKey::Sign(std::string_view payload_json) const {
  Json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid_}};
  std::string input = Base64Url(JsonText(header)) + "." + Base64Url(payload_json);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  auto* key = static_cast<EVP_PKEY*>(key_.get());
  size_t size = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &size, in, input.size()) != 1) {
    return MakeError(ErrorCode::kInternal, "cannot sign with the site's key");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, in, input.size()) != 1) {
    return MakeError(ErrorCode::kInternal, "cannot sign with the site's key");
  }
  signature.resize(size);
  return input + "." + Base64Url(signature);
}

std::string RsaKey::PublicJwk() const {
  return JsonText(Json{{"kty", "RSA"}, {"n", n_}, {"e", e_}, {"kid", kid_}, {"alg", "RS256"}, {"use", "sig"}});
}

std::string RsaKey::PublicPem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), static_cast<EVP_PKEY*>(key_.get()));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<Verified> VerifyJws(std::string_view token, std::string_view jwks, const std::vector<std::string>& allowed) {
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return Refused("the token is not a compact JWS");
  }
  auto header = FromBase64Url(token.substr(0, a));
  auto payload = FromBase64Url(token.substr(a + 1, b - a - 1));
  auto signature = FromBase64Url(token.substr(b + 1));
  if (!header || !payload || !signature) return Refused("the token is not base64url");
  Json h = Json::parse(*header, nullptr, false);
  if (!h.is_object() || !h.contains("alg") || !h["alg"].is_string()) return Refused("the token's header has no alg");
  std::string alg = h["alg"].get<std::string>();
  if (std::find(allowed.begin(), allowed.end(), alg) == allowed.end()) {
    return Refused("the token is signed " + alg.substr(0, 16) + ", which is not accepted");
  }
  std::string kty = alg == "ES256" ? "EC" : "RSA";
  std::string kid = h.contains("kid") && h["kid"].is_string() ? h["kid"].get<std::string>() : "";
  Json set = Json::parse(jwks, nullptr, false);
  if (!set.is_object() || !set.contains("keys") || !set["keys"].is_array()) return Refused("the JWK Set is malformed");
  const Json* chosen = nullptr;
  int candidates = 0;
  for (const auto& k : set["keys"]) {
    if (!k.is_object() || k.value("kty", "") != kty) continue;
    if (k.contains("use") && k["use"] != "sig") continue;
    if (!kid.empty() && k.value("kid", "") != kid) continue;
    ++candidates;
    chosen = &k;
  }
  if (chosen == nullptr || (kid.empty() && candidates != 1))
    return Refused("no key of the provider's matches the token");
  if (chosen->contains("alg") && (*chosen)["alg"] != alg) return Refused("the token's alg is not its key's");
  KeyPtr key = FromJwk(*chosen);
  if (!key) return Refused("the provider's key is malformed");
  if (!VerifyWith(key.get(), alg, token.substr(0, b), std::move(*signature))) return Refused("the signature is wrong");
  return Verified{std::move(*header), std::move(*payload)};
}

}  // namespace steward::oidc
