#include "rights/calendar.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/days.h"

namespace steward::rights {
namespace chr = std::chrono;

namespace {

constexpr Nation kNations[] = {Nation::kEnglandAndWales, Nation::kScotland, Nation::kNorthernIreland};

chr::year_month_day Ymd(int64_t day) { return chr::year_month_day{chr::sys_days(chr::days(day))}; }
int64_t DayOf(chr::year_month_day ymd) { return chr::sys_days(ymd).time_since_epoch().count(); }
int YearOf(int64_t day) { return static_cast<int>(Ymd(day).year()); }

// 0 Monday ... 6 Sunday.
unsigned Weekday(int64_t day) { return chr::weekday(chr::sys_days(chr::days(day))).iso_encoding() - 1; }

const char* kWeekdayNames[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

}  // namespace

std::string_view NationName(Nation nation) {
  switch (nation) {
    case Nation::kEnglandAndWales:
      return "england-and-wales";
    case Nation::kScotland:
      return "scotland";
    case Nation::kNorthernIreland:
      return "northern-ireland";
  }
  return "england-and-wales";
}

std::string_view NationTitle(Nation nation) {
  switch (nation) {
    case Nation::kEnglandAndWales:
      return "England and Wales";
    case Nation::kScotland:
      return "Scotland";
    case Nation::kNorthernIreland:
      return "Northern Ireland";
  }
  return "England and Wales";
}

std::optional<Nation> ParseNation(std::string_view name) {
  for (Nation n : kNations) {
    if (NationName(n) == name) return n;
  }
  return std::nullopt;
}

Result<BankHolidays> BankHolidays::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound,
                     path +
                         ": cannot read the bank holidays (GOV.UK's bank-holidays.json; Steward ships one in "
                         "web/data/)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return MakeError(ErrorCode::kIo, path + ": cannot read the bank holidays");
  return Parse(text.str(), path);
}

Result<BankHolidays> BankHolidays::Parse(std::string_view text, const std::string& path) {
  auto bad = [&](const std::string& where, const std::string& what) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": " + where + ": " + what);
  };
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Find the line: parse again with exceptions for the byte the parser stopped at.
    size_t byte = text.size();
    try {
      nlohmann::json ignored = nlohmann::json::parse(text);
      (void)ignored;
    } catch (const nlohmann::json::parse_error& e) {
      byte = std::min(e.byte, text.size());
    }
    int64_t line =
        1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte > 0 ? byte - 1 : 0), '\n');
    return MakeError(ErrorCode::kInvalidArgument,
                     path + ":" + std::to_string(line) + ": not JSON in GOV.UK's bank-holidays.json format");
  }
  if (!doc.is_object()) return bad("the file", "must be an object of divisions, as GOV.UK's bank-holidays.json");
  BankHolidays out;
  out.path_ = path;
  int first = 0, last = 0;
  for (Nation n : kNations) {
    std::string name(NationName(n));
    auto division = doc.find(name);
    if (division == doc.end() || !division->is_object()) {
      return bad(name, "missing: the file must list every division (england-and-wales, scotland, northern-ireland)");
    }
    auto events = division->find("events");
    if (events == division->end() || !events->is_array() || events->empty()) {
      return bad(name + ".events", "must be a list of {\"title\", \"date\"}");
    }
    int lo = 99999, hi = 0;
    auto& days = out.days_[n];
    for (size_t i = 0; i < events->size(); ++i) {
      const auto& e = (*events)[i];
      std::string where = name + ".events[" + std::to_string(i) + "]";
      if (!e.is_object()) return bad(where, "must be {\"title\", \"date\"}");
      auto date = e.find("date");
      auto title = e.find("title");
      if (date == e.end() || !date->is_string()) return bad(where + ".date", "must be a date YYYY-MM-DD");
      auto day = ParseDay(date->get<std::string>());
      if (!day) return bad(where + ".date", "must be a date YYYY-MM-DD");
      days[*day] = title != e.end() && title->is_string() ? title->get<std::string>() : "Bank holiday";
      lo = std::min(lo, YearOf(*day));
      hi = std::max(hi, YearOf(*day));
    }
    first = first == 0 ? lo : std::max(first, lo);
    last = last == 0 ? hi : std::min(last, hi);
  }
  if (first > last) return bad("the file", "the divisions share no year");
  out.first_year_ = first;
  out.last_year_ = last;
  return out;
}

bool BankHolidays::IsHoliday(Nation nation, int64_t day) const {
  auto it = days_.find(nation);
  return it != days_.end() && it->second.count(day) > 0;
}

std::string BankHolidays::Title(Nation nation, int64_t day) const {
  auto it = days_.find(nation);
  if (it == days_.end()) return "";
  auto d = it->second.find(day);
  return d == it->second.end() ? "" : d->second;
}

bool BankHolidays::Covers(int64_t day) const {
  int y = YearOf(day);
  return y >= first_year_ && y <= last_year_;
}

int64_t BankHolidays::LastDay() const { return DayOf(chr::year(last_year_) / chr::December / chr::day(31)); }

int64_t AddMonths(int64_t day, int months) {
  chr::year_month_day ymd = Ymd(day);
  chr::year_month target = chr::year_month(ymd.year(), ymd.month()) + chr::months(months);
  chr::year_month_day_last last(target.year(), chr::month_day_last(target.month()));
  chr::day d = std::min(ymd.day(), last.day());
  return DayOf(target.year() / target.month() / d);
}

int64_t NextWorkingDay(int64_t day, Nation nation, const BankHolidays& holidays) {
  while (Weekday(day) >= 5 || holidays.IsHoliday(nation, day)) ++day;
  return day;
}

int64_t UkDay(SystemTime t) {
  auto day = chr::floor<chr::days>(t);
  int64_t d = day.time_since_epoch().count();
  // British Summer Time: from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
  // Sunday of October, an hour ahead.
  chr::year y = Ymd(d).year();
  auto last_sunday = [&](chr::month m) {
    return chr::sys_days(chr::year_month_weekday_last(y, m, chr::weekday_last(chr::Sunday)));
  };
  auto begins = last_sunday(chr::March) + chr::hours(1);
  auto ends = last_sunday(chr::October) + chr::hours(1);
  if (t >= begins && t < ends) t += chr::hours(1);
  return chr::floor<chr::days>(t).time_since_epoch().count();
}

Result<Due> DueDate(const DueInput& input, Nation nation, const BankHolidays& holidays) {
  Due due;
  due.start = input.received;
  if (input.proof_received) {
    if (*input.proof_received < input.received) {
      return MakeError(ErrorCode::kInvalidArgument, "proof of identity cannot arrive before the request");
    }
    due.start = *input.proof_received;
  }
  std::vector<Pause> pauses = input.pauses;
  std::sort(pauses.begin(), pauses.end(), [](const Pause& a, const Pause& b) { return a.from < b.from; });
  int64_t previous_end = due.start;
  for (size_t i = 0; i < pauses.size(); ++i) {
    const Pause& p = pauses[i];
    std::string which = "the pause from " + DayText(p.from);
    if (p.from < due.start) {
      return MakeError(ErrorCode::kInvalidArgument,
                       which + " starts before the clock does (" + DayText(due.start) + ")");
    }
    if (p.from < previous_end && i > 0) {
      return MakeError(ErrorCode::kInvalidArgument, which + " overlaps the one before it");
    }
    int64_t end = p.to ? *p.to : std::max(p.from, input.today);
    if (p.to && *p.to < p.from) return MakeError(ErrorCode::kInvalidArgument, which + " ends before it starts");
    if (!p.to) {
      if (i + 1 != pauses.size()) {
        return MakeError(ErrorCode::kInvalidArgument, which + " is still open, but another follows it");
      }
      due.waiting = true;
    }
    due.paused_days += end - p.from;
    previous_end = end;
  }
  due.calendar = AddMonths(due.start, input.extended ? 3 : 1) + due.paused_days;
  due.day = NextWorkingDay(due.calendar, nation, holidays);
  if (due.day != due.calendar) {
    std::string title = holidays.Title(nation, due.calendar);
    due.moved_because = title.empty() ? kWeekdayNames[Weekday(due.calendar)] : title;
  }
  due.beyond_holidays = !holidays.Covers(due.day) || !holidays.Covers(due.calendar);
  return due;
}

Result<int64_t> ExtensionDeadline(const DueInput& input, Nation nation, const BankHolidays& holidays) {
  DueInput first = input;
  first.extended = false;
  STEWARD_ASSIGN_OR_RETURN(Due due, DueDate(first, nation, holidays));
  return due.day;
}

}  // namespace steward::rights
