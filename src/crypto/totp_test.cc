#include "crypto/totp.h"

#include <gtest/gtest.h>

#include "core/strings.h"

namespace steward::crypto {
namespace {

TEST(Sha1Test, KnownAnswers) {
  // FIPS 180 examples and RFC 2202 test case 2.
  EXPECT_EQ(HexEncode(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexEncode(Sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(HexEncode(Sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(HexEncode(HmacSha1("Jefe", "what do ya want for nothing?")), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(HexEncode(HmacSha1(std::string(80, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

TEST(TotpTest, Rfc6238AppendixB) {
  const std::string secret = "12345678901234567890";
  EXPECT_EQ(TotpCode(secret, 59, 8), "94287082");
  EXPECT_EQ(TotpCode(secret, 1111111109, 8), "07081804");
  EXPECT_EQ(TotpCode(secret, 1111111111, 8), "14050471");
  EXPECT_EQ(TotpCode(secret, 1234567890, 8), "89005924");
  EXPECT_EQ(TotpCode(secret, 2000000000, 8), "69279037");
  EXPECT_EQ(TotpCode(secret, 20000000000, 8), "65353130");
}

TEST(TotpTest, VerifyAllowsOneStepOfDriftAndNoMore) {
  const std::string secret = "12345678901234567890";
  FakeClock clock(SystemTime(std::chrono::seconds(1111111111)));
  std::string code = TotpCode(secret, 1111111111);
  int64_t step = 0;
  EXPECT_TRUE(TotpVerify(secret, code, clock.Now(), &step));
  EXPECT_EQ(step, 1111111111 / 30);
  clock.Advance(std::chrono::seconds(30));
  EXPECT_TRUE(TotpVerify(secret, code, clock.Now())) << "one step late is accepted";
  clock.Advance(std::chrono::seconds(30));
  EXPECT_FALSE(TotpVerify(secret, code, clock.Now())) << "two steps late is not";
  EXPECT_FALSE(TotpVerify(secret, "12345", clock.Now()));
}

TEST(Base32Test, Rfc4648Vectors) {
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(*Base32Decode("MZXW6YTBOI"), "foobar");
  EXPECT_EQ(*Base32Decode("mzxw 6ytb oi======"), "foobar");
  EXPECT_FALSE(Base32Decode("MZXW1").has_value());
  std::string twenty = "12345678901234567890";
  EXPECT_EQ(*Base32Decode(Base32Encode(twenty)), twenty);
}

}  // namespace
}  // namespace steward::crypto
