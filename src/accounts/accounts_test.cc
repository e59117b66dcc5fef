// Citizen accounts against the real mail queue and a real SMTP server (aiosmtpd), each email read
// back: registration with a confirmed address, consents given and withdrawn, an adviser acting for
// a customer, closure to the declared minimum and its purge on the fake clock, the age check, the
// site file's checks and the subject-data contract.
#include "accounts/accounts.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

#include "accounts/referrals.h"
#include "accounts/subject_data.h"
#include "audit/audit.h"
#include "config/document.h"
#include "crypto/totp.h"
#include "mail/testing/smtp_server.h"
#include "store/testing/plan.h"
#include "store/testing/scratch.h"
#include "subject/restrictions.h"
#include "subjects/subjects.h"

namespace steward::accounts {
namespace {

using nlohmann::json;
using subject::Key;
using subject::KeyKind;

constexpr const char* kRegister = R"(
[register]
stored_in = "the UK"
service = "a careers service"
[register.controller]
name = "Test Department"
email = "privacy@example.gov.uk"
[register.dpo]
email = "dpo@example.gov.uk"
[[register.purposes]]
id = "service-delivery"
description = "Deliver the services you ask for"
lawful_basis = "public-task"
[[register.purposes]]
id = "payment-evidence"
description = "Evidence payments to the organisations that advised you"
lawful_basis = "public-task"
[[register.purposes]]
id = "surveys"
description = "Ask you about our service in surveys"
lawful_basis = "consent"
withdraw = "Untick the box in your account"
[[register.purposes]]
id = "equality"
description = "Monitor equality of opportunity"
lawful_basis = "consent"
withdraw = "Untick the box in your account"
article_9 = "explicit-consent"
[[register.datasets]]
id = "customer-records"
module = "accounts"
description = "Your account"
categories = ["user.contact.name", "user.contact.email", "user.contact.phone", "user.contact.address", "user.demographic.date_of_birth", "user.account.password"]
subjects = ["customers"]
purposes = ["service-delivery"]
retention = { criteria = "As long as you use the service", review = "1 year", maximum = "6 years" }
[[register.datasets]]
id = "payment-records"
module = "accounts"
description = "A minimum that confirms payments"
categories = ["user.contact.name"]
subjects = ["former customers"]
purposes = ["payment-evidence"]
retention = "6 years after you stop being a customer"
[[register.datasets]]
id = "survey-consent"
module = "accounts"
description = "Whether you agreed to surveys"
categories = ["user.preferences.consent"]
subjects = ["customers"]
purposes = ["surveys"]
retention = "1 month after you withdraw consent"
[[register.datasets]]
id = "equality-data"
module = "accounts"
description = "Your ethnicity, if you gave it"
categories = ["user.special.ethnicity", "user.preferences.consent"]
subjects = ["customers"]
purposes = ["equality"]
retention = "1 month after you withdraw consent"
[[register.datasets]]
id = "outgoing-mail"
module = "mail"
description = "Email we send you, while it waits to be sent"
categories = ["user.contact.email", "user.content"]
subjects = ["customers"]
purposes = ["service-delivery"]
retention = "30 days"
[[register.datasets]]
id = "mail-suppression"
module = "mail-suppression"
description = "Hashes of addresses that bounced"
categories = ["user.contact.email"]
subjects = ["customers"]
purposes = ["service-delivery"]
retention = "6 years"
[[register.datasets]]
id = "restrictions"
module = "subject"
description = "Marks on data you asked us to restrict"
categories = ["user.identifier.pseudonym"]
subjects = ["customers"]
purposes = ["service-delivery"]
retention = "6 years"
)";

constexpr const char* kAccounts = R"(
[mail]
relay = "smtp://127.0.0.1:2525"
from = "Careers <noreply@example.gov.uk>"
[accounts]
dataset = "customer-records"
minimum_age = 13
age_check = "date-of-birth"
[[accounts.consents]]
id = "surveys"
label = "Contact me for satisfaction surveys"
purpose = "surveys"
dataset = "survey-consent"
[[accounts.consents]]
id = "equality"
label = "Use my ethnicity to monitor equality of opportunity"
purpose = "equality"
dataset = "equality-data"
withdrawal = "delete"
[[accounts.fields]]
id = "name"
label = "Full name"
required = true
category = "user.contact.name"
[[accounts.fields]]
id = "date-of-birth"
label = "Date of birth"
type = "date"
required = true
category = "user.demographic.date_of_birth"
[[accounts.fields]]
id = "phone"
label = "Telephone"
type = "telephone"
category = "user.contact.phone"
[[accounts.fields]]
id = "postcode"
label = "Postcode"
type = "postcode"
category = "user.contact.address"
[[accounts.fields]]
id = "ethnicity"
label = "Ethnic group"
type = "choice"
choices = ["Asian or Asian British", "Black, Black British, Caribbean or African", "Mixed or multiple ethnic groups", "White", "Another ethnic group", "Prefer not to say"]
category = "user.special.ethnicity"
consent = "equality"
[accounts.closure]
dataset = "payment-records"
keep = ["name"]
)";

Result<Settings> Read(const std::string& extra, const std::string& accounts = kAccounts) {
  auto doc = config::Document::Parse(std::string(kRegister) + extra + accounts, "site.toml");
  if (!doc.ok()) return doc.error();
  auto reg = processing::FromDocument(*doc);
  if (!reg.ok()) return reg.error();
  STEWARD_ASSIGN_OR_RETURN(auto s, ReadSettings(*doc, *reg));
  if (!s) return MakeError(ErrorCode::kNotFound, "no [accounts]");
  return std::move(*s);
}

class AccountsTest : public ::testing::Test {
 protected:
  static std::vector<store::Migration> All() {
    std::vector<store::Migration> all = audit::Migrations();
    for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
    for (auto& m : subject::Restrictions::Migrations()) all.push_back(m);
    for (auto& m : mail::Queue::Migrations()) all.push_back(m);
    for (auto& m : Accounts::Migrations()) all.push_back(m);
    return all;
  }

  AccountsTest() {
    mail_.relay = "smtp://127.0.0.1:" + std::to_string(server_.port());
    mail_.from_name = "Careers";
    mail_.from_address = "noreply@example.gov.uk";
    mail_.starttls = false;
    auto settings = Read("");
    EXPECT_TRUE(settings.ok()) << settings.error().message;
    settings_ = *settings;
    auto doc = config::Document::Parse(std::string(kRegister), "site.toml");
    reg_ = std::make_unique<processing::Register>(*processing::FromDocument(*doc));
    accounts_ = std::make_unique<Accounts>(
        site_.store(), trail_, site_.key(), clock_, settings_, &queue_, mail_,
        [] { return std::string("https://careers.example.gov.uk"); }, "Careers");
    accounts_->SetCommonPasswords({"password1234"});
    subjects_ = std::make_unique<AccountSubjects>(
        subject::StoredSubjectData::Deps{.module = "accounts",
                                         .store = site_.store(),
                                         .trail = trail_,
                                         .restrictions = restrictions_,
                                         .reg = reg_.get(),
                                         .pseudonym_key = subject::PseudonymKey(site_.key())},
        *accounts_);
  }

  std::vector<json> Deliver() {
    auto smtp = mail::SmtpClient::Open(mail_);
    EXPECT_TRUE(smtp.ok());
    auto round = queue_.Deliver(**smtp, mail_, 1000);
    EXPECT_TRUE(round.ok()) << round.error().message;
    auto all = server_.Received();
    std::vector<json> fresh(all.begin() + static_cast<long>(seen_), all.end());
    seen_ = all.size();
    return fresh;
  }
  static std::string Text(const json& m) { return m["parts"][1]["content"]; }
  static std::string LinkIn(const json& m, const std::string& prefix) {
    std::smatch match;
    std::string text = Text(m);
    if (!std::regex_search(text, match, std::regex(prefix + "[a-f0-9]+"))) return "";
    return match.str();
  }
  static std::string TokenOf(const std::string& link) { return link.substr(link.rfind('/') + 1); }

  std::map<std::string, std::string> Details() {
    return {{"name", "Sam Taylor"}, {"date-of-birth", "1990-04-12"}, {"phone", "07700 900123"}, {"postcode", "m1 2wd"}};
  }

  // Registers and confirms; returns the account's id.
  int64_t Registered(const std::string& email, const std::set<std::string>& consents = {"surveys"}) {
    Status s = accounts_->Register(email, "correct horse battery", Details(), consents, Actor{});
    EXPECT_TRUE(s.ok()) << s.error().message;
    auto mails = Deliver();
    EXPECT_EQ(mails.size(), 1u);
    if (mails.empty()) return 0;
    auto id = accounts_->Confirm(TokenOf(LinkIn(mails.back(), "https://careers.example.gov.uk/account/confirm/")));
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : 0;
  }

  int64_t Scalar(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(site_.store()
                    .Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
                      n = rows.front().Int(0);
                      return Ok();
                    })
                    .ok());
    return n;
  }

  Result<int64_t> RunPurge(const std::string& dataset, int64_t limit = 0) {
    const processing::Dataset* d = nullptr;
    for (const auto& x : reg_->datasets) {
      if (x.id == dataset) d = &x;
    }
    std::string cutoff = FormatRfc3339Millis(processing::Subtract(clock_.Now(), d->retention.period));
    int64_t n = 0;
    STEWARD_RETURN_IF_ERROR(site_.store().Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(n, Purge(c, settings_, *d, cutoff, FormatRfc3339Millis(clock_.Now()), false, limit));
      return Ok();
    }));
    return n;
  }

  mail::testing::SmtpServer server_;
  store::testing::ScratchSite site_{All()};
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  audit::Trail trail_{site_.store(), site_.key(), clock_};
  subject::Restrictions restrictions_{site_.key(), clock_, nullptr};
  mail::Queue queue_{site_.store(), site_.key(), clock_};
  mail::Settings mail_;
  Settings settings_;
  std::unique_ptr<processing::Register> reg_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<AccountSubjects> subjects_;
  size_t seen_ = 0;
};

TEST_F(AccountsTest, RegisteringNeedsTheAddressConfirmedBeforeSigningIn) {
  ASSERT_TRUE(accounts_->Register("Sam@Example.org", "correct horse battery", Details(), {}, Actor{}).ok());
  // Not yet confirmed: the password does not open it.
  auto early = accounts_->SignIn("sam@example.org", "correct horse battery", Actor{});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ErrorCode::kPermissionDenied);
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["rcpt_tos"], json::array({"sam@example.org"}));
  std::string link = LinkIn(mails[0], "https://careers.example.gov.uk/account/confirm/");
  ASSERT_FALSE(link.empty()) << Text(mails[0]);
  auto id = accounts_->Confirm(TokenOf(link));
  ASSERT_TRUE(id.ok()) << id.error().message;
  // A link works once.
  EXPECT_EQ(accounts_->Confirm(TokenOf(link)).error().code, ErrorCode::kNotFound);
  auto signed_in = accounts_->SignIn("SAM@example.org ", "correct horse battery", Actor{});
  ASSERT_TRUE(signed_in.ok()) << signed_in.error().message;
  EXPECT_EQ(*signed_in, *id);
  EXPECT_EQ(accounts_->SignIn("sam@example.org", "wrong horse battery", Actor{}).error().code,
            ErrorCode::kPermissionDenied);
  auto a = accounts_->Load(*id);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->email, "sam@example.org");
  EXPECT_EQ(a->values["postcode"], "M1 2WD");
  EXPECT_EQ(a->values["phone"], "07700 900123");
  // Sealed: nothing the person typed is in the database in clear.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_values WHERE CAST(value AS TEXT) LIKE '%Taylor%'"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts WHERE CAST(email AS TEXT) LIKE '%example%'"), 0);
}

TEST_F(AccountsTest, RegisteringAgainWithAnAddressThatHasAnAccountOnlyEmailsItsOwner) {
  int64_t id = Registered("sam@example.org");
  ASSERT_TRUE(accounts_->Register("sam@example.org", "another long password", Details(), {}, Actor{}).ok());
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["headers"]["Subject"], "You already have an account");
  EXPECT_TRUE(accounts_->SignIn("sam@example.org", "correct horse battery", Actor{}).ok());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts"), 1);
  EXPECT_EQ(Scalar("SELECT MAX(id) FROM accounts"), id);
}

TEST_F(AccountsTest, RegistrationChecksWhatItIsGiven) {
  auto field = [&](const std::map<std::string, std::string>& values, const std::set<std::string>& consents = {},
                   const std::string& password = "correct horse battery") {
    Status s = accounts_->Register("sam@example.org", password, values, consents, Actor{});
    return s.ok() ? std::string("ok") : s.error().message.substr(0, s.error().message.find(':'));
  };
  auto d = Details();
  EXPECT_EQ(field(d, {}, "short"), "password");
  EXPECT_EQ(field(d, {}, "password1234"), "password");
  auto no_name = d;
  no_name.erase("name");
  EXPECT_EQ(field(no_name), "name");
  auto bad_date = d;
  bad_date["date-of-birth"] = "1990-02-30";
  EXPECT_EQ(field(bad_date), "date-of-birth");
  auto bad_postcode = d;
  bad_postcode["postcode"] = "not a postcode";
  EXPECT_EQ(field(bad_postcode), "postcode");
  auto undeclared = d;
  undeclared["shoe-size"] = "9";
  EXPECT_EQ(field(undeclared), "shoe-size");
  // Special category data only with its consent box.
  auto ethnicity = d;
  ethnicity["ethnicity"] = "White";
  EXPECT_EQ(field(ethnicity), "ethnicity");
  auto bad_choice = d;
  bad_choice["ethnicity"] = "Martian";
  EXPECT_EQ(field(bad_choice, {"equality"}), "ethnicity");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts"), 0);
  EXPECT_EQ(field(ethnicity, {"equality"}), "ok");
}

TEST_F(AccountsTest, SomeoneUnderTheMinimumAgeIsRefusedAndNothingIsKept) {
  auto child = Details();
  child["date-of-birth"] = "2015-06-01";  // the fake clock is in January 2027: 11
  Status s = accounts_->Register("kid@example.org", "correct horse battery", child, {}, Actor{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM subject_keys"), 0);
  EXPECT_TRUE(Deliver().empty());
  // Thirteen today is old enough.
  auto thirteen = Details();
  thirteen["date-of-birth"] = "2014" + FormatRfc3339(clock_.Now()).substr(4, 6);
  EXPECT_TRUE(accounts_->Register("teen@example.org", "correct horse battery", thirteen, {}, Actor{}).ok());
}

TEST_F(AccountsTest, NationalCareersCustomerFromRegistrationToTheMinimum) {
  // The person registers, ticking the survey box and not the equality box.
  int64_t id = Registered("sam@example.org", {"surveys"});
  auto now = accounts_->ConsentsNow(id);
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE((*now)["surveys"]);
  EXPECT_FALSE((*now)["equality"]);

  // An adviser adds equality information with the person's recorded agreement.
  Actor adviser{.id = "staff:7"};
  ASSERT_TRUE(accounts_->SetConsent(id, "equality", true, "telephone", adviser).ok());
  ASSERT_TRUE(accounts_->Update(id, {{"ethnicity", "Prefer not to say"}}, adviser).ok());
  auto events = accounts_->Consents(id);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(events->back().how, "told an adviser by telephone");
  EXPECT_EQ(events->back().by, "staff:7");
  // An adviser must say how the customer told them.
  EXPECT_EQ(accounts_->SetConsent(id, "surveys", false, "", adviser).error().code, ErrorCode::kInvalidArgument);

  // The person sees what the adviser did.
  auto activity = accounts_->ActivityOf(id);
  ASSERT_TRUE(activity.ok());
  int by_adviser = 0;
  for (const auto& a : *activity) {
    if (a.actor == "staff:7") ++by_adviser;
    EXPECT_EQ(a.detail.find("Prefer"), std::string::npos) << "activity names fields, never values";
  }
  EXPECT_EQ(by_adviser, 2);

  // The person withdraws the survey consent: recorded, and the account still stands.
  ASSERT_TRUE(accounts_->SetConsent(id, "surveys", false, "withdrew it in your account", Actor{}).ok());
  EXPECT_FALSE(accounts_->ConsentsNow(id)->at("surveys"));

  // The person closes the account.
  auto until = accounts_->Close(id, Actor{});
  ASSERT_TRUE(until.ok()) << until.error().message;
  EXPECT_EQ(until->substr(0, 4), "2033");  // six years on
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["headers"]["Subject"], "Your account is closed");
  std::string text = Text(mails[0]);
  EXPECT_NE(text.find("except your full name"), std::string::npos) << text;
  EXPECT_NE(text.find(until->substr(0, 10)), std::string::npos) << text;
  EXPECT_NE(text.find("evidence payments to the organisations that advised you"), std::string::npos) << text;

  // Only the declared minimum remains, restricted.
  auto a = accounts_->Load(id);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->state, "closed");
  EXPECT_TRUE(a->restricted);
  EXPECT_EQ(a->values.size(), 1u);
  EXPECT_EQ(a->values["name"], "Sam Taylor");
  EXPECT_TRUE(a->email.empty());
  EXPECT_FALSE(a->has_password);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_consents"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_activity"), 0);
  EXPECT_FALSE(accounts_->SignIn("sam@example.org", "correct horse battery", Actor{}).ok());
  auto found = accounts_->Find("sam@example.org", "", "");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty()) << "a closed account is used for nothing else";
  auto holding = subjects_->Find(*Key::Make(KeyKind::kEmail, "sam@example.org"));
  ASSERT_TRUE(holding.ok());
  ASSERT_EQ(holding->holdings.size(), 1u);
  EXPECT_EQ(holding->holdings[0].dataset, "payment-records");
  EXPECT_TRUE(holding->holdings[0].restricted);

  // The minimum stays until the fake clock passes six years, then goes.
  clock_.Advance(std::chrono::hours(24 * 365 * 6));
  auto early = RunPurge("payment-records");
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(*early, 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts"), 1);
  clock_.Advance(std::chrono::hours(24 * 3));
  auto purged = RunPurge("payment-records");
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_values"), 0);
}

// Accounts unused for the dataset's maximum go a batch at a time, each batch finding them through
// an index of the accounts not closed by when they were last used, never reading those in use.
TEST_F(AccountsTest, UnusedAccountsArePurgedInBatchesThroughTheirIndex) {
  for (int i = 0; i < 3; ++i) Registered("old" + std::to_string(i) + "@example.org", {});
  clock_.Advance(std::chrono::hours(24 * (365 * 6 + 3)));
  Registered("new@example.org", {});
  std::vector<std::pair<std::string, std::vector<store::Value>>> found;
  store::StatementObserver observer = [&](std::string_view sql, const std::vector<store::Value>& params) {
    if (sql.starts_with("SELECT id FROM accounts WHERE state <> 'closed'"))
      found.emplace_back(std::string(sql), params);
  };
  store::ObserveStatements(&observer);
  auto first = RunPurge("customer-records", 2);
  auto second = RunPurge("customer-records", 2);
  auto third = RunPurge("customer-records", 2);
  store::ObserveStatements(nullptr);
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(*first, 2);
  EXPECT_EQ(*second, 1);
  EXPECT_EQ(*third, 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts"), 1) << "the account made today is kept";
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_values WHERE account_id NOT IN (SELECT id FROM accounts)"), 0);

  if (site_.store().backend() != store::Backend::kSqlite) return;  // SQLite's query plans
  ASSERT_EQ(found.size(), 3u);
  for (const auto& [sql, params] : found) {
    auto plan = store::testing::QueryPlan(site_.store(), sql, params);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_NE(plan->find("INDEX accounts_inactive (last_active_at<?)"), std::string::npos) << sql << "\n" << *plan;
    EXPECT_EQ(plan->find("SCAN accounts"), std::string::npos) << sql << "\n" << *plan;
  }
}

TEST_F(AccountsTest, WithdrawingAConsentThatDeletesRemovesWhatItCovered) {
  int64_t id = Registered("sam@example.org", {});
  ASSERT_TRUE(accounts_->SetConsent(id, "equality", true, "ticked the box in your account", Actor{}).ok());
  ASSERT_TRUE(accounts_->Update(id, {{"ethnicity", "White"}}, Actor{}).ok());
  EXPECT_EQ(accounts_->Load(id)->values.count("ethnicity"), 1u);
  ASSERT_TRUE(accounts_->SetConsent(id, "equality", false, "withdrew it in your account", Actor{}).ok());
  EXPECT_EQ(accounts_->Load(id)->values.count("ethnicity"), 0u);
  // Without the consent it cannot be given again.
  EXPECT_EQ(accounts_->Update(id, {{"ethnicity", "White"}}, Actor{}).error().code, ErrorCode::kInvalidArgument);
  // The withdrawal's record goes once the dataset's month has passed.
  clock_.Advance(std::chrono::hours(24 * 32));
  auto purged = RunPurge("equality-data");
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_consents WHERE box = 'equality'"), 0);
}

TEST_F(AccountsTest, AnAdviserCreatesFindsAndHandsOverAnAccount) {
  Actor adviser{.id = "staff:7"};
  EXPECT_EQ(accounts_->CreateForCustomer("jo@example.org", Details(), "", adviser).error().code,
            ErrorCode::kInvalidArgument);
  auto id = accounts_->CreateForCustomer("jo@example.org", Details(), "in-person", adviser);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(accounts_->CreateForCustomer("JO@example.org", Details(), "in-person", adviser).error().code,
            ErrorCode::kAlreadyExists);
  // Found by email, or by name and date of birth (case and spaces ignored); never by name alone.
  EXPECT_EQ(accounts_->Find("jo@example.org", "", "")->size(), 1u);
  auto by_name = accounts_->Find("", "  sam   TAYLOR ", "1990-04-12");
  ASSERT_TRUE(by_name.ok());
  ASSERT_EQ(by_name->size(), 1u);
  EXPECT_EQ((*by_name)[0].email, "jo@example.org");
  EXPECT_TRUE(accounts_->Find("", "Sam Taylor", "1990-04-13")->empty());
  EXPECT_EQ(accounts_->Find("", "Sam Taylor", "").error().code, ErrorCode::kInvalidArgument);
  // Corrected details follow the search.
  ASSERT_TRUE(accounts_->Update(*id, {{"name", "Sam Taylor-Jones"}}, adviser).ok());
  EXPECT_TRUE(accounts_->Find("", "Sam Taylor", "1990-04-12")->empty());
  EXPECT_EQ(accounts_->Find("", "sam taylor-jones", "1990-04-12")->size(), 1u);

  // No password until the customer sets one from the emailed link.
  EXPECT_FALSE(accounts_->SignIn("jo@example.org", "correct horse battery", adviser).ok());
  ASSERT_TRUE(accounts_->HandOver(*id, adviser).ok());
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  std::string token = TokenOf(LinkIn(mails[0], "https://careers.example.gov.uk/account/password/"));
  EXPECT_EQ(accounts_->SetPasswordByLink(token, "short").error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(accounts_->SetPasswordByLink(token, "correct horse battery").ok());
  EXPECT_FALSE(accounts_->SetPasswordByLink(token, "correct horse battery").ok());
  EXPECT_TRUE(accounts_->SignIn("jo@example.org", "correct horse battery", Actor{}).ok());
  auto activity = accounts_->ActivityOf(*id);
  std::vector<std::string> actions;
  for (auto it = activity->rbegin(); it != activity->rend(); ++it) actions.push_back(it->actor + " " + it->action);
  EXPECT_EQ(actions, (std::vector<std::string>{"staff:7 created_for_you", "staff:7 details_changed",
                                               "staff:7 handed_over", "self password_set", "self signed_in"}));
  // Audited as the adviser acting on this account.
  EXPECT_GE(Scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'staff:7' AND target = 'accounts:" +
                   std::to_string(*id) + "'"),
            3);
}

TEST_F(AccountsTest, AForgottenPasswordIsResetFromAnEmailedLinkThatWorksOnceForAnHour) {
  int64_t id = Registered("pat@example.com");
  // An address with no account, and one given wrongly: nothing sent, and the same answer.
  EXPECT_TRUE(accounts_->RequestPasswordReset("nobody@example.com", Actor{}).ok());
  EXPECT_EQ(accounts_->RequestPasswordReset("not an address", Actor{}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Deliver().size(), 0u);

  ASSERT_TRUE(accounts_->RequestPasswordReset(" PAT@example.com", Actor{}).ok());
  // Asked again at once: no second email.
  ASSERT_TRUE(accounts_->RequestPasswordReset("pat@example.com", Actor{}).ok());
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["headers"]["Subject"], "Reset your password");
  EXPECT_EQ(mails[0]["rcpt_tos"][0], "pat@example.com");
  std::string token = TokenOf(LinkIn(mails[0], "https://careers.example.gov.uk/account/password/"));
  ASSERT_FALSE(token.empty());

  // An hour later the link has expired; a fresh one works, once, and the old password no longer does.
  clock_.Advance(std::chrono::minutes(61));
  EXPECT_EQ(accounts_->CheckPasswordLink(token).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(accounts_->RequestPasswordReset("pat@example.com", Actor{}).ok());
  mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  token = TokenOf(LinkIn(mails[0], "https://careers.example.gov.uk/account/password/"));
  EXPECT_EQ(accounts_->SetPasswordByLink(token, "password1234").error().code, ErrorCode::kInvalidArgument);  // common
  ASSERT_TRUE(accounts_->SetPasswordByLink(token, "blue kettle mountain").ok());
  EXPECT_FALSE(accounts_->SetPasswordByLink(token, "another long phrase").ok());
  EXPECT_FALSE(accounts_->SignIn("pat@example.com", "correct horse battery", Actor{}).ok());
  EXPECT_EQ(*accounts_->SignIn("pat@example.com", "blue kettle mountain", Actor{}), id);
  mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["headers"]["Subject"], "Your password has changed");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'account.password_reset_asked'"), 2);
}

TEST_F(AccountsTest, APersonChangesTheirAddressFromALinkSentToItAndTheOldOneIsTold) {
  int64_t id = Registered("old@example.com");
  int64_t other = Registered("taken@example.com");
  // The password is asked for; the same address, or one that is not, is refused.
  EXPECT_EQ(accounts_->AskEmailChange(id, "new@example.com", "wrong", Actor{}).error().message.substr(0, 9),
            "password:");
  EXPECT_EQ(accounts_->AskEmailChange(id, "OLD@example.com", "correct horse battery", Actor{}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(accounts_->AskEmailChange(id, "nope", "correct horse battery", Actor{}).error().code,
            ErrorCode::kInvalidArgument);
  // An address another account has: its owner is told, nothing changes.
  ASSERT_TRUE(accounts_->AskEmailChange(id, "taken@example.com", "correct horse battery", Actor{}).ok());
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["rcpt_tos"][0], "taken@example.com");
  EXPECT_EQ(mails[0]["headers"]["Subject"], "Someone tried to use this address");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_email_changes"), 0);

  // An address that already stands for someone here without an account (an email was sent to it).
  ASSERT_TRUE(queue_.Enqueue({.to = "known@example.com", .subject = "Hello", .text = "Hi"}, mail_).ok());
  Deliver();
  auto known = accounts_->AskEmailChange(id, "known@example.com", "correct horse battery", Actor{});
  EXPECT_NE(known.error().message.find("already used here for something else"), std::string::npos);

  ASSERT_TRUE(accounts_->AskEmailChange(id, "New@Example.com", "correct horse battery", Actor{}).ok());
  mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["rcpt_tos"][0], "new@example.com");
  std::string token = TokenOf(LinkIn(mails[0], "https://careers.example.gov.uk/account/email/"));
  // Nothing changes until the link is used.
  EXPECT_EQ(accounts_->Load(id)->email, "old@example.com");
  EXPECT_TRUE(accounts_->SignIn("old@example.com", "correct horse battery", Actor{}).ok());
  EXPECT_EQ(accounts_->ConfirmEmailChange(std::string(48, 'a')).error().code, ErrorCode::kNotFound);

  auto changed = accounts_->ConfirmEmailChange(token);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(*changed, id);
  EXPECT_EQ(accounts_->Load(id)->email, "new@example.com");
  EXPECT_EQ(*accounts_->SignIn("new@example.com", "correct horse battery", Actor{}), id);
  EXPECT_FALSE(accounts_->SignIn("old@example.com", "correct horse battery", Actor{}).ok());
  EXPECT_EQ(accounts_->ConfirmEmailChange(token).error().code, ErrorCode::kNotFound);  // once
  // The old address no longer leads to the person; the new one does.
  EXPECT_TRUE(accounts_->AccountsOf(*Key::Make(KeyKind::kEmail, "old@example.com"))->empty());
  EXPECT_EQ(accounts_->AccountsOf(*Key::Make(KeyKind::kEmail, "new@example.com"))->size(), 1u);
  mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["rcpt_tos"][0], "old@example.com");
  EXPECT_EQ(mails[0]["headers"]["Subject"], "Your email address has changed");

  // A link not used within a day expires and the new address it held is deleted.
  ASSERT_TRUE(accounts_->AskEmailChange(other, "later@example.com", "correct horse battery", Actor{}).ok());
  clock_.Advance(std::chrono::hours(Accounts::kLinkHours + 1));
  ASSERT_TRUE(accounts_->PurgeUnconfirmed().ok());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_email_changes"), 0);
}

TEST_F(AccountsTest, ASecondFactorAsksForACodeFromAnAppOnceEachAndRecoveryCodesOnceEach) {
  int64_t id = Registered("sec@example.com");
  EXPECT_FALSE(accounts_->Load(id)->second_factor);
  auto base32 = accounts_->BeginSecondFactor(id, Actor{});
  ASSERT_TRUE(base32.ok()) << base32.error().message;
  std::string secret = *crypto::Base32Decode(*base32);
  auto now = [&] { return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count(); };
  EXPECT_EQ(accounts_->ConfirmSecondFactor(id, "000000", Actor{}).error().code, ErrorCode::kInvalidArgument);
  auto codes = accounts_->ConfirmSecondFactor(id, crypto::TotpCode(secret, now()), Actor{});
  ASSERT_TRUE(codes.ok()) << codes.error().message;
  EXPECT_EQ(codes->size(), 10u);
  EXPECT_TRUE(accounts_->Load(id)->second_factor);
  // The secret is sealed under the person's key: not the raw bytes, and not readable without it.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts WHERE totp_secret IS NOT NULL AND totp_enabled = 1"), 1);

  // The code just used is refused; the next step's code is accepted once.
  EXPECT_FALSE(*accounts_->VerifySecondFactor(id, crypto::TotpCode(secret, now()), Actor{}));
  clock_.Advance(std::chrono::seconds(30));
  std::string next = crypto::TotpCode(secret, now());
  EXPECT_TRUE(*accounts_->VerifySecondFactor(id, next, Actor{}));
  EXPECT_FALSE(*accounts_->VerifySecondFactor(id, next, Actor{}));
  // A recovery code once, in either case.
  std::string upper = (*codes)[0];
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(*accounts_->VerifySecondFactor(id, upper, Actor{}));
  EXPECT_FALSE(*accounts_->VerifySecondFactor(id, (*codes)[0], Actor{}));
  EXPECT_FALSE(*accounts_->VerifySecondFactor(id, "nonsense", Actor{}));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'account.second_factor' AND outcome = 'failure'"), 4);

  EXPECT_TRUE(*accounts_->PasswordIs(id, "correct horse battery"));
  EXPECT_FALSE(*accounts_->PasswordIs(id, "wrong horse battery"));
  Deliver();
  // An adviser turns it off for someone who lost their phone; the owner is told.
  ASSERT_TRUE(accounts_->RemoveSecondFactor(id, Actor{.id = "staff:7"}).ok());
  EXPECT_FALSE(accounts_->Load(id)->second_factor);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_recovery_codes"), 0);
  EXPECT_EQ(accounts_->RemoveSecondFactor(id, Actor{}).error().code, ErrorCode::kFailedPrecondition);
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(Text(mails[0]).find("An adviser has turned off"), std::string::npos);
  // Closing deletes its recovery codes with the rest.
  ASSERT_TRUE(accounts_->BeginSecondFactor(id, Actor{}).ok());
  ASSERT_TRUE(accounts_->Close(id, Actor{}).ok());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_recovery_codes"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts WHERE totp_secret IS NOT NULL"), 0);
}

TEST_F(AccountsTest, TheSubjectDataContractFindsExportsRectifiesAndErasesToTheMinimum) {
  int64_t id = Registered("sam@example.org", {"surveys"});
  Key email = *Key::Make(KeyKind::kEmail, "sam@example.org");
  auto found = subjects_->Find(email);
  ASSERT_TRUE(found.ok());
  std::map<std::string, int64_t> counts;
  for (const auto& h : found->holdings) counts[h.dataset] = h.count;
  EXPECT_EQ(counts["customer-records"], 5);  // the account and four fields
  EXPECT_EQ(counts["survey-consent"], 1);
  ASSERT_EQ(found->linked.size(), 1u);
  EXPECT_EQ(found->linked[0].value(), "accounts:" + std::to_string(id));

  auto records = subjects_->Export(email);
  ASSERT_TRUE(records.ok());
  bool name = false, consent = false;
  for (const auto& r : *records) {
    for (const auto& f : r.fields) {
      if (f.category == "user.contact.name" && f.value == "Sam Taylor") name = true;
      if (f.category == "user.preferences.consent" && f.value.starts_with("given")) consent = true;
    }
  }
  EXPECT_TRUE(name);
  EXPECT_TRUE(consent);

  auto fixed = subjects_->Rectify(email, "user.contact.phone", "01632 960001", {.actor = "staff:2"});
  ASSERT_TRUE(fixed.ok()) << fixed.error().message;
  EXPECT_EQ(accounts_->Load(id)->values["phone"], "01632 960001");
  auto moved = subjects_->Rectify(email, "user.contact.email", "sam.t@example.org", {.actor = "staff:2"});
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_TRUE(accounts_->SignIn("sam.t@example.org", "correct horse battery", Actor{}).ok());
  EXPECT_FALSE(accounts_->SignIn("sam@example.org", "correct horse battery", Actor{}).ok());

  Key now = *Key::Make(KeyKind::kEmail, "sam.t@example.org");
  auto erased = subjects_->Erase(now, {.actor = "staff:2", .reference = "rights:1"});
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  bool exempt = false;
  for (const auto& e : *erased) {
    if (e.dataset == "payment-records") exempt = !e.exemption.empty();
  }
  EXPECT_TRUE(exempt) << "the minimum the register keeps is named as the exemption";
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_values"), 1);
  auto after = subjects_->Find(now);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->holdings.size(), 1u);
  EXPECT_EQ(after->holdings[0].dataset, "payment-records");
}

TEST_F(AccountsTest, APartnerRefersSomeoneWhoIsToldWhatWeHoldAtOnce) {
  auto told = [](const std::string& link) { return "What we hold, and your link: " + link; };
  Actor partner{.id = "api-key:4"};
  EXPECT_EQ(accounts_->Refer({"ref@example.org", Details(), "Jobcentre Plus"}, told, partner).error().code,
            ErrorCode::kFailedPrecondition)
      << "a site that takes no referrals";
  Settings with = settings_;
  with.referrals = true;
  Accounts accounts(
      site_.store(), trail_, site_.key(), clock_, with, &queue_, mail_,
      [] { return std::string("https://careers.example.gov.uk"); }, "Careers");
  // A partner cannot agree for the person: what a consent box covers is refused.
  auto details = Details();
  details["ethnicity"] = "White";
  EXPECT_EQ(accounts.Refer({"ref@example.org", details, "Jobcentre Plus"}, told, partner).error().code,
            ErrorCode::kInvalidArgument);
  // Under the minimum age: refused, and nothing kept.
  auto young = Details();
  young["date-of-birth"] = "2020-01-01";
  EXPECT_EQ(accounts.Refer({"ref@example.org", young, "Jobcentre Plus"}, told, partner).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts"), 0);
  EXPECT_EQ(accounts.Refer({"not an address", Details(), "Jobcentre Plus"}, told, partner).error().code,
            ErrorCode::kInvalidArgument);

  auto id = accounts.Refer({"Ref@Example.org", Details(), "Jobcentre Plus"}, told, partner);
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto a = accounts.Load(*id);
  EXPECT_EQ(a->state, "open");
  EXPECT_FALSE(a->has_password);
  EXPECT_EQ(a->values["name"], "Sam Taylor");
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["headers"]["Subject"], "We have your details from Jobcentre Plus");
  EXPECT_EQ(mails[0]["rcpt_tos"][0], "ref@example.org");
  std::string token = TokenOf(LinkIn(mails[0], "https://careers.example.gov.uk/account/password/"));
  auto referrals = accounts.Referrals(*id);
  ASSERT_EQ(referrals->size(), 1u);
  EXPECT_EQ((*referrals)[0].source, "Jobcentre Plus");
  EXPECT_EQ((*referrals)[0].told_at, (*referrals)[0].received_at) << "told at once, well within the month";
  // The person's link lasts a week, not a day: they may read the email later.
  clock_.Advance(std::chrono::hours(24 * 6));
  ASSERT_TRUE(accounts.SetPasswordByLink(token, "correct horse battery").ok());
  EXPECT_TRUE(accounts.SignIn("ref@example.org", "correct horse battery", Actor{}).ok());

  // Referred again while they have an account: noted, told, and nothing they gave is overwritten.
  auto other = Details();
  other["name"] = "Someone Else";
  auto again = accounts.Refer({"ref@example.org", other, "A local college"}, told, partner);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
  EXPECT_EQ(accounts.Load(*id)->values["name"], "Sam Taylor");
  EXPECT_EQ(accounts.Referrals(*id)->size(), 2u);
  mails = Deliver();
  ASSERT_EQ(mails.size(), 2u);  // the password set from the link is told to its owner, then this
  EXPECT_EQ(mails[0]["headers"]["Subject"], "Your password has changed");
  EXPECT_NE(Text(mails[1]).find("https://careers.example.gov.uk/account/sign-in"), std::string::npos);

  auto activity = accounts.ActivityOf(*id);
  std::vector<std::string> actions;
  for (auto it = activity->rbegin(); it != activity->rend(); ++it) actions.push_back(it->actor + " " + it->action);
  EXPECT_EQ(actions, (std::vector<std::string>{"api-key:4 referred", "system told_of_referral", "self password_set",
                                               "self signed_in", "api-key:4 referred", "system told_of_referral"}));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'account.referred' AND actor = 'api-key:4'"), 2);
  // The export says who referred them; closing deletes the referrals with the rest.
  auto records = AccountSubjects(subject::StoredSubjectData::Deps{.module = "accounts",
                                                                  .store = site_.store(),
                                                                  .trail = trail_,
                                                                  .restrictions = restrictions_,
                                                                  .reg = reg_.get(),
                                                                  .pseudonym_key = subject::PseudonymKey(site_.key())},
                                 accounts)
                     .Export(*Key::Make(KeyKind::kEmail, "ref@example.org"));
  ASSERT_TRUE(records.ok());
  int referred_by = 0;
  for (const auto& r : *records) {
    for (const auto& f : r.fields) referred_by += f.name == "Referred by" ? 1 : 0;
  }
  EXPECT_EQ(referred_by, 2);
  ASSERT_TRUE(accounts.Close(*id, Actor{}).ok());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_referrals"), 0);
}

TEST_F(AccountsTest, APersonWhoCouldNotBeEmailedIsOnTheAdvisersListUntilToldAnotherWay) {
  Settings with = settings_;
  with.referrals = true;
  // No mail to send with: the Article 14 email cannot go.
  Accounts accounts(
      site_.store(), trail_, site_.key(), clock_, with, nullptr, std::nullopt,
      [] { return std::string("https://careers.example.gov.uk"); }, "Careers");
  auto told = [](const std::string& link) { return "What we hold: " + link; };
  clock_.Advance(std::chrono::hours(24 * 30));  // 2027-02-14: a month later is 14 March
  auto id = accounts.Refer({"far@example.org", Details(), "Jobcentre Plus"}, told, Actor{.id = "api-key:4"});
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto untold = accounts.Untold();
  ASSERT_TRUE(untold.ok());
  ASSERT_EQ(untold->size(), 1u);
  EXPECT_EQ((*untold)[0].account, *id);
  EXPECT_EQ((*untold)[0].source, "Jobcentre Plus");
  EXPECT_EQ((*untold)[0].due, "2027-03-14");
  EXPECT_EQ((*untold)[0].told_at, "");

  Actor adviser{.id = "staff:7"};
  EXPECT_EQ(accounts.MarkTold(*id, (*untold)[0].id, "pigeon", adviser).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(accounts.MarkTold(*id + 1, (*untold)[0].id, "letter", adviser).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(accounts.MarkTold(*id, (*untold)[0].id, "letter", adviser).ok());
  EXPECT_EQ(accounts.MarkTold(*id, (*untold)[0].id, "letter", adviser).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(accounts.Untold()->empty());
  EXPECT_FALSE((*accounts.Referrals(*id))[0].told_at.empty());
  auto activity = accounts.ActivityOf(*id);
  EXPECT_EQ(activity->front().action, "referral_told");
  EXPECT_EQ(activity->front().detail, "in a letter");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'account.referral_told' AND actor = 'staff:7'"), 1);
}

TEST_F(AccountsTest, AnImportBringsOpenAccountsWithoutPasswordsOrConsents) {
  auto import = [&](const std::string& email, std::map<std::string, std::string> values) -> Result<bool> {
    Result<bool> out = false;
    Status s = site_.store().Write([&](store::Connection& c) -> Status {
      out = accounts_->Import(c, email, values, "the old CRM");
      return out.ok() ? Ok() : Status(out.error());
    });
    if (!s.ok()) return s.error();
    return out;
  };
  ASSERT_TRUE(*import("Old@Example.org", Details()));
  EXPECT_FALSE(*import("old@example.org", Details())) << "an address with an account is left alone";
  auto special = Details();
  special["ethnicity"] = "White";
  EXPECT_EQ(import("other@example.org", special).error().code, ErrorCode::kInvalidArgument);
  auto found = accounts_->Find("", "Sam Taylor", "1990-04-12");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  auto a = accounts_->Load((*found)[0].id);
  EXPECT_EQ(a->state, "open");
  EXPECT_FALSE(a->has_password);
  auto consents = accounts_->ConsentsNow(a->id);
  ASSERT_TRUE(consents.ok());
  for (const auto& [box, given] : *consents) EXPECT_FALSE(given) << box;
  auto activity = accounts_->ActivityOf(a->id);
  ASSERT_EQ(activity->size(), 1u);
  EXPECT_EQ((*activity)[0].action, "imported");
  EXPECT_EQ((*activity)[0].detail, "the old CRM");
  EXPECT_TRUE(Deliver().empty()) << "nobody is emailed: they gave their details to the service before";
}

TEST_F(AccountsTest, TheArticle14EmailSaysWhatTheRegisterSays) {
  std::string text =
      Article14Text(*reg_, settings_, {"sam@example.org", Details(), "Jobcentre Plus"}, "Careers",
                    "https://careers.example.gov.uk/account/password/abc", 7, "https://careers.example.gov.uk/privacy");
  for (const char* part :
       {"Jobcentre Plus has given us your details", "Test Department", "dpo@example.gov.uk", "email address",
        "date of birth", "Where it came from: Jobcentre Plus", "deliver the services you ask for", "Article 6(1)(e)",
        "as long as you use the service", "ask for a copy", "object to our using it", "Information Commissioner",
        "https://careers.example.gov.uk/account/password/abc", "7 days", "https://careers.example.gov.uk/privacy"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  }
  // Erasure does not apply to a public task (Article 17(3)): the email does not offer it.
  EXPECT_EQ(text.find("have it deleted"), std::string::npos);
  EXPECT_EQ(text.find("Sam Taylor"), std::string::npos) << "it names what we hold, not the values";
}

TEST_F(AccountsTest, AccountsAreCountedWithoutAnyone) {
  Registered("a@example.org");
  ASSERT_TRUE(accounts_->Register("b@example.org", "correct horse battery", Details(), {}, Actor{}).ok());
  EXPECT_EQ(Deliver().size(), 1u);
  int64_t c = Registered("c@example.org");
  ASSERT_TRUE(accounts_->Close(c, Actor{}).ok());
  auto counts = accounts_->Count();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->open, 1);
  EXPECT_EQ(counts->unconfirmed, 1);
  EXPECT_EQ(counts->closed, 1);
  // An unconfirmed registration goes once its link has expired.
  clock_.Advance(std::chrono::hours(Accounts::kLinkHours + 1));
  EXPECT_EQ(*accounts_->PurgeUnconfirmed(), 1);
  EXPECT_EQ(accounts_->Count()->unconfirmed, 0);
}

TEST_F(AccountsTest, APersonWhoSignsInThroughAProviderIsLinkedByAKeyedHashOnly) {
  std::string identity = accounts_->IdentityHash("https://oidc.example.test/", "urn:fdc:gov.uk:2022:abc");
  EXPECT_EQ(identity.size(), 64u);
  EXPECT_NE(identity, accounts_->IdentityHash("https://other.example.test/", "urn:fdc:gov.uk:2022:abc"));
  EXPECT_FALSE(*accounts_->SignInLinked(identity, Actor{}));
  // Nobody has the address: no link; a new account from the form.
  EXPECT_FALSE(*accounts_->LinkByEmail(identity, "kim@example.com", Actor{}));
  // Under the minimum age: refused, nothing kept.
  auto child = Details();
  child["date-of-birth"] = "2020-01-01";
  auto refused = accounts_->RegisterLinked(identity, "kim@example.com", child, {}, Actor{});
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM accounts"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_identities"), 0);
  // A required field missing: which one.
  auto missing = accounts_->RegisterLinked(identity, "kim@example.com", {{"date-of-birth", "1990-04-12"}}, {}, Actor{});
  EXPECT_EQ(missing.error().message.substr(0, 5), "name:");

  auto id = accounts_->RegisterLinked(identity, "kim@example.com", Details(), {"surveys"}, Actor{});
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto a = accounts_->Load(*id);
  EXPECT_EQ(a->state, "open");  // the provider confirmed the address
  EXPECT_FALSE(a->has_password);
  EXPECT_EQ(a->email, "kim@example.com");
  EXPECT_TRUE(accounts_->ConsentsNow(*id)->at("surveys"));
  EXPECT_FALSE(accounts_->LinkedSince(*id)->empty());
  EXPECT_EQ(**accounts_->SignInLinked(identity, Actor{}), *id);
  EXPECT_EQ(Deliver().size(), 0u);  // no confirmation link to send
  // The person's export says how they sign in.
  auto exported = subjects_->Export(*Key::Make(KeyKind::kEmail, "kim@example.com"));
  ASSERT_TRUE(exported.ok());
  bool says = false;
  for (const auto& r : *exported) {
    for (const auto& f : r.fields)
      says = says || (f.name == "Signs in with" && f.value.find("since") != std::string::npos);
  }
  EXPECT_TRUE(says);

  // Closing removes the link with everything else the minimum does not keep.
  ASSERT_TRUE(accounts_->Close(*id, Actor{}).ok());
  EXPECT_FALSE(*accounts_->SignInLinked(identity, Actor{}));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_identities"), 0);
}

TEST_F(AccountsTest, AProviderConfirmsAnUnconfirmedRegistrationAndItsOwnerIsTold) {
  ASSERT_TRUE(accounts_->Register("lee@example.com", "correct horse battery", Details(), {}, Actor{}).ok());
  EXPECT_EQ(Deliver().size(), 1u);  // the confirmation link
  std::string identity = accounts_->IdentityHash("https://oidc.example.test/", "urn:fdc:gov.uk:2022:lee");
  auto linked = accounts_->LinkByEmail(identity, "LEE@example.com", Actor{});
  ASSERT_TRUE(linked.ok() && linked->has_value());
  EXPECT_EQ(accounts_->Load(**linked)->state, "open");
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["headers"]["Subject"], "You signed in with a sign-in service");  // no [accounts.oidc] here
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM account_links WHERE purpose = 'confirm'"), 0);
  auto activity = accounts_->ActivityOf(**linked);
  std::set<std::string> actions;
  for (const auto& e : *activity) actions.insert(e.action);
  EXPECT_TRUE(actions.count("confirmed") && actions.count("linked") && actions.count("signed_in"));
}

TEST(AccountsSettingsTest, TheSiteFileIsCheckedAgainstTheRegisterWithLines) {
  auto problem = [](const std::string& accounts) {
    auto s = Read("", accounts);
    return s.ok() ? std::string("ok") : s.error().message;
  };
  std::string base = "[mail]\nrelay = \"smtp://127.0.0.1:2525\"\nfrom = \"A <a@example.gov.uk>\"\n";
  std::string table = base + "[accounts]\ndataset = \"customer-records\"\n";
  EXPECT_EQ(problem(table), "ok");
  // A field whose category its dataset does not declare.
  EXPECT_NE(problem(table + "[[accounts.fields]]\nid = \"job\"\nlabel = \"Job\"\ncategory = \"user.employment\"\n")
                .find("site.toml:"),
            std::string::npos);
  EXPECT_NE(problem(table + "[[accounts.fields]]\nid = \"job\"\nlabel = \"Job\"\ncategory = \"user.employment\"\n")
                .find("does not declare"),
            std::string::npos);
  // A consent box for a purpose that is not consent-based.
  EXPECT_NE(
      problem(table + "[[accounts.consents]]\nid = \"x\"\nlabel = \"X\"\npurpose = \"service-delivery\"\ndataset = "
                      "\"survey-consent\"\n")
          .find("whose lawful basis is public-task"),
      std::string::npos);
  // Special category data without a consent box.
  EXPECT_NE(problem(table + "[[accounts.fields]]\nid = \"e\"\nlabel = \"E\"\ncategory = \"user.special.ethnicity\"\n"
                            "dataset = \"equality-data\"\n")
                .find("give it only with a consent box"),
            std::string::npos);
  // A dataset of another module.
  EXPECT_NE(problem(base + "[accounts]\ndataset = \"outgoing-mail\"\n").find("module \"accounts\""), std::string::npos);
  // A closure keeping a field its dataset does not declare.
  EXPECT_NE(
      problem(table + "[[accounts.fields]]\nid = \"phone\"\nlabel = \"Phone\"\ncategory = \"user.contact.phone\"\n"
                      "[accounts.closure]\ndataset = \"payment-records\"\nkeep = [\"phone\"]\n")
          .find("does not declare"),
      std::string::npos);
  // No [mail].
  EXPECT_NE(problem("[accounts]\ndataset = \"customer-records\"\n").find("[mail]"), std::string::npos);
  // Referrals from a dataset that names no sources (Article 14 asks the notice to say them).
  EXPECT_NE(problem(table + "referrals = true\n").find("'sources'"), std::string::npos);
  // An age check that is not a required date field.
  EXPECT_NE(problem(table + "minimum_age = 13\nage_check = \"name\"\n").find("age_check"), std::string::npos);

  // Signing in through a provider: its address over https, identity proving refused, and the
  // register naming it as where the email address comes from.
  std::string oidc = "[accounts.oidc]\nclient_id = \"c\"\nprivate_key_file = \"/etc/steward/key.pem\"\n";
  EXPECT_NE(problem(table + oidc + "issuer = \"https://oidc.account.gov.uk/\"\n").find("'sources'"), std::string::npos);
  EXPECT_NE(problem(table + oidc + "issuer = \"https://oidc.account.gov.uk/\"\n").find("site.toml:"),
            std::string::npos);
  EXPECT_NE(problem(table + oidc + "issuer = \"http://oidc.account.gov.uk/\"\n").find("https://"), std::string::npos);
  EXPECT_NE(problem(table + oidc + "issuer = \"https://oidc.account.gov.uk/\"\nvtr = \"Cl.Cm.P2\"\n")
                .find("proving identity"),
            std::string::npos);
  EXPECT_NE(problem(table + "[accounts.oidc]\nissuer = \"https://oidc.account.gov.uk/\"\n").find("client_id"),
            std::string::npos);
}

TEST(AccountsSettingsTest, AProviderTheRegisterNamesAsASourceIsRead) {
  std::string reg = std::string(kRegister);
  const std::string categories = "categories = [\"user.contact.name\", \"user.contact.email\", \"user.contact.phone\"";
  reg.replace(reg.find(categories), 0, "sources = [\"GOV.UK One Login, when you sign in with it\"]\n");
  auto doc = config::Document::Parse(reg + std::string(kAccounts) +
                                         "[accounts.oidc]\nissuer = \"https://oidc.integration.account.gov.uk/\"\n"
                                         "client_id = \"abc\"\nprivate_key_file = \"/etc/steward/key.pem\"\n",
                                     "site.toml");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  auto r = processing::FromDocument(*doc);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto s = ReadSettings(*doc, *r);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE((*s)->oidc.has_value());
  EXPECT_EQ((*s)->oidc->name, "GOV.UK One Login");
  EXPECT_EQ((*s)->oidc->vtr, "Cl.Cm");  // One Login's default: two factors
  EXPECT_EQ((*s)->oidc->scopes, (std::vector<std::string>{"openid", "email"}));
}

}  // namespace
}  // namespace steward::accounts
