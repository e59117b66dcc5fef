// The person's pages of the accounts module, internal to src/accounts: one Serving whose handlers
// are defined in three files: module.cc (the routes, background work, referrals from partners),
// person_pages.cc (sessions, registering, signing in with a password or a provider, the account,
// its details, consents, a copy, closing) and security_pages.cc (the code from an app at sign-in,
// security codes, setting or resetting a password, a new email address).
//
// Privacy: the account's dataset ([accounts] dataset): every handler reads or changes one person's
// account through Accounts.
//
// Thread safety: as module::Serving: handlers run on the serving threads, and every member they
// use is safe for concurrent use.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accounts/accounts.h"
#include "accounts/module.h"
#include "accounts/sign_in_with.h"
#include "accounts/staff_pages.h"
#include "accounts/subject_data.h"
#include "html/template.h"
#include "http/request.h"
#include "http/response.h"
#include "module/module.h"
#include "module/public_sessions.h"
#include "staff/sessions.h"
#include "staff/throttle.h"

namespace steward::analytics {
class ApiKeys;
}

namespace steward::accounts {

inline constexpr module::Id kAccounts("accounts");
inline constexpr int64_t kMaxBody = int64_t{32} * 1024;
using Errors = std::vector<std::pair<std::string, std::string>>;

// `r` with no caching, and no token in the address told to another site.
http::Response NoStore(http::Response r);

class AccountsServing : public module::Serving, public module::PublicSessions {
  using Request = http::Request;
  using Response = http::Response;

 public:
  AccountsServing(module::Platform& p, std::unique_ptr<Accounts> accounts, std::unique_ptr<oidc::Client> oidc);
  subject::SubjectData* Subjects() override { return &subjects_; }
  void AddRoutes(http::Router& router) override;
  std::vector<module::StaffPage> StaffPages() override { return CustomerPages(p_, *accounts_); }
  std::vector<module::Task> Tasks() override;
  // module::PublicSessions: the signed-in account holder, for other modules' public pages.
  std::optional<module::SignedInPerson> SignedIn(const http::Request& req) override;
  bool CheckCsrf(const http::Request& req, std::string_view token) override;

 private:
  struct Signed {
    std::string cookie, csrf;
    Account account;
  };
  using Handler = Response (AccountsServing::*)(Request&, Signed&);

  // ---- Sessions ----------------------------------------------------------------------------------
  Response WithSession(Request& req, Handler handler);
  http::SetCookie SessionCookie(const Request& req, std::string value) const;
  bool FromThisSite(const Request& req) const;
  Actor Self(const Request& req) const;
  html::Object Common() const;
  Response Render(Request& req, std::string_view tmpl, std::string title, html::Object data, const Errors& errors,
                  int status);

  // ---- Registering -------------------------------------------------------------------------------
  Response RegisterPage(Request& req, const std::map<std::string, std::string>& values,
                        const std::set<std::string>& consents, const Errors& errors, int status);

  // `linked_email`: the address a provider confirmed, for the form after signing in there.
  Response RegisterForm(Request& req, const std::map<std::string, std::string>& values,
                        const std::set<std::string>& consents, const Errors& errors, int status,
                        const std::string& linked_email);
  Response PostRegister(Request& req);
  Response TooYoung(Request& req);
  Response CheckEmail(Request& req);
  Response LinkProblem(Request& req, const Error& e);
  Response Confirm(Request& req);

  // ---- Signing in --------------------------------------------------------------------------------
  Response SignInPage(Request& req, const std::string& email, const Errors& errors, int status);
  Response PostSignIn(Request& req);

  // A new session id at every sign-in: one fixed before it is worthless. `id_token`: the provider's,
  // when the person signed in there, for signing out there too.
  Response StartSession(Request& req, int64_t id, const std::string& id_token, bool pending = false);

  // ---- The second factor -------------------------------------------------------------------------

  // The session signed in with the password and waiting for the code, or null.
  std::optional<staff::Session> Pending(Request& req, std::string* cookie);
  Response CodePage(Request& req, const Errors& errors, int status);
  Response PostCode(Request& req);
  Response SecurityPage(Request& req, Signed& s);
  Response Security(Request& req, Signed& s, html::Object data, int status);
  Response WithSecret(Request& req, Signed& s, const std::string& secret, const std::string& error);
  Response PostSecurityStart(Request& req, Signed& s);
  Response PostSecurityConfirm(Request& req, Signed& s);
  Response PostSecurityRemove(Request& req, Signed& s);

  // ---- Signing in through the provider ([accounts.oidc]) -------------------------------------------
  Response OidcCallback(Request& req);

  // The form a person new here fills in after the provider: the site's fields and consent boxes,
  // the address the provider confirmed shown, not asked.
  Response LinkedRegisterPage(Request& req, const std::map<std::string, std::string>& values,
                              const std::set<std::string>& consents, const Errors& errors, int status);
  Response PostLinkedRegister(Request& req);
  Response SignedOut(Request& req);
  Response SignOut(Request& req, Signed& s);

  // ---- Referrals from partner organisations -------------------------------------------------------

  // POST /api/referrals with a key of scope "referrals": {"email": "...", "details": {field: value}}.
  // The key's name is the referral source.
  Response ApiRefer(Request& req);

  // ---- Setting a password from an adviser's hand-over ----------------------------------------------
  Response PasswordPage(Request& req, const Errors& errors, int status);

  // ---- A forgotten password ----------------------------------------------------------------------
  Response ResetPage(Request& req, const std::string& email, const Errors& errors, int status);
  Response PostReset(Request& req);
  Response PostPassword(Request& req);

  // ---- Your account ------------------------------------------------------------------------------
  Response Home(Request& req, Signed& s);
  Response HomeWith(Request& req, Signed& s, const std::string& notice);
  Response DetailsPage(Request& req, Signed& s);
  Response Details(Request& req, Signed& s, const std::map<std::string, std::string>& values, const Errors& errors,
                   int status);
  Response PostDetails(Request& req, Signed& s);

  // ---- Consent asked again after a change to the notice (new_consents.cc) --------------------------
  // The boxes whose purpose came into the notice after the account was made and that the holder has
  // never answered: asked once they sign in.
  std::vector<const ConsentBox*> NewBoxes(const Account& a) const;
  Response NewConsentsPage(Request& req, Signed& s);
  Response NewConsents(Request& req, Signed& s, const Errors& errors, int status);
  Response PostNewConsents(Request& req, Signed& s);

  // ---- Changing the email address ------------------------------------------------------------------
  Response EmailPage(Request& req, Signed& s);
  Response EmailForm(Request& req, Signed& s, const std::string& email, const Errors& errors, int status);
  Response PostEmail(Request& req, Signed& s);
  Response ConfirmEmail(Request& req);
  Response PostConsent(Request& req, Signed& s);
  Response Download(Request& req, Signed& s);
  Response ClosePage(Request& req, Signed& s);
  Response PostClose(Request& req, Signed& s);
  module::Platform& p_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<SignInWith> with_;  // null without [accounts.oidc]
  staff::Sessions sessions_;
  staff::SignInThrottle throttle_;
  analytics::ApiKeys* keys_;
  AccountSubjects subjects_;
};

}  // namespace steward::accounts
