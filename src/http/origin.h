// Where a request comes from: the check that keeps other sites from posting the forms anyone may
// post (the cookie choices, feedback), which have no session to carry a CSRF token.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace steward::http {

// The site's own origin ("https://www.example.gov.uk"): from `public_base_url` when set, else the
// request's scheme and Host.
std::string OwnOrigin(const Request& request, std::string_view public_base_url);

// True when the request comes from the site itself or one of `allowed` origins: by its Origin
// header, or, from a browser that sends none, by Sec-Fetch-Site. A request with neither is not
// believed.
bool SameOriginOrAllowed(const Request& request, std::string_view public_base_url,
                         const std::vector<std::string>& allowed);

}  // namespace steward::http
