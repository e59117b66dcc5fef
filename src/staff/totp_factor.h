// A second factor by TOTP app (RFC 6238) with one-time recovery codes, for any kind of account:
// staff, and members of the public with an account. TotpTable says where a kind keeps it (as
// SessionTable does for sessions); the caller seals the secret its own way (staff under a key
// derived from the site's; account holders under their subject key) and audits what happened.
//
// Each function works in the caller's transaction. A TOTP code is accepted once (its 30-second
// step is remembered); a recovery code once (marked used).
//
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace steward::staff {

// The account table's columns totp_secret (BLOB), totp_enabled and totp_last_step (INTEGER),
// keyed by `id`, and the recovery codes' table (OWNER, code_hash BLOB, used_at).
struct TotpTable {
  std::string table = "staff";
  std::string codes = "staff_recovery_codes";
  std::string owner = "staff_id";
};

class TotpFactor {
 public:
  static constexpr int kRecoveryCodes = 10;
  // How the secret is kept at rest for account `id`.
  using Seal = std::function<Result<std::string>(store::Connection&, int64_t id, const std::string& secret)>;
  using Open = std::function<std::optional<std::string>(store::Connection&, int64_t id, const std::string& sealed)>;
  // `code_hash`: a keyed hash of a recovery code (only hashes are stored).
  TotpFactor(const Clock& clock, TotpTable table, Seal seal, Open open,
             std::function<std::string(std::string_view)> code_hash);

  // A new secret for the person's app (base32), which takes effect once Confirm sees a right code.
  // Errors: kNotFound, kFailedPrecondition (one is set up already).
  Result<std::string> Begin(store::Connection& c, int64_t id) const;
  // Turns it on when `code` is right; returns the recovery codes, shown once. Errors:
  // kFailedPrecondition (not begun, or on already), kInvalidArgument (the code), kDataLoss.
  Result<std::vector<std::string>> Confirm(store::Connection& c, int64_t id, std::string_view code) const;
  // "totp" or "recovery_code" when `code` is a TOTP code not used before or an unused recovery code
  // (now used up); "" when neither, or no second factor is on.
  Result<std::string> Verify(store::Connection& c, int64_t id, std::string_view code) const;
  // Turns it off and deletes its secret and recovery codes.
  Status Disable(store::Connection& c, int64_t id) const;
  Result<bool> Enabled(store::Connection& c, int64_t id) const;

 private:
  const Clock& clock_;
  TotpTable t_;
  Seal seal_;
  Open open_;
  std::function<std::string(std::string_view)> code_hash_;
};

}  // namespace steward::staff
