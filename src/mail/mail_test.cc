// Outbound mail against a real SMTP server (tests/mail/smtp_server.py, on Debian's aiosmtpd), each
// message read back with Python's email package: composition, delivery, retries and give-up,
// STARTTLS, and what the queue keeps.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/audit.h"
#include "config/document.h"
#include "mail/dkim.h"
#include "mail/mail.h"
#include "mail/testing/smtp_server.h"
#include "store/testing/scratch.h"
#include "subject/restrictions.h"

namespace steward::mail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::SmtpServer;

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
id = "outgoing-mail"
module = "mail"
description = "Email we send you, while it waits to be sent"
categories = ["user.contact.email", "user.content"]
subjects = ["people we email"]
purposes = ["updates"]
retention = "30 days"
[[register.datasets]]
id = "mail-suppression"
module = "mail-suppression"
description = "A keyed hash of addresses that bounced for good or complained, so that we do not email them again"
categories = ["user.contact.email"]
subjects = ["people we email"]
purposes = ["updates"]
retention = "6 years"
)";

Settings Relay(int port) {
  Settings s;
  s.relay = "smtp://127.0.0.1:" + std::to_string(port);
  s.from_name = "Test Council";
  s.from_address = "noreply@example.gov.uk";
  s.starttls = false;
  return s;
}

class MailTest : public ::testing::Test {
 protected:
  static std::vector<store::Migration> All() {
    std::vector<store::Migration> all = audit::Migrations();
    for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
    for (auto& m : Queue::Migrations()) all.push_back(m);
    return all;
  }
  // The bounce token of a message the server received, from its envelope sender.
  static std::string Token(const nlohmann::json& received) {
    std::string from = received["mail_from"];
    return from.substr(8, from.find('@') - 8);
  }
  store::testing::ScratchSite site_{All()};
  FakeClock clock_{SystemTime(std::chrono::seconds(1'800'000'000))};
  Queue queue_{site_.store(), site_.key(), clock_};

  // The row's columns that may hold personal data, as stored.
  std::pair<bool, bool> Sealed(int64_t id) {
    bool recipient = false, message = false;
    EXPECT_TRUE(site_.store()
                    .Read([&](store::Connection& c) -> Status {
                      STEWARD_ASSIGN_OR_RETURN(auto rows,
                                               c.Query("SELECT recipient, message FROM mail_queue WHERE id = ?", {id}));
                      recipient = !rows.front().IsNull(0);
                      message = !rows.front().IsNull(1);
                      return Ok();
                    })
                    .ok());
    return {recipient, message};
  }
};

TEST_F(MailTest, AMessageArrivesAsThePersonsMailProgramReadsIt) {
  SmtpServer server;
  Settings s = Relay(server.port());
  auto smtp = SmtpClient::Open(s);
  ASSERT_TRUE(smtp.ok());
  auto id =
      queue_.Enqueue({.to = "resident@example.com",
                      .subject = "Road closures this week – Café Lane",
                      .text = "Hello,\n\nThe A31 is closed on Tuesday. Details: https://www.example.gov.uk/roads.\n\n"
                              ".A line that starts with a dot, and one that is much longer than seventy-six "
                              "characters so that quoted-printable has to break it = with an equals sign.",
                      .headers = {{"List-Unsubscribe", "<https://www.example.gov.uk/unsubscribe/abc>"}}},
                     s);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(Sealed(*id), (std::pair<bool, bool>{true, true}));
  auto round = queue_.Deliver(**smtp, s, 10);
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->sent, 1);
  auto received = server.Received();
  ASSERT_EQ(received.size(), 1u);
  const json& m = received[0];
  EXPECT_EQ(m["rcpt_tos"], json::array({"resident@example.com"}));
  // The envelope sender carries a token for bounces, never the address.
  std::string from = m["mail_from"];
  EXPECT_EQ(from.rfind("bounces+", 0), 0u) << from;
  EXPECT_NE(from.find("@example.gov.uk"), std::string::npos);
  EXPECT_EQ(from.find("resident"), std::string::npos);
  EXPECT_EQ(m["headers"]["Subject"], "Road closures this week – Café Lane");
  EXPECT_EQ(m["headers"]["From"], "Test Council <noreply@example.gov.uk>");
  EXPECT_EQ(m["headers"]["To"], "resident@example.com");
  EXPECT_EQ(m["headers"]["List-Unsubscribe"], "<https://www.example.gov.uk/unsubscribe/abc>");
  EXPECT_EQ(m["headers"]["MIME-Version"], "1.0");
  EXPECT_NE(m["headers"]["Date"].get<std::string>().find("+0000"), std::string::npos);
  std::string message_id = m["headers"]["Message-ID"];
  EXPECT_TRUE(message_id.front() == '<' && message_id.ends_with("@example.gov.uk>")) << message_id;
  EXPECT_FALSE(m["bare_lf"]) << "CRLF line ends only";
  EXPECT_LE(m["longest_line"].get<int>(), 78) << m["longest"];
  ASSERT_EQ(m["parts"].size(), 3u);
  EXPECT_EQ(m["parts"][0]["type"], "multipart/alternative");
  EXPECT_EQ(m["parts"][1]["type"], "text/plain");
  EXPECT_EQ(m["parts"][1]["charset"], "utf-8");
  std::string text = m["parts"][1]["content"];
  EXPECT_NE(text.find("The A31 is closed on Tuesday."), std::string::npos);
  EXPECT_NE(text.find("\n.A line that starts with a dot"), std::string::npos) << text;
  EXPECT_NE(text.find("= with an equals sign."), std::string::npos);
  EXPECT_EQ(m["parts"][2]["type"], "text/html");
  std::string html = m["parts"][2]["content"];
  // Links as written: no tracking, no rewriting, no pixel.
  EXPECT_NE(html.find("<a href=\"https://www.example.gov.uk/roads\""), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos);
  // Once sent, the address and the message are gone from the queue.
  EXPECT_EQ(Sealed(*id), (std::pair<bool, bool>{false, false}));
  EXPECT_EQ(queue_.StateOf(*id)->status, "sent");
}

TEST_F(MailTest, ARefusalFailsAtOnceATemporaryFailureRetriesWithBackoffThenGivesUp) {
  SmtpServer server;
  Settings s = Relay(server.port());
  auto smtp = SmtpClient::Open(s);
  auto refused = queue_.Enqueue({.to = "reject-me@example.com", .subject = "s", .text = "t"}, s);
  auto deferred = queue_.Enqueue({.to = "defer-me@example.com", .subject = "s", .text = "t"}, s);
  auto fine = queue_.Enqueue({.to = "fine@example.com", .subject = "s", .text = "t"}, s);
  auto round = queue_.Deliver(**smtp, s, 10);
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->sent, 1);
  EXPECT_EQ(round->failed, 1);
  EXPECT_EQ(round->deferred, 1);
  auto state = queue_.StateOf(*refused);
  EXPECT_EQ(state->status, "failed");
  EXPECT_EQ(state->reason, "smtp 550") << "the code, never the server's words (which quote the address)";
  EXPECT_EQ(Sealed(*refused), (std::pair<bool, bool>{false, false}));
  state = queue_.StateOf(*deferred);
  EXPECT_EQ(state->status, "queued");
  EXPECT_EQ(state->reason, "smtp 451");
  EXPECT_EQ(state->attempts, 1);
  EXPECT_EQ(queue_.StateOf(*fine)->status, "sent");

  // Not due again until its backoff has passed.
  EXPECT_EQ(queue_.Deliver(**smtp, s, 10)->deferred, 0);
  clock_.Advance(Queue::Backoff(1));
  EXPECT_EQ(queue_.Deliver(**smtp, s, 10)->deferred, 1);
  EXPECT_EQ(queue_.StateOf(*deferred)->attempts, 2);
  EXPECT_EQ(Queue::Backoff(2), std::chrono::minutes(2));
  EXPECT_EQ(Queue::Backoff(20), std::chrono::minutes(60));
  // Past 72 hours it is given up, with the last reason.
  clock_.Advance(Queue::kGiveUpAfter);
  round = queue_.Deliver(**smtp, s, 10);
  EXPECT_EQ(round->failed, 1);
  state = queue_.StateOf(*deferred);
  EXPECT_EQ(state->status, "failed");
  EXPECT_EQ(state->reason, "gave up: smtp 451");
  EXPECT_EQ(server.Received().size(), 1u) << "only the one that was accepted arrived";
  auto counts = queue_.Count();
  EXPECT_EQ(counts->sent, 1);
  EXPECT_EQ(counts->failed, 2);
  EXPECT_EQ(counts->queued, 0);
}

TEST_F(MailTest, NoRelayMeansWaitingNotLosing) {
  int port = 0;
  {
    SmtpServer gone;  // a port that nothing listens on once it stops
    port = gone.port();
  }
  Settings s = Relay(port);
  auto smtp = SmtpClient::Open(s);
  auto id = queue_.Enqueue({.to = "someone@example.com", .subject = "s", .text = "t"}, s);
  EXPECT_EQ(queue_.Deliver(**smtp, s, 10)->deferred, 1);
  auto state = queue_.StateOf(*id);
  EXPECT_EQ(state->status, "queued");
  EXPECT_EQ(state->reason, "no connection to the relay");
  EXPECT_EQ(Sealed(*id), (std::pair<bool, bool>{true, true})) << "kept sealed until it is sent";
}

TEST_F(MailTest, StartTlsIsRequiredAndTheRelaysCertificateChecked) {
  fs::path dir = fs::temp_directory_path() / ("steward-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string make =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(make.c_str()), 0);
  SmtpServer tls({"--tls", cert, key});
  Settings s = Relay(tls.port());
  s.starttls = true;
  // Without trusting the relay's certificate: refused, and kept to try again.
  auto untrusted = SmtpClient::Open(s);
  auto first = queue_.Enqueue({.to = "someone@example.com", .subject = "s", .text = "t"}, s);
  EXPECT_EQ(queue_.Deliver(**untrusted, s, 10)->deferred, 1);
  EXPECT_EQ(queue_.StateOf(*first)->reason, "TLS with the relay failed");
  s.ca_file = cert;
  auto trusted = SmtpClient::Open(s);
  clock_.Advance(Queue::Backoff(1));
  EXPECT_EQ(queue_.Deliver(**trusted, s, 10)->sent, 1);
  auto received = tls.Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0]["tls"]) << "sent after STARTTLS";

  // A relay that offers no STARTTLS gets nothing when it is required.
  SmtpServer plain;
  Settings p = Relay(plain.port());
  p.starttls = true;
  auto smtp = SmtpClient::Open(p);
  auto second = queue_.Enqueue({.to = "someone@example.com", .subject = "s", .text = "t"}, p);
  EXPECT_EQ(queue_.Deliver(**smtp, p, 10)->deferred, 1);
  EXPECT_EQ(queue_.StateOf(*second)->reason, "the relay does not offer STARTTLS");
  EXPECT_TRUE(plain.Received().empty());
  fs::remove_all(dir);
}

TEST_F(MailTest, ErasingThePersonStopsTheirQueuedMail) {
  SmtpServer server;
  Settings s = Relay(server.port());
  auto smtp = SmtpClient::Open(s);
  auto id = queue_.Enqueue({.to = "leaving@example.com", .subject = "s", .text = "t"}, s);
  subjects::SubjectStore subjects(site_.key(), clock_);
  ASSERT_TRUE(site_.store()
                  .Write([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(
                        auto found,
                        subjects.Lookup(c, *subject::Key::Make(subject::KeyKind::kEmail, "Leaving@Example.com")));
                    if (!found) return MakeError(ErrorCode::kNotFound, "no subject for the address");
                    STEWARD_RETURN_IF_ERROR(subjects.Destroy(c, *found));
                    return Ok();
                  })
                  .ok());
  auto round = queue_.Deliver(**smtp, s, 10);
  EXPECT_EQ(round->failed, 1);
  EXPECT_EQ(queue_.StateOf(*id)->reason, "erased");
  EXPECT_TRUE(server.Received().empty());
}

// A delivery status notification as a mail server writes it (RFC 3464), to the bounce address.
std::string Dsn(const std::string& token, const std::string& action, const std::string& status) {
  return "From: MAILER-DAEMON@mx.example.com\r\nTo: bounces+" + token +
         "@example.gov.uk\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
         "--b\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.example.com.\r\n\r\n"
         "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
         "Final-Recipient: rfc822; somebody@example.com\r\nAction: " +
         action + "\r\nStatus: " + status + "\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n--b--\r\n";
}

// An abuse report (RFC 5965) from a mailbox provider's feedback loop, with the message returned.
std::string Arf(const std::string& token) {
  return "From: fbl@provider.example\r\nTo: abuse@example.gov.uk\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=feedback-report; boundary=\"f\"\r\n\r\n"
         "--f\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n"
         "--f\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\n"
         "Version: 1\r\n\r\n--f\r\nContent-Type: message/rfc822\r\n\r\nReturn-Path: <bounces+" +
         token + "@example.gov.uk>\r\nFrom: Test Council <noreply@example.gov.uk>\r\nSubject: s\r\n\r\nt\r\n--f--\r\n";
}

TEST_F(MailTest, HardBouncesAndComplaintsSuppressSoftOnesAfterThree) {
  SmtpServer server;
  Settings s = Relay(server.port());
  auto smtp = SmtpClient::Open(s);
  for (const char* to : {"gone@example.com", "slow@example.com", "cross@example.com", "later@example.com"}) {
    ASSERT_TRUE(queue_.Enqueue({.to = to, .subject = "s", .text = "t"}, s).ok());
  }
  auto waiting = queue_.Enqueue({.to = "later@example.com", .subject = "second", .text = "t"}, s);
  ASSERT_EQ(queue_.Deliver(**smtp, s, 4)->sent, 4);
  auto received = server.Received();
  ASSERT_EQ(received.size(), 4u);

  using Kind = Queue::Bounce::Kind;
  auto hard = queue_.HandleBounce(Dsn(Token(received[0]), "failed", "5.1.1"));
  ASSERT_TRUE(hard.ok()) << hard.error().message;
  EXPECT_EQ(hard->kind, Kind::kHard);
  EXPECT_EQ(hard->message, 1);
  EXPECT_TRUE(hard->suppressed);
  EXPECT_EQ(queue_.Enqueue({.to = "Gone@Example.com", .subject = "s", .text = "t"}, s).error().code,
            ErrorCode::kFailedPrecondition)
      << "a suppressed address is not queued again, however it is written";

  for (int i = 1; i <= 3; ++i) {
    auto soft = queue_.HandleBounce(Dsn(Token(received[1]), "delayed", "4.4.1"));
    EXPECT_EQ(soft->kind, Kind::kSoft);
    EXPECT_EQ(soft->suppressed, i == Queue::kSoftBouncesToSuppress) << i;
  }
  auto complaint = queue_.HandleBounce(Arf(Token(received[2])));
  EXPECT_EQ(complaint->kind, Kind::kComplaint);
  EXPECT_TRUE(complaint->suppressed);

  // A message queued before its address was suppressed is not sent.
  ASSERT_TRUE(queue_.HandleBounce(Dsn(Token(received[3]), "failed", "5.2.1"))->suppressed);
  EXPECT_EQ(queue_.Deliver(**smtp, s, 10)->failed, 1);
  EXPECT_EQ(queue_.StateOf(*waiting)->reason, "suppressed");
  EXPECT_EQ(server.Received().size(), 4u);

  EXPECT_EQ(queue_.HandleBounce(Dsn(std::string(32, 'a'), "failed", "5.1.1"))->kind, Kind::kNotOurs);
  EXPECT_EQ(queue_.HandleBounce("just some text")->kind, Kind::kNotOurs);
  // The list holds hashes, never an address.
  ASSERT_TRUE(site_.store()
                  .Read([&](store::Connection& c) -> Status {
                    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT address_hash, reason FROM mail_suppression"));
                    EXPECT_EQ(rows.size(), 4u);
                    for (const auto& r : rows) {
                      EXPECT_EQ(std::get<store::Blob>(r.at(0)).bytes.find("example.com"), std::string::npos);
                    }
                    return Ok();
                  })
                  .ok());
}

TEST_F(MailTest, PerDayIsALimitOverAnyTwentyFourHours) {
  SmtpServer server;
  Settings s = Relay(server.port());
  s.per_day = 2;
  auto smtp = SmtpClient::Open(s);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(queue_.Enqueue({.to = "a@example.com", .subject = "s", .text = "t"}, s).ok());
  EXPECT_EQ(queue_.Deliver(**smtp, s, 10)->sent, 2);
  EXPECT_EQ(queue_.Deliver(**smtp, s, 10)->sent, 0);
  clock_.Advance(std::chrono::hours(24) + std::chrono::seconds(1));
  EXPECT_EQ(queue_.Deliver(**smtp, s, 10)->sent, 1);
}

// A signing key made with openssl, and the DNS TXT record a receiver would find for it.
struct DkimKey {
  std::string pem, record;
};

DkimKey MakeDkimKey(const fs::path& dir, const std::string& name, bool ed25519) {
  DkimKey k{(dir / (name + ".pem")).string(), (dir / (name + ".txt")).string()};
  std::string make = ed25519 ? "openssl genpkey -algorithm ED25519 -out " + k.pem
                             : "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + k.pem;
  // RFC 8463: an Ed25519 record holds the raw 32-byte key; an RSA one the DER public key.
  std::string pub = "openssl pkey -in " + k.pem + " -pubout -outform DER" + (ed25519 ? " | tail -c 32" : "");
  std::string record = "printf 'v=DKIM1; k=%s; p=%s' " + std::string(ed25519 ? "ed25519" : "rsa") + " \"$(" + pub +
                       " | base64 -w0)\" > " + k.record;
  EXPECT_EQ(std::system((make + " 2>/dev/null && " + record).c_str()), 0);
  return k;
}

TEST_F(MailTest, DkimSignaturesHoldWhereAReceiverChecksThem) {
  fs::path dir = fs::temp_directory_path() / ("steward-dkim-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (bool ed25519 : {false, true}) {
    SCOPED_TRACE(ed25519 ? "ed25519-sha256" : "rsa-sha256");
    DkimKey key = MakeDkimKey(dir, ed25519 ? "ed" : "rsa", ed25519);
    SmtpServer server({"--dkim-record", key.record});
    Settings s = Relay(server.port());
    s.dkim_selector = "steward";
    s.dkim_key_file = key.pem;
    auto smtp = SmtpClient::Open(s);
    ASSERT_TRUE(smtp.ok()) << smtp.error().message;
    ASSERT_TRUE(queue_
                    .Enqueue({.to = "resident@example.com",
                              .subject = "Bin collections over Christmas – what changes, and when it changes back",
                              .text = "Hello,  with  double  spaces \n\nand trailing blank lines\n\n\n",
                              .headers = {{"List-Unsubscribe", "<https://www.example.gov.uk/u/abc>"},
                                          {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}}},
                             s)
                    .ok());
    ASSERT_EQ(queue_.Deliver(**smtp, s, 10)->sent, 1);
    auto received = server.Received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_TRUE(received[0]["dkim"].get<bool>()) << "the signature holds";
    std::string header = received[0]["headers"]["DKIM-Signature"];
    EXPECT_NE(header.find(ed25519 ? "a=ed25519-sha256" : "a=rsa-sha256"), std::string::npos) << header;
    EXPECT_NE(header.find("d=example.gov.uk"), std::string::npos);
    EXPECT_NE(header.find("s=steward"), std::string::npos);
    EXPECT_NE(header.find("h=from:to:subject:date:message-id:mime-version:content-type:list-unsubscribe:"
                          "list-unsubscribe-post"),
              std::string::npos)
        << header;
  }
  // Signed by another key than the record's: the check fails, so it is a real one.
  DkimKey other = MakeDkimKey(dir, "other", false);
  SmtpServer server({"--dkim-record", (dir / "rsa.txt").string()});
  Settings s = Relay(server.port());
  s.dkim_selector = "steward";
  s.dkim_key_file = other.pem;
  auto smtp = SmtpClient::Open(s);
  ASSERT_TRUE(queue_.Enqueue({.to = "resident@example.com", .subject = "s", .text = "t"}, s).ok());
  ASSERT_EQ(queue_.Deliver(**smtp, s, 10)->sent, 1);
  EXPECT_FALSE(server.Received().at(0)["dkim"].get<bool>());
  s.dkim_key_file = (dir / "missing.pem").string();
  EXPECT_EQ(SmtpClient::Open(s).error().code, ErrorCode::kInvalidArgument);
  fs::remove_all(dir);
}

TEST(DkimTest, RelaxedCanonicalisationAsRfc6376SaysIt) {
  // RFC 6376 section 3.4.5.
  EXPECT_EQ(DkimSigner::RelaxedHeader("A", " X"), "a:X\r\n");
  EXPECT_EQ(DkimSigner::RelaxedHeader("B ", " Y\t\r\n\tZ  "), "b:Y Z\r\n");
  EXPECT_EQ(DkimSigner::RelaxedBody(" C \r\nD \t E\r\n\r\n\r\n"), " C\r\nD E\r\n");
  EXPECT_EQ(DkimSigner::RelaxedBody(""), "\r\n");
}

TEST(MailSettingsTest, ReadsTheTableAndRefusesWhatWouldLeakOrMislead) {
  auto read = [](const std::string& mail, const std::string& reg = kRegister) {
    auto doc = config::Document::Parse(reg + mail, "site.toml");
    EXPECT_TRUE(doc.ok());
    auto r = processing::FromDocument(*doc);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return ReadSettings(*doc, *r);
  };
  auto good = read(R"(
[mail]
relay = "smtp://mail.example.gov.uk:587"
from = "Hampshire County Council <noreply@hants.gov.uk>"
username = "steward"
password_file = "/etc/steward/smtp-password"
per_second = 20
)");
  ASSERT_TRUE(good.ok()) << good.error().message;
  ASSERT_TRUE(good->has_value());
  EXPECT_EQ((*good)->from_name, "Hampshire County Council");
  EXPECT_EQ((*good)->from_address, "noreply@hants.gov.uk");
  EXPECT_EQ((*good)->Domain(), "hants.gov.uk");
  EXPECT_TRUE((*good)->starttls);
  EXPECT_EQ((*good)->per_second, 20);
  EXPECT_FALSE(read("")->has_value()) << "no [mail]: no mail";

  auto bad = read(R"(
[mail]
relay = "http://mail.example.gov.uk"
from = "no address here"
starttls = "none"
username = "steward"
)");
  ASSERT_FALSE(bad.ok());
  const std::string& m = bad.error().message;
  for (const char* want : {"site.toml:33:9: 'mail.relay' is an address such as",
                           "site.toml:34:8: 'mail.from' is \"Name <address@example.gov.uk>\" or an address",
                           "site.toml:36:12: 'mail.username' needs 'mail.password_file'"}) {
    EXPECT_NE(m.find(want), std::string::npos) << want << "\n" << m;
  }
  auto clear = read(R"(
[mail]
relay = "smtp://mail.example.gov.uk:25"
from = "noreply@example.gov.uk"
starttls = "none"
)");
  ASSERT_FALSE(clear.ok());
  EXPECT_NE(clear.error().message.find("site.toml:35:12: 'mail.starttls' may be \"none\" only for a relay on this "
                                       "machine"),
            std::string::npos)
      << clear.error().message;
  std::string undeclared = kRegister;
  undeclared.erase(undeclared.find("[[register.datasets]]"));
  auto no_dataset =
      read("[mail]\nrelay = \"smtp://127.0.0.1:25\"\nfrom = \"a@example.gov.uk\"\nstarttls = \"none\"\n", undeclared);
  ASSERT_FALSE(no_dataset.ok());
  EXPECT_NE(no_dataset.error().message.find("the register declares no dataset of module \"mail\""), std::string::npos);
}

TEST(MailComposeTest, QuotedPrintableKeepsLinesShortAndEncodesWhatItMust) {
  std::string qp = QuotedPrintable(std::string(100, 'a') + " = é \ntrailing \n.dot");
  std::istringstream lines(qp);
  std::string line;
  while (std::getline(lines, line)) {
    if (lines.eof()) break;  // the last line has no line end of its own
    ASSERT_FALSE(line.empty() || line.back() != '\r') << "CRLF";
    EXPECT_LE(line.size(), 77u) << line;
  }
  EXPECT_NE(qp.find("=3D"), std::string::npos);
  EXPECT_NE(qp.find("=C3=A9"), std::string::npos);
  EXPECT_NE(qp.find("trailing=20\r\n"), std::string::npos);
  EXPECT_NE(qp.find("\r\n=2Edot"), std::string::npos);
  EXPECT_FALSE(ValidAddress("a b@example.com"));
  EXPECT_FALSE(ValidAddress("a@example"));
  EXPECT_FALSE(ValidAddress("<a@example.com>"));
  EXPECT_FALSE(ValidAddress("a@example.com\r\nBcc: x@y.z"));
  EXPECT_TRUE(ValidAddress("first.last+tag@sub.example.gov.uk"));
}

TEST_F(MailTest, HeaderInjectionIsRefused) {
  Settings s = Relay(25);
  EXPECT_EQ(queue_.Enqueue({.to = "a@example.com", .subject = "Hi\r\nBcc: x@example.com", .text = "t"}, s).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(queue_.Enqueue({.to = "a@example.com\r\nBcc: x@example.com", .subject = "s", .text = "t"}, s).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(queue_.Count()->queued, 0);
}

}  // namespace
}  // namespace steward::mail
