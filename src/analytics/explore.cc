#include "analytics/explore.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "analytics/stats.h"
#include "store/pattern.h"

namespace steward::analytics {
namespace {

bool IsTimeName(const std::string& name) { return name == "time" || name.starts_with("time:"); }

// The first day of each month the range touches, and the day after the range.
std::vector<int64_t> MonthStarts(const DayRange& days) {
  using namespace std::chrono;
  std::vector<int64_t> out;
  year_month_day first{sys_days{std::chrono::days{days.from}}};
  year_month month = first.year() / first.month();
  for (;;) {
    int64_t start = sys_days{month / 1}.time_since_epoch().count();
    if (start >= days.to) break;
    out.push_back(start);
    month += months{1};
  }
  return out;
}

std::string HourLabel(int64_t hour) {
  char hh[8];
  std::snprintf(hh, sizeof hh, "%02d", static_cast<int>(hour % 24));
  return DayText(hour / 24) + " " + hh + ":00:00";
}

// What the groups give, each a sum over them.
enum Column {
  kVisitors,
  kVisits,
  kPageviews,
  kEvents,
  kDuration,
  kBounces,
  kEngagedMs,
  kEngagedN,
  kScrollSum,
  kScrollN
};
constexpr int kColumns = 10;

struct Group {
  std::vector<std::string> dimensions;
  double v[kColumns] = {};
};

// The columns every event is read with, before those the dimensions and filters name.
enum Fixed { kVisitor, kVisit, kTs, kId, kName, kInteractive, kEngaged, kScroll, kFixedColumns };
constexpr const char* kFixedSql = "visitor, visit, ts, id, name, interactive, engaged_ms, scroll_depth";

enum class Kind { kPageview, kEngagement, kOther };

// One event of the visit being counted: what the fixed columns say, and the named columns' text.
struct Event {
  int64_t ts = 0;
  Kind kind = Kind::kOther;
  bool interactive = false;
  std::optional<int64_t> engaged_ms, scroll_depth;
  std::string name;
  std::vector<std::string> columns;  // as Reader::columns_ names them
  std::vector<std::string> props;    // a property dimension's value, by term
};

// A dimension (or a filter's) as the reader gives it: a column of the event or its visit, a
// custom property of the event, or the event's time bucket.
struct Term {
  std::string name;
  const EventDimension* dimension = nullptr;  // null: a property or a time
  std::string property;                       // event:props:KEY's key
  TimeBucket bucket = TimeBucket::kNone;
  int column = -1;  // in Event::columns
  int prop = -1;    // in Event::props
};

// A filter, ready to test an event with: its values lowered where it ignores case, its patterns
// compiled.
struct Test {
  QueryFilter::Op op = QueryFilter::Op::kIs;
  int term = -1;
  bool case_sensitive = true;
  std::vector<std::string> values;
  std::vector<store::Pattern> patterns;
  std::vector<Test> children;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// A property's value as text: a string as it is; a number, true or false as SQLite's
// json_extract gives them; "(none)" for no property (or props that are not an object).
std::string PropertyText(const std::string& props, const std::string& key) {
  static const std::string kNone = "(none)";
  if (props.empty()) return kNone;
  auto j = nlohmann::json::parse(props, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return kNone;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return kNone;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "1" : "0";
  return it->dump();
}

// A text column's value where it lies (each column read here is text; anything else is read as
// the text it gives).
std::string_view TextOf(const store::Row& row, size_t column, std::string& scratch) {
  if (const auto* text = std::get_if<std::string>(&row.at(column))) return *text;
  scratch = row.Text(column);
  return scratch;
}

class Reader {
 public:
  explicit Reader(const QueryRequest& r) : r_(r), month_starts_(MonthStarts(r.days)) {
    for (const auto& d : r.dimensions) dims_.push_back(TermFor(d));
    for (const auto& f : r.filters) filters_.push_back(TestFor(f));
  }

  // Errors: a pattern PCRE2 does not take (ReadQuery checked them, so none reach here).
  Status status() const { return status_; }

  std::string Sql() const {
    std::string sql = std::string("SELECT ") + kFixedSql;
    for (const auto& c : columns_) sql += ", " + c;
    // A visitor's visits one after another, each visit's events in the order they came.
    sql += " FROM analytics_events WHERE site = ? AND ts >= ? AND ts < ? ORDER BY visitor, visit, ts, id";
    return sql;
  }

  // Each event in the query's order. False: more groups than an answer may have (stop reading).
  bool Add(const store::Row& row) {
    int64_t visitor = row.Int(kVisitor), visit = row.Int(kVisit);
    if (started_ && (visit != visit_ || visitor != visitor_)) EndVisit();
    if (started_ && visitor != visitor_) EndVisitor();
    started_ = true;
    visitor_ = visitor, visit_ = visit;
    Event& e = NextEvent();
    e.ts = row.Int(kTs);
    e.name.assign(TextOf(row, kName, scratch_));
    e.kind = e.name == "pageview" ? Kind::kPageview : e.name == "engagement" ? Kind::kEngagement : Kind::kOther;
    e.interactive = row.Int(kInteractive) != 0;
    e.engaged_ms = row.IsNull(kEngaged) ? std::nullopt : std::optional<int64_t>(row.Int(kEngaged));
    e.scroll_depth = row.IsNull(kScroll) ? std::nullopt : std::optional<int64_t>(row.Int(kScroll));
    e.columns.resize(columns_.size());
    for (size_t i = 0; i < columns_.size(); ++i) e.columns[i].assign(TextOf(row, kFixedColumns + i, scratch_));
    return groups_.size() <= kMaxExploreGroups;
  }

  // The groups, once every event is read; a request without dimensions has its one group always.
  std::vector<Group> Finish() {
    if (used_ > 0) EndVisit();
    EndVisitor();
    if (dims_.empty() && groups_.empty()) {
      groups_.emplace(std::string(), 0);
      out_.emplace_back();
    }
    return std::move(out_);
  }

  // The visitors with an event the filters keep, whatever the dimensions: percentage's whole.
  int64_t total_visitors() const { return total_visitors_; }

 private:
  struct Visit {
    const Event* entry = nullptr;         // the first pageview
    const Event* exit = nullptr;          // the last
    std::vector<std::string_view> least;  // by column, for the dimensions From::kLeast
    int64_t duration = 0;
    bool bounce = false;
  };

  int ColumnFor(const std::string& column) {
    auto it = std::find(columns_.begin(), columns_.end(), column);
    if (it != columns_.end()) return static_cast<int>(it - columns_.begin());
    columns_.push_back(column);
    return static_cast<int>(columns_.size() - 1);
  }

  int TermFor(const std::string& name) {
    for (size_t i = 0; i < terms_.size(); ++i) {
      if (terms_[i].name == name) return static_cast<int>(i);
    }
    Term t;
    t.name = name;
    if (IsTimeName(name)) {
      t.bucket = TimeBucketOf(name, r_.days);
    } else if ((t.dimension = FindEventDimension(name)) != nullptr) {
      t.column = ColumnFor(t.dimension->column);
    } else {
      t.property = std::string(PropertyKey(name));
      t.column = ColumnFor("props");
      t.prop = props_++;
    }
    terms_.push_back(std::move(t));
    return static_cast<int>(terms_.size() - 1);
  }

  Test TestFor(const QueryFilter& f) {
    Test t;
    t.op = f.op;
    t.case_sensitive = f.case_sensitive;
    for (const auto& c : f.children) t.children.push_back(TestFor(c));
    if (f.children.empty()) t.term = TermFor(f.dimension);
    for (const auto& v : f.values) {
      if (f.op == QueryFilter::Op::kMatches || f.op == QueryFilter::Op::kMatchesNot) {
        auto p = store::Pattern::Compile(v, f.case_sensitive);
        if (!p.ok()) {
          status_ = p.error();
          continue;
        }
        t.patterns.push_back(std::move(*p));
      } else {
        t.values.push_back(f.case_sensitive ? v : Lower(v));
      }
    }
    return t;
  }

  Event& NextEvent() {
    if (used_ == events_.size()) events_.emplace_back();
    return events_[used_++];
  }

  // A term's value for an event of the visit (not a time's).
  std::string_view Value(const Term& t, const Event& e, const Visit& v) const {
    if (t.dimension == nullptr) return e.props[static_cast<size_t>(t.prop)];
    std::string_view value;
    switch (t.dimension->from) {
      case EventDimension::From::kEvent:
        value = e.columns[static_cast<size_t>(t.column)];
        break;
      case EventDimension::From::kEntry:
        value = v.entry->columns[static_cast<size_t>(t.column)];
        break;
      case EventDimension::From::kExit:
        value = v.exit->columns[static_cast<size_t>(t.column)];
        break;
      case EventDimension::From::kLeast:
        value = v.least[static_cast<size_t>(t.column)];
        break;
    }
    if (value.empty() && t.dimension->empty_as != nullptr) return t.dimension->empty_as;
    return value;
  }

  bool Passes(const Test& t, const Event& e, const Visit& v) const {
    using Op = QueryFilter::Op;
    switch (t.op) {
      case Op::kAnd:
        return std::all_of(t.children.begin(), t.children.end(), [&](const Test& c) { return Passes(c, e, v); });
      case Op::kOr:
        return std::any_of(t.children.begin(), t.children.end(), [&](const Test& c) { return Passes(c, e, v); });
      case Op::kNot:
        return !Passes(t.children.front(), e, v);
      default:
        break;
    }
    std::string_view value = Value(terms_[static_cast<size_t>(t.term)], e, v);
    std::string lowered;
    if (!t.case_sensitive && t.op != Op::kMatches && t.op != Op::kMatchesNot) {
      lowered = Lower(value);
      value = lowered;
    }
    bool any = false;
    switch (t.op) {
      case Op::kIs:
      case Op::kIsNot:
        any = std::any_of(t.values.begin(), t.values.end(), [&](const std::string& x) { return value == x; });
        return any == (t.op == Op::kIs);
      case Op::kContains:
      case Op::kContainsNot:
        any = std::any_of(t.values.begin(), t.values.end(),
                          [&](const std::string& x) { return value.find(x) != std::string_view::npos; });
        return any == (t.op == Op::kContains);
      default:
        any = std::any_of(t.patterns.begin(), t.patterns.end(),
                          [&](const store::Pattern& p) { return p.Matches(value); });
        return any == (t.op == Op::kMatches);
    }
  }

  // Whether a group by the dimension counts the event.
  bool Counts(const Term& t, const Event& e, const Visit& v) const {
    if (t.bucket != TimeBucket::kNone) return true;
    if (t.dimension == nullptr) return e.kind != Kind::kEngagement;  // a property
    switch (t.dimension->only) {
      case EventDimension::Only::kAny:
        return true;
      case EventDimension::Only::kPagesSeen:
        return e.kind != Kind::kOther;
      case EventDimension::Only::kNotEngaged:
        return e.kind != Kind::kEngagement;
      case EventDimension::Only::kGoals:
        return e.kind == Kind::kOther;
      case EventDimension::Only::kSearches:
        return e.kind == Kind::kPageview && !e.columns[static_cast<size_t>(t.column)].empty();
      case EventDimension::Only::kWithAValue:
        return !Value(t, e, v).empty();
    }
    return true;
  }

  int64_t Bucket(TimeBucket b, int64_t ts) const {
    switch (b) {
      case TimeBucket::kHour:
        return ts / 3'600'000;
      case TimeBucket::kWeek:  // weeks from Monday; 1970-01-01 was a Thursday
        return (ts / kDayMillis + 3) / 7;
      case TimeBucket::kMonth: {
        int64_t k = 0;
        while (k + 1 < static_cast<int64_t>(month_starts_.size()) &&
               ts >= month_starts_[static_cast<size_t>(k + 1)] * kDayMillis)
          ++k;
        return k;
      }
      default:
        return ts / kDayMillis;
    }
  }

  std::string Label(TimeBucket b, int64_t k) const {
    switch (b) {
      case TimeBucket::kHour:
        return HourLabel(k);
      case TimeBucket::kWeek:
        return DayText(std::max(k * 7 - 3, r_.days.from));
      case TimeBucket::kMonth:
        return DayText(month_starts_.at(static_cast<size_t>(k)));
      default:
        return DayText(k);
    }
  }

  // The visit's events are all read: what it was (its first and last pageview, how long, whether
  // it bounced), then each event the filters keep counted in its group.
  void EndVisit() {
    auto events = std::span<Event>(events_.data(), used_);
    used_ = 0;
    Visit v;
    int64_t pageviews = 0, interactions = 0;
    for (Event& e : events) {
      if (e.kind == Kind::kPageview) {
        ++pageviews;
        if (v.entry == nullptr) v.entry = &e;
        v.exit = &e;
      }
      if (e.kind == Kind::kOther && e.interactive) ++interactions;
    }
    if (v.entry == nullptr) return;  // no pageview: no visit to count
    v.duration = events.back().ts - events.front().ts;
    v.bounce = pageviews <= 1 && interactions == 0;
    v.least.resize(columns_.size());
    for (const Term& t : terms_) {
      if (t.dimension != nullptr && t.dimension->from == EventDimension::From::kLeast) {
        auto c = static_cast<size_t>(t.column);
        v.least[c] = events.front().columns[c];
        for (const Event& e : events) v.least[c] = std::min(v.least[c], std::string_view(e.columns[c]));
      }
      if (t.prop >= 0) {
        for (Event& e : events) {
          e.props.resize(static_cast<size_t>(props_));
          e.props[static_cast<size_t>(t.prop)] = PropertyText(e.columns[static_cast<size_t>(t.column)], t.property);
        }
      }
    }
    visit_groups_.clear();
    for (const Event& e : events) {
      bool kept = std::all_of(filters_.begin(), filters_.end(), [&](const Test& t) { return Passes(t, e, v); });
      if (!kept) continue;
      kept_any_ = true;
      if (!std::all_of(dims_.begin(), dims_.end(), [&](int d) { return Counts(terms_[static_cast<size_t>(d)], e, v); }))
        continue;
      key_.clear();
      for (int d : dims_) {
        const Term& t = terms_[static_cast<size_t>(d)];
        if (t.bucket != TimeBucket::kNone) {
          int64_t k = Bucket(t.bucket, e.ts);
          key_.append(reinterpret_cast<const char*>(&k), sizeof k);
        } else {
          std::string_view value = Value(t, e, v);
          auto size = static_cast<uint32_t>(value.size());
          key_.append(reinterpret_cast<const char*>(&size), sizeof size).append(value);
        }
      }
      auto [it, added] = groups_.try_emplace(key_, static_cast<uint32_t>(out_.size()));
      if (added) {
        Group g;
        for (int d : dims_) {
          const Term& t = terms_[static_cast<size_t>(d)];
          g.dimensions.push_back(t.bucket != TimeBucket::kNone ? Label(t.bucket, Bucket(t.bucket, e.ts))
                                                               : std::string(Value(t, e, v)));
        }
        out_.push_back(std::move(g));
      }
      Group& g = out_[it->second];
      if (e.kind == Kind::kPageview) ++g.v[kPageviews];
      if (e.kind != Kind::kEngagement) ++g.v[kEvents];
      if (e.kind == Kind::kEngagement && e.engaged_ms) g.v[kEngagedMs] += *e.engaged_ms, ++g.v[kEngagedN];
      if (e.kind == Kind::kEngagement && e.scroll_depth) g.v[kScrollSum] += *e.scroll_depth, ++g.v[kScrollN];
      visit_groups_.push_back(it->second);
    }
    // Each group the visit is in counts it once, with its whole length and whether it bounced.
    std::sort(visit_groups_.begin(), visit_groups_.end());
    visit_groups_.erase(std::unique(visit_groups_.begin(), visit_groups_.end()), visit_groups_.end());
    for (uint32_t g : visit_groups_) {
      out_[g].v[kVisits] += 1;
      out_[g].v[kDuration] += static_cast<double>(v.duration);
      out_[g].v[kBounces] += v.bounce ? 1 : 0;
      visitor_groups_.push_back(g);
    }
  }

  // The visitor's visits are all counted: each group they were in counts them once.
  void EndVisitor() {
    std::sort(visitor_groups_.begin(), visitor_groups_.end());
    visitor_groups_.erase(std::unique(visitor_groups_.begin(), visitor_groups_.end()), visitor_groups_.end());
    for (uint32_t g : visitor_groups_) out_[g].v[kVisitors] += 1;
    visitor_groups_.clear();
    if (kept_any_) ++total_visitors_;
    kept_any_ = false;
  }

  const QueryRequest& r_;
  std::vector<int64_t> month_starts_;
  std::vector<Term> terms_;
  std::vector<int> dims_;      // in terms_, as the request names them
  std::vector<Test> filters_;  // all must pass
  std::vector<std::string> columns_;
  int props_ = 0;
  Status status_ = Ok();

  std::vector<Event> events_;  // the visit's, reused from one visit to the next
  size_t used_ = 0;
  bool started_ = false;
  int64_t visitor_ = 0, visit_ = 0;
  bool kept_any_ = false;
  int64_t total_visitors_ = 0;
  std::vector<uint32_t> visit_groups_, visitor_groups_;
  std::string key_, scratch_;
  std::unordered_map<std::string, uint32_t> groups_;  // by the dimensions' values
  std::vector<Group> out_;
};

struct Counted {
  std::vector<Group> groups;
  int64_t total_visitors = 0;
};

// One pass over the range's events, a visitor's and then a visit's together, as Plausible counts
// them: see explore.h.
Result<Counted> Count(store::Store& store, const QueryRequest& r) {
  Reader reader(r);
  STEWARD_RETURN_IF_ERROR(reader.status());
  bool too_many = false;
  // Privacy: analytics-events, read to count; only the groups' figures leave.
  STEWARD_RETURN_IF_ERROR(store.Read([&](store::Connection& c) -> Status {
    // SQLite's readers keep temporary data in memory; this sort, of every event of the range,
    // spills to a temporary file instead, so that its memory is the page cache's, not a year of
    // events. (PostgreSQL's sort spills past work_mem by itself.)
    bool sqlite = store.backend() == store::Backend::kSqlite;
    if (sqlite) STEWARD_RETURN_IF_ERROR(c.ExecScript("PRAGMA temp_store=FILE"));
    Status read = c.ForEach(reader.Sql(), {r.site, r.query.from_ms, r.query.to_ms}, [&](const store::Row& row) {
      too_many = !reader.Add(row);
      return !too_many;
    });
    if (sqlite) {
      Status back = c.ExecScript("PRAGMA temp_store=MEMORY");
      if (read.ok()) return back;
    }
    return read;
  }));
  Counted out;
  out.groups = reader.Finish();
  out.total_visitors = reader.total_visitors();
  if (too_many || out.groups.size() > kMaxExploreGroups) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "dimensions: the answer would have more than 100,000 rows; name fewer dimensions, a shorter "
                     "date_range or a filter");
  }
  return out;
}

std::optional<double> Metric(const std::string& name, const Group& g, double total_visitors) {
  double visits = g.v[kVisits];
  auto round2 = [](double x) { return std::round(x * 100.0) / 100.0; };
  if (name == "visitors") return g.v[kVisitors];
  if (name == "visits") return visits;
  if (name == "pageviews") return g.v[kPageviews];
  if (name == "events") return g.v[kEvents];
  if (name == "views_per_visit") return visits > 0 ? round2(g.v[kPageviews] / visits) : 0.0;
  if (name == "bounce_rate") return visits > 0 ? round2(g.v[kBounces] / visits * 100.0) : 0.0;
  if (name == "visit_duration") return visits > 0 ? std::round(g.v[kDuration] / visits / 1000.0) : 0.0;
  if (name == "time_on_page") {
    if (g.v[kEngagedN] == 0) return std::nullopt;
    return std::round(g.v[kEngagedMs] / g.v[kEngagedN] / 1000.0);
  }
  if (name == "scroll_depth") {
    if (g.v[kScrollN] == 0) return std::nullopt;
    return std::round(g.v[kScrollSum] / g.v[kScrollN]);
  }
  if (name == "percentage") return total_visitors > 0 ? round2(g.v[kVisitors] / total_visitors * 100.0) : 0.0;
  return std::nullopt;
}

}  // namespace

Result<ExploreResult> Explore(store::Store& store, const QueryRequest& r) {
  STEWARD_ASSIGN_OR_RETURN(Counted counted, Count(store, r));
  const std::vector<Group>& groups = counted.groups;
  auto total_visitors = static_cast<double>(counted.total_visitors);
  ExploreResult result;
  for (const auto& g : groups) {
    ExploreRow row{g.dimensions, {}};
    for (const auto& m : r.metrics) row.metrics.push_back(Metric(m, g, total_visitors));
    result.rows.push_back(std::move(row));
  }
  // The order asked for; by default time first, then each metric in turn, most first (as the
  // dashboard orders its tables); the dimensions last, so the order is always the same.
  std::vector<std::pair<std::string, bool>> order = r.order;
  if (order.empty()) {
    for (const auto& d : r.dimensions) {
      if (IsTimeName(d)) order.emplace_back(d, false);
    }
    for (const auto& m : r.metrics) order.emplace_back(m, true);
  }
  for (const auto& d : r.dimensions) order.emplace_back(d, false);
  auto index_of = [](const std::vector<std::string>& names, const std::string& name) -> int {
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
  };
  std::stable_sort(result.rows.begin(), result.rows.end(), [&](const ExploreRow& a, const ExploreRow& b) {
    for (const auto& [name, desc] : order) {
      if (int d = index_of(r.dimensions, name); d >= 0) {
        const std::string &x = a.dimensions[static_cast<size_t>(d)], &y = b.dimensions[static_cast<size_t>(d)];
        if (x != y) return desc ? x > y : x < y;
      } else if (int m = index_of(r.metrics, name); m >= 0) {
        double x = a.metrics[static_cast<size_t>(m)].value_or(-1), y = b.metrics[static_cast<size_t>(m)].value_or(-1);
        if (x != y) return desc ? x > y : x < y;
      }
    }
    return false;
  });
  result.total_rows = static_cast<int64_t>(result.rows.size());
  size_t from = std::min(result.rows.size(), static_cast<size_t>(r.offset));
  size_t to = std::min(result.rows.size(), from + static_cast<size_t>(r.limit));
  result.rows = std::vector<ExploreRow>(result.rows.begin() + static_cast<std::ptrdiff_t>(from),
                                        result.rows.begin() + static_cast<std::ptrdiff_t>(to));
  return result;
}

std::vector<std::string> TimeLabels(TimeBucket bucket, const DayRange& days) {
  std::vector<std::string> out;
  switch (bucket) {
    case TimeBucket::kHour:
      for (int64_t h = days.from * 24; h < days.to * 24; ++h) out.push_back(HourLabel(h));
      break;
    case TimeBucket::kDay:
      for (int64_t d = days.from; d < days.to; ++d) out.push_back(DayText(d));
      break;
    case TimeBucket::kWeek:
      for (int64_t d = days.from; d < days.to; ++d) {
        if (d == days.from || (d + 3) % 7 == 0) out.push_back(DayText(d));
      }
      break;
    case TimeBucket::kMonth:
      for (int64_t start : MonthStarts(days)) out.push_back(DayText(start));
      break;
    case TimeBucket::kNone:
      break;
  }
  return out;
}

}  // namespace steward::analytics
