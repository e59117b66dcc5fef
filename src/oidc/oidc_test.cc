#include "oidc/oidc.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "crypto/crypto.h"
#include "oidc/jose.h"

namespace steward::oidc {
namespace {

using Json = nlohmann::json;

TEST(Base64UrlTest, RoundTripsEveryLength) {
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    auto back = FromBase64Url(Base64Url(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Url("\xfb\xff"), "-_8");
  EXPECT_FALSE(FromBase64Url("a").has_value());      // no such length
  EXPECT_FALSE(FromBase64Url("ab+/").has_value());   // the other alphabet
  EXPECT_FALSE(FromBase64Url("Zm9v=").has_value());  // padding
  EXPECT_FALSE(FromBase64Url("Zh").has_value());     // bits left over: two texts would mean one value
}

// An EC P-256 provider key made for the test: signs ES256 tokens and gives its JWK.
class EcKey {
 public:
  EcKey() : key_(EVP_EC_gen("P-256")) {}
  ~EcKey() { EVP_PKEY_free(key_); }

  std::string Jwk(const std::string& kid) const {
    unsigned char point[65];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(key_, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
    std::string x(reinterpret_cast<char*>(point) + 1, 32), y(reinterpret_cast<char*>(point) + 33, 32);
    return Json{{"kty", "EC"}, {"crv", "P-256"}, {"x", Base64Url(x)}, {"y", Base64Url(y)},
                {"kid", kid},  {"alg", "ES256"}, {"use", "sig"}}
        .dump();
  }

  std::string Sign(const Json& header, const Json& claims) const {
    std::string input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    size_t size = 0;
    EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(md, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string der(size, '\0');
    EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &size,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(md);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(size));
    unsigned char raw[64] = {};
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
    ECDSA_SIG_free(sig);
    return input + "." + Base64Url(std::string_view(reinterpret_cast<char*>(raw), 64));
  }

 private:
  EVP_PKEY* key_;
};

// An RSA key of the site's, in a PEM file.
class RsaFile {
 public:
  explicit RsaFile(int bits = 2048) {
    path_ = (std::filesystem::temp_directory_path() / ("steward-oidc-" + crypto::RandomHex(6) + ".pem")).string();
    EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned>(bits));
    FILE* f = std::fopen(path_.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    EVP_PKEY_free(key);
  }
  ~RsaFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class JoseTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::Init().ok()); }
};

TEST_F(JoseTest, TheSitesKeySignsWhatItsPublicJwkVerifies) {
  RsaFile file;
  auto key = RsaKey::Load(file.path());
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto jwt = key->Sign(R"({"iss":"steward-test"})");
  ASSERT_TRUE(jwt.ok());
  std::string jwks = R"({"keys":[)" + key->PublicJwk() + "]}";
  auto v = VerifyJws(*jwt, jwks, {"RS256"});
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(Json::parse(v->payload)["iss"], "steward-test");
  EXPECT_EQ(Json::parse(v->header)["kid"], key->kid());
  EXPECT_EQ(key->kid().size(), 43u);  // a SHA-256 thumbprint, base64url
  EXPECT_TRUE(key->PublicPem().starts_with("-----BEGIN PUBLIC KEY-----"));
  EXPECT_EQ(key->PublicPem().find("PRIVATE"), std::string::npos);

  // One changed character of the payload, the signature, or an algorithm not allowed: refused.
  std::string changed = *jwt;
  changed[changed.find('.') + 3] ^= 1;
  EXPECT_EQ(VerifyJws(changed, jwks, {"RS256"}).error().code, ErrorCode::kPermissionDenied);
  std::string resigned = jwt->substr(0, jwt->rfind('.') + 1) + Base64Url(std::string(256, 'x'));
  EXPECT_FALSE(VerifyJws(resigned, jwks, {"RS256"}).ok());
  EXPECT_FALSE(VerifyJws(*jwt, jwks, {"ES256"}).ok());
}

TEST_F(JoseTest, KeysThatAreNotFitAreRefusedWithTheFile) {
  RsaFile small(1024);
  auto key = RsaKey::Load(small.path());
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find(small.path()), std::string::npos);
  EXPECT_NE(key.error().message.find("2048"), std::string::npos);
  EXPECT_FALSE(RsaKey::Load("/nonexistent/key.pem").ok());
  std::string text = (std::filesystem::temp_directory_path() / ("steward-oidc-" + crypto::RandomHex(6))).string();
  std::ofstream(text) << "not a key\n";
  EXPECT_NE(RsaKey::Load(text).error().message.find("not a private key"), std::string::npos);
  std::filesystem::remove(text);
}

TEST_F(JoseTest, AlgorithmsThatAreNotSignaturesAreRefused) {
  EcKey ec;
  std::string jwks = R"({"keys":[)" + ec.Jwk("k1") + "]}";
  std::string body = Base64Url(R"({"sub":"x"})");
  // alg "none": no signature at all.
  EXPECT_FALSE(VerifyJws(Base64Url(R"({"alg":"none"})") + "." + body + ".", jwks, {"ES256", "RS256"}).ok());
  // HS256 keyed with the public key: the classic confusion.
  EXPECT_FALSE(VerifyJws(Base64Url(R"({"alg":"HS256","kid":"k1"})") + "." + body + ".abc", jwks, {"ES256"}).ok());
  // RS256 claimed over an EC key.
  EXPECT_FALSE(ec.Sign({{"alg", "ES256"}, {"kid", "k1"}}, {{"sub", "x"}}).empty());
  std::string rs = ec.Sign({{"alg", "RS256"}, {"kid", "k1"}}, {{"sub", "x"}});
  EXPECT_FALSE(VerifyJws(rs, jwks, {"ES256", "RS256"}).ok());
  // Not three parts.
  EXPECT_FALSE(VerifyJws("a.b", jwks, {"ES256"}).ok());
  EXPECT_FALSE(VerifyJws("a.b.c.d", jwks, {"ES256"}).ok());
  EXPECT_FALSE(VerifyJws("", "not json", {"ES256"}).ok());
}

class IdTokenTest : public JoseTest {
 protected:
  SystemTime now = std::chrono::system_clock::from_time_t(1'800'000'000);
  int64_t t = 1'800'000'000;
  EcKey ec;
  std::string jwks = R"({"keys":[)" + ec.Jwk("op-1") + "]}";
  Expected expected{
      .issuer = "https://oidc.example.test/", .client_id = "steward", .nonce = "n-123", .vot = "Cl.Cm", .now = now};

  Json Claims() const {
    return {{"iss", "https://oidc.example.test/"},
            {"aud", "steward"},
            {"sub", "urn:fdc:gov.uk:2022:abc"},
            {"exp", t + 180},
            {"iat", t - 5},
            {"nonce", "n-123"},
            {"vot", "Cl.Cm"},
            {"vtm", "https://oidc.example.test/trustmark"}};
  }
  std::string Token(const Json& claims, const std::string& kid = "op-1") const {
    return ec.Sign({{"alg", "ES256"}, {"kid", kid}, {"typ", "JWT"}}, claims);
  }
  std::string Why(const Json& claims) const {
    auto r = CheckIdToken(Token(claims), jwks, expected);
    if (r.ok()) return "accepted";
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
    EXPECT_EQ(r.error().message.find("urn:fdc"), std::string::npos);  // never the token's content
    return r.error().message;
  }
};

TEST_F(IdTokenTest, ATokenAsOneLoginSignsItIsAccepted) {
  auto r = CheckIdToken(Token(Claims()), jwks, expected);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(Json::parse(*r)["sub"], "urn:fdc:gov.uk:2022:abc");
  Json several = Claims();
  several["aud"] = {"steward", "other"};
  several["azp"] = "steward";
  EXPECT_EQ(Why(several), "accepted");
  Json late = Claims();
  late["exp"] = t - 30;  // within the minute's leeway for clocks
  EXPECT_EQ(Why(late), "accepted");
}

TEST_F(IdTokenTest, EachClaimThatIsNotRightIsRefusedWithItsReason) {
  auto with = [&](const char* name, const Json& value) {
    Json c = Claims();
    if (value.is_null()) {
      c.erase(name);
    } else {
      c[name] = value;
    }
    return Why(c);
  };
  EXPECT_NE(with("iss", "https://oidc.example.test").find("another issuer"), std::string::npos);
  EXPECT_NE(with("aud", "someone-else").find("another client"), std::string::npos);
  EXPECT_NE(with("aud", Json::array({"steward", "other"})).find("another client"), std::string::npos);  // no azp
  EXPECT_NE(with("exp", t - 120).find("expired"), std::string::npos);
  EXPECT_NE(with("exp", nullptr).find("expired"), std::string::npos);
  EXPECT_NE(with("iat", t + 600).find("future"), std::string::npos);
  EXPECT_NE(with("nonce", "n-124").find("nonce"), std::string::npos);
  EXPECT_NE(with("nonce", nullptr).find("nonce"), std::string::npos);
  EXPECT_NE(with("vot", "Cl").find("vot"), std::string::npos);
  EXPECT_NE(with("vot", nullptr).find("vot"), std::string::npos);
  EXPECT_NE(with("sub", "").find("subject"), std::string::npos);

  // Signed by a key the provider does not publish, or altered after signing.
  EcKey other;
  auto foreign = CheckIdToken(other.Sign({{"alg", "ES256"}, {"kid", "op-1"}}, Claims()), jwks, expected);
  EXPECT_NE(foreign.error().message.find("signature"), std::string::npos);
  EXPECT_NE(CheckIdToken(Token(Claims(), "op-2"), jwks, expected).error().message.find("no key"), std::string::npos);

  // No vot is looked for when no vtr was asked.
  expected.vot = "";
  EXPECT_EQ(with("vot", nullptr), "accepted");
}

TEST_F(JoseTest, ClientOpensOnlyWithAUsableKey) {
  auto missing = Client::Open({.name = "GOV.UK One Login",
                               .issuer = "https://oidc.example.test/",
                               .client_id = "steward",
                               .private_key = "/nonexistent.pem"},
                              SystemClock::Instance());
  EXPECT_FALSE(missing.ok());
  RsaFile file;
  auto client = Client::Open({.name = "GOV.UK One Login",
                              .issuer = "https://oidc.example.test/",
                              .client_id = "steward",
                              .private_key = file.path()},
                             SystemClock::Instance());
  ASSERT_TRUE(client.ok()) << client.error().message;
  Json jwks = Json::parse((*client)->Jwks());
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kty"], "RSA");
  EXPECT_FALSE(jwks["keys"][0].contains("d"));  // never the private half
}

}  // namespace
}  // namespace steward::oidc
