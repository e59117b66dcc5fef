// The subject-data contract, over every module in the list: for each module that holds personal
// data, data is seeded the way the site collects it, then found, exported, erased, and found again
// (nothing, or the exemption the module declares). The whole site in process, with a fake clock;
// real SQLite files; real ingestion over HTTP where a module collects that way.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "analytics/api_keys.h"
#include "app/modules.h"
#include "app/site.h"
#include "consent/gate.h"
#include "consent/records.h"
#include "http/server.h"
#include "http/testing/raw_client.h"
#include "logs/archive.h"
#include "mail/mail.h"
#include "logs/import.h"
#include "logs/security.h"
#include "staff/accounts.h"
#include "subject/audit_data.h"
#include "in_process_site.h"
#include "store/testing/scratch.h"
#include "disclosures/log.h"
#include "rights/calendar.h"
#include "subjects/subjects.h"
#include "core/days.h"
#include "core/strings.h"

namespace steward {
namespace {

namespace fs = std::filesystem;
using subject::Key;
using subject::KeyKind;

constexpr const char* kUa =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

class SubjectConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(s_.Open("examples/demo.toml", clock_)); }

  // Seeds what `module` would hold about one person, the way the site collects it; returns the key
  // that names them.
  std::optional<Key> Seed(const std::string& module) {
    if (module == "audit") {
      EXPECT_TRUE(s_.site().trail().Append({.actor = "staff:9001", .action = "staff.signin"}).ok());
      return *Key::Make(KeyKind::kAccountId, "staff:9001");
    }
    if (module == "staff") {
      auto* accounts = s_.site().services().Find<staff::Accounts>();
      auto id = accounts->Create("leaver@example.gov.uk", {staff::Role::kAnalyst}, {});
      EXPECT_TRUE(id.ok());
      EXPECT_TRUE(accounts->SetDisabled(*id, true, {}).ok());
      return *Key::Make(KeyKind::kEmail, "Leaver@Example.gov.uk");
    }
    if (module == "consent") {
      consent::CookieGate gate(s_.site().reg());
      consent::Records records(s_.site().store(), clock_, s_.site().key());
      std::string id = consent::NewConsentId();
      for (bool usage : {true, false}) {
        EXPECT_TRUE(records
                        .Record({.consent_id = id,
                                 .notice_version = s_.site().reg().Version(),
                                 .consent_version = gate.version(),
                                 .choices = {{"usage", usage}}})
                        .ok());
      }
      return *Key::Make(KeyKind::kConsentId, id);
    }
    if (module == "analytics") {
      // A visitor who accepted analytics cookies, counted by the identifier cookie over /api/event.
      consent::CookieGate gate(s_.site().reg());
      std::string visitor = crypto::RandomHex(16);
      std::string cookies = "cookies_policy=" + gate.PolicyValue({{"usage", true}}) + "; steward_visitor=" + visitor;
      for (const char* page : {"/", "/guidance"}) {
        std::string body =
            std::string(R"({"n":"pageview","u":"http://www.example.gov.uk)") + page + R"(","d":"www.example.gov.uk"})";
        auto r = http::testing::Fetch(s_.port(), "POST", "/api/event",
                                      {{"Content-Type", "text/plain"}, {"User-Agent", kUa}, {"Cookie", cookies}}, body);
        EXPECT_TRUE(r && r->status == 202 && r->Header("x-plausible-dropped").empty());
      }
      // And one who did not: counted by the day's salt, tied to no one.
      auto r =
          http::testing::Fetch(s_.port(), "POST", "/api/event", {{"Content-Type", "text/plain"}, {"User-Agent", kUa}},
                               R"({"n":"pageview","u":"http://www.example.gov.uk/","d":"www.example.gov.uk"})");
      EXPECT_TRUE(r && r->status == 202);
      return *Key::Make(KeyKind::kVisitorId, visitor);
    }
    if (module == "logs") {
      std::string log = s_.dir().string() + "/access.log";
      {
        std::ofstream out(log);
        for (const char* ip : {"203.0.113.7", "198.51.100.1", "203.0.113.7"}) {
          out << ip << " - - [01/Dec/2026:10:00:00 +0000] \"GET /about HTTP/1.1\" 200 10 \"-\" \"" << kUa << "\"\n";
        }
      }
      logs::Monitor monitor(logs::SecurityRules{}, s_.site().key());
      logs::RawArchive archive(s_.dir().string() + "/logs", s_.site().key());
      logs::Importer importer(s_.site().store(), s_.site().key(), clock_, nullptr, &monitor, &archive);
      auto imported = importer.ImportFile(log, *logs::LogFormat::Preset("combined"));
      EXPECT_TRUE(imported.ok() && imported->imported == 3);
      return *Key::Make(KeyKind::kIpAddress, "203.0.113.7");
    }
    if (module == "feedback") {
      // Someone who wants a reply, through the API as the site's own pages send it.
      for (const char* message : {"The form lost my answers", "Ring me on 020 7946 0000"}) {
        std::string body = std::string(R"({"kind":"contact","page":"/apply","message":")") + message +
                           R"(","name":"Jo Bloggs","email":"Jo@Example.org"})";
        auto r = http::testing::Fetch(s_.port(), "POST", "/api/feedback",
                                      {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "same-origin"}}, body);
        EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
      }
      return *Key::Make(KeyKind::kEmail, "jo@example.org");
    }
    if (module == "messages") {
      // Direct messages, posted by the social-media tool with a key of scope "messages".
      auto* keys = s_.site().services().Find<analytics::ApiKeys>();
      auto key = keys->Create("Social media tool", "staff:1", "", "messages");
      EXPECT_TRUE(key.ok());
      auto r = http::testing::Fetch(
          s_.port(), "POST", "/api/messages",
          {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key->secret}},
          R"({"messages":[{"channel":"x","handle":"@JoBloggs","text":"Is the office open?","time":"2027-01-15T07:00:00Z"},)"
          R"({"channel":"x","handle":"jobloggs","text":"Thanks","time":"2027-01-15T07:05:00Z"}]})");
      EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
      return *Key::Make(KeyKind::kHandle, "x:jobloggs");
    }
    if (module == "mail") {
      // A message waiting in the outbound queue (the demo's relay is not running).
      auto* queue = s_.site().services().Find<mail::Queue>();
      auto settings = mail::ReadSettings(*s_.config().document, s_.site().reg());
      EXPECT_TRUE(queue != nullptr && settings.ok() && settings->has_value());
      EXPECT_TRUE(
          queue->Enqueue({.to = "Mailed@Example.org", .subject = "Your reply", .text = "Thank you."}, **settings).ok());
      return *Key::Make(KeyKind::kEmail, "mailed@example.org");
    }
    if (module == "subscriptions") {
      // A sign-up on the public form, waiting for its confirmation.
      auto r = http::testing::Fetch(
          s_.port(), "POST", "/subscriptions",
          {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "same-origin"}},
          "email=Subscriber%40Example.org&topics=statistics&frequency=weekly");
      EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
      return *Key::Make(KeyKind::kEmail, "subscriber@example.org");
    }
    if (module == "accounts") {
      // An account registered on the public form, with the research box ticked.
      auto r = http::testing::Fetch(
          s_.port(), "POST", "/account/register",
          {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "same-origin"}},
          "email=Holder%40Example.org&password=copper+lantern+harbour&name=Account+Holder&consents=research");
      EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
      return *Key::Make(KeyKind::kEmail, "holder@example.org");
    }
    if (module == "rights") {
      // A request recorded by a caseworker, as one that came by letter.
      auto worker = s_.SignedIn("rights-worker@example.gov.uk", {staff::Role::kCaseworker});
      std::string day = DayText(rights::UkDay(clock_.Now()));
      auto r = http::testing::Fetch(s_.port(), "POST", "/admin/rights/new",
                                    {{"Content-Type", "application/x-www-form-urlencoded"},
                                     {"Sec-Fetch-Site", "same-origin"},
                                     {"Cookie", worker.cookie}},
                                    "rights=access&channel=letter&received-day=" + day.substr(8, 2) +
                                        "&received-month=" + day.substr(5, 2) + "&received-year=" + day.substr(0, 4) +
                                        "&email=Asker%40Example.org&csrf_token=" + worker.csrf);
      EXPECT_TRUE(r && r->status == 303) << (r ? r->body : "no answer");
      return *Key::Make(KeyKind::kEmail, "asker@example.org");
    }
    if (module == "disclosures") {
      // A request from the police about someone, as a DPO records it.
      disclosures::Log log(s_.site().store(), s_.site().trail(), s_.site().key(), clock_);
      auto id = log.Record({.requester = "A police force",
                            .basis = disclosures::Basis::kCrimeAndTaxation,
                            .received = rights::UkDay(clock_.Now()),
                            .people = {*Key::Make(KeyKind::kEmail, "Disclosed@Example.org")},
                            .asked = "Their account"},
                           {.id = "staff:1"});
      EXPECT_TRUE(id.ok());
      return *Key::Make(KeyKind::kEmail, "disclosed@example.org");
    }
    return std::nullopt;
  }

  int64_t Count(const subject::Finding& f) {
    int64_t n = 0;
    for (const auto& h : f.holdings) n += h.count;
    return n;
  }

  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  steward::testing::InProcessSite s_;
};

TEST_F(SubjectConformanceTest, EveryModuleFindsExportsAndErasesWhatItHolds) {
  ASSERT_GE(s_.site().subjects().modules().size(), 5u);
  for (const auto& [module, data] : s_.site().subjects().modules()) {
    SCOPED_TRACE("module " + module);
    auto key = Seed(module);
    ASSERT_TRUE(key.has_value()) << "a module that holds personal data needs a seed in this test";
    auto kinds = data->Kinds();
    ASSERT_NE(std::find(kinds.begin(), kinds.end(), key->kind()), kinds.end());

    auto found = data->Find(*key);
    ASSERT_TRUE(found.ok()) << found.error().message;
    ASSERT_FALSE(found->holdings.empty());
    int64_t held = Count(*found);
    EXPECT_GT(held, 0);
    for (const auto& h : found->holdings) {
      bool declared = std::any_of(s_.site().reg().datasets.begin(), s_.site().reg().datasets.end(),
                                  [&](const processing::Dataset& d) { return d.id == h.dataset; });
      EXPECT_TRUE(declared) << h.dataset << " is a dataset of the register";
    }

    auto records = data->Export(*key);
    ASSERT_TRUE(records.ok()) << records.error().message;
    if (key->kind() != KeyKind::kAccountId || module == "audit") {
      EXPECT_FALSE(records->empty());
    }
    for (const auto& r : *records) {
      EXPECT_FALSE(r.dataset.empty());
      for (const auto& f : r.fields)
        EXPECT_EQ(f.category.rfind("user.", 0), 0u) << f.name << " is named by a data category";
    }

    auto erased = data->Erase(*key, {.actor = "staff:1", .reference = "rights:1"});
    ASSERT_TRUE(erased.ok()) << erased.error().message;
    ASSERT_FALSE(erased->empty());
    auto again = data->Find(*key);
    ASSERT_TRUE(again.ok());
    bool exempt =
        std::all_of(erased->begin(), erased->end(), [](const subject::Erasure& e) { return !e.exemption.empty(); });
    if (exempt) {
      EXPECT_EQ(Count(*again), held) << "kept, as its exemption says";
    } else {
      EXPECT_EQ(Count(*again), 0) << "nothing left after erasure";
      int64_t n = 0;
      for (const auto& e : *erased) n += e.erased + e.anonymised;
      EXPECT_EQ(n, held);
    }
  }
  // Every erasure is on the record, by pseudonym and counts: never the identifier.
  auto entries = s_.site().trail().List({.action = "subject."});
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 10u) << "staff, consent, analytics, logs, feedback, messages, mail, subscriptions and "
                                     "accounts erased; the copies made for rights requests deleted (the requests "
                                     "are exempt); the audit trail and the disclosure log are exempt";
  for (const auto& e : *entries) {
    for (const auto& [k, v] : e.entry.details) {
      for (const char* secret :
           {"leaver@", "203.0.113.7", "staff:9001", "jo@example.org", "jobloggs", "mailed@", "subscriber@", "holder@"})
        EXPECT_EQ(v.find(secret), std::string::npos) << k;
    }
  }
}

TEST_F(SubjectConformanceTest, TheDirectoryFollowsAStaffEmailToTheAuditTrail) {
  auto* accounts = s_.site().services().Find<staff::Accounts>();
  auto id = accounts->Create("person@example.gov.uk", {staff::Role::kDpo}, {.id = "system"});
  ASSERT_TRUE(id.ok());
  auto key = *Key::Make(KeyKind::kEmail, "person@example.gov.uk");
  auto found = s_.site().subjects().Find(key);
  ASSERT_TRUE(found.ok());
  std::set<std::string> modules;
  for (const auto& f : found->findings) modules.insert(f.module);
  EXPECT_TRUE(modules.count("staff")) << "the account";
  EXPECT_TRUE(modules.count("audit")) << "its creation, which names it as the target";
  // Still enabled: the erasure is refused, and nothing is lost.
  auto refused = s_.site().subjects().Erase(key, {.actor = "staff:1"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.error().message.find("person@"), std::string::npos);
  ASSERT_TRUE(accounts->SetDisabled(*id, true, {}).ok());
  auto erased = s_.site().subjects().Erase(key, {.actor = "staff:1"});
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  bool exemption = std::any_of(erased->begin(), erased->end(), [](const subject::Erasure& e) {
    return e.dataset == "audit-trail" && e.exemption == subject::AuditSubjects::kExemption;
  });
  EXPECT_TRUE(exemption) << "the audit trail answers with its exemption";
  EXPECT_FALSE(accounts->FindByEmail("person@example.gov.uk")->has_value());
}

// Erasing a person asks every table that names subject keys whether theirs is still named
// (SubjectStore::DestroyIfUnused): each must answer through an index, not by reading every row,
// or an erasure's time grows with everyone the site holds.
TEST_F(SubjectConformanceTest, EveryTableThatNamesASubjectKeyFindsItByAnIndex) {
  size_t checked = 0;
  const bool postgresql = s_.site().store().backend() == store::Backend::kPostgresql;
  Status read = s_.site().store().Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto tables, c.TableNames());
    for (const auto& table : tables) {
      STEWARD_ASSIGN_OR_RETURN(auto columns, c.Columns(table));
      if (table == subjects::SubjectStore::kKeysTable ||
          std::find(columns.begin(), columns.end(), "subject_id") == columns.end()) {
        continue;
      }
      ++checked;
      // PostgreSQL reads a small table whole when it can; told not to, it still must without an index.
      if (postgresql) STEWARD_RETURN_IF_ERROR(c.ExecScript("SET LOCAL enable_seqscan = off"));
      STEWARD_ASSIGN_OR_RETURN(auto plan, c.Query(std::string(postgresql ? "EXPLAIN" : "EXPLAIN QUERY PLAN") +
                                                      " SELECT 1 FROM " + table + " r WHERE r.subject_id = ?",
                                                  {"x"}));
      std::string text;
      for (const auto& row : plan) text += ToLower(row.Text(row.size() - 1)) + "\n";
      EXPECT_EQ(text.find(postgresql ? "seq scan" : "scan r"), std::string::npos) << table << ":\n" << text;
      EXPECT_NE(text.find("index"), std::string::npos) << table << ":\n" << text;
    }
    return Ok();
  });
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_GE(checked, 10u) << "the demo site's modules name subject keys in many tables";
}

TEST_F(SubjectConformanceTest, AnalyticsSaysWhatItCannotTieToAnyone) {
  auto key = *Key::Make(KeyKind::kVisitorId, crypto::RandomHex(16));
  auto found = s_.site().subjects().Find(key);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->findings.size(), 1u);
  EXPECT_EQ(found->findings[0].finding.holdings[0].count, 0);
  EXPECT_NE(found->findings[0].finding.holdings[0].note.find("cannot be tied to anyone"), std::string::npos);
}

// Erasure reaches the backups: a copy of the database taken before a person was erased, restored
// with the keys backed up after, holds their sealed fields but cannot read them; everyone else's
// still reads.
TEST_F(SubjectConformanceTest, ABackupTakenBeforeAnErasureCannotReadThePersonErased) {
  if (store::testing::OnPostgresql()) GTEST_SKIP() << "steward backup copies SQLite files";
  auto send = [&](const std::string& email, const std::string& message) {
    std::string body =
        R"({"kind":"contact","message":")" + message + R"(","name":"A Person","email":")" + email + R"("})";
    auto r = http::testing::Fetch(s_.port(), "POST", "/api/feedback",
                                  {{"Content-Type", "application/json"}, {"Sec-Fetch-Site", "same-origin"}}, body);
    ASSERT_TRUE(r && r->status == 202);
  };
  send("erased@example.org", "Please forget me");
  send("kept@example.org", "Keep my question");
  std::string copy = (s_.dir() / "before.db").string();
  ASSERT_TRUE(s_.site().store().Backup(copy, subjects::KeyTables()).ok());
  ASSERT_TRUE(subjects::BackUpKeys(s_.site().store(), copy + ".keys").ok());

  auto erased = s_.site().subjects().Erase(*Key::Make(KeyKind::kEmail, "erased@example.org"), {.actor = "staff:1"});
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  std::string later_keys = (s_.dir() / "after.keys").string();
  ASSERT_TRUE(subjects::BackUpKeys(s_.site().store(), later_keys).ok());

  // The old copy, restored with the keys as they are now.
  auto restored = store::Store::Open({.path = copy});
  ASSERT_TRUE(restored.ok());
  auto keys = subjects::RestoreKeys(**restored, later_keys);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  subjects::SubjectStore subjects(s_.site().key(), clock_);
  std::vector<std::string> read;
  int rows = 0;
  ASSERT_TRUE((*restored)
                  ->Read([&](store::Connection& c) -> Status {
                    return c.ForEach("SELECT subject_id, message, email FROM feedback_items ORDER BY id", {},
                                     [&](const store::Row& r) {
                                       ++rows;
                                       auto k = subjects.Keys(c, r.Text(0));
                                       if (!k.ok() || !*k) return true;
                                       for (auto [field, col] : {std::pair{"feedback_items.message", 1},
                                                                 std::pair{"feedback_items.email", 2}}) {
                                         auto opened = (*k)->Open(field, r.Text(col));
                                         if (opened) read.push_back(*opened);
                                       }
                                       return true;
                                     });
                  })
                  .ok());
  EXPECT_EQ(rows, 2) << "the copy still holds both items";
  EXPECT_EQ(read, (std::vector<std::string>{"Keep my question", "kept@example.org"}))
      << "only the person not erased can be read";
}

}  // namespace
}  // namespace steward
