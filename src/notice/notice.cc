#include "notice/notice.h"

#include <algorithm>
#include <map>

#include "register/versions.h"

namespace steward::notice {
namespace {

using processing::CookieCategory;
using processing::LawfulBasis;

std::string RecipientBasis(const std::string& basis) {
  static const std::map<std::string, std::string> kText = {
      {"processor", "They work on our behalf, under contract, and may use it only as we instruct."},
      {"controller", "They decide for themselves how to use it, under their own privacy notice."},
      {"consent", "Only with your permission."},
      {"contract", "To carry out a contract with you."},
      {"legal-obligation", "Only when the law requires us to."},
      {"court-order", "Only when the law requires it, for example a court order, or to prevent fraud or other crime."},
      {"public-task", "To carry out our public functions."},
  };
  auto it = kText.find(basis);
  return it == kText.end() ? basis : it->second;
}

std::string Join(const std::vector<std::string>& items, const std::string& last = "and") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " " + last + " " : ", ";
    out += items[i];
  }
  return out;
}

struct RightText {
  const char* id;
  const char* title;
  const char* text;
};

constexpr RightText kRights[] = {
    {"be-informed", "To be told", "how your personal data is used. This notice does that."},
    {"access", "To get a copy",
     "of the personal data we hold about you, with why we hold it, who we share it with and how long we keep it. "
     "You can ask in writing or by speaking to us. It is free, and we will answer within one calendar month."},
    {"rectification", "To have it corrected",
     "if anything is inaccurate or incomplete. We will also tell anyone we shared it with."},
    {"erasure", "To have it erased", "when there is no longer a reason for us to keep it."},
    {"restriction", "To restrict how we use it",
     "for example while we check something you say is wrong. We keep it, but do not use it."},
    {"portability", "To take it elsewhere",
     "in a common, machine-readable format, for data you gave us by consent or under a contract."},
    {"withdraw-consent", "To withdraw your consent", "at any time, as easily as you gave it."},
    {"complain-to-ico", "To complain", "to us, and to the Information Commissioner's Office (see below)."},
};

html::Object ContactData(const processing::Contact& c) {
  return html::Object{{"name", c.name}, {"address", c.address}, {"email", c.email}, {"phone", c.phone}, {"url", c.url}};
}

std::string CategoryTitle(CookieCategory c) {
  switch (c) {
    case CookieCategory::kEssential:
      return "Strictly necessary cookies";
    case CookieCategory::kSettings:
      return "Cookies that remember your settings";
    case CookieCategory::kUsage:
      return "Cookies that measure website use";
    case CookieCategory::kCampaigns:
      return "Cookies that help with our communications and marketing";
  }
  return "";
}

std::string CategoryText(CookieCategory c) {
  switch (c) {
    case CookieCategory::kEssential:
      return "These essential cookies do things like remember your progress through a form, keep you signed in, and "
             "remember your cookie choices. They always need to be on.";
    case CookieCategory::kSettings:
      return "These cookies remember choices you make on the site, such as the last page you looked at.";
    case CookieCategory::kUsage:
      return "These cookies tell us how you use the site, so we can improve it. They hold a random identifier, not "
             "your name or contact details.";
    case CookieCategory::kCampaigns:
      return "These cookies help us see how well our communications and campaigns work.";
  }
  return "";
}

}  // namespace

std::string BasisLabel(LawfulBasis b) {
  switch (b) {
    case LawfulBasis::kConsent:
      return "your consent";
    case LawfulBasis::kContract:
      return "a contract with you, or steps you asked for before one";
    case LawfulBasis::kLegalObligation:
      return "a legal obligation we must meet";
    case LawfulBasis::kVitalInterests:
      return "to protect someone's life";
    case LawfulBasis::kPublicTask:
      return "a task we carry out in the public interest, or in our official functions";
    case LawfulBasis::kLegitimateInterests:
      return "our legitimate interests";
  }
  return "";
}

std::string CategoryLabel(const std::string& category) {
  static const std::map<std::string, std::string> kLabels = {
      {"user", "personal data"},
      {"user.contact", "contact details"},
      {"user.contact.name", "your name"},
      {"user.contact.email", "your email address"},
      {"user.contact.phone", "your phone number"},
      {"user.contact.address", "your postal address"},
      {"user.account", "account details"},
      {"user.account.username", "your user name"},
      {"user.account.password", "your password (stored so that nobody can read it)"},
      {"user.account.settings", "your account settings"},
      {"user.device", "details of your device"},
      {"user.device.ip_address", "your Internet Protocol (IP) address"},
      {"user.device.browser", "which web browser you use"},
      {"user.device.cookie_id", "a cookie identifier"},
      {"user.device.country", "the country you are in"},
      {"user.device.operating_system", "your device's operating system"},
      {"user.device.type", "the type of device you use (computer, tablet or phone)"},
      {"user.behavior", "how you use the site"},
      {"user.behavior.browsing", "the pages you visit, for how long, and how you got to the site"},
      {"user.behavior.clicks", "what you click on"},
      {"user.behavior.search", "what you search for on the site"},
      {"user.behavior.polls", "whether you took part in a poll"},
      {"user.behavior.engagement", "how you interact with a page"},
      {"user.content", "what you send us"},
      {"user.content.feedback", "your feedback, questions and queries"},
      {"user.content.messages", "messages you send us"},
      {"user.content.survey_responses", "your survey answers"},
      {"user.content.case_notes", "notes of the advice and help we give you"},
      {"user.demographic", "details about you"},
      {"user.demographic.age", "your age"},
      {"user.demographic.date_of_birth", "your date of birth"},
      {"user.demographic.location", "where you live"},
      {"user.employment", "your work and employment"},
      {"user.education", "your education and training"},
      {"user.financial", "financial details"},
      {"user.financial.payments", "payments"},
      {"user.identifier", "an identifier"},
      {"user.identifier.unique_id",
       "a random identifier for your browser (pseudonymous: not your name, but still personal data)"},
      {"user.identifier.pseudonym", "a pseudonym"},
      {"user.preferences", "your choices"},
      {"user.preferences.consent", "your consent choices"},
      {"user.preferences.subscriptions", "what you subscribed to"},
      {"user.special", "special category data"},
      {"user.special.ethnicity", "your ethnic origin"},
      {"user.special.health", "health and disability information"},
      {"user.special.religion", "your religion or beliefs"},
      {"user.special.sexual_orientation", "your sexual orientation"},
      {"user.special.political_opinions", "your political opinions"},
      {"user.special.trade_union", "trade union membership"},
      {"user.special.genetic", "genetic data"},
      {"user.special.biometric", "biometric data"},
      {"user.criminal", "criminal offence data"},
  };
  auto it = kLabels.find(category);
  return it == kLabels.end() ? category : it->second;
}

html::Object PrivacyData(const processing::Register& reg, const std::string& last_updated) {
  html::Object d;
  d["service"] = reg.service;
  d["last_updated"] = last_updated;
  d["version"] = reg.Version();
  d["controller"] = ContactData(reg.controller);
  d["ico_registration"] = reg.ico_registration;
  if (!reg.joint_controller.empty()) d["joint_controller"] = ContactData(reg.joint_controller);
  if (!reg.representative.empty()) d["representative"] = ContactData(reg.representative);
  d["dpo"] = ContactData(reg.dpo);

  d["stored_in"] = reg.stored_in;

  html::List datasets;
  bool other_sources = false;
  for (const auto& ds : reg.datasets) {
    if (ds.staff_only) continue;  // in the record of processing, not the public notice
    std::vector<std::string> cats;
    for (const auto& c : ds.categories) cats.push_back(CategoryLabel(c));
    html::List purposes;
    for (const auto& pid : ds.purposes) {
      if (const auto* p = reg.FindPurpose(pid)) purposes.push_back(html::Object{{"description", p->description}});
    }
    std::vector<std::string> recipients;
    for (const auto& rid : ds.recipients) {
      if (const auto* r = reg.FindRecipient(rid)) recipients.push_back(r->name);
    }
    // Whether a person must give it is a question only for what they give; what their visit yields
    // says how it is collected instead.
    std::string requirement;
    if (ds.Given()) {
      if (ds.requirement == "statutory")
        requirement = "The law requires you to give us this.";
      else if (ds.requirement == "contractual")
        requirement = "A contract requires you to give us this.";
      else
        requirement = "You do not have to give us this.";
      if (!ds.requirement_note.empty()) requirement += " " + ds.requirement_note;
    }
    // "Then it is deleted" only where Steward's runner deletes it.
    std::string end;
    if (ds.kept_by.empty()) end = ds.retention.anonymise ? "then it is anonymised" : "then it is deleted";
    other_sources = other_sources || ds.FromOtherSources();
    datasets.push_back(
        html::Object{{"id", ds.id},
                     {"description", ds.description},
                     {"categories", Join(cats)},
                     {"subjects", Join(ds.subjects)},
                     {"purposes", purposes},
                     {"sources", ds.FromOtherSources() ? "From you, and from " + Join(ds.sources) : std::string()},
                     {"collection", ds.collection},
                     {"requirement", requirement},
                     {"retention", ds.retention.text},
                     {"end", end},
                     {"recipients", Join(recipients)},
                     {"special", ds.SpecialCategory()}});
  }
  d["datasets"] = datasets;
  d["other_sources"] = other_sources;
  // Steward's mail carries no tracking; a site that sends it says so.
  auto kept_here = [&](const char* module) {
    return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                       [&](const processing::Dataset& ds) { return ds.module == module && ds.kept_by.empty(); });
  };
  d["sends_email"] = kept_here("mail");
  // What stays of an address after it is deleted, where a bounce or a complaint must keep it from
  // being mailed again.
  d["suppresses_email"] = kept_here("mail") && kept_here("mail-suppression");

  // Only purposes that concern the public; staff-only ones are in the record of processing.
  html::List purposes, consent_purposes, objection;
  for (const auto& p : reg.purposes) {
    if (!reg.PublicPurpose(p)) continue;
    html::Object o{{"description", p.description},
                   {"basis", BasisLabel(p.basis)},
                   {"article", std::string(processing::LawfulBasisArticle(p.basis))},
                   {"legitimate_interest", p.legitimate_interest},
                   {"special_condition", p.SpecialConditionText()}};
    purposes.push_back(o);
    if (p.basis == LawfulBasis::kConsent) {
      consent_purposes.push_back(html::Object{{"description", p.description}, {"withdraw", p.withdraw}});
    }
    if (p.basis == LawfulBasis::kPublicTask || p.basis == LawfulBasis::kLegitimateInterests) {
      objection.push_back(html::Object{{"description", p.description}});
    }
  }
  d["purposes"] = purposes;
  d["consent_purposes"] = consent_purposes;
  // The right to object, stated apart from the other rights (Art 21(4)).
  d["objection"] = objection;
  d["has_objection"] = !objection.empty();

  html::List recipients;
  for (const auto& r : reg.recipients) {
    recipients.push_back(html::Object{{"name", r.name}, {"purpose", r.purpose}, {"basis", RecipientBasis(r.basis)}});
  }
  d["recipients"] = recipients;
  html::List transfers;
  for (const auto& t : reg.transfers) {
    transfers.push_back(
        html::Object{{"destination", t.Destination()}, {"safeguard", t.safeguard}, {"description", t.description}});
  }
  d["transfers"] = transfers;

  html::List rights;
  for (const auto& id : reg.Rights()) {
    for (const auto& r : kRights) {
      if (id == r.id) rights.push_back(html::Object{{"title", r.title}, {"text", r.text}});
    }
  }
  d["rights"] = rights;
  // Steward takes requests online (/your-data) where the register keeps rights requests here and
  // the site sends email, which proves the address a request comes from.
  auto kept_by = [&](std::string_view module) {
    return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                       [&](const processing::Dataset& ds) { return ds.module == module && ds.kept_by.empty(); });
  };
  d["rights_online"] = kept_by("rights") && kept_by("mail");
  d["children"] = reg.children;
  d["automated_decisions"] = reg.automated_decisions;
  d["complaints_to_us"] = reg.complaints_to_us;
  d["complaints"] = reg.complaints;
  d["has_cookies"] = !reg.PublicCookies().empty();
  // What the cookie rules are on this site: the register's consent mode, in words.
  std::string mode_text;
  if (reg.OptionalCategories().empty()) {
    mode_text = "We only use cookies that are needed to make the site work, so we do not ask you about them.";
  } else if (reg.consent_mode == processing::ConsentMode::kConsent) {
    mode_text =
        "We only set cookies that are not essential if you accept them, and you can change your mind at any "
        "time. If your browser sends a Global Privacy Control signal and you have not chosen, we treat it as "
        "a no.";
  } else {
    mode_text =
        "We use our own cookies to count visits and see how the site is used, under a random identifier rather "
        "than your name, unless you object. The law allows this for statistics when we tell you and make objecting "
        "simple and free. "
        "You can object on the cookie banner or the cookies page at any time. If your browser sends a Global "
        "Privacy Control signal, we treat it as an objection.";
  }
  d["cookie_mode_text"] = mode_text;
  html::List measures;
  for (const auto& m : reg.security_measures) measures.push_back(html::Object{{"text", m}});
  d["security_measures"] = measures;
  return d;
}

std::string CookieQuestion(CookieCategory c) {
  switch (c) {
    case CookieCategory::kSettings:
      return "Do you want to accept cookies that remember your settings on the site?";
    case CookieCategory::kUsage:
      return "Do you want to accept analytics cookies?";
    case CookieCategory::kCampaigns:
      return "Do you want to accept cookies that help with our communications and marketing?";
    case CookieCategory::kEssential:
      break;
  }
  return "";
}

html::Object CookiesData(const processing::Register& reg) {
  html::List groups;
  const std::vector<processing::Cookie> cookies = reg.PublicCookies();
  for (CookieCategory c :
       {CookieCategory::kEssential, CookieCategory::kSettings, CookieCategory::kUsage, CookieCategory::kCampaigns}) {
    html::List rows;
    for (const auto& k : cookies) {
      if (k.category != c) continue;
      rows.push_back(html::Object{{"name", k.name},
                                  {"purpose", k.purpose},
                                  {"provider", k.provider + (k.first_party ? "" : " (third party)")},
                                  {"expiry", k.ExpiryText()}});
    }
    if (rows.empty()) continue;
    groups.push_back(html::Object{{"id", std::string(processing::CookieCategoryName(c))},
                                  {"title", CategoryTitle(c)},
                                  {"text", CategoryText(c)},
                                  {"rows", rows}});
  }
  // The choice per optional category, as a first visit sees it (the consent module fills in the
  // visitor's own).
  bool exemption = reg.consent_mode == processing::ConsentMode::kStatisticsExemption;
  html::List categories;
  for (CookieCategory c : reg.OptionalCategories()) {
    bool yes = exemption && c == CookieCategory::kUsage;
    categories.push_back(html::Object{{"id", std::string(processing::CookieCategoryName(c))},
                                      {"question", CookieQuestion(c)},
                                      {"yes", yes},
                                      {"no", !yes}});
  }
  return html::Object{{"service", reg.service},
                      {"groups", groups},
                      {"has_cookies", !cookies.empty()},
                      {"categories", categories},
                      {"has_choices", !categories.empty()},
                      {"exemption", exemption}};
}

Result<std::string> RenderPrivacy(const site::Pages& pages, const processing::Register& reg,
                                  const std::string& last_updated) {
  return pages.Render("privacy", "Privacy notice", PrivacyData(reg, last_updated));
}

Result<std::string> RenderCookies(const site::Pages& pages, const processing::Register& reg) {
  return pages.Render("cookies", "Cookies", CookiesData(reg));
}

namespace {

html::List ChangeList(const std::vector<processing::NoticeChange>& changes) {
  html::List out;
  for (size_t i = 0; i < changes.size(); ++i) {
    out.push_back(html::Object{{"text", changes[i].text},
                               {"material", changes[i].material},
                               {"first", i == 0},
                               {"last", i + 1 == changes.size()}});
  }
  return out;
}

http::Response VersionsPage(const site::Pages& pages, store::Store& store, http::Request& req) {
  auto versions = processing::ListVersions(store);
  if (!versions.ok()) return pages.ErrorFor(versions.error(), req);
  auto query = req.Query();
  if (!query.ok()) return pages.ErrorPage(400, &req);
  html::List list, options;
  const auto& all = *versions;
  for (size_t i = 0; i < all.size(); ++i) {
    std::string date = processing::LongDate(all[i].effective_at);
    std::vector<processing::NoticeChange> changes;
    if (i + 1 < all.size()) changes = processing::ClassifyChanges(all[i + 1].notice_json, all[i].notice_json);
    list.push_back(html::Object{{"version", all[i].version},
                                {"date", date},
                                {"current", i == 0},
                                {"oldest", i + 1 == all.size()},
                                {"material", processing::AnyMaterial(changes)},
                                {"changes", ChangeList(changes)}});
    options.push_back(html::Object{{"version", all[i].version}, {"date", date}});
  }
  html::Object data{{"versions", list}, {"options", options}};
  const std::string* from = http::Find(*query, "from");
  const std::string* to = http::Find(*query, "to");
  if (from && to) {
    const processing::NoticeVersion *a = nullptr, *b = nullptr;
    for (const auto& v : all) {
      if (v.version == *from) a = &v;
      if (v.version == *to) b = &v;
    }
    if (a == nullptr || b == nullptr) return pages.ErrorPage(404, &req);
    // Older to newer, whichever way round they were asked for.
    if (a->effective_at > b->effective_at) std::swap(a, b);
    data["compare"] =
        html::Object{{"from", processing::LongDate(a->effective_at)},
                     {"to", processing::LongDate(b->effective_at)},
                     {"changes", ChangeList(processing::ClassifyChanges(a->notice_json, b->notice_json))}};
  }
  return pages.Page(req, "privacy_versions", "Changes to our privacy notice", std::move(data));
}

}  // namespace

void AddRoutes(http::Router& router, const site::Pages& pages, const processing::Register& reg,
               const std::string& last_updated, store::Store& store) {
  router.Get("/privacy/versions", [&pages, &store](http::Request& req) { return VersionsPage(pages, store, req); },
             {.blocking = true});
  // The notice's data is made once (the register does not change while Steward runs); the page is
  // rendered per visitor, for the cookie banner.
  auto privacy = std::make_shared<const html::Object>(PrivacyData(reg, last_updated));
  router.Get("/privacy", [&pages, privacy](http::Request& req) {
    http::Response r = pages.Page(req, "privacy", "Privacy notice", *privacy);
    r.SetHeader("Cache-Control", "no-cache");
    return r;
  });
}

}  // namespace steward::notice
