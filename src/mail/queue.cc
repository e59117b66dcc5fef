#include <algorithm>
#include <regex>

#include "core/log.h"
#include "core/strings.h"
#include "mail/mail.h"

namespace steward::mail {
namespace {

constexpr const char* kTable = "mail_queue";

int64_t Millis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string BlobOf(const store::Row& row, size_t col) {
  if (row.IsNull(col)) return "";
  return std::get<store::Blob>(row.at(col)).bytes;
}

bool OneLine(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

}  // namespace

struct Queue::Metrics {
  metrics::Counter* messages = nullptr;  // by outcome
  void Count(const char* outcome, int64_t n = 1) const {
    if (messages != nullptr && n > 0) messages->Inc({outcome}, static_cast<double>(n));
  }
};

Queue::Queue(store::Store& store, const crypto::SecretKey& key, const Clock& clock, metrics::Registry* metrics)
    : store_(store),
      clock_(clock),
      suppression_key_([&] {
        auto k = key.DeriveKey("mailsupp");
        return std::string(reinterpret_cast<const char*>(k.data()), k.size());
      }()),
      subjects_(std::make_unique<subjects::SubjectStore>(key, clock)),
      metrics_(std::make_unique<Metrics>()) {
  if (metrics != nullptr) {
    metrics_->messages = &metrics->AddCounter("steward_mail_messages_total",
                                              "Outbound email by outcome: queued, sent, deferred (a temporary failure, "
                                              "retried), failed (refused, or given up), suppressed (an address that "
                                              "bounced for good or complained).",
                                              {"outcome"});
  }
}

Queue::~Queue() = default;

std::vector<store::Migration> Queue::Migrations() {
  return {{"mail", 1, R"sql(
    -- Privacy: outgoing-mail. One row a message. The address and the message are sealed under the
    -- recipient's subject key, and dropped once sent; the subject and the bounce token stay until
    -- retention deletes the row. `reason` is a code ("smtp 550"), never the server's words.
    CREATE TABLE mail_queue (
      id INTEGER PRIMARY KEY,
      created_at TEXT NOT NULL,
      next_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      status TEXT NOT NULL DEFAULT 'queued',
      reason TEXT NOT NULL DEFAULT '',
      sent_at TEXT,
      token TEXT NOT NULL,
      subject_id TEXT,
      recipient BLOB,
      message BLOB
    );
    CREATE INDEX mail_queue_due ON mail_queue (status, next_at, id);
    CREATE INDEX mail_queue_subject ON mail_queue (subject_id);
    CREATE UNIQUE INDEX mail_queue_token ON mail_queue (token);
    CREATE INDEX mail_queue_created ON mail_queue (created_at);
    CREATE INDEX mail_queue_sent ON mail_queue (sent_at);
  )sql"},
          {"mail", 2, R"sql(
    -- Privacy: outgoing-mail. A keyed hash of the address, so that a bounce for a sent message
    -- (whose address is gone) can still suppress it.
    ALTER TABLE mail_queue ADD COLUMN address_hash BLOB;
    -- Privacy: mail-suppression. Keyed hashes of addresses that bounced for good or complained
    -- (never the address), and soft bounces counted towards suppression.
    CREATE TABLE mail_suppression (
      address_hash BLOB PRIMARY KEY,
      reason TEXT NOT NULL,
      soft_bounces INTEGER NOT NULL DEFAULT 0,
      suppressed_at TEXT,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX mail_suppression_updated ON mail_suppression (updated_at);
  )sql"},
          {"mail", 3, R"sql(
    -- What a message belongs to ("subscriptions:12", never personal), and whether it bounced for
    -- good or drew a complaint, so that a send's counts can be told.
    ALTER TABLE mail_queue ADD COLUMN batch TEXT;
    ALTER TABLE mail_queue ADD COLUMN bounced INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX mail_queue_batch ON mail_queue (batch);
  )sql"}};
}

std::string Queue::AddressHash(std::string_view address) const {
  auto key = subject::Key::Make(subject::KeyKind::kEmail, address);
  return crypto::Hash(key.ok() ? key->value() : ToLower(address), suppression_key_);
}

Result<bool> Queue::Suppressed(store::Connection& c, std::string_view address) const {
  STEWARD_ASSIGN_OR_RETURN(
      auto rows, c.Query("SELECT 1 FROM mail_suppression WHERE address_hash = ? AND suppressed_at IS NOT NULL",
                         {store::Blob{AddressHash(address)}}));
  return !rows.empty();
}

retention::ModuleStorage Queue::SuppressionStorage() {
  return {.module = "mail-suppression",
          .personal_tables = {"mail_suppression"},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t limit) -> Result<int64_t> {
            // Privacy: mail-suppression, a hash deleted once nothing about it changed for the retention.
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows,
                                       c.Query("SELECT count(*) FROM mail_suppression WHERE updated_at < ?", {cutoff}));
              return rows.front().Int(0);
            }
            return retention::DeleteAtMost(c, "mail_suppression", "address_hash", "updated_at < ?", {cutoff}, limit);
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "mail-suppression"; });
              },
          .stores = {"user.contact.email"},
          .batched = true};
}

retention::ModuleStorage Queue::Storage() {
  return {.module = "mail",
          .personal_tables = {kTable},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t limit) -> Result<int64_t> {
            // Privacy: outgoing-mail, deleted once older than the register's retention, sent or not.
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows,
                                       c.Query("SELECT count(*) FROM mail_queue WHERE created_at < ?", {cutoff}));
              return rows.front().Int(0);
            }
            return retention::DeleteAtMost(c, "mail_queue", "id", "created_at < ?", {cutoff}, limit);
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "mail"; });
              },
          .stores = {"user.contact.email", "user.content"},
          .batched = true};
}

std::vector<subjects::SealedTable> Queue::SealedTables() {
  return {{.table = kTable,
           .time_column = "created_at",
           .columns = {{"status", "user.content", "Whether the email was sent", false},
                       {"recipient", "user.contact.email", "The address we sent it to", true},
                       {"message", "user.content", "The email, while it waits to be sent", true}}}};
}

Duration Queue::Backoff(int64_t attempts) {
  int64_t minutes = int64_t{1} << std::min<int64_t>(std::max<int64_t>(attempts - 1, 0), 6);
  return std::chrono::minutes(std::min<int64_t>(minutes, 60));
}

Result<int64_t> Queue::Enqueue(store::Connection& c, const Email& email, const Settings& settings) {
  if (!ValidAddress(email.to)) return MakeError(ErrorCode::kInvalidArgument, "not an email address Steward sends to");
  if (!OneLine(email.subject)) return MakeError(ErrorCode::kInvalidArgument, "the subject is one line");
  for (const auto& [name, value] : email.headers) {
    if (!OneLine(name) || !OneLine(value) || name.find(':') != std::string::npos || name.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "a header is a name and a value on one line");
    }
  }
  SystemTime now = clock_.Now();
  std::string address_hash = AddressHash(email.to);
  STEWARD_ASSIGN_OR_RETURN(bool suppressed, Suppressed(c, email.to));
  if (suppressed) {
    return MakeError(ErrorCode::kFailedPrecondition, "the address is suppressed: it bounced for good or complained");
  }
  std::string message_id = "<" + crypto::RandomHex(16) + "@" + settings.Domain() + ">";
  std::string message = Compose(email, settings, message_id, now);
  // Privacy: outgoing-mail. The address leads to the person's subject; both fields are sealed under
  // their key, so erasing them reaches a queued message too.
  STEWARD_ASSIGN_OR_RETURN(auto key, subject::Key::Make(subject::KeyKind::kEmail, email.to));
  std::string subject_id = email.subject_id;
  if (subject_id.empty()) {
    STEWARD_ASSIGN_OR_RETURN(subject_id, subjects_->ForIdentifier(c, key));
  }
  STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_->Keys(c, subject_id));
  if (!keys) return MakeError(ErrorCode::kInternal, "a subject found in this write has no key");
  STEWARD_ASSIGN_OR_RETURN(
      auto rows, c.Query("INSERT INTO mail_queue (created_at, next_at, token, subject_id, recipient, message, "
                         "address_hash, batch) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                         {FormatRfc3339Millis(now), Millis(now), crypto::RandomHex(16), subject_id,
                          store::Blob{keys->Seal("mail_queue.recipient", email.to)},
                          store::Blob{keys->Seal("mail_queue.message", message)}, store::Blob{address_hash},
                          email.batch.empty() ? store::Value{} : store::Value{email.batch}}));
  metrics_->Count("queued");
  return rows.front().Int(0);
}

Result<int64_t> Queue::Enqueue(const Email& email, const Settings& settings) {
  int64_t id = 0;
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(id, Enqueue(c, email, settings));
    return Ok();
  }));
  return id;
}

Result<Queue::Round> Queue::Deliver(SmtpClient& smtp, const Settings& settings, int64_t limit) {
  Round round;
  SystemTime now = clock_.Now();
  std::string day_ago = FormatRfc3339Millis(now - std::chrono::hours(24));
  struct Due {
    int64_t id = 0, attempts = 0;
    std::string created_at, token, subject_id, recipient, message;
    bool erased = false, suppressed = false;
  };
  std::vector<Due> due;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto sent, c.Query("SELECT count(*) FROM mail_queue WHERE sent_at > ?", {day_ago}));
    limit = std::min(limit, settings.per_day - sent.front().Int(0));
    if (limit <= 0) return Ok();
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT q.id, q.attempts, q.created_at, q.token, q.subject_id, q.recipient, q.message, "
                           "s.suppressed_at FROM mail_queue q LEFT JOIN mail_suppression s "
                           "ON s.address_hash = q.address_hash AND s.suppressed_at IS NOT NULL "
                           "WHERE q.status = 'queued' AND q.next_at <= ? ORDER BY q.next_at, q.id LIMIT ?",
                           {Millis(now), limit}));
    for (const auto& r : rows) {
      Due d{r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.IsNull(4) ? "" : r.Text(4), "", "", false, !r.IsNull(7)};
      if (d.suppressed) {
        due.push_back(std::move(d));
        continue;
      }
      // Privacy: outgoing-mail, opened only to send it.
      STEWARD_ASSIGN_OR_RETURN(auto keys, subjects_->Keys(c, d.subject_id));
      auto recipient = keys ? keys->Open("mail_queue.recipient", BlobOf(r, 5)) : std::nullopt;
      auto message = keys ? keys->Open("mail_queue.message", BlobOf(r, 6)) : std::nullopt;
      if (!recipient || !message) {
        d.erased = true;  // the person was erased: nothing is sent
      } else {
        d.recipient = std::move(*recipient);
        d.message = std::move(*message);
      }
      due.push_back(std::move(d));
    }
    return Ok();
  }));
  std::string envelope_domain = settings.Domain();
  for (auto& d : due) {
    Outcome outcome{Outcome::Kind::kPermanent, d.suppressed ? "suppressed" : "erased"};
    if (!d.erased && !d.suppressed)
      outcome = smtp.Send("bounces+" + d.token + "@" + envelope_domain, d.recipient, d.message);
    SystemTime at = clock_.Now();
    bool gave_up = false;
    Status s = store_.Write([&](store::Connection& c) -> Status {
      if (outcome.kind == Outcome::Kind::kSent) {
        STEWARD_RETURN_IF_ERROR(
            c.Exec("UPDATE mail_queue SET status = 'sent', sent_at = ?, attempts = attempts + 1, reason = '', "
                   "recipient = NULL, message = NULL WHERE id = ?",
                   {FormatRfc3339Millis(at), d.id}));
        return Ok();
      }
      auto created = ParseRfc3339(d.created_at);
      gave_up = outcome.kind == Outcome::Kind::kPermanent || !created || at - *created >= kGiveUpAfter;
      if (gave_up) {
        std::string reason = outcome.kind == Outcome::Kind::kPermanent ? outcome.reason : "gave up: " + outcome.reason;
        STEWARD_RETURN_IF_ERROR(
            c.Exec("UPDATE mail_queue SET status = 'failed', attempts = attempts + 1, reason = ?, recipient = NULL, "
                   "message = NULL WHERE id = ?",
                   {reason, d.id}));
        return Ok();
      }
      STEWARD_RETURN_IF_ERROR(
          c.Exec("UPDATE mail_queue SET attempts = attempts + 1, next_at = ?, reason = ? WHERE id = ?",
                 {Millis(at + Backoff(d.attempts + 1)), outcome.reason, d.id}));
      return Ok();
    });
    if (!s.ok()) return s.error();
    if (outcome.kind == Outcome::Kind::kSent) {
      ++round.sent;
    } else if (gave_up) {
      ++round.failed;
      log::Warn("mail.failed", {{"message", d.id}, {"reason", outcome.reason}});
    } else {
      ++round.deferred;
      log::Info("mail.deferred", {{"message", d.id}, {"reason", outcome.reason}, {"attempts", d.attempts + 1}});
    }
  }
  metrics_->Count("sent", round.sent);
  metrics_->Count("deferred", round.deferred);
  metrics_->Count("failed", round.failed);
  return round;
}

Result<Queue::Bounce> Queue::HandleBounce(std::string_view report) {
  Bounce bounce;
  // The token of our envelope sender: the report is addressed to it, and the returned message
  // carries it as its Return-Path.
  static const std::regex kToken("bounces\\+([0-9a-f]{32})@", std::regex::icase);
  std::string text(report.substr(0, 10 << 20));
  std::smatch m;
  if (!std::regex_search(text, m, kToken)) return bounce;
  std::string token = ToLower(m[1].str());
  std::string lower = ToLower(text);
  auto field = [&](std::string_view name) {
    // The first "Name: value" at the start of a line.
    std::string needle = "\n" + std::string(name) + ":";
    size_t at = lower.find(needle);
    if (at == std::string::npos) return std::string();
    size_t end = lower.find_first_of("\r\n", at + needle.size());
    return std::string(Trim(lower.substr(at + needle.size(), end - at - needle.size())));
  };
  std::string feedback = field("feedback-type"), action = field("action"), status = field("status");
  if (!feedback.empty()) {
    bounce.kind = Bounce::Kind::kComplaint;
  } else if (action == "failed" || status.starts_with("5.")) {
    bounce.kind = Bounce::Kind::kHard;
  } else if (action == "delayed" || status.starts_with("4.")) {
    bounce.kind = Bounce::Kind::kSoft;
  } else {
    bounce.kind = Bounce::Kind::kUnclear;
  }
  std::string now = FormatRfc3339Millis(clock_.Now());
  STEWARD_RETURN_IF_ERROR(store_.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id, address_hash FROM mail_queue WHERE token = ?", {token}));
    if (rows.empty() || rows.front().IsNull(1)) {
      bounce.kind = Bounce::Kind::kNotOurs;  // unknown, or deleted by retention
      return Ok();
    }
    bounce.message = rows.front().Int(0);
    if (bounce.kind == Bounce::Kind::kUnclear) return Ok();
    store::Blob hash{BlobOf(rows.front(), 1)};
    const char* reason = bounce.kind == Bounce::Kind::kHard        ? "hard-bounce"
                         : bounce.kind == Bounce::Kind::kComplaint ? "complaint"
                                                                   : "soft-bounces";
    int64_t soft = bounce.kind == Bounce::Kind::kSoft ? 1 : 0;
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO mail_suppression (address_hash, reason, soft_bounces, updated_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (address_hash) DO UPDATE SET soft_bounces = mail_suppression.soft_bounces + "
               "excluded.soft_bounces, reason = CASE WHEN mail_suppression.suppressed_at IS NULL THEN excluded.reason "
               "ELSE mail_suppression.reason END, updated_at = excluded.updated_at",
               {hash, std::string(reason), soft, now}));
    STEWARD_RETURN_IF_ERROR(
        c.Exec("UPDATE mail_suppression SET suppressed_at = ? WHERE address_hash = ? AND suppressed_at IS NULL AND "
               "(reason <> 'soft-bounces' OR soft_bounces >= ?)",
               {now, hash, kSoftBouncesToSuppress}));
    STEWARD_ASSIGN_OR_RETURN(auto state,
                             c.Query("SELECT suppressed_at FROM mail_suppression WHERE address_hash = ?", {hash}));
    bounce.suppressed = !state.empty() && !state.front().IsNull(0);
    if (bounce.kind != Bounce::Kind::kSoft) {
      STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE mail_queue SET bounced = 1 WHERE id = ?", {bounce.message}));
    }
    return Ok();
  }));
  if (bounce.suppressed) metrics_->Count("suppressed");
  return bounce;
}

Result<Queue::State> Queue::StateOf(int64_t id) {
  State state;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT status, reason, attempts FROM mail_queue WHERE id = ?", {id}));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no message " + std::to_string(id));
    state = {rows.front().Text(0), rows.front().Text(1), rows.front().Int(2)};
    return Ok();
  }));
  return state;
}

Result<Queue::Counts> Queue::Count() {
  Counts counts;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    return c.ForEach("SELECT status, count(*) FROM mail_queue GROUP BY status", {}, [&](const store::Row& r) {
      std::string status = r.Text(0);
      if (status == "queued") counts.queued = r.Int(1);
      if (status == "sent") counts.sent = r.Int(1);
      if (status == "failed") counts.failed = r.Int(1);
      return true;
    });
  }));
  return counts;
}

Result<Queue::BatchCounts> Queue::CountBatch(std::string_view batch) {
  BatchCounts counts;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    return c.ForEach(
        "SELECT status, count(*), coalesce(sum(bounced), 0) FROM mail_queue WHERE batch = ? GROUP BY status",
        {std::string(batch)}, [&](const store::Row& r) {
          std::string status = r.Text(0);
          if (status == "queued") counts.queued = r.Int(1);
          if (status == "sent") counts.sent = r.Int(1);
          if (status == "failed") counts.failed = r.Int(1);
          counts.bounced += r.Int(2);
          return true;
        });
  }));
  return counts;
}

}  // namespace steward::mail
