#include "consent/gate.h"

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "crypto/crypto.h"
#include "core/json_text.h"

namespace steward::consent {

using processing::CookieCategory;

CookieGate::CookieGate(const processing::Register& reg) : reg_(reg) {
  std::string basis;
  for (CookieCategory c : reg.OptionalCategories()) basis += std::string(processing::CookieCategoryName(c)) + ",";
  basis += "|";
  for (const auto& p : reg.purposes) {
    if (p.basis == processing::LawfulBasis::kConsent) basis += p.id + ",";
  }
  basis += reg.consent_mode == processing::ConsentMode::kConsent ? "|consent" : "|statistics-exemption";
  version_ = HexEncode(crypto::Hash(basis).substr(0, 4));
  for (const auto& c : reg.cookies) declared_[c.name] = c.category;
}

bool GlobalPrivacyControl(const http::Request& req) { return Trim(req.Header("Sec-GPC")) == "1"; }

std::optional<Choice> CookieGate::Parse(std::string_view value) const {
  if (value.size() > 1024) return std::nullopt;  // no policy is this long
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (auto it = cache_.find(value); it != cache_.end()) return it->second;
  }
  std::optional<Choice> choice = ParseUncached(value);
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() >= kCacheSize) cache_.clear();
  cache_.emplace(std::string(value), choice);
  return choice;
}

std::optional<Choice> CookieGate::ParseUncached(std::string_view value) const {
  std::string text(value);
  if (!text.empty() && text.front() != '{') {
    auto decoded = http::PercentDecode(text, false);
    if (!decoded) return std::nullopt;
    text = *decoded;
  }
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  // A choice made for another version of the categories does not count: ask again.
  if (!j.contains("version") || !j["version"].is_string() || j["version"].get<std::string>() != version_) {
    return std::nullopt;
  }
  Choice c;
  c.made = true;
  for (CookieCategory cat : reg_.OptionalCategories()) {
    std::string name(processing::CookieCategoryName(cat));
    c.allowed[static_cast<size_t>(cat)] = j.contains(name) && j[name].is_boolean() && j[name].get<bool>();
  }
  return c;
}

Choice CookieGate::CurrentChoice(const http::Request& req, const std::vector<http::SetCookie>* response) const {
  if (response != nullptr) {
    for (const auto& c : *response) {
      if (c.name == "cookies_policy" && c.max_age_seconds.value_or(1) != 0) {
        if (auto parsed = Parse(c.value)) return *parsed;
      }
    }
  }
  Choice choice;
  req.ForEachCookie([&](std::string_view name, std::string_view value) {
    if (name != "cookies_policy") return true;
    auto parsed = Parse(value);
    if (parsed) choice = *parsed;
    return !parsed;
  });
  return choice;
}

bool CookieGate::CategoryAllowed(CookieCategory category, const Choice& choice, bool gpc) const {
  if (category == CookieCategory::kEssential) return true;
  if (choice.made) return choice.Allowed(category);
  // No choice yet: only first-party statistics, only in statistics-exemption mode, never with GPC.
  return category == CookieCategory::kUsage && reg_.consent_mode == processing::ConsentMode::kStatisticsExemption &&
         !gpc;
}

bool CookieGate::Allow(const http::Request& req, const std::vector<http::SetCookie>& all,
                       const http::SetCookie& cookie) const {
  if (cookie.max_age_seconds && *cookie.max_age_seconds == 0) return true;  // deleting is always fine
  auto it = declared_.find(cookie.name);
  if (it == declared_.end()) return false;
  return CategoryAllowed(it->second, CurrentChoice(req, &all), GlobalPrivacyControl(req));
}

std::string CookieGate::PolicyValue(const std::map<std::string, bool>& allowed) const {
  nlohmann::ordered_json j;
  j["essential"] = true;
  for (CookieCategory c : {CookieCategory::kSettings, CookieCategory::kUsage, CookieCategory::kCampaigns}) {
    std::string name(processing::CookieCategoryName(c));
    auto it = allowed.find(name);
    j[name] = it != allowed.end() && it->second;
  }
  j["version"] = version_;
  return http::PercentEncode(JsonText(j));
}

}  // namespace steward::consent
