#include "rights/subject_data.h"

#include "core/days.h"
#include "rights/copies.h"

namespace steward::rights {

using subject::Key;

Result<subject::Finding> CaseSubjects::Find(const Key& key) {
  subject::Finding out;
  if (key.kind() != subject::KeyKind::kEmail) return out;
  STEWARD_ASSIGN_OR_RETURN(auto ids, cases_.OfEmail(key.value()));
  if (ids.empty()) return out;
  STEWARD_ASSIGN_OR_RETURN(bool restricted, Restricted(key));
  out.holdings.push_back({.dataset = cases_.settings().dataset.empty() ? Dataset() : cases_.settings().dataset,
                          .count = static_cast<int64_t>(ids.size()),
                          .restricted = restricted});
  return out;
}

Result<std::vector<subject::Record>> CaseSubjects::Export(const Key& key) {
  std::vector<subject::Record> out;
  if (key.kind() != subject::KeyKind::kEmail) return out;
  STEWARD_ASSIGN_OR_RETURN(auto ids, cases_.OfEmail(key.value()));
  std::string dataset = cases_.settings().dataset.empty() ? Dataset() : cases_.settings().dataset;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    // Privacy: rights requests: the person's own requests, for their copy.
    STEWARD_ASSIGN_OR_RETURN(Case c, cases_.Get(*it));
    std::string rights;
    for (Right r : c.rights) rights += (rights.empty() ? "" : ", ") + std::string(RightShort(r));
    subject::Record r{.dataset = dataset, .collected_at = DayText(c.received) + "T00:00:00Z"};
    auto add = [&](const char* category, const char* name, const std::string& value) {
      if (!value.empty()) r.fields.push_back({.category = category, .name = name, .value = value});
    };
    add("user.content", "Your request", c.reference + ": " + rights);
    add("user.contact.name", "Your name", c.name);
    add("user.contact.email", "Your email address", c.email);
    add("user.contact.address", "Your postal address", c.postal_address);
    add("user.content", "What it is about", c.details);
    add("user.content", "Where it stands", c.status == "open" ? "Open, due " + DayText(c.due.day) : c.status);
    add("user.content", "What we did", c.outcome);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<subject::Erasure>> CaseSubjects::Erase(const Key& key, const subject::Actor& actor) {
  std::vector<subject::Erasure> out;
  STEWARD_ASSIGN_OR_RETURN(auto found, Find(key));
  if (found.holdings.empty()) return out;
  STEWARD_ASSIGN_OR_RETURN(auto ids, cases_.OfEmail(key.value()));
  // The copies of their data made for their requests go: the requests themselves stay.
  int64_t copies = 0;
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(copies, Copies::DeleteFor(c, ids));
    return AuditIn(c, "subject.erased", key, actor, {{"copies", std::to_string(copies)}});
  }));
  out.push_back({.dataset = found.holdings.front().dataset, .erased = copies, .exemption = kExemption});
  return out;
}

}  // namespace steward::rights
