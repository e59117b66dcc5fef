#include "crypto/crypto.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/strings.h"

namespace steward::crypto {
namespace {

class SecretKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Init().ok());
    dir_ = std::filesystem::temp_directory_path() / ("steward-key-" + RandomHex(6));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SecretKeyTest, CreatedOnceWithMode0600ThenReloadedUnchanged) {
  std::string path = dir_ / "secret.key";
  auto first = SecretKey::LoadOrCreate(path);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto second = SecretKey::LoadOrCreate(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->DeriveKey("testtest"), second->DeriveKey("testtest"));
  EXPECT_NE(first->DeriveKey("testtest", 1), first->DeriveKey("testtest", 2));
  EXPECT_NE(first->DeriveKey("testtest"), first->DeriveKey("othertst"));
}

TEST_F(SecretKeyTest, RefusesWorldReadableAndWrongSize) {
  std::string path = dir_ / "secret.key";
  ASSERT_TRUE(SecretKey::LoadOrCreate(path).ok());
  ::chmod(path.c_str(), 0644);
  auto r = SecretKey::LoadOrCreate(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);

  std::string short_path = dir_ / "short.key";
  std::ofstream(short_path) << "too short";
  ::chmod(short_path.c_str(), 0600);
  auto s = SecretKey::LoadOrCreate(short_path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kDataLoss);
}

TEST(RandomTest, HexLengthAndDistinct) {
  ASSERT_TRUE(Init().ok());
  std::string a = RandomHex(16), b = RandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(ConstantTimeEquals(a, a));
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals("a", "ab"));
}

}  // namespace
}  // namespace steward::crypto

namespace steward::crypto {
namespace {

TEST(HashTest, Blake2bKnownAnswerAndKeying) {
  ASSERT_TRUE(Init().ok());
  // BLAKE2b-256 of the empty string.
  EXPECT_EQ(HexEncode(Hash("")), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_NE(Hash("abc"), Hash("abc", std::string(32, 'k')));
  EXPECT_EQ(Hash("abc", std::string(32, 'k')), Hash("abc", std::string(32, 'k')));
}

TEST(HashTest, KeyedHashIsHashInParts) {
  ASSERT_TRUE(Init().ok());
  std::string key(32, 'k');
  KeyedHash prepared(key);
  for (const std::string& data : {std::string(), std::string("203.0.113.7"), std::string(300, 'x')}) {
    std::string whole = Hash(data, key);
    uint64_t expected = 0;
    for (int i = 0; i < 8; ++i) expected = (expected << 8) | static_cast<uint8_t>(whole[i]);
    EXPECT_EQ(prepared.Digest64({data}), expected);
    std::string_view v(data);
    EXPECT_EQ(prepared.Digest64({v.substr(0, v.size() / 3), v.substr(v.size() / 3)}), expected) << "in parts";
  }
  EXPECT_NE(KeyedHash(std::string(32, 'j')).Digest64({"a"}), prepared.Digest64({"a"}));
}

TEST(HashTest, HashOfPartsIsHashOfThemJoined) {
  ASSERT_TRUE(Init().ok());
  for (const std::string& key : {std::string(), std::string(32, 'k')}) {
    for (const std::string& data :
         {std::string(), std::string("203.0.113.7") + '\0' + "Mozilla/5.0", std::string(300, 'x')}) {
      std::array<unsigned char, 32> parts;
      std::string_view v(data);
      Hash({v.substr(0, v.size() / 3), v.substr(v.size() / 3, 5), v.substr(std::min(v.size(), v.size() / 3 + 5))}, key,
           parts);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(parts.data()), parts.size()), Hash(data, key));
    }
  }
}

TEST(RandomTest, RandomU64IsFreshEachTimeOnEveryThread) {
  ASSERT_TRUE(Init().ok());
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(RandomU64());  // several refills of the buffer
  std::thread other([&] {
    for (int i = 0; i < 2000; ++i) seen.insert(RandomU64());
  });
  other.join();
  EXPECT_EQ(seen.size(), 4000u) << "no value handed out twice, within a thread or across two";
}

TEST(HashTest, ShortHashIsSipHash24InParts) {
  ASSERT_TRUE(Init().ok());
  std::string key;
  for (int i = 0; i < 16; ++i) key.push_back(static_cast<char>(i));
  std::string message;
  for (int i = 0; i < 15; ++i) message.push_back(static_cast<char>(i));
  ShortHash hash(key);
  // The reference vectors in SipHash's paper (key 00..0f): the empty message, and 00..0e.
  EXPECT_EQ(hash.Digest64({}), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(hash.Digest64({message}), 0xa129ca6149be45e5ULL);
  std::string_view m(message);
  EXPECT_EQ(hash.Digest64({m.substr(0, 4), "", m.substr(4)}), 0xa129ca6149be45e5ULL) << "in parts";
  // Longer than the stack's buffer: the same as one part.
  std::string text(3000, 'u');
  EXPECT_EQ(hash.Digest64({std::string_view(text).substr(0, 1500), std::string_view(text).substr(1500)}),
            hash.Digest64({text}));
  EXPECT_NE(ShortHash(std::string(16, 'j')).Digest64({"a"}), hash.Digest64({"a"}));
}

TEST(SigningTest, SignsAndRejectsTampering) {
  ASSERT_TRUE(Init().ok());
  std::array<uint8_t, 32> seed{};
  seed.fill(7);
  SigningKey key(seed);
  std::string sig = key.Sign("checkpoint 1024");
  EXPECT_TRUE(VerifySignature(key.public_key(), "checkpoint 1024", sig));
  EXPECT_FALSE(VerifySignature(key.public_key(), "checkpoint 1025", sig));
  sig[0] ^= 1;
  EXPECT_FALSE(VerifySignature(key.public_key(), "checkpoint 1024", sig));
  EXPECT_EQ(SigningKey(seed).public_key(), key.public_key()) << "the same seed gives the same key";
}

TEST(SealTest, RoundTripAndRefusesTamperingOrTheWrongKey) {
  ASSERT_TRUE(Init().ok());
  std::string key(32, 'k'), other(32, 'o');
  std::string box = Seal(key, "totp secret");
  EXPECT_EQ(Unseal(key, box), "totp secret");
  EXPECT_FALSE(Unseal(other, box).has_value());
  box.back() ^= 1;
  EXPECT_FALSE(Unseal(key, box).has_value());
  EXPECT_NE(Seal(key, "x"), Seal(key, "x")) << "a fresh nonce each time";
  EXPECT_FALSE(Unseal(key, "short").has_value());
}

TEST(SealTest, AeadOpensOnlyWithItsKeyAndContext) {
  ASSERT_TRUE(Init().ok());
  std::string key(32, 'k'), other(32, 'o');
  std::string box = SealAead(key, "someone@example.org", "feedback_items:7:email");
  EXPECT_EQ(box.size(), 24 + 19 + 16u) << "nonce, text, tag";
  EXPECT_EQ(OpenAead(key, box, "feedback_items:7:email"), "someone@example.org");
  EXPECT_FALSE(OpenAead(key, box, "feedback_items:8:email").has_value()) << "moved to another row";
  EXPECT_FALSE(OpenAead(other, box, "feedback_items:7:email").has_value());
  std::string altered = box;
  altered[30] ^= 1;
  EXPECT_FALSE(OpenAead(key, altered, "feedback_items:7:email").has_value());
  EXPECT_EQ(OpenAead(key, SealAead(key, "", "c"), "c"), "") << "empty text seals too";
  EXPECT_NE(SealAead(key, "x", "c"), SealAead(key, "x", "c"));
  EXPECT_FALSE(OpenAead(key, "short", "c").has_value());
}

TEST(PasswordTest, Argon2idRoundTrip) {
  ASSERT_TRUE(Init().ok());
  auto stored = HashPassword("correct horse battery staple");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(*stored, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*stored, "correct horse battery stapler"));
  EXPECT_FALSE(VerifyPassword("not a hash", "x"));
  EXPECT_NE(*HashPassword("same"), *HashPassword("same")) << "salted";
}

}  // namespace
}  // namespace steward::crypto

namespace steward::crypto {
namespace {

TEST(SealedBoxTest, OnlyTheRecipientOpensIt) {
  ASSERT_TRUE(Init().ok());
  auto [pk, sk] = BoxKeyPair();
  auto [other_pk, other_sk] = BoxKeyPair();
  std::string box = SealTo(pk, "a partner's share");
  EXPECT_EQ(box.find("partner"), std::string::npos);
  EXPECT_EQ(OpenSealedBox(pk, sk, box), "a partner's share");
  EXPECT_FALSE(OpenSealedBox(other_pk, other_sk, box));
  box[box.size() - 1] ^= 1;
  EXPECT_FALSE(OpenSealedBox(pk, sk, box));
}

}  // namespace
}  // namespace steward::crypto
