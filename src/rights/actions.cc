#include "rights/actions.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/strings.h"

namespace steward::rights {
namespace {

// Those to tell of an erasure or a correction (Article 19), by name, each once: the recipients the
// register names for `datasets`, and the organisations the modules recorded giving the person's
// data to (`given`).
std::vector<std::string> RecipientsOf(const processing::Register& reg, const std::set<std::string>& datasets,
                                      const std::vector<std::string>& given) {
  std::set<std::string> names(given.begin(), given.end());
  for (const auto& id : datasets) {
    if (const auto* d = reg.FindDataset(id)) {
      for (const auto& r : d->recipients) {
        if (const auto* rec = reg.FindRecipient(r)) names.insert(rec->name);
      }
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace

Result<std::vector<subject::Record>> Collect(subject::Directory& dir, const Case& c) {
  // Privacy: every dataset of the register: the person's own records, for their request.
  return dir.ExportAll(c.identifiers);
}

Result<std::string> ExportCase(subject::Directory& dir, Cases& cases, const processing::Register& reg,
                               const std::string& site_name, const Case& c, int64_t today, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(auto records, Collect(dir, c));
  STEWARD_ASSIGN_OR_RETURN(
      std::string zip,
      MakeBundle({.request = c, .reg = reg, .site_name = site_name, .records = records, .today = today}));
  std::set<std::string> datasets;
  for (const auto& r : records) datasets.insert(r.dataset);
  STEWARD_RETURN_IF_ERROR(cases.Record(
      c.id, "exported",
      std::to_string(records.size()) + " record(s) from " + std::to_string(datasets.size()) + " dataset(s)", actor));
  return zip;
}

int64_t Erased::Total() const {
  int64_t n = 0;
  for (const auto& e : erasures) n += e.erased + e.anonymised;
  return n;
}

Result<Erased> EraseCase(subject::Directory& dir, Cases& cases, const processing::Register& reg, const Case& c,
                         const Actor& actor) {
  if (c.status != "open") return MakeError(ErrorCode::kFailedPrecondition, c.reference + " is closed");
  if (std::find(c.rights.begin(), c.rights.end(), Right::kErasure) == c.rights.end()) {
    return MakeError(ErrorCode::kFailedPrecondition, c.reference + " does not ask for erasure");
  }
  // Whom the modules' records say the person's data went to, found before anything is erased.
  STEWARD_ASSIGN_OR_RETURN(auto survey, dir.SurveyOf(c.identifiers));
  std::map<std::string, subject::Erasure> by_dataset;
  Status failed = Ok();
  for (const auto& key : c.identifiers) {
    auto erased = dir.Erase(
        key, {.actor = actor.id, .reference = "rights:" + std::to_string(c.id), .request_id = actor.request_id});
    if (!erased.ok()) {
      // The others still run: what was erased stays erased, and the failure is said after.
      if (failed.ok()) failed = erased.error();
      continue;
    }
    for (const auto& e : *erased) {
      auto& slot = by_dataset[e.dataset];
      slot.dataset = e.dataset;
      slot.erased += e.erased;
      slot.anonymised += e.anonymised;
      if (!e.exemption.empty()) slot.exemption = e.exemption;
    }
  }
  Erased out;
  std::set<std::string> reached;
  for (auto& [id, e] : by_dataset) {
    if (e.erased + e.anonymised > 0) reached.insert(id);
    out.erasures.push_back(std::move(e));
  }
  out.recipients = RecipientsOf(reg, reached, survey.recipients);
  std::string text =
      std::to_string(out.Total()) + " record(s) erased or anonymised in " +
      std::to_string(std::count_if(out.erasures.begin(), out.erasures.end(),
                                   [](const subject::Erasure& e) { return e.erased + e.anonymised > 0; })) +
      " dataset(s)";
  for (const auto& e : out.erasures) {
    if (!e.exemption.empty()) text += "; kept: " + e.dataset + " (" + e.exemption + ")";
  }
  if (!out.recipients.empty()) text += "; recipients to tell: " + std::to_string(out.recipients.size());
  STEWARD_RETURN_IF_ERROR(cases.Record(c.id, "erased", text, actor));
  STEWARD_RETURN_IF_ERROR(failed);
  return out;
}

std::vector<std::pair<std::string, std::string>> CorrectableCategories(const processing::Register& reg) {
  static const std::vector<std::pair<std::string, std::string>> kAll = {
      {"user.contact.name", "Name"},
      {"user.contact.email", "Email address"},
      {"user.contact.phone", "Telephone number"},
      {"user.contact.address", "Postal address"},
      {"user.demographic.date_of_birth", "Date of birth"},
      {"user.demographic.location", "Where they live"},
      {"user.employment", "Employment"}};
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [category, label] : kAll) {
    bool declared =
        std::any_of(reg.datasets.begin(), reg.datasets.end(), [&category = category](const processing::Dataset& d) {
          return std::any_of(d.categories.begin(), d.categories.end(), [&](const std::string& named) {
            return category == named || category.rfind(named + ".", 0) == 0;
          });
        });
    if (declared) out.emplace_back(category, label);
  }
  return out;
}

int64_t Corrected::Total() const {
  int64_t n = 0;
  for (const auto& c : corrections) n += c.changed;
  return n;
}

Result<Corrected> RectifyCase(subject::Directory& dir, Cases& cases, const processing::Register& reg, const Case& c,
                              std::string_view category, std::string_view value, const Actor& actor) {
  if (c.status != "open") return MakeError(ErrorCode::kFailedPrecondition, c.reference + " is closed");
  if (std::find(c.rights.begin(), c.rights.end(), Right::kRectification) == c.rights.end()) {
    return MakeError(ErrorCode::kFailedPrecondition, c.reference + " does not ask for a correction");
  }
  auto categories = CorrectableCategories(reg);
  auto known = std::find_if(categories.begin(), categories.end(), [&](const auto& p) { return p.first == category; });
  if (known == categories.end()) return MakeError(ErrorCode::kInvalidArgument, "category: Choose what to correct");
  std::string_view v = Trim(value);
  if (v.empty()) return MakeError(ErrorCode::kInvalidArgument, "value: Enter the correct " + ToLower(known->second));
  if (v.size() > 1000) return MakeError(ErrorCode::kInvalidArgument, "value: Enter 1,000 characters or fewer");
  std::map<std::string, subject::Directory::Correction> by_module;
  for (const auto& key : c.identifiers) {
    // Privacy: every module's record of the person, corrected at their request.
    auto fixed =
        dir.Rectify(key, category, v,
                    {.actor = actor.id, .reference = "rights:" + std::to_string(c.id), .request_id = actor.request_id});
    if (!fixed.ok()) {
      auto e = fixed.error();
      if (e.code == ErrorCode::kInvalidArgument || e.code == ErrorCode::kAlreadyExists) {
        return MakeError(ErrorCode::kInvalidArgument, "value: " + e.message);
      }
      return e;
    }
    for (auto& m : *fixed) {
      auto& slot = by_module[m.module];
      slot.module = m.module;
      for (auto& d : m.datasets) {
        if (std::find(slot.datasets.begin(), slot.datasets.end(), d) == slot.datasets.end()) slot.datasets.push_back(d);
      }
      slot.changed += m.changed;
      if (slot.changed > 0) {
        slot.cannot.clear();
      } else if (slot.cannot.empty()) {
        slot.cannot = m.cannot;
      }
    }
  }
  Corrected out;
  std::set<std::string> reached;
  for (auto& [module, m] : by_module) {
    if (m.changed > 0) reached.insert(m.datasets.begin(), m.datasets.end());
    out.corrections.push_back(std::move(m));
  }
  STEWARD_ASSIGN_OR_RETURN(auto survey, dir.SurveyOf(c.identifiers));
  out.recipients = RecipientsOf(reg, reached, survey.recipients);
  // The new value is in the timeline, sealed under the case's key: the record of what was corrected.
  std::string text =
      known->second + " corrected to \"" + std::string(v) + "\" in " + std::to_string(out.Total()) + " record(s)";
  for (const auto& m : out.corrections) {
    if (m.changed == 0 && !m.cannot.empty()) text += "; not corrected in " + m.module + " (" + m.cannot + ")";
  }
  if (!out.recipients.empty()) text += "; recipients to tell: " + std::to_string(out.recipients.size());
  STEWARD_RETURN_IF_ERROR(cases.Record(c.id, "rectified", text, actor));
  return out;
}

std::vector<Objectable> ObjectablePurposes(const processing::Register& reg) {
  std::vector<Objectable> out;
  for (const auto& p : reg.purposes) {
    if (p.basis != processing::LawfulBasis::kPublicTask && p.basis != processing::LawfulBasis::kLegitimateInterests) {
      continue;
    }
    Objectable o{.purpose = &p};
    for (const auto& d : reg.datasets) {
      bool serves = std::find(d.purposes.begin(), d.purposes.end(), p.id) != d.purposes.end();
      // Staff accounts and the audit trail hold what staff do, not what the public give.
      bool staff = d.module == "staff" || d.module == "audit";
      if (serves && !staff && !d.module.empty() &&
          std::find(o.modules.begin(), o.modules.end(), d.module) == o.modules.end()) {
        o.modules.push_back(d.module);
      }
    }
    if (!o.modules.empty()) out.push_back(std::move(o));
  }
  return out;
}

Result<Objected> ObjectCase(subject::Directory& dir, Cases& cases, const processing::Register& reg, const Case& c,
                            bool upheld, const std::vector<std::string>& purposes, std::string_view reason,
                            const Actor& actor) {
  if (c.status != "open") return MakeError(ErrorCode::kFailedPrecondition, c.reference + " is closed");
  if (std::find(c.rights.begin(), c.rights.end(), Right::kObjection) == c.rights.end()) {
    return MakeError(ErrorCode::kFailedPrecondition, c.reference + " does not object to anything");
  }
  if (purposes.empty()) return MakeError(ErrorCode::kInvalidArgument, "purposes: Choose what the person objects to");
  auto objectable = ObjectablePurposes(reg);
  std::set<std::string> modules;
  std::string names;
  for (const auto& id : purposes) {
    auto it =
        std::find_if(objectable.begin(), objectable.end(), [&](const Objectable& o) { return o.purpose->id == id; });
    if (it == objectable.end()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "purposes: Choose a purpose resting on public task or legitimate "
                       "interests");
    }
    modules.insert(it->modules.begin(), it->modules.end());
    names += (names.empty() ? "" : ", ") + id;
  }
  std::string_view why = Trim(reason);
  if (why.size() > 20000) return MakeError(ErrorCode::kInvalidArgument, "reason: Enter 20,000 characters or fewer");
  Objected out{.upheld = upheld, .purposes = purposes};
  if (!upheld) {
    if (why.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "reason: Enter the compelling grounds that override the person's interests, as they will be "
                       "told");
    }
    STEWARD_RETURN_IF_ERROR(
        cases.Record(c.id, "objection_refused", "Not upheld for " + names + ": " + std::string(why), actor));
    return out;
  }
  // Every identifier the request gave and those they lead to, in each module serving the purposes
  // that can search by it: marked whether or not it holds anything yet, so that nothing more is
  // used from then on.
  std::set<subject::Key> keys(c.identifiers.begin(), c.identifiers.end());
  for (const auto& key : c.identifiers) {
    STEWARD_ASSIGN_OR_RETURN(auto found, dir.Find(key));
    keys.insert(found.keys.begin(), found.keys.end());
  }
  subject::Actor by{.actor = actor.id, .reference = "rights:" + std::to_string(c.id), .request_id = actor.request_id};
  std::set<std::string> touched;
  for (const auto& [module, data] : dir.modules()) {
    if (!modules.count(module)) continue;
    auto kinds = data->Kinds();
    for (const auto& key : keys) {
      if (std::find(kinds.begin(), kinds.end(), key.kind()) == kinds.end()) continue;
      auto n = data->Restrict(key, true, by);
      // A module that cannot restrict says so; the others still run.
      if (!n.ok() && n.error().code == ErrorCode::kFailedPrecondition) continue;
      if (!n.ok()) return n.error();
      out.records += *n;
      touched.insert(module);
    }
  }
  out.modules.assign(touched.begin(), touched.end());
  std::string text = "Upheld for " + names + ": " + std::to_string(out.records) + " record(s) kept, not used";
  if (!out.modules.empty()) {
    text += ", in ";
    for (size_t i = 0; i < out.modules.size(); ++i) text += (i ? ", " : "") + out.modules[i];
  }
  if (!why.empty()) text += ". " + std::string(why);
  STEWARD_RETURN_IF_ERROR(cases.Record(c.id, "objection_upheld", text, actor));
  return out;
}

bool Restricted(const Case& c) {
  bool on = false;
  for (const auto& e : c.timeline) {
    if (e.kind == "restricted") on = true;
    if (e.kind == "restriction_lifted") on = false;
  }
  return on;
}

Result<int64_t> RestrictCase(subject::Directory& dir, Cases& cases, const Case& c, bool on, const Actor& actor) {
  if (c.status != "open") return MakeError(ErrorCode::kFailedPrecondition, c.reference + " is closed");
  bool asked = std::any_of(c.rights.begin(), c.rights.end(),
                           [](Right r) { return r == Right::kRestriction || r == Right::kRectification; });
  if (!asked) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     c.reference + " asks neither for restriction nor for a correction, while which it may be used");
  }
  if (on == Restricted(c)) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     on ? "the data is restricted already" : "the data is not restricted");
  }
  int64_t n = 0;
  for (const auto& key : c.identifiers) {
    STEWARD_ASSIGN_OR_RETURN(int64_t changed, dir.Restrict(key, on,
                                                           {.actor = actor.id,
                                                            .reference = "rights:" + std::to_string(c.id),
                                                            .request_id = actor.request_id}));
    n += changed;
  }
  STEWARD_RETURN_IF_ERROR(cases.Record(c.id, on ? "restricted" : "restriction_lifted",
                                       std::to_string(n) + " record(s) " + (on ? "marked restricted" : "in use again"),
                                       actor));
  return n;
}

}  // namespace steward::rights
