// ScanJson: reads one strict JSON text (RFC 8259) and calls a handler for each value, as
// nlohmann-json's sax_parse does, with the same handler: null(), boolean(b), number_integer(i),
// number_unsigned(u), number_float(d, text), string(s), key(s), start_object(n), end_object(),
// start_array(n), end_array(). Each returns false to stop the scan.
//
// It accepts and refuses exactly what nlohmann-json's strict parser does (one value, optional
// whitespace and a leading UTF-8 byte order mark around it, strings of valid UTF-8 with paired
// surrogates, numbers as integers while they fit in 64 bits; and, as nlohmann reads a NUL byte as
// the end of its input, whatever follows a NUL after the value is not read), and calls the handler with the same
// values in the same order for the texts it accepts; the core tests hold it to that. What it does
// not do is nlohmann's bookkeeping for error messages, which copies every character of the input
// once more: here a string is copied a run at a time, and a number is read where it lies. For the
// small bodies read on every request (an analytics event), that bookkeeping was most of the parse.
//
//   FieldReader reader(...);
//   bool ok = ScanJson(body, reader);
//
// The scan keeps its own stack of open objects and lists, so no text can exhaust the thread's:
// the handler decides how deep it reads (start_object and start_array return false past it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace steward {

namespace json_scan {

// A number at `p`, as nlohmann-json reads it.
struct Number {
  enum Kind { kInvalid, kInteger, kUnsigned, kFloat } kind = kInvalid;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double floating = 0;
};

// Reads a string whose opening quote is at `p` into `out` (cleared first), leaving `p` after its
// closing quote. False on a malformed string.
bool ReadString(const char*& p, const char* end, std::string& out);
// Reads a number starting at `p`, leaving `p` after it. `scratch` holds a float's text, which the
// handler is given as nlohmann gives it. kInvalid on a malformed number.
Number ReadNumber(const char*& p, const char* end, std::string& scratch);

inline void SkipSpace(const char*& p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
}

inline bool ReadLiteral(const char*& p, const char* end, std::string_view word) {
  if (static_cast<size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) return false;
  p += word.size();
  return true;
}

}  // namespace json_scan

template <typename Handler>
bool ScanJson(std::string_view text, Handler& h) {
  using namespace json_scan;
  const char* p = text.data();
  const char* end = p + text.size();
  if (text.starts_with("\xEF\xBB\xBF")) p += 3;
  constexpr size_t kUnknownSize = static_cast<size_t>(-1);
  std::string open;  // '{' or '[' for each object or list not yet closed (no allocation to 15 deep)
  std::string token;
  std::string scratch;
  // A member's key and its colon, from `p` (after any space); false when they are not there or the
  // handler stops.
  auto read_key = [&] {
    SkipSpace(p, end);
    if (p == end || *p != '"' || !ReadString(p, end, token) || !h.key(token)) return false;
    SkipSpace(p, end);
    if (p == end || *p != ':') return false;
    ++p;
    return true;
  };

  // Each pass reads one value, then the punctuation after it: a comma and the next key (in an
  // object), or the ends of what the value closes.
  while (true) {
    SkipSpace(p, end);
    if (p == end) return false;
    switch (*p) {
      case '{':
        ++p;
        if (!h.start_object(kUnknownSize)) return false;
        SkipSpace(p, end);
        if (p < end && *p == '}') {
          ++p;
          if (!h.end_object()) return false;
          break;
        }
        open.push_back('{');
        if (!read_key()) return false;
        continue;  // to the first member's value
      case '[':
        ++p;
        if (!h.start_array(kUnknownSize)) return false;
        SkipSpace(p, end);
        if (p < end && *p == ']') {
          ++p;
          if (!h.end_array()) return false;
          break;
        }
        open.push_back('[');
        continue;  // to the first element
      case '"':
        if (!ReadString(p, end, token) || !h.string(token)) return false;
        break;
      case 't':
        if (!ReadLiteral(p, end, "true") || !h.boolean(true)) return false;
        break;
      case 'f':
        if (!ReadLiteral(p, end, "false") || !h.boolean(false)) return false;
        break;
      case 'n':
        if (!ReadLiteral(p, end, "null") || !h.null()) return false;
        break;
      default: {
        Number n = ReadNumber(p, end, scratch);
        bool ok = false;
        switch (n.kind) {
          case Number::kInteger:
            ok = h.number_integer(n.integer);
            break;
          case Number::kUnsigned:
            ok = h.number_unsigned(n.unsigned_integer);
            break;
          case Number::kFloat:
            ok = h.number_float(n.floating, scratch);
            break;
          case Number::kInvalid:
            break;
        }
        if (!ok) return false;
      }
    }
    // After a value: close what it ends, until a comma leads to the next one.
    while (true) {
      SkipSpace(p, end);
      // Past the value, only space, or a NUL byte (which nlohmann's lexer takes for the end).
      if (open.empty()) return p == end || *p == '\0';
      if (p == end) return false;
      if (*p == ',') {
        ++p;
        if (open.back() == '{' && !read_key()) return false;
        break;  // to the next value
      }
      if (*p != (open.back() == '{' ? '}' : ']')) return false;
      ++p;
      bool object = open.back() == '{';
      open.pop_back();
      if (!(object ? h.end_object() : h.end_array())) return false;
    }
  }
}

}  // namespace steward
