// The accounts module's descriptor (module/module.h): its tables, the person's pages under
// /account (register, confirm, sign in with a password and a code from an app or with GOV.UK One
// Login, your account, details, a new email address, security codes, consents, download, close,
// set or reset a password), the adviser's pages under /admin/customers, `steward accounts count`
// and `import`, the purge of unconfirmed registrations and new addresses, and its subject data.
#pragma once

#include "module/module.h"

namespace steward::accounts {

module::Descriptor Module();

// The session cookie of the person's pages: "__Host-steward_account" over https.
std::string SessionCookieName(bool https);

}  // namespace steward::accounts
