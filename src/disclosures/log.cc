#include "disclosures/log.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/days.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "subjects/subjects.h"

namespace steward::disclosures {
namespace {

constexpr const char* kTable = "disclosures";

struct BasisInfo {
  Basis basis;
  std::string_view name, text;
};

constexpr BasisInfo kBases[] = {
    {Basis::kCrimeAndTaxation, "crime-and-taxation",
     "The prevention or detection of crime, or catching or prosecuting offenders (DPA 2018 Schedule 2 paragraph 2)"},
    {Basis::kRequiredByLaw, "required-by-law",
     "Required by an enactment or a rule of law (DPA 2018 Schedule 2 paragraph 5(1))"},
    {Basis::kCourtOrder, "court-order", "An order of a court or tribunal (DPA 2018 Schedule 2 paragraph 5(2))"},
    {Basis::kLegalProceedings, "legal-proceedings",
     "Legal proceedings, legal advice, or establishing, exercising or defending legal rights (DPA 2018 Schedule 2 "
     "paragraph 5(3))"},
    {Basis::kVitalInterests, "vital-interests",
     "To protect someone's life, or to safeguard a child or an adult at risk (UK GDPR Article 6(1)(d))"},
    {Basis::kOther, "other", "Another basis, set out in the details"},
};

std::string KeyText(const subject::Key& k) { return std::string(subject::KindName(k.kind())) + ":" + k.value(); }

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (auto part : Split(text, ',')) {
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

std::string_view Checked(std::string_view text) { return Trim(text); }

}  // namespace

const std::vector<Basis>& AllBases() {
  static const std::vector<Basis> kAll = [] {
    std::vector<Basis> all;
    for (const auto& b : kBases) all.push_back(b.basis);
    return all;
  }();
  return kAll;
}

std::string_view BasisName(Basis b) {
  for (const auto& i : kBases) {
    if (i.basis == b) return i.name;
  }
  return "other";
}

std::string_view BasisText(Basis b) {
  for (const auto& i : kBases) {
    if (i.basis == b) return i.text;
  }
  return "";
}

std::optional<Basis> ParseBasis(std::string_view name) {
  for (const auto& i : kBases) {
    if (i.name == name) return i.basis;
  }
  return std::nullopt;
}

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kDisclose:
      return "disclose";
    case Decision::kInPart:
      return "in-part";
    case Decision::kRefuse:
      return "refuse";
  }
  return "refuse";
}

std::string_view DecisionText(Decision d) {
  switch (d) {
    case Decision::kDisclose:
      return "Disclose";
    case Decision::kInPart:
      return "Disclose in part";
    case Decision::kRefuse:
      return "Refuse";
  }
  return "Refuse";
}

std::optional<Decision> ParseDecision(std::string_view name) {
  for (Decision d : {Decision::kDisclose, Decision::kInPart, Decision::kRefuse}) {
    if (DecisionName(d) == name) return d;
  }
  return std::nullopt;
}

Result<std::vector<subject::Key>> ParsePeople(std::string_view text) {
  std::vector<subject::Key> out;
  std::set<subject::Key> seen;
  int line_no = 0;
  for (auto raw : Split(text, '\n')) {
    ++line_no;
    std::string line(Trim(raw));
    if (line.empty()) continue;
    std::string where = "people: line " + std::to_string(line_no);
    if (line.size() > 300) return MakeError(ErrorCode::kInvalidArgument, where + " is longer than 300 characters");
    Result<subject::Key> key = MakeError(ErrorCode::kInvalidArgument, "");
    auto colon = line.find(':');
    if (colon != std::string::npos && subject::ParseKind(line.substr(0, colon))) {
      key = subject::Key::Parse(line);
    } else if (line.find('@') != std::string::npos) {
      key = subject::Key::Make(subject::KeyKind::kEmail, line);
    } else {
      key = subject::Key::Make(subject::KeyKind::kTelephone, line);
    }
    if (!key.ok()) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          where + " is not an email address, a telephone number or KIND:VALUE (" + key.error().message + ")");
    }
    if (seen.insert(*key).second) out.push_back(*key);
  }
  if (out.empty()) return MakeError(ErrorCode::kInvalidArgument, "people: Enter whom the request is about");
  if (out.size() > kMostPeople) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "people: at most " + std::to_string(kMostPeople) + " people a request; record the rest apart");
  }
  return out;
}

struct Log::Impl {
  store::Store& store;
  audit::Trail& trail;
  const Clock& clock;
  subjects::SubjectStore subjects;
  std::string people_key;  // keys the hashes that find a person's disclosures

  std::string PersonHash(const subject::Key& k) const { return HexEncode(crypto::Hash(KeyText(k), people_key)); }
  std::string Now() const { return FormatRfc3339Millis(clock.Now()); }

  Status Audit(store::Connection& c, const std::string& action, int64_t id, const Actor& actor,
               std::vector<std::pair<std::string, std::string>> details = {}) {
    return trail.AppendIn(c, {.actor = actor.id,
                              .action = action,
                              .target = "disclosure:" + std::to_string(id),
                              .request_id = actor.request_id,
                              .details = std::move(details)});
  }

  static constexpr const char* kSelect =
      "SELECT id, requester, their_reference, basis, received_on, status, recorded_by, recorded_at, decision, "
      "datasets, decided_by, decided_at, approved_by, approved_at, disclosed_at, disclosed_how, disclosed_records, "
      "people_count, subject_id, basis_detail, people, asked, reasons, note FROM disclosures";

  static Disclosure Plain(const store::Row& r) {
    Disclosure d;
    d.id = r.Int(0);
    d.reference = Reference(d.id);
    d.requester = r.Text(1);
    d.their_reference = r.Text(2);
    d.basis = ParseBasis(r.Text(3)).value_or(Basis::kOther);
    d.received = ParseDay(r.Text(4)).value_or(0);
    d.status = r.Text(5);
    d.recorded_by = r.Text(6);
    d.recorded_at = r.Text(7);
    if (!r.IsNull(8)) d.decision = ParseDecision(r.Text(8));
    d.datasets = SplitList(r.Text(9));
    auto text = [&](int i) { return r.IsNull(i) ? std::string() : r.Text(i); };
    d.decided_by = text(10);
    d.decided_at = text(11);
    d.approved_by = text(12);
    d.approved_at = text(13);
    d.disclosed_at = text(14);
    d.disclosed_how = text(15);
    d.disclosed_records = r.IsNull(16) ? 0 : r.Int(16);
    d.people_count = r.Int(17);
    d.subject_id = r.Text(18);
    return d;
  }

  Result<Disclosure> Load(store::Connection& c, int64_t id, bool open) const {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query(std::string(kSelect) + " WHERE id = ?", {id}));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "no such disclosure request");
    Disclosure d = Plain(rows.front());
    if (!open) return d;
    // Privacy: the disclosure log: whom it is about and what was asked, opened for staff.
    STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, d.subject_id));
    if (!keys) return d;
    auto opened = [&](int i, const char* column) -> std::string {
      const auto& r = rows.front();
      if (r.IsNull(i)) return "";
      return keys->Open(std::string(kTable) + "." + column, r.Text(i)).value_or("");
    };
    d.basis_detail = opened(19, "basis_detail");
    d.asked = opened(21, "asked");
    d.reasons = opened(22, "reasons");
    d.note = opened(23, "note");
    auto people = nlohmann::json::parse(opened(20, "people"), nullptr, false);
    if (people.is_array()) {
      for (const auto& p : people) {
        if (!p.is_string()) continue;
        if (auto k = subject::Key::Parse(p.get<std::string>()); k.ok()) d.people.push_back(*k);
      }
    }
    return d;
  }

  Result<store::Blob> Seal(store::Connection& c, const std::string& subject, const char* column,
                           std::string_view value) const {
    STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, subject));
    if (!keys) return MakeError(ErrorCode::kFailedPrecondition, "the disclosure's key is gone");
    return store::Blob{keys->Seal(std::string(kTable) + "." + column, value)};
  }
};

Log::Log(store::Store& store, audit::Trail& trail, const crypto::SecretKey& key, const Clock& clock)
    : impl_(new Impl{.store = store,
                     .trail = trail,
                     .clock = clock,
                     .subjects = subjects::SubjectStore(key, clock),
                     .people_key = [&] {
                       auto k = key.DeriveKey("disclose");
                       return std::string(reinterpret_cast<const char*>(k.data()), k.size());
                     }()}) {}

Log::~Log() = default;

std::vector<store::Migration> Log::Migrations() {
  return {{"disclosures", 1, R"sql(
-- Privacy: the disclosure log ([disclosures] dataset). Who asked, the basis, the dates, the decision
-- and the datasets given are plain; whom it is about, what was asked, the reasons and notes are
-- sealed under the disclosure's own subject key.
CREATE TABLE disclosures (
  id INTEGER PRIMARY KEY,
  subject_id TEXT NOT NULL,
  requester TEXT NOT NULL,
  their_reference TEXT NOT NULL,
  basis TEXT NOT NULL,
  basis_detail BLOB,
  received_on TEXT NOT NULL,
  people BLOB NOT NULL,
  people_count INTEGER NOT NULL,
  asked BLOB NOT NULL,
  status TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  decision TEXT,
  reasons BLOB,
  datasets TEXT NOT NULL DEFAULT '',
  decided_by TEXT,
  decided_at TEXT,
  approved_by TEXT,
  approved_at TEXT,
  note BLOB,
  disclosed_at TEXT,
  disclosed_how TEXT,
  disclosed_records INTEGER,
  closed_at TEXT
);
CREATE INDEX disclosures_closed ON disclosures (closed_at);
-- A keyed hash of each identifier of the people concerned: a rights request finds the disclosures
-- about a person without decrypting anything.
CREATE TABLE disclosure_people (
  person_hash TEXT NOT NULL,
  disclosure_id INTEGER NOT NULL,
  PRIMARY KEY (person_hash, disclosure_id)
);
CREATE INDEX disclosure_people_disclosure ON disclosure_people (disclosure_id);
)sql"},
          {"disclosures", 2, R"sql(
-- Found by its subject key: erasing a person asks whether anything still names their key.
CREATE INDEX disclosures_subject ON disclosures (subject_id);
)sql"}};
}

retention::ModuleStorage Log::Storage() {
  return {.module = "disclosures",
          .personal_tables = {"disclosures", "disclosure_people"},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t) -> Result<int64_t> {
            // Privacy: requests closed (disclosed or refused) before the cut-off; an open one is never
            // purged. Their keys go with the daily sweep once nothing names them.
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(
                  auto rows,
                  c.Query("SELECT COUNT(*) FROM disclosures WHERE closed_at IS NOT NULL AND closed_at < ?", {cutoff}));
              return rows.front().Int(0);
            }
            STEWARD_RETURN_IF_ERROR(c.Exec(
                "DELETE FROM disclosure_people WHERE disclosure_id IN (SELECT id FROM disclosures WHERE closed_at IS "
                "NOT NULL AND closed_at < ?)",
                {cutoff}));
            return c.Exec("DELETE FROM disclosures WHERE closed_at IS NOT NULL AND closed_at < ?", {cutoff});
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(),
                                   [](const processing::Dataset& d) { return d.module == "disclosures"; });
              }};
}

std::string Log::Reference(int64_t id) {
  char text[32];
  std::snprintf(text, sizeof text, "D-%06lld", static_cast<long long>(id));
  return text;
}

std::optional<int64_t> Log::ParseReference(std::string_view text) {
  if (text.size() < 3 || (text[0] != 'D' && text[0] != 'd') || text[1] != '-') return std::nullopt;
  auto n = ParseUint(text.substr(2));
  if (!n || *n == 0) return std::nullopt;
  return static_cast<int64_t>(*n);
}

Result<int64_t> Log::Record(const NewRequest& r, const Actor& actor) {
  std::string requester(Checked(r.requester));
  if (requester.empty()) return MakeError(ErrorCode::kInvalidArgument, "requester: Enter who asked");
  if (requester.size() > 200) return MakeError(ErrorCode::kInvalidArgument, "requester: Enter 200 characters or fewer");
  std::string their_reference(Checked(r.their_reference));
  if (their_reference.size() > 100) {
    return MakeError(ErrorCode::kInvalidArgument, "their_reference: Enter 100 characters or fewer");
  }
  std::string detail(Checked(r.basis_detail));
  if (detail.empty() &&
      (r.basis == Basis::kCourtOrder || r.basis == Basis::kRequiredByLaw || r.basis == Basis::kOther)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "basis_detail: Enter the order, the law or the basis relied on, as the request gives it");
  }
  std::string asked(Checked(r.asked));
  if (asked.empty()) return MakeError(ErrorCode::kInvalidArgument, "asked: Enter what was asked for");
  for (auto [field, text] : {std::pair{"basis_detail", &detail}, std::pair{"asked", &asked}}) {
    if (text->size() > kMostText) {
      return MakeError(ErrorCode::kInvalidArgument, std::string(field) + ": Enter 5,000 characters or fewer");
    }
  }
  if (r.people.empty()) return MakeError(ErrorCode::kInvalidArgument, "people: Enter whom the request is about");
  if (r.people.size() > kMostPeople) {
    return MakeError(ErrorCode::kInvalidArgument, "people: at most " + std::to_string(kMostPeople) + " people");
  }
  nlohmann::json people = nlohmann::json::array();
  for (const auto& k : r.people) people.push_back(KeyText(k));
  int64_t id = 0;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    // Privacy: the disclosure log: whom it is about and what was asked, sealed under its own key.
    STEWARD_ASSIGN_OR_RETURN(std::string subject, impl_->subjects.Create(c));
    STEWARD_ASSIGN_OR_RETURN(auto sealed_people, impl_->Seal(c, subject, "people", JsonText(people)));
    STEWARD_ASSIGN_OR_RETURN(auto sealed_asked, impl_->Seal(c, subject, "asked", asked));
    store::Value sealed_detail;
    if (!detail.empty()) {
      STEWARD_ASSIGN_OR_RETURN(auto b, impl_->Seal(c, subject, "basis_detail", detail));
      sealed_detail = b;
    }
    STEWARD_ASSIGN_OR_RETURN(
        auto rows,
        c.Query(
            "INSERT INTO disclosures (subject_id, requester, their_reference, basis, basis_detail, received_on, "
            "people, people_count, asked, status, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'awaiting-decision', ?, ?) RETURNING id",
            {subject, requester, their_reference, std::string(BasisName(r.basis)), sealed_detail, DayText(r.received),
             sealed_people, static_cast<int64_t>(r.people.size()), sealed_asked, actor.id, impl_->Now()}));
    id = rows.front().Int(0);
    for (const auto& k : r.people) {
      STEWARD_RETURN_IF_ERROR(
          c.Exec("INSERT INTO disclosure_people (person_hash, disclosure_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                 {impl_->PersonHash(k), id}));
    }
    return impl_->Audit(c, "disclosure.recorded", id, actor,
                        {{"basis", std::string(BasisName(r.basis))}, {"people", std::to_string(r.people.size())}});
  }));
  return id;
}

Result<Disclosure> Log::Get(int64_t id) const {
  Disclosure d;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(d, impl_->Load(c, id, true));
    return Ok();
  }));
  return d;
}

Result<std::vector<Disclosure>> Log::List(size_t limit) const {
  std::vector<Disclosure> out;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    return c.ForEach(std::string(Impl::kSelect) + " ORDER BY id DESC LIMIT ?", {static_cast<int64_t>(limit)},
                     [&](const store::Row& r) {
                       out.push_back(Impl::Plain(r));
                       return true;
                     });
  }));
  return out;
}

Result<std::vector<int64_t>> Log::About(const std::vector<subject::Key>& keys) const {
  std::set<int64_t> ids;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    for (const auto& k : keys) {
      STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT disclosure_id FROM disclosure_people WHERE person_hash = ?",
                                        {impl_->PersonHash(k)}, [&](const store::Row& r) {
                                          ids.insert(r.Int(0));
                                          return true;
                                        }));
    }
    return Ok();
  }));
  return std::vector<int64_t>(ids.begin(), ids.end());
}

Status Log::Decide(int64_t id, Decision decision, std::string_view reasons, const std::vector<std::string>& datasets,
                   const Actor& actor) {
  std::string why(Checked(reasons));
  if (why.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "reasons: Enter the reasons for the decision: why the basis applies and why this much is "
                     "necessary, or why it is refused");
  }
  if (why.size() > kMostText) return MakeError(ErrorCode::kInvalidArgument, "reasons: Enter 5,000 characters or fewer");
  if (decision != Decision::kRefuse && datasets.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "datasets: Choose what is to be disclosed");
  }
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Disclosure d, impl_->Load(c, id, false));
    if (d.status != "awaiting-decision") {
      return MakeError(ErrorCode::kFailedPrecondition, d.reference + " is not waiting for a decision");
    }
    STEWARD_ASSIGN_OR_RETURN(auto sealed, impl_->Seal(c, d.subject_id, "reasons", why));
    STEWARD_RETURN_IF_ERROR(c.Exec(
        "UPDATE disclosures SET status = 'awaiting-approval', decision = ?, reasons = ?, datasets = ?, decided_by = ?, "
        "decided_at = ? WHERE id = ?",
        {std::string(DecisionName(decision)), sealed,
         decision == Decision::kRefuse ? std::string() : JoinList(datasets), actor.id, impl_->Now(), id}));
    return impl_->Audit(c, "disclosure.decided", id, actor,
                        {{"decision", std::string(DecisionName(decision))},
                         {"datasets", std::to_string(decision == Decision::kRefuse ? 0 : datasets.size())}});
  });
}

Status Log::Approve(int64_t id, bool approve, std::string_view note, const Actor& actor) {
  Status done = ApproveOnce(id, approve, note, actor);
  if (!done.ok() && done.error().code == ErrorCode::kPermissionDenied) {
    // The refusal is on the record, in a write of its own (the approval's was rolled back).
    STEWARD_RETURN_IF_ERROR(impl_->trail.Append({.actor = actor.id,
                                                 .action = "disclosure.approved",
                                                 .target = "disclosure:" + std::to_string(id),
                                                 .outcome = "denied",
                                                 .request_id = actor.request_id,
                                                 .details = {{"why", "not a second person"}}}));
  }
  return done;
}

Status Log::ApproveOnce(int64_t id, bool approve, std::string_view note, const Actor& actor) {
  std::string why(Checked(note));
  if (!approve && why.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "note: Enter why the decision is sent back, for whoever takes it up");
  }
  if (why.size() > kMostText) return MakeError(ErrorCode::kInvalidArgument, "note: Enter 5,000 characters or fewer");
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Disclosure d, impl_->Load(c, id, false));
    if (d.status != "awaiting-approval") {
      return MakeError(ErrorCode::kFailedPrecondition, d.reference + " is not waiting for approval");
    }
    if (actor.id == d.recorded_by || actor.id == d.decided_by) {
      return MakeError(ErrorCode::kPermissionDenied,
                       std::string("a second person must approve: you ") +
                           (actor.id == d.decided_by ? "made the decision" : "recorded the request"));
    }
    store::Value sealed_note;
    if (!why.empty()) {
      STEWARD_ASSIGN_OR_RETURN(auto b, impl_->Seal(c, d.subject_id, "note", why));
      sealed_note = b;
    }
    std::string now = impl_->Now();
    if (!approve) {
      STEWARD_RETURN_IF_ERROR(
          c.Exec("UPDATE disclosures SET status = 'awaiting-decision', decision = NULL, reasons = NULL, datasets = '', "
                 "decided_by = NULL, decided_at = NULL, note = ? WHERE id = ?",
                 {sealed_note, id}));
      return impl_->Audit(c, "disclosure.sent_back", id, actor);
    }
    bool refused = d.decision == Decision::kRefuse;
    STEWARD_RETURN_IF_ERROR(c.Exec(
        "UPDATE disclosures SET status = ?, approved_by = ?, approved_at = ?, note = ?, closed_at = ? WHERE id = ?",
        {std::string(refused ? "refused" : "approved"), actor.id, now, sealed_note,
         refused ? store::Value{now} : store::Value{}, id}));
    return impl_->Audit(c, "disclosure.approved", id, actor,
                        {{"decision", d.decision ? std::string(DecisionName(*d.decision)) : ""}});
  });
}

Status Log::MarkDisclosed(int64_t id, std::string_view how, int64_t records, const Actor& actor) {
  std::string way(Checked(how));
  if (way.empty()) return MakeError(ErrorCode::kInvalidArgument, "how: Enter how it was given, such as secure email");
  if (way.size() > 200) return MakeError(ErrorCode::kInvalidArgument, "how: Enter 200 characters or fewer");
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(Disclosure d, impl_->Load(c, id, false));
    if (d.status != "approved") {
      return MakeError(ErrorCode::kFailedPrecondition, d.reference + " is not approved for disclosure");
    }
    std::string now = impl_->Now();
    STEWARD_RETURN_IF_ERROR(c.Exec(
        "UPDATE disclosures SET status = 'disclosed', disclosed_at = ?, disclosed_how = ?, disclosed_records = ?, "
        "closed_at = ? WHERE id = ?",
        {now, way, records, now, id}));
    return impl_->Audit(c, "disclosure.disclosed", id, actor, {{"records", std::to_string(records)}});
  });
}

Status Log::NoteExport(int64_t id, int64_t people, int64_t records, const Actor& actor) {
  return impl_->store.Write([&](store::Connection& c) -> Status {
    return impl_->Audit(c, "disclosure.exported", id, actor,
                        {{"people", std::to_string(people)}, {"records", std::to_string(records)}});
  });
}

}  // namespace steward::disclosures
