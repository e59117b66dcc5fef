#include "analytics/event.h"

#include <nlohmann/json.hpp>

#include <array>

#include "http/json_body.h"
#include "core/json_scan.h"
#include "core/strings.h"
#include "http/request.h"
#include "core/json_text.h"

namespace steward::analytics {
namespace {

using nlohmann::json;

// A JSON value of the event's body as the event reads it: a scalar keeps its value, an object or
// a list only that it was one.
struct Value {
  enum Kind { kAbsent, kNull, kBool, kInteger, kUnsigned, kFloat, kString, kObject, kArray };
  Kind kind = kAbsent;
  bool boolean = false;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double floating = 0;
  std::string text;

  bool Present() const { return kind != kAbsent && kind != kNull; }
  bool IsString() const { return kind == kString; }
  bool IsNumber() const { return kind == kInteger || kind == kUnsigned || kind == kFloat; }
  // As nlohmann-json writes a number or a boolean (a prop's value as text).
  std::string ScalarText() const {
    switch (kind) {
      case kBool:
        return boolean ? "true" : "false";
      case kInteger:
        return JsonText(json(integer));
      case kUnsigned:
        return JsonText(json(unsigned_integer));
      case kFloat:
        return JsonText(json(floating));
      default:
        return text;
    }
  }
};

// The fields the event reads, by their long and short names; other fields are checked as JSON and
// left.
enum FieldId {
  kName,
  kN,
  kUrl,
  kU,
  kDomain,
  kD,
  kReferrer,
  kR,
  kProps,
  kP,
  kInteractive,
  kI,
  kSd,
  kScrollDepth,
  kE,
  kEngagementTime,
  kFieldCount,
  kUnknown = kFieldCount
};

FieldId FieldOf(std::string_view key) {
  static constexpr std::pair<std::string_view, FieldId> kFields[] = {
      {"name", kName},
      {"n", kN},
      {"url", kUrl},
      {"u", kU},
      {"domain", kDomain},
      {"d", kD},
      {"referrer", kReferrer},
      {"r", kR},
      {"props", kProps},
      {"p", kP},
      {"interactive", kInteractive},
      {"i", kI},
      {"sd", kSd},
      {"scroll_depth", kScrollDepth},
      {"e", kE},
      {"engagement_time", kEngagementTime},
  };
  for (const auto& [name, id] : kFields) {
    if (name == key) return id;
  }
  return kUnknown;
}

// A body's fields, read in one pass of ScanJson: no document is built. As with a document, a field
// given twice counts as its last value, and props are read in their keys' order.
struct Fields {
  std::array<Value, kFieldCount> top;
  std::array<std::map<std::string, Value>, 2> props;  // of "props" and of "p", when objects
};

class FieldReader {
 public:
  using number_integer_t = int64_t;
  using number_unsigned_t = uint64_t;
  using number_float_t = double;
  using string_t = std::string;

  // `props_only`: the text is a props object by itself (props sent as a JSON string).
  FieldReader(Fields& out, bool props_only) : out_(out), props_only_(props_only) {}

  bool null() { return Scalar(Value{.kind = Value::kNull}); }
  bool boolean(bool b) { return Scalar(Value{.kind = Value::kBool, .boolean = b}); }
  bool number_integer(number_integer_t v) { return Scalar(Value{.kind = Value::kInteger, .integer = v}); }
  bool number_unsigned(number_unsigned_t v) { return Scalar(Value{.kind = Value::kUnsigned, .unsigned_integer = v}); }
  bool number_float(number_float_t v, const string_t&) { return Scalar(Value{.kind = Value::kFloat, .floating = v}); }
  bool string(string_t& v) {
    // Only what is kept is copied.
    if (Value* slot = Slot()) {
      slot->kind = Value::kString;
      slot->text = std::move(v);
    }
    return depth_ > 0;
  }
  bool start_object(std::size_t) { return Open(Value::kObject); }
  bool start_array(std::size_t) { return Open(Value::kArray); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(string_t& k) {
    if (depth_ == 1) {
      field_ = props_only_ ? kUnknown : FieldOf(k);
      if (props_only_) prop_key_ = std::move(k);
    } else if (depth_ == 2 && props_map_ != nullptr) {
      prop_key_ = std::move(k);
    }
    return true;
  }
  bool object() const { return object_; }

 private:
  static constexpr size_t kMaxDepth = 32;  // as http::ParseJson

  // Where a value at the current place is kept, if it is.
  Value* Slot() {
    if (props_only_) return depth_ == 1 ? &out_.props[0][prop_key_] : nullptr;
    if (depth_ == 1) return field_ == kUnknown ? nullptr : &out_.top[field_];
    if (depth_ == 2 && props_map_ != nullptr) return &(*props_map_)[prop_key_];
    return nullptr;
  }
  bool Scalar(Value v) {
    if (Value* slot = Slot()) *slot = std::move(v);
    return depth_ > 0;  // a scalar alone is not an event
  }
  bool Open(Value::Kind kind) {
    if (depth_ == 0) {
      if (kind != Value::kObject) return false;
      object_ = true;
    } else if (Value* slot = Slot()) {
      *slot = Value{.kind = kind};
      if (depth_ == 1 && kind == Value::kObject && !props_only_ && (field_ == kProps || field_ == kP)) {
        props_map_ = &out_.props[field_ == kProps ? 0 : 1];
        props_map_->clear();  // given twice, the last counts
      }
    }
    return ++depth_ <= kMaxDepth;
  }
  bool Close() {
    --depth_;
    if (depth_ == 1) props_map_ = nullptr;
    return true;
  }

  Fields& out_;
  bool props_only_;
  bool object_ = false;
  size_t depth_ = 0;
  FieldId field_ = kUnknown;
  std::string prop_key_;
  std::map<std::string, Value>* props_map_ = nullptr;
};

// Reads `text` into `out`; false unless it is one JSON object.
bool ReadFields(std::string_view text, Fields& out, bool props_only) {
  if (text.size() > (1u << 20)) return false;
  FieldReader reader(out, props_only);
  return ScanJson(text, reader) && reader.object();
}

// The field under its long or short name.
const Value* Field(const Fields& body, FieldId long_name, FieldId short_name) {
  if (body.top[long_name].Present()) return &body.top[long_name];
  if (body.top[short_name].Present()) return &body.top[short_name];
  return nullptr;
}

std::optional<int64_t> Integer(const Value& v) {
  if (v.kind == Value::kInteger) return v.integer;
  if (v.kind == Value::kUnsigned) return static_cast<int64_t>(v.unsigned_integer);
  if (v.kind == Value::kFloat) {
    double d = v.floating;
    if (d >= -9e15 && d <= 9e15) return static_cast<int64_t>(d);
  }
  if (v.kind == Value::kString) {
    auto u = ParseUint(v.text);
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
  size_t end = FindAnyOf(rest, "/?#");
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
  if (host.empty() || FindAnyOf(host, " \t\r\n<>\"'") != std::string_view::npos) return std::nullopt;
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
  Fields f;
  if (!ReadFields(body, f, /*props_only=*/false)) {
    errors["request"].push_back("the body must be a JSON object");
    return std::nullopt;
  }
  Event e;
  const Value* name = Field(f, kName, kN);
  if (name == nullptr || !name->IsString() || name->text.empty()) {
    errors["name"].push_back("can't be blank");
  } else if (Utf8Length(name->text) > kMaxNameChars) {
    errors["name"].push_back("should be at most 120 character(s)");
  } else {
    e.name = name->text;
  }
  const Value* url = Field(f, kUrl, kU);
  std::optional<Location> location;
  if (url == nullptr || !url->IsString() || url->text.empty()) {
    errors["url"].push_back("can't be blank");
  } else if (url->text.size() > kMaxUrlBytes) {
    errors["url"].push_back("must be a string with at most 2000 bytes");
  } else if (!(location = ParseLocation(url->text))) {
    errors["url"].push_back("is not a valid url");
  } else {
    e.url = url->text;
    e.location = std::move(*location);
  }
  const Value* domain = Field(f, kDomain, kD);
  if (domain == nullptr || !domain->IsString() || Trim(domain->text).empty()) {
    errors["domain"].push_back("can't be blank");
  } else {
    for (std::string_view d : Split(domain->text, ',')) {
      std::string one = StripWww(ToLower(Trim(d)));
      if (!one.empty() && e.domains.size() < 10) e.domains.push_back(std::move(one));
    }
  }
  if (const Value* r = Field(f, kReferrer, kR)) {
    if (!r->IsString()) {
      errors["referrer"].push_back("must be a string");
    } else if (r->text.size() > kMaxReferrerBytes) {
      errors["referrer"].push_back("must be a string with at most 2000 bytes");
    } else {
      e.referrer = r->text;
    }
  }
  if (const Value* p = Field(f, kProps, kP)) {
    const std::map<std::string, Value>* props = nullptr;
    Fields from_text;
    if (p->kind == Value::kObject) {
      props = &f.props[p == &f.top[kProps] ? 0 : 1];
    } else if (p->IsString() && ReadFields(p->text, from_text, /*props_only=*/true)) {
      props = &from_text.props[0];  // some trackers send props as a JSON string
    }
    if (props == nullptr) {
      errors["props"].push_back("must be an object of keys and scalar values");
    } else if (props->size() > kMaxProps) {
      errors["props"].push_back("must have at most 30 pairs");
    } else {
      for (const auto& [key, v] : *props) {
        if (key.empty() || Utf8Length(key) > kMaxPropKeyChars) {
          errors["props"].push_back("keys must be 1 to 300 characters");
          break;
        }
        std::string value;
        if (v.IsString()) {
          value = v.text;
        } else if (v.IsNumber() || v.kind == Value::kBool) {
          value = v.ScalarText();
        } else if (v.kind == Value::kNull) {
          continue;
        } else {
          errors["props"].push_back("values must be strings, numbers or booleans, not objects or lists");
          break;
        }
        if (Utf8Length(value) > kMaxPropValueChars) {
          errors["props"].push_back("values must be at most 2000 characters");
          break;
        }
        if (!value.empty()) e.props.emplace_back(key, std::move(value));
      }
    }
  }
  if (const Value* i = Field(f, kInteractive, kI)) {
    if (i->kind != Value::kBool) {
      errors["interactive"].push_back("must be true or false");
    } else {
      e.interactive = i->boolean;
    }
  }
  if (e.name == "engagement") {
    if (const Value* sd = Field(f, kSd, kScrollDepth)) {
      auto v = Integer(*sd);
      if (!v || *v < 0 || *v > 100) {
        errors["sd"].push_back("must be a number from 0 to 100");
      } else {
        e.scroll_depth = v;
      }
    }
    if (const Value* ms = Field(f, kE, kEngagementTime)) {
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
  // Whether `part` is one of the host's labels other than the last ("google" in www.google.co.uk).
  auto has_label = [](std::string_view host, std::string_view part) {
    for (size_t at = host.find(part); at != std::string_view::npos; at = host.find(part, at + 1)) {
      size_t after = at + part.size();
      if ((at == 0 || host[at - 1] == '.') && after < host.size() && host[after] == '.') return true;
    }
    return false;
  };
  for (const auto& s : kSources) {
    std::string_view host = ref->hostname;
    std::string_view part = s.host_part;
    bool dotted = part.find('.') != std::string_view::npos;
    // A dotted entry names one site exactly (gov.uk is GOV.UK itself, not every department).
    if (dotted ? host == part : has_label(host, part)) return s.name;
  }
  return std::string(CutUtf8(ref->hostname, 120));
}

}  // namespace steward::analytics
