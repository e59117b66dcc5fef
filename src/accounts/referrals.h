// Referrals: what a person referred by a partner organisation is told. Their details did not come
// from them, so UK GDPR Article 14 asks that they be told, within a month, who holds what about
// them, from whom, why, on what basis, who it goes to, for how long, and their rights. The text is
// written from the register, so it cannot say other than the notice.
#pragma once

#include <string>
#include <string_view>

#include "accounts/accounts.h"
#include "register/register.h"

namespace steward::accounts {

// The Article 14 email for `referral`: `link` lets the person see the account and set a password
// (valid `link_days`); `privacy_url` is the full notice.
std::string Article14Text(const processing::Register& reg, const Settings& settings, const Referral& referral,
                          std::string_view site_name, std::string_view link, int64_t link_days,
                          std::string_view privacy_url);

}  // namespace steward::accounts
