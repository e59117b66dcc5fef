// bench-feedback's helpers: fills a site's database with feedback items through the inbox's own
// write (sealed under real subject keys), and signs a caseworker in, for the timed pages.
//
//   steward_feedback_bench fill DB KEYFILE COUNT     items over the 2 years before now
//   steward_feedback_bench session DB KEYFILE EMAIL  a caseworker's session cookie, printed
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "audit/audit.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "feedback/feedback.h"
#include "staff/accounts.h"
#include "staff/sessions.h"
#include "store/store.h"
#include "subjects/subjects.h"

using namespace steward;

namespace {

int Fail(const std::string& what, const Error& e) {
  std::fprintf(stderr, "steward_feedback_bench: %s: %s\n", what.c_str(), e.message.c_str());
  return 1;
}

// COUNT items as people send them: mostly problem reports and ratings, a third with an email
// address to be answered (each its own person), some done, over two years, and spam only in the
// last week, as on a site that has run that long; every personal field sealed under its person's
// key, as Inbox::Submit keeps them.
// Privacy: feedback (made-up people, written as the forms write real ones).
int Fill(store::Store& store, const crypto::SecretKey& key, int64_t count) {
  subjects::SubjectStore subjects(key, SystemClock::Instance());
  std::mt19937_64 rng(42);
  const char* kinds[] = {"problem", "problem", "contact", "rating", "rating"};
  const char* statuses[] = {"new", "new", "new", "in-progress", "done", "done", "spam"};
  const char* sections[] = {"/jobs", "/guidance", "/pay", "/pensions", "/apply", "/contact", "/news", "/about"};
  auto now = SystemClock::Instance().Now();
  const int64_t batch = 5000;
  for (int64_t done = 0; done < count; done += batch) {
    Status s = store.Write([&](store::Connection& c) -> Status {
      for (int64_t i = done; i < std::min(count, done + batch); ++i) {
        std::string kind = kinds[rng() % 5];
        std::string page = std::string(sections[rng() % 8]) + "/page-" + std::to_string(rng() % 2000);
        auto at = now - std::chrono::seconds(static_cast<int64_t>(rng() % (2 * 365 * 86400)));
        bool reply = kind == "contact" || rng() % 3 == 0;
        store::Value subject_id, doing, wrong, message, name, email;
        if (kind != "rating" || reply) {
          std::string id;
          if (reply) {
            auto k = subject::Key::Make(subject::KeyKind::kEmail, "person" + std::to_string(i) + "@example.org");
            STEWARD_ASSIGN_OR_RETURN(id, subjects.ForIdentifier(c, *k));
          } else {
            STEWARD_ASSIGN_OR_RETURN(id, subjects.Create(c));
          }
          STEWARD_ASSIGN_OR_RETURN(auto keys, subjects.Keys(c, id));
          auto seal = [&](const char* column, const std::string& text) -> store::Value {
            return store::Blob{keys->Seal(std::string("feedback_items.") + column, text)};
          };
          subject_id = id;
          if (kind == "problem") {
            doing = seal("doing", "Trying to find out when my application will be decided");
            wrong = seal("wrong", "The page said to call a number that was engaged all morning");
          } else {
            message = seal("message",
                           "I sent the form three weeks ago and have heard nothing. Could you tell me "
                           "what happens next and how long it usually takes?");
          }
          if (reply) {
            name = seal("name", "A Person");
            email = seal("email", "person" + std::to_string(i) + "@example.org");
          }
        }
        store::Value rating = kind == "rating" ? store::Value(int64_t(1 + rng() % 5)) : store::Value();
        std::string status = statuses[rng() % 7];
        // Spam goes a week after it came (Inbox::PurgeSpam, and retention), so a site that has run
        // this long holds none older: what came before then was dealt with.
        if (status == "spam" && now - at > std::chrono::hours(24 * 7)) status = "done";
        STEWARD_RETURN_IF_ERROR(c.Exec(
            "INSERT INTO feedback_items (received_at, kind, page, rating, status, fingerprint, subject_id, doing, "
            "wrong, message, name, email) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {FormatRfc3339(at), kind, page, rating, status, store::Blob{crypto::Hash(std::to_string(i), "bench")},
             subject_id, doing, wrong, message, name, email}));
      }
      return Ok();
    });
    if (!s.ok()) return Fail("filling", s.error());
  }
  // A month of "Is this page useful?" counts for 2,000 pages.
  Status s = store.Write([&](store::Connection& c) -> Status {
    for (int day = 0; day < 30; ++day) {
      std::string d = FormatRfc3339(now - std::chrono::hours(24 * day)).substr(0, 10);
      for (int p = 0; p < 2000; ++p) {
        STEWARD_RETURN_IF_ERROR(c.Exec("INSERT INTO feedback_usefulness (page, day, yes, no) VALUES (?, ?, ?, ?)",
                                       {std::string(sections[p % 8]) + "/page-" + std::to_string(p), d,
                                        int64_t(rng() % 50), int64_t(rng() % 20)}));
      }
    }
    return Ok();
  });
  if (!s.ok()) return Fail("counting usefulness", s.error());
  return 0;
}

int Session(store::Store& store, const crypto::SecretKey& key, const std::string& email) {
  const Clock& clock = SystemClock::Instance();
  audit::Trail trail(store, key, clock);
  staff::Accounts accounts(store, trail, clock, key, staff::PasswordPolicy{});
  auto id = accounts.Create(email, {staff::Role::kCaseworker}, {.id = "cli"});
  if (!id.ok()) return Fail("adding the caseworker", id.error());
  staff::Sessions sessions(store, clock, key, {.idle = std::chrono::hours(2), .absolute = std::chrono::hours(2)});
  auto cookie = sessions.Create(*id, false, "bench-feedback");
  if (!cookie.ok()) return Fail("signing in", cookie.error());
  std::printf("%s\n", cookie->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: steward_feedback_bench fill|session DB KEYFILE COUNT|EMAIL\n");
    return 2;
  }
  std::string what = argv[1];
  auto store = store::Store::Open({.path = argv[2], .readers = 1, .check_integrity = false});
  if (!store.ok()) return Fail(std::string("opening ") + argv[2], store.error());
  auto key = crypto::SecretKey::Load(argv[3]);
  if (!key.ok()) return Fail(std::string("reading ") + argv[3], key.error());
  if (what == "fill") return Fill(**store, *key, std::atoll(argv[4]));
  if (what == "session") return Session(**store, *key, argv[4]);
  std::fprintf(stderr, "steward_feedback_bench: fill or session\n");
  return 2;
}
