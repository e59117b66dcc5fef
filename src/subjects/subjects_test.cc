#include "subjects/subjects.h"

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "config/document.h"
#include "store/testing/scratch.h"
#include "subjects/sealed.h"

namespace steward::subjects {
namespace {

using subject::Key;
using subject::KeyKind;

constexpr const char* kRegister = R"(
[register]
stored_in = "the UK"
service = "a test site"
[register.controller]
name = "Test Council"
email = "privacy@example.gov.uk"
[register.dpo]
email = "dpo@example.gov.uk"
[[register.purposes]]
id = "feedback"
description = "Answer and learn from your feedback"
lawful_basis = "public-task"
[[register.datasets]]
id = "notes"
module = "notes"
description = "Notes you send us"
categories = ["user.contact.email", "user.content"]
subjects = ["members of the public"]
purposes = ["feedback"]
retention = "1 year"
)";

// A module's table as a module would keep it: plain columns beside sealed ones.
std::vector<store::Migration> Migrations() {
  auto all = audit::Migrations();
  for (auto& m : SubjectStore::Migrations()) all.push_back(m);
  for (auto& m : subject::Restrictions::Migrations()) all.push_back(m);
  all.push_back({"notes", 1, R"sql(
    CREATE TABLE notes (
      id INTEGER PRIMARY KEY,
      subject_id TEXT NOT NULL,
      received_at TEXT NOT NULL,
      page TEXT NOT NULL,
      email BLOB,
      message BLOB NOT NULL
    );
  )sql"});
  return all;
}

class SubjectStoreTest : public ::testing::Test {
 protected:
  SubjectStoreTest()
      : site_(Migrations()),
        trail_(site_.store(), site_.key(), clock_),
        reg_(*processing::FromDocument(*config::Document::Parse(kRegister, "t.toml"))),
        restrictions_(site_.key(), clock_, &reg_),
        subjects_(site_.key(), clock_),
        data_({.module = "notes",
               .store = site_.store(),
               .trail = trail_,
               .restrictions = restrictions_,
               .reg = &reg_,
               .pseudonym_key = subject::PseudonymKey(site_.key())},
              site_.key(), clock_,
              {{.table = "notes",
                .time_column = "received_at",
                .columns = {{"page", "user.behavior.browsing", "Page", false},
                            {"email", "user.contact.email", "Email address", true},
                            {"message", "user.content", "Message", true}}}}) {}

  // Keeps a note as a module would: the subject found by email (or made), the fields sealed.
  std::string Note(const std::string& email, const std::string& message, const std::string& page = "/about") {
    std::string id;
    Status s = site_.store().Write([&](store::Connection& c) -> Status {
      if (email.empty()) {
        STEWARD_ASSIGN_OR_RETURN(id, subjects_.Create(c));
      } else {
        STEWARD_ASSIGN_OR_RETURN(id, subjects_.ForIdentifier(c, *Key::Make(KeyKind::kEmail, email)));
      }
      STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_.Keys(c, id));
      if (!keys) return MakeError(ErrorCode::kInternal, "no key");
      store::Value sealed_email =
          email.empty() ? store::Value() : store::Value(store::Blob{keys->Seal("notes.email", email)});
      STEWARD_RETURN_IF_ERROR(c.Exec(
          "INSERT INTO notes (subject_id, received_at, page, email, message) VALUES (?, ?, ?, ?, ?)",
          {id, FormatRfc3339(clock_.Now()), page, sealed_email, store::Blob{keys->Seal("notes.message", message)}}));
      return Ok();
    });
    EXPECT_TRUE(s.ok()) << s.error().message;
    return id;
  }

  // Every note's message, opened with its subject's key where there still is one.
  std::vector<std::string> Messages(store::Connection& c) {
    std::vector<std::string> out;
    auto rows = c.Query("SELECT subject_id, message FROM notes ORDER BY id");
    EXPECT_TRUE(rows.ok());
    for (const auto& r : *rows) {
      auto keys = subjects_.Keys(c, r.Text(0));
      EXPECT_TRUE(keys.ok());
      auto opened = *keys ? (*keys)->Open("notes.message", r.Text(1)) : std::nullopt;
      out.push_back(opened.value_or("(unreadable)"));
    }
    return out;
  }

  std::vector<std::string> ReadMessages() {
    std::vector<std::string> out;
    EXPECT_TRUE(site_.store()
                    .Read([&](store::Connection& c) -> Status {
                      out = Messages(c);
                      return Ok();
                    })
                    .ok());
    return out;
  }

  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  store::testing::ScratchSite site_;
  audit::Trail trail_;
  processing::Register reg_;
  subject::Restrictions restrictions_;
  SubjectStore subjects_;
  SealedData data_;
};

TEST_F(SubjectStoreTest, AnIdentifierLeadsToOneSubjectWithoutDecryptingAnything) {
  std::string a = Note("Someone@Example.org", "first");
  std::string b = Note(" someone@example.ORG ", "second");
  std::string c = Note("other@example.org", "third");
  std::string anonymous = Note("", "fourth");
  EXPECT_EQ(a, b) << "the same address, normalised, is the same subject";
  EXPECT_NE(a, c);
  EXPECT_NE(anonymous, a);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(ReadMessages(), (std::vector<std::string>{"first", "second", "third", "fourth"}));
  // Nothing personal in the clear: the index holds keyed hashes, the notes sealed boxes.
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& conn) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT hash FROM subject_identifiers"));
                    EXPECT_EQ(rows.size(), 2u);
                    for (const auto& r : rows) EXPECT_EQ(r.Text(0).find("example.org"), std::string::npos);
                    STEWARD_ASSIGN_OR_RETURN(auto notes, conn.Query("SELECT email, message FROM notes"));
                    for (const auto& r : notes) {
                      EXPECT_EQ(r.Text(0).find("example.org"), std::string::npos);
                      EXPECT_EQ(r.Text(1).find("first"), std::string::npos);
                    }
                    STEWARD_ASSIGN_OR_RETURN(auto keys, conn.Query("SELECT COUNT(*) FROM subject_keys"));
                    EXPECT_EQ(keys.front().Int(0), 3);
                    return Ok();
                  })
                  .ok());
  // A box opens for its own field only.
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& conn) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_.Keys(conn, a));
                    STEWARD_ASSIGN_OR_RETURN(auto rows,
                                             conn.Query("SELECT email FROM notes WHERE subject_id = ?", {a}));
                    EXPECT_EQ(keys->Open("notes.email", rows.front().Text(0)), "Someone@Example.org")
                        << "as the person wrote it";
                    EXPECT_FALSE(keys->Open("notes.message", rows.front().Text(0)).has_value());
                    STEWARD_ASSIGN_OR_RETURN(auto other, subjects_.Keys(conn, c));
                    EXPECT_FALSE(other->Open("notes.email", rows.front().Text(0)).has_value());
                    return Ok();
                  })
                  .ok());
}

TEST_F(SubjectStoreTest, AnIdentifierOfAnotherSubjectIsNotTakenOver) {
  std::string a = Note("a@example.org", "a");
  std::string b = Note("b@example.org", "b");
  Status s = site_.store().Write([&](store::Connection& c) -> Status {
    return subjects_.Link(c, a, *Key::Make(KeyKind::kEmail, "b@example.org"));
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.error().message.find("b@example.org"), std::string::npos) << "never the identifier";
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    return subjects_.Link(c, a, *Key::Make(KeyKind::kTelephone, "020 7946 0000"));
                  })
                  .ok());
  auto found = data_.Find(*Key::Make(KeyKind::kTelephone, "+44 20 7946 0000"));
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->holdings.size(), 1u);
  EXPECT_EQ(found->holdings[0].dataset, "notes");
  EXPECT_EQ(found->holdings[0].count, 1);
  (void)b;
}

TEST_F(SubjectStoreTest, FindExportAndRectifyThroughTheContract) {
  std::string id = Note("someone@example.org", "The form lost my answers", "/apply");
  Note("someone@example.org", "Thank you", "/done");
  Note("other@example.org", "Not theirs");
  auto key = *Key::Make(KeyKind::kEmail, "someone@example.org");
  auto found = data_.Find(key);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->holdings.size(), 1u);
  EXPECT_EQ(found->holdings[0].count, 2);
  EXPECT_EQ(data_.Find(*Key::Make(KeyKind::kSubjectId, id))->holdings[0].count, 2) << "by the subject's id too";
  auto records = data_.Export(key);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  const auto& first = (*records)[0];
  EXPECT_EQ(first.dataset, "notes");
  ASSERT_EQ(first.fields.size(), 3u);
  EXPECT_EQ(first.fields[0].value, "/apply");
  EXPECT_EQ(first.fields[1].category, "user.contact.email");
  EXPECT_EQ(first.fields[1].value, "someone@example.org");
  EXPECT_EQ(first.fields[2].value, "The form lost my answers");

  // A corrected address is sealed in place of the old, and leads to the same person instead.
  auto changed = data_.Rectify(key, "user.contact.email", "Someone.Else@example.org", {.actor = "staff:1"});
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(*changed, 2);
  EXPECT_TRUE(data_.Find(key)->holdings.empty()) << "the old address leads nowhere";
  auto now = data_.Export(*Key::Make(KeyKind::kEmail, "someone.else@example.org"));
  ASSERT_EQ(now->size(), 2u);
  EXPECT_EQ((*now)[1].fields[1].value, "Someone.Else@example.org");
  EXPECT_EQ(data_.Rectify(key, "user.financial", "x", {}).error().code, ErrorCode::kFailedPrecondition)
      << "a category the module does not hold";
  EXPECT_EQ(data_.Rectify(*Key::Make(KeyKind::kSubjectId, id), "user.contact.email", "not an address", {}).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(SubjectStoreTest, ErasureDestroysTheKeySoACopyTakenBeforeCannotBeRead) {
  std::string id = Note("someone@example.org", "My reference is AB123456C");
  Note("other@example.org", "Keep this one");
  // A copy of everything as it stood, as a backup would hold it (the keys included).
  std::vector<store::Row> notes, keys;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(notes, c.Query("SELECT subject_id, message FROM notes ORDER BY id"));
                    STEWARD_ASSIGN_OR_RETURN(keys, c.Query("SELECT id, data_key, created_at FROM subject_keys"));
                    return Ok();
                  })
                  .ok());
  auto erased = data_.Erase(*Key::Make(KeyKind::kEmail, "someone@example.org"), {.actor = "staff:1"});
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  ASSERT_EQ(erased->size(), 1u);
  EXPECT_EQ((*erased)[0].erased, 1);
  EXPECT_EQ(ReadMessages(), (std::vector<std::string>{"Keep this one"}));
  // The rows come back from the copy; the erased person's key does not (the keys are backed up
  // apart, and the current keys are what a restore reads them with): their message cannot be read.
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM notes"));
                    for (const auto& r : notes) {
                      STEWARD_RETURN_IF_ERROR(
                          c.Exec("INSERT INTO notes (subject_id, received_at, page, message) VALUES (?, 'x', '/', ?)",
                                 {r.Text(0), store::Blob{r.Text(1)}}));
                    }
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(ReadMessages(), (std::vector<std::string>{"(unreadable)", "Keep this one"}));
  auto exported = data_.Export(*Key::Make(KeyKind::kSubjectId, id));
  ASSERT_TRUE(exported.ok());
  ASSERT_EQ(exported->size(), 1u);
  EXPECT_NE((*exported)[0].fields.back().value.find("erased"), std::string::npos);
  // Even the old wrapped key, put back, opens nothing else: it was wrapped for its own id only.
  for (const auto& k : keys) {
    if (k.Text(0) == id) {
      EXPECT_EQ(k.Text(1).size(), 24u + 32u + 16u);
    }
  }
  // The erasure is audited by pseudonym and counts.
  auto entries = trail_.List({.action = "subject."});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  for (const auto& [k, v] : (*entries)[0].entry.details) EXPECT_EQ(v.find("someone"), std::string::npos);
}

TEST_F(SubjectStoreTest, AKeyAnotherModuleStillUsesOutlivesOneModulesErasure) {
  std::string id = Note("someone@example.org", "hello");
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_RETURN_IF_ERROR(
                        c.ExecScript("CREATE TABLE other_module (subject_id TEXT NOT NULL, note TEXT)"));
                    STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO other_module (subject_id) VALUES (?)", {id}));
                    return Ok();
                  })
                  .ok());
  ASSERT_TRUE(data_.Erase(*Key::Make(KeyKind::kSubjectId, id), {}).ok());
  int64_t keys = -1;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(keys, SubjectStore::Count(c));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(keys, 1) << "the other module's row still names the subject";
}

TEST_F(SubjectStoreTest, TheSweepDestroysOnlyOldKeysNothingNames) {
  Note("kept@example.org", "kept");
  std::string orphan, fresh;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(orphan,
                                             subjects_.ForIdentifier(c, *Key::Make(KeyKind::kHandle, "x:@someone")));
                    return Ok();
                  })
                  .ok());
  clock_.Advance(std::chrono::hours(48));
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(fresh, subjects_.Create(c));
                    return Ok();
                  })
                  .ok());
  int64_t swept = -1, left = -1;
  std::optional<std::string> handle;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(swept,
                                             subjects_.Sweep(c, FormatRfc3339(clock_.Now() - std::chrono::hours(24))));
                    STEWARD_ASSIGN_OR_RETURN(left, SubjectStore::Count(c));
                    STEWARD_ASSIGN_OR_RETURN(handle, subjects_.Lookup(c, *Key::Make(KeyKind::kHandle, "x:someone")));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(swept, 1) << "the old key no row names";
  EXPECT_EQ(left, 2) << "the note's subject, and the key made within the day";
  EXPECT_FALSE(handle.has_value()) << "its identifiers went with it";
  EXPECT_EQ(ReadMessages(), (std::vector<std::string>{"kept"}));
}

// The sweep finds the unused keys on a reader, while writes go on, and destroys them on the writer
// only if nothing named them meanwhile: someone who writes again in between keeps their key.
TEST_F(SubjectStoreTest, TheSweepSparesAKeyNamedBetweenFindingAndDestroying) {
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    for (const auto& key :
                         {*Key::Make(KeyKind::kEmail, "back@example.org"), *Key::Make(KeyKind::kHandle, "x:@gone")}) {
                      STEWARD_ASSIGN_OR_RETURN(auto id, subjects_.ForIdentifier(c, key));
                      (void)id;
                    }
                    return Ok();
                  })
                  .ok());
  clock_.Advance(std::chrono::hours(48));
  std::vector<std::string> unused;
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(unused,
                                             subjects_.Unused(c, FormatRfc3339(clock_.Now() - std::chrono::hours(24))));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(unused.size(), 2u);
  Note("back@example.org", "I am back");
  int64_t destroyed = -1, left = -1;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(destroyed, subjects_.DestroyUnused(c, unused));
                    STEWARD_ASSIGN_OR_RETURN(left, SubjectStore::Count(c));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(destroyed, 1) << "the handle's key only";
  EXPECT_EQ(left, 1);
  EXPECT_EQ(ReadMessages(), (std::vector<std::string>{"I am back"}));
}

TEST_F(SubjectStoreTest, KeysAreBackedUpApartAndPutBackAfterARestore) {
  std::string kept = Note("kept@example.org", "still here");
  std::string erased = Note("erased@example.org", "asked to be forgotten");
  std::string keys_file = (site_.dir() / "keys.backup").string();
  auto backed = BackUpKeys(site_.store(), keys_file);
  ASSERT_TRUE(backed.ok()) << backed.error().message;
  EXPECT_EQ(*backed, 2);
  EXPECT_EQ(BackUpKeys(site_.store(), keys_file).error().code, ErrorCode::kAlreadyExists) << "never overwrites";
  EXPECT_EQ(std::filesystem::status(keys_file).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  // The keys are lost (a restore of a database copy, which leaves them out), then put back.
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM subject_keys"));
                    STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM subject_identifiers"));
                    return Ok();
                  })
                  .ok());
  EXPECT_EQ(ReadMessages(), (std::vector<std::string>{"(unreadable)", "(unreadable)"}));
  auto restored = RestoreKeys(site_.store(), keys_file);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(*restored, 2);
  EXPECT_EQ(ReadMessages(), (std::vector<std::string>{"still here", "asked to be forgotten"}));
  EXPECT_EQ(data_.Find(*Key::Make(KeyKind::kEmail, "kept@example.org"))->holdings.size(), 1u) << "the index too";
  EXPECT_EQ(*RestoreKeys(site_.store(), keys_file), 0) << "what is here already is left alone";
  // A keys backup taken after an erasure cannot read the erased person's fields in an older copy.
  ASSERT_TRUE(data_.Erase(*Key::Make(KeyKind::kEmail, "erased@example.org"), {}).ok());
  std::string later = (site_.dir() / "keys.later").string();
  EXPECT_EQ(*BackUpKeys(site_.store(), later), 1);
  EXPECT_FALSE(RestoreKeys(site_.store(), (site_.dir() / "missing").string()).ok());
  (void)kept;
  (void)erased;
}

TEST_F(SubjectStoreTest, OnlyIdentifiersOfAPersonAreIndexed) {
  Status s = site_.store().Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(subjects_.ForIdentifier(c, *Key::Make(KeyKind::kIpAddress, "203.0.113.7")));
    return Ok();
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(data_.Find(*Key::Make(KeyKind::kSubjectId, std::string(32, 'a')))->holdings.empty());
}

}  // namespace
}  // namespace steward::subjects
