// Time-based one-time passwords (RFC 6238, HMAC-SHA1, 30-second steps, 6 digits): what staff
// authenticator apps expect for a second factor. Also the RFC 4648 base32 those apps read keys in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace steward::crypto {

// SHA-1 and HMAC-SHA1 (RFC 2104): only for TOTP, whose apps require them. 20 raw bytes.
std::string Sha1(std::string_view data);
std::string HmacSha1(std::string_view key, std::string_view message);

// The code for `secret` in the 30-second step holding `unix_seconds`, `digits` long.
std::string TotpCode(std::string_view secret, int64_t unix_seconds, int digits = 6);

// True iff `code` is the code for `now` or one step either side (clock drift). When it matches,
// `step` (if given) receives the step it matched, so a caller can refuse the same step twice.
bool TotpVerify(std::string_view secret, std::string_view code, SystemTime now, int64_t* step = nullptr);

// RFC 4648 base32, upper case, no padding ("JBSWY3DPEHPK3PXP").
std::string Base32Encode(std::string_view bytes);
// Accepts upper or lower case, spaces and padding. nullopt on other characters.
std::optional<std::string> Base32Decode(std::string_view text);

}  // namespace steward::crypto
