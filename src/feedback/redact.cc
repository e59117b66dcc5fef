#include "feedback/redact.h"

#include <cctype>
#include <vector>

namespace steward::feedback {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
char Upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

// Characters an email address's local part and domain are made of, as people type them.
bool EmailChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\'' ||
         static_cast<unsigned char>(c) >= 0x80;
}

struct Span {
  size_t begin, end;
  const char* kind;
};

// An email address around the '@' at `at`: something either side, a dot in the domain.
bool EmailAt(std::string_view t, size_t at, Span& out) {
  size_t b = at;
  while (b > 0 && EmailChar(t[b - 1])) --b;
  size_t e = at + 1;
  while (e < t.size() && EmailChar(t[e])) ++e;
  while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-')) --e;  // a full stop ending the sentence
  if (b == at || e == at + 1) return false;
  std::string_view domain = t.substr(at + 1, e - at - 1);
  size_t dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  out = {b, e, "email address"};
  return true;
}

// A run starting at `i` of digits with the separators people write numbers with (spaces, dashes,
// dots, brackets, a leading +). Returns its end and the digits it holds.
size_t NumberRun(std::string_view t, size_t i, std::string& digits) {
  size_t j = i;
  size_t last_digit = i;
  digits.clear();
  if (j < t.size() && t[j] == '+') ++j;
  while (j < t.size()) {
    char c = t[j];
    if (IsDigit(c)) {
      digits += c;
      last_digit = j + 1;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
      // a separator only when a digit follows soon
      size_t k = j + 1;
      while (k < t.size() && (t[k] == ' ' || t[k] == '(' || t[k] == ')')) ++k;
      if (k >= t.size() || !IsDigit(t[k])) break;
    } else {
      break;
    }
    ++j;
  }
  return last_digit;
}

bool TelephoneDigits(std::string_view raw, const std::string& digits) {
  bool plus = !raw.empty() && raw.front() == '+';
  if (plus) return digits.size() >= 9 && digits.size() <= 15;
  if (digits.starts_with("00")) return digits.size() >= 11 && digits.size() <= 17;
  // A UK number as dialled at home: 0 then 9 or 10 digits.
  return digits.starts_with("0") && (digits.size() == 10 || digits.size() == 11);
}

// A National Insurance number: two letters, six digits (in pairs or not), a letter A to D.
bool NinoAt(std::string_view t, size_t i, Span& out) {
  if (i > 0 && IsAlnum(t[i - 1])) return false;
  if (i + 2 > t.size() || !IsAlpha(t[i]) || !IsAlpha(t[i + 1])) return false;
  size_t j = i + 2;
  int digits = 0;
  while (j < t.size() && digits < 6) {
    if (IsDigit(t[j])) {
      ++digits;
    } else if (t[j] != ' ') {
      break;
    }
    ++j;
  }
  if (digits != 6) return false;
  while (j < t.size() && t[j] == ' ') ++j;
  if (j >= t.size()) return false;
  char suffix = Upper(t[j]);
  if (suffix < 'A' || suffix > 'D') return false;
  if (j + 1 < t.size() && IsAlnum(t[j + 1])) return false;
  // Prefixes never issued.
  char a = Upper(t[i]), b = Upper(t[i + 1]);
  for (char bad : {'D', 'F', 'I', 'Q', 'U', 'V'}) {
    if (a == bad || b == bad) return false;
  }
  if (b == 'O') return false;
  out = {i, j + 1, "National Insurance number"};
  return true;
}

// A UK postcode: outward code (A9, A99, AA9, AA99, A9A, AA9A), a space or not, inward code (9AA).
bool PostcodeAt(std::string_view t, size_t i, Span& out) {
  if (i > 0 && IsAlnum(t[i - 1])) return false;
  auto L = [&](size_t k) { return k < t.size() && IsAlpha(t[k]); };
  auto D = [&](size_t k) { return k < t.size() && IsDigit(t[k]); };
  if (!L(i)) return false;
  for (size_t outward : {2u, 3u, 4u}) {
    size_t j = i;
    // Shapes of the outward code by its length.
    bool shape = false;
    if (outward == 2) shape = L(j) && D(j + 1);
    if (outward == 3) shape = L(j) && ((D(j + 1) && D(j + 2)) || (L(j + 1) && D(j + 2)) || (D(j + 1) && L(j + 2)));
    if (outward == 4) shape = L(j) && L(j + 1) && D(j + 2) && (D(j + 3) || L(j + 3));
    if (!shape) continue;
    j += outward;
    if (j < t.size() && t[j] == ' ') ++j;
    if (D(j) && L(j + 1) && L(j + 2) && !(j + 3 < t.size() && IsAlnum(t[j + 3]))) {
      out = {i, j + 3, "postcode"};
      return true;
    }
  }
  return false;
}

const char* Marker(const std::string& kind) {
  if (kind == "email address") return "[email address removed]";
  if (kind == "telephone number") return "[telephone number removed]";
  if (kind == "National Insurance number") return "[National Insurance number removed]";
  if (kind == "postcode") return "[postcode removed]";
  return "[card number removed]";
}

}  // namespace

bool Luhn(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

Redacted Redact(std::string_view t) {
  std::vector<Span> spans;
  size_t i = 0;
  while (i < t.size()) {
    Span s{};
    char c = t[i];
    if (c == '@') {
      if (EmailAt(t, i, s)) {
        // An address may start before spans already taken (its local part): drop those.
        while (!spans.empty() && spans.back().end > s.begin) spans.pop_back();
        spans.push_back(s);
        i = s.end;
        continue;
      }
    } else if ((IsDigit(c) || c == '+') && (i == 0 || !IsAlnum(t[i - 1]))) {
      std::string digits;
      size_t end = NumberRun(t, i, digits);
      if (end > i) {
        std::string_view raw = t.substr(i, end - i);
        // A telephone number starts with + or 0, which no card number does.
        if (TelephoneDigits(raw, digits)) {
          spans.push_back({i, end, "telephone number"});
          i = end;
          continue;
        }
        if (digits.size() >= 13 && digits.size() <= 19 && Luhn(digits)) {
          spans.push_back({i, end, "card number"});
          i = end;
          continue;
        }
        i = end;
        continue;
      }
    } else if (IsAlpha(c)) {
      if (NinoAt(t, i, s) || PostcodeAt(t, i, s)) {
        spans.push_back(s);
        i = s.end;
        continue;
      }
      while (i < t.size() && IsAlnum(t[i])) ++i;  // the rest of the word
      continue;
    }
    ++i;
  }
  Redacted out;
  size_t at = 0;
  for (const auto& s : spans) {
    out.text.append(t.substr(at, s.begin - at));
    out.text += Marker(s.kind);
    out.found.insert(s.kind);
    at = s.end;
  }
  out.text.append(t.substr(at));
  return out;
}

std::string ScrubUrl(std::string_view url) {
  // GOV.UK's pattern: /[^\s=\/?&]+(?:@|%40)[^\s=\/?&]+/ -> [email]
  auto part = [](char c) { return c != ' ' && c != '=' && c != '/' && c != '?' && c != '&' && c != '\t'; };
  std::string out;
  size_t i = 0;
  while (i < url.size()) {
    size_t at = std::string_view::npos;
    size_t width = 0;
    if (url[i] == '@') {
      at = i, width = 1;
    } else if (url.substr(i, 3) == "%40") {
      at = i, width = 3;
    }
    if (at != std::string_view::npos) {
      size_t b = out.size();
      while (b > 0 && part(out[b - 1])) --b;
      size_t e = at + width;
      while (e < url.size() && part(url[e])) ++e;
      if (b < out.size() && e > at + width) {
        out.resize(b);
        out += "[email]";
        i = e;
        continue;
      }
    }
    out += url[i++];
  }
  return out;
}

}  // namespace steward::feedback
