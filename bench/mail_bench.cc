// bench-mail's program: COUNT confirmed subscribers of one topic (brought in as `subscriptions
// import` brings them), one message published to the topic, its emails queued by the send task's
// own code (each sealed under its own person's key, in batches), then sent by the queue's own
// Deliver to the relay at 127.0.0.1:PORT over one reused connection.
//
//   steward_mail_bench DIR PORT COUNT
//
// Prints one line: "subscribers N in S s; queued N in S s (R/s); sent N in S s (R/s); peak RSS K KiB;
// failed F".
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audit/audit.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "mail/mail.h"
#include "store/store.h"
#include "subjects/subjects.h"
#include "subscriptions/subscriptions.h"

using namespace steward;

namespace {

int Fail(const std::string& what, const Error& e) {
  std::fprintf(stderr, "steward_mail_bench: %s: %s\n", what.c_str(), e.message.c_str());
  return 1;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: steward_mail_bench DIR PORT COUNT\n");
    return 2;
  }
  if (Status s = crypto::Init(); !s.ok()) return Fail("libsodium", s.error());
  std::string dir = argv[1];
  int64_t count = std::atoll(argv[3]);
  auto key = crypto::SecretKey::LoadOrCreate(dir + "/secret.key");
  if (!key.ok()) return Fail("the key", key.error());
  auto store = store::Store::Open({.path = dir + "/steward.db", .readers = 1, .check_integrity = false});
  if (!store.ok()) return Fail("the database", store.error());
  std::vector<store::Migration> all = audit::Migrations();
  for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
  for (auto& m : mail::Queue::Migrations()) all.push_back(m);
  for (auto& m : subscriptions::Subscriptions::Migrations()) all.push_back(m);
  if (Status s = (*store)->Migrate(all); !s.ok()) return Fail("migrating", s.error());

  mail::Settings settings;
  settings.relay = std::string("smtp://127.0.0.1:") + argv[2];
  settings.from_name = "Hampshire County Council";
  settings.from_address = "noreply@hants.gov.uk";
  settings.starttls = false;
  settings.per_day = count * 2;
  mail::Queue queue(**store, *key, SystemClock::Instance());
  subscriptions::Settings topics;
  topics.topics = {
      {"council-meetings", "Council meetings", "Agendas and decisions", {subscriptions::Frequency::kImmediately}}};
  subscriptions::Subscriptions subs(
      **store, *key, SystemClock::Instance(), topics, queue, settings,
      [] { return std::string("https://www.hants.gov.uk"); }, "Hantsweb");
  audit::Trail trail(**store, *key, SystemClock::Instance());

  auto start = std::chrono::steady_clock::now();
  const int64_t batch = 1000;
  for (int64_t done = 0; done < count; done += batch) {
    // Privacy: subscriptions (made-up people, brought in as an import brings them).
    Status s = (*store)->Write([&](store::Connection& c) -> Status {
      for (int64_t i = done; i < std::min(count, done + batch); ++i) {
        STEWARD_RETURN_IF_ERROR(subs.Import(c, "subscriber" + std::to_string(i) + "@example.org", {"council-meetings"},
                                            subscriptions::Frequency::kImmediately));
      }
      return Ok();
    });
    if (!s.ok()) return Fail("seeding", s.error());
  }
  double seeded_s = Seconds(start);

  start = std::chrono::steady_clock::now();
  auto published = subs.Publish("council-meetings", "Cabinet meets on Tuesday",
                                "The county council's cabinet meets on Tuesday. The agenda and papers are at "
                                "https://www.hants.gov.uk/councilmeetings.",
                                trail, "cli");
  if (!published.ok()) return Fail("publishing", published.error());
  int64_t queued = 0;
  for (;;) {
    auto n = subs.RunSends(10000);
    if (!n.ok()) return Fail("queueing", n.error());
    if (*n == 0) break;
    queued += *n;
  }
  if (queued != count)
    std::fprintf(stderr, "steward_mail_bench: queued %lld of %lld\n", (long long)queued, (long long)count);
  double queued_s = Seconds(start);

  auto smtp = mail::SmtpClient::Open(settings);
  if (!smtp.ok()) return Fail("the relay", smtp.error());
  start = std::chrono::steady_clock::now();
  int64_t sent = 0, failed = 0;
  while (sent + failed < count) {
    auto round = queue.Deliver(**smtp, settings, 1000);
    if (!round.ok()) return Fail("sending", round.error());
    if (round->sent + round->failed == 0) break;  // deferred: the relay is not taking them
    sent += round->sent;
    failed += round->failed;
  }
  double sent_s = Seconds(start);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "subscribers %lld in %.2f s; queued %lld in %.2f s (%.0f/s); sent %lld in %.2f s (%.0f/s); peak RSS %ld KiB; "
      "failed %lld\n",
      static_cast<long long>(count), seeded_s, static_cast<long long>(queued), queued_s, queued / queued_s,
      static_cast<long long>(sent), sent_s, sent / sent_s, usage.ru_maxrss, static_cast<long long>(failed));
  return sent == count ? 0 : 1;
}
