// The copy of a person's data, delivered through a link that only they can open, for a limited
// time: the bundle is kept sealed under the case's key, the link's token is stored as a keyed hash,
// and opening it asks for the email address the request came from (as GOV.UK Notify asks before a
// file is downloaded), compared with the case's keyed hash of it. Five wrong addresses lock the
// link; it works for `days` days (28 unless the site says otherwise) and is purged after.
//
// Privacy: the register's dataset of module "rights" ([rights] dataset): rights_copies holds the
// person's data from every module, sealed under the case's key; it goes when the link expires, when
// the case is purged, and when the person's data is erased.
//
// Thread safety: safe for concurrent use (the store serialises writes).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rights/cases.h"

namespace steward::rights {

class Copies {
 public:
  // Everything must outlive this.
  Copies(store::Store& store, const crypto::SecretKey& key, const Clock& clock, Cases& cases);
  ~Copies();

  static std::vector<store::Migration> Migrations();
  static constexpr int kTries = 5;

  struct Kept {
    std::string token;  // for the link: /your-data/copy/{token}
    SystemTime expires;
  };
  // Keeps `zip` for case `c` in the caller's write, for `days` days.
  Result<Kept> KeepIn(store::Connection& conn, const Case& c, std::string_view zip, int days);

  // Whether the link is one that works (not expired, not locked, not unknown).
  Result<bool> Live(std::string_view token) const;

  struct Download {
    int64_t case_id = 0;
    std::string reference;  // "R-000017", for the file's name
    std::string zip;
  };
  // The copy, for the person who gives the address the request came from; recorded in the case's
  // timeline. Errors: kNotFound for a link unknown, expired or locked; kPermissionDenied for
  // another address (counted: the fifth locks the link).
  Result<Download> Open(std::string_view token, std::string_view email, const Actor& actor);

  // Deletes the copies of the cases `case_ids` (when the person is erased).
  // Returns how many.
  static Result<int64_t> DeleteFor(store::Connection& conn, const std::vector<int64_t>& case_ids);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::rights
