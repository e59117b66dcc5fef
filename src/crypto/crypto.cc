#include "crypto/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/result.h"
#include "core/strings.h"

namespace steward::crypto {

Status Init() {
  if (sodium_init() < 0) return MakeError(ErrorCode::kInternal, "libsodium failed to initialise");
  return Ok();
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string RandomHex(size_t bytes) { return HexEncode(RandomBytes(bytes)); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<SecretKey> SecretKey::LoadOrCreate(const std::string& path) {
  SecretKey key;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    // Create exclusively so two processes starting together cannot both write a key.
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      randombytes_buf(key.key_.data(), kSize);
      ssize_t n = ::write(fd, key.key_.data(), kSize);
      bool ok = n == static_cast<ssize_t>(kSize) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) {
        ::unlink(path.c_str());
        return MakeError(ErrorCode::kIo, "cannot write secret key file " + path + ": " + std::strerror(errno));
      }
      return key;
    }
    if (errno != EEXIST) {
      return MakeError(ErrorCode::kIo, "cannot create secret key file " + path + ": " + std::strerror(errno));
    }
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    return MakeError(ErrorCode::kIo, "cannot read secret key file " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return MakeError(ErrorCode::kIo, "cannot stat secret key file " + path);
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return MakeError(ErrorCode::kFailedPrecondition,
                     "secret key file " + path + " is readable by others; run: chmod 600 " + path);
  }
  uint8_t buf[kSize + 1];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n != static_cast<ssize_t>(kSize)) {
    sodium_memzero(buf, sizeof buf);
    return MakeError(ErrorCode::kDataLoss, "secret key file " + path + " does not hold exactly 32 bytes");
  }
  std::memcpy(key.key_.data(), buf, kSize);
  sodium_memzero(buf, sizeof buf);
  return key;
}

std::array<uint8_t, SecretKey::kSize> SecretKey::DeriveKey(std::string_view context, uint64_t id) const {
  STEWARD_CHECK(context.size() == crypto_kdf_CONTEXTBYTES, "key context must be 8 characters");
  std::array<uint8_t, kSize> sub{};
  char ctx[crypto_kdf_CONTEXTBYTES];
  std::memcpy(ctx, context.data(), sizeof ctx);
  crypto_kdf_derive_from_key(sub.data(), sub.size(), id, ctx, key_.data());
  return sub;
}

SecretKey::~SecretKey() { sodium_memzero(key_.data(), key_.size()); }

SecretKey::SecretKey(SecretKey&& other) noexcept : key_(other.key_) {
  sodium_memzero(other.key_.data(), other.key_.size());
}

}  // namespace steward::crypto
