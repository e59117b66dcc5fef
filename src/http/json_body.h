// JSON request bodies: the one guarded way every handler parses JSON from outside. The body's size
// is already bounded by its route; here nesting is bounded before the parser (which recurses once
// per level) sees it, and failures become errors that never quote the input. Only nlohmann-json's
// forward declarations are included here: callers that read the value include the library in
// their .cc.
//
//   STEWARD_ASSIGN_OR_RETURN(nlohmann::json body, http::ParseJsonBody(req));
//   auto event = http::ParseJson(text);  // a body already taken from its request
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string_view>

#include "core/result.h"
#include "http/request.h"

namespace steward::http {

struct JsonLimits {
  size_t max_depth = 32;       // nesting of arrays and objects
  size_t max_bytes = 1 << 20;  // the text itself (routes usually allow less)
};

// Parses `text` as JSON within `limits`. Errors: kInvalidArgument naming the problem (and, for
// malformed text, its byte offset), never quoting the text.
Result<nlohmann::json> ParseJson(std::string_view text, const JsonLimits& limits = {});

// ParseJson of the body, when Content-Type is application/json or text/plain (the Plausible Events
// API sends the latter). Errors: as ParseJson, and kInvalidArgument for another content type.
Result<nlohmann::json> ParseJsonBody(const Request& request, const JsonLimits& limits = {});

}  // namespace steward::http
