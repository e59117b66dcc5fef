#include "subject/subject.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/ip.h"
#include "core/strings.h"
#include "crypto/crypto.h"

namespace steward::subject {
namespace {

constexpr size_t kMaxKeysFollowed = 32;

struct KindText {
  KeyKind kind;
  std::string_view name;
};
constexpr KindText kKinds[] = {
    {KeyKind::kEmail, "email"},          {KeyKind::kAccountId, "account"}, {KeyKind::kConsentId, "consent-id"},
    {KeyKind::kVisitorId, "visitor-id"}, {KeyKind::kIpAddress, "ip"},      {KeyKind::kTelephone, "telephone"},
    {KeyKind::kHandle, "handle"},        {KeyKind::kSubjectId, "subject"},
};

Error Refuse(std::string why) { return MakeError(ErrorCode::kInvalidArgument, std::move(why)); }

bool IsHex32(std::string_view s) {
  return s.size() == 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::string> NormaliseEmail(std::string_view text) {
  std::string v = ToLower(Trim(text));
  size_t at = v.find('@');
  bool ok = !v.empty() && v.size() <= 254 && at != std::string::npos && at > 0 && at + 1 < v.size() &&
            v.find('@', at + 1) == std::string::npos &&
            std::none_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
  if (!ok) return Refuse("an email address has one @ with something either side, and no spaces");
  return v;
}

Result<std::string> NormaliseAccount(std::string_view text) {
  std::string v(Trim(text));
  size_t colon = v.find(':');
  auto token = [](std::string_view s, bool lower_only) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [lower_only](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
             (!lower_only && c >= 'A' && c <= 'Z');
    });
  };
  if (colon == std::string::npos || !token(std::string_view(v).substr(0, colon), true) ||
      !token(std::string_view(v).substr(colon + 1), false)) {
    return Refuse("an account id is the module and its id, such as staff:12");
  }
  return v;
}

Result<std::string> NormaliseIp(std::string_view text) {
  std::string_view t = Trim(text);
  size_t slash = t.find('/');
  auto ip = IpAddress::Parse(t.substr(0, slash));
  if (!ip) return Refuse("give an IP address, or a range such as 203.0.113.0/24");
  if (slash == std::string_view::npos) return ip->ToString();
  std::string_view bits = t.substr(slash + 1);
  int max = ip->is_v4() ? 32 : 128, n = 0;
  if (bits.empty() || bits.size() > 3 ||
      !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (n = std::stoi(std::string(bits))) < 8 || n > max) {
    return Refuse("a range's bits must be 8 to " + std::to_string(max));
  }
  // The network address itself, so that 203.0.113.9/24 and 203.0.113.0/24 are one key.
  std::string bytes(ip->bytes());
  for (int i = n; i < max; ++i) bytes[static_cast<size_t>(i / 8)] &= static_cast<char>(~(0x80 >> (i % 8)));
  std::string text_form;
  if (ip->is_v4()) {
    for (size_t i = 0; i < 4; ++i) text_form += (i ? "." : "") + std::to_string(static_cast<uint8_t>(bytes[i]));
  } else {
    // Through IpAddress for IPv6's canonical text.
    static const char* kHex = "0123456789abcdef";
    std::string full;
    for (size_t i = 0; i < 16; i += 2) {
      if (i) full += ':';
      for (size_t j = i; j < i + 2; ++j) {
        full += kHex[static_cast<uint8_t>(bytes[j]) >> 4];
        full += kHex[static_cast<uint8_t>(bytes[j]) & 15];
      }
    }
    text_form = IpAddress::Parse(full)->ToString();
  }
  if (n == max) return text_form;
  return text_form + "/" + std::to_string(n);
}

Result<std::string> NormaliseTelephone(std::string_view text) {
  std::string digits;
  bool plus = false;
  for (char c : Trim(text)) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return Refuse("a telephone number has digits, an optional leading +, and spaces or dashes");
    }
  }
  if (!plus && digits.starts_with("00")) {
    digits = digits.substr(2);
    plus = true;
  } else if (!plus && digits.starts_with("0")) {
    digits = "44" + digits.substr(1);  // a UK number as dialled at home
    plus = true;
  }
  // "+44 (0)20 ...": the trunk 0 written after the country code is not dialled from abroad.
  if (plus && digits.starts_with("440")) digits.erase(2, 1);
  if (!plus || digits.size() < 7 || digits.size() > 15) {
    return Refuse("a telephone number has 7 to 15 digits: a UK number from 0, or an international one from +");
  }
  return "+" + digits;
}

Result<std::string> NormaliseHandle(std::string_view text) {
  std::string v = ToLower(Trim(text));
  size_t colon = v.find(':');
  constexpr std::string_view kShape = "a handle is the channel, a colon and the name, which an @ may lead";
  if (colon == std::string::npos || colon == 0 || colon > 32) return Refuse(std::string(kShape));
  std::string_view channel = std::string_view(v).substr(0, colon);
  if (!std::all_of(channel.begin(), channel.end(),
                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; })) {
    return Refuse(std::string(kShape));
  }
  std::string_view name = Trim(std::string_view(v).substr(colon + 1));
  if (name.starts_with('@')) name.remove_prefix(1);
  if (name.empty() || name.size() > 256 ||
      std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
    return Refuse(std::string(kShape));
  }
  return std::string(channel) + ":" + std::string(name);
}

}  // namespace

std::string_view KindName(KeyKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

std::optional<KeyKind> ParseKind(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  return std::nullopt;
}

const std::vector<KeyKind>& AllKinds() {
  static const std::vector<KeyKind> all = [] {
    std::vector<KeyKind> v;
    for (const auto& k : kKinds) v.push_back(k.kind);
    return v;
  }();
  return all;
}

Result<Key> Key::Make(KeyKind kind, std::string_view text) {
  if (text.size() > 1024) return Refuse("an identifier is at most 1,024 bytes");
  switch (kind) {
    case KeyKind::kEmail: {
      STEWARD_ASSIGN_OR_RETURN(std::string v, NormaliseEmail(text));
      return Key(kind, std::move(v));
    }
    case KeyKind::kAccountId: {
      STEWARD_ASSIGN_OR_RETURN(std::string v, NormaliseAccount(text));
      return Key(kind, std::move(v));
    }
    case KeyKind::kHandle: {
      STEWARD_ASSIGN_OR_RETURN(std::string v, NormaliseHandle(text));
      return Key(kind, std::move(v));
    }
    case KeyKind::kConsentId:
    case KeyKind::kVisitorId:
    case KeyKind::kSubjectId: {
      std::string v = ToLower(Trim(text));
      if (!IsHex32(v)) {
        return Refuse(std::string(KindName(kind)) + (kind == KeyKind::kSubjectId
                                                         ? ": give the 32 hex characters of the subject's id"
                                                         : ": give the 32 hex characters the cookie holds"));
      }
      return Key(kind, std::move(v));
    }
    case KeyKind::kIpAddress: {
      STEWARD_ASSIGN_OR_RETURN(std::string v, NormaliseIp(text));
      return Key(kind, std::move(v));
    }
    case KeyKind::kTelephone: {
      STEWARD_ASSIGN_OR_RETURN(std::string v, NormaliseTelephone(text));
      return Key(kind, std::move(v));
    }
  }
  return Refuse("unknown kind of identifier");
}

Result<Key> Key::Parse(std::string_view kind_and_value) {
  size_t colon = kind_and_value.find(':');
  std::optional<KeyKind> kind =
      colon == std::string_view::npos ? std::nullopt : ParseKind(kind_and_value.substr(0, colon));
  if (!kind) {
    return Refuse(
        "give an identifier as KIND:VALUE, KIND one of email, account, consent-id, visitor-id, ip, telephone, handle, "
        "subject");
  }
  return Make(*kind, kind_and_value.substr(colon + 1));
}

bool Key::IsRange() const { return kind_ == KeyKind::kIpAddress && value_.find('/') != std::string::npos; }

std::string_view Key::AccountModule() const {
  if (kind_ != KeyKind::kAccountId) return {};
  return std::string_view(value_).substr(0, value_.find(':'));
}

std::string_view Key::AccountId() const {
  if (kind_ != KeyKind::kAccountId) return {};
  return std::string_view(value_).substr(value_.find(':') + 1);
}

Result<int64_t> SubjectData::Rectify(const Key&, std::string_view, std::string_view, const Actor&) {
  return MakeError(ErrorCode::kFailedPrecondition, "nothing this module holds can be corrected");
}

void Directory::Add(std::string module, SubjectData* data) { modules_.emplace_back(std::move(module), data); }

int64_t Directory::Found::Total() const {
  int64_t n = 0;
  for (const auto& f : findings) {
    for (const auto& h : f.finding.holdings) n += h.count;
  }
  return n;
}

Result<Directory::Found> Directory::Find(const Key& key) {
  Found out;
  std::set<Key> seen{key};
  out.keys.push_back(key);
  for (size_t i = 0; i < out.keys.size(); ++i) {
    Key k = out.keys[i];
    for (const auto& [module, data] : modules_) {
      auto kinds = data->Kinds();
      if (std::find(kinds.begin(), kinds.end(), k.kind()) == kinds.end()) continue;
      STEWARD_ASSIGN_OR_RETURN(Finding f, data->Find(k));
      for (const Key& linked : f.linked) {
        if (seen.size() < kMaxKeysFollowed && seen.insert(linked).second) out.keys.push_back(linked);
      }
      bool holds = std::any_of(f.holdings.begin(), f.holdings.end(), [](const Holding& h) { return h.count > 0; });
      if (holds || !f.holdings.empty()) out.findings.push_back({module, k, std::move(f)});
    }
  }
  return out;
}

Result<std::vector<Record>> Directory::Export(const Key& key) {
  STEWARD_ASSIGN_OR_RETURN(Found found, Find(key));
  std::vector<Record> out;
  for (const Key& k : found.keys) {
    for (const auto& [module, data] : modules_) {
      auto kinds = data->Kinds();
      if (std::find(kinds.begin(), kinds.end(), k.kind()) == kinds.end()) continue;
      STEWARD_ASSIGN_OR_RETURN(auto records, data->Export(k));
      for (auto& r : records) out.push_back(std::move(r));
    }
  }
  return out;
}

Result<Directory::Survey> Directory::SurveyOf(const std::vector<Key>& keys) {
  std::map<std::pair<std::string, std::string>, Held> by;
  std::set<Key> followed;
  std::set<std::pair<std::string, Key>> counted;
  std::set<std::string> recipients;
  Survey out;
  for (const auto& key : keys) {
    // Privacy: every dataset of the register, searched for the person named; counts only.
    STEWARD_ASSIGN_OR_RETURN(auto found, Find(key));
    followed.insert(found.keys.begin(), found.keys.end());
    for (const auto& m : found.findings) {
      if (!counted.insert({m.module, m.key}).second) continue;
      recipients.insert(m.finding.recipients.begin(), m.finding.recipients.end());
      for (const auto& h : m.finding.holdings) {
        Held& slot = by[{m.module, h.dataset}];
        slot.module = m.module;
        slot.dataset = h.dataset;
        slot.count += h.count;
        slot.restricted = slot.restricted || h.restricted;
        if (slot.note.empty()) slot.note = h.note;
        out.total += h.count;
      }
    }
  }
  for (auto& [_, h] : by) out.held.push_back(std::move(h));
  out.followed.assign(followed.begin(), followed.end());
  out.recipients.assign(recipients.begin(), recipients.end());
  return out;
}

Result<std::vector<Record>> Directory::ExportAll(const std::vector<Key>& keys) {
  std::vector<Record> all;
  for (const auto& key : keys) {
    STEWARD_ASSIGN_OR_RETURN(auto records, Export(key));
    for (auto& r : records) all.push_back(std::move(r));
  }
  return Distinct(std::move(all));
}

std::vector<Record> Distinct(std::vector<Record> records) {
  std::vector<Record> out;
  std::set<std::string> seen;
  for (auto& r : records) {
    std::string key = r.dataset + '\x1f' + r.collected_at;
    for (const auto& f : r.fields) key += '\x1f' + f.category + '\x1e' + f.name + '\x1e' + f.value;
    if (seen.insert(key).second) out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<Erasure>> Directory::Erase(const Key& key, const Actor& actor) {
  // Follow the links first: erasing one module may remove the record that links to the next.
  STEWARD_ASSIGN_OR_RETURN(Found found, Find(key));
  std::vector<Erasure> out;
  std::optional<Error> first_error;
  for (const Key& k : found.keys) {
    for (const auto& [module, data] : modules_) {
      auto kinds = data->Kinds();
      if (std::find(kinds.begin(), kinds.end(), k.kind()) == kinds.end()) continue;
      auto erased = data->Erase(k, actor);
      if (!erased.ok()) {
        if (!first_error) first_error = MakeError(erased.error().code, module + ": " + erased.error().message);
        continue;
      }
      for (auto& e : *erased) out.push_back(std::move(e));
    }
  }
  if (first_error) return *first_error;
  return out;
}

Result<int64_t> Directory::Restrict(const Key& key, bool on, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(Found found, Find(key));
  int64_t n = 0;
  for (const auto& f : found.findings) {
    for (const auto& [module, data] : modules_) {
      if (module != f.module) continue;
      STEWARD_ASSIGN_OR_RETURN(int64_t changed, data->Restrict(f.key, on, actor));
      n += changed;
    }
  }
  return n;
}

Result<std::vector<Directory::Correction>> Directory::Rectify(const Key& key, std::string_view category,
                                                              std::string_view value, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(Found found, Find(key));
  std::vector<Correction> out;
  for (const auto& f : found.findings) {
    for (const auto& [module, data] : modules_) {
      if (module != f.module) continue;
      Correction* c = nullptr;
      for (auto& existing : out) {
        if (existing.module == module) c = &existing;
      }
      if (c == nullptr) c = &out.emplace_back(Correction{.module = module});
      for (const auto& h : f.finding.holdings) {
        if (std::find(c->datasets.begin(), c->datasets.end(), h.dataset) == c->datasets.end()) {
          c->datasets.push_back(h.dataset);
        }
      }
      auto changed = data->Rectify(f.key, category, value, actor);
      if (!changed.ok() && changed.error().code == ErrorCode::kFailedPrecondition) {
        if (c->changed == 0 && c->cannot.empty()) c->cannot = changed.error().message;
        continue;
      }
      if (!changed.ok()) return changed.error();
      c->changed += *changed;
      if (*changed > 0) c->cannot.clear();
    }
  }
  return out;
}

std::string Pseudonym(const Key& key, std::string_view hash_key) {
  std::string material = std::string(KindName(key.kind())) + '\0' + key.value();
  return HexEncode(crypto::Hash(material, hash_key).substr(0, 8));
}

}  // namespace steward::subject
