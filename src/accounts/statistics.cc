#include "accounts/statistics.h"

#include <cctype>
#include <map>
#include <memory>
#include <set>

#include "accounts/accounts_impl.h"
#include "core/days.h"

namespace steward::accounts {
namespace {

const std::vector<std::pair<int, std::string>>& Bands() {
  static const std::vector<std::pair<int, std::string>> kBands = {
      {0, "Under 13"},  {13, "13 to 15"}, {16, "16 to 18"}, {19, "19 to 24"},
      {25, "25 to 34"}, {35, "35 to 49"}, {50, "50 to 64"}, {65, "65 and over"}};
  return kBands;
}

// How an account came to be, from who made it: the person online, an adviser, a partner's referral,
// or the service's previous system.
std::string Route(const Accounts::Opened& a) {
  if (!a.source.empty()) return "Referred by a partner";
  if (a.created_by == "self") return "Registered online";
  if (a.created_by.starts_with("staff:")) return "Through an adviser";
  if (a.created_by == "cli") return "Brought from the previous system";
  return "Other";
}

}  // namespace

std::string AgeBand(std::string_view date_of_birth, std::string_view day) {
  if (!internal::ValidDate(date_of_birth) || day.size() < 10 || !internal::ValidDate(day.substr(0, 10))) return "";
  int by = std::stoi(std::string(date_of_birth.substr(0, 4))), bm = std::stoi(std::string(date_of_birth.substr(5, 2))),
      bd = std::stoi(std::string(date_of_birth.substr(8, 2)));
  int y = std::stoi(std::string(day.substr(0, 4))), m = std::stoi(std::string(day.substr(5, 2))),
      d = std::stoi(std::string(day.substr(8, 2)));
  int age = y - by - ((m < bm || (m == bm && d < bd)) ? 1 : 0);
  if (age < 0) return "";
  std::string band;
  for (const auto& [from, name] : Bands()) {
    if (age >= from) band = name;
  }
  return band;
}

std::string PostcodeArea(std::string_view postcode) {
  std::string out;
  for (char ch : postcode) {
    if (!std::isalpha(static_cast<unsigned char>(ch))) break;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  return out.size() <= 2 ? out : "";
}

std::vector<module::Counter> Counters(module::Platform& p) {
  auto settings = ReadSettings(*p.config.document, p.reg);
  if (!settings.ok() || !*settings) return {};
  // The command line's and the pages' Accounts alike send no email: counting only reads.
  auto accounts = std::make_shared<Accounts>(p.store, p.trail, p.key, p.clock, std::move(**settings), nullptr,
                                             std::nullopt, p.base_url, p.config.site.name);
  const Settings& s = accounts->settings();
  module::Counter c{.id = "accounts.registrations", .title = "New accounts", .dataset = s.dataset};
  c.dimensions.push_back({.id = "route",
                          .title = "How they came",
                          .categories = {"Registered online", "Through an adviser", "Referred by a partner",
                                         "Brought from the previous system", "Other"}});
  if (s.referrals) c.dimensions.push_back({.id = "referral-source", .title = "Who referred them"});
  std::string birth, postcode;
  for (const Field& f : s.fields) {
    if (f.special || f.dataset != s.dataset || !f.consent.empty()) continue;
    if (f.type == FieldType::kDate && f.category == "user.demographic.date_of_birth" && birth.empty()) {
      birth = f.id;
      std::vector<std::string> bands;
      for (const auto& [_, name] : Bands()) bands.push_back(name);
      bands.emplace_back("Not known");
      c.dimensions.push_back({.id = "age-band", .title = "Age when they registered", .categories = bands});
    } else if (f.type == FieldType::kPostcode && postcode.empty()) {
      postcode = f.id;
      c.dimensions.push_back({.id = "area", .title = "Postcode area"});
    } else if (f.type == FieldType::kChoice) {
      auto choices = f.choices;
      choices.emplace_back("Not given");
      c.dimensions.push_back({.id = f.id, .title = f.label, .categories = choices});
    }
  }
  crypto::KeyedHash record_keys(internal::DerivedKey(p.key, "cellkeys"));
  auto hashes = std::make_shared<crypto::KeyedHash>(record_keys);
  module::Platform* platform = &p;
  c.scan = [accounts, platform, hashes, birth, postcode](
               int64_t from, int64_t to, std::string_view dimension,
               const std::function<void(const module::Counted&)>& each) -> Status {
    std::set<std::string> fields;
    std::string dim(dimension);
    if (dim == "age-band") fields.insert(birth);
    if (dim == "area") fields.insert(postcode);
    if (accounts->settings().FindField(dim) != nullptr) fields.insert(dim);
    subject::MarkSet marks;
    STEWARD_RETURN_IF_ERROR(platform->store.Read([&](store::Connection& conn) -> Status {
      STEWARD_ASSIGN_OR_RETURN(marks, platform->restrictions.Load(conn, {"accounts"}));
      return Ok();
    }));
    // Privacy: the account's dataset, read for statistics that identify no one; each value opened
    // becomes a category and goes no further.
    return accounts->ForEachOpen(from, to, fields, [&](const Accounts::Opened& a) {
      if (marks.Any({{subject::KeyKind::kAccountId, "accounts:" + std::to_string(a.id)},
                     {subject::KeyKind::kSubjectId, a.subject_id},
                     {subject::KeyKind::kEmail, a.email}})) {
        return;
      }
      auto day = ParseDay(std::string_view(a.created_at).substr(0, 10));
      if (!day) return;
      module::Counted out{.day = *day,
                          .key = static_cast<uint32_t>(hashes->Digest64({"accounts:", std::to_string(a.id)}) & 255u)};
      auto value = [&](const std::string& field) {
        auto it = a.values.find(field);
        return it == a.values.end() ? std::string() : it->second;
      };
      if (dim == "route") {
        out.category = Route(a);
      } else if (dim == "referral-source") {
        out.category = a.source.empty() ? "Not referred" : a.source;
      } else if (dim == "age-band") {
        out.category = AgeBand(value(birth), a.created_at);
        if (out.category.empty()) out.category = "Not known";
      } else if (dim == "area") {
        out.category = PostcodeArea(value(postcode));
        if (out.category.empty()) out.category = "Not given";
      } else if (!dim.empty()) {
        out.category = value(dim);
        if (out.category.empty()) out.category = "Not given";
      }
      each(out);
    });
  };
  return {std::move(c)};
}

Status Accounts::ForEachOpen(int64_t from, int64_t to, const std::set<std::string>& fields,
                             const std::function<void(const Opened&)>& each, bool with_consents) const {
  return impl_->store.Read([&](store::Connection& c) -> Status {
    std::vector<Opened> rows;
    std::vector<std::string> sealed;
    STEWARD_RETURN_IF_ERROR(
        c.ForEach("SELECT a.id, a.subject_id, a.email, a.created_at, a.created_by, "
                  "(SELECT r.source FROM account_referrals r WHERE r.account_id = a.id ORDER BY r.id LIMIT 1) "
                  "FROM accounts a WHERE a.state = 'open' AND a.created_at >= ? AND a.created_at < ? ORDER BY a.id",
                  {DayText(from), DayText(to)}, [&](const store::Row& r) {
                    rows.push_back({.id = r.Int(0),
                                    .created_at = r.Text(3),
                                    .created_by = r.Text(4),
                                    .subject_id = r.Text(1),
                                    .source = r.IsNull(5) ? "" : r.Text(5)});
                    sealed.push_back(r.IsNull(2) ? "" : r.Text(2));
                    return true;
                  }));
    for (size_t i = 0; i < rows.size(); ++i) {
      Opened& a = rows[i];
      STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, a.subject_id));
      if (!keys) continue;  // erased meanwhile
      // Privacy: the account's dataset, opened for statistics: the address to check restriction
      // marks, the fields a table breaks the count down by.
      if (!sealed[i].empty()) a.email = keys->Open("accounts.email", sealed[i]).value_or("");
      if (!fields.empty()) {
        STEWARD_ASSIGN_OR_RETURN(auto values, impl_->Values(c, a.id, &*keys));
        for (auto& [field, value] : values) {
          if (fields.count(field)) a.values[field] = std::move(value);
        }
      }
      if (with_consents) {
        // The latest event of each box says whether it is given now.
        std::map<std::string, bool> now;
        STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT box, given FROM account_consents WHERE account_id = ? ORDER BY id",
                                          {a.id}, [&](const store::Row& r) {
                                            now[r.Text(0)] = r.Int(1) != 0;
                                            return true;
                                          }));
        for (const auto& [box, given] : now) {
          if (given) a.consents.insert(box);
        }
      }
      each(a);
    }
    return Ok();
  });
}

}  // namespace steward::accounts
