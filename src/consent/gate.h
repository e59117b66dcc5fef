// The cookie gate: the one place that decides whether a cookie may be set.
//
// Every Set-Cookie a response carries passes here (the server calls the gate for each one, and
// handlers have no other way to set a cookie). A cookie the register does not declare is refused,
// and so is one in a category the visitor has not allowed: in `consent` mode nothing non-essential
// until accepted; in `statistics-exemption` mode first-party statistics ("usage") unless the
// visitor objected or sends GPC. Deleting a cookie is always allowed.
//
// The visitor's choice is the GOV.UK `cookies_policy` cookie: JSON with `essential` and one boolean
// per category, plus Steward's `version`, which changes when the register adds a category or a
// purpose that needs consent, so that everyone is asked again.
//
// Thread safety: safe for concurrent use. Its rules are fixed at construction; the readings of
// `cookies_policy` it caches are guarded by a mutex.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/text_hash.h"
#include "http/request.h"
#include "http/response.h"
#include "register/register.h"

namespace steward::consent {

struct Choice {
  bool made = false;  // the visitor chose, for the current version
  // By processing::CookieCategory: a plain array, so a choice is copied without allocating.
  std::array<bool, 4> allowed{};
  bool Allowed(processing::CookieCategory c) const { return allowed[static_cast<size_t>(c)]; }
};
static_assert(static_cast<size_t>(processing::CookieCategory::kCampaigns) + 1 == 4,
              "Choice::allowed has a place for each category");

class CookieGate {
 public:
  explicit CookieGate(const processing::Register& reg);

  // True iff `cookie` may be sent in the response to `req` that sets `all` (so a choice made in
  // this very response counts).
  bool Allow(const http::Request& req, const std::vector<http::SetCookie>& all, const http::SetCookie& cookie) const;

  // The visitor's choice from the request's cookies (or from `response` when it sets one), for the
  // current version only.
  Choice CurrentChoice(const http::Request& req, const std::vector<http::SetCookie>* response = nullptr) const;
  // Whether `category` may be used for this visitor.
  bool CategoryAllowed(processing::CookieCategory category, const Choice& choice, bool gpc) const;

  // The `cookies_policy` value (percent-encoded JSON) for these choices.
  std::string PolicyValue(const std::map<std::string, bool>& allowed) const;
  // Changes when the optional categories or the consent-based purposes change.
  const std::string& version() const { return version_; }
  const processing::Register& reg() const { return reg_; }

 private:
  std::optional<Choice> Parse(std::string_view value) const;
  std::optional<Choice> ParseUncached(std::string_view value) const;
  const processing::Register& reg_;
  std::string version_;
  std::map<std::string, processing::CookieCategory> declared_;
  // Readings of cookies_policy values: a site sees only a handful of distinct ones, and each
  // request (and each cookie it sets) asks. Bounded: cleared when full.
  static constexpr size_t kCacheSize = 256;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::optional<Choice>, TextHash, std::equal_to<>> cache_;
};

// True iff the request carries `Sec-GPC: 1` (Global Privacy Control).
bool GlobalPrivacyControl(const http::Request& req);

}  // namespace steward::consent
