// Randomness and the site's secret key, over libsodium.
//
// The secret key is 32 random bytes in a file of the data directory (mode 0600), created on first
// start. Other modules never see it: they ask for a sub-key derived for their own purpose
// (DeriveKey), so a key used to sign the audit trail cannot be confused with one that hashes
// visitors. The key and its sub-keys never appear in logs or errors.
//
// Thread safety: every function is safe for concurrent use after Init().
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <string_view>

#include "core/result.h"

namespace steward::crypto {

// Initialises libsodium. Call once before anything else here; safe to call again.
Status Init();

// `n` cryptographically random bytes.
std::string RandomBytes(size_t n);
// 2*`bytes` lower-case hex characters of randomness: ids, tokens, request ids.
std::string RandomHex(size_t bytes);
// 64 cryptographically random bits, from a buffer per thread that the system's generator fills
// 512 bytes at a time: for identifiers made on every request (a new visit's), without a system
// call each. Not for keys: those take RandomBytes.
uint64_t RandomU64();

// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// BLAKE2b-256 of `data`, keyed when `key` is given (16 to 64 bytes). 32 raw bytes.
std::string Hash(std::string_view data, std::string_view key = {});
// The same of `parts` as if joined, into `out`, without building the joined input.
void Hash(std::initializer_list<std::string_view> parts, std::string_view key, std::array<unsigned char, 32>& out);

// Hash(data, key) for many short inputs under one key: the key's block is hashed once, and the
// input may come in parts (hashed as if joined). Thread safety: Digest is safe for concurrent use.
class KeyedHash {
 public:
  explicit KeyedHash(std::string_view key);  // 16 to 64 bytes
  // The first 8 bytes of Hash(parts joined, key), big-endian.
  uint64_t Digest64(std::initializer_list<std::string_view> parts) const;

 private:
  alignas(64) unsigned char state_[384];  // crypto_generichash_state, after the key
};

// SipHash-2-4 (libsodium's crypto_shorthash) under a 16-byte key: a 64-bit keyed pseudonym of
// short inputs, about ten times cheaper than KeyedHash, for work done on every line of a log
// (the day's visitor, the client a request came from). Without the key, its outputs cannot be
// linked to inputs nor collisions chosen; it is not a digest to commit to or to derive keys from.
// Thread safety: Digest64 is safe for concurrent use.
class ShortHash {
 public:
  explicit ShortHash(std::string_view key);  // at least 16 bytes: the first 16 are the key
  // SipHash of the parts joined, as a little-endian integer.
  uint64_t Digest64(std::initializer_list<std::string_view> parts) const;

 private:
  unsigned char key_[16];
};

// Authenticated encryption (XSalsa20-Poly1305) with a 32-byte key: a random nonce followed by the
// ciphertext. Unseal returns nullopt when the key is wrong or the box was altered.
std::string Seal(std::string_view key, std::string_view plaintext);
std::optional<std::string> Unseal(std::string_view key, std::string_view sealed);

// Authenticated encryption with associated data (XChaCha20-Poly1305, IETF) under a 32-byte key: a
// random 24-byte nonce followed by the ciphertext and its tag. `context` is authenticated but not
// stored: a box opens only with the same context, so one sealed under a row's id and column cannot
// be moved to another row or column. OpenAead returns nullopt when the key or context is wrong or
// the box was altered.
std::string SealAead(std::string_view key, std::string_view plaintext, std::string_view context);
std::optional<std::string> OpenAead(std::string_view key, std::string_view sealed, std::string_view context);

// A sealed box (X25519, XSalsa20-Poly1305; libsodium's crypto_box_seal) to a recipient's 32-byte
// public key: only the holder of the matching secret key opens it, and nothing of the sender's is
// needed. For files given to another organisation.
std::string SealTo(std::string_view public_key, std::string_view plaintext);
// Opens a sealed box with the recipient's key pair; nullopt when it is not theirs or was altered.
std::optional<std::string> OpenSealedBox(std::string_view public_key, std::string_view secret_key,
                                         std::string_view sealed);
// A new X25519 key pair for sealed boxes: (public, secret), 32 bytes each.
std::pair<std::string, std::string> BoxKeyPair();

// An Ed25519 key pair made from a 32-byte seed (a derived sub-key), for signatures anyone holding
// the public key can check.
class SigningKey {
 public:
  explicit SigningKey(const std::array<uint8_t, 32>& seed);
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  // A 64-byte detached signature.
  std::string Sign(std::string_view message) const;
  // The 32-byte public key.
  std::string public_key() const { return public_key_; }

 private:
  std::string public_key_;
  std::array<uint8_t, 64> secret_key_{};
};

// True iff `signature` is `public_key`'s Ed25519 signature of `message`.
bool VerifySignature(std::string_view public_key, std::string_view message, std::string_view signature);

// Passwords, as argon2id strings with libsodium's INTERACTIVE limits (about 64 MiB and a tenth of a
// second each): slow on purpose. Call only off the I/O threads, through a bounded pool.
// Errors: kResourceExhausted when the memory cannot be had.
Result<std::string> HashPassword(std::string_view password);
// True iff `password` matches `stored` (an argon2id string). Takes as long as HashPassword.
bool VerifyPassword(std::string_view stored, std::string_view password);

class SecretKey {
 public:
  static constexpr size_t kSize = 32;

  // Reads the key at `path`, or creates it (mode 0600, exclusively) when the file does not exist.
  // Errors: kIo when the file cannot be read or created; kDataLoss when it has the wrong size;
  // kFailedPrecondition when it can be read by group or others.
  static Result<SecretKey> LoadOrCreate(const std::string& path);
  // Reads the key at `path`; never creates one. Errors as LoadOrCreate, and kNotFound.
  static Result<SecretKey> Load(const std::string& path);

  // A sub-key for one purpose. `context` is exactly 8 characters naming the purpose ("auditsig"),
  // `id` distinguishes keys of the same purpose (a day, a version).
  std::array<uint8_t, kSize> DeriveKey(std::string_view context, uint64_t id = 0) const;

  ~SecretKey();
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&&) = delete;
  SecretKey(const SecretKey&) = delete;

 private:
  SecretKey() = default;
  std::array<uint8_t, kSize> key_{};
};

}  // namespace steward::crypto
