#include <algorithm>
#include <ctime>

#include "core/strings.h"
#include "html/template.h"
#include "mail/mail.h"

namespace steward::mail {
namespace {

bool Ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// A header value: as it is when printable ASCII, else an RFC 2047 encoded word (base64 UTF-8),
// split so that no encoded word passes 75 characters and no UTF-8 sequence is cut.
std::string HeaderValue(std::string_view value) {
  if (Ascii(value)) return std::string(value);
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto base64 = [](std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
      uint32_t n = static_cast<uint8_t>(in[i]) << 16;
      if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
      if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
      out += kB64[(n >> 18) & 63];
      out += kB64[(n >> 12) & 63];
      out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
      out += i + 2 < in.size() ? kB64[n & 63] : '=';
    }
    return out;
  };
  std::string out;
  size_t at = 0;
  while (at < value.size()) {
    // 39 bytes of UTF-8 make 52 characters of base64: with "=?UTF-8?B?", "?=" and the header's
    // name, a line stays within 78 characters.
    size_t end = std::min(value.size(), at + 39);
    while (end < value.size() && end > at && (static_cast<uint8_t>(value[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(value.substr(at, end - at)) + "?=";
    at = end;
  }
  return out;
}

std::string RfcDate(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string Mailbox(const std::string& name, const std::string& address) {
  if (name.empty()) return address;
  bool plain = Ascii(name) && name.find_first_of("\"\\()<>[]:;@,.") == std::string::npos;
  return (plain ? name : (Ascii(name) ? "\"" + name + "\"" : HeaderValue(name))) + " <" + address + ">";
}

// The text's paragraphs: split at blank lines, with CRLF read as LF.
std::vector<std::string> Paragraphs(std::string_view text) {
  std::string t;
  for (char c : text)
    if (c != '\r') t += c;
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= t.size()) {
    size_t blank = t.find("\n\n", at);
    out.push_back(t.substr(at, blank == std::string::npos ? std::string::npos : blank - at));
    if (blank == std::string::npos) break;
    at = blank + 2;
  }
  return out;
}

// The text as HTML in GOV.UK's email style: paragraphs, escaped, with web addresses as links.
std::string Html(std::string_view text, std::string_view from_name) {
  std::string body;
  for (const auto& paragraph : Paragraphs(text)) {
    std::string p(Trim(paragraph));
    if (p.empty()) continue;
    std::string escaped;
    size_t at = 0;
    while (at < p.size()) {
      size_t link = std::min(p.find("https://", at), p.find("http://", at));
      if (link == std::string::npos) {
        escaped += html::Escape(p.substr(at));
        break;
      }
      size_t end = p.find_first_of(" \n\t<>\"", link);
      if (end == std::string::npos) end = p.size();
      while (end > link && std::string_view(".,;:)").find(p[end - 1]) != std::string_view::npos) --end;
      std::string url = p.substr(link, end - link);
      escaped += html::Escape(p.substr(at, link - at));
      escaped += "<a href=\"" + html::Escape(url) + "\" style=\"color: #1d70b8;\">" + html::Escape(url) + "</a>";
      at = end;
    }
    size_t nl = 0;
    while ((nl = escaped.find('\n', nl)) != std::string::npos) {
      escaped.replace(nl, 1, "<br>\r\n");
      nl += 6;
    }
    body +=
        "<p style=\"margin: 0 0 20px 0; font-size: 19px; line-height: 25px; color: #0b0c0c;\">" + escaped + "</p>\r\n";
  }
  return "<!DOCTYPE html>\r\n<html lang=\"en\">\r\n<head><meta charset=\"utf-8\"><title></title></head>\r\n"
         "<body style=\"font-family: Helvetica, Arial, sans-serif; font-size: 16px; margin: 0; color: #0b0c0c;\">\r\n"
         "<table role=\"presentation\" width=\"100%\" style=\"border-collapse: collapse; background: #0b0c0c;\">"
         "<tr><td style=\"padding: 10px 20px; color: #ffffff; font-size: 28px; font-weight: 700;\">" +
         html::Escape(from_name) +
         "</td></tr></table>\r\n"
         "<table role=\"presentation\" width=\"100%\" style=\"border-collapse: collapse; max-width: 580px;\">"
         "<tr><td style=\"padding: 30px 20px;\">\r\n" +
         body + "</td></tr></table>\r\n</body>\r\n</html>\r\n";
}

}  // namespace

std::string QuotedPrintable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out, line;
  auto flush = [&](bool hard) {
    out += line;
    out += hard ? "\r\n" : "=\r\n";
    line.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') continue;
    if (c == '\n') {
      // Trailing spaces before a line break must be encoded.
      if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        char last = line.back();
        line.pop_back();
        line += std::string("=") + kHex[static_cast<uint8_t>(last) >> 4] + kHex[static_cast<uint8_t>(last) & 15];
      }
      flush(true);
      continue;
    }
    auto u = static_cast<uint8_t>(c);
    std::string piece;
    // A leading dot is encoded too, for relays that mishandle it.
    if ((u >= 33 && u <= 126 && c != '=' && !(c == '.' && line.empty())) || c == ' ' || c == '\t') {
      piece = std::string(1, c);
    } else {
      piece = std::string("=") + kHex[u >> 4] + kHex[u & 15];
    }
    if (line.size() + piece.size() > 75) flush(false);
    line += piece;
  }
  if (!line.empty()) {
    if (line.back() == ' ' || line.back() == '\t') {
      char last = line.back();
      line.pop_back();
      line += std::string("=") + kHex[static_cast<uint8_t>(last) >> 4] + kHex[static_cast<uint8_t>(last) & 15];
    }
    out += line;
  }
  return out;
}

bool ValidAddress(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  size_t at = a.rfind('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= a.size() || at > 64) return false;
  std::string_view domain = a.substr(at + 1);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : domain) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  for (char c : a.substr(0, at)) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 || std::string_view("\"(),:;<>@[\\]").find(c) != std::string_view::npos) return false;
  }
  return true;
}

std::string Compose(const Email& email, const Settings& settings, std::string_view message_id, SystemTime date) {
  // "=_" cannot occur in quoted-printable text, so the boundary never appears in a part.
  std::string boundary = "=_" + std::string(message_id.substr(1, std::min<size_t>(16, message_id.size() - 1)));
  boundary.erase(std::remove(boundary.begin(), boundary.end(), '@'), boundary.end());
  std::string m;
  auto header = [&m](std::string_view name, std::string_view value) {
    m += std::string(name) + ": " + std::string(value) + "\r\n";
  };
  header("From", Mailbox(settings.from_name, settings.from_address));
  header("To", email.to);
  header("Subject", HeaderValue(email.subject));
  header("Date", RfcDate(date));
  header("Message-ID", message_id);
  for (const auto& [name, value] : email.headers) header(name, HeaderValue(value));
  header("MIME-Version", "1.0");
  header("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"");
  m += "\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  m += QuotedPrintable(email.text) + "\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  m += QuotedPrintable(Html(email.text, settings.from_name.empty() ? settings.from_address : settings.from_name)) +
       "\r\n";
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace steward::mail
