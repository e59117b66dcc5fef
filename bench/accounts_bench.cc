// bench-accounts' program: COUNT citizen accounts on a site's [accounts] (brought in as `accounts
// import` brings them: every field sealed under its own person's key, the address in the blind
// index, the adviser's search key), then the three reads people wait for, each timed over ROUNDS
// random accounts: finding one by email address (a sign-in or an adviser's search by address),
// loading "Your account" (the account opened, its consents and its activity), and an adviser's
// search by full name and date of birth. The reference, in the same run on the same database, is
// one indexed read of the accounts table by id: the floor any of them stands on.
//
//   steward_accounts_bench CONFIG DIR COUNT [ROUNDS]
//
// A second run on the same DIR reuses the accounts already there. Prints, for each read, the median
// and 95th percentile in milliseconds, the ratio of the median to the reference's, and whether it
// meets the aim (a median under 5 ms); then the fill's rate and the peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "audit/audit.h"
#include "record.h"
#include "timing.h"
#include "config/document.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "mail/mail.h"
#include "register/register.h"
#include "store/store.h"
#include "subject/restrictions.h"
#include "subjects/subjects.h"

using namespace steward;
using bench::Seconds;
using bench::Time;
using bench::Timing;

namespace {

int Fail(const std::string& what, const Error& e) {
  std::fprintf(stderr, "steward_accounts_bench: %s: %s\n", what.c_str(), e.message.c_str());
  return 1;
}

const char* kFirst[] = {"Sam",  "Alex",   "Jo",    "Priya", "Mohammed", "Olivia", "Jack",  "Amelia", "Noah",  "Isla",
                        "Leo",  "Ava",    "Oscar", "Freya", "Arthur",   "Mia",    "Harry", "Zara",   "Ethan", "Ruby",
                        "Adam", "Sophie", "Yusuf", "Grace", "Kai",      "Chloe",  "Ben",   "Aisha",  "Owen",  "Lily"};
const char* kLast[] = {"Taylor", "Smith",   "Jones",   "Williams", "Brown", "Davies", "Evans",  "Wilson",
                       "Thomas", "Johnson", "Roberts", "Khan",     "Patel", "Wright", "Walker", "White",
                       "Green",  "Hall",    "Wood",    "Clarke",   "Singh", "Hughes", "Ali",    "Lewis"};

// Person `i`'s made-up details: the same for a given i in every run, so the timed reads find them.
struct Person {
  std::string email, name, dob;
};
Person PersonAt(int64_t i) {
  std::mt19937_64 rng(static_cast<uint64_t>(i) * 7919 + 17);
  Person p;
  p.email = "customer" + std::to_string(i) + "@example.org";
  p.name = std::string(kFirst[rng() % 30]) + " " + kLast[rng() % 24];
  char dob[11];
  std::snprintf(dob, sizeof dob, "%04d-%02d-%02d", 1950 + static_cast<int>(rng() % 56),
                1 + static_cast<int>(rng() % 12), 1 + static_cast<int>(rng() % 28));
  p.dob = dob;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: steward_accounts_bench CONFIG DIR COUNT [ROUNDS]\n");
    return 2;
  }
  if (Status s = crypto::Init(); !s.ok()) return Fail("libsodium", s.error());
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = config::Document::Parse(text.str(), argv[1]);
  if (!doc.ok()) return Fail("the site file", doc.error());
  auto reg = processing::FromDocument(*doc);
  if (!reg.ok()) return Fail("the register", reg.error());
  auto settings = accounts::ReadSettings(*doc, *reg);
  if (!settings.ok()) return Fail("[accounts]", settings.error());
  if (!*settings) return Fail("[accounts]", MakeError(ErrorCode::kInvalidArgument, "the site has none"));
  std::string dir = argv[2];
  int64_t count = std::atoll(argv[3]);
  int rounds = argc > 4 ? std::atoi(argv[4]) : 1000;

  auto key = crypto::SecretKey::LoadOrCreate(dir + "/secret.key");
  if (!key.ok()) return Fail("the key", key.error());
  auto store = store::Store::Open({.path = dir + "/steward.db", .readers = 1, .check_integrity = false});
  if (!store.ok()) return Fail("the database", store.error());
  std::vector<store::Migration> all = audit::Migrations();
  for (auto& m : subjects::SubjectStore::Migrations()) all.push_back(m);
  for (auto& m : subject::Restrictions::Migrations()) all.push_back(m);
  for (auto& m : mail::Queue::Migrations()) all.push_back(m);
  for (auto& m : accounts::Accounts::Migrations()) all.push_back(m);
  if (Status s = (*store)->Migrate(all); !s.ok()) return Fail("migrating", s.error());
  audit::Trail trail(**store, *key, SystemClock::Instance());
  accounts::Accounts accounts(
      **store, trail, *key, SystemClock::Instance(), std::move(**settings), nullptr, std::nullopt,
      [] { return std::string("https://nationalcareers.service.gov.uk"); }, "National Careers Service");
  const accounts::Field* name = accounts.NameField();
  const accounts::Field* birth = accounts.BirthField();
  if (name == nullptr || birth == nullptr) {
    return Fail("[accounts]",
                MakeError(ErrorCode::kInvalidArgument, "the site's accounts have no name or date of birth"));
  }

  int64_t have = 0;
  (void)(*store)->Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM accounts"));
    have = rows.front().Int(0);
    return Ok();
  });
  auto start = std::chrono::steady_clock::now();
  const int64_t batch = 2000;
  for (int64_t done = have; done < count; done += batch) {
    // Privacy: the account's dataset (made-up people, brought in as an import brings them).
    Status s = (*store)->Write([&](store::Connection& c) -> Status {
      for (int64_t i = done; i < std::min(count, done + batch); ++i) {
        Person p = PersonAt(i);
        STEWARD_ASSIGN_OR_RETURN(bool added, accounts.Import(c, p.email,
                                                             {{name->id, p.name},
                                                              {birth->id, p.dob},
                                                              {"phone", "07700 9" + std::to_string(10000 + i % 89999)},
                                                              {"postcode", "M1 2WD"}},
                                                             "the previous system"));
        if (!added) return MakeError(ErrorCode::kAlreadyExists, "an account was there already");
      }
      return Ok();
    });
    if (!s.ok()) return Fail("filling", s.error());
  }
  double filled_s = Seconds(start);
  int64_t filled = std::max<int64_t>(0, count - have);

  std::mt19937_64 pick(4242);
  std::vector<int64_t> chosen;
  for (int r = 0; r < rounds; ++r) chosen.push_back(static_cast<int64_t>(pick() % static_cast<uint64_t>(count)));
  std::vector<int64_t> ids(static_cast<size_t>(rounds));
  bool ok = true;
  Timing reference = Time(
      rounds,
      [&](int r) {
        Status s = (*store)->Read([&](store::Connection& c) -> Status {
          STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id, subject_id, state FROM accounts WHERE id = ?",
                                                      {chosen[static_cast<size_t>(r)] + 1}));
          return rows.empty() ? MakeError(ErrorCode::kNotFound, "no row") : Ok();
        });
        return s.ok();
      },
      &ok);
  Timing by_email = Time(
      rounds,
      [&](int r) {
        Person p = PersonAt(chosen[static_cast<size_t>(r)]);
        auto found = accounts.Find(p.email, "", "");
        if (!found.ok() || found->size() != 1) return false;
        ids[static_cast<size_t>(r)] = (*found)[0].id;
        return (*found)[0].name == p.name;
      },
      &ok);
  Timing home = Time(
      rounds,
      [&](int r) {
        int64_t id = ids[static_cast<size_t>(r)];
        auto a = accounts.Load(id);
        auto consents = accounts.Consents(id);
        auto activity = accounts.ActivityOf(id);
        auto referrals = accounts.Referrals(id);
        return a.ok() && consents.ok() && activity.ok() && referrals.ok() && !activity->empty();
      },
      &ok);
  Timing search = Time(
      rounds,
      [&](int r) {
        Person p = PersonAt(chosen[static_cast<size_t>(r)]);
        auto found = accounts.Find("", p.name, p.dob);
        if (!found.ok()) return false;
        return std::any_of(found->begin(), found->end(), [&](const accounts::Match& m) { return m.email == p.email; });
      },
      &ok);

  std::printf("%lld accounts; %d random ones each\n", static_cast<long long>(count), rounds);
  std::printf("reference (one indexed read by id): median %.3f ms, p95 %.3f ms\n", reference.median_ms,
              reference.p95_ms);
  bench::Record("reference: one read by id, median", reference.median_ms, "ms", bench::kLower);
  auto line = [&](const char* what, const char* figure, const Timing& t) {
    std::printf("%-42s median %.3f ms, p95 %.3f ms, %.1fx the reference: %s\n", what, t.median_ms, t.p95_ms,
                t.median_ms / reference.median_ms, t.median_ms < 5.0 ? "under the 5 ms aim" : "OVER the 5 ms aim");
    bench::Record(std::string(figure) + ", median", t.median_ms, "ms", bench::kLower, "< 5");
    bench::Record(std::string(figure) + ", p95", t.p95_ms, "ms", bench::kLower);
  };
  line("find by email address:", "find by email", by_email);
  line("load \"Your account\":", "\"Your account\"", home);
  line("adviser's search by name and date of birth:", "adviser's search", search);
  if (filled > 0) {
    std::printf("filled %lld in %.1f s (%.0f accounts/s)\n", static_cast<long long>(filled), filled_s,
                static_cast<double>(filled) / filled_s);
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS %ld KiB\n", usage.ru_maxrss);
  bench::Record("peak RSS", static_cast<double>(usage.ru_maxrss), "KiB", bench::kLower);
  if (!ok) {
    std::fprintf(stderr, "steward_accounts_bench: a read did not find the account it looked for\n");
    return 1;
  }
  return 0;
}
