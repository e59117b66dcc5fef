// Accounts of people who sign in through an OpenID Connect provider (GOV.UK One Login): finding
// the account the provider's person is linked to, linking the account of the address the provider
// confirmed, and opening a new one from the form they fill in here.
#include "accounts/accounts.h"
#include "accounts/accounts_impl.h"

namespace steward::accounts {

using namespace internal;  // NOLINT(google-build-using-namespace): the helpers of accounts_impl.h

namespace {

std::string ProviderName(const Settings& s) { return s.oidc ? s.oidc->name : "a sign-in service"; }

}  // namespace

std::string Accounts::IdentityHash(std::string_view issuer, std::string_view sub) const {
  return HexEncode(crypto::Hash(std::string(issuer) + "\n" + std::string(sub), impl_->identity_key));
}

Result<std::optional<int64_t>> Accounts::SignInLinked(std::string_view identity, const Actor& actor) {
  std::optional<int64_t> found;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    // Privacy: the account's dataset: the keyed hash of the provider's identifier leads to the account.
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT a.id, a.subject_id FROM account_identities i JOIN accounts a "
                                                "ON a.id = i.account_id WHERE i.identity_hash = ? AND a.state = 'open'",
                                                {std::string(identity)}));
    if (rows.empty()) return Ok();
    found = rows[0].Int(0);
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE accounts SET last_active_at = ? WHERE id = ?", {impl_->Now(), *found}));
    return impl_->Activity(c, *found, rows[0].Text(1), actor, "signed_in", "with " + ProviderName(impl_->settings));
  }));
  return found;
}

Result<std::optional<int64_t>> Accounts::LinkByEmail(std::string_view identity, std::string_view email,
                                                     const Actor& actor) {
  std::optional<int64_t> linked;
  const std::string provider = ProviderName(impl_->settings);
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto account, impl_->ByEmail(c, email));
    if (!account) return Ok();
    std::string now = impl_->Now();
    if (account->state == "unconfirmed") {
      // The provider confirmed the address: the link emailed at registration is not needed.
      STEWARD_RETURN_IF_ERROR(
          c.Exec("UPDATE accounts SET state = 'open', confirmed_at = ? WHERE id = ?", {now, account->id}));
      STEWARD_RETURN_IF_ERROR(
          c.Exec("DELETE FROM account_links WHERE account_id = ? AND purpose = 'confirm'", {account->id}));
      STEWARD_RETURN_IF_ERROR(
          impl_->Activity(c, account->id, account->subject_id, actor, "confirmed", "email address, by " + provider));
      STEWARD_RETURN_IF_ERROR(impl_->Audit(c, "account.opened", account->id, actor));
    }
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO account_identities (identity_hash, account_id, linked_at) VALUES (?, ?, ?)",
               {std::string(identity), account->id, now}));
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE accounts SET last_active_at = ? WHERE id = ?", {now, account->id}));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, account->id, account->subject_id, actor, "linked", provider));
    STEWARD_RETURN_IF_ERROR(
        impl_->Activity(c, account->id, account->subject_id, actor, "signed_in", "with " + provider));
    STEWARD_RETURN_IF_ERROR(impl_->Audit(c, "account.linked", account->id, actor, {{"provider", provider}}));
    linked = account->id;
    // The owner hears of it, in case it was not them.
    return impl_->Email(c, std::string(email), "You signed in with " + provider,
                        "You signed in to your " + impl_->site_name + " account with " + provider +
                            " for the first time. From now on you can sign in that way.\n\nIf this was not you, "
                            "tell us at once by replying to this email.");
  }));
  return linked;
}

Result<int64_t> Accounts::RegisterLinked(std::string_view identity, std::string_view email,
                                         const std::map<std::string, std::string>& values,
                                         const std::set<std::string>& consents, const Actor& actor) {
  auto key = Key::Make(KeyKind::kEmail, email);
  if (!key.ok() || !mail::ValidAddress(key->value())) {
    return MakeError(ErrorCode::kInvalidArgument, "email: the sign-in service gave no usable email address");
  }
  STEWARD_ASSIGN_OR_RETURN(auto checked, CheckRegistration(*this, values, consents));
  // An account of the address may have appeared since the provider sent the person here.
  STEWARD_ASSIGN_OR_RETURN(auto existing, LinkByEmail(identity, key->value(), actor));
  if (existing) return *existing;
  const std::string provider = ProviderName(impl_->settings);
  int64_t id = 0;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto made, impl_->InsertOpen(c, *key, checked, impl_->LookupOf(checked, NameField(), BirthField()), actor.id));
    id = made.first;
    for (const auto& box : consents) {
      STEWARD_RETURN_IF_ERROR(
          impl_->Consent(c, id, made.second, box, true, "ticked the box when creating the account", actor));
    }
    // Privacy: the account's dataset: the keyed hash of the provider's identifier.
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO account_identities (identity_hash, account_id, linked_at) VALUES (?, ?, ?)",
               {std::string(identity), id, impl_->Now()}));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, made.second, actor, "registered", "with " + provider));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, made.second, actor, "signed_in", "with " + provider));
    return impl_->Audit(c, "account.opened", id, actor, {{"provider", provider}});
  }));
  return id;
}

Result<std::string> Accounts::LinkedSince(int64_t id) const {
  std::string since;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows,
                             c.Query("SELECT MIN(linked_at) FROM account_identities WHERE account_id = ?", {id}));
    if (!rows.empty() && !rows[0].IsNull(0)) since = rows[0].Text(0);
    return Ok();
  }));
  return since;
}

}  // namespace steward::accounts
