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
#include <string>
#include <string_view>

#include "core/result.h"

namespace steward::crypto {

// Initialises libsodium. Call once before anything else here; safe to call again.
Status Init();

// `n` cryptographically random bytes.
std::string RandomBytes(size_t n);
// 2*`bytes` lower-case hex characters of randomness: ids, tokens, request ids.
std::string RandomHex(size_t bytes);

// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class SecretKey {
 public:
  static constexpr size_t kSize = 32;

  // Reads the key at `path`, or creates it (mode 0600, exclusively) when the file does not exist.
  // Errors: kIo when the file cannot be read or created; kDataLoss when it has the wrong size;
  // kFailedPrecondition when it can be read by group or others.
  static Result<SecretKey> LoadOrCreate(const std::string& path);

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
