// What an adviser does for a customer: create an account with their recorded agreement, find it
// again, and hand it over with a link to set a password.
#include "accounts/accounts.h"

#include "accounts/accounts_impl.h"
#include "staff/accounts.h"

namespace steward::accounts {

using namespace internal;  // NOLINT(google-build-using-namespace): the helpers of accounts_impl.h

Result<int64_t> Accounts::CreateForCustomer(std::string_view email, const std::map<std::string, std::string>& values,
                                            std::string_view agreed, const Actor& actor) {
  std::string how = AdviserHow(agreed);
  if (how.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "agreed: say how the customer agreed (in person, by telephone, on a video call, or by letter)");
  }
  auto key = Key::Make(KeyKind::kEmail, email);
  if (!key.ok() || !mail::ValidAddress(key->value())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "email: Enter an email address in the correct format, like name@example.com");
  }
  STEWARD_ASSIGN_OR_RETURN(auto checked, CheckValues(values, {}));
  int64_t id = 0;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto existing, impl_->ByEmail(c, key->value()));
    if (existing && existing->state == "open") {
      return MakeError(ErrorCode::kAlreadyExists, "email: an account already has this email address");
    }
    if (existing) STEWARD_RETURN_IF_ERROR(DeleteAll(c, existing->id));
    // Privacy: the account's dataset, given by the customer to their adviser.
    STEWARD_ASSIGN_OR_RETURN(
        auto made, impl_->InsertOpen(c, *key, checked, impl_->LookupOf(checked, NameField(), BirthField()), actor.id));
    id = made.first;
    const std::string& subject = made.second;
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, subject, actor, "created_for_you", "you " + how));
    return impl_->Audit(c, "account.created_for_customer", id, actor, {{"agreed", std::string(agreed)}});
  }));
  return id;
}

Result<std::vector<Match>> Accounts::Find(std::string_view email, std::string_view name,
                                          std::string_view date_of_birth) const {
  std::vector<int64_t> ids;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    if (!Trim(email).empty()) {
      STEWARD_ASSIGN_OR_RETURN(auto a, impl_->ByEmail(c, Trim(email)));
      if (a) ids.push_back(a->id);
      return Ok();
    }
    std::string lookup = impl_->Lookup(name, Trim(date_of_birth));
    if (Trim(name).empty() || !ValidDate(Trim(date_of_birth))) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "search: enter an email address, or a full name and a date of birth");
    }
    return c.ForEach("SELECT id FROM accounts WHERE lookup = ? AND state <> 'closed' ORDER BY id LIMIT 50", {lookup},
                     [&](const store::Row& r) {
                       ids.push_back(r.Int(0));
                       return true;
                     });
  }));
  std::vector<Match> out;
  const Field* name_field = NameField();
  for (int64_t id : ids) {
    STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
    std::string n = name_field != nullptr && a.values.count(name_field->id) ? a.values[name_field->id] : "";
    out.push_back({a.id, a.state, n, a.email, a.created_at});
  }
  return out;
}

Status Accounts::HandOver(int64_t id, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
  if (a.state == "closed") return MakeError(ErrorCode::kFailedPrecondition, "the account is closed");
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(std::string token, impl_->Link(c, id, "password"));
    STEWARD_RETURN_IF_ERROR(impl_->Email(
        c, a.email, "Set a password for your account",
        "Your adviser has set up your " + impl_->site_name + " account. To use it yourself, choose a password:\n\n" +
            impl_->Url("/account/password/" + token) + "\n\nThe link works for " + std::to_string(kLinkHours) +
            " hours. Your adviser never sees your password."));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, a.subject_id, actor, "handed_over", "a link to set your password"));
    return impl_->Audit(c, "account.handed_over", id, actor);
  });
}

Result<int64_t> Accounts::CheckPasswordLink(std::string_view token) const {
  std::optional<int64_t> id;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(id, impl_->UseLink(c, token, "password"));
    return Ok();
  }));
  if (!id) return MakeError(ErrorCode::kNotFound, "no such link");
  return *id;
}

Result<int64_t> Accounts::SetPasswordByLink(std::string_view token, std::string_view password) {
  STEWARD_ASSIGN_OR_RETURN(int64_t id, CheckPasswordLink(token));
  STEWARD_ASSIGN_OR_RETURN(Account a, Load(id));
  staff::PasswordPolicy policy;
  for (const auto& p : impl_->common) policy.common.insert(p);
  if (Status s = policy.Check(password, a.email); !s.ok()) {
    return MakeError(ErrorCode::kInvalidArgument, "password: " + s.error().message);
  }
  STEWARD_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(password));
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto still, impl_->UseLink(c, token, "password"));
    if (!still || *still != id) return MakeError(ErrorCode::kNotFound, "no such link");
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, a.subject_id));
    if (!keys) return MakeError(ErrorCode::kNotFound, "no such account");
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE accounts SET password = ?, last_active_at = ? WHERE id = ?",
                                   {store::Blob{keys->Seal("accounts.password", hash)}, impl_->Now(), id}));
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM account_links WHERE account_id = ? AND purpose = 'password'", {id}));
    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM account_sessions WHERE account_id = ?", {id}));
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, a.subject_id, Actor{}, "password_set", ""));
    STEWARD_RETURN_IF_ERROR(impl_->Audit(c, "account.password_set", id, Actor{}));
    // The owner hears of it, in case it was not them; every device was signed out.
    return impl_->Email(c, a.email, "Your password has changed",
                        "The password of your " + impl_->site_name +
                            " account has been set, and every device signed in to it signed out.\n\nIf this was "
                            "not you, reset it at once at " +
                            impl_->Url("/account/password-reset") + " and tell us by replying to this email.");
  }));
  return id;
}

Result<int64_t> Accounts::Refer(const Referral& referral,
                                const std::function<std::string(const std::string& link)>& told, const Actor& actor) {
  const Settings& s = impl_->settings;
  if (!s.referrals) return MakeError(ErrorCode::kFailedPrecondition, "this site takes no referrals");
  auto key = Key::Make(KeyKind::kEmail, referral.email);
  if (!key.ok() || !mail::ValidAddress(key->value())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "email: Enter an email address in the correct format, like name@example.com");
  }
  std::string source(Trim(referral.source));
  if (source.empty() || source.size() > 200) {
    return MakeError(ErrorCode::kInvalidArgument, "source: the referring organisation's name, up to 200 characters");
  }
  // No consent boxes: a partner cannot agree for the person, so what a box covers is refused.
  STEWARD_ASSIGN_OR_RETURN(auto checked, CheckValues(referral.values, {}));
  if (const Field* birth = BirthField(); birth != nullptr && s.minimum_age > 0) {
    auto dob = checked.find(birth->id);
    if (dob != checked.end() && !dob->second.empty() && !OldEnough(dob->second)) {
      return MakeError(ErrorCode::kPermissionDenied, "the person is under the service's minimum age");
    }
  }
  std::string now = impl_->Now();
  int64_t id = 0;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto existing, impl_->ByEmail(c, key->value()));
    std::string subject;
    bool is_new = !existing || existing->state != "open";
    if (!is_new) {
      // The person's own account: the referral is noted, and nothing they gave is overwritten.
      id = existing->id;
      subject = existing->subject_id;
    } else {
      if (existing) STEWARD_RETURN_IF_ERROR(DeleteAll(c, existing->id));  // an unconfirmed registration
      // Privacy: the account's dataset, from the referring organisation (one of its sources).
      STEWARD_ASSIGN_OR_RETURN(
          auto made,
          impl_->InsertOpen(c, *key, checked, impl_->LookupOf(checked, NameField(), BirthField()), actor.id));
      id = made.first;
      subject = made.second;
    }
    STEWARD_ASSIGN_OR_RETURN(
        auto referred, c.Query("INSERT INTO account_referrals (account_id, subject_id, source, received_at, actor) "
                               "VALUES (?, ?, ?, ?, ?) RETURNING id",
                               {id, subject, source, now, actor.id}));
    int64_t referral_id = referred.front().Int(0);
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, subject, actor, "referred", source));
    // Article 14: the person is told at once, with a link to see what we hold and take the account
    // on. An address that cannot be emailed leaves told_at empty, for an adviser to see.
    std::string link;
    if (is_new) {
      STEWARD_ASSIGN_OR_RETURN(std::string token, impl_->Link(c, id, "password", Accounts::kReferralLinkDays * 24));
      link = impl_->Url("/account/password/" + token);
    } else {
      link = impl_->Url("/account/sign-in");
    }
    STEWARD_ASSIGN_OR_RETURN(bool sent,
                             impl_->EmailSent(c, key->value(), "We have your details from " + source, told(link)));
    if (sent) {
      STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE account_referrals SET told_at = ? WHERE id = ?", {now, referral_id}));
      STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, subject, Actor{.id = "system"}, "told_of_referral", ""));
    }
    return impl_->Audit(
        c, "account.referred", id, actor,
        {{"new_account", is_new ? "yes" : "no"}, {"told", sent ? "email queued" : "cannot be emailed"}});
  }));
  return id;
}

namespace {

// The day a month from `rfc3339` ends: the same day of the next month, or that month's last day.
std::string MonthLater(const std::string& rfc3339) {
  int y = 0, m = 0, d = 0;
  if (std::sscanf(rfc3339.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3) return "";
  if (++m > 12) {
    m = 1;
    ++y;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int last = kDays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 1 : 0);
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", y, m, std::min(d, last));
  return out;
}

ReferralRecord ToReferral(const store::Row& r) {
  ReferralRecord out{
      .id = r.Int(0), .source = r.Text(1), .received_at = r.Text(2), .told_at = r.Text(3), .account = r.Int(4)};
  out.due = MonthLater(out.received_at);
  return out;
}

}  // namespace

Result<std::vector<ReferralRecord>> Accounts::Referrals(int64_t id) const {
  std::vector<ReferralRecord> out;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    // Privacy: the account's dataset: who referred the person and when they were told.
    return c.ForEach(
        "SELECT id, source, received_at, coalesce(told_at, ''), account_id FROM account_referrals "
        "WHERE account_id = ? ORDER BY id",
        {id}, [&](const store::Row& r) {
          out.push_back(ToReferral(r));
          return true;
        });
  }));
  return out;
}

Result<std::vector<ReferralRecord>> Accounts::Untold(int64_t limit) const {
  std::vector<ReferralRecord> out;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    // Privacy: the account's dataset: which referrals wait for their person to be told; no one's
    // details.
    return c.ForEach(
        "SELECT r.id, r.source, r.received_at, '', r.account_id FROM account_referrals r JOIN accounts a "
        "ON a.id = r.account_id WHERE r.told_at IS NULL AND a.state <> 'closed' "
        "ORDER BY r.received_at LIMIT ?",
        {limit}, [&](const store::Row& r) {
          out.push_back(ToReferral(r));
          return true;
        });
  }));
  return out;
}

Status Accounts::MarkTold(int64_t id, int64_t referral, std::string_view how, const Actor& actor) {
  std::string said = AdviserHow(how);
  if (said.empty()) return MakeError(ErrorCode::kInvalidArgument, "how: say how you told them");
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, impl_->Row(c, id));
    if (!row) return MakeError(ErrorCode::kNotFound, "no such account");
    STEWARD_ASSIGN_OR_RETURN(int64_t n, c.Exec("UPDATE account_referrals SET told_at = ? WHERE id = ? AND "
                                               "account_id = ? AND told_at IS NULL",
                                               {impl_->Now(), referral, id}));
    if (n == 0) return MakeError(ErrorCode::kNotFound, "no such referral waiting to be told");
    // "told an adviser by telephone" reads, for this, as the adviser telling: name only the channel.
    std::string channel = how == "in-person"   ? "in person"
                          : how == "telephone" ? "by telephone"
                          : how == "video"     ? "on a video call"
                                               : "in a letter";
    STEWARD_RETURN_IF_ERROR(impl_->Activity(c, id, row->Text(1), actor, "referral_told", channel));
    return impl_->Audit(c, "account.referral_told", id, actor, {{"how", std::string(how)}});
  });
}

Result<bool> Accounts::Import(store::Connection& c, std::string_view email,
                              const std::map<std::string, std::string>& values, std::string_view source) {
  auto key = Key::Make(KeyKind::kEmail, email);
  if (!key.ok() || !mail::ValidAddress(key->value())) {
    return MakeError(ErrorCode::kInvalidArgument, "email: not an email address");
  }
  STEWARD_ASSIGN_OR_RETURN(auto checked, CheckValues(values, {}));
  STEWARD_ASSIGN_OR_RETURN(auto existing, impl_->ByEmail(c, key->value()));
  if (existing) return false;
  // Privacy: the account's dataset, brought from the service's previous system.
  STEWARD_ASSIGN_OR_RETURN(
      auto made, impl_->InsertOpen(c, *key, checked, impl_->LookupOf(checked, NameField(), BirthField()), "import"));
  STEWARD_RETURN_IF_ERROR(
      impl_->Activity(c, made.first, made.second, Actor{.id = "import"}, "imported", std::string(source)));
  return true;
}

}  // namespace steward::accounts
