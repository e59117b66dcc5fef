#include "http/response.h"

#include <algorithm>

#include "core/strings.h"

namespace steward::http {
namespace {

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 32 || c >= 127) return false;
  }
  return FindAnyOf(s, "()<>@,;:\\\"/[]?={}") == std::string_view::npos;
}

bool IsCookieValue(std::string_view s) {
  for (unsigned char c : s) {
    // cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
    bool ok = c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) ||
              (c >= 0x5D && c <= 0x7E);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::string> SetCookie::Serialize() const {
  if (!IsToken(name)) return MakeError(ErrorCode::kInvalidArgument, "cookie name is not a token");
  if (!IsCookieValue(value)) {
    return MakeError(ErrorCode::kInvalidArgument, "cookie '" + name + "' has characters a cookie value cannot carry");
  }
  if (path.empty() || path[0] != '/' || FindAnyOf(path, ";\r\n") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "cookie '" + name + "' has a bad path");
  }
  if (!domain.empty() &&
      (domain.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
       std::string::npos)) {
    return MakeError(ErrorCode::kInvalidArgument, "cookie '" + name + "' has a bad domain");
  }
  if (name.starts_with("__Host-") && (!secure || path != "/" || !domain.empty())) {
    return MakeError(ErrorCode::kInvalidArgument, "a __Host- cookie must be Secure with Path=/ and no Domain");
  }
  if (name.starts_with("__Secure-") && !secure) {
    return MakeError(ErrorCode::kInvalidArgument, "a __Secure- cookie must be Secure");
  }
  if (same_site == SameSite::kNone && !secure) {
    return MakeError(ErrorCode::kInvalidArgument, "SameSite=None needs Secure");
  }
  std::string out;
  out.reserve(name.size() + value.size() + path.size() + domain.size() + 80);
  out.append(name).append("=").append(value).append("; Path=").append(path);
  if (!domain.empty()) out.append("; Domain=").append(domain);
  if (max_age_seconds) out.append("; Max-Age=").append(std::to_string(*max_age_seconds));
  if (secure) out += "; Secure";
  if (http_only) out += "; HttpOnly";
  switch (same_site) {
    case SameSite::kStrict:
      out += "; SameSite=Strict";
      break;
    case SameSite::kLax:
      out += "; SameSite=Lax";
      break;
    case SameSite::kNone:
      out += "; SameSite=None";
      break;
  }
  return out;
}

SetCookie SetCookie::Expired(std::string name, std::string path, std::string domain) {
  SetCookie c;
  c.name = std::move(name);
  c.path = std::move(path);
  c.domain = std::move(domain);
  c.max_age_seconds = 0;
  c.secure = c.name.starts_with("__Host-") || c.name.starts_with("__Secure-");
  return c;
}

std::string ContentSecurityPolicy(std::string_view form_action) {
  std::string extra = form_action.empty() ? "" : " " + std::string(form_action);
  return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
         "connect-src 'self'; form-action 'self'" +
         extra + "; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";
}

namespace {
Response WithBody(std::string body, int status, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.SetHeader("Content-Type", std::move(content_type));
  return r;
}
}  // namespace

Response Response::Html(std::string body, int status) {
  return WithBody(std::move(body), status, "text/html; charset=utf-8");
}

Response Response::Text(std::string body, int status) {
  return WithBody(std::move(body), status, "text/plain; charset=utf-8");
}

Response Response::Json(std::string body, int status) { return WithBody(std::move(body), status, "application/json"); }

Response Response::Redirect(std::string location, int status) {
  Response r;
  r.status = status;
  r.SetHeader("Location", std::move(location));
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  return r;
}

void Response::SetHeader(std::string_view name, std::string value) {
  STEWARD_CHECK(!EqualsIgnoreCase(name, "Set-Cookie"), "cookies go through Response::cookies");
  for (auto& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) {
      h.value = std::move(value);
      return;
    }
  }
  headers.push_back({std::string(name), std::move(value)});
}

std::string_view Response::Header(std::string_view name) const {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

std::string_view StatusReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

int StatusForError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kDataLoss:
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

bool AllowOrigin(std::string_view origin, const std::vector<std::string>& allowed, Response& r) {
  r.SetHeader("Vary", "Origin");
  if (origin.empty() || std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return false;
  r.SetHeader("Access-Control-Allow-Origin", std::string(origin));
  r.SetHeader("Access-Control-Allow-Credentials", "true");
  return true;
}

Response Preflight(std::string_view origin, const std::vector<std::string>& allowed, std::string_view methods) {
  Response r = Response::NoContent();
  if (!AllowOrigin(origin, allowed, r)) {
    Response refused = Response::Json(R"({"error":"this origin may not send here"})", 403);
    refused.SetHeader("Vary", "Origin");
    return refused;
  }
  r.SetHeader("Access-Control-Allow-Methods", std::string(methods));
  r.SetHeader("Access-Control-Allow-Headers", "Content-Type");
  r.SetHeader("Access-Control-Max-Age", "600");
  return r;
}

}  // namespace steward::http
