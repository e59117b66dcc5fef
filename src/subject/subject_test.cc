#include "subject/subject.h"

#include <gtest/gtest.h>

#include "audit/audit.h"
#include "subject/audit_data.h"
#include "subject/restrictions.h"
#include "store/testing/scratch.h"

namespace steward::subject {
namespace {

std::string Normal(KeyKind kind, std::string_view text) {
  auto k = Key::Make(kind, text);
  return k.ok() ? k->value() : "error: " + k.error().message;
}

TEST(KeyTest, NormalisesEachKind) {
  EXPECT_EQ(Normal(KeyKind::kEmail, "  Someone@Example.GOV.uk "), "someone@example.gov.uk");
  EXPECT_EQ(Normal(KeyKind::kAccountId, "staff:12"), "staff:12");
  EXPECT_EQ(Normal(KeyKind::kConsentId, "0123456789ABCDEF0123456789abcdef"), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(Normal(KeyKind::kIpAddress, "::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(Normal(KeyKind::kIpAddress, "203.0.113.77/24"), "203.0.113.0/24");
  EXPECT_EQ(Normal(KeyKind::kIpAddress, "2001:DB8::1/32"), "2001:db8::/32");
  EXPECT_EQ(Normal(KeyKind::kIpAddress, "203.0.113.7/32"), "203.0.113.7");
  EXPECT_EQ(Normal(KeyKind::kTelephone, "020 7946 0000"), "+442079460000");
  EXPECT_EQ(Normal(KeyKind::kTelephone, "+44 (0)20-7946-0000"), "+442079460000");
  EXPECT_EQ(Normal(KeyKind::kTelephone, "+1 202.555.0100"), "+12025550100");
  EXPECT_EQ(Normal(KeyKind::kTelephone, "0033 1 23 45 67 89"), "+33123456789");
  EXPECT_EQ(Normal(KeyKind::kHandle, " X:@ONS "), "x:ons");
  EXPECT_EQ(Normal(KeyKind::kHandle, "webchat:Visitor-4411"), "webchat:visitor-4411");
  EXPECT_EQ(Normal(KeyKind::kSubjectId, "0123456789ABCDEF0123456789abcdef"), "0123456789abcdef0123456789abcdef");
}

TEST(KeyTest, RefusesMalformedIdentifiersWithoutEchoingThem) {
  for (auto [kind, text] :
       std::vector<std::pair<KeyKind, std::string>>{{KeyKind::kEmail, "no-at-sign.example"},
                                                    {KeyKind::kEmail, "a@b@c"},
                                                    {KeyKind::kEmail, "spa ce@x.uk"},
                                                    {KeyKind::kAccountId, "77"},
                                                    {KeyKind::kAccountId, "Staff:12"},
                                                    {KeyKind::kConsentId, "abc"},
                                                    {KeyKind::kVisitorId, "zz23456789abcdef0123456789abcdef"},
                                                    {KeyKind::kIpAddress, "203.0.113.7/4"},
                                                    {KeyKind::kIpAddress, "not.an.address"},
                                                    {KeyKind::kTelephone, "12345"},
                                                    {KeyKind::kTelephone, "call me"},
                                                    {KeyKind::kHandle, "ons"},
                                                    {KeyKind::kHandle, "x:two words"},
                                                    {KeyKind::kHandle, "x y:ons"},
                                                    {KeyKind::kHandle, "x:@"},
                                                    {KeyKind::kSubjectId, "0123"}}) {
    auto k = Key::Make(kind, text);
    ASSERT_FALSE(k.ok()) << text;
    EXPECT_EQ(k.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(k.error().message.find(text), std::string::npos) << k.error().message;
  }
  EXPECT_FALSE(Key::Make(KeyKind::kEmail, std::string(2000, 'a') + "@x.uk").ok());
}

TEST(KeyTest, ParsesKindAndValue) {
  auto k = Key::Parse("ip:198.51.100.0/24");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->kind(), KeyKind::kIpAddress);
  EXPECT_TRUE(k->IsRange());
  auto a = Key::Parse("account:staff:7");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->AccountModule(), "staff");
  EXPECT_EQ(a->AccountId(), "7");
  EXPECT_FALSE(Key::Parse("passport:123").ok());
  for (KeyKind kind : AllKinds()) EXPECT_EQ(ParseKind(KindName(kind)), kind);
}

TEST(KeyTest, PseudonymsAreKeyedAndStable) {
  auto a = Key::Make(KeyKind::kEmail, "a@example.org");
  auto b = Key::Make(KeyKind::kEmail, "A@example.org ");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(Pseudonym(*a, "key one"), Pseudonym(*b, "key one"));
  EXPECT_NE(Pseudonym(*a, "key one"), Pseudonym(*a, "key two"));
  EXPECT_EQ(Pseudonym(*a, "key one").size(), 16u);
}

// A module that links an email to an account, for the directory's following of identifiers.
class Linker : public SubjectData {
 public:
  std::vector<KeyKind> Kinds() const override { return {KeyKind::kEmail}; }
  Result<Finding> Find(const Key& key) override {
    Finding f;
    if (key.value() != "a@example.org") return f;
    f.holdings.push_back({.dataset = "people", .count = 2});
    f.linked.push_back(*Key::Make(KeyKind::kAccountId, "people:1"));
    return f;
  }
  Result<std::vector<Record>> Export(const Key& key) override {
    if (key.value() != "a@example.org") return std::vector<Record>{};
    return std::vector<Record>{{.dataset = "people", .fields = {{"user.contact.email", "Email", key.value()}}}};
  }
  Result<std::vector<Erasure>> Erase(const Key&, const Actor&) override {
    ++erasures;
    return MakeError(ErrorCode::kIo, "disk full");
  }
  Result<int64_t> Restrict(const Key&, bool, const Actor&) override { return int64_t{2}; }
  int erasures = 0;
};

class AccountHolder : public Linker {
 public:
  std::vector<KeyKind> Kinds() const override { return {KeyKind::kAccountId}; }
  Result<Finding> Find(const Key& key) override {
    Finding f;
    if (key.value() == "people:1") f.holdings.push_back({.dataset = "history", .count = 5});
    return f;
  }
  Result<std::vector<Erasure>> Erase(const Key&, const Actor&) override {
    ++erasures;
    return std::vector<Erasure>{{.dataset = "history", .erased = 5}};
  }
};

TEST(DirectoryTest, FollowsLinkedIdentifiersAndKeepsErasingPastAFailure) {
  Linker people;
  AccountHolder history;
  Directory dir;
  dir.Add("people", &people);
  dir.Add("history", &history);
  auto key = Key::Make(KeyKind::kEmail, "a@example.org");
  auto found = dir.Find(*key);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->keys.size(), 2u);
  EXPECT_EQ(found->Total(), 7);
  ASSERT_EQ(found->findings.size(), 2u);
  EXPECT_EQ(found->findings[1].module, "history");
  auto erased = dir.Erase(*key, {});
  ASSERT_FALSE(erased.ok());
  EXPECT_EQ(erased.error().message, "people: disk full");
  EXPECT_EQ(history.erasures, 1);  // the other module still ran
  auto restricted = dir.Restrict(*key, true, {});
  ASSERT_TRUE(restricted.ok());
  EXPECT_EQ(*restricted, 4);
}

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
id = "running"
description = "Run the service"
lawful_basis = "public-task"
[[register.purposes]]
id = "rights"
description = "Answer your data protection rights"
lawful_basis = "legal-obligation"
[[register.datasets]]
id = "audit-trail"
module = "audit"
audience = "staff"
description = "The audit trail"
categories = ["user.identifier.pseudonym"]
subjects = ["staff"]
purposes = ["running"]
retention = "6 years"
[[register.datasets]]
id = "restrictions"
module = "subject"
description = "Which of your data we keep but must not use, while a restriction you asked for lasts"
categories = ["user.identifier.pseudonym"]
subjects = ["people who ask us to restrict their data"]
purposes = ["rights"]
retention = "6 years"
)";

class AuditSubjectsTest : public ::testing::Test {
 protected:
  AuditSubjectsTest()
      : site_([] {
          auto all = audit::Migrations();
          for (auto& m : Restrictions::Migrations()) all.push_back(m);
          return all;
        }()),
        trail_(site_.store(), site_.key(), clock_),
        reg_(*processing::FromDocument(*config::Document::Parse(kRegister, "t.toml"))),
        restrictions_(site_.key(), clock_, &reg_),
        audit_({.module = "audit",
                .store = site_.store(),
                .trail = trail_,
                .restrictions = restrictions_,
                .reg = &reg_,
                .pseudonym_key = PseudonymKey(site_.key())}) {}
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  store::testing::ScratchSite site_;
  audit::Trail trail_;
  processing::Register reg_;
  Restrictions restrictions_;
  AuditSubjects audit_;
};

TEST_F(AuditSubjectsTest, ExportsEntriesNamingTheAccountAndIsExemptFromErasure) {
  ASSERT_TRUE(trail_.Append({.actor = "staff:4", .action = "staff.signin"}).ok());
  ASSERT_TRUE(trail_.Append({.actor = "staff:1", .action = "staff.roles_changed", .target = "staff:4"}).ok());
  ASSERT_TRUE(trail_.Append({.actor = "staff:1", .action = "staff.signin"}).ok());
  auto key = *Key::Make(KeyKind::kAccountId, "staff:4");
  auto found = audit_.Find(key);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->holdings.size(), 1u);
  EXPECT_EQ(found->holdings[0].dataset, "audit-trail");
  EXPECT_EQ(found->holdings[0].count, 2);
  auto records = audit_.Export(key);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].fields[2].value, "staff.roles_changed");
  auto erased = audit_.Erase(key, {.actor = "staff:1"});
  ASSERT_TRUE(erased.ok());
  ASSERT_EQ(erased->size(), 1u);
  EXPECT_EQ((*erased)[0].erased, 0);
  EXPECT_NE((*erased)[0].exemption.find("audit trail"), std::string::npos);
  EXPECT_EQ(audit_.Find(key)->holdings[0].count, 2);
}

TEST_F(AuditSubjectsTest, RestrictionMarksAreSetLiftedAndAuditedByPseudonym) {
  ASSERT_TRUE(trail_.Append({.actor = "staff:4", .action = "staff.signin"}).ok());
  auto key = *Key::Make(KeyKind::kAccountId, "staff:4");
  auto n = audit_.Restrict(key, true, {.actor = "staff:1", .reference = "rights:3"});
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(audit_.Find(key)->holdings[0].restricted);
  ASSERT_TRUE(audit_.Restrict(key, false, {.actor = "staff:1"}).ok());
  EXPECT_FALSE(audit_.Find(key)->holdings[0].restricted);
  auto entries = trail_.List({.action = "subject."});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  for (const auto& e : *entries) {
    for (const auto& [k, v] : e.entry.details) EXPECT_EQ(v.find("staff:4"), std::string::npos) << k;
  }
}

TEST_F(AuditSubjectsTest, RestrictionIsRefusedWhenTheRegisterDeclaresNoMarks) {
  processing::Register none = reg_;
  std::erase_if(none.datasets, [](const processing::Dataset& d) { return d.module == "subject"; });
  Restrictions refusing(site_.key(), clock_, &none);
  auto key = *Key::Make(KeyKind::kAccountId, "staff:4");
  Status s = site_.store().Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(int64_t n, refusing.Set(c, "audit", key, true));
    (void)n;
    return Ok();
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace steward::subject
