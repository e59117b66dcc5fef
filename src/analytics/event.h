// Analytics events as the Plausible Events API defines them (POST /api/event), so that trackers
// written for Plausible work unchanged.
//
// The body is JSON (sent as text/plain or application/json) with long or short field names:
// name/n (required, at most 120 characters), url/u (required, at most 2,000 bytes, http or https),
// domain/d (required; several sites separated by commas), referrer/r, props/p (a flat object of at
// most 30 pairs), interactive/i, and on engagement events sd (scroll depth, 0-100) and e (engaged
// milliseconds). Unknown fields are ignored. The body is read in one pass of the JSON parser's
// events, keeping only these fields: no document is built for it (every event pays for this).
//
//   auto event = analytics::ParseEvent(body);
//   if (!event.ok()) -> 400 {"errors": event.error()...}
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace steward::analytics {

inline constexpr size_t kMaxNameChars = 120;
inline constexpr size_t kMaxUrlBytes = 2000;
inline constexpr size_t kMaxReferrerBytes = 2000;
inline constexpr size_t kMaxProps = 30;
inline constexpr size_t kMaxPropKeyChars = 300;
inline constexpr size_t kMaxPropValueChars = 2000;

// The parts of an event's URL that analytics keeps.
struct Location {
  std::string hostname;                      // lower case, without "www."
  std::string path;                          // percent-encoded as sent, without query or fragment; "/" at least
  std::map<std::string, std::string> query;  // decoded query parameters (utm_*, ref, search)
};

struct Event {
  std::string name;                  // "pageview", "engagement" or a custom event
  std::string url;                   // as sent
  Location location;                 // the url's parts
  std::vector<std::string> domains;  // the sites it is for
  std::string referrer;
  std::vector<std::pair<std::string, std::string>> props;  // values as strings
  bool interactive = true;
  std::optional<int64_t> scroll_depth;  // 0..100, engagement only
  std::optional<int64_t> engaged_ms;    // engagement only
};

// One problem per field, in Plausible's shape: {"name": ["can't be blank"]}.
using FieldErrors = std::map<std::string, std::vector<std::string>>;

// Parses and validates `body`. Every problem is reported at once; nothing from the body is quoted.
// Returns nullopt and fills `errors` when invalid.
std::optional<Event> ParseEvent(std::string_view body, FieldErrors& errors);

// Splits an http(s) URL. nullopt when it is not one.
std::optional<Location> ParseLocation(std::string_view url);

// The JSON answer for `errors`: {"errors":{"field":["message", ...]}}.
std::string ErrorsJson(const FieldErrors& errors);

// Where a visit came from: the utm_source / ref / source parameter, else the referrer's site
// ("Google", "Bing", "Facebook", ... for well-known ones, else its host without "www."); "" for
// none or for a referrer on the same site (`hostname`).
std::string ReferrerSource(const Location& page, std::string_view referrer);

}  // namespace steward::analytics
