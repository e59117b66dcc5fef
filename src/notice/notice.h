// The privacy notice and the cookie table, rendered from the register: what members of the public
// read at /privacy and /cookies. They cannot drift from what Steward does, because both come from
// the same declaration.
//
// The notice covers every item of UK GDPR Article 13, and of Article 14 for datasets that come
// from other organisations: controller and contacts, DPO, purposes and lawful bases, legitimate
// interests, recipients, transfers, retention, rights, withdrawing consent, complaints, whether
// data is required, automated decisions, categories and sources.
#pragma once

#include <functional>
#include <string>

#include "core/result.h"
#include "html/template.h"
#include "http/router.h"
#include "register/register.h"
#include "site/pages.h"
#include "store/store.h"

namespace steward::notice {

// Template data for the notice. `last_updated` is shown as written ("22 November 2026").
html::Object PrivacyData(const processing::Register& reg, const std::string& last_updated);
// Template data for the cookie table, grouped by category, and the choice per optional category
// as a first visit sees it.
html::Object CookiesData(const processing::Register& reg);
// "Do you want to accept analytics cookies?"
std::string CookieQuestion(processing::CookieCategory category);

Result<std::string> RenderPrivacy(const site::Pages& pages, const processing::Register& reg,
                                  const std::string& last_updated);
Result<std::string> RenderCookies(const site::Pages& pages, const processing::Register& reg);

// GET /privacy and /privacy/versions (which reads the stored versions). (/cookies, which carries the
// consent controls, is the consent module's.) `pages`, `reg` and `store` must outlive the router.
void AddRoutes(http::Router& router, const site::Pages& pages, const processing::Register& reg,
               const std::string& last_updated, store::Store& store);

// "email address" for "user.contact.email".
std::string CategoryLabel(const std::string& category);
// "a legal obligation we must meet": a lawful basis as the notice words it.
std::string BasisLabel(processing::LawfulBasis basis);

}  // namespace steward::notice
