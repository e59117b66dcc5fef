// DKIM signatures (RFC 6376) for outbound mail: relaxed/relaxed canonicalisation, rsa-sha256, or
// ed25519-sha256 (RFC 8463), by the key in the site's dkim_key_file (PEM), under
// dkim_selector._domainkey.<the From domain>.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace steward::mail {

class DkimSigner {
 public:
  // Reads the private key. Errors: kInvalidArgument for a file that cannot be read or holds no
  // RSA (2048 bits or more) or Ed25519 key.
  static Result<std::unique_ptr<DkimSigner>> Load(const std::string& key_file, std::string domain,
                                                  std::string selector);
  ~DkimSigner();
  DkimSigner(const DkimSigner&) = delete;
  DkimSigner& operator=(const DkimSigner&) = delete;

  // `message` (CRLF line ends) with a DKIM-Signature header first, over the headers a reader sees
  // and the ones that unsubscribe (From, To, Subject, Date, Message-ID, MIME-Version,
  // Content-Type, List-Unsubscribe, List-Unsubscribe-Post, Reply-To, where present).
  Result<std::string> Sign(std::string_view message, SystemTime now) const;

  // "rsa-sha256" or "ed25519-sha256".
  std::string_view algorithm() const;

  // The canonical forms, for tests.
  static std::string RelaxedHeader(std::string_view name, std::string_view value);
  static std::string RelaxedBody(std::string_view body);

 private:
  DkimSigner() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::mail
