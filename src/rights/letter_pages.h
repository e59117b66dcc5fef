// /admin/rights/{id}/write: what a case says to the person (rights/letters.h), from a draft the
// caseworker reads and edits, emailed through the mail queue sealed under the case's key (the copy
// through a link only the requester opens, rights/copies.h) or printed as a letter. Also what the
// case pages and these share: how a staff page shows its errors, and who acts.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "module/module.h"
#include "module/staff_page.h"
#include "rights/cases.h"
#include "rights/staff_pages.h"

namespace steward::rights {

// The letters' pages. `cases` and what `delivery` points to must outlive them.
std::vector<module::StaffPage> LetterPages(module::Platform& p, Cases& cases, Delivery delivery);

// Whether letters to the person of case `c` can be emailed (the site sends email, and they gave an
// address); otherwise they are printed.
bool WritesEmail(const Delivery& delivery, const Case& c);

// A rights page in the staff layout, with the GOV.UK error summary and each field's message when
// `errors` ("field", "message") is not empty.
http::Response RenderStaff(http::Request& req, module::StaffContext& ctx, std::string_view tmpl, std::string title,
                           html::Object data, const std::vector<std::pair<std::string, std::string>>& errors,
                           int status);

}  // namespace steward::rights
