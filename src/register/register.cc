#include "register/register.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "core/json_text.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "register/countries.h"

namespace steward::processing {
namespace {

constexpr const char* kIcoComplaint =
    "You can complain to the Information Commissioner's Office (ICO), the UK's independent regulator for data "
    "protection: ico.org.uk/make-a-complaint, 0303 123 1113, Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF.";

std::optional<LawfulBasis> ParseBasis(std::string_view s) {
  if (s == "consent") return LawfulBasis::kConsent;
  if (s == "contract") return LawfulBasis::kContract;
  if (s == "legal-obligation") return LawfulBasis::kLegalObligation;
  if (s == "vital-interests") return LawfulBasis::kVitalInterests;
  if (s == "public-task") return LawfulBasis::kPublicTask;
  if (s == "legitimate-interests") return LawfulBasis::kLegitimateInterests;
  return std::nullopt;
}

struct Article9Info {
  Article9 value;
  const char* name;
  const char* article;
  const char* text;
  bool schedule_1, policy_document;
};

constexpr Article9Info kArticle9[] = {
    {Article9::kExplicitConsent, "explicit-consent", "Article 9(2)(a)", "your explicit consent", false, false},
    {Article9::kEmployment, "employment", "Article 9(2)(b)",
     "our obligations and rights in employment, social security and social protection law", true, true},
    {Article9::kVitalInterests, "vital-interests", "Article 9(2)(c)",
     "to protect someone's life where they cannot give consent", false, false},
    {Article9::kNotForProfit, "not-for-profit", "Article 9(2)(d)",
     "the activities of a not-for-profit body, about its members", false, false},
    {Article9::kMadePublic, "made-public", "Article 9(2)(e)", "data you have made public yourself", false, false},
    {Article9::kLegalClaims, "legal-claims", "Article 9(2)(f)", "legal claims, or courts acting in their capacity",
     false, false},
    {Article9::kSubstantialPublicInterest, "substantial-public-interest", "Article 9(2)(g)",
     "reasons of substantial public interest", true, true},
    {Article9::kHealthOrSocialCare, "health-or-social-care", "Article 9(2)(h)", "health or social care", true, false},
    {Article9::kPublicHealth, "public-health", "Article 9(2)(i)", "public health", true, false},
    {Article9::kArchivingResearchStatistics, "archiving-research-statistics", "Article 9(2)(j)",
     "archiving in the public interest, research or statistics", true, false},
};

const Article9Info* FindArticle9(Article9 c) {
  for (const auto& i : kArticle9)
    if (i.value == c) return &i;
  return nullptr;
}

std::optional<Article9> ParseArticle9(std::string_view s) {
  for (const auto& i : kArticle9)
    if (s == i.name) return i.value;
  return std::nullopt;
}

bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::optional<CookieCategory> ParseCategory(std::string_view s) {
  if (s == "essential") return CookieCategory::kEssential;
  if (s == "settings") return CookieCategory::kSettings;
  if (s == "usage") return CookieCategory::kUsage;
  if (s == "campaigns") return CookieCategory::kCampaigns;
  return std::nullopt;
}

bool KnownCategory(const std::string& c) {
  return std::find(KnownCategories().begin(), KnownCategories().end(), c) != KnownCategories().end();
}

void ReadContact(config::Table t, Contact& c) {
  t.String("name", c.name);
  t.String("address", c.address);
  t.String("email", c.email);
  t.String("phone", c.phone);
  t.String("url", c.url);
  t.Finish();
}

// retention = "12 months" | "6 years after the account is closed"
//           | { criteria = "...", review = "1 year", maximum = "6 years" }
// with optional { ..., anonymise = true }. Criteria ("as long as needed") are words only beside a
// maximum the runner enforces.
void ReadRetention(config::Table& ds, Dataset& d) {
  config::Problems& problems = ds.problems();
  std::string text;
  auto bad_period = [&](const std::string& p) {
    problems.Add(ds.Where("retention"),
                 "'" + ds.name() + ".retention' has '" + p + "', which is not a length of time such as \"12 months\"");
  };
  if (!ds.Has("retention")) {
    problems.Add(ds.where(), "dataset '" + d.id +
                                 "' holds personal data but says nothing of how long it is kept "
                                 "('retention' is missing)");
    return;
  }
  if (auto t = ds.IsTable("retention") ? ds.Child("retention") : std::nullopt) {
    std::string period, after, criteria, review, maximum;
    t->String("period", period);
    t->String("after", after);
    t->String("criteria", criteria);
    t->String("review", review);
    t->String("maximum", maximum);
    t->Bool("anonymise", d.retention.anonymise);
    t->Finish();
    if (!criteria.empty()) {
      d.retention.kind = Retention::Kind::kCriteria;
      d.retention.criteria = criteria;
      if (review.empty()) {
        problems.Add(t->where(), "'" + t->name() + "' keeps data by criteria, so it needs a 'review' period");
      } else if (auto r = ParsePeriod(review)) {
        d.retention.review = *r;
      } else {
        bad_period(review);
      }
      if (maximum.empty()) {
        problems.Add(t->where(), "'" + t->name() +
                                     "' keeps data by criteria, so it needs a 'maximum' (such as \"6 years\"): "
                                     "\"as long as needed\" is a promise only beside a limit that is enforced");
      } else if (auto m = ParsePeriod(maximum)) {
        d.retention.period = *m;
      } else {
        bad_period(maximum);
      }
      d.retention.text = criteria + " (reviewed every " + review + "), and no longer than " + maximum;
    } else if (auto p = ParsePeriod(period)) {
      d.retention.period = *p;
      d.retention.kind = after.empty() ? Retention::Kind::kPeriod : Retention::Kind::kAfterEvent;
      d.retention.event = after;
      d.retention.text = after.empty() ? period : period + " after " + after;
    } else {
      problems.Add(t->where(), "'" + t->name() + "' needs a 'period' (such as \"12 months\") or 'criteria'");
    }
    return;
  }
  if (!ds.String("retention", text)) return;
  d.retention.text = text;
  size_t after = text.find(" after ");
  std::string period = after == std::string::npos ? text : text.substr(0, after);
  auto p = ParsePeriod(period);
  if (!p) {
    bad_period(period);
    return;
  }
  d.retention.period = *p;
  if (after != std::string::npos) {
    d.retention.kind = Retention::Kind::kAfterEvent;
    d.retention.event = text.substr(after + 7);
  }
}

template <typename T>
void RequireUniqueIds(const std::vector<T>& items, const std::string& what, config::Table& reg,
                      const std::vector<config::Position>& where) {
  std::set<std::string> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].id.empty() && !seen.insert(items[i].id).second) {
      reg.problems().Add(where[i], "duplicate " + what + " id '" + items[i].id + "'");
    }
  }
}

}  // namespace

std::string_view LawfulBasisName(LawfulBasis b) {
  switch (b) {
    case LawfulBasis::kConsent:
      return "consent";
    case LawfulBasis::kContract:
      return "contract";
    case LawfulBasis::kLegalObligation:
      return "legal-obligation";
    case LawfulBasis::kVitalInterests:
      return "vital-interests";
    case LawfulBasis::kPublicTask:
      return "public-task";
    case LawfulBasis::kLegitimateInterests:
      return "legitimate-interests";
  }
  return "";
}

std::string_view LawfulBasisArticle(LawfulBasis b) {
  switch (b) {
    case LawfulBasis::kConsent:
      return "Article 6(1)(a)";
    case LawfulBasis::kContract:
      return "Article 6(1)(b)";
    case LawfulBasis::kLegalObligation:
      return "Article 6(1)(c)";
    case LawfulBasis::kVitalInterests:
      return "Article 6(1)(d)";
    case LawfulBasis::kPublicTask:
      return "Article 6(1)(e)";
    case LawfulBasis::kLegitimateInterests:
      return "Article 6(1)(f)";
  }
  return "";
}

std::string_view CookieCategoryName(CookieCategory c) {
  switch (c) {
    case CookieCategory::kEssential:
      return "essential";
    case CookieCategory::kSettings:
      return "settings";
    case CookieCategory::kUsage:
      return "usage";
    case CookieCategory::kCampaigns:
      return "campaigns";
  }
  return "";
}

std::string_view Article9Name(Article9 c) {
  const auto* i = FindArticle9(c);
  return i ? i->name : "";
}
std::string_view Article9Article(Article9 c) {
  const auto* i = FindArticle9(c);
  return i ? i->article : "";
}
std::string_view Article9Text(Article9 c) {
  const auto* i = FindArticle9(c);
  return i ? i->text : "";
}
bool Article9NeedsSchedule1(Article9 c) {
  const auto* i = FindArticle9(c);
  return i && i->schedule_1;
}
bool Article9NeedsPolicyDocument(Article9 c) {
  const auto* i = FindArticle9(c);
  return i && i->policy_document;
}

std::string Purpose::SpecialConditionText() const {
  std::string out;
  if (article_9 != Article9::kNone) {
    out = std::string(Article9Text(article_9)) + " (" + std::string(Article9Article(article_9)) + " of the UK GDPR)";
  }
  if (!schedule_1.empty()) out += (out.empty() ? "" : ", and ") + ("DPA 2018 Schedule 1 " + schedule_1);
  return out;
}

std::string Transfer::Destination() const {
  std::string out;
  for (size_t i = 0; i < countries.size(); ++i) {
    if (i > 0) out += i + 1 == countries.size() ? " and " : ", ";
    const Country* c = FindCountry(countries[i]);
    std::string name = c ? std::string(c->name) : countries[i];
    // "the United States", "the Netherlands"; "Canada".
    if (name.starts_with("United ") || name.ends_with(" Islands") || name == "Netherlands" ||
        name.ends_with(" Republic") || name == "Philippines" || name == "Bahamas") {
      name = "the " + name;
    }
    out += name;
  }
  return out;
}

const std::vector<std::string>& KnownCategories() {
  static const std::vector<std::string> kCategories = {
      "user",
      "user.contact",
      "user.contact.name",
      "user.contact.email",
      "user.contact.phone",
      "user.contact.address",
      "user.account",
      "user.account.username",
      "user.account.password",
      "user.account.settings",
      "user.device",
      "user.device.ip_address",
      "user.device.browser",
      "user.device.cookie_id",
      "user.device.country",
      "user.device.operating_system",
      "user.device.type",
      "user.behavior",
      "user.behavior.browsing",
      "user.behavior.clicks",
      "user.behavior.search",
      "user.behavior.polls",
      "user.behavior.engagement",
      "user.content",
      "user.content.feedback",
      "user.content.messages",
      "user.content.survey_responses",
      "user.content.case_notes",
      "user.demographic",
      "user.demographic.age",
      "user.demographic.date_of_birth",
      "user.demographic.location",
      "user.employment",
      "user.education",
      "user.financial",
      "user.financial.payments",
      "user.identifier",
      "user.identifier.unique_id",
      "user.identifier.pseudonym",
      "user.preferences",
      "user.preferences.consent",
      "user.preferences.subscriptions",
      "user.special",
      "user.special.ethnicity",
      "user.special.health",
      "user.special.religion",
      "user.special.sexual_orientation",
      "user.special.political_opinions",
      "user.special.trade_union",
      "user.special.genetic",
      "user.special.biometric",
      "user.criminal",
  };
  return kCategories;
}

int64_t Period::MaxSeconds() const { return years * 366 * 86400 + months * 31 * 86400 + days * 86400 + seconds; }

std::optional<Period> ParsePeriod(std::string_view text) {
  auto parts = Split(Trim(text), ' ');
  parts.erase(std::remove(parts.begin(), parts.end(), std::string_view()), parts.end());
  if (parts.size() != 2) return std::nullopt;
  auto n = ParseUint(parts[0]);
  if (!n || *n == 0 || *n > 1000) return std::nullopt;
  std::string unit = ToLower(parts[1]);
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  Period p;
  p.text = std::string(Trim(text));
  auto v = static_cast<int64_t>(*n);
  if (unit == "minute")
    p.seconds = v * 60;
  else if (unit == "hour")
    p.seconds = v * 3600;
  else if (unit == "day")
    p.days = v;
  else if (unit == "week")
    p.days = 7 * v;
  else if (unit == "month")
    p.months = v;
  else if (unit == "year")
    p.years = v;
  else
    return std::nullopt;
  return p;
}

namespace {

// `t` moved by `sign` times `p` in calendar terms.
SystemTime Move(SystemTime t, const Period& p, int64_t sign) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  auto sub_second = t - std::chrono::system_clock::from_time_t(secs);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  int64_t month_index = int64_t{tm.tm_year} * 12 + tm.tm_mon + sign * (p.years * 12 + p.months);
  tm.tm_year = static_cast<int>(month_index / 12);
  tm.tm_mon = static_cast<int>(month_index % 12);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int year = tm.tm_year + 1900;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int last = kDays[tm.tm_mon] + (tm.tm_mon == 1 && leap ? 1 : 0);
  tm.tm_mday = std::min(tm.tm_mday, last);
  std::time_t moved = timegm(&tm) + sign * (p.days * 86400 + p.seconds);
  return std::chrono::system_clock::from_time_t(moved) + sub_second;
}

}  // namespace

SystemTime Subtract(SystemTime t, const Period& p) { return Move(t, p, -1); }

SystemTime Add(SystemTime t, const Period& p) { return Move(t, p, 1); }

bool Dataset::SpecialCategory() const {
  return std::any_of(categories.begin(), categories.end(),
                     [](const std::string& c) { return c == "user.special" || c.starts_with("user.special."); });
}

bool Dataset::CriminalOffence() const {
  return std::find(categories.begin(), categories.end(), "user.criminal") != categories.end();
}

std::string Cookie::ExpiryText() const { return session ? "When you close your browser" : expiry.text; }

const Purpose* Register::FindPurpose(std::string_view id) const {
  for (const auto& p : purposes)
    if (p.id == id) return &p;
  return nullptr;
}
const Dataset* Register::FindDataset(std::string_view id) const {
  for (const auto& d : datasets)
    if (d.id == id) return &d;
  return nullptr;
}
std::optional<Period> Register::RetentionPeriod(std::string_view module) const {
  std::optional<Period> shortest;
  for (const auto& d : datasets) {
    if (d.module != module || d.retention.period.empty()) continue;
    if (!shortest || d.retention.period.MaxSeconds() < shortest->MaxSeconds()) shortest = d.retention.period;
  }
  return shortest;
}
const Recipient* Register::FindRecipient(std::string_view id) const {
  for (const auto& r : recipients)
    if (r.id == id) return &r;
  return nullptr;
}

std::vector<CookieCategory> Register::OptionalCategories() const {
  std::vector<CookieCategory> out;
  for (CookieCategory c : {CookieCategory::kSettings, CookieCategory::kUsage, CookieCategory::kCampaigns}) {
    if (std::any_of(cookies.begin(), cookies.end(), [c](const Cookie& k) { return k.category == c; })) out.push_back(c);
  }
  return out;
}

std::vector<Cookie> Register::PublicCookies() const {
  std::vector<Cookie> out;
  for (const auto& c : cookies) {
    if (!c.staff_only) out.push_back(c);
  }
  return out;
}

bool Register::PublicPurpose(const Purpose& p) const {
  bool served = false;
  for (const auto& d : datasets) {
    if (std::find(d.purposes.begin(), d.purposes.end(), p.id) == d.purposes.end()) continue;
    if (!d.staff_only) return true;
    served = true;
  }
  return !served;
}

std::vector<std::string> RightsForBasis(LawfulBasis b) {
  using enum LawfulBasis;
  std::vector<std::string> rights = {"be-informed", "access", "rectification"};
  // Erasure does not apply to data processed for a legal obligation or a public task (Art 17(3)).
  if (b == kConsent || b == kContract || b == kLegitimateInterests || b == kVitalInterests)
    rights.emplace_back("erasure");
  rights.emplace_back("restriction");
  if (b == kConsent || b == kContract) rights.emplace_back("portability");
  if (b == kPublicTask || b == kLegitimateInterests) rights.emplace_back("objection");
  if (b == kConsent) rights.emplace_back("withdraw-consent");
  rights.emplace_back("complain-to-ico");
  return rights;
}

std::vector<std::string> Register::Rights() const {
  // The union over the public purposes, in the order RightsForBasis gives them.
  static const std::vector<std::string> kOrder = {"be-informed", "access",           "rectification",
                                                  "erasure",     "restriction",      "portability",
                                                  "objection",   "withdraw-consent", "complain-to-ico"};
  std::set<std::string> have;
  for (const auto& p : purposes) {
    if (!PublicPurpose(p)) continue;
    for (auto& r : RightsForBasis(p.basis)) have.insert(std::move(r));
  }
  std::vector<std::string> rights;
  for (const auto& r : kOrder) {
    if (have.count(r) || r == "be-informed" || r == "access" || r == "rectification" || r == "restriction" ||
        r == "complain-to-ico") {
      rights.push_back(r);
    }
  }
  return rights;
}

namespace {

// The controller, the DPO and the other statements about the whole service.
void ReadService(config::Table& reg, Register& r) {
  config::Problems& problems = reg.problems();
  reg.String("service", r.service, /*required=*/true);
  if (auto t = reg.Child("controller")) {
    ReadContact(*t, r.controller);
    if (r.controller.name.empty()) problems.Add(t->where(), "'register.controller.name' is missing");
    if (r.controller.email.empty() && r.controller.address.empty() && r.controller.phone.empty() &&
        r.controller.url.empty()) {
      problems.Add(t->where(), "the controller needs a way to be contacted (email, address, phone or url)");
    }
  } else {
    problems.Add(reg.where(), "'register.controller' is missing: a notice must say who the controller is");
  }
  reg.String("ico_registration", r.ico_registration);
  if (auto t = reg.Child("joint_controller")) ReadContact(*t, r.joint_controller);
  if (auto t = reg.Child("representative")) ReadContact(*t, r.representative);
  if (auto t = reg.Child("dpo")) {
    ReadContact(*t, r.dpo);
    if (r.dpo.email.empty() && r.dpo.address.empty() && r.dpo.phone.empty()) {
      problems.Add(t->where(), "the data protection officer needs a contact (email, address or phone)");
    }
  } else {
    problems.Add(reg.where(), "'register.dpo' is missing: a public authority must name how to reach its DPO");
  }
  reg.String("stored_in", r.stored_in);
  if (r.stored_in.empty()) {
    problems.Add(reg.where(),
                 "'register.stored_in' is missing: say where the data is stored, such as \"the UK\" "
                 "(transfers elsewhere are declared in [[register.transfers]])");
  }
  reg.String("complaints_to_us", r.complaints_to_us);
  if (r.complaints_to_us.empty()) {
    // The law (DPA 2018 s.164A) asks that complaints go to the controller first; by default, to the DPO.
    std::string how = !r.dpo.email.empty()   ? "email our Data Protection Officer at " + r.dpo.email
                      : !r.dpo.phone.empty() ? "telephone our Data Protection Officer on " + r.dpo.phone
                                             : "write to our Data Protection Officer at " + r.dpo.address;
    r.complaints_to_us = "To complain to us about how we use your personal data, " + how + ".";
  }
  reg.String("complaints", r.complaints);
  if (r.complaints.empty()) r.complaints = kIcoComplaint;
  reg.Int("min_age", r.min_age, 0, 120);
  reg.String("children", r.children);
  if (r.children.empty()) {
    r.children = "This service is not aimed at children under " + std::to_string(r.min_age) +
                 ", and we do not knowingly collect their personal data or rely on their consent.";
  }
  reg.String("automated_decisions", r.automated_decisions);
  if (r.automated_decisions.empty())
    r.automated_decisions = "We do not make decisions about you by automated means alone.";
  reg.StringArray("security_measures", r.security_measures);
  std::string mode = "consent";
  reg.String("consent_mode", mode);
  if (mode == "consent")
    r.consent_mode = ConsentMode::kConsent;
  else if (mode == "statistics-exemption")
    r.consent_mode = ConsentMode::kStatisticsExemption;
  else
    problems.Add(reg.Where("consent_mode"), "'register.consent_mode' must be \"consent\" or \"statistics-exemption\"");
}

void ReadPurposes(config::Table& reg, Register& r) {
  config::Problems& problems = reg.problems();
  std::vector<config::Position> where;
  for (config::Table t : reg.Children("purposes")) {
    Purpose p;
    p.where = t.where();
    t.String("id", p.id, true);
    t.String("description", p.description, true);
    std::string basis;
    if (!t.String("lawful_basis", basis)) {
      problems.Add(t.where(), "purpose '" + p.id + "' has no lawful basis ('lawful_basis' is missing)");
    } else if (auto b = ParseBasis(basis)) {
      p.basis = *b;
    } else {
      problems.Add(t.Where("lawful_basis"), "purpose '" + p.id + "' has lawful basis '" + basis +
                                                "'; use consent, contract, legal-obligation, vital-interests, "
                                                "public-task or legitimate-interests");
    }
    t.String("legitimate_interest", p.legitimate_interest);
    t.String("lia", p.lia);
    if (t.Has("special_condition")) {
      std::string old;
      t.String("special_condition", old);
      problems.Add(t.Where("special_condition"),
                   "purpose '" + p.id +
                       "': 'special_condition' is now 'article_9' (such as \"explicit-consent\" or "
                       "\"substantial-public-interest\") with 'schedule_1' and 'policy_document' where the "
                       "condition needs them (docs/register.md)");
    }
    std::string article_9;
    if (t.String("article_9", article_9)) {
      if (auto c = ParseArticle9(article_9)) {
        p.article_9 = *c;
      } else {
        std::string names;
        for (const auto& i : kArticle9) names += (names.empty() ? "" : ", ") + std::string(i.name);
        problems.Add(t.Where("article_9"),
                     "purpose '" + p.id + "' has article_9 '" + article_9 + "'; use one of " + names);
      }
    }
    t.String("schedule_1", p.schedule_1);
    t.String("policy_document", p.policy_document);
    t.String("policy_exception", p.policy_exception);
    t.String("withdraw", p.withdraw);
    t.String("consent_records", p.consent_records);
    if (p.article_9 == Article9::kExplicitConsent && !p.schedule_1.empty()) {
      problems.Add(t.Where("schedule_1"), "purpose '" + p.id +
                                              "' relies on explicit consent (Article 9(2)(a)), which needs no DPA "
                                              "2018 Schedule 1 condition: leave 'schedule_1' out");
    }
    if (Article9NeedsSchedule1(p.article_9) && p.schedule_1.empty()) {
      problems.Add(t.where(), "purpose '" + p.id + "' relies on " + std::string(Article9Article(p.article_9)) +
                                  ", which needs a DPA 2018 Schedule 1 condition ('schedule_1')");
    }
    if (Article9NeedsPolicyDocument(p.article_9) && p.policy_document.empty()) {
      problems.Add(t.where(), "purpose '" + p.id + "' relies on " + std::string(Article9Article(p.article_9)) +
                                  ", whose Schedule 1 condition needs an appropriate policy document "
                                  "('policy_document': where it is)");
    }
    if (p.basis == LawfulBasis::kLegitimateInterests && p.legitimate_interest.empty() && !basis.empty()) {
      problems.Add(t.where(), "purpose '" + p.id +
                                  "' relies on legitimate interests but does not say what the "
                                  "interest is ('legitimate_interest')");
    }
    if (p.basis == LawfulBasis::kConsent && p.withdraw.empty() && !basis.empty()) {
      problems.Add(t.where(),
                   "purpose '" + p.id + "' relies on consent but does not say how to withdraw it ('withdraw')");
    }
    t.Finish();
    r.purposes.push_back(std::move(p));
    where.push_back(r.purposes.back().where);
  }
  RequireUniqueIds(r.purposes, "purpose", reg, where);
}

void ReadRecipients(config::Table& reg, Register& r) {
  config::Problems& problems = reg.problems();
  std::vector<config::Position> where;
  for (config::Table t : reg.Children("recipients")) {
    Recipient x;
    where.push_back(t.where());
    t.String("id", x.id, true);
    t.String("name", x.name, true);
    t.String("purpose", x.purpose);
    t.String("basis", x.basis, true);
    t.String("contract", x.contract);
    static const std::set<std::string> kBases = {"processor",   "consent",  "legal-obligation", "court-order",
                                                 "public-task", "contract", "controller"};
    if (!x.basis.empty() && !kBases.count(x.basis)) {
      problems.Add(t.Where("basis"), "recipient '" + x.id + "' has basis '" + x.basis +
                                         "'; use processor, controller, consent, contract, legal-obligation, "
                                         "court-order or public-task");
    }
    t.Finish();
    r.recipients.push_back(std::move(x));
  }
  RequireUniqueIds(r.recipients, "recipient", reg, where);
}

void ReadTransfers(config::Table& reg, Register& r) {
  std::vector<config::Position> where;
  for (config::Table t : reg.Children("transfers")) {
    Transfer x;
    where.push_back(t.where());
    t.String("id", x.id, true);
    if (t.Has("destination")) {
      std::string old;
      t.String("destination", old);
      t.problems().Add(t.Where("destination"), "transfer '" + x.id +
                                                   "': name the third countries from a list, as 'countries' of "
                                                   "ISO 3166 codes (such as [\"US\"]), not 'destination'");
    }
    t.StringArray("countries", x.countries, true);
    for (const auto& c : x.countries) {
      if (c == "GB") {
        t.problems().Add(t.Where("countries"), "transfer '" + x.id + "' names GB: the UK is not a third country");
      } else if (FindCountry(c) == nullptr) {
        t.problems().Add(t.Where("countries"), "transfer '" + x.id + "' names '" + c +
                                                   "', which is not an ISO 3166 country code such as \"US\"");
      }
    }
    t.String("safeguard", x.safeguard, true);
    t.String("description", x.description);
    t.Finish();
    r.transfers.push_back(std::move(x));
  }
  RequireUniqueIds(r.transfers, "transfer", reg, where);
}

// Datasets, checked against the purposes, recipients and transfers already read.
void ReadDatasets(config::Table& reg, Register& r) {
  config::Problems& problems = reg.problems();
  std::vector<config::Position> where;
  for (config::Table t : reg.Children("datasets")) {
    Dataset d;
    d.where = t.where();
    t.String("id", d.id, true);
    t.String("kept_by", d.kept_by);
    // A dataset kept outside Steward may still name the module that would keep it.
    t.String("module", d.module, /*required=*/d.kept_by.empty());
    t.String("collection", d.collection);
    t.String("description", d.description, true);
    t.StringArray("categories", d.categories, true);
    t.StringArray("subjects", d.subjects, true);
    t.StringArray("purposes", d.purposes, true);
    t.StringArray("sources", d.sources);
    t.String("requirement", d.requirement);
    t.String("requirement_note", d.requirement_note);
    t.StringArray("recipients", d.recipients);
    t.StringArray("transfers", d.transfers);
    std::string audience = "public";
    t.String("audience", audience);
    if (audience != "public" && audience != "staff") {
      problems.Add(t.Where("audience"), "'" + t.name() + ".audience' must be public or staff");
    }
    d.staff_only = audience == "staff";
    t.String("dpia", d.dpia);
    t.String("owner", d.owner);
    if (t.String("reviewed", d.reviewed) && !IsDate(d.reviewed)) {
      problems.Add(t.Where("reviewed"), "'" + t.name() + ".reviewed' must be a date such as \"2026-11-30\"");
    }
    ReadRetention(t, d);
    for (const auto& c : d.categories) {
      if (!KnownCategory(c))
        problems.Add(t.Where("categories"), "dataset '" + d.id + "' has unknown data category '" + c + "'");
    }
    if (d.requirement != "none" && d.requirement != "statutory" && d.requirement != "contractual") {
      problems.Add(t.Where("requirement"), "'" + t.name() + ".requirement' must be none, statutory or contractual");
    }
    if (d.purposes.empty() && t.Has("purposes"))
      problems.Add(t.Where("purposes"), "dataset '" + d.id + "' serves no purpose");
    for (const auto& pid : d.purposes) {
      const Purpose* p = r.FindPurpose(pid);
      if (p == nullptr) {
        problems.Add(t.Where("purposes"), "dataset '" + d.id + "' names unknown purpose '" + pid + "'");
      } else {
        if (d.SpecialCategory() && p->article_9 == Article9::kNone) {
          problems.Add(t.Where("categories"), "dataset '" + d.id + "' holds special category data for purpose '" + pid +
                                                  "', which names no Article 9 condition ('article_9')");
        }
        if (d.CriminalOffence() && p->schedule_1.empty()) {
          problems.Add(t.Where("categories"), "dataset '" + d.id + "' holds criminal offence data for purpose '" + pid +
                                                  "', which names no DPA 2018 Schedule 1 condition ('schedule_1')");
        }
      }
    }
    for (const auto& rid : d.recipients) {
      if (!r.FindRecipient(rid))
        problems.Add(t.Where("recipients"), "dataset '" + d.id + "' names unknown recipient '" + rid + "'");
    }
    for (const auto& tid : d.transfers) {
      bool known = std::any_of(r.transfers.begin(), r.transfers.end(), [&](const Transfer& x) { return x.id == tid; });
      if (!known) problems.Add(t.Where("transfers"), "dataset '" + d.id + "' names unknown transfer '" + tid + "'");
    }
    t.Finish();
    where.push_back(d.where);
    r.datasets.push_back(std::move(d));
  }
  RequireUniqueIds(r.datasets, "dataset", reg, where);
}

void ReadCookies(config::Table& reg, Register& r) {
  config::Problems& problems = reg.problems();
  std::set<std::string> cookie_names;
  for (config::Table t : reg.Children("cookies")) {
    Cookie c;
    t.String("name", c.name, true);
    t.String("provider", c.provider, true);
    t.String("purpose", c.purpose, true);
    std::string party = "first";
    t.String("party", party);
    if (party != "first" && party != "third")
      problems.Add(t.Where("party"), "cookie '" + c.name + "' party must be first or third");
    c.first_party = party == "first";
    std::string category, expiry;
    if (!t.String("category", category)) {
      problems.Add(t.where(), "cookie '" + c.name + "' has no category (essential, settings, usage or campaigns)");
    } else if (auto cat = ParseCategory(category)) {
      c.category = *cat;
    } else {
      problems.Add(t.Where("category"), "cookie '" + c.name + "' has category '" + category +
                                            "'; use essential, settings, usage or campaigns");
    }
    if (!t.String("expiry", expiry)) {
      problems.Add(t.where(), "cookie '" + c.name + "' has no expiry (a length of time, or \"session\")");
    } else if (expiry == "session") {
      c.session = true;
    } else if (auto p = ParsePeriod(expiry)) {
      c.expiry = *p;
    } else {
      problems.Add(t.Where("expiry"), "cookie '" + c.name + "' has expiry '" + expiry +
                                          "'; use a length of time such as \"2 years\", or \"session\"");
    }
    if (t.String("path", c.path) &&
        (c.path.empty() || c.path[0] != '/' || c.path.find_first_of("; \t\r\n") != std::string::npos)) {
      problems.Add(t.Where("path"), "cookie '" + c.name + "' path must start with / and hold no spaces or ';'");
    }
    if (t.String("domain", c.domain)) {
      std::string_view d = c.domain;
      if (d.starts_with(".")) d.remove_prefix(1);
      if (d.empty() || d.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string_view::npos) {
        problems.Add(t.Where("domain"),
                     "cookie '" + c.name + "' domain must be a lower-case domain name such as \"example.gov.uk\"");
      }
    }
    std::string audience = "public";
    t.String("audience", audience);
    if (audience != "public" && audience != "staff") {
      problems.Add(t.Where("audience"), "cookie '" + c.name + "' audience must be public or staff");
    }
    c.staff_only = audience == "staff";
    if (c.staff_only && c.category != CookieCategory::kEssential) {
      problems.Add(t.Where("audience"), "cookie '" + c.name + "' is for staff only, so it must be essential");
    }
    if (!c.name.empty() && !cookie_names.insert(c.name).second) {
      problems.Add(t.where(), "duplicate cookie '" + c.name + "'");
    }
    t.Finish();
    r.cookies.push_back(std::move(c));
  }
}

}  // namespace

Register Parse(config::Table reg) {
  Register r;
  ReadService(reg, r);
  ReadPurposes(reg, r);
  ReadRecipients(reg, r);
  ReadTransfers(reg, r);
  ReadDatasets(reg, r);
  ReadCookies(reg, r);
  reg.Finish();
  return r;
}

Result<Register> FromDocument(const config::Document& document) {
  config::Problems problems(document.path());
  config::Table root = document.Root(problems);
  auto reg = root.Child("register");
  if (!reg) {
    if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
    return MakeError(ErrorCode::kNotFound, document.path() +
                                               ": there is no [register]: Steward needs the site's "
                                               "processing register (see docs/register.md)");
  }
  Register r = Parse(*reg);
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return r;
}

Status CheckEssentialCookies(const Register& reg, const std::vector<std::string>& names) {
  std::string missing;
  for (const auto& name : names) {
    bool declared = std::any_of(reg.cookies.begin(), reg.cookies.end(), [&](const Cookie& c) {
      return c.name == name && c.category == CookieCategory::kEssential;
    });
    if (!declared && missing.find("\n  " + name + "\n") == std::string::npos) missing += "\n  " + name;
  }
  if (missing.empty()) return Ok();
  return MakeError(ErrorCode::kFailedPrecondition,
                   "the register does not declare, as essential, cookies that Steward sets on this site "
                   "(add a [[register.cookies]] for each; see examples/):" +
                       missing);
}

}  // namespace steward::processing
