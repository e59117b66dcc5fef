// Email subscriptions: people sign up to topics the site declares, confirm from an email (double
// opt-in), get each message at once or in a daily or weekly digest, manage what they get from a
// signed link in every email (or with a username and password, where the site offers it), and
// leave in one click (RFC 8058).
//
//   [subscriptions]
//   accounts = true                     # offer a username and password to manage them
//   [[subscriptions.topics]]
//   id = "roads"
//   title = "Roads and transport"
//   description = "Road closures, gritting and new schemes."
//   frequencies = ["immediately", "daily", "weekly"]
//
// Privacy: subscriptions. A subscriber's address (and username) is sealed under their subject key;
// the blind index finds them from the address without opening anything. Nothing is sent to an
// address that did not confirm, and a sign-up not confirmed within 7 days is deleted. Unsubscribing
// from the last topic deletes the subscriber: what stays is the mail module's suppression hash,
// where a hard bounce or a complaint must keep the address from being mailed again.
//
// Links: every email carries signed links (Links): to confirm (valid 7 days), to manage, and to
// unsubscribe. They name the subscriber's number and are signed with a key of the site's and a
// secret of the subscriber's own, so a deleted subscriber's links stop working and a new sign-up
// with the same address does not revive them.
//
// Sending: a message for a topic (staff, a CMS through the API, or `steward mail send`) becomes a
// send that a background task works through in batches: each batch queues its emails in the mail
// queue and moves the send's cursor in one write, so a crash never loses or doubles an email.
// Daily and weekly digests gather a topic's messages of the period into one email a subscriber.
//
// Thread safety: Subscriptions is safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "audit/audit.h"
#include "config/document.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "mail/mail.h"
#include "register/register.h"
#include "retention/retention.h"
#include "store/store.h"
#include "subjects/sealed.h"

namespace steward::subject {
class Restrictions;
}  // namespace steward::subject

namespace steward::subscriptions {

enum class Frequency { kImmediately, kDaily, kWeekly };
std::string_view FrequencyName(Frequency f);  // "immediately", "daily", "weekly"
std::string_view FrequencyText(Frequency f);  // "As soon as we publish", "Once a day", "Once a week"
std::optional<Frequency> ParseFrequency(std::string_view name);

struct Topic {
  std::string id;  // lower-case letters, digits, dashes: "roads"
  std::string title, description;
  std::vector<Frequency> frequencies;  // those offered; never empty
};

struct Settings {
  std::vector<Topic> topics;
  bool accounts = false;  // subscribers may set a username and password
  const Topic* Find(std::string_view id) const;
};

// Reads [subscriptions]; nullopt when the site has none. Errors: kInvalidArgument with every
// problem as FILE:LINE:COLUMN, including subscriptions without [mail] or without a dataset of
// module "subscriptions" in the register.
Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg);

// The signed links of the emails.
class Links {
 public:
  enum class Purpose : char { kConfirm = 'c', kManage = 'm', kUnsubscribe = 'u', kSession = 's' };
  struct Link {
    Purpose purpose = Purpose::kManage;
    int64_t subscriber = 0;
    int64_t expires = 0;  // Unix seconds; 0: never
    std::string topic;    // for kUnsubscribe: the topic, or "all"
  };
  explicit Links(const crypto::SecretKey& key);
  // A token made of letters, digits, dots and dashes (usable in a URL's path and a mailto's local part).
  std::string Make(const Link& link, std::string_view secret) const;
  // The link a token names, before its signature is checked against the subscriber's secret.
  static std::optional<Link> Read(std::string_view token);
  bool Verify(std::string_view token, std::string_view secret) const;

 private:
  std::string Mac(std::string_view body, std::string_view secret) const;
  std::string key_;
};

// What a subscriber gets, as the manage page shows it.
struct Subscriber {
  int64_t id = 0;
  bool confirmed = false;
  Frequency frequency = Frequency::kImmediately;
  std::vector<std::string> topics;  // confirmed topics
  std::string username;             // empty: none set
  std::string secret;               // signs their links
};

// Counts per topic, for the staff page and `steward subscriptions count`. Never an address.
struct TopicCount {
  std::string topic;
  int64_t confirmed = 0, unconfirmed = 0, suppressed = 0;
};

// One message to a topic's subscribers, or one digest, and how far it has gone.
struct Send {
  int64_t id = 0;
  std::string kind;   // "message", "daily", "weekly"
  std::string topic;  // for a message
  std::string subject;
  std::string created_at, created_by, done_at;
  int64_t queued = 0;  // emails queued so far
  // From the mail queue (while its rows are kept) and the unsubscribes since.
  int64_t sent = 0, failed = 0, bounced = 0, unsubscribed = 0;
};

class Subscriptions {
 public:
  // `base_url` gives the site's public address for links. Everything must outlive this.
  Subscriptions(store::Store& store, const crypto::SecretKey& key, const Clock& clock, Settings settings,
                mail::Queue& queue, mail::Settings mail, std::function<std::string()> base_url, std::string site_name);
  ~Subscriptions();

  static std::vector<store::Migration> Migrations();
  static retention::ModuleStorage Storage();
  static std::vector<subjects::SealedTable> SealedTables();

  const Settings& settings() const { return settings_; }
  const Links& links() const { return links_; }
  // Subscribers whose data is restricted, or whose objection was upheld (the restriction marks of
  // module "subscriptions" under their address or subject id), are skipped when a message or a
  // digest goes out. `restrictions` must outlive this; null: no one is.
  void HonourRestrictions(const subject::Restrictions* restrictions);

  static constexpr int64_t kConfirmDays = 7;
  static constexpr size_t kMaxTopicsPerSignUp = 50;

  // A sign-up: `topics` (declared ids) at `frequency`. Keeps the request pending and queues an
  // email with the confirmation link, in one write; an address that is already subscribed gets the
  // same link to confirm the change. At most one confirmation email an address in 10 minutes;
  // none to a suppressed address. The answer to the person is the same whatever happened, so the
  // form never tells whether an address is subscribed. Errors: kInvalidArgument (address, topics,
  // frequency) saying which.
  Status SignUp(std::string_view email, const std::vector<std::string>& topics, Frequency frequency);

  // A subscriber brought from the site's previous mailing-list system, where they had already
  // confirmed: confirmed here at once, in the caller's write, with no email. Returns false (and
  // keeps nothing) for an address already subscribed here or suppressed. Errors: kInvalidArgument
  // as SignUp.
  Result<bool> Import(store::Connection& c, std::string_view email, const std::vector<std::string>& topics,
                      Frequency frequency);

  // Applies a confirmation link. Returns the subscriber. Errors: kNotFound for a link that is
  // unknown, expired or already used.
  Result<Subscriber> Confirm(std::string_view token);
  // The subscriber a manage, unsubscribe or session link names. Errors: kNotFound.
  Result<Subscriber> FromLink(std::string_view token, std::initializer_list<Links::Purpose> purposes);

  // Sets the topics and frequency; no topics deletes the subscriber. Returns whether they remain.
  Result<bool> Update(int64_t subscriber, const std::vector<std::string>& topics, Frequency frequency);
  // Leaves one topic, or every topic ("all"): with their last topic the subscriber has left.
  // Returns the topics left (0: none). Counted for the staff page, never with the address.
  Result<int64_t> Unsubscribe(int64_t subscriber, std::string_view topic);
  // The one-click link of an email (RFC 8058), or a mailto to unsubscribe+TOKEN@…: unsubscribes
  // at once. Returns whether anything changed (a second click changes nothing). Errors: kNotFound
  // for a link that names no subscriber now.
  Result<bool> UnsubscribeByLink(std::string_view token);

  // Sets or replaces the subscriber's username and password (argon2id, hashed on this thread).
  // Errors: kInvalidArgument (which rule), kAlreadyExists (username taken), kFailedPrecondition
  // when the site does not offer accounts.
  Status SetCredentials(int64_t subscriber, std::string_view username, std::string_view password);
  // The subscriber with this username and password. Errors: kPermissionDenied for either wrong
  // (one answer, taking the same time).
  Result<Subscriber> SignIn(std::string_view username, std::string_view password);
  // A link to the manage page valid for an hour, after signing in.
  std::string SessionLink(const Subscriber& s) const;
  std::string ManageLink(const Subscriber& s) const;
  std::string UnsubscribeLink(const Subscriber& s, std::string_view topic) const;

  // A message for `topic`'s subscribers: those who get it at once are queued by RunSends; the
  // digests gather it. Returns the send's id. `actor` for the audit trail ("staff:3", "cli",
  // "api-key:2"). Errors: kInvalidArgument (topic, subject, body).
  Result<int64_t> Publish(std::string_view topic, std::string_view subject, std::string_view body, audit::Trail& trail,
                          const std::string& actor, const std::string& request_id = "");
  // The email a subscriber of `topic` would get, to `to` (a staff member's test), queued now.
  Result<int64_t> SendTest(std::string_view to, std::string_view topic, std::string_view subject,
                           std::string_view body);
  // Starts the daily and weekly digests whose time has come (daily at 07:00 UTC, weekly on Monday).
  Result<int64_t> StartDigests();
  // Queues up to `limit` emails of unfinished sends, a batch a write. Returns how many were queued.
  Result<int64_t> RunSends(int64_t limit);
  // Deletes sign-ups not confirmed within kConfirmDays, and pending changes as old. Returns how many.
  Result<int64_t> PurgeUnconfirmed();

  // Calls `each` with the address of every confirmed subscriber not restricted and not objecting
  // (as HonourRestrictions says), in one snapshot: for a service message every subscriber must get,
  // such as a change to the privacy notice.
  Status ForEachConfirmedAddress(const std::function<void(const std::string& address)>& each) const;

  Result<std::vector<TopicCount>> Counts();
  Result<std::vector<Send>> Sends(int64_t limit);

  // The text of a topic's email as it is sent (for the preview): the body and the footer.
  std::string MessageText(const Topic& topic, std::string_view body, std::string_view unsubscribe,
                          std::string_view manage) const;

  // Passwords SetCredentials refuses (lower case): the staff sign-in's list of common passwords.
  void SetCommonPasswords(std::unordered_set<std::string> common);

 private:
  // A subscriber who has not left. Errors: kNotFound.
  Result<Subscriber> Load(int64_t id);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  Settings settings_;
  Links links_;
  std::unordered_set<std::string> common_passwords_;
};

}  // namespace steward::subscriptions
