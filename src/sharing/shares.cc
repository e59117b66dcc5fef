#include "sharing/shares.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "core/days.h"
#include "core/json_text.h"
#include "core/strings.h"

namespace steward::sharing {
namespace {

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

bool Covers(const std::vector<std::string>& categories, const std::string& category) {
  return std::any_of(categories.begin(), categories.end(), [&](const std::string& named) {
    return category == named || category.rfind(named + ".", 0) == 0;
  });
}

}  // namespace

const Partner* Settings::Find(std::string_view id) const {
  for (const auto& p : partners) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

Result<std::optional<Settings>> ReadSettings(const config::Config& config, const processing::Register& reg) {
  config::Problems problems(config.document->path());
  config::Table root = config.document->Root(problems);
  auto table = root.Child("sharing");
  if (!table) return std::optional<Settings>();
  Settings s;
  if (table->String("dataset", s.dataset, /*required=*/true)) {
    const auto* d = reg.FindDataset(s.dataset);
    if (d == nullptr || d->module != "sharing") {
      problems.Add(table->Where("dataset"),
                   "[sharing] 'dataset' names '" + s.dataset + "': name the register's dataset of module \"sharing\"");
    }
  }
  auto accounts = accounts::ReadSettings(*config.document, reg);
  const accounts::Settings* acc = accounts.ok() && *accounts ? &**accounts : nullptr;
  std::set<std::string> ids;
  for (auto& t : table->Children("partners")) {
    Partner p;
    const std::string name = "[[sharing.partners]]";
    if (t.String("id", p.id, /*required=*/true)) {
      bool shaped = !p.id.empty() && std::all_of(p.id.begin(), p.id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      });
      if (!shaped) problems.Add(t.Where("id"), name + " 'id' is lower-case letters, digits and dashes");
      if (!ids.insert(p.id).second) problems.Add(t.Where("id"), name + " 'id' \"" + p.id + "\" is used twice");
    }
    if (t.String("recipient", p.recipient, /*required=*/true)) {
      if (const auto* r = reg.FindRecipient(p.recipient)) {
        p.recipient_name = r->name;
        p.basis = r->basis;
      } else {
        problems.Add(t.Where("recipient"),
                     name + " 'recipient' names '" + p.recipient + "', which the register's recipients do not declare");
      }
    }
    const processing::Dataset* dataset = nullptr;
    if (t.String("dataset", p.dataset, /*required=*/true)) {
      dataset = reg.FindDataset(p.dataset);
      if (dataset == nullptr || dataset->module != "accounts") {
        problems.Add(t.Where("dataset"),
                     name + " 'dataset' names '" + p.dataset + "': name a dataset of module \"accounts\"");
        dataset = nullptr;
      } else if (!p.recipient.empty() && std::find(dataset->recipients.begin(), dataset->recipients.end(),
                                                   p.recipient) == dataset->recipients.end()) {
        problems.Add(t.Where("dataset"), name + " dataset '" + p.dataset + "' does not name recipient '" + p.recipient +
                                             "' among its recipients: the notice must say it is shared");
      }
    }
    t.String("consent", p.consent);
    if (p.basis == "consent" && p.consent.empty()) {
      problems.Add(t.where(),
                   name + " '" + p.id + "': recipient '" + p.recipient +
                       "' rests on consent, so name the accounts' consent box ('consent') that agrees to it");
    }
    if (!p.consent.empty() && (acc == nullptr || acc->FindConsent(p.consent) == nullptr)) {
      problems.Add(t.Where("consent"),
                   name + " 'consent' names '" + p.consent + "', which [accounts] does not declare");
    }
    if (t.StringArray("fields", p.fields, /*required=*/true)) {
      if (p.fields.empty()) problems.Add(t.Where("fields"), name + " 'fields' needs at least one");
      for (const auto& f : p.fields) {
        std::string category;
        if (f == "email") {
          category = "user.contact.email";
        } else if (acc != nullptr && acc->FindField(f) != nullptr) {
          category = acc->FindField(f)->category;
        } else {
          problems.Add(t.Where("fields"), name + " 'fields' names '" + f +
                                              "', which is neither \"email\" nor a field "
                                              "[[accounts.fields]] declares");
          continue;
        }
        if (dataset != nullptr && !Covers(dataset->categories, category)) {
          problems.Add(t.Where("fields"), name + " field '" + f + "' is " + category + ", which dataset '" + p.dataset +
                                              "' does not declare");
        }
      }
    }
    std::string delivery = "api";
    t.String("delivery", delivery);
    if (delivery == "api") {
      p.delivery = Delivery::kApi;
    } else if (delivery == "sealed-file") {
      p.delivery = Delivery::kSealedFile;
      std::string hex;
      if (t.String("public_key", hex, /*required=*/true)) {
        auto key = FromHex(hex);
        if (!key || key->size() != 32) {
          problems.Add(t.Where("public_key"),
                       name + " 'public_key' is the partner's X25519 public key: 64 hexadecimal characters");
        } else {
          p.public_key = *key;
        }
      }
    } else {
      problems.Add(t.Where("delivery"), name + " 'delivery' is \"api\" or \"sealed-file\"");
    }
    if (p.delivery == Delivery::kApi) t.Skip("public_key");
    t.Finish();
    s.partners.push_back(std::move(p));
  }
  table->Finish();
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems.Joined());
  return std::optional<Settings>(std::move(s));
}

Shares::Shares(module::Platform& p, Settings settings, std::shared_ptr<accounts::Accounts> accounts)
    : p_(p), s_(std::move(settings)), accounts_(std::move(accounts)) {
  auto k = p.key.DeriveKey("sharelog");
  hash_key_.assign(reinterpret_cast<const char*>(k.data()), k.size());
}

std::vector<store::Migration> Shares::Migrations() {
  return {{"sharing", 1, R"sql(
-- Privacy: the share log ([sharing] dataset): each share made to a partner, and a keyed hash of each
-- identifier of the people in it (their email address, account and subject), never the values.
CREATE TABLE sharing_shares (
  id INTEGER PRIMARY KEY,
  partner TEXT NOT NULL,
  made_at TEXT NOT NULL,
  made_by TEXT NOT NULL,
  how TEXT NOT NULL,
  people INTEGER NOT NULL
);
CREATE INDEX sharing_shares_made ON sharing_shares (made_at);
CREATE TABLE sharing_people (
  person_hash TEXT NOT NULL,
  share_id INTEGER NOT NULL,
  PRIMARY KEY (person_hash, share_id)
);
CREATE INDEX sharing_people_share ON sharing_people (share_id);
)sql"}};
}

retention::ModuleStorage Shares::Storage() {
  return {.module = "sharing",
          .personal_tables = {"sharing_shares", "sharing_people"},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t) -> Result<int64_t> {
            // Privacy: the share log: shares made before the cut-off, with who was in them.
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows,
                                       c.Query("SELECT COUNT(*) FROM sharing_shares WHERE made_at < ?", {cutoff}));
              return rows.front().Int(0);
            }
            STEWARD_RETURN_IF_ERROR(
                c.Exec("DELETE FROM sharing_people WHERE share_id IN (SELECT id FROM sharing_shares WHERE made_at < ?)",
                       {cutoff}));
            return c.Exec("DELETE FROM sharing_shares WHERE made_at < ?", {cutoff});
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "sharing"; });
              }};
}

std::string Shares::PersonHash(const subject::Key& key) const {
  return HexEncode(crypto::Hash(std::string(subject::KindName(key.kind())) + ":" + key.value(), hash_key_));
}

Result<std::vector<Person>> Shares::Build(const Partner& partner) const {
  subject::MarkSet marks;
  STEWARD_RETURN_IF_ERROR(p_.store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(marks, p_.restrictions.Load(c, {"accounts", "sharing"}));
    return Ok();
  }));
  std::set<std::string> fields(partner.fields.begin(), partner.fields.end());
  std::vector<Person> out;
  // Privacy: the accounts' datasets a partner receives: only the fields declared for it, only of
  // the people it may have.
  STEWARD_RETURN_IF_ERROR(accounts_->ForEachOpen(
      0, *ParseDay("9999-12-31"), fields,
      [&](const accounts::Accounts::Opened& a) {
        if (!partner.consent.empty() && !a.consents.count(partner.consent)) return;
        if (marks.Any({{subject::KeyKind::kAccountId, "accounts:" + std::to_string(a.id)},
                       {subject::KeyKind::kSubjectId, a.subject_id},
                       {subject::KeyKind::kEmail, a.email}})) {
          return;
        }
        Person p{.account = a.id};
        for (const auto& f : partner.fields) {
          if (f == "email") {
            p.fields[f] = a.email;
          } else if (auto it = a.values.find(f); it != a.values.end()) {
            p.fields[f] = it->second;
          }
        }
        out.push_back(std::move(p));
      },
      /*with_consents=*/!partner.consent.empty()));
  return out;
}

Result<std::string> Shares::Make(const Partner& partner, const std::string& actor, const std::string& request_id,
                                 const std::string& how) {
  STEWARD_ASSIGN_OR_RETURN(auto people, Build(partner));
  std::string now = FormatRfc3339(p_.clock.Now());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& person : people) {
    nlohmann::json one = nlohmann::json::object();
    for (const auto& [k, v] : person.fields) one[k] = v;
    list.push_back(std::move(one));
  }
  nlohmann::json out{{"partner", partner.id},  {"recipient", partner.recipient_name}, {"made_at", now},
                     {"basis", partner.basis}, {"dataset", partner.dataset},          {"fields", partner.fields},
                     {"people", list}};
  STEWARD_RETURN_IF_ERROR(p_.store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows,
        c.Query("INSERT INTO sharing_shares (partner, made_at, made_by, how, people) VALUES (?, ?, ?, ?, ?) "
                "RETURNING id",
                {partner.id, FormatRfc3339Millis(p_.clock.Now()), actor, how, static_cast<int64_t>(people.size())}));
    int64_t id = rows.front().Int(0);
    for (const auto& person : people) {
      std::vector<subject::Key> keys;
      if (auto k = subject::Key::Make(subject::KeyKind::kAccountId, "accounts:" + std::to_string(person.account));
          k.ok()) {
        keys.push_back(*k);
      }
      if (auto it = person.fields.find("email"); it != person.fields.end()) {
        if (auto k = subject::Key::Make(subject::KeyKind::kEmail, it->second); k.ok()) keys.push_back(*k);
      }
      for (const auto& k : keys) {
        STEWARD_RETURN_IF_ERROR(
            c.Exec("INSERT INTO sharing_people (person_hash, share_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                   {PersonHash(k), id}));
      }
    }
    return p_.trail.AppendIn(
        c, {.actor = actor,
            .action = "sharing.shared",
            .target = "partner:" + partner.id,
            .request_id = request_id,
            .details = {{"share", std::to_string(id)}, {"people", std::to_string(people.size())}, {"how", how}}});
  }));
  return JsonText(out, 2);
}

Result<std::vector<ShareRecord>> Shares::History(size_t limit) const {
  std::vector<ShareRecord> out;
  STEWARD_RETURN_IF_ERROR(p_.store.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT id, partner, made_at, made_by, how, people FROM sharing_shares ORDER BY id DESC LIMIT ?",
                     {static_cast<int64_t>(limit)}, [&](const store::Row& r) {
                       out.push_back({.id = r.Int(0),
                                      .partner = r.Text(1),
                                      .made_at = r.Text(2),
                                      .made_by = r.Text(3),
                                      .how = r.Text(4),
                                      .people = r.Int(5)});
                       return true;
                     });
  }));
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Shares::About(const subject::Key& key) const {
  std::vector<std::pair<std::string, std::string>> out;
  STEWARD_RETURN_IF_ERROR(p_.store.Read([&](store::Connection& c) -> Status {
    return c.ForEach(
        "SELECT s.partner, s.made_at FROM sharing_people p JOIN sharing_shares s ON s.id = p.share_id "
        "WHERE p.person_hash = ? ORDER BY s.id",
        {PersonHash(key)}, [&](const store::Row& r) {
          out.emplace_back(r.Text(0), r.Text(1));
          return true;
        });
  }));
  return out;
}

Result<int64_t> Shares::Forget(store::Connection& c, const subject::Key& key) const {
  return c.Exec("DELETE FROM sharing_people WHERE person_hash = ?", {PersonHash(key)});
}

Result<subject::Finding> ShareSubjects::Find(const subject::Key& key) {
  subject::Finding out;
  STEWARD_ASSIGN_OR_RETURN(auto shares, shares_.About(key));
  if (shares.empty()) return out;
  STEWARD_ASSIGN_OR_RETURN(bool restricted, Restricted(key));
  std::set<std::string> names;
  for (const auto& [partner, _] : shares) {
    if (const auto* p = shares_.settings().Find(partner)) names.insert(p->recipient_name);
  }
  out.holdings.push_back(
      {.dataset = shares_.settings().dataset, .count = static_cast<int64_t>(shares.size()), .restricted = restricted});
  out.recipients.assign(names.begin(), names.end());
  return out;
}

Result<std::vector<subject::Record>> ShareSubjects::Export(const subject::Key& key) {
  std::vector<subject::Record> out;
  STEWARD_ASSIGN_OR_RETURN(auto shares, shares_.About(key));
  for (const auto& [partner, made_at] : shares) {
    // Privacy: the share log: whom the person's details went to, for their copy.
    const auto* p = shares_.settings().Find(partner);
    std::string fields;
    if (p != nullptr) {
      for (const auto& f : p->fields) fields += (fields.empty() ? "" : ", ") + f;
    }
    out.push_back(
        {.dataset = shares_.settings().dataset,
         .collected_at = made_at,
         .fields = {{.category = "user.content", .name = "Shared with", .value = p ? p->recipient_name : partner},
                    {.category = "user.content", .name = "What was shared", .value = fields}}});
  }
  return out;
}

Result<std::vector<subject::Erasure>> ShareSubjects::Erase(const subject::Key& key, const subject::Actor& actor) {
  std::vector<subject::Erasure> out;
  int64_t n = 0;
  STEWARD_RETURN_IF_ERROR(deps().store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(n, shares_.Forget(c, key));
    if (n == 0) return Ok();
    return AuditIn(c, "subject.erased", key, actor, {{"shares", std::to_string(n)}});
  }));
  if (n > 0) out.push_back({.dataset = shares_.settings().dataset, .erased = n});
  return out;
}

}  // namespace steward::sharing
