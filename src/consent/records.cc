#include "consent/records.h"

#include "http/json_body.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/strings.h"
#include "core/json_text.h"

namespace steward::consent {
namespace {

constexpr struct {
  Method method;
  const char* name;
  const char* title;
} kMethods[] = {
    {Method::kBanner, "banner", "Cookie banner"},
    {Method::kCookiesPage, "cookies-page", "Cookies page"},
    {Method::kScript, "script", "Banner on the site's own pages (steward.js)"},
    {Method::kGpc, "gpc", "Global Privacy Control signal from the browser"},
    {Method::kStaff, "staff", "Recorded by staff"},
};

std::string ChoicesJson(const std::map<std::string, bool>& choices) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : choices) j[k] = v;
  return JsonText(j);
}

std::map<std::string, bool> ParseChoices(const std::string& text) {
  std::map<std::string, bool> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_boolean()) out[it.key()] = it.value().get<bool>();
  }
  return out;
}

ConsentRecord FromRow(const store::Row& r) {
  ConsentRecord c;
  c.at = r.Text(0);
  c.notice_version = r.Text(1);
  c.consent_version = r.Text(2);
  c.choices = ParseChoices(r.Text(3));
  c.method = ParseMethod(r.Text(4)).value_or(Method::kBanner);
  c.recorded_by = r.Text(5);
  return c;
}

}  // namespace

std::string_view MethodName(Method m) {
  for (const auto& x : kMethods) {
    if (x.method == m) return x.name;
  }
  return "";
}

std::string_view MethodTitle(Method m) {
  for (const auto& x : kMethods) {
    if (x.method == m) return x.title;
  }
  return "";
}

std::optional<Method> ParseMethod(std::string_view name) {
  for (const auto& x : kMethods) {
    if (x.name == name) return x.method;
  }
  return std::nullopt;
}

std::string NewConsentId() { return crypto::RandomHex(16); }

bool ValidConsentId(std::string_view id) {
  return id.size() == 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Records::Records(store::Store& store, const Clock& clock, const crypto::SecretKey& key) : store_(store), clock_(clock) {
  auto k = key.DeriveKey("consntid");
  key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
}

std::vector<store::Migration> Records::Migrations() {
  return {{"consent", 1, R"sql(
    -- Privacy: consent-records. One row per cookie choice; the visitor only as a keyed hash of a
    -- random consent id. No IP address, no user agent.
    CREATE TABLE consent_records (
      seq INTEGER PRIMARY KEY,
      consent_key TEXT NOT NULL,
      at TEXT NOT NULL,
      notice_version TEXT NOT NULL,
      consent_version TEXT NOT NULL,
      choices TEXT NOT NULL,
      method TEXT NOT NULL,
      recorded_by TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX consent_records_by_key ON consent_records (consent_key, seq);
    CREATE INDEX consent_records_by_time ON consent_records (at);
  )sql"}};
}

std::string Records::Key(std::string_view consent_id) const { return HexEncode(crypto::Hash(consent_id, key_)); }

Result<store::WriteFn> Records::Insert(ConsentRecord record) {
  if (!ValidConsentId(record.consent_id)) return MakeError(ErrorCode::kInvalidArgument, "malformed consent id");
  std::vector<store::Value> params = {Key(record.consent_id),      FormatRfc3339Millis(clock_.Now()),
                                      record.notice_version,       record.consent_version,
                                      ChoicesJson(record.choices), std::string(MethodName(record.method)),
                                      record.recorded_by};
  // Privacy: consent-records (the write).
  return store::WriteFn([params = std::move(params)](store::Connection& c) -> Status {
    auto inserted = c.Exec(
        "INSERT INTO consent_records (consent_key, at, notice_version, consent_version, choices, "
        "method, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        params);
    if (!inserted.ok()) return inserted.error();
    return Ok();
  });
}

Status Records::Record(ConsentRecord record) {
  STEWARD_ASSIGN_OR_RETURN(store::WriteFn fn, Insert(std::move(record)));
  return store_.Write(fn);
}

Status Records::Record(ConsentRecord record, audit::Trail& trail, const audit::Entry& entry) {
  STEWARD_ASSIGN_OR_RETURN(store::WriteFn fn, Insert(std::move(record)));
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(fn(c));
    return trail.AppendIn(c, entry);
  });
}

Result<std::vector<ConsentRecord>> Records::History(std::string_view consent_id, int limit) {
  std::vector<ConsentRecord> out;
  if (!ValidConsentId(consent_id)) return out;
  // Privacy: consent-records (the read, for the visitor's own choice or staff proof).
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) {
    return c.ForEach(
        "SELECT at, notice_version, consent_version, choices, method, recorded_by FROM consent_records "
        "WHERE consent_key = ? ORDER BY seq DESC LIMIT ?",
        {Key(consent_id), static_cast<int64_t>(limit)}, [&](const store::Row& r) {
          out.push_back(FromRow(r));
          return true;
        });
  }));
  return out;
}

Result<std::optional<ConsentRecord>> Records::Current(std::string_view consent_id) {
  STEWARD_ASSIGN_OR_RETURN(auto history, History(consent_id, 1));
  if (history.empty()) return std::optional<ConsentRecord>();
  return std::optional<ConsentRecord>(std::move(history.front()));
}

retention::ModuleStorage Storage() {
  return {.module = "consent",
          .personal_tables = {"consent_records"},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t limit) -> Result<int64_t> {
            // Privacy: consent-records, deleted once older than the register's retention.
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows,
                                       c.Query("SELECT count(*) FROM consent_records WHERE at < ?", {cutoff}));
              return rows.front().Int(0);
            }
            return retention::DeleteAtMost(c, "consent_records", "seq", "at < ?", {cutoff}, limit);
          },
          .in_use = [](const processing::Register& reg) { return !reg.OptionalCategories().empty(); },
          // The choices, under the random reference in the visitor's steward_consent cookie.
          .stores = {"user.identifier.unique_id", "user.preferences.consent"},
          .batched = true};
}

Result<ChoiceRequest> ReadChoice(std::string_view body, const std::vector<processing::CookieCategory>& categories) {
  auto bad = [](std::string message) { return MakeError(ErrorCode::kInvalidArgument, std::move(message)); };
  STEWARD_ASSIGN_OR_RETURN(nlohmann::json j, http::ParseJson(body));
  if (!j.is_object()) return bad("the body must be a JSON object");
  ChoiceRequest out;
  if (j.contains("method")) {
    auto m = j["method"].is_string() ? ParseMethod(j["method"].get<std::string>()) : std::nullopt;
    if (!m || *m == Method::kGpc || *m == Method::kStaff) return bad("method must be banner, cookies-page or script");
    out.method = *m;
  }
  if (j.contains("additional")) {
    const auto& a = j["additional"];
    if (!a.is_string() || (a != "yes" && a != "no")) return bad("additional must be \"yes\" or \"no\"");
    for (processing::CookieCategory c : categories)
      out.choices[std::string(processing::CookieCategoryName(c))] = a == "yes";
  } else if (j.contains("choices") && j["choices"].is_object()) {
    for (processing::CookieCategory c : categories) {
      std::string name(processing::CookieCategoryName(c));
      if (!j["choices"].contains(name) || !j["choices"][name].is_boolean()) {
        return bad("choices must give true or false for every category: " + name + " is missing");
      }
      out.choices[name] = j["choices"][name].get<bool>();
    }
  } else {
    return bad("give \"additional\": \"yes\" or \"no\", or \"choices\" with a boolean per category");
  }
  return out;
}

}  // namespace steward::consent
