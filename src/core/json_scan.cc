#include "core/json_scan.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace steward::json_scan {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits of a \u escape at `p`, or -1.
int32_t Hex4(const char* p, const char* end) {
  if (end - p < 4) return -1;
  int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    int d = Hex(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The length of the well-formed UTF-8 sequence (RFC 3629) that starts with the byte at `p`, a
// byte of 0x80 or more; 0 if it is not one.
size_t Utf8Sequence(const unsigned char* p, const unsigned char* end) {
  auto in = [&](size_t i, unsigned char lo, unsigned char hi) { return p + i < end && p[i] >= lo && p[i] <= hi; };
  unsigned char b = p[0];
  if (b >= 0xC2 && b <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (b == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (b == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;  // no surrogates
  if (b == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (b >= 0xF1 && b <= 0xF3) return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (b == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

}  // namespace

bool ReadString(const char*& p, const char* end, std::string& out) {
  out.clear();
  ++p;                  // the opening quote
  const char* run = p;  // the start of the characters not yet copied
  while (p < end) {
    auto c = static_cast<unsigned char>(*p);
    if (c == '"') {
      out.append(run, p);
      ++p;
      return true;
    }
    if (c < 0x20) return false;  // control characters must be escaped
    if (c < 0x80 && c != '\\') {
      ++p;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8Sequence(reinterpret_cast<const unsigned char*>(p), reinterpret_cast<const unsigned char*>(end));
      if (n == 0) return false;
      p += n;
      continue;
    }
    // An escape.
    out.append(run, p);
    if (end - p < 2) return false;
    char e = p[1];
    p += 2;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out.push_back(e);
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        int32_t cp = Hex4(p, end);
        if (cp < 0) return false;
        p += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate first
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // Must be followed by its low half.
          if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return false;
          int32_t low = Hex4(p + 2, end);
          if (low < 0xDC00 || low > 0xDFFF) return false;
          p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(out, static_cast<uint32_t>(cp));
        break;
      }
      default:
        return false;
    }
    run = p;
  }
  return false;  // no closing quote
}

Number ReadNumber(const char*& p, const char* end, std::string& scratch) {
  Number n;
  const char* start = p;
  bool negative = p < end && *p == '-';
  if (negative) ++p;
  auto digit = [&] { return p < end && *p >= '0' && *p <= '9'; };
  if (!digit()) return n;
  // The integer part: 0, or digits not starting with 0. Its value is gathered while it fits.
  uint64_t magnitude = 0;
  bool fits = true;
  if (*p == '0') {
    ++p;
  } else {
    while (digit()) {
      auto d = static_cast<uint64_t>(*p - '0');
      if (magnitude > (UINT64_MAX - d) / 10) fits = false;
      if (fits) magnitude = magnitude * 10 + d;
      ++p;
    }
  }
  bool is_float = false;
  if (p < end && *p == '.') {
    ++p;
    if (!digit()) return n;
    while (digit()) ++p;
    is_float = true;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (!digit()) return n;
    while (digit()) ++p;
    is_float = true;
  }
  if (!is_float && fits) {
    if (!negative) {
      n.kind = Number::kUnsigned;
      n.unsigned_integer = magnitude;
      return n;
    }
    if (magnitude <= static_cast<uint64_t>(INT64_MAX) + 1) {
      n.kind = Number::kInteger;
      n.integer = magnitude == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
      return n;
    }
  }
  // A float, or an integer too large for 64 bits, read as nlohmann does (strtod, in the C locale
  // this process keeps); one too large for a double is refused, as nlohmann refuses it.
  scratch.assign(start, p);
  char* stop = nullptr;
  double d = std::strtod(scratch.c_str(), &stop);
  if (!std::isfinite(d)) return n;
  n.kind = Number::kFloat;
  n.floating = d;
  return n;
}

}  // namespace steward::json_scan
