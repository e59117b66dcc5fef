#include "rights/cases.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/days.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "subjects/subjects.h"

namespace steward::rights {
namespace {

constexpr const char* kTable = "rights_cases";
constexpr size_t kMaxName = 200, kMaxAddress = 1000, kMaxDetails = 20000, kMaxNote = 20000, kMaxIdentifiers = 20;

Error Invalid(const std::string& field, const std::string& message) {
  return MakeError(ErrorCode::kInvalidArgument, field + ": " + message);
}

std::string JoinRights(const std::vector<Right>& rights) {
  std::string out;
  for (Right r : rights) out += (out.empty() ? "" : ",") + std::string(RightName(r));
  return out;
}

std::vector<Right> SplitRights(std::string_view text) {
  std::vector<Right> out;
  for (auto part : Split(text, ',')) {
    if (auto r = ParseRight(part)) out.push_back(*r);
  }
  return out;
}

std::optional<int64_t> OptDay(const store::Row& r, size_t col) {
  if (r.IsNull(col)) return std::nullopt;
  return ParseDay(r.Text(col));
}

const char* kSummaryColumns =
    "id, rights, channel, received_on, status, identity, proof_on, extended, extension_told_on, assignee, "
    "closed_on, on_time, subject_id";

}  // namespace

const std::vector<Right>& AllRights() {
  static const std::vector<Right> kAll = {Right::kAccess,         Right::kRectification, Right::kErasure,
                                          Right::kRestriction,    Right::kObjection,     Right::kPortability,
                                          Right::kWithdrawConsent};
  return kAll;
}

std::string_view RightName(Right right) {
  switch (right) {
    case Right::kAccess:
      return "access";
    case Right::kRectification:
      return "rectification";
    case Right::kErasure:
      return "erasure";
    case Right::kRestriction:
      return "restriction";
    case Right::kObjection:
      return "objection";
    case Right::kPortability:
      return "portability";
    case Right::kWithdrawConsent:
      return "withdraw-consent";
  }
  return "access";
}

std::string_view RightTitle(Right right) {
  switch (right) {
    case Right::kAccess:
      return "See what we hold about you";
    case Right::kRectification:
      return "Correct something we hold about you";
    case Right::kErasure:
      return "Delete what we hold about you";
    case Right::kRestriction:
      return "Stop us using your data, but keep it";
    case Right::kObjection:
      return "Object to how we use your data";
    case Right::kPortability:
      return "Get a copy of your data to take elsewhere";
    case Right::kWithdrawConsent:
      return "Withdraw your consent";
  }
  return "";
}

std::string_view RightShort(Right right) {
  switch (right) {
    case Right::kAccess:
      return "Access";
    case Right::kRectification:
      return "Rectification";
    case Right::kErasure:
      return "Erasure";
    case Right::kRestriction:
      return "Restriction";
    case Right::kObjection:
      return "Objection";
    case Right::kPortability:
      return "Portability";
    case Right::kWithdrawConsent:
      return "Consent withdrawn";
  }
  return "";
}

std::optional<Right> ParseRight(std::string_view name) {
  for (Right r : AllRights()) {
    if (RightName(r) == name) return r;
  }
  return std::nullopt;
}

const std::vector<std::string>& Channels() {
  static const std::vector<std::string> kChannels = {"web",       "email",     "letter",
                                                     "telephone", "in-person", "social-media"};
  return kChannels;
}

std::string Summary::ClockText() const {
  if (status != "open") return "stopped";
  if (identity == Identity::kAwaitingProof) return "waiting for proof of identity";
  if (due.waiting) return "waiting for a clarification";
  return extended ? "running (extended)" : "running";
}

struct Cases::Impl {
  store::Store& store;
  audit::Trail& trail;
  const Clock& clock;
  Settings settings;
  const BankHolidays& holidays;
  subjects::SubjectStore subjects;
  std::string email_key;  // keys the hash that finds a requester's cases by email address

  int64_t Today() const { return UkDay(clock.Now()); }

  std::string EmailHash(std::string_view email) const {
    return HexEncode(crypto::Hash(ToLower(Trim(email)), email_key));
  }

  Result<std::vector<PauseRecord>> Pauses(store::Connection& c, int64_t id) const {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT from_on, to_on, why FROM rights_pauses WHERE case_id = ? ORDER BY from_on", {id}));
    std::vector<PauseRecord> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
      out.push_back({.from = ParseDay(r.Text(0)).value_or(0), .to = OptDay(r, 1), .why = r.Text(2)});
    }
    return out;
  }

  // The due date of a case as it stands: the month from receipt or proof, pauses added.
  Result<Due> DueOf(const Summary& s) const {
    DueInput in{.received = s.received, .extended = s.extended, .today = s.closed ? *s.closed : Today()};
    in.proof_received = s.proof_received;
    bool awaiting = s.identity == Identity::kAwaitingProof;
    // Waiting for proof: the month has not started; it would start today.
    if (awaiting) in.proof_received = std::max(in.today, s.received);
    for (const auto& p : s.pauses) in.pauses.push_back(rights::Pause{.from = p.from, .to = p.to});
    if (awaiting) in.pauses.clear();
    STEWARD_ASSIGN_OR_RETURN(Due due, DueDate(in, settings.nation, holidays));
    if (awaiting) due.waiting = true;
    return due;
  }

  Result<Summary> FromRow(store::Connection& c, const store::Row& r) const {
    Summary s;
    s.id = r.Int(0);
    s.reference = Cases::Reference(s.id);
    s.rights = SplitRights(r.Text(1));
    s.channel = r.Text(2);
    s.received = ParseDay(r.Text(3)).value_or(0);
    s.status = r.Text(4);
    s.identity = r.Text(5) == "awaiting-proof" ? Identity::kAwaitingProof : Identity::kKnown;
    s.proof_received = OptDay(r, 6);
    s.extended = r.Int(7) != 0;
    s.extension_told = OptDay(r, 8);
    if (!r.IsNull(9)) s.assignee = r.Int(9);
    s.closed = OptDay(r, 10);
    s.on_time = !r.IsNull(11) && r.Int(11) != 0;
    STEWARD_ASSIGN_OR_RETURN(s.pauses, Pauses(c, s.id));
    STEWARD_ASSIGN_OR_RETURN(s.due, DueOf(s));
    return s;
  }

  Result<Summary> Load(store::Connection& c, int64_t id) const {
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query(std::string("SELECT ") + kSummaryColumns + " FROM rights_cases WHERE id = ?", {id}));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no rights request " + Cases::Reference(id));
    return FromRow(c, rows.front());
  }

  Result<std::string> SubjectOf(store::Connection& c, int64_t id) const {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT subject_id FROM rights_cases WHERE id = ?", {id}));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no rights request " + Cases::Reference(id));
    return rows.front().Text(0);
  }

  // One step: in the timeline (its text sealed under the case's key) and the audit trail (ids only).
  Status Step(store::Connection& c, int64_t id, const Actor& actor, std::string_view kind, std::string_view text,
              std::vector<std::pair<std::string, std::string>> details = {}) const {
    store::Value sealed;
    if (!text.empty()) {
      STEWARD_ASSIGN_OR_RETURN(std::string subject, SubjectOf(c, id));
      STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, subject));
      if (!keys) return MakeError(ErrorCode::kFailedPrecondition, "the case's key is gone");
      sealed = store::Blob{keys->Seal("rights_events.text", text)};
    }
    STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO rights_events (case_id, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)",
                                   {id, FormatRfc3339Millis(clock.Now()), actor.id, std::string(kind), sealed}));
    return trail.AppendIn(c, {.actor = actor.id,
                              .action = "rights." + std::string(kind),
                              .target = "rights:" + std::to_string(id),
                              .request_id = actor.request_id,
                              .details = std::move(details)});
  }

  // Keeps the cached due date (the queue's order) in step with the case.
  Status Refresh(store::Connection& c, int64_t id) const {
    STEWARD_ASSIGN_OR_RETURN(Summary s, Load(c, id));
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE rights_cases SET due_on = ? WHERE id = ?", {DayText(s.due.day), id}));
    return Ok();
  }

  // Runs `fn` on an open case in one write, then refreshes its due date.
  Status OnOpen(int64_t id, const std::function<Status(store::Connection&, const Summary&)>& fn) const {
    return store.Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(Summary s, Load(c, id));
      if (s.status != "open") {
        return MakeError(ErrorCode::kFailedPrecondition, Cases::Reference(id) + " is closed (" + s.status + ")");
      }
      STEWARD_RETURN_IF_ERROR(fn(c, s));
      return Refresh(c, id);
    });
  }
};

Cases::Cases(store::Store& store, audit::Trail& trail, const crypto::SecretKey& key, const Clock& clock,
             Settings settings, const BankHolidays& holidays)
    : impl_(new Impl{.store = store,
                     .trail = trail,
                     .clock = clock,
                     .settings = std::move(settings),
                     .holidays = holidays,
                     .subjects = subjects::SubjectStore(key, clock),
                     .email_key = [&] {
                       auto k = key.DeriveKey("rightsem");
                       return std::string(reinterpret_cast<const char*>(k.data()), k.size());
                     }()}) {}

Cases::~Cases() = default;

const Settings& Cases::settings() const { return impl_->settings; }
const BankHolidays& Cases::holidays() const { return impl_->holidays; }

std::vector<store::Migration> Cases::Migrations() {
  return {{"rights", 1, R"sql(
    -- Privacy: rights requests. One request a person made, its clock and how it closed. The name,
    -- how to answer, the identifiers given and what it is about are sealed under the case's own
    -- subject key; requester_hash is a keyed hash of the email address, to find a person's cases.
    CREATE TABLE rights_cases (
      id INTEGER PRIMARY KEY,
      subject_id TEXT NOT NULL,
      rights TEXT NOT NULL,
      channel TEXT NOT NULL,
      received_on TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'open',
      identity TEXT NOT NULL DEFAULT 'known',
      proof_on TEXT,
      extended INTEGER NOT NULL DEFAULT 0,
      extension_told_on TEXT,
      due_on TEXT NOT NULL,
      assignee INTEGER,
      requester_hash TEXT,
      name BLOB,
      email BLOB,
      postal_address BLOB,
      identifiers BLOB NOT NULL,
      details BLOB,
      outcome BLOB,
      created_at TEXT NOT NULL,
      closed_on TEXT,
      closed_at TEXT,
      on_time INTEGER
    );
    CREATE INDEX rights_cases_queue ON rights_cases (status, due_on);
    CREATE INDEX rights_cases_received ON rights_cases (received_on);
    CREATE INDEX rights_cases_requester ON rights_cases (requester_hash);
    CREATE INDEX rights_cases_closed ON rights_cases (closed_at);
    -- Privacy: rights requests. The days the clock stood still waiting for a clarification.
    CREATE TABLE rights_pauses (
      case_id INTEGER NOT NULL,
      from_on TEXT NOT NULL,
      to_on TEXT,
      why TEXT NOT NULL,
      PRIMARY KEY (case_id, from_on)
    );
    -- Privacy: rights requests. Each step of a case; what a caseworker wrote is sealed under the
    -- case's key.
    CREATE TABLE rights_events (
      id INTEGER PRIMARY KEY,
      case_id INTEGER NOT NULL,
      at TEXT NOT NULL,
      actor TEXT NOT NULL,
      kind TEXT NOT NULL,
      text BLOB
    );
    CREATE INDEX rights_events_case ON rights_events (case_id, id);
  )sql"},
          {"rights", 3, R"sql(
    -- The days the caseworkers were reminded of an open case: seven days before it is due, and
    -- once it is overdue.
    ALTER TABLE rights_cases ADD COLUMN reminded_soon_on TEXT;
    ALTER TABLE rights_cases ADD COLUMN reminded_overdue_on TEXT;
  )sql"},
          {"rights", 5, R"sql(
    -- Found by their subject keys: erasing a person asks whether anything still names their key,
    -- which without this read every case.
    CREATE INDEX rights_cases_subject ON rights_cases (subject_id);
  )sql"}};
}

retention::ModuleStorage Cases::Storage() {
  return {.module = "rights",
          .personal_tables = {"rights_cases", "rights_pauses", "rights_events", "rights_pending", "rights_copies"},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff,
                      const std::string& now, bool dry_run, int64_t) -> Result<int64_t> {
            // Privacy: rights requests closed before the cut-off; an open case is never purged. Their keys
            // go with the daily sweep once nothing names them.
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(
                  auto rows,
                  c.Query("SELECT COUNT(*) FROM rights_cases WHERE closed_at IS NOT NULL AND closed_at < ?", {cutoff}));
              return rows.front().Int(0);
            }
            // Requests made on the site whose link expired unconfirmed: never a case.
            STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM rights_pending WHERE expires_at < ?", {now}));
            // Copies whose link has expired.
            STEWARD_RETURN_IF_ERROR(c.Exec("DELETE FROM rights_copies WHERE expires_at < ?", {now}));
            const char* old = "SELECT id FROM rights_cases WHERE closed_at IS NOT NULL AND closed_at < ?";
            STEWARD_RETURN_IF_ERROR(
                c.Exec(std::string("DELETE FROM rights_copies WHERE case_id IN (") + old + ")", {cutoff}));
            STEWARD_RETURN_IF_ERROR(
                c.Exec(std::string("DELETE FROM rights_events WHERE case_id IN (") + old + ")", {cutoff}));
            STEWARD_RETURN_IF_ERROR(
                c.Exec(std::string("DELETE FROM rights_pauses WHERE case_id IN (") + old + ")", {cutoff}));
            return c.Exec("DELETE FROM rights_cases WHERE closed_at IS NOT NULL AND closed_at < ?", {cutoff});
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "rights"; });
              },
          // Who asked and how to answer them, what it is about, and the identifiers they gave to
          // search by (an IP address, a cookie's id among them).
          .stores = {"user.contact", "user.content.case_notes", "user.device.ip_address", "user.identifier.unique_id"}};
}

std::string Cases::Reference(int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "R-%06lld", static_cast<long long>(id));
  return buf;
}

std::optional<int64_t> Cases::ParseReference(std::string_view text) {
  text = Trim(text);
  if (text.size() > 2 && (text[0] == 'R' || text[0] == 'r') && text[1] == '-') text.remove_prefix(2);
  auto n = ParseUint(text);
  if (!n || *n == 0 || *n > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(*n);
}

namespace {

// What Open keeps of a new case once checked: the identifiers (the email address first), the
// rights in their canonical order.
struct Checked {
  std::vector<subject::Key> identifiers;
  std::string email;
  std::vector<Right> rights;
};

Result<Checked> CheckCase(const NewCase& in, int64_t today) {
  if (in.rights.empty()) return Invalid("rights", "Choose what the person asked for");
  if (std::find(Channels().begin(), Channels().end(), in.channel) == Channels().end()) {
    return Invalid("channel", "Choose how the request came in");
  }
  if (in.received > today) return Invalid("received", "The day it arrived cannot be in the future");
  if (in.received < *ParseDay("2020-01-01")) return Invalid("received", "Enter the day it arrived, on or after 2020");
  if (in.proof_received && (*in.proof_received < in.received || *in.proof_received > today)) {
    return Invalid("proof", "Proof arrives between the request and today");
  }
  if (in.name.size() > kMaxName) return Invalid("name", "Enter a name of 200 characters or fewer");
  if (in.postal_address.size() > kMaxAddress) {
    return Invalid("postal_address", "Enter an address of 1,000 characters or fewer");
  }
  if (in.details.size() > kMaxDetails) return Invalid("details", "Enter 20,000 characters or fewer");
  Checked out;
  if (!Trim(in.email).empty()) {
    auto key = subject::Key::Make(subject::KeyKind::kEmail, in.email);
    if (!key.ok()) return Invalid("email", "Enter an email address in the right format, like name@example.com");
    out.email = key->value();
    out.identifiers.push_back(*key);
  }
  if (out.email.empty() && Trim(in.postal_address).empty()) {
    return Invalid("email", "Enter an email address or a postal address to answer the person at");
  }
  for (const auto& k : in.identifiers) {
    if (std::find(out.identifiers.begin(), out.identifiers.end(), k) == out.identifiers.end()) {
      out.identifiers.push_back(k);
    }
  }
  if (out.identifiers.size() > kMaxIdentifiers) return Invalid("identifiers", "Give 20 identifiers or fewer");
  std::set<Right> unique(in.rights.begin(), in.rights.end());
  for (Right r : AllRights()) {
    if (unique.count(r)) out.rights.push_back(r);
  }
  return out;
}

}  // namespace

Status Cases::Check(const NewCase& c) const {
  STEWARD_RETURN_IF_ERROR(CheckCase(c, impl_->Today()));
  return Ok();
}

Result<Cases::Opened> Cases::OpenIn(store::Connection& c, const NewCase& in, const Actor& actor) {
  STEWARD_ASSIGN_OR_RETURN(Checked checked, CheckCase(in, impl_->Today()));
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& k : checked.identifiers) ids.push_back(std::string(subject::KindName(k.kind())) + ":" + k.value());
  // Privacy: rights requests: who asked, sealed under the case's own key.
  STEWARD_ASSIGN_OR_RETURN(std::string subject, impl_->subjects.Create(c));
  STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, subject));
  auto seal = [&](const char* column, std::string_view value) -> store::Value {
    if (value.empty()) return store::Value{};
    return store::Blob{keys->Seal(std::string(kTable) + "." + column, value)};
  };
  const std::string& email = checked.email;
  STEWARD_ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO rights_cases (subject_id, rights, channel, received_on, identity, proof_on, due_on, "
              "requester_hash, name, email, postal_address, identifiers, details, created_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
              {subject, JoinRights(checked.rights), in.channel, DayText(in.received),
               std::string(in.identity_known ? "known" : "awaiting-proof"),
               in.proof_received ? store::Value{DayText(*in.proof_received)} : store::Value{}, DayText(in.received),
               email.empty() ? store::Value{} : store::Value{impl_->EmailHash(email)}, seal("name", Trim(in.name)),
               seal("email", email), seal("postal_address", Trim(in.postal_address)),
               store::Blob{keys->Seal(std::string(kTable) + ".identifiers", JsonText(ids))},
               seal("details", Trim(in.details)), FormatRfc3339Millis(impl_->clock.Now())}));
  Opened opened{.id = rows.front().Int(0), .subject_id = subject};
  STEWARD_RETURN_IF_ERROR(impl_->Step(c, opened.id, actor, "opened", "",
                                      {{"rights", JoinRights(checked.rights)},
                                       {"channel", in.channel},
                                       {"identifiers", std::to_string(checked.identifiers.size())}}));
  if (in.proof_received) {
    STEWARD_RETURN_IF_ERROR(
        impl_->Step(c, opened.id, actor, "proof_received", "", {{"day", DayText(*in.proof_received)}}));
  }
  if (!in.identity_known) STEWARD_RETURN_IF_ERROR(impl_->Step(c, opened.id, actor, "proof_asked", ""));
  STEWARD_RETURN_IF_ERROR(impl_->Refresh(c, opened.id));
  STEWARD_ASSIGN_OR_RETURN(Summary s, impl_->Load(c, opened.id));
  opened.due = s.due;
  return opened;
}

Result<int64_t> Cases::Open(const NewCase& in, const Actor& actor) {
  // Checked before the write, so that a bad form never waits for the writer.
  STEWARD_RETURN_IF_ERROR(Check(in));
  int64_t id = 0;
  Status written = impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Opened opened, OpenIn(c, in, actor));
    id = opened.id;
    return Ok();
  });
  STEWARD_RETURN_IF_ERROR(written);
  return id;
}

Result<Case> Cases::Get(int64_t id) const {
  Case out;
  Status read = impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Summary s, impl_->Load(c, id));
    static_cast<Summary&>(out) = std::move(s);
    STEWARD_ASSIGN_OR_RETURN(
        auto rows,
        c.Query("SELECT subject_id, name, email, postal_address, identifiers, details, outcome FROM rights_cases "
                "WHERE id = ?",
                {id}));
    const auto& r = rows.front();
    // Privacy: rights requests: the requester's details, opened for the caseworker's page.
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, r.Text(0)));
    if (!keys) return MakeError(ErrorCode::kFailedPrecondition, Reference(id) + ": the case's key is gone");
    auto open = [&](size_t col, const char* column) -> std::string {
      if (r.IsNull(col)) return "";
      const auto* blob = std::get_if<store::Blob>(&r.at(col));
      if (blob == nullptr) return "";
      return keys->Open(std::string(kTable) + "." + column, blob->bytes).value_or("");
    };
    out.subject_id = r.Text(0);
    out.name = open(1, "name");
    out.email = open(2, "email");
    out.postal_address = open(3, "postal_address");
    auto ids = nlohmann::json::parse(open(4, "identifiers"), nullptr, false);
    if (ids.is_array()) {
      for (const auto& k : ids) {
        if (!k.is_string()) continue;
        if (auto key = subject::Key::Parse(k.get<std::string>()); key.ok()) out.identifiers.push_back(*key);
      }
    }
    out.details = open(5, "details");
    out.outcome = open(6, "outcome");
    STEWARD_ASSIGN_OR_RETURN(
        auto events, c.Query("SELECT at, actor, kind, text FROM rights_events WHERE case_id = ? ORDER BY id", {id}));
    for (const auto& e : events) {
      std::string text;
      if (const auto* blob = std::get_if<store::Blob>(&e.at(3))) {
        text = keys->Open("rights_events.text", blob->bytes).value_or("");
      }
      out.timeline.push_back({.at = e.Text(0), .actor = e.Text(1), .kind = e.Text(2), .text = std::move(text)});
    }
    return Ok();
  });
  STEWARD_RETURN_IF_ERROR(read);
  return out;
}

Result<std::vector<Summary>> Cases::Queue(const QueueFilter& filter) const {
  std::vector<Summary> out;
  Status read = impl_->store.Read([&](store::Connection& c) -> Status {
    std::string sql = std::string("SELECT ") + kSummaryColumns + " FROM rights_cases WHERE status " +
                      (filter.open ? "= 'open'" : "<> 'open'");
    std::vector<store::Value> params;
    if (filter.assignee) {
      sql += " AND assignee = ?";
      params.emplace_back(*filter.assignee);
    }
    sql += filter.open ? " ORDER BY due_on, id" : " ORDER BY closed_at DESC, id DESC";
    sql += " LIMIT " + std::to_string(std::min<size_t>(filter.limit, 1000));
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
    for (const auto& r : rows) {
      STEWARD_ASSIGN_OR_RETURN(Summary s, impl_->FromRow(c, r));
      out.push_back(std::move(s));
    }
    return Ok();
  });
  STEWARD_RETURN_IF_ERROR(read);
  if (filter.open) {
    // The cached order may lag a day for a waiting case: order by the due date as it is now.
    std::stable_sort(out.begin(), out.end(), [](const Summary& a, const Summary& b) { return a.due.day < b.due.day; });
  }
  return out;
}

Result<bool> Cases::IsRequester(store::Connection& c, int64_t id, std::string_view email) const {
  STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT requester_hash FROM rights_cases WHERE id = ?", {id}));
  if (rows.empty()) return MakeError(ErrorCode::kNotFound, Reference(id) + " is not a case");
  auto key = subject::Key::Make(subject::KeyKind::kEmail, email);
  if (!key.ok() || rows.front().IsNull(0)) return false;
  return crypto::ConstantTimeEquals(rows.front().Text(0), impl_->EmailHash(key->value()));
}

Result<std::vector<int64_t>> Cases::OfEmail(std::string_view email) const {
  std::vector<int64_t> out;
  auto key = subject::Key::Make(subject::KeyKind::kEmail, email);
  if (!key.ok()) return out;
  Status read = impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id FROM rights_cases WHERE requester_hash = ? ORDER BY id DESC",
                                                {impl_->EmailHash(key->value())}));
    for (const auto& r : rows) out.push_back(r.Int(0));
    return Ok();
  });
  STEWARD_RETURN_IF_ERROR(read);
  return out;
}

Status Cases::Assign(int64_t id, std::optional<int64_t> staff_id, const Actor& actor) {
  return impl_->OnOpen(id, [&](store::Connection& c, const Summary&) -> Status {
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE rights_cases SET assignee = ? WHERE id = ?",
                                   {staff_id ? store::Value{*staff_id} : store::Value{}, id}));
    return impl_->Step(c, id, actor, "assigned", "",
                       {{"assignee", staff_id ? "staff:" + std::to_string(*staff_id) : "nobody"}});
  });
}

Status Cases::AddNote(int64_t id, std::string_view text, const Actor& actor) {
  std::string_view note = Trim(text);
  if (note.empty()) return Invalid("note", "Enter a note");
  if (note.size() > kMaxNote) return Invalid("note", "Enter a note of 20,000 characters or fewer");
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(impl_->Load(c, id));
    return impl_->Step(c, id, actor, "note", note);
  });
}

Status Cases::AskProof(int64_t id, const Actor& actor) {
  return impl_->OnOpen(id, [&](store::Connection& c, const Summary& s) -> Status {
    if (s.identity == Identity::kAwaitingProof) {
      return MakeError(ErrorCode::kFailedPrecondition, "proof of identity has been asked for already");
    }
    if (s.proof_received) return MakeError(ErrorCode::kFailedPrecondition, "proof of identity has arrived already");
    if (!s.pauses.empty()) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "ask for proof of identity before a clarification: once the clock has run, it is too late "
                       "to restart it for proof");
    }
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE rights_cases SET identity = 'awaiting-proof' WHERE id = ?", {id}));
    return impl_->Step(c, id, actor, "proof_asked", "");
  });
}

Status Cases::ProofReceived(int64_t id, int64_t day, const Actor& actor) {
  return impl_->OnOpen(id, [&](store::Connection& c, const Summary& s) -> Status {
    if (s.identity != Identity::kAwaitingProof) {
      return MakeError(ErrorCode::kFailedPrecondition, "proof of identity was not asked for");
    }
    if (day < s.received) return Invalid("day", "Proof cannot arrive before the request");
    if (day > impl_->Today()) return Invalid("day", "The day proof arrived cannot be in the future");
    STEWARD_RETURN_IF_ERROR(
        c.Exec("UPDATE rights_cases SET identity = 'known', proof_on = ? WHERE id = ?", {DayText(day), id}));
    return impl_->Step(c, id, actor, "proof_received", "", {{"day", DayText(day)}});
  });
}

Status Cases::Pause(int64_t id, int64_t day, const Actor& actor) {
  return impl_->OnOpen(id, [&](store::Connection& c, const Summary& s) -> Status {
    if (s.identity == Identity::kAwaitingProof) {
      return MakeError(ErrorCode::kFailedPrecondition, "the clock has not started: proof of identity is awaited");
    }
    if (s.due.waiting) return MakeError(ErrorCode::kFailedPrecondition, "the clock is stopped already");
    int64_t start = s.proof_received.value_or(s.received);
    if (day < start) return Invalid("day", "The clock cannot stop before it started (" + DayText(start) + ")");
    if (!s.pauses.empty() && s.pauses.back().to && day < *s.pauses.back().to) {
      return Invalid("day", "The clock cannot stop before it last started again");
    }
    if (day > impl_->Today()) return Invalid("day", "The day cannot be in the future");
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO rights_pauses (case_id, from_on, why) VALUES (?, ?, 'clarification') "
               "ON CONFLICT (case_id, from_on) DO NOTHING",
               {id, DayText(day)}));
    return impl_->Step(c, id, actor, "paused", "", {{"day", DayText(day)}});
  });
}

Status Cases::Resume(int64_t id, int64_t day, const Actor& actor) {
  return impl_->OnOpen(id, [&](store::Connection& c, const Summary& s) -> Status {
    if (s.pauses.empty() || s.pauses.back().to) {
      return MakeError(ErrorCode::kFailedPrecondition, "the clock is not stopped for a clarification");
    }
    if (day < s.pauses.back().from) return Invalid("day", "The clarification cannot arrive before it was asked for");
    if (day > impl_->Today()) return Invalid("day", "The day cannot be in the future");
    STEWARD_RETURN_IF_ERROR(c.Exec("UPDATE rights_pauses SET to_on = ? WHERE case_id = ? AND from_on = ?",
                                   {DayText(day), id, DayText(s.pauses.back().from)}));
    return impl_->Step(c, id, actor, "resumed", "", {{"day", DayText(day)}});
  });
}

Status Cases::Extend(int64_t id, std::string_view reason, const Actor& actor) {
  std::string_view why = Trim(reason);
  if (why.empty()) return Invalid("reason", "Enter why the request needs longer, as the person will be told");
  if (why.size() > kMaxNote) return Invalid("reason", "Enter a reason of 20,000 characters or fewer");
  return impl_->OnOpen(id, [&](store::Connection& c, const Summary& s) -> Status {
    if (s.extended) return MakeError(ErrorCode::kFailedPrecondition, "the request is extended already");
    if (s.identity == Identity::kAwaitingProof) {
      return MakeError(ErrorCode::kFailedPrecondition, "the clock has not started: proof of identity is awaited");
    }
    // The person must be told within the first month.
    if (impl_->Today() > s.due.day) {
      return MakeError(ErrorCode::kFailedPrecondition, "the first month ended on " + DayText(s.due.day) +
                                                           ": an extension must be told to the person within it");
    }
    // The new due date gets its own reminder.
    STEWARD_RETURN_IF_ERROR(
        c.Exec("UPDATE rights_cases SET extended = 1, extension_told_on = ?, reminded_soon_on = NULL WHERE id = ?",
               {DayText(impl_->Today()), id}));
    return impl_->Step(c, id, actor, "extended", why);
  });
}

Status Cases::Close(int64_t id, std::string_view status, std::string_view outcome, const Actor& actor) {
  static const std::set<std::string_view> kClosing = {"answered", "refused", "withdrawn", "closed"};
  if (!kClosing.count(status)) return Invalid("status", "Choose how the request ends");
  std::string_view text = Trim(outcome);
  if ((status == "answered" || status == "refused") && text.empty()) {
    return Invalid("outcome", status == "refused" ? "Enter why the request is refused, as the person will be told"
                                                  : "Enter what was done");
  }
  if (text.size() > kMaxNote) return Invalid("outcome", "Enter 20,000 characters or fewer");
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Summary s, impl_->Load(c, id));
    if (s.status != "open") {
      return MakeError(ErrorCode::kFailedPrecondition, Reference(id) + " is closed (" + s.status + ")");
    }
    if (s.due.waiting && status == "answered") {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "the clock is waiting for the person: record what arrived first, or close it as not answered");
    }
    STEWARD_ASSIGN_OR_RETURN(std::string subject, impl_->SubjectOf(c, id));
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, subject));
    if (!keys) return MakeError(ErrorCode::kFailedPrecondition, "the case's key is gone");
    int64_t today = impl_->Today();
    // Closed open pauses end today.
    STEWARD_RETURN_IF_ERROR(
        c.Exec("UPDATE rights_pauses SET to_on = ? WHERE case_id = ? AND to_on IS NULL", {DayText(today), id}));
    bool on_time = today <= s.due.day;
    STEWARD_RETURN_IF_ERROR(c.Exec(
        "UPDATE rights_cases SET status = ?, outcome = ?, closed_on = ?, closed_at = ?, on_time = ? WHERE id = ?",
        {std::string(status),
         text.empty() ? store::Value{} : store::Value{store::Blob{keys->Seal("rights_cases.outcome", text)}},
         DayText(today), FormatRfc3339Millis(impl_->clock.Now()), int64_t{on_time ? 1 : 0}, id}));
    STEWARD_RETURN_IF_ERROR(impl_->Step(c, id, actor, std::string(status), "",
                                        {{"on_time", on_time ? "yes" : "no"}, {"due", DayText(s.due.day)}}));
    return Ok();
  });
}

Status Cases::Record(store::Connection& c, int64_t id, std::string_view kind, std::string_view text,
                     const Actor& actor) {
  return impl_->Step(c, id, actor, kind, text);
}

Status Cases::Record(int64_t id, std::string_view kind, std::string_view text, const Actor& actor) {
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(impl_->Load(c, id));
    return impl_->Step(c, id, actor, kind, text);
  });
}

Result<int64_t> Cases::Remind(const std::function<Status(store::Connection&, const Summary&, bool overdue)>& remind) {
  int64_t n = 0;
  int64_t today = impl_->Today();
  Status written = impl_->store.Write([&](store::Connection& c) -> Status {
    n = 0;
    // The cached due date lags a waiting case's by the days it waits: a case is read when its cached
    // date is within reach, and its date as it stands decides.
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query(std::string("SELECT ") + kSummaryColumns +
                               ", reminded_soon_on, reminded_overdue_on FROM rights_cases WHERE status = 'open' AND "
                               "identity = 'known' AND due_on <= ? AND (reminded_soon_on IS NULL OR "
                               "reminded_overdue_on IS NULL) ORDER BY due_on, id",
                           {DayText(today + kRemindDays)}));
    for (const auto& r : rows) {
      STEWARD_ASSIGN_OR_RETURN(Summary s, impl_->FromRow(c, r));
      if (s.due.waiting) continue;  // the clock stands still: nothing comes due
      bool soon_done = !r.IsNull(13), overdue_done = !r.IsNull(14);
      bool overdue = today > s.due.day;
      bool soon = !overdue && s.due.day - today <= kRemindDays;
      if (overdue && !overdue_done) {
        STEWARD_RETURN_IF_ERROR(remind(c, s, true));
        STEWARD_RETURN_IF_ERROR(
            c.Exec("UPDATE rights_cases SET reminded_overdue_on = ?, reminded_soon_on = COALESCE(reminded_soon_on, ?) "
                   "WHERE id = ?",
                   {DayText(today), DayText(today), s.id}));
        STEWARD_RETURN_IF_ERROR(impl_->Step(c, s.id, Actor{}, "reminded", "overdue"));
        ++n;
      } else if (soon && !soon_done) {
        STEWARD_RETURN_IF_ERROR(remind(c, s, false));
        STEWARD_RETURN_IF_ERROR(
            c.Exec("UPDATE rights_cases SET reminded_soon_on = ? WHERE id = ?", {DayText(today), s.id}));
        STEWARD_RETURN_IF_ERROR(impl_->Step(c, s.id, Actor{}, "reminded", "due soon"));
        ++n;
      }
    }
    return Ok();
  });
  STEWARD_RETURN_IF_ERROR(written);
  return n;
}

Result<Figures> Cases::Count(int64_t from, int64_t to) const {
  Figures f;
  for (Right r : AllRights()) f.by_right.emplace_back(r, 0);
  Status read = impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(std::string("SELECT ") + kSummaryColumns +
                                                    " FROM rights_cases WHERE received_on >= ? AND received_on < ?",
                                                {DayText(from), DayText(to)}));
    for (const auto& r : rows) {
      STEWARD_ASSIGN_OR_RETURN(Summary s, impl_->FromRow(c, r));
      ++f.received;
      for (Right right : s.rights) {
        for (auto& [which, n] : f.by_right) {
          if (which == right) ++n;
        }
      }
      if (s.extended) ++f.extended;
      if (s.status == "open") {
        ++f.open;
        if (impl_->Today() > s.due.day) ++f.overdue;
      } else if (s.status == "answered") {
        ++f.answered;
        if (s.on_time) ++f.answered_on_time;
      } else if (s.status == "refused") {
        ++f.refused;
      } else if (s.status == "withdrawn") {
        ++f.withdrawn;
      }
    }
    return Ok();
  });
  STEWARD_RETURN_IF_ERROR(read);
  return f;
}

}  // namespace steward::rights
