// Rights requests as cases: what a person asked for (see, correct, delete, restrict, object, take a
// copy elsewhere, withdraw consent), who they are and how to answer them, the clock (received, proof
// of identity, pauses for a clarification, an extension) and the due date it gives, the caseworker
// assigned, a timeline of every step with notes, and how the case closed.
//
// Privacy: the register's dataset of module "rights" ([rights] dataset). The requester's name, how
// to answer them, the identifiers they gave and what the request is about are sealed under a
// subject key of the case's own (subjects::SubjectStore::Create), so that erasing the person
// elsewhere still destroys their own key, while the record that their request was answered stays
// for the dataset's retention (a closed case is purged after it, and its key with the sweep). A
// keyed hash of the requester's email address finds their cases without decrypting anything.
// Audit entries hold the case id and counts, never a value.
//
//   rights::Cases cases(store, trail, key, clock, settings);
//   auto id = cases.Open({.rights = {Right::kAccess}, .channel = "letter", .received = today, ...}, actor);
//   cases.Pause(*id, today, "clarification", actor);
//
// Thread safety: safe for concurrent use (the store serialises writes).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "retention/retention.h"
#include "rights/calendar.h"
#include "store/store.h"
#include "subject/subject.h"

namespace steward::rights {

enum class Right { kAccess, kRectification, kErasure, kRestriction, kObjection, kPortability, kWithdrawConsent };
const std::vector<Right>& AllRights();
std::string_view RightName(Right right);   // "access", "rectification", ..., "withdraw-consent"
std::string_view RightTitle(Right right);  // "See what we hold (access)", ...
std::string_view RightShort(Right right);  // "Access", "Rectification", ...
std::optional<Right> ParseRight(std::string_view name);

// How the request came in: the law accepts any channel.
const std::vector<std::string>& Channels();  // "web", "email", "letter", "telephone", "in-person", "social-media"

// The site's settings for rights requests ([rights]).
struct Settings {
  std::string dataset;  // the register's dataset of module "rights"
  Nation nation = Nation::kEnglandAndWales;
  std::string bank_holidays;  // the file's path
  int copy_days = 28;         // how long the link to a copy of a person's data works
};

// Who acts, for the audit trail and the timeline: "staff:3", "self" (the person, on the site),
// "cli" or "system", and the HTTP request when there was one.
struct Actor {
  std::string id = "system";
  std::string request_id;
};

// What opening a case needs.
struct NewCase {
  std::vector<Right> rights;
  std::string channel = "web";
  int64_t received = 0;  // the UK day it arrived (rights::UkDay)
  // Privacy: sealed under the case's key.
  std::string name;                       // how the person is called; may be empty
  std::string email;                      // how to answer them by email; may be empty
  std::string postal_address;             // how to answer them by post; may be empty
  std::vector<subject::Key> identifiers;  // what to search by (the email address is one, added)
  std::string details;                    // what it is about, in their words or the caseworker's
  // Identity: already known (a signed-in account holder, an address proved by a link, a person
  // the caseworker knows), or proof still to be asked for.
  bool identity_known = true;
  // The day proof arrived, when it came after the request (an address proved by its link): the
  // month starts then.
  std::optional<int64_t> proof_received;
};

enum class Identity { kKnown, kAwaitingProof };

struct PauseRecord {
  int64_t from = 0;
  std::optional<int64_t> to;
  std::string why;  // "clarification"
};

struct Event {
  std::string at;     // RFC 3339
  std::string actor;  // "staff:3", "self", "system"
  std::string kind;   // "opened", "assigned", "note", "paused", ...
  std::string text;   // opened: may hold what the caseworker wrote
};

// A case's plain fields, as the queue shows them (nothing sealed is opened).
struct Summary {
  int64_t id = 0;
  std::string reference;  // "R-000017"
  std::vector<Right> rights;
  std::string channel;
  int64_t received = 0;
  std::string status;  // "open", "answered", "refused", "withdrawn", "closed"
  Identity identity = Identity::kKnown;
  std::optional<int64_t> proof_received;
  bool extended = false;
  std::optional<int64_t> extension_told;  // the day the person was told of the extension
  std::optional<int64_t> assignee;        // a staff id
  std::vector<PauseRecord> pauses;
  Due due;
  std::optional<int64_t> closed;  // the UK day it closed
  bool on_time = false;           // closed by the due date
  // The clock: "running", "waiting for proof of identity", "waiting for a clarification",
  // "stopped" (closed).
  std::string ClockText() const;
};

// A case with its sealed fields opened.
struct Case : Summary {
  std::string subject_id;  // the case's own key, to seal what is sent about it
  std::string name, email, postal_address, details;
  std::vector<subject::Key> identifiers;
  std::string outcome;  // for a closed case: what was done, or why it was refused
  std::vector<Event> timeline;
};

// What the queue lists.
struct QueueFilter {
  bool open = true;                 // open cases only; false: closed ones, newest first
  std::optional<int64_t> assignee;  // only this staff member's
  size_t limit = 200;
};

// The DPO's figures for cases received in [from, to) (UK days).
struct Figures {
  int64_t received = 0, open = 0, overdue = 0, answered = 0, answered_on_time = 0, refused = 0, withdrawn = 0,
          extended = 0;
  std::vector<std::pair<Right, int64_t>> by_right;  // every right, in AllRights order
};

class Cases {
 public:
  // `holidays` and everything else must outlive this.
  Cases(store::Store& store, audit::Trail& trail, const crypto::SecretKey& key, const Clock& clock, Settings settings,
        const BankHolidays& holidays);
  ~Cases();

  static std::vector<store::Migration> Migrations();
  // The cases' tables, purged by when each case closed (an open case is never purged), and the
  // requests made on the site whose address was never confirmed, once their link expires.
  static retention::ModuleStorage Storage();

  const Settings& settings() const;
  const BankHolidays& holidays() const;
  // "R-000017" and back.
  static std::string Reference(int64_t id);
  static std::optional<int64_t> ParseReference(std::string_view text);

  // Checks `c` as Open would, keeping nothing. Errors as Open.
  Status Check(const NewCase& c) const;

  struct Opened {
    int64_t id = 0;
    std::string subject_id;  // the case's own key, to seal what is sent about it
    Due due;
  };
  // Open in the caller's write, with the case's key and due date.
  Result<Opened> OpenIn(store::Connection& c, const NewCase& in, const Actor& actor);

  // Opens a case. Errors: kInvalidArgument ("field: message") for no right, an unknown channel, a
  // bad address, a received day in the future or before 1 January 2020, or more than 20
  // identifiers; and when there is neither an email address nor a postal address to answer.
  Result<int64_t> Open(const NewCase& c, const Actor& actor);

  // Errors: kNotFound.
  Result<Case> Get(int64_t id) const;
  Result<std::vector<Summary>> Queue(const QueueFilter& filter) const;
  // The cases whose requester's email address is `email`, newest first (their ids).
  Result<std::vector<int64_t>> OfEmail(std::string_view email) const;
  // Whether `email` is the address case `id` was made from (compared by its keyed hash), in the
  // caller's read or write. Errors: kNotFound.
  Result<bool> IsRequester(store::Connection& c, int64_t id, std::string_view email) const;

  // Each step, audited with the case id, in the timeline. Errors: kNotFound; kFailedPrecondition
  // for a step the case's state does not allow (saying why); kInvalidArgument for a bad value.
  Status Assign(int64_t id, std::optional<int64_t> staff_id, const Actor& actor);
  Status AddNote(int64_t id, std::string_view text, const Actor& actor);
  // Proof of identity asked for: the clock waits until it arrives.
  Status AskProof(int64_t id, const Actor& actor);
  Status ProofReceived(int64_t id, int64_t day, const Actor& actor);
  // A clarification asked for on `day` (the clock stands still), and its arrival (it runs again).
  Status Pause(int64_t id, int64_t day, const Actor& actor);
  Status Resume(int64_t id, int64_t day, const Actor& actor);
  // Two further months, with the reason the person is told; only until the first month's due date.
  Status Extend(int64_t id, std::string_view reason, const Actor& actor);
  // Closes the case: "answered" (what was done), "refused" (why: manifestly unfounded or
  // excessive, told of the right to complain to the ICO), "withdrawn" by the person, or "closed"
  // (the clarification never came). `outcome` is required for answered and refused.
  Status Close(int64_t id, std::string_view status, std::string_view outcome, const Actor& actor);
  // Adds a step of the caseworker's to the timeline ("searched", "exported", "erased") with counts.
  Status Record(int64_t id, std::string_view kind, std::string_view text, const Actor& actor);
  Status Record(store::Connection& c, int64_t id, std::string_view kind, std::string_view text, const Actor& actor);

  Result<Figures> Count(int64_t from, int64_t to) const;

  // Reminders: every open case due within seven days (once) and every overdue one (once), each
  // passed to `remind` in one write with the day it was reminded and a step in its timeline, so that
  // a case is never reminded of the same thing twice, however often this runs. A case still waiting
  // for proof of identity has no due date to remind of. Returns how many were reminded.
  static constexpr int kRemindDays = 7;
  Result<int64_t> Remind(const std::function<Status(store::Connection&, const Summary&, bool overdue)>& remind);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::rights
