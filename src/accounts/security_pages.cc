#include "accounts/serving.h"
#include "core/strings.h"
#include "http/origin.h"
#include "site/pages.h"

namespace steward::accounts {

using http::Response;
using module::FieldError;

// ---- The second factor -------------------------------------------------------------------------

// The session signed in with the password and waiting for the code, or null.
std::optional<staff::Session> AccountsServing::Pending(Request& req, std::string* cookie) {
  auto cookies = req.Cookies();
  *cookie = module::Field(cookies, SessionCookieName(req.https));
  auto session = sessions_.Load(*cookie);
  if (!session.ok() || !*session || !(*session)->second_factor_pending) return std::nullopt;
  return **session;
}

Response AccountsServing::CodePage(Request& req, const Errors& errors, int status) {
  std::string cookie;
  if (!Pending(req, &cookie)) return NoStore(Response::Redirect("/account/sign-in"));
  return Render(req, "account_code", "Enter the code from your app", Common(), errors, status);
}

Response AccountsServing::PostCode(Request& req) {
  if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
  std::string cookie;
  auto pending = Pending(req, &cookie);
  if (!pending) return NoStore(Response::Redirect("/account/sign-in"));
  auto form = req.Form();
  if (!form.ok()) return p_.pages->ErrorPage(400, &req);
  std::string code(Trim(module::Field(*form, "code")));
  if (code.empty() || code.size() > 32) return CodePage(req, {{"code", "Enter the code your app shows"}}, 400);
  int64_t id = pending->staff_id;
  auto attempt = throttle_.Begin("code:" + std::to_string(id), req.client_ip ? req.client_ip->ToString() : "unknown");
  if (attempt.wait.count() > 0) {
    Response r = CodePage(req, {{"code", "Too many codes tried: wait a few minutes and try again"}}, 429);
    r.SetHeader("Retry-After", attempt.RetryAfter());
    return r;
  }
  auto right = accounts_->VerifySecondFactor(id, code, Self(req));
  if (!right.ok()) return p_.pages->ErrorFor(right.error(), req);
  if (!*right) {
    throttle_.Failed(attempt);
    return CodePage(req, {{"code", "The code is not right: enter the code your app shows now, or a recovery code"}},
                    400);
  }
  throttle_.Succeeded(attempt);
  // A new session id once the second factor is passed, as at sign-in.
  return StartSession(req, id, "");
}

Response AccountsServing::SecurityPage(Request& req, Signed& s) { return Security(req, s, {}, 200); }

Response AccountsServing::Security(Request& req, Signed& s, html::Object data, int status) {
  data["base"] = "/account/security";
  data["csrf_token"] = s.csrf;
  data["ask_password"] = s.account.has_password;
  if (!data.count("enabled")) data["enabled"] = s.account.second_factor;
  return Render(req, "admin_second_factor", "Security codes from an app", std::move(data), {}, status);
}

Response AccountsServing::WithSecret(Request& req, Signed& s, const std::string& secret, const std::string& error) {
  std::string issuer = http::PercentEncode(p_.config.site.name);
  html::Object data{{"enabled", false},
                    {"secret", secret},
                    {"uri", "otpauth://totp/" + issuer + ":" + http::PercentEncode(s.account.email) +
                                "?secret=" + secret + "&issuer=" + issuer + "&algorithm=SHA1&digits=6&period=30"}};
  if (!error.empty()) {
    data["code_error"] = error;
    data["errors"] = module::ErrorSummary({{"code", error}});
  }
  return Security(req, s, std::move(data), error.empty() ? 200 : 400);
}

Response AccountsServing::PostSecurityStart(Request& req, Signed& s) {
  auto secret = accounts_->BeginSecondFactor(s.account.id, Self(req));
  if (!secret.ok()) return p_.pages->ErrorFor(secret.error(), req);
  return WithSecret(req, s, *secret, "");
}

Response AccountsServing::PostSecurityConfirm(Request& req, Signed& s) {
  auto form = req.Form();
  auto codes = accounts_->ConfirmSecondFactor(s.account.id, module::Field(*form, "code"), Self(req));
  if (!codes.ok()) {
    if (codes.error().code != ErrorCode::kInvalidArgument) return p_.pages->ErrorFor(codes.error(), req);
    // The secret is kept sealed and never shown twice: a wrong code means starting again.
    auto again = accounts_->BeginSecondFactor(s.account.id, Self(req));
    if (!again.ok()) return p_.pages->ErrorFor(again.error(), req);
    return WithSecret(req, s, *again, "The code is not right. Add this new key to your app and try again");
  }
  html::List list;
  for (const auto& c : *codes) list.push_back(html::Object{{"code", c}});
  return Security(req, s, html::Object{{"enabled", true}, {"codes", module::Marked(list)}}, 200);
}

Response AccountsServing::PostSecurityRemove(Request& req, Signed& s) {
  auto form = req.Form();
  if (s.account.has_password) {
    // Weakening the account needs the password again: a session left open is not enough.
    std::string password = module::Field(*form, "password");
    auto attempt = throttle_.Begin("reauth:" + std::to_string(s.account.id),
                                   req.client_ip ? req.client_ip->ToString() : "unknown");
    auto right = attempt.wait.count() > 0 || password.size() > 256 ? Result<bool>(false)
                                                                   : accounts_->PasswordIs(s.account.id, password);
    if (!right.ok()) return p_.pages->ErrorFor(right.error(), req);
    if (!*right) {
      throttle_.Failed(attempt);
      std::string error = password.empty() ? "Enter your password" : "Enter your correct password";
      return Security(
          req, s,
          html::Object{
              {"enabled", true}, {"password_error", error}, {"errors", module::ErrorSummary({{"password", error}})}},
          400);
    }
    throttle_.Succeeded(attempt);
  }
  Status removed = accounts_->RemoveSecondFactor(s.account.id, Self(req));
  if (!removed.ok()) return p_.pages->ErrorFor(removed.error(), req);
  return NoStore(Response::Redirect("/account/security"));
}

// ---- Setting a password from an adviser's hand-over ----------------------------------------------

Response AccountsServing::PasswordPage(Request& req, const Errors& errors, int status) {
  auto id = accounts_->CheckPasswordLink(req.PathParam("token"));
  if (!id.ok()) return LinkProblem(req, id.error());
  html::Object data = Common();
  data["token"] = std::string(req.PathParam("token"));
  return Render(req, "account_password", "Choose a password", std::move(data), errors, status);
}

// ---- A forgotten password ----------------------------------------------------------------------

Response AccountsServing::ResetPage(Request& req, const std::string& email, const Errors& errors, int status) {
  html::Object data = Common();
  data["email"] = email;
  return Render(req, "account_password_reset", "Reset your password", std::move(data), errors, status);
}

Response AccountsServing::PostReset(Request& req) {
  if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
  auto form = req.Form();
  if (!form.ok()) return p_.pages->ErrorPage(400, &req);
  std::string email(Trim(module::Field(*form, "email")));
  if (email.empty()) return ResetPage(req, email, {{"email", "Enter your email address"}}, 400);
  if (email.size() > 254)
    return ResetPage(req, "", {{"email", "Enter an email address of 254 characters or fewer"}}, 400);
  Status asked = accounts_->RequestPasswordReset(email, Self(req));
  if (!asked.ok() && asked.error().code == ErrorCode::kInvalidArgument) {
    return ResetPage(req, email, {FieldError(asked.error(), "email")}, 400);
  }
  if (!asked.ok()) return p_.pages->ErrorFor(asked.error(), req);
  // The same page whether or not the address has an account.
  html::Object data = Common();
  data["reset"] = true;
  data["hours"] = Accounts::kResetHours;
  return Render(req, "account_check_email", "Check your email", std::move(data), {}, 200);
}

Response AccountsServing::PostPassword(Request& req) {
  if (!FromThisSite(req)) return p_.pages->ErrorPage(403, &req);
  auto form = req.Form();
  if (!form.ok()) return p_.pages->ErrorPage(400, &req);
  std::string password = module::Field(*form, "password");
  if (password.empty()) return PasswordPage(req, {{"password", "Enter a password"}}, 400);
  auto id = accounts_->SetPasswordByLink(req.PathParam("token"), password);
  if (!id.ok() && id.error().code == ErrorCode::kInvalidArgument) {
    return PasswordPage(req, {FieldError(id.error(), "password")}, 400);
  }
  if (!id.ok()) return LinkProblem(req, id.error());
  return SignInPage(req, "", {}, 200);
}

// ---- Changing the email address ------------------------------------------------------------------

Response AccountsServing::EmailPage(Request& req, Signed& s) { return EmailForm(req, s, "", {}, 200); }

Response AccountsServing::EmailForm(Request& req, Signed& s, const std::string& email, const Errors& errors,
                                    int status) {
  html::Object data = Common();
  data["csrf_token"] = s.csrf;
  data["current"] = s.account.email;
  data["email"] = email;
  data["has_password"] = s.account.has_password;
  return Render(req, "account_email", "Change your email address", std::move(data), errors, status);
}

Response AccountsServing::PostEmail(Request& req, Signed& s) {
  auto form = req.Form();
  std::string email(Trim(module::Field(*form, "email")));
  std::string password = module::Field(*form, "password");
  Errors errors;
  if (email.empty()) errors.emplace_back("email", "Enter your new email address");
  if (email.size() > 254) errors.emplace_back("email", "Enter an email address of 254 characters or fewer");
  if (s.account.has_password && password.empty()) errors.emplace_back("password", "Enter your password");
  if (password.size() > 256) errors.emplace_back("password", "Your password is not right");
  if (errors.empty()) {
    Status asked = accounts_->AskEmailChange(s.account.id, email, password, Self(req));
    if (!asked.ok() && asked.error().code == ErrorCode::kInvalidArgument) {
      errors.push_back(FieldError(asked.error(), "email"));
    } else if (!asked.ok()) {
      return p_.pages->ErrorFor(asked.error(), req);
    }
  }
  if (!errors.empty()) return EmailForm(req, s, email, errors, 400);
  html::Object data = Common();
  data["email_change"] = true;
  data["to"] = email;
  data["hours"] = Accounts::kLinkHours;
  return Render(req, "account_check_email", "Check your email", std::move(data), {}, 200);
}

Response AccountsServing::ConfirmEmail(Request& req) {
  auto id = accounts_->ConfirmEmailChange(req.PathParam("token"));
  if (!id.ok() && id.error().code == ErrorCode::kAlreadyExists) {
    html::Object data = Common();
    data["taken"] = true;
    return Render(req, "account_link", "This address has an account already", std::move(data), {}, 409);
  }
  if (!id.ok()) return LinkProblem(req, id.error());
  html::Object data = Common();
  data["email_changed"] = true;
  return Render(req, "account_sign_in", "Your email address is changed: sign in", std::move(data), {}, 200);
}

}  // namespace steward::accounts
