// Small string helpers shared by every module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace steward {

std::string_view Trim(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);
std::string ToLower(std::string_view s);
// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a leading = + - @,
// TAB or CR gets a ' so that spreadsheets do not run it as a formula (OWASP's advice).
std::string CsvField(std::string_view v);
// The fields of one CSV line (RFC 4180): quoted fields may hold commas and doubled quotes; nullopt
// for a quote left open or text after a closing quote. A line break inside a field is not read.
std::optional<std::vector<std::string>> SplitCsvLine(std::string_view line);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// The index of the first byte of `s` that is in `set`, or npos: std::string_view::find_first_of,
// without its call to memchr for each byte of `s` (which, for a request's short texts and sets,
// costs more than the search itself).
size_t FindAnyOf(std::string_view s, std::string_view set);
// A whole non-negative decimal number that fits in uint64_t; nothing else.
std::optional<uint64_t> ParseUint(std::string_view s);
// Lower-case hexadecimal of the bytes.
std::string HexEncode(std::string_view bytes);
// `s` safe to print to a terminal: control characters (and DEL) as \xHH, so a log line cannot
// move the cursor or change the terminal's title. Bytes of 0x80 and over (UTF-8) are kept.
std::string Printable(std::string_view s);

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsUtf8(std::string_view s);
// `s` as well-formed UTF-8: each ill-formed sequence (the longest prefix of one that could have
// been valid, or else one byte) becomes U+FFFD, as the WHATWG decoder does. Text from outside is
// made valid with this where it enters, so nothing that reports or exports it meets invalid text.
std::string ValidUtf8(std::string_view s);
// Characters (code points) in UTF-8 text, as a person counts them against a limit; a byte that
// starts no character counts as none, one that is invalid as one.
size_t Utf8Length(std::string_view s);
// The longest prefix of `s` of at most `max_bytes` that does not end inside a character.
std::string_view CutUtf8(std::string_view s, size_t max_bytes);

}  // namespace steward
