// A person changing the email address of their account: the new address proves itself by a link,
// and the old one is told.
#include "accounts/accounts.h"
#include "accounts/accounts_impl.h"

namespace steward::accounts {

using namespace internal;  // NOLINT(google-build-using-namespace): the helpers of accounts_impl.h

Status Accounts::AskEmailChange(int64_t id, std::string_view email, std::string_view password, const Actor& actor) {
  auto key = Key::Make(KeyKind::kEmail, email);
  if (!key.ok() || !mail::ValidAddress(key->value())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "email: Enter an email address in the correct format, like name@example.com");
  }
  STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
  if (a.state != "open") return MakeError(ErrorCode::kFailedPrecondition, "the account is not open");
  if (ToLower(a.email) == key->value()) {
    return MakeError(ErrorCode::kInvalidArgument, "email: This is the address your account has already");
  }
  if (a.has_password) {
    STEWARD_ASSIGN_OR_RETURN(bool right, PasswordIs(id, password));
    if (!right) return MakeError(ErrorCode::kInvalidArgument, "password: Your password is not right");
  }
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto other, impl_->ByEmail(c, key->value()));
    STEWARD_ASSIGN_OR_RETURN(auto known, impl_->subjects.Lookup(c, *key));
    if (!other && known && *known != a.subject_id) {
      // The address already stands for someone here without an account (email updates, feedback):
      // one address leads to one person, so moving it is a rights request's work, not this form's.
      return MakeError(ErrorCode::kInvalidArgument,
                       "email: This address is already used here for something else, such as email updates. "
                       "Contact us to move it to your account");
    }
    if (other) {
      // The same answer on the page; the owner of the address is told.
      return impl_->Email(c, key->value(), "Someone tried to use this address",
                          "Someone tried to change the email address of a " + impl_->site_name +
                              " account to this one, which already has an account. Nothing has changed.\n\nIf "
                              "this was you, sign in to that account at " +
                              impl_->Url("/account/sign-in") + " instead.");
    }
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, a.subject_id));
    if (!keys) return MakeError(ErrorCode::kNotFound, "no such account");
    std::string token = crypto::RandomHex(24);
    // Privacy: the account's dataset: the new address sealed under the person's key until used.
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO account_email_changes (account_id, subject_id, address, token_hash, expires_at) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET address = excluded.address, "
               "token_hash = excluded.token_hash, expires_at = excluded.expires_at",
               {id, a.subject_id, store::Blob{keys->Seal("account_email_changes.address", key->value())},
                impl_->LinkHash(token), FormatRfc3339Millis(impl_->clock.Now() + std::chrono::hours(kLinkHours))}));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, a.subject_id, actor, "email_change_asked", ""));
    // Sealed under the person's own key: the new address leads to no one until it is confirmed.
    return internal::Done(impl_->EmailSent(
        c, key->value(), "Confirm your new email address",
        "To use this address for your " + impl_->site_name + " account, confirm it:\n\n" +
            impl_->Url("/account/email/" + token) + "\n\nThe link works once, for " + std::to_string(kLinkHours) +
            " hours. Until then your account keeps its old address. If you did not ask, ignore "
            "this email.",
        a.subject_id));
  });
}

Result<int64_t> Accounts::ConfirmEmailChange(std::string_view token) {
  if (token.size() != 48) return MakeError(ErrorCode::kNotFound, "no such link");
  int64_t id = 0;
  std::string old;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT account_id, address FROM account_email_changes "
                                                "WHERE token_hash = ? AND expires_at > ?",
                                                {impl_->LinkHash(token), impl_->Now()}));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no such link");
    id = rows[0].Int(0);
    STEWARD_ASSIGN_OR_RETURN(auto row, impl_->Row(c, id));
    if (!row) return MakeError(ErrorCode::kNotFound, "no such account");
    Account a = ToAccount(*row);
    if (a.state != "open") return MakeError(ErrorCode::kNotFound, "the account is not open");
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, a.subject_id));
    if (!keys) return MakeError(ErrorCode::kNotFound, "no such account");
    a.email = keys->Open("accounts.email", row->Text(3)).value_or("");
    auto address = keys->Open("account_email_changes.address", rows[0].Text(1));
    if (!address) return MakeError(ErrorCode::kNotFound, "no such link");
    auto key = Key::Make(KeyKind::kEmail, *address);
    if (!key.ok()) return MakeError(ErrorCode::kNotFound, "no such link");
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM account_email_changes WHERE account_id = ?", {id}));
    STEWARD_RETURN_IF_ERROR(impl_->ChangeEmail(c, a, *key, Actor{}));
    old = a.email;
    if (old.empty()) return Ok();
    // The old address hears of it, in case it was not its owner who asked.
    return impl_->Email(c, old, "Your email address has changed",
                        "The email address of your " + impl_->site_name +
                            " account has been changed, and this address is no longer used for it.\n\nIf this was "
                            "not you, reply to this email at once.");
  }));
  return id;
}

}  // namespace steward::accounts
