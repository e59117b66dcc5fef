#include "feedback/messages.h"

#include <gtest/gtest.h>

#include <sstream>

#include "audit/audit.h"
#include "config/document.h"
#include "store/testing/scratch.h"
#include "subject/restrictions.h"

namespace steward::messages {
namespace {

using subject::Key;
using subject::KeyKind;

TEST(MessagesParseTest, JsonLinesKeepTheGoodAndSayWhyTheRestWereSkipped) {
  std::istringstream in(
      R"({"channel":"x","handle":"@Someone","text":"When is the next GDP release?","time":"2026-11-30T14:05:00Z","thread":"t1","link":"https://x.com/i/1"})"
      "\n"
      "\n"
      R"({"channel":"X Y","handle":"a","text":"t","time":"2026-11-30T14:05:00Z"})"
      "\n"
      R"({"channel":"x","handle":"a","text":"","time":"2026-11-30T14:05:00Z"})"
      "\n"
      R"({"channel":"x","handle":"a","text":"secret words","time":"yesterday"})"
      "\n"
      R"j({"channel":"x","handle":"a","text":"t","time":"2026-11-30T14:05:00Z","link":"javascript:alert(1)"})j"
      "\n"
      "not json at all\n"
      R"({"channel":"x","handle":["a"],"text":"t","time":"2026-11-30T14:05:00Z"})"
      "\n");
  Parsed p = ParseJsonLines(in);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].handle, "@Someone");
  EXPECT_EQ(p.messages[0].thread, "t1");
  ASSERT_EQ(p.skipped.size(), 6u);
  EXPECT_EQ(p.skipped[0].first, 3);
  EXPECT_NE(p.skipped[0].second.find("'channel'"), std::string::npos);
  EXPECT_NE(p.skipped[2].second.find("'time'"), std::string::npos);
  for (const auto& [line, why] : p.skipped) EXPECT_EQ(why.find("secret words"), std::string::npos) << line;
}

TEST(MessagesParseTest, CsvWithQuotedFieldsAndColumnsInAnyOrder) {
  std::istringstream in(
      "time,channel,handle,text\r\n"
      "2026-11-30T14:05:00Z,webchat,visitor-1,\"Hello, is anyone there?\r\nSecond line \"\"quoted\"\"\"\r\n"
      "2026-11-30T14:06:00Z,webchat,,no handle\r\n");
  Parsed p = ParseCsv(in);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].text, "Hello, is anyone there?\r\nSecond line \"quoted\"");
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_EQ(p.skipped[0].first, 4) << "the record's first line";
  std::istringstream headless("a,b\n1,2\n");
  EXPECT_EQ(ParseCsv(headless).skipped.at(0).second, "the header names no 'channel' column");
}

constexpr const char* kRegister = R"(
[register]
stored_in = "the UK"
service = "a test site"
[register.controller]
name = "Test Office"
email = "privacy@example.gov.uk"
[register.dpo]
email = "dpo@example.gov.uk"
[[register.purposes]]
id = "social-media"
description = "Answer what you send us on social media"
lawful_basis = "public-task"
[[register.datasets]]
id = "social-media-messages"
module = "messages"
description = "Messages you send us on social media"
categories = ["user.contact.name", "user.content.messages"]
subjects = ["people who message us"]
purposes = ["social-media"]
retention = "3 months"
)";

TEST(MessagesInboxTest, KeptSealedFoundByHandleAndGoneAfterThreeMonths) {
  std::vector<store::Migration> all = audit::Migrations();
  for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
  for (auto& m : subject::Restrictions::Migrations()) all.push_back(m);
  for (auto& m : Inbox::Migrations()) all.push_back(m);
  store::testing::ScratchSite site(all);
  FakeClock clock{SystemTime(std::chrono::seconds(1'800'000'000))};
  audit::Trail trail(site.store(), site.key(), clock);
  auto reg = *processing::FromDocument(*config::Document::Parse(kRegister, "t.toml"));
  subject::Restrictions restrictions(site.key(), clock, &reg);
  subjects::SealedData data({.module = "messages",
                             .store = site.store(),
                             .trail = trail,
                             .restrictions = restrictions,
                             .reg = &reg,
                             .pseudonym_key = subject::PseudonymKey(site.key())},
                            site.key(), clock, Inbox::SealedTables());
  Inbox inbox(site.store(), site.key(), clock);
  std::string sent = FormatRfc3339(clock.Now());
  ASSERT_EQ(*inbox.Keep({{.channel = "x", .handle = "@Someone", .text = "First", .sent_at = sent},
                         {.channel = "x", .handle = "someone", .text = "Second", .sent_at = sent},
                         {.channel = "x", .handle = "other", .text = "Not theirs", .sent_at = sent}},
                        trail, {.actor = "cli", .action = "messages.imported"}),
            3);
  auto entries = trail.List({.action = "messages."});
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->at(0).entry.details.at(0), (std::pair<std::string, std::string>{"messages", "3"}));
  auto key = *Key::Make(KeyKind::kHandle, "x:@SOMEONE");
  auto found = data.Find(key);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->holdings.size(), 1u);
  EXPECT_EQ(found->holdings[0].dataset, "social-media-messages");
  EXPECT_EQ(found->holdings[0].count, 2);
  auto records = data.Export(key);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].fields[1].value, "@Someone");
  EXPECT_EQ((*records)[0].fields[2].value, "First");
  // Three months on the fake clock: the purge takes them all.
  clock.Advance(std::chrono::hours(24 * 93));
  auto cutoff = FormatRfc3339(clock.Now() - std::chrono::hours(24 * 92));
  int64_t purged = 0;
  ASSERT_TRUE(site.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(purged, Inbox::Storage().purge(c, reg.datasets[0], cutoff, "", false, 0));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(purged, 3);
  EXPECT_TRUE(data.Find(key)->holdings.empty());
}

TEST(MessagesInboxTest, TheCaseworkersInboxListsTriagesAndNotesThem) {
  std::vector<store::Migration> all = audit::Migrations();
  for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
  for (auto& m : Inbox::Migrations()) all.push_back(m);
  store::testing::ScratchSite site(all);
  FakeClock clock{SystemTime(std::chrono::seconds(1'800'000'000))};
  audit::Trail trail(site.store(), site.key(), clock);
  Inbox inbox(site.store(), site.key(), clock);
  ASSERT_TRUE(
      inbox
          .Keep({{.channel = "x", .handle = "@early", .text = "First", .sent_at = "2027-01-10T09:00:00Z"},
                 {.channel = "webchat", .handle = "visitor-7", .text = "Later", .sent_at = "2027-01-12T09:00:00Z"}},
                trail, {.actor = "cli", .action = "messages.imported"})
          .ok());
  auto listed = inbox.List({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->second, 2);
  EXPECT_EQ(listed->first[0].channel, "webchat") << "newest sent first";
  EXPECT_FALSE(listed->first[0].opened) << "the list opens nothing";
  EXPECT_TRUE(listed->first[0].handle.empty());
  EXPECT_EQ(inbox.List({.from = "2027-01-11"})->second, 1);
  EXPECT_EQ(inbox.List({.kind = "problem"})->second, 0) << "feedback kinds select no message";
  EXPECT_EQ(inbox.List({.page = "/"})->second, 0) << "a message has no page";
  int64_t id = listed->first[1].id;
  ASSERT_TRUE(site.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(bool found, inbox.Triage(c, id, "spam", std::string("staff:3")));
                    if (!found) return MakeError(ErrorCode::kNotFound, "no message");
                    STEWARD_ASSIGN_OR_RETURN(found, inbox.AddNote(c, id, {"2027-01-15T08:00:00Z", "staff:3", "A bot"}));
                    return found ? Ok() : MakeError(ErrorCode::kNotFound, "no message");
                  })
                  .ok());
  EXPECT_EQ(inbox.List({})->second, 1) << "spam is kept apart";
  EXPECT_EQ(inbox.List({.status = "spam"})->second, 1);
  auto kept = inbox.Get(id);
  ASSERT_TRUE(kept.ok() && *kept);
  EXPECT_EQ((*kept)->handle, "@early");
  EXPECT_EQ((*kept)->text, "First");
  EXPECT_EQ((*kept)->assignee, "staff:3");
  ASSERT_EQ((*kept)->notes.size(), 1u);
  EXPECT_EQ((*kept)->notes[0].text, "A bot");
  EXPECT_FALSE(*inbox.Get(9999));
}

}  // namespace
}  // namespace steward::messages
