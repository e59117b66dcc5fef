// Feedback from members of the public: "Is this page useful?", problem reports, the contact form
// and service ratings, checked, cleaned and kept as the register's feedback dataset says.
//
// What the person typed is redacted (redact.h) and then sealed in the subject store under the
// person's own key (a subject found by the email address they gave to be answered, or a new one
// for an anonymous item), next to plain columns for what is not personal (kind, page, rating,
// status). A "useful: yes/no" answer is only ever counted, per page and day: no row of it is kept.
// Spam (the honeypot filled, a form sent faster than a person types, a scanner's signature) is
// kept apart and purged within days; the same item sent again within 5 minutes is marked a
// duplicate.
//
//   auto settings = feedback::ReadSettings(*config.document, reg);   // nullopt: no [feedback]
//   feedback::Inbox inbox(store, key, clock, *settings);
//   auto checked = feedback::Check(submission);                       // errors per field
//   auto stored = inbox.Submit(*checked);                              // one write
//
// Thread safety: Inbox is safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "config/document.h"
#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "register/register.h"
#include "retention/retention.h"
#include "store/store.h"
#include "subjects/sealed.h"

namespace steward::feedback {

enum class Kind { kUseful, kProblem, kContact, kRating };
std::string_view KindName(Kind kind);  // "useful", "problem", "contact", "rating"
std::optional<Kind> ParseKind(std::string_view name);

// GOV.UK's service satisfaction scale: "Very dissatisfied" (1) to "Very satisfied" (5).
std::string_view RatingText(int64_t rating);

// The longest free text, in characters, as GOV.UK's feedback forms take.
constexpr size_t kMaxText = 1250;
// Spam is purged this long after it arrived, whatever the dataset's retention.
constexpr Duration kSpamKept = std::chrono::hours(24 * 7);
// The same item sent again within this is a duplicate.
constexpr Duration kDuplicateWindow = std::chrono::minutes(5);

struct Settings {
  bool useful = true;       // "Is this page useful?" at the foot of every public page
  int64_t min_seconds = 3;  // an HTML form sent faster than this is spam
  // Whom the person may let us share their feedback with: the feedback dataset's recipients
  // whose basis is consent (the permission box), by name.
  std::vector<std::string> share_with;
  std::string dataset;  // the register's dataset of module "feedback"
};

// Reads [feedback] and checks it with the register. nullopt when the site has no [feedback].
// Errors: kInvalidArgument with FILE:LINE:COLUMN for each problem, including a register that
// declares no dataset of module "feedback".
Result<std::optional<Settings>> ReadSettings(const config::Document& document, const processing::Register& reg);

// What a person sent, as the form or the API gave it.
struct Submission {
  Kind kind = Kind::kContact;
  std::string page;            // the page it is about ("" for the whole site)
  std::optional<bool> useful;  // kUseful
  std::string doing, wrong;    // kProblem: what you were doing, what went wrong
  std::string message;         // kContact: the message; kRating: the comment
  int64_t rating = 0;          // kRating: 1 very dissatisfied .. 5 very satisfied
  std::string name, email;     // both or neither: to be answered
  bool share = false;          // permission to share with Settings::share_with
  // Signals of spam: the honeypot's value, seconds the HTML form was open (nullopt: not known).
  std::string honeypot;
  std::optional<int64_t> seconds_open;
  bool javascript = false;
};

// The problems with a submission, by field ("message": "Enter a message"), in GOV.UK's words.
using FieldErrors = std::vector<std::pair<std::string, std::string>>;

// Checks the fields a person must get right (lengths, both or neither of name and email, the
// email's shape, a rating from 1 to 5). Returns the errors; empty when it may be kept.
FieldErrors Check(const Submission& s);

// What Submit did.
struct Stored {
  int64_t id = 0;                     // the item's id; 0 for a usefulness answer (counted only)
  bool spam = false;                  // kept apart, purged within days
  bool duplicate = false;             // the same as one sent within 5 minutes
  std::vector<std::string> redacted;  // kinds of personal data taken out of the free text
};

// A caseworker's note on an item: sealed with the item under the person's key, so it goes when
// they are erased, and it is theirs to see in a subject access request.
struct Note {
  std::string at;    // RFC 3339
  std::string by;    // "staff:12"
  std::string text;  // up to kMaxNote characters
};
constexpr size_t kMaxNote = 2000;

// Notes kept as one sealed JSON list; a list that cannot be read (erased) is empty.
std::vector<Note> NotesFromJson(std::string_view text);
std::string NotesToJson(const std::vector<Note>& notes);

// Appends `note` to the notes of row `id` of `table` (columns subject_id and notes), sealed under
// the row's subject key; a row with no subject gets a new one. In the caller's write. Returns
// whether the row exists. Errors: kInvalidArgument for an empty or over-long note.
Result<bool> AppendNote(store::Connection& c, const subjects::SubjectStore& subjects, std::string_view table,
                        int64_t id, const Note& note);

// Sets the status of row `id` of `table` (columns status and assignee), and its assignee ("" none;
// nullopt leaves it as it is), in the caller's write. Returns whether the row exists.
Result<bool> TriageRow(store::Connection& c, std::string_view table, int64_t id, const std::string& status,
                       const std::optional<std::string>& assignee);

// Items counted for the inbox stop here: beyond it the inbox says "over 1,000", and pages go no
// deeper (a narrower filter finds older items). Whatever the filter, a count reads at most this
// many matches.
constexpr int64_t kCountLimit = 1000;
// A page filter (part of a page's address) that matches at most this many pages is answered from
// the index of items by page, each page's newest merged: a seek or two a page (10 to 15 us), so
// bounded whatever came since on other pages. One that matches more, along the index of when
// items came, which reads past the newest items until it finds the filter's.
constexpr int64_t kMergedPages = 2500;

// One kept item, as the inbox and exports show it.
struct Item {
  int64_t id = 0;
  std::string received_at, kind, page, status, spam_reason, redacted, assignee;
  int64_t rating = 0;  // 0: none
  bool duplicate = false, share = false, has_contact = false;
  // Opened only when asked for (Filter::personal): what the person typed.
  bool opened = false;
  std::string doing, wrong, message, name, email;
  std::vector<Note> notes;
};

// Which items, for the inbox and exports. Dates are YYYY-MM-DD (UTC), inclusive.
struct Filter {
  std::string kind;      // "" any
  std::string status;    // "" any but spam; "spam" only spam
  std::string page;      // part of the page's address
  std::string from, to;  // received on or after, on or before
  bool redacted_only = false;
  int64_t limit = 50, offset = 0;
  // Open the personal fields: of items whose authors let us share them, or of all.
  enum class Personal { kNone, kShared, kAll } personal = Personal::kNone;
};

// The WHERE clause a list of the inbox shares: the status (spam only when asked for) and the dates
// of `time_column`; a list adds its own conditions, then counts and pages with it.
struct InboxQuery {
  InboxQuery(const Filter& f, std::string_view time_column);
  std::string where = " WHERE 1 = 1";
  std::vector<store::Value> params;
  // How many rows of `table` it selects, up to kCountLimit + 1; counted in `order` when given
  // ("received_at, id"), to hold the count to the index of that order.
  Result<int64_t> Count(store::Connection& c, std::string_view table, std::string_view order = {}) const;
  // The parameters with the filter's LIMIT and OFFSET after them.
  std::vector<store::Value> Page(const Filter& f) const;
};

// The statuses an item moves through.
bool ValidStatus(std::string_view status);  // new, in-progress, done, spam

// Yes and no answers for a page over a period.
struct Usefulness {
  std::string page;
  int64_t yes = 0, no = 0;
};

// Which pages' answers: the days from..to (YYYY-MM-DD), pages whose address holds `page`.
struct UsefulnessQuery {
  std::string from, to, page;
  int64_t limit = 100, offset = 0;
};

// `text` for a LIKE pattern with ESCAPE '\\': its %, _ and backslash match only themselves.
std::string LikeText(std::string_view text);

class Inbox {
 public:
  // Everything must outlive the inbox.
  Inbox(store::Store& store, const crypto::SecretKey& key, const Clock& clock, Settings settings);

  static std::vector<store::Migration> Migrations();
  // The items' table (personal) and the usefulness counts (not), with the purge: items past the
  // dataset's cut-off, and spam past kSpamKept.
  static retention::ModuleStorage Storage();
  // The sealed tables, for the subject-data contract.
  static std::vector<subjects::SealedTable> SealedTables();

  // Keeps a checked submission in one write: Check must have found nothing.
  Result<Stored> Submit(const Submission& s);
  // The same, queued for the store's next group commit without waiting: `done` runs on the
  // store's writer thread once the item is committed (or the write failed). Returns what is known
  // before the write (spam, what was redacted; not the id or whether it is a duplicate). The inbox
  // must outlive `done`. Errors: the store's queue is full (kUnavailable), and then `done` is not
  // called.
  Result<Stored> SubmitAsync(const Submission& s, std::function<void(Result<Stored>)> done);
  // Deletes spam older than kSpamKept, whatever the dataset's retention (one kept by criteria
  // too), with an audit entry of the count. Returns how many.
  Result<int64_t> PurgeSpam(audit::Trail& trail);

  // The items the filter selects, newest first, and how many it selects in all (up to
  // kCountLimit + 1: past the limit the count stops).
  Result<std::pair<std::vector<Item>, int64_t>> List(const Filter& filter) const;
  // One item with its personal fields opened, or nullopt.
  Result<std::optional<Item>> Get(int64_t id) const;
  // Sets the item's status, and its assignee ("" none; nullopt leaves it as it is), in the
  // caller's write. Returns whether it exists.
  Result<bool> Triage(store::Connection& c, int64_t id, const std::string& status,
                      const std::optional<std::string>& assignee) const;
  // Adds a caseworker's note to an item, in the caller's write. Returns whether it exists.
  Result<bool> AddNote(store::Connection& c, int64_t id, const Note& note) const;
  // Yes and no per page, most answered first, and how many pages in all.
  Result<std::pair<std::vector<Usefulness>, int64_t>> UsefulnessReport(const UsefulnessQuery& query) const;

  const Settings& settings() const { return settings_; }

 private:
  // The spam signal that fired, or "".
  std::string SpamReason(const Submission& s) const;
  // A submission cleaned, redacted and fingerprinted, then kept in the writer's connection.
  struct Pending;
  std::shared_ptr<Pending> Prepare(const Submission& s) const;
  Status Keep(store::Connection& c, Pending& p) const;
  // Opens the item's sealed fields in place.
  Status Open(store::Connection& c, const std::string& subject_id, const store::Row& row, size_t first,
              Item& item) const;
  // The item in `row` (kPlainColumns or kItemColumns), its personal fields opened as `f` says.
  Result<Item> ItemFor(store::Connection& c, const store::Row& row, const Filter& f) const;
  // List's page filter: the pages whose address holds f.page found among the distinct pages, then
  // each one's newest items read from its index and merged, so that the items of other pages are
  // never read, however many or recent. nullopt when more than kMergedPages pages match (then
  // List reads the index of when items came, where such a filter's items are soon found).
  Result<std::optional<std::pair<std::vector<Item>, int64_t>>> ListByPage(store::Connection& c, const Filter& f) const;
  store::Store& store_;
  const Clock& clock_;
  Settings settings_;
  subjects::SubjectStore subjects_;
  std::string fingerprint_key_;
};

}  // namespace steward::feedback
