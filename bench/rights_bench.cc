// bench-rights' program: a National Careers store holding COUNT people spread across the modules
// (half with an account, brought in as `accounts import` brings them; a quarter with a cookie
// consent record; a quarter with a visitor cookie and four analytics events each; one in a hundred
// with a rights request), then what a caseworker waits for, each timed over ROUNDS people who are
// in every module: searching one person across every module (counts, the identifiers they lead
// to), exporting them (every module's records and the zip), and erasing them. All through the
// site's subject-data directory, as `/admin/rights` and `steward rights` use it. The reference, in
// the same run on the same database, is one indexed read of the accounts table by id.
//
//   steward_rights_bench CONFIG DIR COUNT [ROUNDS]
//
// A second run on the same DIR reuses what is there and picks other people at random.
// Prints each median and 95th percentile in milliseconds, the ratio to the reference, and whether
// it meets the aim (under 100 ms); then the fill's rate and the peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "analytics/analytics.h"
#include "analytics/subject_data.h"
#include "app/site.h"
#include "record.h"
#include "timing.h"
#include "config/config.h"
#include "consent/records.h"
#include "crypto/crypto.h"
#include "rights/actions.h"
#include "rights/bundle.h"
#include "rights/calendar.h"
#include "rights/cases.h"
#include "rights/module.h"

using namespace steward;
using bench::Seconds;
using bench::Time;
using bench::Timing;

namespace {

int Fail(const std::string& what, const Error& e) {
  std::fprintf(stderr, "steward_rights_bench: %s: %s\n", what.c_str(), e.message.c_str());
  return 1;
}

// Person `i`'s made-up identifiers: the same in every run. Person i has an account when i is even;
// a consent record when i % 4 is 0 or 1; a visitor cookie when i % 4 is 0 or 3. So every fourth
// person (i % 4 == 0) is in every module, and those are the ones timed.
std::string Email(int64_t i) { return "person" + std::to_string(i) + "@example.org"; }
std::string Hex32(int64_t i, uint64_t salt) {
  std::mt19937_64 rng(static_cast<uint64_t>(i) * 1000003 + salt);
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return out;
}
std::string ConsentId(int64_t i) { return Hex32(i, 11); }
std::string VisitorId(int64_t i) { return Hex32(i, 29); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: steward_rights_bench CONFIG DIR COUNT [ROUNDS]\n");
    return 2;
  }
  auto config = config::Load(argv[1]);
  if (!config.ok()) return Fail("the site file", config.error());
  std::string dir = argv[2];
  config->storage.data_dir = dir;
  config->storage.secret_key_file = dir + "/secret.key";
  int64_t count = std::atoll(argv[3]);
  int rounds = argc > 4 ? std::atoi(argv[4]) : 50;
  auto site = app::CommandSite::Open(*config, /*make=*/true);
  if (!site.ok()) return Fail("the site", site.error());
  store::Store& store = (*site)->store();
  const crypto::SecretKey& key = (*site)->key();
  const processing::Register& reg = (*site)->reg();

  auto account_settings = accounts::ReadSettings(*config->document, reg);
  if (!account_settings.ok() || !*account_settings)
    return Fail("[accounts]", MakeError(ErrorCode::kInvalidArgument, "none"));
  accounts::Accounts accounts(
      store, (*site)->trail(), key, SystemClock::Instance(), std::move(**account_settings), nullptr, std::nullopt,
      [] { return std::string("https://example.gov.uk"); }, "Bench");
  const accounts::Field* name = accounts.NameField();
  const accounts::Field* birth = accounts.BirthField();
  if (name == nullptr || birth == nullptr) {
    return Fail("[accounts]", MakeError(ErrorCode::kInvalidArgument, "no name or date of birth"));
  }
  auto rights_settings = rights::ReadSettings(*config, reg);
  if (!rights_settings.ok() || !*rights_settings)
    return Fail("[rights]", MakeError(ErrorCode::kInvalidArgument, "none"));
  auto holidays = rights::BankHolidays::Load((*rights_settings)->bank_holidays);
  if (!holidays.ok()) return Fail("bank holidays", holidays.error());
  rights::Cases cases(store, (*site)->trail(), key, SystemClock::Instance(), **rights_settings, *holidays);
  consent::Records consents(store, SystemClock::Instance(), key);
  auto analytics_settings = analytics::ReadSettings(*config->document, reg);
  if (!analytics_settings.ok() || !*analytics_settings || (*analytics_settings)->domains.empty()) {
    return Fail("[analytics]", MakeError(ErrorCode::kInvalidArgument, "none"));
  }
  std::string domain = (*analytics_settings)->domains.front();
  auto visitor_key = [&] {
    auto k = key.DeriveKey("anavisit");
    return std::string(reinterpret_cast<const char*>(k.data()), k.size());
  }();

  // ---- The fill ----------------------------------------------------------------------------------
  // How far an earlier run filled, kept beside the database.
  const std::string progress = dir + "/filled";
  int64_t have = 0;
  if (std::FILE* f = std::fopen(progress.c_str(), "r")) {
    long long n = 0;
    if (std::fscanf(f, "%lld", &n) == 1) have = n;
    std::fclose(f);
  }
  auto start = std::chrono::steady_clock::now();
  const int64_t batch = 2000;
  int64_t today = rights::UkDay(SystemClock::Instance().Now());
  int64_t now_ms = UnixMillis(SystemClock::Instance().Now());
  for (int64_t done = have; done < count; done += batch) {
    int64_t end = std::min(count, done + batch);
    // Privacy: made-up people in every dataset of the example's register, as each module keeps them.
    Status s = store.Write([&](store::Connection& c) -> Status {
      for (int64_t i = done; i < end; ++i) {
        if (i % 2 == 0) {
          STEWARD_ASSIGN_OR_RETURN(
              bool added,
              accounts.Import(c, Email(i), {{name->id, "Person " + std::to_string(i)}, {birth->id, "1990-05-17"}},
                              "the previous system"));
          (void)added;
        }
        if (i % 4 == 0 || i % 4 == 3) {
          int64_t visitor = analytics::AnalyticsSubjects::VisitorHash(domain, VisitorId(i), visitor_key);
          for (int e = 0; e < 4; ++e) {
            STEWARD_RETURN_IF_ERROR(
                c.Exec("INSERT INTO analytics_events (ts, site, name, hostname, path, visitor, visit, identified) "
                       "VALUES (?, ?, 'pageview', ?, ?, ?, ?, 1)",
                       {now_ms - (i % 86400) * 1000 - e, domain, domain, "/careers/" + std::to_string(e), visitor,
                        visitor + e}));
          }
        }
        if (i % 100 == 0) {
          STEWARD_ASSIGN_OR_RETURN(auto opened, cases.OpenIn(c,
                                                             {.rights = {rights::Right::kAccess},
                                                              .channel = "email",
                                                              .received = today,
                                                              .email = Email(i),
                                                              .details = "Everything you hold"},
                                                             {.id = "cli"}));
          (void)opened;
        }
      }
      return Ok();
    });
    if (!s.ok()) return Fail("filling", s.error());
    // Consent records go through their own writes, as the banner records them.
    for (int64_t i = done; i < end; ++i) {
      if (i % 4 != 0 && i % 4 != 1) continue;
      Status recorded = consents.Record({.consent_id = ConsentId(i),
                                         .notice_version = "1",
                                         .consent_version = "1",
                                         .choices = {{"usage", i % 3 != 0}},
                                         .method = consent::Method::kBanner});
      if (!recorded.ok()) return Fail("recording consent", recorded.error());
    }
    if (std::FILE* f = std::fopen(progress.c_str(), "w")) {
      std::fprintf(f, "%lld\n", static_cast<long long>(end));
      std::fclose(f);
    }
    if ((end / batch) % 50 == 0) std::fprintf(stderr, "filled %lld\n", static_cast<long long>(end));
  }
  double filled_s = Seconds(start);
  int64_t filled = std::max<int64_t>(0, count - have);

  // ---- The reads and the erasures ----------------------------------------------------------------
  subject::Directory* directory = (*site)->Directory();
  if (directory == nullptr) return Fail("the directory", MakeError(ErrorCode::kInternal, "none"));
  // People in every module not erased by an earlier run: i % 4 == 0, picked at random.
  std::mt19937_64 pick(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
  std::vector<int64_t> chosen;
  for (int r = 0; r < rounds; ++r)
    chosen.push_back(static_cast<int64_t>(pick() % static_cast<uint64_t>(count / 4)) * 4);
  auto keys_of = [](int64_t i) {
    return std::vector<subject::Key>{*subject::Key::Make(subject::KeyKind::kEmail, Email(i)),
                                     *subject::Key::Make(subject::KeyKind::kConsentId, ConsentId(i)),
                                     *subject::Key::Make(subject::KeyKind::kVisitorId, VisitorId(i))};
  };
  bool ok = true;
  Timing reference = Time(
      rounds,
      [&](int r) {
        Status s = store.Read([&](store::Connection& c) -> Status {
          STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id, subject_id, state FROM accounts WHERE id = ?",
                                                      {chosen[static_cast<size_t>(r)] / 2 + 1}));
          return Ok();
        });
        return s.ok();
      },
      &ok);
  std::vector<int64_t> found_counts(static_cast<size_t>(rounds));
  Timing find = Time(
      rounds,
      [&](int r) {
        auto survey = rights::SurveyKeys(*directory, keys_of(chosen[static_cast<size_t>(r)]));
        if (!survey.ok()) return false;
        found_counts[static_cast<size_t>(r)] = survey->total;
        return true;
      },
      &ok);
  // Where the search's time goes: each module's Find over the person's identifiers it searches by.
  std::vector<std::pair<std::string, Timing>> by_module;
  for (const auto& [module, data] : directory->modules()) {
    auto kinds = data->Kinds();
    by_module.emplace_back(module, Time(
                                       rounds,
                                       [&](int r) {
                                         for (const auto& k : keys_of(chosen[static_cast<size_t>(r)])) {
                                           if (std::find(kinds.begin(), kinds.end(), k.kind()) == kinds.end()) continue;
                                           if (!data->Find(k).ok()) return false;
                                         }
                                         return true;
                                       },
                                       &ok));
  }
  size_t bytes = 0;
  Timing exported = Time(
      rounds,
      [&](int r) {
        int64_t i = chosen[static_cast<size_t>(r)];
        rights::Case c;
        c.id = i + 1;
        c.reference = rights::Cases::Reference(c.id);
        c.rights = {rights::Right::kAccess};
        c.received = today;
        c.email = Email(i);
        c.identifiers = keys_of(i);
        auto records = rights::Collect(*directory, c);
        if (!records.ok()) return false;
        auto zip =
            rights::MakeBundle({.request = c, .reg = reg, .site_name = "Bench", .records = *records, .today = today});
        if (!zip.ok()) return false;
        bytes += zip->size();
        return true;
      },
      &ok);
  int64_t erased_records = 0;
  Timing erase = Time(
      rounds,
      [&](int r) {
        for (const auto& k : keys_of(chosen[static_cast<size_t>(r)])) {
          auto erased = directory->Erase(k, {.actor = "cli", .reference = "bench"});
          if (!erased.ok()) return false;
          for (const auto& e : *erased) erased_records += e.erased + e.anonymised;
        }
        return true;
      },
      &ok);

  int64_t held = 0;
  for (int64_t n : found_counts) held += n;
  std::printf("%lld people across accounts, consent, analytics and rights; %d people in every module each\n",
              static_cast<long long>(count), rounds);
  std::printf("reference (one indexed read of an account by id): median %.3f ms, p95 %.3f ms\n", reference.median_ms,
              reference.p95_ms);
  bench::Record("reference: one read by id, median", reference.median_ms, "ms", bench::kLower);
  auto line = [&](const char* what, const char* figure, const Timing& t) {
    std::printf("%-38s median %.2f ms, p95 %.2f ms, %.0fx the reference: %s\n", what, t.median_ms, t.p95_ms,
                t.median_ms / reference.median_ms,
                t.median_ms < 100.0 ? "under the 100 ms aim" : "OVER the 100 ms aim");
    bench::Record(std::string(figure) + ", median", t.median_ms, "ms", bench::kLower, "< 100");
  };
  line("search one person in every module:", "search one person", find);
  line("export them (records and the zip):", "export them", exported);
  line("erase them in every module:", "erase them", erase);
  std::printf("the search by module (median ms):");
  for (const auto& [module, t] : by_module) std::printf(" %s %.2f", module.c_str(), t.median_ms);
  std::printf("\n");
  std::printf("found %.1f records a person; the zip %.1f KiB a person; erased %.1f records a person\n",
              static_cast<double>(held) / rounds, static_cast<double>(bytes) / rounds / 1024.0,
              static_cast<double>(erased_records) / rounds);
  if (filled > 0) {
    std::printf("filled %lld people in %.1f s (%.0f people/s)\n", static_cast<long long>(filled), filled_s,
                static_cast<double>(filled) / filled_s);
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS %ld KiB\n", usage.ru_maxrss);
  bench::Record("peak RSS", static_cast<double>(usage.ru_maxrss), "KiB", bench::kLower);
  if (!ok) {
    std::fprintf(stderr, "steward_rights_bench: a search, export or erasure failed\n");
    return 1;
  }
  return 0;
}
