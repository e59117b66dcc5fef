#include "disclosures/subject_data.h"

#include <set>

#include "core/days.h"

namespace steward::disclosures {

Result<subject::Finding> DisclosureSubjects::Find(const subject::Key& key) {
  subject::Finding out;
  STEWARD_ASSIGN_OR_RETURN(auto ids, log_.About({key}));
  if (ids.empty()) return out;
  STEWARD_ASSIGN_OR_RETURN(bool restricted, Restricted(key));
  std::set<std::string> given;
  bool crime = false;
  for (int64_t id : ids) {
    // Privacy: the disclosure log's plain fields: who asked and whether it was given.
    STEWARD_ASSIGN_OR_RETURN(Disclosure d, log_.Get(id));
    if (d.status == "disclosed") given.insert(d.requester);
    crime = crime || d.basis == Basis::kCrimeAndTaxation;
  }
  out.holdings.push_back({.dataset = dataset_,
                          .count = static_cast<int64_t>(ids.size()),
                          .restricted = restricted,
                          .note = crime ? kCrimeNote : ""});
  out.recipients.assign(given.begin(), given.end());
  return out;
}

Result<std::vector<subject::Record>> DisclosureSubjects::Export(const subject::Key& key) {
  std::vector<subject::Record> out;
  STEWARD_ASSIGN_OR_RETURN(auto ids, log_.About({key}));
  for (int64_t id : ids) {
    // Privacy: the disclosure log: who asked for the person's data and what was given, for their copy.
    STEWARD_ASSIGN_OR_RETURN(Disclosure d, log_.Get(id));
    subject::Record r{.dataset = dataset_, .collected_at = DayText(d.received) + "T00:00:00Z"};
    auto add = [&](const char* name, const std::string& value) {
      if (!value.empty()) r.fields.push_back({.category = "user.content", .name = name, .value = value});
    };
    add("Who asked for your information", d.requester);
    add("When they asked", DayText(d.received));
    add("On what basis", std::string(BasisText(d.basis)));
    add("What they asked for", d.asked);
    if (d.status == "disclosed") {
      std::string what;
      for (const auto& ds : d.datasets) what += (what.empty() ? "" : ", ") + ds;
      add("What we gave them", what);
      add("When we gave it", d.disclosed_at.substr(0, 10));
    } else if (d.status == "refused") {
      add("What we decided", "We refused");
    } else {
      add("What we decided", "Not yet decided");
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<subject::Erasure>> DisclosureSubjects::Erase(const subject::Key& key, const subject::Actor&) {
  std::vector<subject::Erasure> out;
  STEWARD_ASSIGN_OR_RETURN(auto ids, log_.About({key}));
  if (!ids.empty()) out.push_back({.dataset = dataset_, .exemption = kExemption});
  return out;
}

}  // namespace steward::disclosures
