#include "audit/audit.h"

#include <nlohmann/json.hpp>

#include <map>

#include "core/strings.h"
#include "register/register.h"
#include "core/json_text.h"

namespace steward::audit {
namespace {

const std::string kZeroHash(32, '\0');
// Held by the transaction that reads the chain's end and extends it (store::Connection::Serialise).
constexpr std::string_view kChainLock = "audit.chain";

// Appends a length-prefixed field, so no two sequences of fields share an encoding.
void Field(std::string& out, std::string_view v) {
  out.append(std::to_string(v.size())).push_back(':');
  out.append(v).push_back(',');
}

// Canonical bytes of an entry.
std::string Canonical(int64_t seq, const std::string& at, const Entry& e, const std::string& details,
                      const std::string& prev_hash) {
  std::string out = "steward-audit-v1\n";
  auto field = [&out](std::string_view v) { Field(out, v); };
  field(prev_hash);
  field(std::to_string(seq));
  field(at);
  field(e.actor);
  field(e.action);
  field(e.target);
  field(e.outcome);
  field(e.request_id);
  field(details);
  return out;
}

std::string DetailsJson(const std::vector<std::pair<std::string, std::string>>& details) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : details) j[k] = v;
  return JsonText(j);
}

std::vector<std::pair<std::string, std::string>> ParseDetails(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    out.emplace_back(it.key(), it.value().is_string() ? it.value().get<std::string>() : JsonText(it.value()));
  }
  return out;
}

std::string CheckpointMessage(int64_t seq, const std::string& hash) {
  return "steward-audit-checkpoint-v1\n" + std::to_string(seq) + "\n" + hash;
}

// A purge of the oldest entries, as signed.
struct PurgeRecord {
  int64_t through = 0;      // the last entry removed: a signed checkpoint, which is kept
  std::string anchor_hash;  // that checkpoint's hash
  std::string anchor_at;    // that entry's time
  std::string cutoff, dataset, rule;
  int64_t removed = 0;
  std::string purged_at;
  std::string signature;
};

std::string PurgeMessage(const PurgeRecord& p) {
  std::string out = "steward-audit-purge-v1\n";
  Field(out, std::to_string(p.through));
  Field(out, p.anchor_hash);
  Field(out, p.anchor_at);
  Field(out, p.cutoff);
  Field(out, p.dataset);
  Field(out, p.rule);
  Field(out, std::to_string(p.removed));
  Field(out, p.purged_at);
  return out;
}

// The latest cut-off `rule` allows for a purge at `purged_at`; nullopt if either is unreadable.
std::optional<SystemTime> LatestCutoff(const std::string& rule, const std::string& purged_at) {
  auto period = processing::ParsePeriod(rule);
  auto at = ParseRfc3339(purged_at);
  if (!period || period->empty() || !at) return std::nullopt;
  return processing::Subtract(*at, *period);
}

// Why the purge through `through` cannot be believed, or "" when it can.
std::string CheckPurge(store::Connection& c, const std::string& public_key, const VerifyOptions& options,
                       int64_t through, const std::string& checkpoint_hash, PurgeRecord& p) {
  std::string removed = "entries up to " + std::to_string(through) + " were removed";
  auto rows = c.Query(
      "SELECT anchor_hash, anchor_at, cutoff, dataset, rule, removed, purged_at, signature FROM audit_purges "
      "WHERE through_seq = ?",
      {through});
  if (!rows.ok() || rows->empty()) return removed + " with no signed record of a retention purge";
  const store::Row& r = (*rows)[0];
  p = {through, r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.Text(6), r.Text(7)};
  if (!crypto::VerifySignature(public_key, PurgeMessage(p), p.signature)) {
    return removed + ": the record of the purge has a bad signature";
  }
  if (p.anchor_hash != checkpoint_hash) return removed + ": the record of the purge names another checkpoint";
  auto purged_at = ParseRfc3339(p.purged_at);
  if (!purged_at || *purged_at > options.now) return removed + " by a purge dated in the future (" + p.purged_at + ")";
  auto latest = LatestCutoff(p.rule, p.purged_at);
  auto cutoff = ParseRfc3339(p.cutoff);
  if (!latest || !cutoff || *cutoff > *latest) {
    return removed + " on " + p.purged_at + " with a cut-off of " + p.cutoff + ", later than the rule \"" + p.rule +
           "\" allows";
  }
  if (p.anchor_at >= p.cutoff) {
    return removed + ", but entry " + std::to_string(through) + " (" + p.anchor_at + ") was not older than the cut-off";
  }
  return "";
}

constexpr const char* kColumns = "seq, at, actor, action, target, outcome, request_id, details, prev_hash, hash";

Record ToRecord(const store::Row& r) {
  Record rec;
  rec.seq = r.Int(0);
  rec.at = r.Text(1);
  rec.entry.actor = r.Text(2);
  rec.entry.action = r.Text(3);
  rec.entry.target = r.Text(4);
  rec.entry.outcome = r.Text(5);
  rec.entry.request_id = r.Text(6);
  rec.entry.details = ParseDetails(r.Text(7));
  rec.prev_hash = r.Text(8);
  rec.hash = r.Text(9);
  return rec;
}

}  // namespace

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {"audit", 1, R"sql(
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE TABLE audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL,
  at TEXT NOT NULL
);
-- Steward's own code cannot rewrite the trail. Someone with the file can drop these triggers;
-- the hash chain and the signed checkpoints are what show that they did.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
)sql",
       R"sql(
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash BYTEA NOT NULL,
  hash BYTEA NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE TABLE audit_checkpoints (
  seq BIGINT PRIMARY KEY,
  hash BYTEA NOT NULL,
  signature BYTEA NOT NULL,
  at TEXT NOT NULL
);
-- As on SQLite: Steward's own code cannot rewrite the trail (TRUNCATE included); the chain and the
-- signed checkpoints show it if someone with the database's owner role did.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
)sql"},
      {"audit", 2, R"sql(
-- Retention may remove the oldest entries, but only a prefix that ends at a signed checkpoint,
-- which is kept: verification then starts from it. Nothing else can be deleted.
CREATE TABLE audit_purge (limit_seq INTEGER NOT NULL);
INSERT INTO audit_purge (limit_seq) VALUES (0);
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  WHEN old.seq > (SELECT limit_seq FROM audit_purge)
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
)sql",
       R"sql(
CREATE TABLE audit_purge (limit_seq BIGINT NOT NULL);
INSERT INTO audit_purge (limit_seq) VALUES (0);
DROP TRIGGER audit_log_no_delete ON audit_log;
CREATE FUNCTION audit_log_delete_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.seq > (SELECT limit_seq FROM audit_purge) THEN
    RAISE EXCEPTION 'the audit trail is append-only';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_delete_guard();
)sql"},
      {"audit", 3, R"sql(
-- Each retention purge leaves a record, signed with the checkpoint key, of what it removed, up to
-- where and under which rule: without it, a trail that starts after entry 1 does not verify.
CREATE TABLE audit_purges (
  through_seq INTEGER PRIMARY KEY,
  anchor_hash BLOB NOT NULL,
  anchor_at TEXT NOT NULL,
  cutoff TEXT NOT NULL,
  dataset TEXT NOT NULL,
  rule TEXT NOT NULL,
  removed INTEGER NOT NULL,
  purged_at TEXT NOT NULL,
  signature BLOB NOT NULL
);
CREATE TRIGGER audit_purges_no_update BEFORE UPDATE ON audit_purges
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_purges_no_delete BEFORE DELETE ON audit_purges
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
)sql",
       R"sql(
CREATE TABLE audit_purges (
  through_seq BIGINT PRIMARY KEY,
  anchor_hash BYTEA NOT NULL,
  anchor_at TEXT NOT NULL,
  cutoff TEXT NOT NULL,
  dataset TEXT NOT NULL,
  rule TEXT NOT NULL,
  removed BIGINT NOT NULL,
  purged_at TEXT NOT NULL,
  signature BYTEA NOT NULL
);
CREATE TRIGGER audit_purges_no_update BEFORE UPDATE ON audit_purges
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_purges_no_delete BEFORE DELETE ON audit_purges
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_purges_no_truncate BEFORE TRUNCATE ON audit_purges
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
)sql"},
  };
  return kMigrations;
}

std::array<uint8_t, 32> CheckpointSeed(const crypto::SecretKey& key) { return key.DeriveKey("auditsig"); }

Trail::Trail(store::Store& store, const crypto::SecretKey& key, const Clock& clock, int checkpoint_every)
    : store_(store), signer_(CheckpointSeed(key)), clock_(clock), checkpoint_every_(checkpoint_every) {}

Status Trail::AppendIn(store::Connection& c, const Entry& entry) {
  if (entry.actor.empty() || entry.action.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "an audit entry needs an actor and an action");
  }
  // Several instances may append at once: each reads the chain's end and extends it in turn.
  STEWARD_RETURN_IF_ERROR(c.Serialise(kChainLock));
  STEWARD_ASSIGN_OR_RETURN(auto last, c.Query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
  int64_t seq = last.empty() ? 1 : last[0].Int(0) + 1;
  std::string prev = last.empty() ? kZeroHash : last[0].Text(1);
  std::string at = FormatRfc3339Millis(clock_.Now());
  std::string details = DetailsJson(entry.details);
  std::string hash = crypto::Hash(Canonical(seq, at, entry, details, prev));
  STEWARD_RETURN_IF_ERROR(
      c.Exec("INSERT INTO audit_log (seq, at, actor, action, target, outcome, request_id, details, prev_hash, hash) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             {seq, at, entry.actor, entry.action, entry.target, entry.outcome, entry.request_id, details,
              store::Blob{prev}, store::Blob{hash}}));
  if (checkpoint_every_ > 0 && seq % checkpoint_every_ == 0) STEWARD_RETURN_IF_ERROR(CheckpointIn(c, seq, hash));
  return Ok();
}

Status Trail::Append(const Entry& entry) {
  return store_.Write([&](store::Connection& c) { return AppendIn(c, entry); });
}

Result<int64_t> Trail::PurgeIn(store::Connection& c, const PurgeRequest& request, bool dry_run) {
  auto latest = LatestCutoff(request.rule, request.now);
  auto cutoff = ParseRfc3339(request.cutoff);
  if (!latest || !cutoff) {
    return MakeError(ErrorCode::kInvalidArgument, "the audit trail is purged only by a period of time");
  }
  if (*cutoff > *latest) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a cut-off of " + request.cutoff + " is later than \"" + request.rule + "\" allows");
  }
  STEWARD_RETURN_IF_ERROR(c.Serialise(kChainLock));
  // The newest checkpoint whose entry is older than the cutoff: everything up to it may go.
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT k.seq, k.hash, l.at FROM audit_checkpoints k "
                                              "JOIN audit_log l ON l.seq = k.seq WHERE l.at < ? "
                                              "ORDER BY k.seq DESC LIMIT 1",
                                              {request.cutoff}));
  if (rows.empty()) return int64_t{0};
  PurgeRecord p{.through = rows[0].Int(0), .anchor_hash = rows[0].Text(1), .anchor_at = rows[0].Text(2)};
  STEWARD_ASSIGN_OR_RETURN(auto count, c.Query("SELECT count(*) FROM audit_log WHERE seq <= ?", {p.through}));
  if (dry_run || count[0].Int(0) == 0) return count[0].Int(0);
  STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE audit_purge SET limit_seq = ?", {p.through}));
  STEWARD_ASSIGN_OR_RETURN(p.removed, c.Exec("DELETE FROM audit_log WHERE seq <= ?", {p.through}));
  p.cutoff = request.cutoff;
  p.dataset = request.dataset;
  p.rule = request.rule;
  p.purged_at = request.now;
  p.signature = signer_.Sign(PurgeMessage(p));
  STEWARD_RETURN_IF_ERROR(
      c.Exec("INSERT INTO audit_purges (through_seq, anchor_hash, anchor_at, cutoff, dataset, rule, removed, "
             "purged_at, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
             {p.through, store::Blob{p.anchor_hash}, p.anchor_at, p.cutoff, p.dataset, p.rule, p.removed, p.purged_at,
              store::Blob{p.signature}}));
  STEWARD_RETURN_IF_ERROR(AppendIn(
      c, {.actor = "system",
          .action = "audit.purged",
          .target = "dataset:" + p.dataset,
          .details = {
              {"through", std::to_string(p.through)}, {"removed", std::to_string(p.removed)}, {"cutoff", p.cutoff}}}));
  return p.removed;
}

Status Trail::CheckpointIn(store::Connection& c, int64_t seq, const std::string& hash) {
  std::string signature = signer_.Sign(CheckpointMessage(seq, hash));
  STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO audit_checkpoints (seq, hash, signature, at) VALUES (?, ?, ?, ?)",
                                 {seq, store::Blob{hash}, store::Blob{signature}, FormatRfc3339Millis(clock_.Now())}));
  return Ok();
}

Status Trail::Checkpoint() {
  return store_.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Serialise(kChainLock));
    STEWARD_ASSIGN_OR_RETURN(auto last, c.Query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
    if (last.empty()) return Ok();
    STEWARD_ASSIGN_OR_RETURN(auto done, c.Query("SELECT 1 FROM audit_checkpoints WHERE seq = ?", {last[0].Int(0)}));
    if (!done.empty()) return Ok();
    return CheckpointIn(c, last[0].Int(0), last[0].Text(1));
  });
}

Result<std::vector<Record>> Trail::List(const Filter& filter) const {
  if (filter.limit < 1 || filter.limit > 500) return MakeError(ErrorCode::kInvalidArgument, "limit must be 1 to 500");
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_log WHERE 1 = 1";
  std::vector<store::Value> params;
  if (!filter.since.empty()) {
    sql += " AND at >= ?";
    params.emplace_back(filter.since);
  }
  if (!filter.until.empty()) {
    sql += " AND at < ?";
    params.emplace_back(filter.until);
  }
  if (!filter.actor.empty()) {
    sql += " AND actor = ?";
    params.emplace_back(filter.actor);
  }
  if (!filter.action.empty()) {
    if (filter.action.back() == '.') {
      // A prefix: "staff." matches "staff.signin". Range rather than LIKE, so no wildcard escapes.
      sql += " AND action >= ? AND action < ?";
      params.emplace_back(filter.action);
      std::string upper = filter.action;
      upper.back() = '/';  // the character after '.'
      params.emplace_back(upper);
    } else {
      sql += " AND action = ?";
      params.emplace_back(filter.action);
    }
  }
  if (filter.before_seq > 0) {
    sql += " AND seq < ?";
    params.emplace_back(filter.before_seq);
  }
  sql += " ORDER BY seq DESC LIMIT ?";
  params.emplace_back(int64_t{filter.limit});
  std::vector<Record> records;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    return c.ForEach(sql, params, [&](const store::Row& r) {
      records.push_back(ToRecord(r));
      return true;
    });
  }));
  return records;
}

Result<VerifyReport> Verify(store::Connection& c, const std::string& public_key, const VerifyOptions& options) {
  VerifyReport report;
  auto flag = [&report](int64_t seq, std::string problem) {
    if (report.first_bad_seq == 0 || seq < report.first_bad_seq) {
      report.first_bad_seq = seq;
      report.problem = std::move(problem);
    }
  };

  struct Checkpoint {
    std::string hash, signature;
  };
  std::map<int64_t, Checkpoint> checkpoints;
  STEWARD_RETURN_IF_ERROR(
      c.ForEach("SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq", {}, [&](const store::Row& r) {
        checkpoints[r.Int(0)] = {r.Text(1), r.Text(2)};
        return true;
      }));
  report.checkpoints = static_cast<int64_t>(checkpoints.size());

  // A trail whose oldest entries retention removed starts after a signed checkpoint, which vouches
  // for the hash the first remaining entry must follow, and a signed record of the purge, which
  // vouches that retention removed them when the rule allowed.
  int64_t expected = 1;
  std::string prev = kZeroHash;
  int64_t last_good_checkpoint = 0;
  int64_t purge_entry_needed = 0;  // the purge whose audit.purged entry the chain must hold
  report.start = "from entry 1, the first";
  STEWARD_ASSIGN_OR_RETURN(auto purged, c.Query("SELECT limit_seq FROM audit_purge"));
  if (!purged.empty() && purged[0].Int(0) > 0) {
    int64_t anchor = purged[0].Int(0);
    auto cp = checkpoints.find(anchor);
    PurgeRecord p;
    std::string why;
    if (cp == checkpoints.end() ||
        !crypto::VerifySignature(public_key, CheckpointMessage(anchor, cp->second.hash), cp->second.signature)) {
      why = "entries up to " + std::to_string(anchor) + " were removed without a signed checkpoint to start from";
    } else {
      why = CheckPurge(c, public_key, options, anchor, cp->second.hash, p);
    }
    // Either way the walk goes on from after the anchor, so what follows is checked too.
    expected = anchor + 1;
    if (cp != checkpoints.end()) prev = cp->second.hash;
    report.start_seq = anchor + 1;
    if (!why.empty()) {
      flag(anchor + 1, why);
      report.start = "from entry " + std::to_string(anchor + 1) + ", where the trail now begins";
    } else {
      last_good_checkpoint = anchor;
      purge_entry_needed = anchor;
      report.start = "from entry " + std::to_string(anchor + 1) + ": retention removed entries up to " +
                     std::to_string(anchor) + ", all older than " + p.cutoff + ", on " + p.purged_at + " (dataset " +
                     p.dataset + ", kept for " + p.rule + ")";
      if (!options.rule.empty() && options.rule != p.rule) {
        report.start += "; the register now says " + options.rule;
      }
    }
  }
  STEWARD_RETURN_IF_ERROR(
      c.ForEach(std::string("SELECT ") + kColumns + " FROM audit_log ORDER BY seq", {}, [&](const store::Row& r) {
        Record rec = ToRecord(r);
        ++report.entries;
        if (rec.seq != expected) {
          flag(expected, rec.seq > expected ? "entry " + std::to_string(expected) + " is missing: removed"
                                            : "entry " + std::to_string(rec.seq) + " is out of order");
        }
        std::string recomputed = crypto::Hash(Canonical(rec.seq, rec.at, rec.entry, r.Text(7), rec.prev_hash));
        if (recomputed != rec.hash) {
          flag(rec.seq, "entry " + std::to_string(rec.seq) + " was changed: its content does not match its hash");
        } else if (rec.prev_hash != prev) {
          flag(rec.seq,
               "entry " + std::to_string(rec.seq) + " does not follow the entry before it: removed or reordered");
        }
        auto cp = checkpoints.find(rec.seq);
        if (cp != checkpoints.end()) {
          if (!crypto::VerifySignature(public_key, CheckpointMessage(rec.seq, cp->second.hash), cp->second.signature)) {
            flag(rec.seq, "the checkpoint at entry " + std::to_string(rec.seq) + " has a bad signature");
          } else if (cp->second.hash != rec.hash) {
            flag(last_good_checkpoint + 1, "entries " + std::to_string(last_good_checkpoint + 1) + " to " +
                                               std::to_string(rec.seq) + " were rewritten: the signed checkpoint at " +
                                               std::to_string(rec.seq) + " does not match");
          } else {
            last_good_checkpoint = rec.seq;
          }
        }
        if (purge_entry_needed > 0 && rec.entry.action == "audit.purged") {
          for (const auto& [k, v] : rec.entry.details) {
            if (k == "through" && v == std::to_string(purge_entry_needed)) purge_entry_needed = 0;
          }
        }
        prev = rec.hash;
        expected = rec.seq + 1;
        return true;
      }));
  if (purge_entry_needed > 0) {
    flag(purge_entry_needed + 1, "entries up to " + std::to_string(purge_entry_needed) +
                                     " were removed, but the trail does not record the purge that removed them");
  }
  // A checkpoint past the last entry vouches for entries that are gone.
  if (!checkpoints.empty() && checkpoints.rbegin()->first >= expected) {
    flag(expected, "entries from " + std::to_string(expected) + " were removed: a checkpoint vouches for entry " +
                       std::to_string(checkpoints.rbegin()->first));
  }
  return report;
}

Result<int64_t> ExportJsonLines(store::Connection& c, const std::string& since, std::ostream& out) {
  int64_t n = 0;
  STEWARD_RETURN_IF_ERROR(c.ForEach(std::string("SELECT ") + kColumns + " FROM audit_log WHERE at >= ? ORDER BY seq",
                                    {since}, [&](const store::Row& r) {
                                      Record rec = ToRecord(r);
                                      nlohmann::ordered_json j;
                                      j["seq"] = rec.seq;
                                      j["at"] = rec.at;
                                      j["actor"] = rec.entry.actor;
                                      j["action"] = rec.entry.action;
                                      j["target"] = rec.entry.target;
                                      j["outcome"] = rec.entry.outcome;
                                      j["request_id"] = rec.entry.request_id;
                                      j["details"] = nlohmann::ordered_json::parse(r.Text(7), nullptr, false);
                                      j["prev_hash"] = HexEncode(rec.prev_hash);
                                      j["hash"] = HexEncode(rec.hash);
                                      out << JsonText(j) << '\n';
                                      ++n;
                                      return true;
                                    }));
  return n;
}

}  // namespace steward::audit
