#include "staff/totp_factor.h"

#include "core/strings.h"
#include "crypto/crypto.h"
#include "crypto/totp.h"

namespace steward::staff {
namespace {

std::string NewRecoveryCode() {
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
  std::string bytes = crypto::RandomBytes(8);
  std::string code;
  for (int i = 0; i < 8; ++i) {
    if (i == 4) code.push_back('-');
    code.push_back(kAlphabet[static_cast<unsigned char>(bytes[i]) % (sizeof kAlphabet - 1)]);
  }
  return code;
}

}  // namespace

TotpFactor::TotpFactor(const Clock& clock, TotpTable table, Seal seal, Open open,
                       std::function<std::string(std::string_view)> code_hash)
    : clock_(clock),
      t_(std::move(table)),
      seal_(std::move(seal)),
      open_(std::move(open)),
      code_hash_(std::move(code_hash)) {}

Result<bool> TotpFactor::Enabled(store::Connection& c, int64_t id) const {
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT totp_enabled FROM " + t_.table + " WHERE id = ?", {id}));
  if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no such account");
  return rows[0].Int(0) != 0;
}

Result<std::string> TotpFactor::Begin(store::Connection& c, int64_t id) const {
  STEWARD_ASSIGN_OR_RETURN(bool on, Enabled(c, id));
  if (on) return MakeError(ErrorCode::kFailedPrecondition, "A second factor is already set up");
  std::string secret = crypto::RandomBytes(20);
  STEWARD_ASSIGN_OR_RETURN(std::string sealed, seal_(c, id, secret));
  STEWARD_RETURN_IF_ERROR(
      c.Exec("UPDATE " + t_.table + " SET totp_secret = ? WHERE id = ?", {store::Blob{std::move(sealed)}, id}));
  return crypto::Base32Encode(secret);
}

Result<std::vector<std::string>> TotpFactor::Confirm(store::Connection& c, int64_t id, std::string_view code) const {
  STEWARD_ASSIGN_OR_RETURN(auto rows,
                           c.Query("SELECT totp_secret, totp_enabled FROM " + t_.table + " WHERE id = ?", {id}));
  if (rows.empty() || rows[0].IsNull(0)) {
    return MakeError(ErrorCode::kFailedPrecondition, "Start setting up the second factor first");
  }
  if (rows[0].Int(1) != 0) return MakeError(ErrorCode::kFailedPrecondition, "A second factor is already set up");
  auto secret = open_(c, id, rows[0].Text(0));
  if (!secret) return MakeError(ErrorCode::kDataLoss, "the stored second-factor secret cannot be opened");
  int64_t step = 0;
  if (!crypto::TotpVerify(*secret, Trim(code), clock_.Now(), &step)) {
    return MakeError(ErrorCode::kInvalidArgument, "The code is not right. Enter the code your app shows now");
  }
  STEWARD_RETURN_IF_ERROR(
      c.Exec("UPDATE " + t_.table + " SET totp_enabled = 1, totp_last_step = ? WHERE id = ?", {step, id}));
  STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM " + t_.codes + " WHERE " + t_.owner + " = ?", {id}));
  std::vector<std::string> codes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    codes.push_back(NewRecoveryCode());
    STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO " + t_.codes + " (" + t_.owner + ", code_hash) VALUES (?, ?)",
                                   {id, store::Blob{code_hash_(codes.back())}}));
  }
  return codes;
}

Result<std::string> TotpFactor::Verify(store::Connection& c, int64_t id, std::string_view code) const {
  std::string trimmed(Trim(code));
  STEWARD_ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT totp_secret, totp_last_step FROM " + t_.table + " WHERE id = ? AND totp_enabled = 1", {id}));
  if (rows.empty()) return std::string();
  auto secret = open_(c, id, rows[0].Text(0));
  int64_t step = 0;
  if (secret && crypto::TotpVerify(*secret, trimmed, clock_.Now(), &step)) {
    if (step <= rows[0].Int(1)) return std::string();  // this code was used already
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE " + t_.table + " SET totp_last_step = ? WHERE id = ?", {step, id}));
    return std::string("totp");
  }
  STEWARD_ASSIGN_OR_RETURN(
      int64_t used,
      c.Exec("UPDATE " + t_.codes + " SET used_at = ? WHERE " + t_.owner + " = ? AND code_hash = ? AND used_at IS NULL",
             {FormatRfc3339Millis(clock_.Now()), id, store::Blob{code_hash_(ToLower(trimmed))}}));
  return std::string(used == 1 ? "recovery_code" : "");
}

Status TotpFactor::Disable(store::Connection& c, int64_t id) const {
  STEWARD_RETURN_IF_ERROR(c.Exec(
      "UPDATE " + t_.table + " SET totp_secret = NULL, totp_enabled = 0, totp_last_step = 0 WHERE id = ?", {id}));
  auto deleted = c.Exec("DELETE FROM " + t_.codes + " WHERE " + t_.owner + " = ?", {id});
  if (!deleted.ok()) return deleted.error();
  return Ok();
}

}  // namespace steward::staff
