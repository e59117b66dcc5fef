#include <algorithm>

#include "core/strings.h"
#include "mail/mail.h"

namespace steward::mail {

std::string Settings::Domain() const {
  size_t at = from_address.rfind('@');
  return at == std::string::npos ? "" : ToLower(from_address.substr(at + 1));
}

Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg) {
  config::Problems problems(document.path());
  config::Table root = document.Root(problems);
  auto table = root.Child("mail");
  if (!table) return std::optional<Settings>();
  Settings s;
  if (table->String("relay", s.relay, /*required=*/true)) {
    std::string_view rest = s.relay;
    bool known = rest.starts_with("smtp://") || rest.starts_with("smtps://");
    rest.remove_prefix(rest.find("://") == std::string_view::npos ? 0 : rest.find("://") + 3);
    if (!known || rest.empty() || rest.front() == ':' || rest.find_first_of(" /@?#") != std::string_view::npos) {
      problems.Add(table->Where("relay"),
                   "'mail.relay' is an address such as \"smtp://mail.example.gov.uk:587\" or \"smtps://host:465\"");
    }
  }
  std::string from;
  if (table->String("from", from, /*required=*/true)) {
    size_t open = from.rfind('<');
    if (open != std::string::npos && from.back() == '>') {
      s.from_name = std::string(Trim(from.substr(0, open)));
      if (s.from_name.size() >= 2 && s.from_name.front() == '"' && s.from_name.back() == '"') {
        s.from_name = s.from_name.substr(1, s.from_name.size() - 2);
      }
      s.from_address = from.substr(open + 1, from.size() - open - 2);
    } else {
      s.from_address = std::string(Trim(from));
    }
    if (!ValidAddress(s.from_address) || s.from_name.find_first_of("\r\n") != std::string::npos) {
      problems.Add(table->Where("from"), "'mail.from' is \"Name <address@example.gov.uk>\" or an address");
    }
  }
  std::string starttls = "required";
  table->String("starttls", starttls);
  if (starttls != "required" && starttls != "none") {
    problems.Add(table->Where("starttls"), "'mail.starttls' must be \"required\" or \"none\"");
  }
  s.starttls = starttls != "none";
  if (!s.starttls && s.relay.starts_with("smtp://")) {
    std::string host = s.relay.substr(7);
    host = host.substr(0, host.starts_with("[") ? host.find(']') + 1 : host.find(':'));
    if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
      problems.Add(table->Where("starttls"),
                   "'mail.starttls' may be \"none\" only for a relay on this machine (127.0.0.1, localhost or "
                   "[::1]): addresses and messages must not cross a network in the clear");
    }
  }
  table->String("username", s.username);
  table->String("password_file", s.password_file);
  if (!s.username.empty() && s.password_file.empty()) {
    problems.Add(table->Where("username"),
                 "'mail.username' needs 'mail.password_file' (the password is never in "
                 "the site's file)");
  }
  table->String("ca_file", s.ca_file);
  table->String("dkim_selector", s.dkim_selector);
  table->String("dkim_key_file", s.dkim_key_file);
  if (s.dkim_selector.empty() != s.dkim_key_file.empty()) {
    problems.Add(table->Where(s.dkim_selector.empty() ? "dkim_key_file" : "dkim_selector"),
                 "'mail.dkim_selector' and 'mail.dkim_key_file' go together: the selector names the DNS record "
                 "of the key's public half");
  } else if (!s.dkim_selector.empty() &&
             s.dkim_selector.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-.") != std::string::npos) {
    problems.Add(table->Where("dkim_selector"), "'mail.dkim_selector' is a DNS label such as \"steward2026\"");
  }
  table->Int("per_second", s.per_second, 1, 10000);
  table->Int("per_day", s.per_day, 1, 100000000);
  // Declare before collect: the queue holds addresses and messages, the suppression list hashes of
  // addresses that bounced or complained.
  auto declared = [&](const char* module) {
    return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                       [&](const processing::Dataset& d) { return d.module == module; });
  };
  if (!declared("mail")) {
    problems.Add(table->where(),
                 "[mail] sends email, but the register declares no dataset of module \"mail\" to "
                 "say what the queue keeps, why and for how long");
  }
  if (!declared("mail-suppression")) {
    problems.Add(table->where(),
                 "[mail] sends email, but the register declares no dataset of module "
                 "\"mail-suppression\" to say how long hashes of addresses that bounced or "
                 "complained are kept, so that they are not mailed again");
  }
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

}  // namespace steward::mail
