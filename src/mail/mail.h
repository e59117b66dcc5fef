// Outbound mail: a durable queue in the store, sent to the site's SMTP relay.
//
// A message is accepted once its row is committed: the recipient's address and the rendered
// message sealed under the recipient's subject key (so erasing the person reaches queued mail and
// backups), with an opaque bounce token in the envelope sender (bounces+TOKEN@domain, never the
// address). A worker on the leading instance sends what is due, within the site's rate limits;
// a temporary failure (4xx, no connection, TLS) retries with backoff for up to 72 hours, a
// permanent one (5xx) fails at once, and the reason kept is a code, never the server's text
// (which may quote the address). Once sent, the sealed address and message are dropped; the row
// keeps the subject and token for bounces until retention deletes it. No open or click tracking:
// no pixels, no rewritten links.
//
//   [mail]
//   relay = "smtp://mail.example.gov.uk:587"   # or smtps://host:465
//   from = "Hampshire County Council <noreply@hants.gov.uk>"
//   starttls = "required"                     # or "none", only for a relay on loopback
//   username = "steward"
//   password_file = "/etc/steward/smtp-password"
//   ca_file = "/etc/ssl/private-relay-ca.pem"  # to trust a relay's private CA
//   dkim_selector = "steward2026"              # sign with DKIM (dkim.h): the DNS record's selector
//   dkim_key_file = "/etc/steward/dkim.pem"    # and the private key, RSA or Ed25519
//   per_second = 50
//   per_day = 200000
//
// Thread safety: Queue is safe for concurrent use; an SmtpClient is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/document.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "metrics/metrics.h"
#include "register/register.h"
#include "retention/retention.h"
#include "store/store.h"
#include "subjects/sealed.h"

namespace steward::mail {

struct Settings {
  std::string relay;  // "smtp://host:port" or "smtps://host:port"
  std::string from_name, from_address;
  bool starttls = true;  // required, unless the relay is on loopback and the file says "none"
  std::string username, password_file, ca_file;
  std::string dkim_selector, dkim_key_file;  // both or neither: sign every message
  int64_t per_second = 50, per_day = 200000;

  // The domain of from_address: bounces go to bounces+TOKEN@ it, Message-IDs end with it.
  std::string Domain() const;
};

// Reads [mail]; nullopt when the site has none. Errors: kInvalidArgument with every problem as
// FILE:LINE:COLUMN, including a [mail] in a site whose register declares no dataset of module
// "mail" (the queue holds addresses and messages).
Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg);

// Whether `address` is an email address Steward will send to: local@domain, printable ASCII, no
// spaces, quotes or angle brackets, at most 254 bytes.
bool ValidAddress(std::string_view address);

// One message to one person.
struct Email {
  std::string to;       // the address
  std::string subject;  // one line
  std::string text;     // the body in plain text; paragraphs separated by a blank line
  // Further headers (List-Unsubscribe and List-Unsubscribe-Post, for instance): one line each.
  std::vector<std::pair<std::string, std::string>> headers;
  // What it belongs to, for counting ("subscriptions:12"): never personal. Empty: nothing.
  std::string batch;
  // The subject to seal it under when the address is not yet theirs (a new address a person asked
  // for, until they confirm it); empty: the subject the address leads to.
  std::string subject_id;
};

// The message as RFC 5322 text with CRLF line ends: From, To, Subject (RFC 2047 when not ASCII),
// Date, Message-ID, MIME-Version and `email.headers`, then a multipart/alternative body with a
// text part and an HTML part in GOV.UK's email style, both UTF-8 and quoted-printable. Links stay
// as written; there is no tracking of any kind.
std::string Compose(const Email& email, const Settings& settings, std::string_view message_id, SystemTime date);

// Quoted-printable (RFC 2045) with CRLF line ends and lines of at most 76 characters.
std::string QuotedPrintable(std::string_view text);

// What one SMTP transaction came to.
struct Outcome {
  enum class Kind { kSent, kTemporary, kPermanent };
  Kind kind = Kind::kTemporary;
  std::string reason;  // "smtp 550", "no connection": never the server's words
};

// A connection to the relay through libcurl, reused from one message to the next.
class SmtpClient {
 public:
  // Reads the password file and the DKIM key. Errors: kInvalidArgument when either cannot be read.
  static Result<std::unique_ptr<SmtpClient>> Open(const Settings& settings);
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  Outcome Send(std::string_view envelope_from, std::string_view to, std::string_view message);

 private:
  SmtpClient(Settings settings, std::string password);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Queue {
 public:
  // `key`, `clock` and `metrics` (may be null) must outlive the queue.
  Queue(store::Store& store, const crypto::SecretKey& key, const Clock& clock, metrics::Registry* metrics = nullptr);
  ~Queue();

  static std::vector<store::Migration> Migrations();
  static retention::ModuleStorage Storage();
  // The suppression list: keyed hashes of addresses that bounced for good or complained, kept
  // under a dataset of its own (module "mail-suppression") so that they are not mailed again.
  static retention::ModuleStorage SuppressionStorage();
  static std::vector<subjects::SealedTable> SealedTables();

  // Queues `email` in the caller's transaction, sealed under the subject its address leads to
  // (made if none). Returns the message's id. Errors: kInvalidArgument for an address Steward will
  // not send to, or a subject or header with a line break; kFailedPrecondition for an address that
  // is suppressed (it bounced for good, or its owner complained).
  Result<int64_t> Enqueue(store::Connection& c, const Email& email, const Settings& settings);
  // The same in a transaction of its own: accepted once it returns.
  Result<int64_t> Enqueue(const Email& email, const Settings& settings);

  struct Round {
    int64_t sent = 0, deferred = 0, failed = 0;
  };
  // Sends up to `limit` messages that are due, oldest first, and never more than per_day in any
  // 24 hours. Each outcome is committed as it comes.
  Result<Round> Deliver(SmtpClient& smtp, const Settings& settings, int64_t limit);

  // Where one message is: "queued", "sent" or "failed", with the reason of its last failure.
  struct State {
    std::string status, reason;
    int64_t attempts = 0;
  };
  Result<State> StateOf(int64_t id);

  // What a bounce or complaint report came to.
  struct Bounce {
    enum class Kind { kNotOurs, kHard, kSoft, kComplaint, kUnclear };
    Kind kind = Kind::kNotOurs;
    int64_t message = 0;      // the queued message it is about (0: none found)
    bool suppressed = false;  // the address is now suppressed
  };
  // Reads a delivery status notification (RFC 3464) or an abuse report (RFC 5965) as the MTA
  // pipes it: finds the message by the token of its envelope sender, and suppresses its address
  // (a keyed hash of it, kept apart from the person's data) after a hard bounce or a complaint, or
  // after kSoftBouncesToSuppress soft ones.
  Result<Bounce> HandleBounce(std::string_view report);
  static constexpr int64_t kSoftBouncesToSuppress = 3;

  // How many messages are in each state (queued, sent, failed).
  struct Counts {
    int64_t queued = 0, sent = 0, failed = 0;
  };
  Result<Counts> Count();
  // The same for the messages of one batch, and how many of them bounced for good or drew a complaint.
  struct BatchCounts {
    int64_t queued = 0, sent = 0, failed = 0, bounced = 0;
  };
  Result<BatchCounts> CountBatch(std::string_view batch);

  // The keyed hash of an address that the suppression list holds (never the address).
  std::string AddressHash(std::string_view address) const;
  // Whether the address is suppressed, in the caller's transaction.
  Result<bool> Suppressed(store::Connection& c, std::string_view address) const;

  // How long a temporary failure waits before attempt `attempts` + 1: 1, 2, 4 ... minutes, at most
  // an hour. A message still failing 72 hours after it was queued is given up.
  static Duration Backoff(int64_t attempts);
  static constexpr Duration kGiveUpAfter = std::chrono::hours(72);

 private:
  struct Metrics;

  store::Store& store_;
  const Clock& clock_;
  std::string suppression_key_;
  std::unique_ptr<subjects::SubjectStore> subjects_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace steward::mail
