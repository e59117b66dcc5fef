// JSON request bodies. Kept apart from request.h so that nlohmann-json, a heavy header, is
// included only by the handlers that take JSON.
//
//   STEWARD_ASSIGN_OR_RETURN(nlohmann::json body, http::ParseJsonBody(req));
#pragma once

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "http/request.h"

namespace steward::http {

struct JsonLimits {
  size_t max_depth = 32;  // nesting of arrays and objects
};

// Parses the body as JSON when Content-Type is application/json or text/plain (the Plausible
// Events API sends the latter). Errors: kInvalidArgument naming the problem and its byte offset,
// never quoting the body.
Result<nlohmann::json> ParseJsonBody(const Request& request, const JsonLimits& limits = {});

}  // namespace steward::http
