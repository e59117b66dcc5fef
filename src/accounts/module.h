// The accounts module's descriptor (module/module.h): its tables, the person's pages under
// /account (register, confirm, sign in, your account, details, consents, download, close, set a
// password), the adviser's pages under /admin/customers, `steward accounts count`, the purge of
// unconfirmed registrations, and its subject data.
#pragma once

#include "module/module.h"

namespace steward::accounts {

module::Descriptor Module();

// The session cookie of the person's pages: "__Host-steward_account" over https.
std::string SessionCookieName(bool https);

}  // namespace steward::accounts
