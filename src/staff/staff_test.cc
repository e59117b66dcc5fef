#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "crypto/totp.h"
#include "staff/accounts.h"
#include "staff/roles.h"
#include "staff/sessions.h"
#include "staff/throttle.h"
#include "store/testing/scratch.h"

namespace steward::staff {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(RolesTest, ThePermissionTable) {
  EXPECT_TRUE(RoleGrants(Role::kAdmin, Permission::kManageStaff));
  EXPECT_FALSE(RoleGrants(Role::kDpo, Permission::kManageStaff));
  EXPECT_TRUE(RoleGrants(Role::kDpo, Permission::kReadAudit));
  EXPECT_TRUE(RoleGrants(Role::kAdmin, Permission::kReadAudit));
  EXPECT_FALSE(RoleGrants(Role::kAnalyst, Permission::kReadAudit));
  EXPECT_TRUE(RoleGrants(Role::kAnalyst, Permission::kReadStatistics));
  EXPECT_TRUE(RoleGrants(Role::kSecurity, Permission::kReadSecurity));
  for (Role r : AllRoles()) EXPECT_TRUE(RoleGrants(r, Permission::kSignedIn));
  EXPECT_EQ(JoinRoles({Role::kSecurity, Role::kAdmin, Role::kAdmin}), "admin,security");
  EXPECT_EQ(SplitRoles("dpo, nonsense,analyst,dpo").size(), 2u);
}

// A failed attempt, as accounts make them: begun (charged), then ended as failed.
bool FailOnce(Throttle& t, const std::string& key) {
  EXPECT_EQ(t.Begin({key}).wait, Duration::zero());
  return t.EndFailed(key);
}

TEST(ThrottleTest, DelaysGrowThenLockThenForgive) {
  FakeClock clock(SystemTime(std::chrono::seconds(1'800'000'000)));
  Throttle t(clock, ThrottlePolicy{});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.WaitFor("k"), Duration::zero());
    EXPECT_FALSE(FailOnce(t, "k"));
  }
  EXPECT_EQ(t.WaitFor("k"), Duration(1s)) << "after the free failures, one second";
  clock.Advance(1s);
  EXPECT_FALSE(FailOnce(t, "k"));
  EXPECT_EQ(t.WaitFor("k"), Duration(2s)) << "then doubling";
  for (int i = 0; i < 5; ++i) {
    clock.Advance(60s);
    EXPECT_FALSE(FailOnce(t, "k"));
  }
  clock.Advance(60s);
  EXPECT_TRUE(FailOnce(t, "k")) << "the tenth failure locks";
  EXPECT_EQ(t.WaitFor("k"), Duration(30min));
  EXPECT_EQ(t.WaitFor("other"), Duration::zero()) << "keys are apart";
  clock.Advance(30min);
  EXPECT_EQ(t.WaitFor("k"), Duration::zero());
  ASSERT_EQ(t.Begin({"k"}).wait, Duration::zero());
  t.EndSucceeded("k", /*forget=*/true);
  EXPECT_EQ(t.WaitFor("k"), Duration::zero());
}

// Attempts sent at once, before any has been checked, are charged as they begin: only the free
// failures' worth pass, and refusals are counted, the first one marked.
TEST(ThrottleTest, AttemptsAreChargedBeforeTheyAreChecked) {
  FakeClock clock(SystemTime(std::chrono::seconds(1'800'000'000)));
  Throttle t(clock, ThrottlePolicy{});
  int passed = 0, first = 0;
  for (int i = 0; i < 20; ++i) {
    Attempt a = t.Begin({"account", "client"});
    passed += a.wait == Duration::zero();
    first += a.first_denial;
  }
  EXPECT_EQ(passed, 3) << "the free failures, then a delay";
  EXPECT_EQ(first, 1);
  EXPECT_EQ(t.TakeDenied("account"), 17);
  EXPECT_EQ(t.TakeDenied("account"), 0);
  // A success takes back a client's charge but forgets an account's failures.
  clock.Advance(61min);
  ASSERT_EQ(t.Begin({"client"}).wait, Duration::zero());
  ASSERT_EQ(t.Begin({"client"}).wait, Duration::zero());
  t.EndSucceeded("client", false);
  ASSERT_EQ(t.Begin({"client"}).wait, Duration::zero());
  ASSERT_EQ(t.Begin({"client"}).wait, Duration::zero());
  EXPECT_GT(t.Begin({"client"}).wait, Duration::zero()) << "three charged, one taken back, two more";
}

class StaffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<store::Migration> migrations = audit::Migrations();
    for (const auto& m : Accounts::Migrations()) migrations.push_back(m);
    site_ = std::make_unique<store::testing::ScratchSite>(migrations);
    store_ = &site_->store();
    key_ = &site_->key();
    trail_ = std::make_unique<audit::Trail>(*store_, *key_, clock_);
    auto policy = PasswordPolicy::Load(std::string(STEWARD_SOURCE_DIR) + "/web/generated/common-passwords.txt");
    ASSERT_TRUE(policy.ok()) << policy.error().ToString();
    accounts_ = std::make_unique<Accounts>(*store_, *trail_, clock_, *key_, std::move(*policy));
    sessions_ = std::make_unique<Sessions>(*store_, clock_, *key_);
  }
  void TearDown() override {
    sessions_.reset();
    accounts_.reset();
    trail_.reset();
    site_.reset();
  }
  int64_t MakeStaff(const std::string& email, const std::vector<Role>& roles, const std::string& password) {
    auto id = accounts_->Create(email, roles, {});
    EXPECT_TRUE(id.ok()) << id.error().ToString();
    EXPECT_TRUE(accounts_->SetPassword(*id, password, {}).ok());
    return *id;
  }
  std::vector<std::string> Actions() {
    std::vector<std::string> out;
    auto records = trail_->List({.limit = 500});
    for (const auto& r : *records) out.push_back(r.entry.action + "/" + r.entry.outcome);
    return out;
  }

  std::unique_ptr<store::testing::ScratchSite> site_;
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  crypto::SecretKey* key_ = nullptr;
  store::Store* store_ = nullptr;
  std::unique_ptr<audit::Trail> trail_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<Sessions> sessions_;
};

TEST_F(StaffTest, CreateValidatesAndRefusesDuplicates) {
  EXPECT_EQ(accounts_->Create("not an email", {Role::kAdmin}, {}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(accounts_->Create("a@example.gov.uk", {}, {}).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(accounts_->Create("A@Example.gov.uk ", {Role::kAnalyst}, {.id = "staff:1"}).ok());
  EXPECT_EQ(accounts_->Create("a@example.gov.uk", {Role::kDpo}, {}).error().code, ErrorCode::kAlreadyExists);
  auto found = accounts_->FindByEmail("a@EXAMPLE.gov.uk");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->email, "a@example.gov.uk");
  EXPECT_FALSE((*found)->has_password);
  auto created = trail_->List({.action = "staff.created", .limit = 5});
  ASSERT_EQ(created->size(), 1u);
  EXPECT_EQ(created->front().entry.actor, "staff:1");
  EXPECT_EQ(created->front().entry.target, "staff:1");
  for (const auto& [k, v] : created->front().entry.details)
    EXPECT_EQ(v.find('@'), std::string::npos) << "no email in the trail";
}

TEST_F(StaffTest, PasswordPolicy) {
  EXPECT_NE(accounts_->CheckPassword("short", "a@b.uk").error().message.find("12 characters or more"),
            std::string::npos);
  EXPECT_NE(accounts_->CheckPassword("PasswordPassword", "a@b.uk").error().message.find("too common"),
            std::string::npos)
      << accounts_->CheckPassword("PasswordPassword", "a@b.uk").ok();
  EXPECT_FALSE(accounts_->CheckPassword("jane.smith-garden-lamp", "jane.smith@b.uk").ok());
  EXPECT_TRUE(accounts_->CheckPassword("purple tractor umbrella", "a@b.uk").ok());
  EXPECT_FALSE(accounts_->CheckPassword(std::string(300, 'x'), "a@b.uk").ok());
}

TEST_F(StaffTest, FirstAdminLinkWorksOnceAndOnlyOnAnEmptySite) {
  auto token = accounts_->IssueSetupToken(std::nullopt, {});
  ASSERT_TRUE(token.ok());
  auto link = accounts_->LookupSetupToken(*token);
  ASSERT_TRUE(link.ok());
  EXPECT_FALSE(link->staff_id.has_value());
  EXPECT_EQ(accounts_->CompleteSetup(*token, "boss@example.gov.uk", "short", {}).error().code,
            ErrorCode::kInvalidArgument);
  auto id = accounts_->CompleteSetup(*token, "boss@example.gov.uk", "purple tractor umbrella", {});
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(accounts_->Find(*id)->roles, std::vector<Role>{Role::kAdmin});
  EXPECT_EQ(accounts_->CompleteSetup(*token, "x@example.gov.uk", "purple tractor umbrella", {}).error().code,
            ErrorCode::kNotFound)
      << "used";
  auto second = accounts_->IssueSetupToken(std::nullopt, {});
  EXPECT_EQ(accounts_->CompleteSetup(*second, "y@example.gov.uk", "purple tractor umbrella", {}).error().code,
            ErrorCode::kFailedPrecondition)
      << "the first admin exists already";
}

TEST_F(StaffTest, SetupLinksExpireAfter24Hours) {
  auto id = accounts_->Create("new@example.gov.uk", {Role::kAnalyst}, {});
  auto token = accounts_->IssueSetupToken(*id, {});
  clock_.Advance(24h + 1s);
  EXPECT_EQ(accounts_->LookupSetupToken(*token).error().code, ErrorCode::kNotFound);
  auto fresh = accounts_->IssueSetupToken(*id, {});
  EXPECT_EQ(accounts_->LookupSetupToken(*fresh)->email, "new@example.gov.uk");
  EXPECT_TRUE(accounts_->CompleteSetup(*fresh, "ignored@example.gov.uk", "purple tractor umbrella", {}).ok());
  EXPECT_TRUE(accounts_->Find(*id)->has_password);
}

TEST_F(StaffTest, SignInGivesOneAnswerForEveryKindOfWrong) {
  int64_t id = MakeStaff("jo@example.gov.uk", {Role::kDpo}, "purple tractor umbrella");
  auto ok = accounts_->SignIn("Jo@example.gov.uk", "purple tractor umbrella", "client", {});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->outcome, SignInOutcome::kOk);
  EXPECT_EQ(ok->staff->id, id);
  EXPECT_FALSE(ok->second_factor);
  EXPECT_EQ(accounts_->SignIn("jo@example.gov.uk", "wrong password here", "client", {})->outcome,
            SignInOutcome::kBadCredentials);
  EXPECT_EQ(accounts_->SignIn("nobody@example.gov.uk", "purple tractor umbrella", "client", {})->outcome,
            SignInOutcome::kBadCredentials);
  ASSERT_TRUE(accounts_->Create("new@example.gov.uk", {Role::kAnalyst}, {}).ok());
  EXPECT_EQ(accounts_->SignIn("new@example.gov.uk", "", "client", {})->outcome, SignInOutcome::kBadCredentials)
      << "no password yet";
  MakeStaff("boss@example.gov.uk", {Role::kAdmin}, "orange kettle mountain");
  ASSERT_TRUE(accounts_->SetDisabled(id, true, {}).ok());
  EXPECT_EQ(accounts_->SignIn("jo@example.gov.uk", "purple tractor umbrella", "client", {})->outcome,
            SignInOutcome::kBadCredentials)
      << "disabled";
  auto actions = Actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff.signin/failure"), 4);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff.signin/success"), 1);
}

TEST_F(StaffTest, RepeatedFailuresAreDelayedThenLocked) {
  MakeStaff("jo@example.gov.uk", {Role::kDpo}, "purple tractor umbrella");
  for (int i = 0; i < 10; ++i) {
    auto r = accounts_->SignIn("jo@example.gov.uk", "not the password", "client-" + std::to_string(i), {});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->outcome, SignInOutcome::kBadCredentials) << i;
    if (i >= 2 && i < 9) {
      auto at_once = accounts_->SignIn("jo@example.gov.uk", "still not it", "client-x", {});
      EXPECT_EQ(at_once->outcome, SignInOutcome::kThrottled) << "a try straight after must wait, " << i;
    }
    clock_.Advance(61s);
  }
  auto locked = accounts_->SignIn("jo@example.gov.uk", "purple tractor umbrella", "client-x", {});
  EXPECT_EQ(locked->outcome, SignInOutcome::kThrottled) << "even the right password waits out the lock";
  EXPECT_GT(locked->wait, Duration(25min));
  auto actions = Actions();
  EXPECT_NE(std::find(actions.begin(), actions.end(), "staff.locked/success"), actions.end());
  clock_.Advance(31min);
  EXPECT_EQ(accounts_->SignIn("jo@example.gov.uk", "purple tractor umbrella", "client-x", {})->outcome,
            SignInOutcome::kOk);
}

// A client that keeps trying while throttled writes one audit entry for the refusals, not one each;
// the count of the rest goes with the next attempt that is tried.
TEST_F(StaffTest, RefusedAttemptsAreCountedNotAuditedEach) {
  MakeStaff("jo@example.gov.uk", {Role::kDpo}, "purple tractor umbrella");
  size_t before = Actions().size();
  int refused = 0;
  for (int i = 0; i < 50; ++i) {
    auto r = accounts_->SignIn("jo@example.gov.uk", "not the password", "client", {});
    refused += r->outcome == SignInOutcome::kThrottled;
  }
  EXPECT_EQ(refused, 47) << "three free failures, then a delay";
  auto actions = Actions();
  EXPECT_EQ(actions.size() - before, 4u) << "three failures and one refusal";
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff.signin/denied"), 1);
  clock_.Advance(10s);
  ASSERT_EQ(accounts_->SignIn("jo@example.gov.uk", "purple tractor umbrella", "client", {})->outcome,
            SignInOutcome::kOk);
  auto newest = trail_->List({.limit = 1});
  EXPECT_EQ(newest->front().entry.details.at(0), (std::pair<std::string, std::string>{"refused_before", "46"}));
}

// Each episode of refusals is audited once, not only the first ever: a tried attempt starts the
// count again, for the second factor as for sign-in.
TEST_F(StaffTest, EachEpisodeOfRefusalsIsAuditedOnce) {
  int64_t id = MakeStaff("jo@example.gov.uk", {Role::kDpo}, "purple tractor umbrella");
  ASSERT_TRUE(accounts_->BeginTotp(id, {}).ok());
  auto denied = [&] {
    auto actions = Actions();
    return std::count(actions.begin(), actions.end(), "staff.second_factor/denied");
  };
  for (int episode = 1; episode <= 2; ++episode) {
    for (int i = 0; i < 10; ++i) (void)accounts_->VerifySecondFactor(id, "000000", "client", {});
    EXPECT_EQ(denied(), episode) << "one audit entry for the episode's refusals";
    clock_.Advance(61min);  // the throttle forgets; the next attempt is tried
  }
}

// An IPv6 client changing its address within its /64 is still one client.
TEST_F(StaffTest, AnIpv6NetworkIsThrottledAsOneClient) {
  // Clients get ten free failures; each attempt here is from another address and for another account.
  for (int i = 0; i < 12; ++i) {
    std::string name = "person" + std::to_string(i) + "@example.gov.uk";
    auto r = accounts_->SignIn(name, "not the password", Client("address-" + std::to_string(i), "network-1"), {});
    EXPECT_EQ(r->outcome, i < 10 ? SignInOutcome::kBadCredentials : SignInOutcome::kThrottled) << i;
  }
  auto elsewhere = accounts_->SignIn("x@example.gov.uk", "not the password", Client("address-x", "network-2"), {});
  EXPECT_EQ(elsewhere->outcome, SignInOutcome::kBadCredentials) << "another network is another client";
}

TEST_F(StaffTest, TheLastAdminCannotBeRemoved) {
  int64_t admin = MakeStaff("boss@example.gov.uk", {Role::kAdmin}, "orange kettle mountain");
  EXPECT_EQ(accounts_->SetDisabled(admin, true, {}).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(accounts_->SetRoles(admin, {Role::kDpo}, {}).error().code, ErrorCode::kFailedPrecondition);
  int64_t second = MakeStaff("deputy@example.gov.uk", {Role::kAdmin, Role::kDpo}, "green window bicycle");
  EXPECT_TRUE(accounts_->SetRoles(admin, {Role::kDpo}, {}).ok());
  EXPECT_EQ(accounts_->SetDisabled(second, true, {}).error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(StaffTest, SecondFactorWithTotpAndRecoveryCodes) {
  int64_t id = MakeStaff("jo@example.gov.uk", {Role::kDpo}, "purple tractor umbrella");
  auto secret_b32 = accounts_->BeginTotp(id, {});
  ASSERT_TRUE(secret_b32.ok());
  std::string secret = *crypto::Base32Decode(*secret_b32);
  int64_t now = 1'800'000'000;
  EXPECT_FALSE(accounts_->ConfirmTotp(id, "000000", {}).ok());
  auto codes = accounts_->ConfirmTotp(id, crypto::TotpCode(secret, now), {});
  ASSERT_TRUE(codes.ok()) << codes.error().ToString();
  EXPECT_EQ(codes->size(), 10u);
  EXPECT_TRUE(accounts_->SignIn("jo@example.gov.uk", "purple tractor umbrella", "c", {})->second_factor);

  clock_.Advance(30s);
  std::string code = crypto::TotpCode(secret, now + 30);
  EXPECT_TRUE(*accounts_->VerifySecondFactor(id, code, "c", {}));
  EXPECT_FALSE(*accounts_->VerifySecondFactor(id, code, "c", {})) << "a code works once";
  EXPECT_TRUE(*accounts_->VerifySecondFactor(id, (*codes)[3], "c", {}));
  EXPECT_FALSE(*accounts_->VerifySecondFactor(id, (*codes)[3], "c", {})) << "a recovery code works once";
  EXPECT_FALSE(*accounts_->VerifySecondFactor(id, "123456", "c", {}));
  ASSERT_TRUE(accounts_->DisableTotp(id, {}).ok());
  EXPECT_FALSE(accounts_->SignIn("jo@example.gov.uk", "purple tractor umbrella", "c", {})->second_factor);
}

TEST_F(StaffTest, SessionsExpireWhenIdleOrOld) {
  int64_t id = MakeStaff("jo@example.gov.uk", {Role::kDpo}, "purple tractor umbrella");
  auto cookie = sessions_->Create(
      id, false, DescribeDevice("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"));
  ASSERT_TRUE(cookie.ok());
  auto s = sessions_->Load(*cookie);
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->staff_id, id);
  EXPECT_EQ((*s)->device, "Firefox on Linux");
  // Another cookie value (its first character changed, whatever it was) is no session.
  std::string other = *cookie;
  other[0] = other[0] == '0' ? '1' : '0';
  EXPECT_FALSE(sessions_->Load(other)->has_value());

  // Active every 20 minutes: alive past the idle limit, but not past 12 hours.
  for (int i = 0; i < 35; ++i) {
    clock_.Advance(20min);
    ASSERT_TRUE(sessions_->Load(*cookie)->has_value()) << i;
  }
  clock_.Advance(20min);
  EXPECT_FALSE(sessions_->Load(*cookie)->has_value()) << "12 hours in all";

  auto idle = sessions_->Create(id, false, "curl");
  clock_.Advance(29min);
  EXPECT_TRUE(sessions_->Load(*idle)->has_value());
  clock_.Advance(31min);
  EXPECT_FALSE(sessions_->Load(*idle)->has_value()) << "30 minutes idle";
}

TEST_F(StaffTest, SessionsListEndAndCsrf) {
  int64_t id = MakeStaff("jo@example.gov.uk", {Role::kDpo}, "purple tractor umbrella");
  auto a = sessions_->Create(id, false, "Chrome on Windows");
  auto b = sessions_->Create(id, false, "Safari on iOS");
  auto list = sessions_->ListFor(id);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(sessions_->EndByHandle(id + 1, list->at(0).handle).error().code, ErrorCode::kNotFound) << "only one's own";
  ASSERT_TRUE(sessions_->EndByHandle(id, list->at(0).handle).ok());
  EXPECT_EQ(sessions_->ListFor(id)->size(), 1u);
  ASSERT_TRUE(sessions_->End(*a).ok());
  ASSERT_TRUE(sessions_->End(*b).ok());
  EXPECT_TRUE(sessions_->ListFor(id)->empty());

  std::string token = sessions_->CsrfToken(*a);
  EXPECT_TRUE(sessions_->CheckCsrf(*a, token));
  EXPECT_FALSE(sessions_->CheckCsrf(*b, token)) << "bound to its session";
  EXPECT_FALSE(sessions_->CheckCsrf(*a, ""));
  EXPECT_FALSE(sessions_->CheckCsrf(*a, token.substr(1)));
}

TEST_F(StaffTest, DisablingEndsSessions) {
  MakeStaff("boss@example.gov.uk", {Role::kAdmin}, "orange kettle mountain");
  int64_t id = MakeStaff("jo@example.gov.uk", {Role::kDpo}, "purple tractor umbrella");
  auto cookie = sessions_->Create(id, false, "curl");
  ASSERT_TRUE(accounts_->SetDisabled(id, true, {.id = "staff:1"}).ok());
  EXPECT_FALSE(sessions_->Load(*cookie)->has_value());
}

}  // namespace
}  // namespace steward::staff
