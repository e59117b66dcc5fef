#include "crypto/totp.h"

#include <array>
#include <cstring>

#include "crypto/crypto.h"

namespace steward::crypto {
namespace {

uint32_t Rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

}  // namespace

// FIPS 180-4, section 6.1.
std::string Sha1(std::string_view data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string msg(data);
  uint64_t bit_len = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bit_len >> (8 * i)) & 0xff));
  for (size_t block = 0; block < msg.size(); block += 64) {
    uint32_t w[80];
    for (size_t t = 0; t < 16; ++t) {
      const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + block + 4 * t);
      w[t] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    }
    for (int t = 16; t < 80; ++t) w[t] = Rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
      uint32_t f, k;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      uint32_t temp = Rotl(a, 5) + f + e + k + w[t];
      e = d;
      d = c;
      c = Rotl(b, 30);
      b = a;
      a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::string out(20, '\0');
  for (int i = 0; i < 5; ++i) {
    out[size_t{4} * i] = static_cast<char>(h[i] >> 24);
    out[4 * i + 1] = static_cast<char>(h[i] >> 16);
    out[4 * i + 2] = static_cast<char>(h[i] >> 8);
    out[4 * i + 3] = static_cast<char>(h[i]);
  }
  return out;
}

std::string HmacSha1(std::string_view key, std::string_view message) {
  std::string k(key.size() > 64 ? Sha1(key) : std::string(key));
  k.resize(64, '\0');
  std::string inner(64, '\0'), outer(64, '\0');
  for (int i = 0; i < 64; ++i) {
    inner[i] = static_cast<char>(k[i] ^ 0x36);
    outer[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  return Sha1(outer + Sha1(inner + std::string(message)));
}

std::string TotpCode(std::string_view secret, int64_t unix_seconds, int digits) {
  uint64_t counter = static_cast<uint64_t>(unix_seconds / 30);
  char msg[8];
  for (int i = 7; i >= 0; --i, counter >>= 8) msg[i] = static_cast<char>(counter & 0xff);
  std::string mac = HmacSha1(secret, std::string_view(msg, 8));
  int offset = mac[19] & 0x0f;
  uint32_t binary =
      ((static_cast<uint32_t>(mac[offset]) & 0x7f) << 24) | ((static_cast<uint32_t>(mac[offset + 1]) & 0xff) << 16) |
      ((static_cast<uint32_t>(mac[offset + 2]) & 0xff) << 8) | (static_cast<uint32_t>(mac[offset + 3]) & 0xff);
  uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string code = std::to_string(binary % mod);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

bool TotpVerify(std::string_view secret, std::string_view code, SystemTime now, int64_t* step) {
  if (code.size() != 6) return false;
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  for (int64_t drift : {0, -1, 1}) {
    int64_t at = t + drift * 30;
    if (ConstantTimeEquals(TotpCode(secret, at), code)) {
      if (step) *step = at / 30;
      return true;
    }
  }
  return false;
}

std::string Base32Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a';
    else if (c >= '2' && c <= '7')
      v = c - '2' + 26;
    else if (c == ' ' || c == '=' || c == '-')
      continue;
    else
      return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

}  // namespace steward::crypto
