// The structured notice (Register::ToJson), which tests and other tools read, and the notice
// version: a hash of the register's normalised content.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/json_text.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "register/register.h"

namespace steward::processing {

namespace {

nlohmann::ordered_json ContactJson(const Contact& c) {
  nlohmann::ordered_json j;
  j["name"] = c.name;
  j["address"] = c.address;
  j["email"] = c.email;
  j["phone"] = c.phone;
  j["url"] = c.url;
  return j;
}

nlohmann::ordered_json PeriodJson(const Period& p) {
  nlohmann::ordered_json j;
  j["text"] = p.text;
  j["years"] = p.years;
  j["months"] = p.months;
  j["days"] = p.days;
  j["seconds"] = p.seconds;
  return j;
}

nlohmann::ordered_json Body(const Register& r) {
  nlohmann::ordered_json j;
  j["service"] = r.service;
  j["controller"] = ContactJson(r.controller);
  j["controller"]["ico_registration"] = r.ico_registration;
  if (!r.joint_controller.empty()) j["joint_controller"] = ContactJson(r.joint_controller);
  if (!r.representative.empty()) j["representative"] = ContactJson(r.representative);
  j["dpo"] = ContactJson(r.dpo);
  j["stored_in"] = r.stored_in;
  j["purposes"] = nlohmann::ordered_json::array();
  for (const auto& p : r.purposes) {
    nlohmann::ordered_json x;
    x["id"] = p.id;
    x["description"] = p.description;
    x["lawful_basis"] = LawfulBasisName(p.basis);
    x["article"] = LawfulBasisArticle(p.basis);
    if (!p.legitimate_interest.empty()) x["legitimate_interest"] = p.legitimate_interest;
    if (!p.lia.empty()) x["lia"] = p.lia;
    if (p.article_9 != Article9::kNone) {
      x["article_9"] = {{"condition", Article9Name(p.article_9)}, {"article", Article9Article(p.article_9)}};
    }
    if (!p.schedule_1.empty()) x["schedule_1"] = p.schedule_1;
    if (!p.policy_document.empty()) {
      x["policy_document"] = {{"where", p.policy_document},
                              {"retention_follows_it", p.policy_exception.empty()},
                              {"exception", p.policy_exception}};
    }
    if (!p.withdraw.empty()) x["withdraw"] = p.withdraw;
    if (!p.consent_records.empty()) x["consent_records"] = p.consent_records;
    x["audience"] = r.PublicPurpose(p) ? "public" : "staff";
    j["purposes"].push_back(x);
  }
  j["datasets"] = nlohmann::ordered_json::array();
  for (const auto& d : r.datasets) {
    nlohmann::ordered_json x;
    x["id"] = d.id;
    x["module"] = d.module;
    if (!d.kept_by.empty()) x["kept_by"] = d.kept_by;
    x["description"] = d.description;
    x["categories"] = d.categories;
    x["special_category"] = d.SpecialCategory();
    x["subjects"] = d.subjects;
    x["purposes"] = d.purposes;
    x["source"] = {{"from_the_person", d.sources.empty()}, {"organisations", d.sources}};
    x["collection"] = d.Given() ? nlohmann::ordered_json{{"given", true}}
                                : nlohmann::ordered_json{{"given", false}, {"how", d.collection}};
    x["requirement"] = d.requirement;
    if (!d.requirement_note.empty()) x["requirement_note"] = d.requirement_note;
    nlohmann::ordered_json ret;
    ret["kind"] = d.retention.kind == Retention::Kind::kPeriod       ? "period"
                  : d.retention.kind == Retention::Kind::kAfterEvent ? "after-event"
                                                                     : "criteria";
    ret["text"] = d.retention.text;
    if (d.retention.kind != Retention::Kind::kCriteria) ret["period"] = PeriodJson(d.retention.period);
    if (!d.retention.event.empty()) ret["after"] = d.retention.event;
    if (!d.retention.criteria.empty()) {
      ret["criteria"] = d.retention.criteria;
      ret["review"] = PeriodJson(d.retention.review);
      ret["maximum"] = PeriodJson(d.retention.period);
    }
    ret["action"] = d.retention.anonymise ? "anonymise" : "delete";
    x["retention"] = ret;
    x["recipients"] = d.recipients;
    x["transfers"] = d.transfers;
    x["audience"] = d.staff_only ? "staff" : "public";
    if (!d.dpia.empty()) x["dpia"] = d.dpia;
    if (!d.owner.empty()) x["owner"] = d.owner;
    if (!d.reviewed.empty()) x["reviewed"] = d.reviewed;
    j["datasets"].push_back(x);
  }
  j["recipients"] = nlohmann::ordered_json::array();
  for (const auto& x : r.recipients) {
    nlohmann::ordered_json o{{"id", x.id}, {"name", x.name}, {"purpose", x.purpose}, {"basis", x.basis}};
    if (!x.contract.empty()) o["contract"] = x.contract;
    j["recipients"].push_back(o);
  }
  j["transfers"] = nlohmann::ordered_json::array();
  for (const auto& x : r.transfers) {
    j["transfers"].push_back({{"id", x.id},
                              {"countries", x.countries},
                              {"destination", x.Destination()},
                              {"safeguard", x.safeguard},
                              {"description", x.description}});
  }
  j["cookies"] = nlohmann::ordered_json::array();
  for (const auto& c : r.cookies) {
    nlohmann::ordered_json x;
    x["name"] = c.name;
    x["party"] = c.first_party ? "first" : "third";
    x["provider"] = c.provider;
    x["category"] = CookieCategoryName(c.category);
    x["audience"] = c.staff_only ? "staff" : "public";
    x["purpose"] = c.purpose;
    x["expiry"] = {
        {"session", c.session}, {"text", c.ExpiryText()}, {"max_seconds", c.session ? 0 : c.expiry.MaxSeconds()}};
    j["cookies"].push_back(x);
  }
  j["consent_mode"] = r.consent_mode == ConsentMode::kConsent ? "consent" : "statistics-exemption";
  j["children"] = {{"min_age", r.min_age}, {"statement", r.children}};
  j["automated_decisions"] = r.automated_decisions;
  j["security_measures"] = r.security_measures;
  j["complaints_to_us"] = r.complaints_to_us;
  j["complaints"] = r.complaints;
  return j;
}

}  // namespace

std::string Register::Version() const { return HexEncode(crypto::Hash(JsonText(Body(*this))).substr(0, 8)); }

std::string Register::ToJson() const {
  nlohmann::ordered_json j;
  j["version"] = Version();
  auto body = Body(*this);
  for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = it.value();
  j["rights"] = Rights();
  // The right to object, stated apart from the others (Art 21(4)): the public purposes it applies to.
  nlohmann::ordered_json objection = nlohmann::ordered_json::array();
  for (const auto& p : purposes) {
    if (PublicPurpose(p) && (p.basis == LawfulBasis::kPublicTask || p.basis == LawfulBasis::kLegitimateInterests)) {
      objection.push_back(p.id);
    }
  }
  j["objection"] = {{"applies", !objection.empty()}, {"purposes", objection}};
  j["article_14"] =
      std::any_of(datasets.begin(), datasets.end(), [](const Dataset& d) { return d.FromOtherSources(); });
  return JsonText(j, 2);
}

}  // namespace steward::processing
