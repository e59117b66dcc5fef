// Who a request on the public site comes from, when they are signed in to a citizen account: the
// accounts module provides it (Services), so that another module can serve a signed-in person
// without asking again what the account already proves (a rights request needs no emailed link
// from an account holder).
//
// Privacy: the account's email address and name (the accounts module's dataset), for the module
// that asks; never logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "subject/subject.h"

namespace steward::http {
struct Request;
}  // namespace steward::http

namespace steward::module {

struct SignedInPerson {
  subject::Key account;  // "accounts:12"
  std::string email;     // the account's confirmed address
  std::string name;      // from the field of category user.contact.name; may be empty
  std::string csrf;      // the session's token, for a form that acts as the person
};

class PublicSessions {
 public:
  virtual ~PublicSessions() = default;
  // The person signed in on `req` (fully: not waiting for a code from their app) to an open
  // account, or nullopt.
  virtual std::optional<SignedInPerson> SignedIn(const http::Request& req) = 0;
  // Whether `token` is the CSRF token of the session on `req`.
  virtual bool CheckCsrf(const http::Request& req, std::string_view token) = 0;
};

}  // namespace steward::module
