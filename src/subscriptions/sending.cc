// Subscriptions' sending: publishing a message, digests, the send loop that queues each
// subscriber's email, test sends, and the addresses told of a change to the notice.
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
#include "subscriptions/subscriptions.h"

namespace steward::subscriptions {
using namespace internal;
namespace {

constexpr int64_t kBatch = 200;
constexpr size_t kMaxSubject = 200;
constexpr size_t kMaxBody = 20000;

bool OneLine(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

// The start of the UTC day of `t` plus `hour` hours, as Unix seconds.
int64_t DayAt(int64_t unix, int hour) { return unix - unix % 86400 + int64_t{hour} * 3600; }

}  // namespace

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
    STEWARD_RETURN_IF_ERROR(impl_->store.Write([&, kind = kind](store::Connection& c) -> Status {
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
