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

namespace steward::subscriptions {
namespace {

constexpr int64_t kBatch = 200;
constexpr size_t kMaxSubject = 200;
constexpr size_t kMaxBody = 20000;

std::string DerivedKey(const crypto::SecretKey& key, std::string_view context) {
  auto k = key.DeriveKey(context);
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

int64_t Seconds(SystemTime t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

std::string BlobOf(const store::Row& row, size_t col) {
  if (row.IsNull(col)) return "";
  return std::get<store::Blob>(row.at(col)).bytes;
}

std::string Join(const std::vector<std::string>& parts, char sep = ',') {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  for (auto part : Split(text, ',')) {
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

template <typename T>
Status Done(Result<T> r) {
  if (!r.ok()) return r.error();
  return Ok();
}

bool OneLine(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

// The start of the UTC day of `t` plus `hour` hours, as Unix seconds.
int64_t DayAt(int64_t unix, int hour) { return unix - unix % 86400 + hour * 3600; }

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

struct Subscriptions::Impl {
  Impl(store::Store& s, const crypto::SecretKey& key, const Clock& c, mail::Queue& q, mail::Settings m,
       std::function<std::string()> url, std::string name)
      : store(s),
        clock(c),
        queue(q),
        mail(std::move(m)),
        base_url(std::move(url)),
        site_name(std::move(name)),
        subjects(key, c),
        username_key(DerivedKey(key, "subusers")) {}
  store::Store& store;
  const Clock& clock;
  mail::Queue& queue;
  mail::Settings mail;
  const subject::Restrictions* restrictions = nullptr;
  std::function<std::string()> base_url;
  std::string site_name;
  subjects::SubjectStore subjects;
  std::string username_key;

  std::string Now() const { return FormatRfc3339Millis(clock.Now()); }
  std::string Url(std::string_view path) const { return base_url() + std::string(path); }
  std::string UsernameHash(std::string_view username) const { return crypto::Hash(ToLower(username), username_key); }
};

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
  )sql"}};
}

retention::ModuleStorage Subscriptions::Storage() {
  return {.module = "subscriptions",
          .personal_tables = {"subscribers", "subscriber_topics"},
          .other_tables = {"subscription_messages", "subscription_sends", "subscription_unsubscribes"},
          .purge = [](store::Connection& c, const processing::Dataset& d, const std::string& cutoff, const std::string&,
                      bool dry_run) -> Result<int64_t> {
            // Privacy: subscriptions. "N after you unsubscribe" deletes those who left before the
            // cut-off; a plain period (or a maximum) deletes those who have not confirmed or
            // changed anything since it, subscribed or not.
            std::string where = d.retention.kind == processing::Retention::Kind::kAfterEvent
                                    ? "status = 'unsubscribed' AND unsubscribed_at < ?"
                                    : "renewed_at < ?";
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT count(*) FROM subscribers WHERE " + where, {cutoff}));
              return rows.front().Int(0);
            }
            STEWARD_RETURN_IF_ERROR(c.Exec(
                "DELETE FROM subscriber_topics WHERE subscriber_id IN (SELECT id FROM subscribers WHERE " + where + ")",
                {cutoff}));
            return c.Exec("DELETE FROM subscribers WHERE " + where, {cutoff});
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(), [](const processing::Dataset& d) {
                  return d.module == "subscriptions" && d.kept_by.empty();
                });
              },
          .stores = {"user.contact.email", "user.preferences.subscriptions"}};
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

Result<std::vector<std::string>> TopicsOf(store::Connection& c, int64_t id) {
  std::vector<std::string> topics;
  STEWARD_RETURN_IF_ERROR(c.ForEach("SELECT topic FROM subscriber_topics WHERE subscriber_id = ? ORDER BY topic", {id},
                                    [&](const store::Row& r) {
                                      topics.push_back(r.Text(0));
                                      return true;
                                    }));
  return topics;
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
  const std::string address = key.value();
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
  const std::string address = key.value();
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

std::string Subscriptions::MessageText(const Topic& topic, std::string_view body, std::string_view unsubscribe,
                                       std::string_view manage) const {
  return std::string(body) + "\n\n---\n\nYou get this email because you subscribed to \"" + topic.title + "\" on " +
         impl_->site_name + ".\n\nUnsubscribe from \"" + topic.title + "\":\n" + std::string(unsubscribe) +
         "\n\nChange what you get or how often:\n" + std::string(manage);
}

namespace {

Status CheckMessage(std::string_view subject, std::string_view body) {
  if (Trim(subject).empty() || subject.size() > kMaxSubject || !OneLine(subject)) {
    return MakeError(ErrorCode::kInvalidArgument, "subject: a subject is one line of 1 to 200 characters");
  }
  if (Trim(body).empty() || body.size() > kMaxBody) {
    return MakeError(ErrorCode::kInvalidArgument, "body: a message is 1 to 20,000 characters");
  }
  if (ValidUtf8(subject) != subject || ValidUtf8(body) != body) {
    return MakeError(ErrorCode::kInvalidArgument, "body: the message is not UTF-8 text");
  }
  return Ok();
}

}  // namespace

Result<int64_t> Subscriptions::Publish(std::string_view topic, std::string_view subject, std::string_view body,
                                       audit::Trail& trail, const std::string& actor, const std::string& request_id) {
  if (settings_.Find(topic) == nullptr) return MakeError(ErrorCode::kInvalidArgument, "topic: no such topic");
  STEWARD_RETURN_IF_ERROR(CheckMessage(subject, body));
  int64_t send = 0;
  STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
    std::string at = impl_->Now();
    STEWARD_ASSIGN_OR_RETURN(
        auto message,
        c.Query(
            "INSERT INTO subscription_messages (topic, subject, body, created_at, created_by) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id",
            {std::string(topic), std::string(Trim(subject)), std::string(body), at, actor}));
    STEWARD_ASSIGN_OR_RETURN(auto rows,
                             c.Query("INSERT INTO subscription_sends (kind, message_id, created_at, created_by) VALUES "
                                     "('message', ?, ?, ?) RETURNING id",
                                     {message.front().Int(0), at, actor}));
    send = rows.front().Int(0);
    return trail.AppendIn(c, {.actor = actor,
                              .action = "subscriptions.published",
                              .target = "subscriptions-send:" + std::to_string(send),
                              .request_id = request_id,
                              .details = {{"topic", std::string(topic)}}});
  }));
  return send;
}

Status Subscriptions::ForEachConfirmedAddress(const std::function<void(const std::string& address)>& each) const {
  return impl_->store.Read([&](store::Connection& c) -> Status {
    subject::MarkSet marks;
    if (impl_->restrictions != nullptr) {
      STEWARD_ASSIGN_OR_RETURN(marks, impl_->restrictions->Load(c, {"subscriptions"}));
    }
    STEWARD_ASSIGN_OR_RETURN(
        auto rows, c.Query("SELECT subject_id, address FROM subscribers WHERE status = 'confirmed' ORDER BY id"));
    for (const auto& r : rows) {
      // Privacy: subscriptions, the address opened to tell the subscriber of a change, sealed again in
      // the mail queue.
      STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, r.Text(0)));
      auto address = keys ? keys->Open("subscribers.address", BlobOf(r, 1)) : std::nullopt;
      if (!address) continue;
      if (marks.Any({{subject::KeyKind::kEmail, *address}, {subject::KeyKind::kSubjectId, r.Text(0)}})) continue;
      each(*address);
    }
    return Ok();
  });
}

void Subscriptions::HonourRestrictions(const subject::Restrictions* restrictions) {
  impl_->restrictions = restrictions;
}

Result<int64_t> Subscriptions::SendTest(std::string_view to, std::string_view topic, std::string_view subject,
                                        std::string_view body) {
  const Topic* t = settings_.Find(topic);
  if (t == nullptr) return MakeError(ErrorCode::kInvalidArgument, "topic: no such topic");
  STEWARD_RETURN_IF_ERROR(CheckMessage(subject, body));
  // The links of a test are the site's pages, not anyone's: they open nobody's subscriptions.
  std::string text = MessageText(*t, body, impl_->Url("/subscriptions"), impl_->Url("/subscriptions"));
  return impl_->queue.Enqueue({.to = std::string(to),
                               .subject = "[Test] " + std::string(Trim(subject)),
                               .text = text,
                               .batch = "subscriptions:test"},
                              impl_->mail);
}

Result<int64_t> Subscriptions::StartDigests() {
  int64_t now = Seconds(impl_->clock.Now());
  int64_t started = 0;
  // Daily at 07:00 UTC; weekly on Monday at 07:00 UTC (1970-01-01 was a Thursday).
  int64_t daily_end = DayAt(now, 7) <= now ? DayAt(now, 7) : DayAt(now, 7) - 86400;
  int64_t days_since_monday = ((daily_end / 86400) + 3) % 7;
  int64_t weekly_end = daily_end - days_since_monday * 86400;
  auto at = [](int64_t unix) { return FormatRfc3339Millis(SystemTime(std::chrono::seconds(unix))); };
  for (auto [kind, end, length] : {std::tuple<const char*, int64_t, int64_t>{"daily", daily_end, 86400},
                                   std::tuple<const char*, int64_t, int64_t>{"weekly", weekly_end, 7 * 86400}}) {
    std::string from = at(end - length), to = at(end);
    STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(
          auto done, c.Query("SELECT 1 FROM subscription_sends WHERE kind = ? AND period_end = ?", {kind, to}));
      if (!done.empty()) return Ok();
      STEWARD_ASSIGN_OR_RETURN(
          auto any,
          c.Query("SELECT 1 FROM subscription_messages WHERE created_at >= ? AND created_at < ? LIMIT 1", {from, to}));
      if (any.empty()) return Ok();  // nothing was published: no digest
      STEWARD_RETURN_IF_ERROR(c.Exec(
          "INSERT INTO subscription_sends (kind, period_start, period_end, created_at, created_by) VALUES (?, ?, ?, ?, "
          "'system')",
          {kind, from, to, impl_->Now()}));
      ++started;
      return Ok();
    }));
  }
  return started;
}

Result<int64_t> Subscriptions::RunSends(int64_t limit) {
  int64_t queued_total = 0;
  while (queued_total < limit) {
    bool worked = false;
    STEWARD_RETURN_IF_ERROR(impl_->store.Write([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(
          auto sends,
          c.Query("SELECT s.id, s.kind, s.cursor, coalesce(s.period_start, ''), coalesce(s.period_end, ''), "
                  "coalesce(m.topic, ''), coalesce(m.subject, ''), coalesce(m.body, '') "
                  "FROM subscription_sends s LEFT JOIN subscription_messages m ON m.id = s.message_id "
                  "WHERE s.done_at IS NULL ORDER BY s.id LIMIT 1"));
      if (sends.empty()) return Ok();
      worked = true;
      const auto& send = sends.front();
      int64_t send_id = send.Int(0), cursor = send.Int(2);
      std::string kind = send.Text(1), topic_id = send.Text(5), subject = send.Text(6), body = send.Text(7);
      int64_t batch = std::min(kBatch, limit - queued_total);
      // The recipients of this batch: confirmed, in order of id, after the cursor.
      std::vector<store::Row> rows;
      if (kind == "message") {
        STEWARD_ASSIGN_OR_RETURN(
            rows, c.Query("SELECT s.id, s.subject_id, s.address, s.secret FROM subscriber_topics t JOIN subscribers s "
                          "ON s.id = t.subscriber_id WHERE t.topic = ? AND s.status = 'confirmed' AND s.frequency = "
                          "'immediately' AND t.subscriber_id > ? ORDER BY t.subscriber_id LIMIT ?",
                          {topic_id, cursor, batch}));
      } else {
        STEWARD_ASSIGN_OR_RETURN(
            rows, c.Query("SELECT id, subject_id, address, secret FROM subscribers WHERE status = 'confirmed' AND "
                          "frequency = ? AND id > ? ORDER BY id LIMIT ?",
                          {kind, cursor, batch}));
      }
      // Whoever's data is restricted (UK GDPR Article 18) or who objected is kept, not mailed.
      subject::MarkSet marks;
      if (impl_->restrictions != nullptr) {
        STEWARD_ASSIGN_OR_RETURN(marks, impl_->restrictions->Load(c, {"subscriptions"}));
      }
      // A digest's messages, by topic.
      std::map<std::string, std::vector<std::pair<std::string, std::string>>> period;
      if (kind != "message") {
        STEWARD_RETURN_IF_ERROR(c.ForEach(
            "SELECT topic, subject, body FROM subscription_messages WHERE created_at >= ? AND created_at < ? ORDER BY "
            "id",
            {send.Text(3), send.Text(4)}, [&](const store::Row& r) {
              period[r.Text(0)].emplace_back(r.Text(1), r.Text(2));
              return true;
            }));
      }
      const Topic* topic = settings_.Find(topic_id);
      int64_t queued = 0;
      for (const auto& r : rows) {
        cursor = r.Int(0);
        Subscriber who{.id = r.Int(0), .secret = r.Text(3)};
        // Privacy: subscriptions, the address opened to queue the email, sealed again in the queue.
        STEWARD_ASSIGN_OR_RETURN(auto keys, impl_->subjects.Keys(c, r.Text(1)));
        auto address = keys ? keys->Open("subscribers.address", BlobOf(r, 2)) : std::nullopt;
        if (!address) continue;  // erased meanwhile
        if (marks.Any({{subject::KeyKind::kEmail, *address}, {subject::KeyKind::kSubjectId, r.Text(1)}})) continue;
        mail::Email e{.to = *address, .batch = "subscriptions:" + std::to_string(send_id)};
        std::string unsubscribe;
        if (kind == "message") {
          if (topic == nullptr) break;  // the topic was withdrawn
          unsubscribe = UnsubscribeLink(who, topic->id);
          e.subject = subject;
          e.text = MessageText(*topic, body, unsubscribe, ManageLink(who));
        } else {
          STEWARD_ASSIGN_OR_RETURN(auto topics, TopicsOf(c, who.id));
          std::string text;
          for (const auto& t : topics) {
            const Topic* declared = settings_.Find(t);
            auto it = period.find(t);
            if (declared == nullptr || it == period.end()) continue;
            text += declared->title + "\n\n";
            for (const auto& [s, b] : it->second) text += s + "\n\n" + b + "\n\n";
          }
          if (text.empty()) continue;  // nothing of theirs was published
          unsubscribe = UnsubscribeLink(who, "all");
          e.subject = impl_->site_name + ": your " + kind + " update";
          e.text = text + "---\n\nYou get this email because you subscribed to " + kind + " updates from " +
                   impl_->site_name + ".\n\nUnsubscribe from all of them:\n" + unsubscribe +
                   "\n\nChange what you get or how often:\n" + ManageLink(who);
        }
        // RFC 8058: the one-click link, and a mailto for clients that only offer that.
        std::string token = unsubscribe.substr(unsubscribe.rfind('/') + 1);
        e.headers = {{"List-Unsubscribe",
                      "<" + unsubscribe + ">, <mailto:unsubscribe+" + token + "@" + impl_->mail.Domain() + ">"},
                     {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
        auto id = impl_->queue.Enqueue(c, e, impl_->mail);
        if (!id.ok() && id.error().code != ErrorCode::kFailedPrecondition) return id.error();  // not suppressed
        if (id.ok()) ++queued;
      }
      queued_total += queued;
      bool done = static_cast<int64_t>(rows.size()) < batch || (kind == "message" && topic == nullptr);
      return Done(c.Exec("UPDATE subscription_sends SET cursor = ?, queued = queued + ?, done_at = ? WHERE id = ?",
                         {cursor, queued, done ? store::Value{impl_->Now()} : store::Value{}, send_id}));
    }));
    if (!worked) break;
  }
  return queued_total;
}

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

Result<std::vector<Send>> Subscriptions::Sends(int64_t limit) {
  std::vector<Send> sends;
  STEWARD_RETURN_IF_ERROR(impl_->store.Read([&](store::Connection& c) -> Status {
    STEWARD_RETURN_IF_ERROR(c.ForEach(
        "SELECT s.id, s.kind, coalesce(m.topic, ''), coalesce(m.subject, ''), s.created_at, s.created_by, "
        "coalesce(s.done_at, ''), s.queued FROM subscription_sends s LEFT JOIN subscription_messages m ON m.id = "
        "s.message_id ORDER BY s.id DESC LIMIT ?",
        {limit}, [&](const store::Row& r) {
          sends.push_back({.id = r.Int(0),
                           .kind = r.Text(1),
                           .topic = r.Text(2),
                           .subject = r.Text(3),
                           .created_at = r.Text(4),
                           .created_by = r.Text(5),
                           .done_at = r.Text(6),
                           .queued = r.Int(7)});
          return true;
        }));
    for (auto& s : sends) {
      if (s.topic.empty()) continue;
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT coalesce(sum(count), 0) FROM subscription_unsubscribes WHERE "
                                                  "topic = ? AND day >= ?",
                                                  {s.topic, s.created_at.substr(0, 10)}));
      s.unsubscribed = rows.front().Int(0);
    }
    return Ok();
  }));
  for (auto& s : sends) {
    STEWARD_ASSIGN_OR_RETURN(auto counts, impl_->queue.CountBatch("subscriptions:" + std::to_string(s.id)));
    s.sent = counts.sent;
    s.failed = counts.failed;
    s.bounced = counts.bounced;
  }
  return sends;
}

}  // namespace steward::subscriptions
