// The analytics module's part of the subject-data contract (subject/subject.h): the events of a
// visitor who allowed the identifier cookie, found by the cookie's value (the visitor id). Events
// counted without the cookie carry only a hash of a salt destroyed within 48 hours: nothing can tie
// them to anyone, and Find says so.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <functional>

#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "subject/restrictions.h"

namespace steward::analytics {

class AnalyticsSubjects : public subject::StoredSubjectData {
 public:
  // `sites`: the [analytics] domains, each of which hashes the visitor id apart.
  AnalyticsSubjects(Deps deps, const crypto::SecretKey& key, std::vector<std::string> sites);

  std::vector<subject::KeyKind> Kinds() const override { return {subject::KeyKind::kVisitorId}; }
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  // Deletes the visitor's events. The hourly and daily totals already made from them stay: they
  // hold counts, and a visitor sketch from which no one can be read back.
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;

  // Sets or lifts the visitor's mark, then tells `changed` (the ingestion's list of restricted
  // visitors), so that a restricted visitor's next event is not counted.
  Result<int64_t> Restrict(const subject::Key& key, bool on, const subject::Actor& actor) override;
  void OnRestrictionChange(std::function<void()> changed) { changed_ = std::move(changed); }

  // The stored visitor of identifier-cookie value `visitor_id` on `site` (as Analytics stores it).
  static int64_t VisitorHash(std::string_view site, std::string_view visitor_id, std::string_view visitor_key);

 private:
  std::vector<store::Value> Hashes(const subject::Key& key) const;
  std::string visitor_key_;
  std::vector<std::string> sites_;
  std::function<void()> changed_;
};

}  // namespace steward::analytics
