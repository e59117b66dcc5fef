#include "register/versions.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace steward::processing {

const std::vector<store::Migration>& VersionMigrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"register", 1, R"sql(
CREATE TABLE notice_versions (
  version TEXT PRIMARY KEY,
  effective_at TEXT NOT NULL,
  notice_json TEXT NOT NULL
);
CREATE INDEX notice_versions_effective ON notice_versions (effective_at);
)sql"},
  };
  return kMigrations;
}

Result<NoticeVersion> RecordVersion(store::Store& store, const Register& reg, const Clock& clock) {
  NoticeVersion current{reg.Version(), FormatRfc3339Millis(clock.Now()), reg.ToJson()};
  STEWARD_RETURN_IF_ERROR(store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows,
                             c.Query("SELECT effective_at FROM notice_versions WHERE version = ?", {current.version}));
    // A version seen before (a register changed and then changed back) keeps its first date only if
    // it is still the newest; otherwise it takes effect again now.
    STEWARD_ASSIGN_OR_RETURN(auto newest,
                             c.Query("SELECT version FROM notice_versions ORDER BY effective_at DESC LIMIT 1"));
    if (!rows.empty() && !newest.empty() && newest[0].Text(0) == current.version) {
      current.effective_at = rows[0].Text(0);
      return Ok();
    }
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO notice_versions (version, effective_at, notice_json) VALUES (?, ?, ?) "
               "ON CONFLICT (version) DO UPDATE SET effective_at = excluded.effective_at",
               {current.version, current.effective_at, current.notice_json}));
    return Ok();
  }));
  return current;
}

Result<std::vector<NoticeVersion>> ListVersions(store::Store& store) {
  std::vector<NoticeVersion> out;
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT version, effective_at, notice_json FROM notice_versions ORDER BY effective_at DESC", {},
                     [&](const store::Row& r) {
                       out.push_back({r.Text(0), r.Text(1), r.Text(2)});
                       return true;
                     });
  }));
  return out;
}

namespace {

using nlohmann::json;

std::map<std::string, json> ById(const json& list, const char* key = "id") {
  std::map<std::string, json> out;
  if (list.is_array()) {
    for (const auto& item : list) out[item.value(key, "")] = item;
  }
  return out;
}

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

int64_t MaxSeconds(const json& period) {
  if (!period.is_object()) return -1;
  return period.value("years", 0) * 366 * 86400 + period.value("months", 0) * 31 * 86400 +
         period.value("days", 0) * 86400 + period.value("seconds", 0);
}

}  // namespace

std::vector<NoticeChange> ClassifyChanges(const std::string& older_json, const std::string& newer_json) {
  json a = json::parse(older_json, nullptr, false), b = json::parse(newer_json, nullptr, false);
  std::vector<NoticeChange> out;
  // Material: what a person would want to be told before it happens (new uses, new data, new
  // recipients, data kept longer, a changed lawful basis); the rest is editorial.
  auto material = [&](std::string text) { out.push_back({std::move(text), true}); };
  auto editorial = [&](std::string text) { out.push_back({std::move(text), false}); };
  if (!a.is_object() || !b.is_object()) return out;

  auto pa = ById(a["purposes"]), pb = ById(b["purposes"]);
  for (const auto& [id, p] : pb) {
    if (!pa.count(id)) {
      material("A new purpose: " + Str(p, "description") + " (lawful basis: " + Str(p, "lawful_basis") + ")");
    } else if (Str(pa[id], "lawful_basis") != Str(p, "lawful_basis")) {
      material("The lawful basis for \"" + Str(p, "description") + "\" changed from " + Str(pa[id], "lawful_basis") +
               " to " + Str(p, "lawful_basis"));
    } else if (Str(pa[id], "description") != Str(p, "description")) {
      editorial("A purpose is now described as: " + Str(p, "description"));
    }
  }
  for (const auto& [id, p] : pa) {
    if (!pb.count(id)) editorial("A purpose ended: " + Str(p, "description"));
  }

  auto da = ById(a["datasets"]), db = ById(b["datasets"]);
  for (const auto& [id, d] : db) {
    if (!da.count(id)) {
      material("New data collected: " + Str(d, "description") + " (kept " + Str(d["retention"], "text") + ")");
      continue;
    }
    const json& old = da[id];
    std::string before = Str(old["retention"], "text"), after = Str(d["retention"], "text");
    if (before != after) {
      int64_t was = MaxSeconds(old["retention"].value("period", json())),
              now = MaxSeconds(d["retention"].value("period", json()));
      std::string how = was >= 0 && now >= 0 && now < was ? " is now kept for less time: "
                        : was >= 0 && now > was           ? " is now kept longer: "
                                                          : " has a new retention: ";
      // Kept for less time is editorial; longer, or a rule that cannot be compared, is material.
      bool shorter = was >= 0 && now >= 0 && now < was;
      out.push_back({Str(d, "description") + how + after + " (was " + before + ")", !shorter});
    }
    std::set<std::string> ca(old["categories"].begin(), old["categories"].end());
    for (const auto& c : d["categories"]) {
      if (!ca.count(c.get<std::string>())) material(Str(d, "description") + " now includes " + c.get<std::string>());
    }
    std::set<std::string> ra(old["recipients"].begin(), old["recipients"].end());
    for (const auto& r : d["recipients"]) {
      if (!ra.count(r.get<std::string>()))
        material(Str(d, "description") + " is now shared with " + r.get<std::string>());
    }
  }
  for (const auto& [id, d] : da) {
    if (!db.count(id)) editorial("No longer collected: " + Str(d, "description"));
  }

  auto ka = ById(a["cookies"], "name"), kb = ById(b["cookies"], "name");
  for (const auto& [name, k] : kb) {
    if (!ka.count(name)) {
      editorial("A new cookie: " + name + " (" + Str(k, "category") + ", " + Str(k["expiry"], "text") + ")");
    } else if (Str(ka[name]["expiry"], "text") != Str(k["expiry"], "text") ||
               Str(ka[name], "category") != Str(k, "category")) {
      editorial("The cookie " + name + " is now " + Str(k, "category") + ", " + Str(k["expiry"], "text"));
    }
  }
  for (const auto& [name, k] : ka) {
    if (!kb.count(name)) editorial("The cookie " + name + " is no longer used");
  }

  auto wa = ById(a["recipients"]), wb = ById(b["recipients"]);
  for (const auto& [id, r] : wb) {
    if (!wa.count(id)) material("A new recipient: " + Str(r, "name"));
  }
  for (const auto& [id, r] : wa) {
    if (!wb.count(id)) editorial("No longer shared with: " + Str(r, "name"));
  }
  auto ta = ById(a["transfers"]), tb = ById(b["transfers"]);
  for (const auto& [id, t] : tb) {
    if (!ta.count(id)) material("A new international transfer: " + Str(t, "destination"));
  }
  if (a["controller"] != b["controller"]) editorial("The controller's details changed");
  if (a["dpo"] != b["dpo"]) editorial("The data protection officer's contact details changed");
  if (a["consent_mode"] != b["consent_mode"])
    material("How we ask about cookies changed to: " + Str(b, "consent_mode"));
  return out;
}

std::vector<std::string> DescribeChanges(const std::string& older_json, const std::string& newer_json) {
  std::vector<std::string> out;
  for (auto& c : ClassifyChanges(older_json, newer_json)) out.push_back(std::move(c.text));
  return out;
}

bool AnyMaterial(const std::vector<NoticeChange>& changes) {
  return std::any_of(changes.begin(), changes.end(), [](const NoticeChange& c) { return c.material; });
}

std::string LongDate(const std::string& rfc3339) {
  static constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                            "July",    "August",   "September", "October", "November", "December"};
  int y = 0, m = 0, d = 0;
  if (std::sscanf(rfc3339.c_str(), "%d-%d-%d", &y, &m, &d) != 3 || m < 1 || m > 12) return rfc3339;
  return std::to_string(d) + " " + kMonths[m - 1] + " " + std::to_string(y);
}

}  // namespace steward::processing
