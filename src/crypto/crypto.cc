#include "crypto/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

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

uint64_t RandomU64() {
  thread_local uint64_t buffer[64];
  thread_local size_t left = 0;
  if (left == 0) {
    randombytes_buf(buffer, sizeof buffer);
    left = std::size(buffer);
  }
  uint64_t v = buffer[--left];
  buffer[left] = 0;  // handed out once
  return v;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Hash(std::string_view data, std::string_view key) {
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     key.empty() ? nullptr : reinterpret_cast<const unsigned char*>(key.data()), key.size());
  return out;
}

void Hash(std::initializer_list<std::string_view> parts, std::string_view key, std::array<unsigned char, 32>& out) {
  static_assert(crypto_generichash_BYTES == 32);
  crypto_generichash_state st;
  crypto_generichash_init(&st, key.empty() ? nullptr : reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                          out.size());
  for (std::string_view p : parts) {
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(p.data()), p.size());
  }
  crypto_generichash_final(&st, out.data(), out.size());
}

KeyedHash::KeyedHash(std::string_view key) {
  static_assert(sizeof(crypto_generichash_state) <= sizeof(state_), "KeyedHash's state is too small");
  STEWARD_CHECK(key.size() >= crypto_generichash_KEYBYTES_MIN && key.size() <= crypto_generichash_KEYBYTES_MAX,
                "KeyedHash needs a 16- to 64-byte key");
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_),
                          reinterpret_cast<const unsigned char*>(key.data()), key.size(), crypto_generichash_BYTES);
}

uint64_t KeyedHash::Digest64(std::initializer_list<std::string_view> parts) const {
  crypto_generichash_state st;
  std::memcpy(&st, state_, sizeof st);
  for (std::string_view p : parts) {
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(p.data()), p.size());
  }
  unsigned char out[crypto_generichash_BYTES];
  crypto_generichash_final(&st, out, sizeof out);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | out[i];
  return v;
}

ShortHash::ShortHash(std::string_view key) {
  static_assert(sizeof key_ == crypto_shorthash_KEYBYTES);
  STEWARD_CHECK(key.size() >= sizeof key_, "ShortHash needs a 16-byte key");
  std::memcpy(key_, key.data(), sizeof key_);
}

uint64_t ShortHash::Digest64(std::initializer_list<std::string_view> parts) const {
  // Joined on the stack: these inputs are short (an address, a day, a user agent cut short).
  unsigned char stack[1024];
  size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string heap;
  unsigned char* joined = stack;
  if (size > sizeof stack) {
    heap.resize(size);
    joined = reinterpret_cast<unsigned char*>(heap.data());
  }
  size_t at = 0;
  for (std::string_view p : parts) {
    if (!p.empty()) std::memcpy(joined + at, p.data(), p.size());
    at += p.size();
  }
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, joined, size, key_);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | out[i];
  return v;
}

std::string Seal(std::string_view key, std::string_view plaintext) {
  STEWARD_CHECK(key.size() == crypto_secretbox_KEYBYTES, "Seal needs a 32-byte key");
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        plaintext.size(), nonce, reinterpret_cast<const unsigned char*>(key.data()));
  return out;
}

std::string SealTo(std::string_view public_key, std::string_view plaintext) {
  STEWARD_CHECK(public_key.size() == crypto_box_PUBLICKEYBYTES, "SealTo needs a 32-byte public key");
  std::string out(crypto_box_SEALBYTES + plaintext.size(), '\0');
  crypto_box_seal(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                  reinterpret_cast<const unsigned char*>(public_key.data()));
  return out;
}

std::optional<std::string> OpenSealedBox(std::string_view public_key, std::string_view secret_key,
                                         std::string_view sealed) {
  if (public_key.size() != crypto_box_PUBLICKEYBYTES || secret_key.size() != crypto_box_SECRETKEYBYTES ||
      sealed.size() < crypto_box_SEALBYTES) {
    return std::nullopt;
  }
  std::string out(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(),
                           reinterpret_cast<const unsigned char*>(public_key.data()),
                           reinterpret_cast<const unsigned char*>(secret_key.data())) != 0) {
    return std::nullopt;
  }
  return out;
}

std::pair<std::string, std::string> BoxKeyPair() {
  std::string pk(crypto_box_PUBLICKEYBYTES, '\0'), sk(crypto_box_SECRETKEYBYTES, '\0');
  crypto_box_keypair(reinterpret_cast<unsigned char*>(pk.data()), reinterpret_cast<unsigned char*>(sk.data()));
  return {pk, sk};
}

std::string SealAead(std::string_view key, std::string_view plaintext, std::string_view context) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  STEWARD_CHECK(key.size() == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "SealAead needs a 32-byte key");
  std::string out(kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, &written,
                                             reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                                             reinterpret_cast<const unsigned char*>(context.data()), context.size(),
                                             nullptr, nonce, reinterpret_cast<const unsigned char*>(key.data()));
  out.resize(kNonce + written);
  return out;
}

std::optional<std::string> OpenAead(std::string_view key, std::string_view sealed, std::string_view context) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES ||
      sealed.size() < kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return std::nullopt;
  }
  std::string out(sealed.size() - kNonce - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long written = 0;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &written, nullptr,
                                                 nonce + kNonce, sealed.size() - kNonce,
                                                 reinterpret_cast<const unsigned char*>(context.data()), context.size(),
                                                 nonce, reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return std::nullopt;
  }
  out.resize(written);
  return out;
}

std::optional<std::string> Unseal(std::string_view key, std::string_view sealed) {
  if (key.size() != crypto_secretbox_KEYBYTES ||
      sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return std::nullopt;
  }
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()), nonce + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return std::nullopt;
  }
  return out;
}

SigningKey::SigningKey(const std::array<uint8_t, 32>& seed) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, secret_key_.data(), seed.data());
  public_key_.assign(reinterpret_cast<const char*>(pk), sizeof pk);
}

SigningKey::~SigningKey() { sodium_memzero(secret_key_.data(), secret_key_.size()); }

std::string SigningKey::Sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_key_.data());
  return sig;
}

bool VerifySignature(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

Result<std::string> HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return MakeError(ErrorCode::kResourceExhausted, "not enough memory to hash a password");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view stored, std::string_view password) {
  if (stored.size() >= crypto_pwhash_STRBYTES) return false;
  char buf[crypto_pwhash_STRBYTES] = {};
  std::memcpy(buf, stored.data(), stored.size());
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

Result<SecretKey> SecretKey::LoadOrCreate(const std::string& path) {
  // Create exclusively, so two processes starting together cannot both write a key.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Load(path);
    return MakeError(ErrorCode::kIo, "cannot create secret key file " + path + ": " + std::strerror(errno));
  }
  SecretKey key;
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

Result<SecretKey> SecretKey::Load(const std::string& path) {
  SecretKey key;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return MakeError(ErrorCode::kNotFound, "no secret key file at " + path);
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
