// Subscriptions against the real queue and a real SMTP server (tests/mail/smtp_server.py, on
// Debian's aiosmtpd), each email read back with Python's email package: double opt-in, the signed
// links, one-click unsubscribe, digests, usernames and passwords, counts, purges and the
// subject-data contract.
#include "subscriptions/subscriptions.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

#include "audit/audit.h"
#include "config/document.h"
#include "mail/testing/smtp_server.h"
#include "store/testing/plan.h"
#include "store/testing/scratch.h"
#include "subject/restrictions.h"

namespace steward::subscriptions {
namespace {

using nlohmann::json;

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
id = "updates"
description = "Send you the updates you asked for"
lawful_basis = "consent"
withdraw = "Use the unsubscribe link in any email"
[[register.datasets]]
id = "subscriptions"
module = "subscriptions"
description = "Your email address and the topics you chose"
categories = ["user.contact.email", "user.account.username", "user.account.password", "user.preferences.subscriptions"]
subjects = ["subscribers"]
purposes = ["updates"]
retention = "1 month after you unsubscribe"
[[register.datasets]]
id = "outgoing-mail"
module = "mail"
description = "Email we send you, while it waits to be sent"
categories = ["user.contact.email", "user.content"]
subjects = ["subscribers"]
purposes = ["updates"]
retention = "30 days"
[[register.datasets]]
id = "mail-suppression"
module = "mail-suppression"
description = "Hashes of addresses that bounced"
categories = ["user.contact.email"]
subjects = ["subscribers"]
purposes = ["updates"]
retention = "6 years"
)";

Settings Topics(bool accounts = true) {
  Settings s;
  s.accounts = accounts;
  s.topics = {{"roads",
               "Roads and transport",
               "Closures and gritting",
               {Frequency::kImmediately, Frequency::kDaily, Frequency::kWeekly}},
              {"schools", "Schools", "Term dates", {Frequency::kImmediately, Frequency::kWeekly}}};
  return s;
}

class SubscriptionsTest : public ::testing::Test {
 protected:
  static std::vector<store::Migration> All() {
    std::vector<store::Migration> all = audit::Migrations();
    for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
    for (auto& m : subject::Restrictions::Migrations()) all.push_back(m);
    for (auto& m : mail::Queue::Migrations()) all.push_back(m);
    for (auto& m : Subscriptions::Migrations()) all.push_back(m);
    return all;
  }

  SubscriptionsTest() {
    mail_.relay = "smtp://127.0.0.1:" + std::to_string(server_.port());
    mail_.from_name = "Test Council";
    mail_.from_address = "noreply@example.gov.uk";
    mail_.starttls = false;
    subs_ = std::make_unique<Subscriptions>(
        site_.store(), site_.key(), clock_, Topics(), queue_, mail_,
        [] { return std::string("https://www.example.gov.uk"); }, "Test Council");
  }

  // Sends what is queued; returns what the server received since the last call.
  std::vector<json> Deliver() {
    auto smtp = mail::SmtpClient::Open(mail_);
    EXPECT_TRUE(smtp.ok());
    auto round = queue_.Deliver(**smtp, mail_, 100000);
    EXPECT_TRUE(round.ok()) << round.error().message;
    auto all = server_.Received();
    std::vector<json> fresh(all.begin() + static_cast<long>(seen_), all.end());
    seen_ = all.size();
    return fresh;
  }

  static std::string Text(const json& m) { return m["parts"][1]["content"]; }
  // The first link in an email's text that starts with `prefix`.
  static std::string LinkIn(const json& m, const std::string& prefix) {
    std::smatch match;
    std::string text = Text(m);
    if (!std::regex_search(text, match, std::regex(prefix + "[A-Za-z0-9.\\-]+"))) return "";
    return match.str();
  }
  static std::string TokenOf(const std::string& link) { return link.substr(link.rfind('/') + 1); }

  // Subscribes and confirms `email`; returns the confirmed subscriber.
  Subscriber Confirmed(const std::string& email, const std::vector<std::string>& topics = {"roads"},
                       Frequency f = Frequency::kImmediately) {
    EXPECT_TRUE(subs_->SignUp(email, topics, f).ok());
    auto mails = Deliver();
    EXPECT_EQ(mails.size(), 1u);
    auto s = subs_->Confirm(TokenOf(LinkIn(mails.back(), "https://www.example.gov.uk/subscriptions/confirm/")));
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? *s : Subscriber{};
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

  mail::testing::SmtpServer server_;
  store::testing::ScratchSite site_{All()};
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  mail::Queue queue_{site_.store(), site_.key(), clock_};
  mail::Settings mail_;
  std::unique_ptr<Subscriptions> subs_;
  size_t seen_ = 0;
};

TEST_F(SubscriptionsTest, NothingIsSentToAnAddressThatDidNotConfirm) {
  ASSERT_TRUE(subs_->SignUp("Resident@Example.com", {"roads"}, Frequency::kImmediately).ok());
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["rcpt_tos"], json::array({"resident@example.com"}));
  EXPECT_EQ(mails[0]["headers"]["Subject"], "Confirm your email subscription");
  EXPECT_NE(Text(mails[0]).find("Roads and transport"), std::string::npos);
  EXPECT_NE(LinkIn(mails[0], "https://www.example.gov.uk/subscriptions/confirm/"), "");

  audit::Trail trail(site_.store(), site_.key(), clock_);
  ASSERT_TRUE(subs_->Publish("roads", "The A31 is closed", "Closed on Tuesday.", trail, "staff:1").ok());
  EXPECT_EQ(*subs_->RunSends(1000), 0);
  EXPECT_TRUE(Deliver().empty()) << "an unconfirmed address gets nothing but its confirmation";
  auto counts = subs_->Counts();
  EXPECT_EQ((*counts)[0].unconfirmed, 1);
  EXPECT_EQ((*counts)[0].confirmed, 0);

  // Asking again within 10 minutes sends no second email; after, it does.
  ASSERT_TRUE(subs_->SignUp("resident@example.com", {"roads"}, Frequency::kImmediately).ok());
  EXPECT_TRUE(Deliver().empty());
  clock_.Advance(std::chrono::minutes(11));
  ASSERT_TRUE(subs_->SignUp("resident@example.com", {"roads"}, Frequency::kImmediately).ok());
  EXPECT_EQ(Deliver().size(), 1u);

  // Unconfirmed for 7 days: deleted, and the link no longer works.
  auto link = TokenOf(LinkIn(server_.Received().back(), "https://www.example.gov.uk/subscriptions/confirm/"));
  clock_.Advance(std::chrono::hours(24 * 7) + std::chrono::minutes(1));
  EXPECT_EQ(*subs_->PurgeUnconfirmed(), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscribers"), 0);
  EXPECT_EQ(subs_->Confirm(link).error().code, ErrorCode::kNotFound);
}

TEST_F(SubscriptionsTest, ConfirmReceiveAndUnsubscribeInOneClickFromTheHeader) {
  Subscriber s = Confirmed("resident@example.com", {"roads", "schools"});
  EXPECT_TRUE(s.confirmed);
  EXPECT_EQ(s.topics, (std::vector<std::string>{"roads", "schools"}));
  audit::Trail trail(site_.store(), site_.key(), clock_);
  auto send = subs_->Publish("roads", "The A31 is closed", "Closed on Tuesday.\n\nSee https://www.example.gov.uk/a31.",
                             trail, "staff:1");
  ASSERT_TRUE(send.ok()) << send.error().message;
  EXPECT_EQ(*subs_->RunSends(1000), 1);
  EXPECT_EQ(*subs_->RunSends(1000), 0) << "a send is queued once";
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  const json& m = mails[0];
  EXPECT_EQ(m["headers"]["Subject"], "The A31 is closed");
  // RFC 8058: an https link and a mailto, and the one-click marker.
  std::string header = m["headers"]["List-Unsubscribe"];
  std::smatch match;
  ASSERT_TRUE(std::regex_match(header, match,
                               std::regex("<(https://www\\.example\\.gov\\.uk/subscriptions/unsubscribe/([^>]+))>, "
                                          "<mailto:unsubscribe\\+([^@]+)@example\\.gov\\.uk>")))
      << header;
  EXPECT_EQ(match[2].str(), match[3].str());
  EXPECT_EQ(m["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
  EXPECT_NE(Text(m).find("Change what you get or how often:"), std::string::npos);
  EXPECT_EQ(m["parts"][2]["content"].get<std::string>().find("<img"), std::string::npos) << "no tracking pixel";

  // The one-click link leaves this topic (the link names it); the other stays.
  ASSERT_TRUE(subs_->UnsubscribeByLink(match[2].str()).ok());
  auto after = subs_->FromLink(subs_->links().Make({.purpose = Links::Purpose::kManage, .subscriber = s.id}, s.secret),
                               {Links::Purpose::kManage});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->topics, (std::vector<std::string>{"schools"}));
  auto sends = subs_->Sends(10);
  ASSERT_EQ(sends->size(), 1u);
  EXPECT_EQ((*sends)[0].queued, 1);
  EXPECT_EQ((*sends)[0].sent, 1);
  EXPECT_EQ((*sends)[0].unsubscribed, 1);

  // Leaving the last topic: the links stop working; the address stays for the register's month.
  ASSERT_TRUE(subs_->Unsubscribe(s.id, "all").ok());
  EXPECT_EQ(subs_->UnsubscribeByLink(match[2].str()).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscribers WHERE status = 'unsubscribed'"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscriber_topics"), 0);
  ASSERT_TRUE(subs_->Publish("schools", "Term dates", "Set.", trail, "staff:1").ok());
  EXPECT_EQ(*subs_->RunSends(1000), 0);
}

TEST_F(SubscriptionsTest, ALinkIsSignedForItsSubscriberAndPurpose) {
  Subscriber a = Confirmed("a@example.com");
  Subscriber b = Confirmed("b@example.com");
  std::string manage = subs_->links().Make({.purpose = Links::Purpose::kManage, .subscriber = a.id}, a.secret);
  EXPECT_TRUE(subs_->FromLink(manage, {Links::Purpose::kManage}).ok());
  // Another purpose, another subscriber's number, an altered signature: refused.
  EXPECT_FALSE(subs_->FromLink(manage, {Links::Purpose::kUnsubscribe}).ok());
  std::string other = manage;
  other.replace(2, std::to_string(a.id).size(), std::to_string(b.id));
  EXPECT_FALSE(subs_->FromLink(other, {Links::Purpose::kManage}).ok());
  std::string altered = manage;
  altered.back() = altered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(subs_->FromLink(altered, {Links::Purpose::kManage}).ok());
  EXPECT_FALSE(subs_->FromLink("m.1.0.zz", {Links::Purpose::kManage}).ok());
  EXPECT_FALSE(Links::Read(std::string(500, 'a')).has_value());
  // A session link lasts an hour.
  std::string session = subs_->SessionLink(a);
  session = session.substr(session.rfind('/') + 1);
  EXPECT_TRUE(subs_->FromLink(session, {Links::Purpose::kSession}).ok());
  clock_.Advance(std::chrono::minutes(61));
  EXPECT_FALSE(subs_->FromLink(session, {Links::Purpose::kSession}).ok());
}

TEST_F(SubscriptionsTest, SignUpChecksWhatItIsGiven) {
  EXPECT_EQ(subs_->SignUp("not an address", {"roads"}, Frequency::kDaily).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(subs_->SignUp("a@example.com", {}, Frequency::kDaily).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(subs_->SignUp("a@example.com", {"nope"}, Frequency::kDaily).error().code, ErrorCode::kInvalidArgument);
  auto daily = subs_->SignUp("a@example.com", {"schools"}, Frequency::kDaily);
  ASSERT_FALSE(daily.ok());
  EXPECT_EQ(daily.error().message, "frequency: 'Schools' is not sent daily");
  EXPECT_EQ(daily.error().message.find("a@example.com"), std::string::npos);
  EXPECT_TRUE(Deliver().empty());
}

TEST_F(SubscriptionsTest, AHardBounceSuppressesTheAddressForEveryLaterSend) {
  Subscriber s = Confirmed("bouncer@example.com");
  audit::Trail trail(site_.store(), site_.key(), clock_);
  ASSERT_TRUE(subs_->Publish("roads", "One", "First.", trail, "staff:1").ok());
  ASSERT_EQ(*subs_->RunSends(1000), 1);
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 1u);
  std::string from = mails[0]["mail_from"];
  std::string dsn = "From: MAILER-DAEMON@example.com\r\nTo: " + from +
                    "\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n"
                    "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
                    "Final-Recipient: rfc822; bouncer@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n";
  auto bounce = queue_.HandleBounce(dsn);
  ASSERT_TRUE(bounce.ok());
  EXPECT_TRUE(bounce->suppressed);
  auto counts = subs_->Counts();
  EXPECT_EQ((*counts)[0].suppressed, 1);
  EXPECT_EQ((*counts)[0].confirmed, 0);
  auto sends = subs_->Sends(1);
  EXPECT_EQ((*sends)[0].bounced, 1);
  ASSERT_TRUE(subs_->Publish("roads", "Two", "Second.", trail, "staff:1").ok());
  EXPECT_EQ(*subs_->RunSends(1000), 0) << "a suppressed address is not queued";
  EXPECT_TRUE(Deliver().empty());
  // Nor can it be signed up again: nothing is kept or sent.
  ASSERT_TRUE(subs_->SignUp("bouncer@example.com", {"schools"}, Frequency::kWeekly).ok());
  EXPECT_TRUE(Deliver().empty());
  (void)s;
}

TEST_F(SubscriptionsTest, DigestsGatherTheDaysMessagesIntoOneEmail) {
  // 1,800,000,000 is 2027-01-15T08:00:00Z, a Friday.
  Subscriber daily = Confirmed("daily@example.com", {"roads", "schools"}, Frequency::kWeekly);
  ASSERT_TRUE(subs_->Update(daily.id, {"roads"}, Frequency::kDaily).ok());
  Subscriber now = Confirmed("now@example.com", {"roads"});
  audit::Trail trail(site_.store(), site_.key(), clock_);
  ASSERT_TRUE(subs_->Publish("roads", "Gritting tonight", "All A roads.", trail, "staff:1").ok());
  ASSERT_TRUE(subs_->Publish("roads", "A31 closed", "On Tuesday.", trail, "staff:1").ok());
  EXPECT_EQ(*subs_->RunSends(1000), 2) << "the immediate subscriber's two emails";
  EXPECT_EQ(*subs_->StartDigests(), 0) << "nothing published in the last whole day";
  // The next 07:00 gathers the day.
  clock_.Advance(std::chrono::hours(23));
  EXPECT_EQ(*subs_->StartDigests(), 1);
  EXPECT_EQ(*subs_->StartDigests(), 0) << "one digest a day";
  EXPECT_EQ(*subs_->RunSends(1000), 1);
  auto mails = Deliver();
  ASSERT_EQ(mails.size(), 3u);
  const json& digest = mails.back();
  EXPECT_EQ(digest["rcpt_tos"], json::array({"daily@example.com"}));
  EXPECT_EQ(digest["headers"]["Subject"], "Test Council: your daily update");
  std::string text = Text(digest);
  EXPECT_NE(text.find("Gritting tonight"), std::string::npos);
  EXPECT_NE(text.find("A31 closed"), std::string::npos);
  EXPECT_EQ(digest["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
  (void)now;
}

TEST_F(SubscriptionsTest, AUsernameAndPasswordOpenTheSamePage) {
  Subscriber s = Confirmed("user@example.com");
  EXPECT_EQ(subs_->SetCredentials(s.id, "ab", "a long enough password").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(subs_->SetCredentials(s.id, "resident", "short").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(subs_->SetCredentials(s.id, "resident", "resident-password-1").error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(subs_->SetCredentials(s.id, "Resident", "correct horse battery").ok());
  Subscriber other = Confirmed("other@example.com");
  EXPECT_EQ(subs_->SetCredentials(other.id, "resident", "another fine password").error().code,
            ErrorCode::kAlreadyExists);
  auto in = subs_->SignIn("RESIDENT", "correct horse battery");
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(in->id, s.id);
  EXPECT_EQ(in->username, "resident");
  EXPECT_EQ(subs_->SignIn("resident", "wrong password here").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(subs_->SignIn("nobody", "correct horse battery").error().code, ErrorCode::kPermissionDenied);
  // The username is sealed: only a keyed hash of it is plain.
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscribers WHERE username_hash IS NOT NULL"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscribers WHERE CAST(username AS TEXT) LIKE '%resident%'"), 0);
  // Unsubscribing from everything takes the credentials too.
  ASSERT_TRUE(subs_->Unsubscribe(s.id, "all").ok());
  EXPECT_FALSE(subs_->SignIn("resident", "correct horse battery").ok());
}

TEST_F(SubscriptionsTest, TheSubjectDataContractFindsExportsAndErasesASubscriber) {
  Subscriber s = Confirmed("person@example.com", {"roads", "schools"});
  subject::Restrictions restrictions(site_.key(), clock_, nullptr);
  audit::Trail trail(site_.store(), site_.key(), clock_);
  subjects::SealedData data({.module = "subscriptions",
                             .store = site_.store(),
                             .trail = trail,
                             .restrictions = restrictions,
                             .pseudonym_key = "k"},
                            site_.key(), clock_, Subscriptions::SealedTables());
  auto key = subject::Key::Make(subject::KeyKind::kEmail, "person@example.com");
  auto found = data.Find(*key);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_FALSE(found->holdings.empty());
  int64_t held = 0;
  for (const auto& h : found->holdings) held += h.count;
  EXPECT_EQ(held, 3) << "the subscriber and two topics";
  auto records = data.Export(*key);
  ASSERT_TRUE(records.ok());
  std::string all;
  for (const auto& r : *records) {
    for (const auto& f : r.fields) all += f.name + "=" + f.value + ";";
  }
  EXPECT_NE(all.find("Your email address=person@example.com"), std::string::npos) << all;
  EXPECT_NE(all.find("A topic you get emails about=schools"), std::string::npos) << all;
  auto erased = data.Erase(*key, {.actor = "staff:1"});
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscribers"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscriber_topics"), 0);
  EXPECT_FALSE(subs_
                   ->FromLink(subs_->links().Make({.purpose = Links::Purpose::kManage, .subscriber = s.id}, s.secret),
                              {Links::Purpose::kManage})
                   .ok());
}

TEST_F(SubscriptionsTest, RetentionDeletesThoseWhoLeftAfterTheRegistersPeriod) {
  Subscriber left = Confirmed("left@example.com");
  Subscriber stays = Confirmed("stays@example.com");
  ASSERT_TRUE(subs_->Unsubscribe(left.id, "all").ok());
  auto doc = config::Document::Parse(kRegister, "site.toml");
  auto reg = processing::FromDocument(*doc);
  ASSERT_TRUE(reg.ok()) << reg.error().message;
  const processing::Dataset* dataset = nullptr;
  for (const auto& d : reg->datasets) {
    if (d.id == "subscriptions") dataset = &d;
  }
  ASSERT_NE(dataset, nullptr);
  auto storage = Subscriptions::Storage();
  auto purge = [&](SystemTime cutoff) {
    int64_t n = 0;
    EXPECT_TRUE(site_.store()
                    .Write([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(n, storage.purge(c, *dataset, FormatRfc3339Millis(cutoff),
                                                                FormatRfc3339Millis(clock_.Now()), false, 0));
                      return Ok();
                    })
                    .ok());
    return n;
  };
  EXPECT_EQ(purge(clock_.Now() - std::chrono::hours(24 * 30)), 0) << "left less than a month ago";
  clock_.Advance(std::chrono::hours(24 * 31));
  EXPECT_EQ(purge(clock_.Now() - std::chrono::hours(24 * 30)), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscribers"), 1) << "the one who stays is kept";
  (void)stays;
}

// A purge goes a batch at a time: at most its limit of subscribers, their topics with them, each
// batch seeking by an index that holds nothing kept, so a large list never reads again the
// subscribers the batches before it kept.
TEST_F(SubscriptionsTest, ThePurgeGoesInBatchesThroughItsIndex) {
  std::vector<Subscriber> old;
  old.reserve(5);
  for (int i = 0; i < 5; ++i)
    old.push_back(Confirmed("old" + std::to_string(i) + "@example.com", {"roads", "schools"}));
  ASSERT_TRUE(subs_->Unsubscribe(old[0].id, "all").ok());
  ASSERT_TRUE(subs_->Unsubscribe(old[1].id, "all").ok());
  clock_.Advance(std::chrono::hours(24 * 400));
  Subscriber recent = Confirmed("recent@example.com", {"roads", "schools"});
  ASSERT_TRUE(subs_->Unsubscribe(recent.id, "all").ok());
  std::vector<std::pair<std::string, std::vector<store::Value>>> deletes;
  store::StatementObserver observer = [&](std::string_view sql, const std::vector<store::Value>& params) {
    if (sql.starts_with("DELETE FROM subscri")) deletes.emplace_back(std::string(sql), params);
  };
  auto purge = [&](processing::Retention::Kind kind, int64_t limit) {
    processing::Dataset d;
    d.id = "subscriptions";
    d.module = "subscriptions";
    d.retention.kind = kind;
    int64_t n = -1;
    store::ObserveStatements(&observer);
    Status s = site_.store().Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(
          n, Subscriptions::Storage().purge(c, d, FormatRfc3339Millis(clock_.Now() - std::chrono::hours(24 * 365)),
                                            FormatRfc3339Millis(clock_.Now()), false, limit));
      return Ok();
    });
    store::ObserveStatements(nullptr);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return n;
  };
  const std::string orphans =
      "SELECT count(*) FROM subscriber_topics WHERE subscriber_id NOT IN (SELECT id FROM subscribers)";
  // "1 month after you unsubscribe": the two who left a year ago, not the one who left today.
  EXPECT_EQ(purge(processing::Retention::Kind::kAfterEvent, 1), 1);
  EXPECT_EQ(purge(processing::Retention::Kind::kAfterEvent, 1), 1);
  EXPECT_EQ(purge(processing::Retention::Kind::kAfterEvent, 1), 0);
  // A plain period: the three still subscribed since a year ago, two a batch, with their topics.
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscriber_topics"), 6);
  EXPECT_EQ(purge(processing::Retention::Kind::kPeriod, 2), 2);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscribers"), 2);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscriber_topics"), 2) << "the topics went with their subscribers";
  EXPECT_EQ(purge(processing::Retention::Kind::kPeriod, 2), 1);
  EXPECT_EQ(purge(processing::Retention::Kind::kPeriod, 2), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM subscribers"), 1) << "the one who signed up today is kept";
  EXPECT_EQ(Scalar(orphans), 0);

  if (site_.store().backend() != store::Backend::kSqlite) return;  // SQLite's query plans
  ASSERT_EQ(deletes.size(), 12u) << "each batch: the topics, then the subscribers";
  for (const auto& [sql, params] : deletes) {
    auto plan = store::testing::QueryPlan(site_.store(), sql, params);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const std::string& text = *plan;
    EXPECT_EQ(text.find("SCAN subscri"), std::string::npos) << sql << "\n" << text;
    EXPECT_NE(text.find(sql.find("unsubscribed_at") != std::string::npos
                            ? "INDEX subscribers_left (status=? AND unsubscribed_at<?)"
                            : "INDEX subscribers_renewed (renewed_at<?)"),
              std::string::npos)
        << sql << "\n"
        << text;
  }
}

TEST_F(SubscriptionsTest, AnImportBringsConfirmedSubscribersWithoutAnEmail) {
  Subscriber here = Confirmed("here@example.com");
  bool added = false, again = true;
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        added, subs_->Import(c, "Old@Example.com", {"roads", "schools"}, Frequency::kWeekly));
                    STEWARD_ASSIGN_OR_RETURN(again,
                                             subs_->Import(c, "here@example.com", {"schools"}, Frequency::kWeekly));
                    return Ok();
                  })
                  .ok());
  EXPECT_TRUE(added);
  EXPECT_FALSE(again) << "someone already subscribed here is left as they are";
  EXPECT_TRUE(Deliver().empty()) << "no confirmation email: they confirmed in the previous system";
  auto counts = subs_->Counts();
  EXPECT_EQ((*counts)[0].confirmed, 2);
  EXPECT_EQ((*counts)[1].confirmed, 1);
  Status bad = site_.store().Write([&](store::Connection& c) -> Status {
    return subs_->Import(c, "x@example.com", {"schools"}, Frequency::kDaily).ok()
               ? Ok()
               : MakeError(ErrorCode::kInvalidArgument, "refused");
  });
  EXPECT_FALSE(bad.ok()) << "schools is not sent daily";
  (void)here;
}

}  // namespace
}  // namespace steward::subscriptions
