#include "subscriptions/subscriptions.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

#include "core/log.h"
#include "core/strings.h"
#include "subject/restrictions.h"
#include "subscriptions/internal.h"

namespace steward::subscriptions {
using namespace internal;
namespace {

// Who the retention purge deletes, with the order of the index that holds them (migration 2).
// "N after you unsubscribe": those who left before the cut-off.
constexpr const char* kLeftBefore = "status = 'unsubscribed' AND unsubscribed_at < ?";
constexpr const char* kLeftOrder = "status, unsubscribed_at, id";
// A plain period (or a maximum): those who have not confirmed or changed anything since it.
constexpr const char* kUnrenewedBefore = "renewed_at < ?";
constexpr const char* kUnrenewedOrder = "renewed_at, id";

std::string Join(const std::vector<std::string>& parts, char sep = ',') {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

}  // namespace

// ---- Links ---------------------------------------------------------------------------------------

Links::Links(const crypto::SecretKey& key) : key_(DerivedKey(key, "sublinks")) {}

std::string Links::Mac(std::string_view body, std::string_view secret) const {
  return HexEncode(crypto::Hash(std::string(body) + "|" + std::string(secret), key_).substr(0, 16));
}

std::string Links::Make(const Link& link, std::string_view secret) const {
  std::string body = std::string(1, static_cast<char>(link.purpose)) + "." + std::to_string(link.subscriber) + "." +
                     std::to_string(link.expires);
  if (!link.topic.empty()) body += "." + link.topic;
  return body + "." + Mac(body, secret);
}

std::optional<Links::Link> Links::Read(std::string_view token) {
  if (token.size() > 200) return std::nullopt;
  auto parts = Split(token, '.');
  if (parts.size() != 4 && parts.size() != 5) return std::nullopt;
  auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (parts[0].size() != 1 || !digits(parts[1]) || !digits(parts[2])) return std::nullopt;
  char p = parts[0][0];
  if (p != 'c' && p != 'm' && p != 'u' && p != 's') return std::nullopt;
  std::string_view mac = parts.back();
  if (mac.size() != 32 || mac.find_first_not_of("0123456789abcdef") != std::string_view::npos) return std::nullopt;
  Link link{.purpose = static_cast<Purpose>(p),
            .subscriber = std::stoll(std::string(parts[1])),
            .expires = std::stoll(std::string(parts[2]))};
  if (parts.size() == 5) {
    link.topic = std::string(parts[3]);
    if (link.topic.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) return std::nullopt;
  }
  return link;
}

bool Links::Verify(std::string_view token, std::string_view secret) const {
  size_t dot = token.rfind('.');
  if (dot == std::string_view::npos) return false;
  return crypto::ConstantTimeEquals(Mac(token.substr(0, dot), secret), token.substr(dot + 1));
}

// ---- Storage -------------------------------------------------------------------------------------

Subscriptions::Subscriptions(store::Store& store, const crypto::SecretKey& key, const Clock& clock, Settings settings,
                             mail::Queue& queue, mail::Settings mail, std::function<std::string()> base_url,
                             std::string site_name)
    : impl_(
          std::make_unique<Impl>(store, key, clock, queue, std::move(mail), std::move(base_url), std::move(site_name))),
      settings_(std::move(settings)),
      links_(key) {}

Subscriptions::~Subscriptions() = default;

std::vector<store::Migration> Subscriptions::Migrations() {
  return {{"subscriptions", 1, R"sql(
    -- Privacy: subscriptions. One row a person who signed up. The address and username are sealed
    -- under the subject's key; address_hash is the mail module's keyed hash of the address (for
    -- counting suppressed addresses without opening any). `secret` signs the person's links.
    -- pending_* is a sign-up or change waiting for its confirmation link.
    CREATE TABLE subscribers (
      id INTEGER PRIMARY KEY,
      subject_id TEXT NOT NULL,
      address BLOB NOT NULL,
      address_hash BLOB NOT NULL,
      status TEXT NOT NULL,
      frequency TEXT NOT NULL,
      secret TEXT NOT NULL,
      pending_topics TEXT,
      pending_frequency TEXT,
      pending_at TEXT,
      confirm_sent_at TEXT,
      username_hash BLOB,
      username BLOB,
      password_hash TEXT,
      created_at TEXT NOT NULL,
      confirmed_at TEXT,
      renewed_at TEXT NOT NULL,
      unsubscribed_at TEXT
    );
    CREATE UNIQUE INDEX subscribers_subject ON subscribers (subject_id);
    CREATE UNIQUE INDEX subscribers_username ON subscribers (username_hash);
    CREATE INDEX subscribers_status ON subscribers (status, frequency, id);
    CREATE INDEX subscribers_created ON subscribers (created_at);
    -- Privacy: subscriptions. The topics each confirmed subscriber gets.
    CREATE TABLE subscriber_topics (
      subscriber_id INTEGER NOT NULL,
      subject_id TEXT NOT NULL,
      topic TEXT NOT NULL,
      since TEXT NOT NULL,
      PRIMARY KEY (subscriber_id, topic)
    );
    CREATE INDEX subscriber_topics_topic ON subscriber_topics (topic, subscriber_id);
    CREATE INDEX subscriber_topics_subject ON subscriber_topics (subject_id);
    -- The messages staff and the site's CMS publish to a topic: nobody's personal data.
    CREATE TABLE subscription_messages (
      id INTEGER PRIMARY KEY,
      topic TEXT NOT NULL,
      subject TEXT NOT NULL,
      body TEXT NOT NULL,
      created_at TEXT NOT NULL,
      created_by TEXT NOT NULL
    );
    CREATE INDEX subscription_messages_topic ON subscription_messages (topic, created_at);
    -- Each message's send, and each digest: how far the batches have gone.
    CREATE TABLE subscription_sends (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL,
      message_id INTEGER,
      period_start TEXT,
      period_end TEXT,
      created_at TEXT NOT NULL,
      created_by TEXT NOT NULL,
      cursor INTEGER NOT NULL DEFAULT 0,
      queued INTEGER NOT NULL DEFAULT 0,
      done_at TEXT
    );
    CREATE UNIQUE INDEX subscription_sends_digest ON subscription_sends (kind, period_end);
    CREATE INDEX subscription_sends_open ON subscription_sends (done_at, id);
    -- How many left each topic each day: counts, never who.
    CREATE TABLE subscription_unsubscribes (
      topic TEXT NOT NULL,
      day TEXT NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (topic, day)
    );
  )sql"},
          {"subscriptions", 2, R"sql(
    -- What the retention purge seeks, a batch at a time, in the order it deletes
    -- (kLeftBefore and kUnrenewedBefore): nothing it keeps is read again by the next batch.
    CREATE INDEX subscribers_left ON subscribers (status, unsubscribed_at, id) WHERE status = 'unsubscribed';
    CREATE INDEX subscribers_renewed ON subscribers (renewed_at, id);
  )sql"}};
}

retention::ModuleStorage Subscriptions::Storage() {
  return {.module = "subscriptions",
          .personal_tables = {"subscribers", "subscriber_topics"},
          .other_tables = {"subscription_messages", "subscription_sends", "subscription_unsubscribes"},
          .purge = [](store::Connection& c, const processing::Dataset& d, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t limit) -> Result<int64_t> {
            // Privacy: subscriptions. "N after you unsubscribe" deletes those who left before the
            // cut-off; a plain period (or a maximum) deletes those who have not confirmed or
            // changed anything since it, subscribed or not.
            const bool after_leaving = d.retention.kind == processing::Retention::Kind::kAfterEvent;
            const std::string where = after_leaving ? kLeftBefore : kUnrenewedBefore;
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM subscribers WHERE " + where, {cutoff}));
              return rows.front().Int(0);
            }
            // A batch: the first `limit` by the index's order, the same subscribers for both
            // statements, as nothing changes them between the two.
            std::string chosen = "SELECT id FROM subscribers WHERE " + where;
            std::vector<store::Value> params = {cutoff};
            if (limit > 0) {
              chosen += std::string(" ORDER BY ") + (after_leaving ? kLeftOrder : kUnrenewedOrder) + " LIMIT ?";
              params.emplace_back(limit);
            }
            STEWARD_RETURN_IF_ERROR(
                c.Exec("DELETE FROM subscriber_topics WHERE subscriber_id IN (" + chosen + ")", params));
            return c.Exec("DELETE FROM subscribers WHERE id IN (" + chosen + ")", params);
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(), [](const processing::Dataset& d) {
                  return d.module == "subscriptions" && d.kept_by.empty();
                });
              },
          .stores = {"user.contact.email", "user.preferences.subscriptions"},
          .batched = true};
}

std::vector<subjects::SealedTable> Subscriptions::SealedTables() {
  return {
      {.table = "subscribers",
       .time_column = "created_at",
       .columns = {{"address", "user.contact.email", "Your email address", true},
                   {"status", "user.preferences.subscriptions", "Whether you confirmed", false},
                   {"frequency", "user.preferences.subscriptions", "How often you get emails", false},
                   {"pending_topics", "user.preferences.subscriptions", "Topics waiting for your confirmation", false},
                   {"username", "user.account.username", "Your username", true},
                   {"unsubscribed_at", "user.preferences.subscriptions", "When you unsubscribed", false}}},
      {.table = "subscriber_topics",
       .time_column = "since",
       .columns = {{"topic", "user.preferences.subscriptions", "A topic you get emails about", false}}}};
}

// ---- Signing up ----------------------------------------------------------------------------------

namespace {

struct Row {
  int64_t id = 0;
  std::string subject_id, status, frequency, secret, pending_topics, pending_frequency, pending_at, confirm_sent_at;
  std::string address_sealed, username_sealed;
};

constexpr const char* kColumns =
    "id, subject_id, status, frequency, secret, coalesce(pending_topics, ''), coalesce(pending_frequency, ''), "
    "coalesce(pending_at, ''), coalesce(confirm_sent_at, ''), address, username";

Row ReadRow(const store::Row& r) {
  return {r.Int(0),  r.Text(1), r.Text(2), r.Text(3),    r.Text(4),    r.Text(5),
          r.Text(6), r.Text(7), r.Text(8), BlobOf(r, 9), BlobOf(r, 10)};
}

Result<std::optional<Row>> RowBy(store::Connection& c, std::string_view where, store::Value value) {
  STEWARD_ASSIGN_OR_RETURN(
      auto rows,
      c.Query(std::string("SELECT ") + kColumns + " FROM subscribers WHERE " + std::string(where), {std::move(value)}));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(ReadRow(rows.front()));
}

Status CountUnsubscribe(store::Connection& c, const std::string& topic, const std::string& day) {
  return Done(
      c.Exec("INSERT INTO subscription_unsubscribes (topic, day, count) VALUES (?, ?, 1) ON CONFLICT (topic, day) DO "
             "UPDATE SET count = subscription_unsubscribes.count + 1",
             {topic, day}));
}

}  // namespace

namespace {

// The topics chosen, checked against the site's and the frequency; sorted, without repeats.
Result<std::vector<std::string>> Chosen(const Settings& settings, const std::vector<std::string>& topics,
                                        Frequency frequency) {
  std::vector<std::string> chosen;
  for (const auto& t : topics) {
    const Topic* topic = settings.Find(t);
    if (topic == nullptr) return MakeError(ErrorCode::kInvalidArgument, "topics: choose from the topics listed");
    if (std::find(topic->frequencies.begin(), topic->frequencies.end(), frequency) == topic->frequencies.end()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "frequency: '" + topic->title + "' is not sent " + std::string(FrequencyName(frequency)));
    }
    if (std::find(chosen.begin(), chosen.end(), t) == chosen.end()) chosen.push_back(t);
  }
  if (chosen.empty()) return MakeError(ErrorCode::kInvalidArgument, "topics: choose at least one topic");
  if (chosen.size() > Subscriptions::kMaxTopicsPerSignUp) {
    return MakeError(ErrorCode::kInvalidArgument, "topics: too many topics");
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

Result<subject::Key> AddressKey(std::string_view email) {
  if (!mail::ValidAddress(email)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "email: enter an email address in the correct format, like name@example.com");
  }
  return subject::Key::Make(subject::KeyKind::kEmail, email);
}

}  // namespace

Result<bool> Subscriptions::Import(store::Connection& c, std::string_view email, const std::vector<std::string>& topics,
                                   Frequency frequency) {
  STEWARD_ASSIGN_OR_RETURN(auto key, AddressKey(email));
  STEWARD_ASSIGN_OR_RETURN(auto chosen, Chosen(settings_, topics, frequency));
  const std::string& address = key.value();
  // Privacy: subscriptions, brought from the previous system with the consent given there.
  STEWARD_ASSIGN_OR_RETURN(bool suppressed, impl_->queue.Suppressed(c, address));
  if (suppressed) return false;
  STEWARD_ASSIGN_OR_RETURN(auto existing, impl_->subjects.Lookup(c, key));
  if (existing) {
    STEWARD_ASSIGN_OR_RETURN(auto row, RowBy(c, "subject_id = ?", *existing));
    if (row) return false;
  }
  STEWARD_ASSIGN_OR_RETURN(std::string subject_id, impl_->subjects.ForIdentifier(c, key));
  STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, subject_id));
  if (!keys) return MakeError(ErrorCode::kInternal, "a subject found in this write has no key");
  std::string at = impl_->Now();
  STEWARD_ASSIGN_OR_RETURN(
      auto rows, c.Query("INSERT INTO subscribers (subject_id, address, address_hash, status, frequency, secret, "
                         "created_at, confirmed_at, renewed_at) VALUES (?, ?, ?, 'confirmed', ?, ?, ?, ?, ?) "
                         "RETURNING id",
                         {subject_id, store::Blob{keys->Seal("subscribers.address", address)},
                          store::Blob{impl_->queue.AddressHash(address)}, std::string(FrequencyName(frequency)),
                          crypto::RandomHex(16), at, at, at}));
  int64_t id = rows.front().Int(0);
  for (const auto& t : chosen) {
    STEWARD_RETURN_IF_ERROR(
        c.Exec("INSERT INTO subscriber_topics (subscriber_id, subject_id, topic, since) VALUES (?, ?, ?, ?)",
               {id, subject_id, t, at}));
  }
  return true;
}

Status Subscriptions::SignUp(std::string_view email, const std::vector<std::string>& topics, Frequency frequency) {
  STEWARD_ASSIGN_OR_RETURN(auto key, AddressKey(email));
  STEWARD_ASSIGN_OR_RETURN(auto chosen, Chosen(settings_, topics, frequency));
  const std::string& address = key.value();
  return impl_->store.Write([&](store::Connection& c) -> Status {
    // Privacy: subscriptions. Nothing is kept or sent for an address that bounced for good or complained.
    STEWARD_ASSIGN_OR_RETURN(bool suppressed, impl_->queue.Suppressed(c, address));
    if (suppressed) return Ok();
    SystemTime now = impl_->clock.Now();
    std::string at = FormatRfc3339Millis(now);
    STEWARD_ASSIGN_OR_RETURN(std::string subject_id, impl_->subjects.ForIdentifier(c, key));
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, subject_id));
    if (!keys) return MakeError(ErrorCode::kInternal, "a subject found in this write has no key");
    STEWARD_ASSIGN_OR_RETURN(auto row, RowBy(c, "subject_id = ?", subject_id));
    std::string secret;
    int64_t id = 0;
    if (!row) {
      secret = crypto::RandomHex(16);
      STEWARD_ASSIGN_OR_RETURN(
          auto rows, c.Query("INSERT INTO subscribers (subject_id, address, address_hash, status, frequency, secret, "
                             "pending_topics, pending_frequency, pending_at, confirm_sent_at, created_at, renewed_at) "
                             "VALUES (?, ?, ?, 'unconfirmed', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                             {subject_id, store::Blob{keys->Seal("subscribers.address", address)},
                              store::Blob{impl_->queue.AddressHash(address)}, std::string(FrequencyName(frequency)),
                              secret, Join(chosen), std::string(FrequencyName(frequency)), at, at, at, at}));
      id = rows.front().Int(0);
    } else {
      id = row->id;
      secret = row->secret;
      // Ten minutes between confirmation emails to one address, whoever asks: the form cannot
      // be used to flood someone's inbox.
      auto last = ParseRfc3339(row->confirm_sent_at);
      bool send = !last || now - *last >= std::chrono::minutes(10);
      if (row->status == "unsubscribed") {
        secret = crypto::RandomHex(16);
        STEWARD_RETURN_IF_ERROR(
            c.Exec("UPDATE subscribers SET status = 'unconfirmed', secret = ?, created_at = ?, unsubscribed_at = NULL, "
                   "confirmed_at = NULL WHERE id = ?",
                   {secret, at, id}));
      }
      STEWARD_RETURN_IF_ERROR(c.Exec(
          "UPDATE subscribers SET pending_topics = ?, pending_frequency = ?, pending_at = ?, confirm_sent_at = ? "
          "WHERE id = ?",
          {Join(chosen), std::string(FrequencyName(frequency)), at, send ? at : row->confirm_sent_at, id}));
      if (!send) return Ok();
    }
    // The confirmation email: the only one an address gets before it is confirmed.
    std::string link =
        impl_->Url("/subscriptions/confirm/" + links_.Make({.purpose = Links::Purpose::kConfirm,
                                                            .subscriber = id,
                                                            .expires = Seconds(now) + kConfirmDays * 86400},
                                                           secret));
    std::string list;
    for (const auto& t : chosen) list += "* " + settings_.Find(t)->title + "\n";
    mail::Email e{
        .to = address,
        .subject = "Confirm your email subscription",
        .text = "You asked " + impl_->site_name + " to send you emails about:\n\n" + list +
                "\nHow often: " + std::string(FrequencyText(frequency)) + "\n\nTo confirm, open this link within " +
                std::to_string(kConfirmDays) + " days:\n\n" + link +
                "\n\nIf you did not ask for this, you do not need to do anything: we will send you nothing more, "
                "and delete your address after " +
                std::to_string(kConfirmDays) + " days.",
        .batch = "subscriptions:confirm"};
    STEWARD_RETURN_IF_ERROR(impl_->queue.Enqueue(c, e, impl_->mail));
    return Ok();
  });
}

Result<Subscriber> Subscriptions::Confirm(std::string_view token) {
  auto link = Links::Read(token);
  if (!link || link->purpose != Links::Purpose::kConfirm || link->expires < Seconds(impl_->clock.Now())) {
    return MakeError(ErrorCode::kNotFound, "this confirmation link has expired or is not right");
  }
  int64_t id = link->subscriber;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, RowBy(c, "id = ?", id));
    if (!row || row->status == "unsubscribed" || !links_.Verify(token, row->secret)) {
      return MakeError(ErrorCode::kNotFound, "this confirmation link has expired or is not right");
    }
    if (row->pending_at.empty()) return Ok();  // confirmed already: the same link opened twice
    std::string at = impl_->Now();
    for (const auto& t : SplitList(row->pending_topics)) {
      if (settings_.Find(t) == nullptr) continue;  // a topic the site has since withdrawn
      STEWARD_RETURN_IF_ERROR(
          c.Exec("INSERT INTO subscriber_topics (subscriber_id, subject_id, topic, since) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (subscriber_id, topic) DO NOTHING",
                 {id, row->subject_id, t, at}));
    }
    STEWARD_RETURN_IF_ERROR(
        c.Exec("UPDATE subscribers SET status = 'confirmed', confirmed_at = coalesce(confirmed_at, ?), renewed_at = ?, "
               "frequency = ?, pending_topics = NULL, pending_frequency = NULL, pending_at = NULL WHERE id = ?",
               {at, at, row->pending_frequency.empty() ? row->frequency : row->pending_frequency, id}));
    return Ok();
  }));
  return Load(id);
}

Result<Subscriber> Subscriptions::Load(int64_t id) {
  Subscriber s;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, RowBy(c, "id = ?", id));
    if (!row || row->status == "unsubscribed") return MakeError(ErrorCode::kNotFound, "no such subscriber");
    s.id = row->id;
    s.confirmed = row->status == "confirmed";
    s.frequency = ParseFrequency(row->frequency).value_or(Frequency::kImmediately);
    s.secret = row->secret;
    STEWARD_ASSIGN_OR_RETURN(s.topics, TopicsOf(c, id));
    if (!row->username_sealed.empty()) {
      // Privacy: subscriptions, the username opened to show it on the person's own page.
      STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, row->subject_id));
      if (keys) s.username = keys->Open("subscribers.username", row->username_sealed).value_or("");
    }
    return Ok();
  }));
  return s;
}

Result<Subscriber> Subscriptions::FromLink(std::string_view token, std::initializer_list<Links::Purpose> purposes) {
  auto link = Links::Read(token);
  bool allowed = link && std::find(purposes.begin(), purposes.end(), link->purpose) != purposes.end() &&
                 (link->expires == 0 || link->expires >= Seconds(impl_->clock.Now()));
  if (!allowed) return MakeError(ErrorCode::kNotFound, "this link has expired or is not right");
  auto s = Load(link->subscriber);
  if (!s.ok() || !s->confirmed || !links_.Verify(token, s->secret)) {
    return MakeError(ErrorCode::kNotFound, "this link has expired or is not right");
  }
  return s;
}

std::string Subscriptions::ManageLink(const Subscriber& s) const {
  return impl_->Url("/subscriptions/manage/" +
                    links_.Make({.purpose = Links::Purpose::kManage, .subscriber = s.id}, s.secret));
}

std::string Subscriptions::SessionLink(const Subscriber& s) const {
  return "/subscriptions/manage/" +
         links_.Make(
             {.purpose = Links::Purpose::kSession, .subscriber = s.id, .expires = Seconds(impl_->clock.Now()) + 3600},
             s.secret);
}

std::string Subscriptions::UnsubscribeLink(const Subscriber& s, std::string_view topic) const {
  return impl_->Url(
      "/subscriptions/unsubscribe/" +
      links_.Make({.purpose = Links::Purpose::kUnsubscribe, .subscriber = s.id, .topic = std::string(topic)},
                  s.secret));
}

// ---- Managing ------------------------------------------------------------------------------------

Result<bool> Subscriptions::Update(int64_t subscriber, const std::vector<std::string>& topics, Frequency frequency) {
  std::set<std::string> wanted;
  for (const auto& t : topics) {
    const Topic* topic = settings_.Find(t);
    if (topic == nullptr) return MakeError(ErrorCode::kInvalidArgument, "topics: choose from the topics listed");
    if (std::find(topic->frequencies.begin(), topic->frequencies.end(), frequency) == topic->frequencies.end()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "frequency: '" + topic->title + "' is not sent " + std::string(FrequencyName(frequency)));
    }
    wanted.insert(t);
  }
  if (wanted.empty()) {
    STEWARD_RETURN_IF_ERROR(Unsubscribe(subscriber, "all"));
    return false;
  }
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, RowBy(c, "id = ?", subscriber));
    if (!row || row->status != "confirmed") return MakeError(ErrorCode::kNotFound, "no such subscriber");
    STEWARD_ASSIGN_OR_RETURN(auto current, TopicsOf(c, subscriber));
    std::string at = impl_->Now();
    for (const auto& t : current) {
      if (wanted.count(t)) continue;
      STEWARD_RETURN_IF_ERROR(
          c.Exec("DELETE FROM subscriber_topics WHERE subscriber_id = ? AND topic = ?", {subscriber, t}));
      STEWARD_RETURN_IF_ERROR(CountUnsubscribe(c, t, at.substr(0, 10)));
    }
    for (const auto& t : wanted) {
      STEWARD_RETURN_IF_ERROR(
          c.Exec("INSERT INTO subscriber_topics (subscriber_id, subject_id, topic, since) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (subscriber_id, topic) DO NOTHING",
                 {subscriber, row->subject_id, t, at}));
    }
    return Done(c.Exec("UPDATE subscribers SET frequency = ?, renewed_at = ? WHERE id = ?",
                       {std::string(FrequencyName(frequency)), at, subscriber}));
  }));
  return true;
}

Result<int64_t> Subscriptions::Unsubscribe(int64_t subscriber, std::string_view topic) {
  int64_t left = 0;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, RowBy(c, "id = ?", subscriber));
    if (!row || row->status == "unsubscribed") return MakeError(ErrorCode::kNotFound, "no such subscriber");
    STEWARD_ASSIGN_OR_RETURN(auto current, TopicsOf(c, subscriber));
    std::string at = impl_->Now();
    for (const auto& t : current) {
      if (topic != "all" && t != topic) {
        ++left;
        continue;
      }
      STEWARD_RETURN_IF_ERROR(
          c.Exec("DELETE FROM subscriber_topics WHERE subscriber_id = ? AND topic = ?", {subscriber, t}));
      STEWARD_RETURN_IF_ERROR(CountUnsubscribe(c, t, at.substr(0, 10)));
    }
    if (left > 0) return Ok();
    // Privacy: subscriptions. With the last topic the person has left: their links stop working,
    // their username and password go now, and the address stays only as long as the register
    // says it is kept after unsubscribing (the retention purge deletes it).
    return Done(
        c.Exec("UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, secret = ?, "
               "pending_topics = NULL, pending_frequency = NULL, pending_at = NULL, username_hash = NULL, "
               "username = NULL, password_hash = NULL WHERE id = ?",
               {at, crypto::RandomHex(16), subscriber}));
  }));
  return left;
}

Result<bool> Subscriptions::UnsubscribeByLink(std::string_view token) {
  STEWARD_ASSIGN_OR_RETURN(auto s, FromLink(token, {Links::Purpose::kUnsubscribe}));
  auto link = Links::Read(token);
  std::string topic = link->topic.empty() ? "all" : link->topic;
  bool held = topic == "all" ? !s.topics.empty() : std::find(s.topics.begin(), s.topics.end(), topic) != s.topics.end();
  if (!held) return false;
  STEWARD_RETURN_IF_ERROR(Unsubscribe(s.id, topic));
  return true;
}

Status Subscriptions::SetCredentials(int64_t subscriber, std::string_view username, std::string_view password) {
  if (!settings_.accounts) {
    return MakeError(ErrorCode::kFailedPrecondition, "this site does not offer usernames and passwords");
  }
  std::string name = ToLower(Trim(username));
  if (name.size() < 3 || name.size() > 64 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "username: a username is 3 to 64 letters, digits, dots, dashes and underscores");
  }
  if (password.size() < 12 || password.size() > 256) {
    return MakeError(ErrorCode::kInvalidArgument, "password: a password is at least 12 characters (up to 256)");
  }
  if (ToLower(password).find(name) != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "password: a password must not contain the username");
  }
  if (common_passwords_.count(ToLower(password))) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "password: that password is one of the most common: choose one that is harder to guess");
  }
  STEWARD_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(password));
  std::string name_hash = impl_->UsernameHash(name);
  return impl_->store.Write([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto row, RowBy(c, "id = ?", subscriber));
    if (!row || row->status != "confirmed") return MakeError(ErrorCode::kNotFound, "no such subscriber");
    STEWARD_ASSIGN_OR_RETURN(auto taken, c.Query("SELECT id FROM subscribers WHERE username_hash = ? AND id <> ?",
                                                 {store::Blob{name_hash}, subscriber}));
    if (!taken.empty()) return MakeError(ErrorCode::kAlreadyExists, "username: that username is taken: choose another");
    STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, row->subject_id));
    if (!keys) return MakeError(ErrorCode::kNotFound, "no such subscriber");
    // Privacy: subscriptions. The username is sealed; a keyed hash of it finds the account.
    return Done(
        c.Exec("UPDATE subscribers SET username_hash = ?, username = ?, password_hash = ?, renewed_at = ? WHERE id = ?",
               {store::Blob{name_hash}, store::Blob{keys->Seal("subscribers.username", name)}, hash, impl_->Now(),
                subscriber}));
  });
}

Result<Subscriber> Subscriptions::SignIn(std::string_view username, std::string_view password) {
  // A hash to check against when there is no such username, so that both take as long.
  static const std::string kDummy = [] {
    auto h = crypto::HashPassword("not a password anyone has");
    return h.ok() ? *h : std::string();
  }();
  std::string name = ToLower(Trim(username));
  int64_t id = 0;
  std::string stored;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id, password_hash FROM subscribers WHERE username_hash = ? "
                                                "AND status = 'confirmed' AND password_hash IS NOT NULL",
                                                {store::Blob{impl_->UsernameHash(name)}}));
    if (!rows.empty()) {
      id = rows.front().Int(0);
      stored = rows.front().Text(1);
    }
    return Ok();
  }));
  bool right = crypto::VerifyPassword(stored.empty() ? kDummy : stored, password) && !stored.empty();
  if (!right) return MakeError(ErrorCode::kPermissionDenied, "the username or password is not right");
  return Load(id);
}

void Subscriptions::SetCommonPasswords(std::unordered_set<std::string> common) {
  common_passwords_ = std::move(common);
}

// ---- Sending -------------------------------------------------------------------------------------

Result<int64_t> Subscriptions::PurgeUnconfirmed() {
  int64_t purged = 0;
  std::string cutoff = FormatRfc3339Millis(impl_->clock.Now() - std::chrono::hours(24 * kConfirmDays));
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    // Privacy: subscriptions. A sign-up nobody confirmed goes after 7 days, and a change nobody
    // confirmed is forgotten.
    STEWARD_ASSIGN_OR_RETURN(
        purged, c.Exec("DELETE FROM subscribers WHERE status = 'unconfirmed' AND created_at < ?", {cutoff}));
    return Done(
        c.Exec("UPDATE subscribers SET pending_topics = NULL, pending_frequency = NULL, pending_at = NULL WHERE "
               "pending_at < ?",
               {cutoff}));
  }));
  return purged;
}

Result<std::vector<TopicCount>> Subscriptions::Counts() {
  std::map<std::string, TopicCount> by;
  for (const auto& t : settings_.topics) by[t.id].topic = t.id;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.ForEach(
        "SELECT t.topic, count(*), count(x.address_hash) FROM subscriber_topics t JOIN subscribers s ON s.id = "
        "t.subscriber_id LEFT JOIN mail_suppression x ON x.address_hash = s.address_hash AND x.suppressed_at IS NOT "
        "NULL WHERE s.status = 'confirmed' GROUP BY t.topic",
        {}, [&](const store::Row& r) {
          auto& count = by[r.Text(0)];
          count.topic = r.Text(0);
          count.suppressed = r.Int(2);
          count.confirmed = r.Int(1) - count.suppressed;
          return true;
        }));
    return c.ForEach("SELECT pending_topics FROM subscribers WHERE status = 'unconfirmed'", {},
                     [&](const store::Row& r) {
                       for (const auto& t : SplitList(r.IsNull(0) ? "" : r.Text(0))) {
                         by[t].topic = t;
                         ++by[t].unconfirmed;
                       }
                       return true;
                     });
  }));
  std::vector<TopicCount> out;
  for (const auto& t : settings_.topics) out.push_back(by[t.id]);
  return out;
}

}  // namespace steward::subscriptions
