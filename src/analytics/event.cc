#include "analytics/event.h"

#include <nlohmann/json.hpp>

#include "http/json_body.h"
#include "core/strings.h"
#include "http/request.h"
#include "core/json_text.h"

namespace steward::analytics {
namespace {

using nlohmann::json;

// The field under its long or short name.
const json* Field(const json& body, const char* long_name, const char* short_name) {
  auto it = body.find(long_name);
  if (it != body.end() && !it->is_null()) return &*it;
  it = body.find(short_name);
  if (it != body.end() && !it->is_null()) return &*it;
  return nullptr;
}

std::optional<int64_t> Integer(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d >= -9e15 && d <= 9e15) return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    auto u = ParseUint(v.get<std::string>());
    if (u && *u <= 9'000'000'000'000'000ULL) return static_cast<int64_t>(*u);
  }
  return std::nullopt;
}

struct KnownSource {
  const char* host_part;  // matched against the host's labels
  const char* name;
};

constexpr KnownSource kSources[] = {
    {"google", "Google"},       {"bing", "Bing"},         {"duckduckgo", "DuckDuckGo"}, {"yahoo", "Yahoo!"},
    {"ecosia", "Ecosia"},       {"baidu", "Baidu"},       {"yandex", "Yandex"},         {"facebook", "Facebook"},
    {"instagram", "Instagram"}, {"linkedin", "LinkedIn"}, {"lnkd", "LinkedIn"},         {"reddit", "Reddit"},
    {"youtube", "YouTube"},     {"t.co", "Twitter"},      {"twitter", "Twitter"},       {"x.com", "Twitter"},
    {"bsky", "Bluesky"},        {"mastodon", "Mastodon"}, {"wikipedia", "Wikipedia"},   {"gov.uk", "GOV.UK"},
    {"chatgpt", "ChatGPT"},
};

std::string StripWww(std::string host) {
  if (host.starts_with("www.")) host.erase(0, 4);
  return host;
}

}  // namespace

std::optional<Location> ParseLocation(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  if (host.starts_with("[")) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = host.substr(0, close + 1);
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.empty() || host.find_first_of(" \t\r\n<>\"'") != std::string_view::npos) return std::nullopt;
  Location loc;
  loc.hostname = StripWww(ToLower(host));
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  size_t q = tail.find('?');
  std::string_view path = tail.substr(0, q);
  loc.path = path.empty() ? "/" : std::string(path);
  if (q != std::string_view::npos) {
    if (auto params = http::ParseUrlEncoded(tail.substr(q + 1), 64); params.ok()) {
      for (auto& [k, v] : *params) loc.query.emplace(std::move(k), std::move(v));
    }
  }
  return loc;
}

std::optional<Event> ParseEvent(std::string_view body, FieldErrors& errors) {
  auto parsed = http::ParseJson(body);
  json j = parsed.ok() ? std::move(*parsed) : json();
  if (!parsed.ok() || !j.is_object()) {
    errors["request"].push_back("the body must be a JSON object");
    return std::nullopt;
  }
  Event e;
  const json* name = Field(j, "name", "n");
  if (name == nullptr || !name->is_string() || name->get<std::string>().empty()) {
    errors["name"].push_back("can't be blank");
  } else if (Utf8Length(name->get<std::string>()) > kMaxNameChars) {
    errors["name"].push_back("should be at most 120 character(s)");
  } else {
    e.name = name->get<std::string>();
  }
  const json* url = Field(j, "url", "u");
  if (url == nullptr || !url->is_string() || url->get<std::string>().empty()) {
    errors["url"].push_back("can't be blank");
  } else if (url->get<std::string>().size() > kMaxUrlBytes) {
    errors["url"].push_back("must be a string with at most 2000 bytes");
  } else if (!ParseLocation(url->get<std::string>())) {
    errors["url"].push_back("is not a valid url");
  } else {
    e.url = url->get<std::string>();
  }
  const json* domain = Field(j, "domain", "d");
  if (domain == nullptr || !domain->is_string() || Trim(domain->get<std::string>()).empty()) {
    errors["domain"].push_back("can't be blank");
  } else {
    const std::string& all = domain->get_ref<const std::string&>();
    for (std::string_view d : Split(all, ',')) {
      std::string one = StripWww(ToLower(Trim(d)));
      if (!one.empty() && e.domains.size() < 10) e.domains.push_back(std::move(one));
    }
  }
  if (const json* r = Field(j, "referrer", "r")) {
    if (!r->is_string()) {
      errors["referrer"].push_back("must be a string");
    } else if (r->get<std::string>().size() > kMaxReferrerBytes) {
      errors["referrer"].push_back("must be a string with at most 2000 bytes");
    } else {
      e.referrer = r->get<std::string>();
    }
  }
  if (const json* p = Field(j, "props", "p")) {
    json props = *p;
    // Some trackers send props as a JSON string.
    if (props.is_string()) props = json::parse(props.get<std::string>(), nullptr, false);
    if (!props.is_object()) {
      errors["props"].push_back("must be an object of keys and scalar values");
    } else if (props.size() > kMaxProps) {
      errors["props"].push_back("must have at most 30 pairs");
    } else {
      for (auto it = props.begin(); it != props.end(); ++it) {
        const json& v = it.value();
        if (it.key().empty() || Utf8Length(it.key()) > kMaxPropKeyChars) {
          errors["props"].push_back("keys must be 1 to 300 characters");
          break;
        }
        std::string value;
        if (v.is_string()) {
          value = v.get<std::string>();
        } else if (v.is_number() || v.is_boolean()) {
          value = JsonText(v);
        } else if (v.is_null()) {
          continue;
        } else {
          errors["props"].push_back("values must be strings, numbers or booleans, not objects or lists");
          break;
        }
        if (Utf8Length(value) > kMaxPropValueChars) {
          errors["props"].push_back("values must be at most 2000 characters");
          break;
        }
        if (!value.empty()) e.props.emplace_back(it.key(), std::move(value));
      }
    }
  }
  if (const json* i = Field(j, "interactive", "i")) {
    if (!i->is_boolean()) {
      errors["interactive"].push_back("must be true or false");
    } else {
      e.interactive = i->get<bool>();
    }
  }
  if (e.name == "engagement") {
    if (const json* sd = Field(j, "sd", "scroll_depth")) {
      auto v = Integer(*sd);
      if (!v || *v < 0 || *v > 100) {
        errors["sd"].push_back("must be a number from 0 to 100");
      } else {
        e.scroll_depth = v;
      }
    }
    if (const json* ms = Field(j, "e", "engagement_time")) {
      auto v = Integer(*ms);
      if (!v || *v < 0) {
        errors["e"].push_back("must be a number of milliseconds, 0 or more");
      } else {
        e.engaged_ms = v;
      }
    }
  }
  if (!errors.empty()) return std::nullopt;
  return e;
}

std::string ErrorsJson(const FieldErrors& errors) {
  json j = json::object();
  for (const auto& [field, messages] : errors) j[field] = messages;
  return JsonText(json{{"errors", j}});
}

std::string ReferrerSource(const Location& page, std::string_view referrer) {
  for (const char* key : {"utm_source", "ref", "source"}) {
    auto it = page.query.find(key);
    if (it != page.query.end() && !Trim(it->second).empty()) return std::string(CutUtf8(Trim(it->second), 120));
  }
  if (referrer.empty()) return "";
  auto ref = ParseLocation(referrer);
  if (!ref) {
    // android-app://com.google.android.gm/ and the like: the scheme's host.
    size_t sep = referrer.find("://");
    if (sep == std::string_view::npos) return "";
    std::string_view rest = referrer.substr(sep + 3);
    return ValidUtf8(ToLower(CutUtf8(rest.substr(0, rest.find('/')), 120)));
  }
  if (ref->hostname == page.hostname || ref->hostname.empty()) return "";
  for (const auto& s : kSources) {
    std::string_view host = ref->hostname;
    std::string_view part = s.host_part;
    bool dotted = part.find('.') != std::string_view::npos;
    // A dotted entry names one site exactly (gov.uk is GOV.UK itself, not every department).
    if (dotted ? host == part
               : (host.starts_with(std::string(part) + ".") ||
                  host.find("." + std::string(part) + ".") != std::string_view::npos)) {
      return s.name;
    }
  }
  return std::string(CutUtf8(ref->hostname, 120));
}

}  // namespace steward::analytics
