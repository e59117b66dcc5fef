#include "mail/dkim.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cstdio>
#include <vector>

#include "core/strings.h"

namespace steward::mail {
namespace {

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Sha256(std::string_view in) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

bool Wsp(char c) { return c == ' ' || c == '\t'; }

// The message's header fields, unfolded names and raw values, and where the body starts.
struct Parsed {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

Parsed Split(std::string_view m) {
  Parsed p;
  size_t at = 0;
  while (at < m.size()) {
    size_t end = m.find("\r\n", at);
    if (end == std::string_view::npos) end = m.size();
    if (end == at) {  // the blank line
      p.body = m.substr(std::min(m.size(), end + 2));
      return p;
    }
    // A field runs on over lines that start with white space.
    size_t field_end = end;
    while (field_end + 2 < m.size() && Wsp(m[field_end + 2])) {
      size_t next = m.find("\r\n", field_end + 2);
      field_end = next == std::string_view::npos ? m.size() : next;
    }
    std::string_view field = m.substr(at, field_end - at);
    size_t colon = field.find(':');
    if (colon != std::string_view::npos) {
      p.headers.emplace_back(std::string(field.substr(0, colon)), std::string(field.substr(colon + 1)));
    }
    at = field_end + 2;
  }
  return p;
}

}  // namespace

struct DkimSigner::Impl {
  EVP_PKEY* key = nullptr;
  bool ed25519 = false;
  std::string domain, selector;
  ~Impl() {
    if (key != nullptr) EVP_PKEY_free(key);
  }
};

DkimSigner::~DkimSigner() = default;

Result<std::unique_ptr<DkimSigner>> DkimSigner::Load(const std::string& key_file, std::string domain,
                                                     std::string selector) {
  // Privacy: the signing key is read from its file and kept in memory only.
  FILE* f = std::fopen(key_file.c_str(), "rb");
  if (f == nullptr) return MakeError(ErrorCode::kInvalidArgument, "cannot read mail.dkim_key_file " + key_file);
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (key == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "mail.dkim_key_file " + key_file + " holds no PEM private key");
  }
  std::unique_ptr<DkimSigner> signer(new DkimSigner());
  signer->impl_ = std::make_unique<Impl>();
  signer->impl_->key = key;
  signer->impl_->domain = std::move(domain);
  signer->impl_->selector = std::move(selector);
  int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_ED25519) {
    signer->impl_->ed25519 = true;
  } else if (type != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048) {
    return MakeError(ErrorCode::kInvalidArgument, "mail.dkim_key_file " + key_file +
                                                      " must hold an RSA key of 2048 bits or more, or an Ed25519 key");
  }
  return signer;
}

std::string_view DkimSigner::algorithm() const { return impl_->ed25519 ? "ed25519-sha256" : "rsa-sha256"; }

std::string DkimSigner::RelaxedHeader(std::string_view name, std::string_view value) {
  std::string out = ToLower(Trim(name)) + ":";
  std::string v;
  bool space = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;  // unfold
    if (Wsp(c)) {
      space = true;
      continue;
    }
    if (space && !v.empty()) v += ' ';
    space = false;
    v += c;
  }
  return out + v + "\r\n";
}

std::string DkimSigner::RelaxedBody(std::string_view body) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    size_t end = body.find("\r\n", at);
    std::string_view line = body.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    std::string l;
    bool space = false;
    for (char c : line) {
      if (Wsp(c)) {
        space = true;
        continue;
      }
      if (space) l += ' ';
      space = false;
      l += c;
    }
    out += l + "\r\n";
    if (end == std::string_view::npos) break;
    at = end + 2;
  }
  while (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0) out.resize(out.size() - 2);
  if (out == "\r\n") out.clear();
  return out.empty() ? "\r\n" : out;
}

Result<std::string> DkimSigner::Sign(std::string_view message, SystemTime now) const {
  Parsed p = Split(message);
  static const std::vector<std::string> kSigned = {"from",
                                                   "to",
                                                   "subject",
                                                   "date",
                                                   "message-id",
                                                   "mime-version",
                                                   "content-type",
                                                   "reply-to",
                                                   "list-unsubscribe",
                                                   "list-unsubscribe-post"};
  std::string h, data;
  for (const auto& name : kSigned) {
    for (const auto& [n, v] : p.headers) {
      if (ToLower(n) != name) continue;
      h += (h.empty() ? "" : ":") + name;
      data += RelaxedHeader(n, v);
      break;  // one of each
    }
  }
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string value = " v=1; a=" + std::string(algorithm()) + "; c=relaxed/relaxed; d=" + impl_->domain +
                      "; s=" + impl_->selector + "; t=" + std::to_string(t) + "; h=" + h +
                      "; bh=" + Base64(Sha256(RelaxedBody(p.body))) + "; b=";
  // Folded at its "; " separators where a line grows long (relaxed canonicalisation reads the
  // fold as the space it replaces), and signed as folded, without its own line end.
  std::string folded;
  size_t line = 15;  // "DKIM-Signature:"
  for (size_t i = 0; i < value.size(); ++i) {
    folded += value[i];
    ++line;
    if (value[i] == ';' && i + 1 < value.size() && value[i + 1] == ' ' && line > 50) {
      folded += "\r\n\t";
      ++i;
      line = 1;
    }
  }
  std::string signing = data + RelaxedHeader("DKIM-Signature", folded);
  signing.resize(signing.size() - 2);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string signature;
  bool ok = ctx != nullptr;
  if (ok) {
    // RFC 8463: Ed25519 signs the SHA-256 of the canonical data; RSA signs the data with SHA-256.
    std::string input = impl_->ed25519 ? Sha256(signing) : signing;
    ok = EVP_DigestSignInit(ctx, nullptr, impl_->ed25519 ? nullptr : EVP_sha256(), nullptr, impl_->key) == 1;
    size_t size = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(input.data());
    ok = ok && EVP_DigestSign(ctx, nullptr, &size, in, input.size()) == 1;
    signature.resize(size);
    ok = ok && EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size, in, input.size()) == 1;
    signature.resize(size);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return MakeError(ErrorCode::kInternal, "the DKIM signature could not be made");
  std::string b = Base64(signature), lines;
  for (size_t i = 0; i < b.size(); i += 64) lines += "\r\n\t" + b.substr(i, 64);
  return "DKIM-Signature:" + folded + lines + "\r\n" + std::string(message);
}

}  // namespace steward::mail
