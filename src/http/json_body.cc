#include "http/json_body.h"

namespace steward::http {

Result<nlohmann::json> ParseJsonBody(const Request& request, const JsonLimits& limits) {
  std::string type = request.ContentType();
  if (type != "application/json" && type != "text/plain") {
    return MakeError(ErrorCode::kInvalidArgument, "expected a JSON body (application/json)");
  }
  // Reject deep nesting before parsing: the parser recurses once per level.
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : request.body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > limits.max_depth) {
        return MakeError(ErrorCode::kInvalidArgument, "JSON nests deeper than " + std::to_string(limits.max_depth));
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    return MakeError(ErrorCode::kInvalidArgument, "malformed JSON at byte " + std::to_string(e.byte));
  } catch (const nlohmann::json::exception&) {
    // out_of_range: a number too large for a double. what() quotes the input, so it is not used.
    return MakeError(ErrorCode::kInvalidArgument, "malformed JSON: a number is out of range");
  }
}

}  // namespace steward::http
