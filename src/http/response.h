// Response: what a handler returns. Plain data; the server writes it.
//
// Cookies are kept apart from other headers, as SetCookie values, so that one place in the server
// writes every Set-Cookie (and a later gate can refuse cookies the register or the visitor does
// not allow). SetHeader refuses "Set-Cookie".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "http/request.h"

namespace steward::http {

enum class SameSite { kStrict, kLax, kNone };

struct SetCookie {
  std::string name;
  std::string value;
  std::string path = "/";
  std::string domain;                      // empty: host-only (the default, and the only choice for __Host-)
  std::optional<int64_t> max_age_seconds;  // none: ends with the browser session; 0: delete
  bool secure = false;
  bool http_only = true;
  SameSite same_site = SameSite::kLax;

  // The header value. Errors: kInvalidArgument for a name that is not an RFC 6265 token, a value
  // with characters a cookie cannot carry, or a `__Host-` cookie that is not Secure with Path=/.
  Result<std::string> Serialize() const;
  // A Set-Cookie that deletes the cookie `name` at `path`.
  static SetCookie Expired(std::string name, std::string path = "/", std::string domain = "");
};

struct Response {
  int status = 200;
  std::vector<HeaderField> headers;
  std::vector<SetCookie> cookies;
  std::string body;

  static Response Html(std::string body, int status = 200);
  static Response Text(std::string body, int status = 200);
  static Response Json(std::string body, int status = 200);
  // 303 See Other by default: the answer to a form POST.
  static Response Redirect(std::string location, int status = 303);
  static Response NoContent();

  // Replaces any header of this name. Set-Cookie is refused (use cookies).
  void SetHeader(std::string_view name, std::string value);
  // The value of a header, or "".
  std::string_view Header(std::string_view name) const;
};

// The Content-Security-Policy every response gets unless its handler sets one. `form_action`: an
// origin ("https://oidc.account.gov.uk") a form of the page may lead to, besides the site itself
// (browsers apply form-action to the redirects after a form is sent, too).
std::string ContentSecurityPolicy(std::string_view form_action = {});

// The reason phrase of a status ("Not Found").
std::string_view StatusReason(int status);

// The one place an ErrorCode becomes an HTTP status.
int StatusForError(ErrorCode code);

// Cross-origin reads: when `origin` (the request's Origin header) is one of `allowed` (exactly, as
// "https://www.example.gov.uk"), lets that origin read the answer, with credentials; the answer
// varies by Origin either way. Returns whether it was allowed.
bool AllowOrigin(std::string_view origin, const std::vector<std::string>& allowed, Response& r);
// The answer to a CORS preflight (OPTIONS) for `methods`: 204 for an allowed origin, else 403.
Response Preflight(std::string_view origin, const std::vector<std::string>& allowed, std::string_view methods);

}  // namespace steward::http
