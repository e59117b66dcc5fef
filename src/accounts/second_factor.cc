// A second factor for accounts: an authenticator app's codes and one-time recovery codes, through
// the same staff::TotpFactor staff use, the secret sealed under the person's subject key.
#include "accounts/accounts.h"
#include "accounts/accounts_impl.h"

namespace steward::accounts {

using namespace internal;  // NOLINT(google-build-using-namespace): the helpers of accounts_impl.h

Result<std::string> Accounts::BeginSecondFactor(int64_t id, const Actor& actor) {
  std::string secret;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, impl_->Row(c, id));
    if (!row || row->Text(2) != "open") return MakeError(ErrorCode::kNotFound, "no such account");
    STEWARD_ASSIGN_OR_RETURN(secret, impl_->totp.Begin(c, id));
    return impl_->Audit(c, "account.totp_started", id, actor);
  }));
  return secret;
}

Result<std::vector<std::string>> Accounts::ConfirmSecondFactor(int64_t id, std::string_view code, const Actor& actor) {
  std::vector<std::string> codes;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, impl_->Row(c, id));
    if (!row) return MakeError(ErrorCode::kNotFound, "no such account");
    STEWARD_ASSIGN_OR_RETURN(codes, impl_->totp.Confirm(c, id, code));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, row->Text(1), actor, "second_factor_on", ""));
    return impl_->Audit(c, "account.totp_enabled", id, actor);
  }));
  return codes;
}

Result<bool> Accounts::VerifySecondFactor(int64_t id, std::string_view code, const Actor& actor) {
  std::string via;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, impl_->Row(c, id));
    if (!row) return MakeError(ErrorCode::kNotFound, "no such account");
    STEWARD_ASSIGN_OR_RETURN(via, impl_->totp.Verify(c, id, code));
    if (via == "recovery_code") {
      STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, row->Text(1), actor, "recovery_code_used", ""));
    }
    return impl_->trail.AppendIn(c, {.actor = "account:" + std::to_string(id),
                                     .action = "account.second_factor",
                                     .target = "accounts:" + std::to_string(id),
                                     .outcome = via.empty() ? "failure" : "success",
                                     .request_id = actor.request_id,
                                     .details = {{"via", via.empty() ? "none" : via}}});
  }));
  return !via.empty();
}

Result<bool> Accounts::PasswordIs(int64_t id, std::string_view password) const {
  std::string stored;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT password FROM accounts WHERE id = ?", {id}));
    if (rows.empty() || rows[0].IsNull(0)) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->KeysOf(c, id));
    // Privacy: the account's password hash, opened to check the password and dropped.
    if (keys) stored = keys->Open("accounts.password", rows[0].Text(0)).value_or("");
    return Ok();
  }));
  // The same work whether or not there is a password.
  bool right = crypto::VerifyPassword(stored.empty() ? impl_->Dummy() : stored, password) && !stored.empty();
  return right;
}

Status Accounts::RemoveSecondFactor(int64_t id, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
  if (!a.second_factor) return MakeError(ErrorCode::kFailedPrecondition, "the account has no second factor");
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(impl_->totp.Disable(c, id));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, a.subject_id, actor, "second_factor_off", ""));
    STEWARD_RETURN_IF_ERROR(impl_->Audit(c, "account.totp_disabled", id, actor));
    return impl_->Email(c, a.email, "Your account no longer asks for a security code",
                        std::string(actor.IsAdviser() ? "An adviser has turned off" : "You turned off") +
                            " the security code your " + impl_->site_name +
                            " account asked for when signing in. Signing in now needs only your password.\n\nIf "
                            "this was not you, reset your password at " +
                            impl_->Url("/account/password-reset") + " and reply to this email.");
  });
}

}  // namespace steward::accounts
