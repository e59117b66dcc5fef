// When a rights request must be answered (UK GDPR Article 12(3) as amended by the Data (Use and
// Access) Act 2025, and the ICO's guidance on time limits).
//
// Day 1 is the day the request arrives, whatever day that is. The answer is due on the
// corresponding day of the next month, or the last day of that month when it has no such day
// (31 January gives 28 or 29 February); a due date on a weekend or a bank holiday of the site's
// nation moves to the next working day. When identity must be proved (or a fee is due for a further
// copy) the month starts on the day the proof arrives. While Steward waits for a clarification it
// needs, the clock stands still, and the days it stood still are added. An extension for a complex
// or numerous request makes it three months from the same start.
//
// Bank holidays come from a file in GOV.UK's own format (https://www.gov.uk/bank-holidays.json,
// one list of events per division): Steward ships one in web/data/, and a site can name a newer
// download in [rights] bank_holidays. The years it covers are those every division lists.
//
//   auto holidays = rights::BankHolidays::Load("web/data/bank-holidays.json");
//   auto due = rights::DueDate({.received = *ParseDay("2026-01-31")}, rights::Nation::kEnglandAndWales, *holidays);
//   DayText(due->day);   // "2026-03-02": 28 February 2026 is a Saturday
//
// Thread safety: BankHolidays is immutable once loaded; the functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace steward::rights {

// The UK's three sets of bank holidays, as GOV.UK names its divisions.
enum class Nation { kEnglandAndWales, kScotland, kNorthernIreland };
std::string_view NationName(Nation nation);   // "england-and-wales", "scotland", "northern-ireland"
std::string_view NationTitle(Nation nation);  // "England and Wales", ...
std::optional<Nation> ParseNation(std::string_view name);

class BankHolidays {
 public:
  // Reads a file in GOV.UK's format. Errors: kNotFound or kIo for the file; kInvalidArgument
  // naming the file with the line of a syntax error, or the place of a wrong value
  // ("scotland.events[3].date"), or a division missing.
  static Result<BankHolidays> Load(const std::string& path);
  static Result<BankHolidays> Parse(std::string_view text, const std::string& path);

  bool IsHoliday(Nation nation, int64_t day) const;
  // The holiday's title ("Christmas Day"), or "" when `day` is none.
  std::string Title(Nation nation, int64_t day) const;
  // The days of every division's events: the first and last year all of them list.
  int first_year() const { return first_year_; }
  int last_year() const { return last_year_; }
  // True iff `day` is in a year the file covers.
  bool Covers(int64_t day) const;
  // The last day covered (31 December of last_year), as days since 1970-01-01.
  int64_t LastDay() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::map<Nation, std::map<int64_t, std::string>> days_;
  int first_year_ = 0, last_year_ = 0;
};

// A day and a number of months later: the corresponding day, or the last day of that month.
int64_t AddMonths(int64_t day, int months);
// `day` or the next day that is neither a weekend nor a bank holiday of `nation`.
int64_t NextWorkingDay(int64_t day, Nation nation, const BankHolidays& holidays);
// The day in the UK (Europe/London: GMT, or BST from 01:00 UTC on the last Sunday of March to
// 01:00 UTC on the last Sunday of October) at `t`, as days since 1970-01-01.
int64_t UkDay(SystemTime t);

// The clock stood still from `from` (the day the clarification was asked for) until `to` (the day
// it arrived; none: still waiting, the clock stands until today).
struct Pause {
  int64_t from = 0;
  std::optional<int64_t> to;
};

struct DueInput {
  int64_t received = 0;  // the day the request arrived (day 1)
  // The day proof of identity (or a fee) arrived, when one was needed: the month starts then.
  std::optional<int64_t> proof_received;
  std::vector<Pause> pauses;
  bool extended = false;  // two further months (complex or numerous requests)
  int64_t today = 0;      // for a pause still open; 0: open pauses count no days
};

struct Due {
  int64_t day = 0;          // the due date: a working day of the nation
  int64_t start = 0;        // the day the month counts from
  int64_t calendar = 0;     // the corresponding day before moving off a weekend or holiday
  int64_t paused_days = 0;  // days the clock stood still, added
  bool waiting = false;     // a pause is open: the date moves on each day it stays open
  // The date moved off a weekend or bank holiday: why ("Saturday", "Christmas Day").
  std::string moved_because;
  // The date is past the years the bank-holiday file covers: only weekends were skipped.
  bool beyond_holidays = false;
};

// Errors: kInvalidArgument for proof before the request, a pause that starts before the month's
// start or ends before it starts, or overlapping pauses (each says which).
Result<Due> DueDate(const DueInput& input, Nation nation, const BankHolidays& holidays);

// The last day an extension can be told to the person: the first month's due date.
Result<int64_t> ExtensionDeadline(const DueInput& input, Nation nation, const BankHolidays& holidays);

}  // namespace steward::rights
