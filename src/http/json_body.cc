#include "http/json_body.h"

#include <nlohmann/json.hpp>

namespace steward::http {
namespace {

// The nesting of `text`, stopping as soon as it passes `max` (brackets inside strings do not count).
bool NestsWithin(std::string_view text, size_t max) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

// Records where a parse failed, without the exceptions (and the text they quote).
class FirstError : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
 public:
  using json_sax_dom_parser::json_sax_dom_parser;
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    byte = position;
    out_of_range = e.id >= 400 && e.id < 500;
    return false;
  }
  size_t byte = 0;
  bool out_of_range = false;
};

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return MakeError(ErrorCode::kInvalidArgument, "JSON longer than " + std::to_string(limits.max_bytes) + " bytes");
  }
  if (!NestsWithin(text, limits.max_depth)) {
    return MakeError(ErrorCode::kInvalidArgument, "JSON nests deeper than " + std::to_string(limits.max_depth));
  }
  nlohmann::json out;
  FirstError sax(out, /*allow_exceptions=*/false);
  bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json,
                                      /*strict=*/true);
  if (!ok) {
    if (sax.out_of_range) return MakeError(ErrorCode::kInvalidArgument, "malformed JSON: a number is out of range");
    return MakeError(ErrorCode::kInvalidArgument, "malformed JSON at byte " + std::to_string(sax.byte));
  }
  return out;
}

Result<nlohmann::json> ParseJsonBody(const Request& request, const JsonLimits& limits) {
  std::string type = request.ContentType();
  if (type != "application/json" && type != "text/plain") {
    return MakeError(ErrorCode::kInvalidArgument, "expected a JSON body (application/json)");
  }
  return ParseJson(request.body, limits);
}

}  // namespace steward::http
