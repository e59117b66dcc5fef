// Rights requests made on the site (/your-data): the person proves they control the email address
// by a link before anything becomes a case, so no one can open a case in another person's name.
//
// Asking keeps the request sealed under a key of its own, not yet a case, and emails the link
// (sealed under that key too, so the address leads to no one until it is confirmed). Opening the
// link within 24 hours makes the case: received on the day the person asked, with proof of the
// address on the day they confirmed (the month starts then), and emails an acknowledgement with
// the case's reference and the day the answer is due. A request never confirmed is purged with
// its key once its link has expired.
//
// Privacy: the register's dataset of module "rights" ([rights] dataset): the pending request in
// rights_pending, the emails in the mail queue's dataset.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "rights/cases.h"

namespace steward::mail {
class Queue;
struct Settings;
}  // namespace steward::mail

namespace steward::rights {

class Requests {
 public:
  // Everything must outlive this. `base_url` gives the site's address for links.
  Requests(store::Store& store, const crypto::SecretKey& key, const Clock& clock, Cases& cases, mail::Queue& queue,
           const mail::Settings& mail, std::function<std::string()> base_url, std::string site_name);
  ~Requests();

  static std::vector<store::Migration> Migrations();
  static constexpr int kLinkHours = 24;

  // Keeps `c` (channel "web", received today) and emails its link to c.email. Errors:
  // kInvalidArgument ("field: message") as Cases::Open, and for no email address; the mail queue's
  // (kFailedPrecondition for an address that bounced for good).
  Status Ask(const NewCase& c, const Actor& actor);
  // Opens the case at once for a signed-in account holder (their account proves the address), and
  // emails the acknowledgement. Errors: as Cases::Open; kFailedPrecondition when the address
  // cannot be mailed.
  Result<Cases::Opened> OpenSignedIn(const NewCase& c, const Actor& actor);
  // Makes the case from the link's token, once; emails the acknowledgement. Errors: kNotFound for a
  // token unknown, used or expired.
  Result<Cases::Opened> Confirm(std::string_view token, const Actor& actor);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::rights
