#include "rights/requests.h"

#include <nlohmann/json.hpp>

#include "core/days.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "mail/mail.h"
#include "module/staff_page.h"
#include "rights/letters.h"
#include "subjects/subjects.h"

namespace steward::rights {

struct Requests::Impl {
  store::Store& store;
  const Clock& clock;
  Cases& cases;
  mail::Queue& queue;
  const mail::Settings& mail;
  std::function<std::string()> base_url;
  std::string site_name;
  subjects::SubjectStore subjects;
  std::string token_key;

  std::string TokenHash(std::string_view token) const { return HexEncode(crypto::Hash(token, token_key)); }

  // The acknowledgement, from the letters' draft, sealed under the case's key.
  Status Acknowledge(store::Connection& conn, const NewCase& c, const Cases::Opened& opened) {
    Case k;
    k.id = opened.id;
    k.reference = Cases::Reference(opened.id);
    k.rights = c.rights;
    k.received = c.received;
    k.due = opened.due;
    k.name = c.name;
    Written ack = Draft(Letter::kAcknowledgement, k, {.site_name = site_name, .today = UkDay(clock.Now())});
    mail::Email email{.to = c.email,
                      .subject = ack.subject,
                      .text = ack.text,
                      .batch = "rights:acknowledgement",
                      .subject_id = opened.subject_id};
    STEWARD_RETURN_IF_ERROR(queue.Enqueue(conn, email, mail));
    return Ok();
  }
};

Requests::Requests(store::Store& store, const crypto::SecretKey& key, const Clock& clock, Cases& cases,
                   mail::Queue& queue, const mail::Settings& mail, std::function<std::string()> base_url,
                   std::string site_name)
    : impl_(new Impl{.store = store,
                     .clock = clock,
                     .cases = cases,
                     .queue = queue,
                     .mail = mail,
                     .base_url = std::move(base_url),
                     .site_name = std::move(site_name),
                     .subjects = subjects::SubjectStore(key, clock),
                     .token_key = [&] {
                       auto k = key.DeriveKey("rightstk");
                       return std::string(reinterpret_cast<const char*>(k.data()), k.size());
                     }()}) {}

Requests::~Requests() = default;

std::vector<store::Migration> Requests::Migrations() {
  return {{"rights", 2, R"sql(
    -- Privacy: rights requests. A request made on the site whose email address is not yet
    -- confirmed: sealed under a key of its own, deleted with it once the link expires.
    CREATE TABLE rights_pending (
      id INTEGER PRIMARY KEY,
      token_hash TEXT NOT NULL UNIQUE,
      subject_id TEXT NOT NULL,
      request BLOB NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL
    );
    CREATE INDEX rights_pending_expires ON rights_pending (expires_at);
  )sql"},
          {"rights", 6, R"sql(
    -- Found by its subject key, as the cases are (migration 5).
    CREATE INDEX rights_pending_subject ON rights_pending (subject_id);
  )sql"}};
}

Status Requests::Ask(const NewCase& in, const Actor& actor) {
  (void)actor;  // nothing is audited until the address is proved: it could be anyone's
  NewCase c = in;
  c.channel = "web";
  c.received = UkDay(impl_->clock.Now());
  c.identity_known = true;
  c.postal_address.clear();
  if (Trim(c.email).empty()) return MakeError(ErrorCode::kInvalidArgument, "email: Enter your email address");
  STEWARD_RETURN_IF_ERROR(impl_->cases.Check(c));
  auto email = subject::Key::Make(subject::KeyKind::kEmail, c.email);
  nlohmann::json rights = nlohmann::json::array();
  for (Right r : c.rights) rights.push_back(std::string(RightName(r)));
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& k : c.identifiers) ids.push_back(std::string(subject::KindName(k.kind())) + ":" + k.value());
  nlohmann::json request = {{"rights", rights},     {"name", c.name},     {"email", email->value()},
                            {"details", c.details}, {"identifiers", ids}, {"received", DayText(c.received)}};
  std::string token = crypto::RandomHex(24);
  SystemTime now = impl_->clock.Now();
  std::string link = impl_->base_url() + "/your-data/confirm/" + token;
  return impl_->store.Write([&](store::Connection& conn) -> Status {
    // Privacy: rights requests: a request not yet confirmed, sealed under a key of its own.
    STEWARD_ASSIGN_OR_RETURN(std::string subject, impl_->subjects.Create(conn));
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(conn, subject));
    STEWARD_RETURN_IF_ERROR(conn.Exec(
        "INSERT INTO rights_pending (token_hash, subject_id, request, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        {impl_->TokenHash(token), subject, store::Blob{keys->Seal("rights_pending.request", JsonText(request))},
         FormatRfc3339Millis(now), FormatRfc3339Millis(now + std::chrono::hours(kLinkHours))}));
    mail::Email message{
        .to = email->value(),
        .subject = "Confirm your request about your personal data",
        .text = "Someone asked " + impl_->site_name + " to " + RightsSentence(c.rights) +
                ", giving this email address.\n\nIf it was you, confirm it by opening this link within " +
                std::to_string(kLinkHours) + " hours:\n\n" + link +
                "\n\nWe start on your request once you have confirmed it, and the law gives us one calendar month "
                "from then to answer.\n\nIf it was not you, ignore this email: we delete the request after " +
                std::to_string(kLinkHours) + " hours and do nothing more.",
        .batch = "rights:confirm",
        .subject_id = subject};
    STEWARD_RETURN_IF_ERROR(impl_->queue.Enqueue(conn, message, impl_->mail));
    return Ok();
  });
}

Result<Cases::Opened> Requests::OpenSignedIn(const NewCase& in, const Actor& actor) {
  NewCase c = in;
  c.channel = "web";
  c.received = UkDay(impl_->clock.Now());
  c.identity_known = true;
  c.postal_address.clear();
  STEWARD_RETURN_IF_ERROR(impl_->cases.Check(c));
  Cases::Opened opened;
  Status written = impl_->store.Write([&](store::Connection& conn) -> Status {
    STEWARD_ASSIGN_OR_RETURN(opened, impl_->cases.OpenIn(conn, c, actor));
    STEWARD_RETURN_IF_ERROR(impl_->Acknowledge(conn, c, opened));
    return impl_->cases.Record(conn, opened.id, "acknowledged", "", actor);
  });
  STEWARD_RETURN_IF_ERROR(written);
  return opened;
}

Result<Cases::Opened> Requests::Confirm(std::string_view token, const Actor& actor) {
  if (token.size() != 48) return MakeError(ErrorCode::kNotFound, "this link is not right");
  Cases::Opened opened;
  Status written = impl_->store.Write([&](store::Connection& conn) -> Status {
    // The link works once: the row goes in the same write that makes the case.
    STEWARD_ASSIGN_OR_RETURN(auto rows, conn.Query("DELETE FROM rights_pending WHERE token_hash = ? AND expires_at > ? "
                                                   "RETURNING subject_id, request, created_at",
                                                   {impl_->TokenHash(token), FormatRfc3339Millis(impl_->clock.Now())}));
    if (rows.empty()) return MakeError(ErrorCode::kNotFound, "this link has expired or was used");
    const auto& r = rows.front();
    std::string pending_subject = r.Text(0);
    // Privacy: rights requests: the pending request opened to become a case.
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(conn, pending_subject));
    if (!keys) return MakeError(ErrorCode::kNotFound, "this link has expired");
    const auto* blob = std::get_if<store::Blob>(&r.at(1));
    auto text = blob ? keys->Open("rights_pending.request", blob->bytes) : std::nullopt;
    auto request = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (!request.is_object()) return MakeError(ErrorCode::kDataLoss, "a pending rights request cannot be read");
    NewCase c{.channel = "web",
              .received = ParseDay(request.value("received", "")).value_or(0),
              .name = request.value("name", ""),
              .email = request.value("email", ""),
              .details = request.value("details", ""),
              .identity_known = true,
              .proof_received = UkDay(impl_->clock.Now())};
    for (const auto& right : request.value("rights", nlohmann::json::array())) {
      if (auto parsed = right.is_string() ? ParseRight(right.get<std::string>()) : std::nullopt) {
        c.rights.push_back(*parsed);
      }
    }
    for (const auto& id : request.value("identifiers", nlohmann::json::array())) {
      if (!id.is_string()) continue;
      if (auto key = subject::Key::Parse(id.get<std::string>()); key.ok()) c.identifiers.push_back(*key);
    }
    STEWARD_ASSIGN_OR_RETURN(opened, impl_->cases.OpenIn(conn, c, actor));
    // The pending request's key goes now: nothing names it any more.
    STEWARD_RETURN_IF_ERROR(impl_->subjects.DestroyIfUnused(conn, pending_subject));
    STEWARD_RETURN_IF_ERROR(impl_->Acknowledge(conn, c, opened));
    return impl_->cases.Record(conn, opened.id, "acknowledged", "", actor);
  });
  STEWARD_RETURN_IF_ERROR(written);
  return opened;
}

}  // namespace steward::rights
