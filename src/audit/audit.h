// The audit trail: an append-only, hash-chained record of every privacy-relevant action.
//
// Each entry holds the hash of the one before it, so changing, removing or reordering an entry
// breaks the chain from there on. Every `checkpoint_every` entries (and on demand, e.g. at
// shutdown) a checkpoint signs the latest hash with an Ed25519 key derived from the site's secret
// key, so even someone who rewrites the whole chain from some point on cannot make it verify
// without that key.
//
// Entries carry ids, never personal data: an actor is "staff:12", "system" or "subject:<pseudonym>";
// details are ids and counts.
//
//   audit::Trail trail(store, key, SystemClock::Instance());
//   STEWARD_RETURN_IF_ERROR(trail.Append({.actor = "system", .action = "config.loaded",
//                                         .details = {{"register_version", v}}}));
//   // or, inside a write that does the action itself, so both commit or neither:
//   store.Write([&](store::Connection& c) { ...; return trail.AppendIn(c, entry); });
//
// Thread safety: safe for concurrent use; appends are serialised by the store's single writer.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/crypto.h"
#include "store/store.h"

namespace steward::audit {

struct Entry {
  std::string actor;                // "staff:12", "system", "subject:<pseudonym>"
  std::string action;               // "staff.signin", "staff.created", "config.loaded", "backup.written"
  std::string target;               // what it was done to: "staff:14", "" when nothing in particular
  std::string outcome = "success";  // "success", "failure", "denied"
  std::string request_id;           // the HTTP request, when there was one
  std::vector<std::pair<std::string, std::string>> details;  // ids and counts only
};

struct Record {
  int64_t seq = 0;
  std::string at;  // RFC 3339, UTC, milliseconds
  Entry entry;
  std::string prev_hash;  // 32 raw bytes (zeros for the first entry)
  std::string hash;       // 32 raw bytes
};

struct Filter {
  std::string since, until;  // RFC 3339 bounds (inclusive, exclusive); empty: open
  std::string actor;         // exact
  std::string action;        // exact, or a prefix ending in '.' ("staff.")
  int64_t before_seq = 0;    // paging: entries older than this seq; 0: from the newest
  int limit = 50;            // at most 500
};

// What `steward audit verify` found.
struct VerifyReport {
  int64_t entries = 0;
  int64_t checkpoints = 0;
  int64_t start_seq = 1;      // the first entry the walk started from
  std::string start;          // why it started there, in words
  int64_t first_bad_seq = 0;  // 0 when the trail is intact
  std::string problem;        // what is wrong at first_bad_seq, in words
  bool ok() const { return first_bad_seq == 0; }
};

struct VerifyOptions {
  SystemTime now;    // a purge dated later than this is not believed
  std::string rule;  // the register's retention for the audit trail now ("6 years"); empty: none
};

// What retention asks of the trail: remove what the register no longer keeps.
struct PurgeRequest {
  std::string dataset;  // the register's dataset for the trail: "audit-trail"
  std::string rule;     // its retention, as the register says it: "6 years"
  std::string cutoff;   // RFC 3339: entries older than this may go
  std::string now;      // RFC 3339: when the purge runs
};

// The audit module's tables.
const std::vector<store::Migration>& Migrations();

class Trail {
 public:
  Trail(store::Store& store, const crypto::SecretKey& key, const Clock& clock, int checkpoint_every = 64);

  // Appends within the caller's write (on the writer's connection).
  Status AppendIn(store::Connection& c, const Entry& entry);
  // Appends in a write of its own and waits for the commit.
  Status Append(const Entry& entry);
  // Signs the latest entry now, if it is not signed already.
  Status Checkpoint();

  // Newest first. Errors: kInvalidArgument for a bad filter.
  Result<std::vector<Record>> List(const Filter& filter) const;

  // Retention: removes the oldest entries, up to the newest signed checkpoint older than the
  // cut-off; the checkpoint stays, so the rest still verifies. The purge leaves a record, signed
  // with the checkpoint key, of what it removed, up to where and under which rule, and an
  // `audit.purged` entry in the chain: verification starts after a purge only with both. With
  // `dry_run`, only counts. Runs on the writer's connection (a reader's for a dry run).
  // Errors: kInvalidArgument when the rule is not a period or the cut-off is later than it allows.
  Result<int64_t> PurgeIn(store::Connection& c, const PurgeRequest& request, bool dry_run);

  // The public half of the checkpoint key, for verifying elsewhere.
  std::string public_key() const { return signer_.public_key(); }

 private:
  Status CheckpointIn(store::Connection& c, int64_t seq, const std::string& hash);
  store::Store& store_;
  crypto::SigningKey signer_;
  const Clock& clock_;
  int checkpoint_every_;
};

// Walks the whole trail and every checkpoint, and reports the first entry that was changed,
// removed or reordered, or that a checkpoint no longer vouches for. `public_key` checks the
// signatures of checkpoints and purge records. A trail whose oldest entries are gone is walked from
// the last purge only when a signed purge record vouches for it, its cut-off is as old as the rule
// it followed allows, and the chain holds its `audit.purged` entry.
Result<VerifyReport> Verify(store::Connection& c, const std::string& public_key, const VerifyOptions& options);

// Writes entries at or after `since` (RFC 3339; empty: all) as JSON lines, oldest first.
// Returns how many were written.
Result<int64_t> ExportJsonLines(store::Connection& c, const std::string& since, std::ostream& out);

// The key that signs checkpoints, derived from the site's secret key.
std::array<uint8_t, 32> CheckpointSeed(const crypto::SecretKey& key);

}  // namespace steward::audit
