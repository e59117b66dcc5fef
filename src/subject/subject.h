// The subject-data contract: what Steward holds about one person, found, exported, erased,
// restricted and rectified across every module, without the caller knowing any module's tables.
//
// A person is named by a typed identifier (Key): an email address, an account id, a consent id, a
// visitor cookie id, an IP address or range, or a telephone number. Every module that holds
// personal data implements SubjectData for the kinds of key it can search by, and its module
// descriptor hands it to the platform. A Directory holds them all and answers for the whole site,
// following the identifiers one module links to another (a staff member's email leads to their
// account id, which the audit trail names as an actor).
//
//   subject::Directory dir;
//   dir.Add("consent", &consent_subjects);
//   auto key = subject::Key::Make(subject::KeyKind::kConsentId, "3f…");
//   auto found = dir.Find(*key);          // counts by dataset, and the identifiers followed
//   auto records = dir.Export(*key);      // the records, fields named by data category
//   auto erased = dir.Erase(*key, {.actor = "staff:3", .reference = "rights:17"});
//
// Errors never hold an identifier's value: a Key prints as its kind alone.
//
// Thread safety: Key is a value. Implementations of SubjectData must be safe for concurrent use;
// Directory is safe for concurrent use once every Add is done.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace steward::subject {

enum class KeyKind { kEmail, kAccountId, kConsentId, kVisitorId, kIpAddress, kTelephone, kHandle, kSubjectId };

// "email", "account", "consent-id", "visitor-id", "ip", "telephone", "handle", "subject"; and back.
std::string_view KindName(KeyKind kind);
std::optional<KeyKind> ParseKind(std::string_view name);
const std::vector<KeyKind>& AllKinds();

// A typed identifier of one person, normalised so that the same person gives the same key:
// - email: trimmed and lower-cased; one '@' with something either side; at most 254 bytes.
// - account: "<module>:<id>" such as "staff:12" (the module's own account id, as the audit trail
//   names actors).
// - consent-id, visitor-id: the 32 lower-case hex characters the essential cookie holds.
// - ip: an address ("203.0.113.7", IPv4-mapped IPv6 as IPv4) or a range ("203.0.113.0/24", 8 bits
//   or more), in canonical form.
// - telephone: digits with an optional leading '+', spaces, dots, dashes and brackets dropped; a UK
//   number written from 0 becomes +44; 7 to 15 digits.
// - handle: "<channel>:<handle>" such as "x:@ons" (a social-media or webchat name): the channel
//   lower-case letters, digits and dashes; the handle lower-cased, without a leading '@', no spaces.
// - subject: the subject store's id of a member of the public (32 lower-case hex characters).
class Key {
 public:
  // Errors: kInvalidArgument saying what shape was expected (never the value given).
  static Result<Key> Make(KeyKind kind, std::string_view text);
  // "email:someone@example.org" as Make(kind, value) would read it. Errors as Make.
  static Result<Key> Parse(std::string_view kind_and_value);

  KeyKind kind() const { return kind_; }
  // Privacy: the identifier itself. Never log it, put it in an error or an audit entry.
  const std::string& value() const { return value_; }
  // For an ip key: true when it names a range rather than one address.
  bool IsRange() const;
  // For an account key: the module part ("staff") and the id part ("12").
  std::string_view AccountModule() const;
  std::string_view AccountId() const;

  bool operator==(const Key& o) const { return kind_ == o.kind_ && value_ == o.value_; }
  bool operator<(const Key& o) const { return kind_ != o.kind_ ? kind_ < o.kind_ : value_ < o.value_; }

 private:
  Key(KeyKind kind, std::string value) : kind_(kind), value_(std::move(value)) {}
  KeyKind kind_;
  std::string value_;
};

// What a module holds about a key in one of its datasets.
struct Holding {
  std::string dataset;      // the register's dataset id: "consent-records"
  int64_t count = 0;        // records
  bool restricted = false;  // marked restricted (UK GDPR Art 18): kept, not used
  std::string note;         // what the count cannot say, in words ("events without a visitor
                            // cookie cannot be tied to anyone")
};

struct Finding {
  std::vector<Holding> holdings;  // empty: nothing held
  // Other identifiers of the same person that this module knows (an email's staff account).
  std::vector<Key> linked;
  // Organisations this module's records say were given the person's data (a disclosure to the
  // police, a partner's share): whom to tell of a correction or an erasure (Article 19).
  std::vector<std::string> recipients;
};

// One field of an exported record, named with the register's data category.
struct Field {
  std::string category;  // "user.contact.email"
  std::string name;      // "Email address"
  std::string value;
};

struct Record {
  std::string dataset;
  std::string collected_at;  // RFC 3339 (UTC); empty when not known
  std::vector<Field> fields;
};

// What an erasure did in one dataset.
struct Erasure {
  std::string dataset;
  int64_t erased = 0;      // records deleted
  int64_t anonymised = 0;  // records kept with the person taken out
  std::string exemption;   // non-empty: kept by law, and why ("the audit trail is kept for ...")
};

// Who acts, for the audit trail: a staff id or "cli", and the case it belongs to.
struct Actor {
  std::string actor = "system";
  std::string reference;   // "rights:17"; may be empty
  std::string request_id;  // the HTTP request, when there was one
};

// Implemented by every module that holds personal data. Each call works on the module's own
// tables only. Erase, Restrict and Rectify commit in one write of their own with an audit entry
// that holds counts only; a key kind not in Kinds() finds nothing.
class SubjectData {
 public:
  virtual ~SubjectData() = default;
  // The kinds of key this module can search by.
  virtual std::vector<KeyKind> Kinds() const = 0;
  // What it holds about `key`, as counts by dataset, and the identifiers it links to the key.
  virtual Result<Finding> Find(const Key& key) = 0;
  // The records themselves, oldest first.
  virtual Result<std::vector<Record>> Export(const Key& key) = 0;
  // Deletes or anonymises what it holds about `key`, as the register says for each dataset; a
  // dataset the law makes Steward keep answers with its exemption and is left alone.
  virtual Result<std::vector<Erasure>> Erase(const Key& key, const Actor& actor) = 0;
  // Marks what it holds about `key` restricted (on) or lifts the mark (off). Returns the records
  // affected. Errors: kFailedPrecondition when the module cannot restrict (and says why).
  virtual Result<int64_t> Restrict(const Key& key, bool on, const Actor& actor) = 0;
  // Corrects the field of `category` to `value` in what it holds about `key`. Returns the records
  // changed. Errors: kFailedPrecondition for a category this module cannot correct (saying so);
  // kInvalidArgument for a bad value.
  virtual Result<int64_t> Rectify(const Key& key, std::string_view category, std::string_view value,
                                  const Actor& actor);
};

// Every module's SubjectData, answering for the whole site.
class Directory {
 public:
  // `data` must outlive the directory. `module` is the descriptor's id.
  void Add(std::string module, SubjectData* data);
  const std::vector<std::pair<std::string, SubjectData*>>& modules() const { return modules_; }

  struct ModuleFinding {
    std::string module;
    Key key;  // the identifier it was asked about
    Finding finding;
  };
  struct Found {
    std::vector<Key> keys;                // the key given, then every identifier followed from it
    std::vector<ModuleFinding> findings;  // only those that hold something
    int64_t Total() const;
  };
  // Asks every module about `key`, then about every identifier they link to it (at most 32 keys).
  Result<Found> Find(const Key& key);
  // The records of every module about `key` and the identifiers linked to it.
  Result<std::vector<Record>> Export(const Key& key);
  // What every module holds about several identifiers of one person (those a request gave), each
  // record counted once, by module and dataset; and every identifier they lead to.
  struct Held {
    std::string module, dataset;
    int64_t count = 0;
    bool restricted = false;
    std::string note;  // what the count cannot say
  };
  struct Survey {
    std::vector<Held> held;  // by module, then dataset
    std::vector<Key> followed;
    std::vector<std::string> recipients;  // every module's Finding::recipients, each once
    int64_t total = 0;
  };
  Result<Survey> SurveyOf(const std::vector<Key>& keys);
  // The records of every module about `keys` and the identifiers they lead to, each once.
  Result<std::vector<Record>> ExportAll(const std::vector<Key>& keys);
  // Erases in every module, for `key` and the identifiers linked to it. A failure in one module
  // does not stop the others: it is returned after they have run (what was erased stays erased).
  Result<std::vector<Erasure>> Erase(const Key& key, const Actor& actor);
  // Restricts (or lifts) in every module that holds something. Returns the records affected.
  Result<int64_t> Restrict(const Key& key, bool on, const Actor& actor);
  // What a correction did in one module that holds something about the person.
  struct Correction {
    std::string module;
    std::vector<std::string> datasets;  // what the module holds about them
    int64_t changed = 0;                // records corrected
    std::string cannot;                 // non-empty: the module cannot correct that category, and why
  };
  // Corrects the field of `category` to `value` in every module that holds something about `key`
  // or the identifiers linked to it. A module that cannot correct that category is reported, not
  // an error. Errors: the first module's other error (a bad value, an address another account has).
  Result<std::vector<Correction>> Rectify(const Key& key, std::string_view category, std::string_view value,
                                          const Actor& actor);

 private:
  std::vector<std::pair<std::string, SubjectData*>> modules_;
};

// Records that are the same (a person's email and account leading to one record) kept once.
std::vector<Record> Distinct(std::vector<Record> records);

// A short keyed digest of a key (16 hex characters) under `hash_key`, for an audit entry's target
// when one erasure must be told from another without naming the person.
std::string Pseudonym(const Key& key, std::string_view hash_key);

}  // namespace steward::subject
