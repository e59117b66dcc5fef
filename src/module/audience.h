// Who to tell when the privacy notice changes in a way that affects people: every module that holds
// members of the public's email addresses for a service of theirs (account holders, confirmed
// subscribers) adds a source while starting; the module that tells them (notice-changes), which
// provides this as a module::Services entry before those modules start, calls every source when a
// change is published. A source leaves out anyone restricted or whose objection was upheld.
//
// Thread safety: Add while starting; Sources from any thread once serving.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace steward::module {

class NoticeAudience {
 public:
  // Calls `each` with every address to tell (the same address may come from several sources).
  using Source = std::function<Status(const std::function<void(const std::string& email)>& each)>;

  // `who` says whom it reaches, for the DPO's page: "account holders", "email subscribers".
  void Add(std::string who, Source source) {
    std::lock_guard<std::mutex> lock(mu_);
    sources_.emplace_back(std::move(who), std::move(source));
  }
  std::vector<std::pair<std::string, Source>> Sources() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sources_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, Source>> sources_;
};

}  // namespace steward::module
