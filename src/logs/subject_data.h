// The access logs' part of the subject-data contract (subject/subject.h): the raw lines kept from
// an IP address or range (logs/archive.h). The statistics hold no address, so only the raw lines
// can be found; erasing rewrites the months that hold any under new keys.
//
// Thread safety: safe for concurrent use.
#pragma once

#include "logs/archive.h"
#include "subject/restrictions.h"

namespace steward::logs {

class LogSubjects : public subject::StoredSubjectData {
 public:
  // `archive` null: the site keeps no raw lines (nothing to find). Must outlive this.
  LogSubjects(Deps deps, RawArchive* archive) : StoredSubjectData(std::move(deps)), archive_(archive) {}

  std::vector<subject::KeyKind> Kinds() const override { return {subject::KeyKind::kIpAddress}; }
  Result<subject::Finding> Find(const subject::Key& key) override;
  Result<std::vector<subject::Record>> Export(const subject::Key& key) override;
  Result<std::vector<subject::Erasure>> Erase(const subject::Key& key, const subject::Actor& actor) override;

  // Lines exported at most for one key (a wide range could name most of the archive).
  static constexpr size_t kExportLimit = 1'000'000;

 private:
  RawArchive* archive_;
};

}  // namespace steward::logs
