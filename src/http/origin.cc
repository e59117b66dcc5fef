#include "http/origin.h"

#include <algorithm>

namespace steward::http {

std::string OwnOrigin(const Request& request, std::string_view public_base_url) {
  if (!public_base_url.empty()) {
    std::string base(public_base_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
    size_t scheme = base.find("://");
    size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return path == std::string::npos ? base : base.substr(0, path);
  }
  return std::string(request.https ? "https://" : "http://") + std::string(request.Header("Host"));
}

bool SameOriginOrAllowed(const Request& request, std::string_view public_base_url,
                         const std::vector<std::string>& allowed) {
  std::string_view origin = request.Header("Origin");
  if (!origin.empty()) {
    if (origin == OwnOrigin(request, public_base_url)) return true;
    return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
  }
  std::string_view site = request.Header("Sec-Fetch-Site");
  return site == "same-origin" || site == "none";
}

}  // namespace steward::http
