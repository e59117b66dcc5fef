// /your-data: a member of the public asks to see, correct, delete or restrict what the site holds
// about them, to object, to take a copy elsewhere or to withdraw consent (GOV.UK Frontend, working
// without JavaScript). They give their email address, which a link proves they control before the
// request becomes a case (Requests); with their agreement the form also sends the references this
// browser's cookies hold (the consent record's and the analytics visitor cookie's), so that what
// they lead to is found too. The link's page gives the reference and the day the answer is due.
// /your-data/copy/{token} is where the copy of their data is downloaded, by someone who gives the
// address the request came from (Copies).
#pragma once

#include <memory>
#include <string>

#include "http/router.h"
#include "module/module.h"
#include "rights/requests.h"

namespace steward::rights {

class Copies;

class PublicPages {
 public:
  // `visitor_cookie`: the analytics visitor cookie's name ("" when the site counts no visitors).
  // Everything must outlive the pages.
  PublicPages(module::Platform& p, Requests& requests, Copies& copies, std::string visitor_cookie);
  ~PublicPages();
  void AddRoutes(http::Router& router);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace steward::rights
