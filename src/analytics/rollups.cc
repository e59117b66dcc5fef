#include "analytics/rollups.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "analytics/stats.h"
#include "core/log.h"
#include "core/json_text.h"

namespace steward::analytics {
namespace {

// Keys or rows one statement takes at most; a batch goes in statements of 32, 16, ... 1, so only a
// few statement shapes are ever prepared.
constexpr size_t kMaxPerStatement = 32;

size_t Chunk(size_t remaining) {
  size_t n = kMaxPerStatement;
  while (n > remaining) n /= 2;
  return n;
}

// The day rows of `n` (dimension, key) pairs of one site and day.
const std::string& DayRowsSql(size_t n) {
  static const std::vector<std::string> kSql = [] {
    std::vector<std::string> out(kMaxPerStatement + 1);
    // A point lookup on the whole primary key for each pair, joined: each backend plans every part
    // by the key (an OR of them, or a row-value IN, leads SQLite to scan the day by period).
    const std::string one =
        "SELECT dimension, key, visitors, count, visits, pageviews, bounces, duration_ms, engaged_ms, engaged_n, "
        "scroll_sum, scroll_n FROM analytics_rollups WHERE site = ? AND dimension = ? AND span = ? AND start = ? "
        "AND key = ?";
    for (size_t k = 1; k <= kMaxPerStatement; k *= 2) {
      std::string sql;
      for (size_t i = 0; i < k; ++i) sql += (i ? " UNION ALL " : "") + one;
      out[k] = std::move(sql);
    }
    return out;
  }();
  return kSql.at(n);
}

// Writes up to kMaxPerStatement rollup rows, replacing what a row of the same key held.
const store::RowStatements& Upserts() {
  static const store::RowStatements kUpserts(
      "INSERT INTO analytics_rollups (site, span, start, dimension, key, visitors, count, visits, pageviews, "
      "bounces, duration_ms, engaged_ms, engaged_n, scroll_sum, scroll_n)",
      15, kMaxPerStatement,
      "ON CONFLICT (site, dimension, span, start, key) DO UPDATE SET visitors = excluded.visitors, "
      "count = excluded.count, visits = excluded.visits, pageviews = excluded.pageviews, "
      "bounces = excluded.bounces, duration_ms = excluded.duration_ms, engaged_ms = excluded.engaged_ms, "
      "engaged_n = excluded.engaged_n, scroll_sum = excluded.scroll_sum, scroll_n = excluded.scroll_n");
  return kUpserts;
}

constexpr int64_t kDayMs = 86'400'000;

// One visit seen in a window: where it began and what it did.
struct VisitState {
  int64_t visitor = 0;
  int64_t first_ts = 0, last_ts = 0;
  int64_t pageviews = 0, interactions = 0;
  std::string entry, exit, source;
};

std::string Known(const std::string& v) { return v.empty() ? "(not known)" : v; }

}  // namespace

void Cell::Merge(const Cell& o) {
  visitors.Merge(o.visitors);
  count += o.count;
  visits += o.visits;
  pageviews += o.pageviews;
  bounces += o.bounces;
  duration_ms += o.duration_ms;
  engaged_ms += o.engaged_ms;
  engaged_n += o.engaged_n;
  scroll_sum += o.scroll_sum;
  scroll_n += o.scroll_n;
}

std::string SegmentPrefix(std::string_view filter, std::string_view value) {
  if (value.empty() || value.size() > kMaxSegmentValue || value.find('\x1f') != std::string_view::npos) return {};
  std::string out;
  out.reserve(filter.size() + value.size() + 2);
  out.append(filter).append(1, '\x1f').append(value).append(1, '\x1f');
  return out;
}

namespace {

struct PairHash {
  size_t operator()(const std::pair<std::string, std::string>& p) const {
    size_t a = std::hash<std::string>()(p.first), b = std::hash<std::string>()(p.second);
    return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  }
};

}  // namespace

Result<Cells> Window(store::Connection& c, const std::string& site, int64_t from_ms, int64_t to_ms,
                     int64_t visits_until_ms, const std::unordered_set<int64_t>* only_visits,
                     const Segments* segments) {
  Cells cells;
  int64_t read_from = from_ms - kVisitLookbackMillis, read_to = std::max(to_ms, visits_until_ms);
  // Each visit's segments: the filter values any of its events has, as the prefixes of their rows.
  std::unordered_map<int64_t, std::vector<std::string>> visit_segments;
  // Every cell, found by a kept probe (no allocation for a cell already there), ordered at the end.
  std::unordered_map<std::pair<std::string, std::string>, Cell, PairHash> acc;
  std::pair<std::string, std::string> probe;
  auto cell_of = [&](std::string_view dimension_a, std::string_view dimension_b, const std::string& key) -> Cell& {
    probe.first.assign(dimension_a).append(dimension_b);
    probe.second.assign(key);
    auto it = acc.find(probe);
    return it != acc.end() ? it->second : acc.emplace(probe, Cell{}).first->second;
  };
  static const std::vector<std::string> kNone;
  if (segments != nullptr) {
    auto add_prefix = [](std::vector<std::string>& prefixes, std::string prefix) {
      if (!prefix.empty() && std::find(prefixes.begin(), prefixes.end(), prefix) == prefixes.end())
        prefixes.push_back(std::move(prefix));
    };
    // Privacy: analytics-events, read to aggregate; only counts and sketches leave this function.
    STEWARD_RETURN_IF_ERROR(c.ForEach(
        "SELECT visit, source, country, device, path FROM analytics_events WHERE site = ? AND ts >= ? AND ts < ?",
        {site, read_from, read_to}, [&](const store::Row& r) {
          auto& prefixes = visit_segments[r.Int(0)];
          for (size_t i = 0; i < kSegmentFilters.size(); ++i)
            add_prefix(prefixes, SegmentPrefix(kSegmentFilters[i].first, r.Text(i + 1)));
          if (!segments->pages.empty()) {
            std::string path = r.Text(4);
            if (segments->pages.contains(path)) add_prefix(prefixes, SegmentPrefix(kPageSegmentFilter, path));
          }
          return true;
        }));
  }
  std::vector<Cell*> touched;
  // The cell of (dimension, key) and, with segments, the same cell in each of the visit's segments.
  auto add = [&](const char* dimension, const std::string& key, int64_t visitor,
                 const std::vector<std::string>& prefixes) -> const std::vector<Cell*>& {
    touched.clear();
    touched.push_back(&cell_of(dimension, "", key));
    for (const auto& prefix : prefixes) touched.push_back(&cell_of(prefix, dimension, key));
    for (Cell* t : touched) {
      t->visitors.Add(visitor);
      ++t->count;
    }
    return touched;
  };
  auto prefixes_of = [&](int64_t visit) -> const std::vector<std::string>& {
    if (segments == nullptr) return kNone;
    auto it = visit_segments.find(visit);
    return it == visit_segments.end() ? kNone : it->second;
  };
  std::unordered_map<int64_t, VisitState> visits;
  // Privacy: analytics-events, read to aggregate; only counts and sketches leave this function.
  STEWARD_RETURN_IF_ERROR(c.ForEach(
      "SELECT ts, name, path, source, referrer, utm_campaign, search, visitor, visit, interactive, engaged_ms, "
      "scroll_depth, props, country, browser, os, device FROM analytics_events "
      "WHERE site = ? AND ts >= ? AND ts < ? ORDER BY ts, id",
      {site, read_from, read_to}, [&](const store::Row& r) {
        if (only_visits != nullptr && !only_visits->contains(r.Int(8))) return true;
        int64_t ts = r.Int(0);
        std::string name = r.Text(1);
        int64_t visitor = r.Int(7);
        bool pageview = name == "pageview";
        VisitState& v = visits[r.Int(8)];
        if (v.first_ts == 0) {  // the visit's first event in the window
          v.first_ts = ts;
          v.visitor = visitor;
        }
        v.last_ts = ts;
        if (pageview) {
          if (v.pageviews == 0) {
            v.entry = r.Text(2);
            v.source = r.Text(3).empty() ? "Direct / None" : r.Text(3);
          }
          v.exit = r.Text(2);
          ++v.pageviews;
        } else if (name != "engagement" && r.Int(9) != 0) {
          ++v.interactions;
        }
        if (ts < from_ms || ts >= to_ms) return true;  // outside: only for visits
        const auto& prefixes = prefixes_of(r.Int(8));
        if (pageview) {
          add("page", r.Text(2), visitor, prefixes);
          for (auto [dimension, column, only_present] : {std::tuple{"referrer", 4, true},
                                                         {"utm_campaign", 5, true},
                                                         {"search", 6, true},
                                                         {"country", 13, false},
                                                         {"browser", 14, false},
                                                         {"os", 15, false},
                                                         {"device", 16, false}}) {
            std::string value = r.Text(static_cast<size_t>(column));
            if (only_present && value.empty()) continue;
            add(dimension, only_present ? value : Known(value), visitor, prefixes);
          }
          // The daily series of a rolled range comes from the headline rows: segments need no "day".
          add("day", std::to_string(ts / kDayMs), visitor, kNone);
          std::string search = r.Text(6), props = r.Text(12);
          if (!search.empty() && !props.empty()) {
            auto j = nlohmann::json::parse(props, nullptr, false);
            if (j.is_object() && j.contains("search_results") &&
                (j["search_results"] == 0 || j["search_results"] == "0")) {
              add("search_no_results", search, visitor, prefixes);
            }
          }
        } else if (name == "engagement") {
          for (Cell* cell : add("engagement", r.Text(2), visitor, prefixes)) {
            if (!std::holds_alternative<std::monostate>(r.at(10))) {
              cell->engaged_ms += r.Int(10);
              ++cell->engaged_n;
            }
            if (!std::holds_alternative<std::monostate>(r.at(11))) {
              cell->scroll_sum += r.Int(11);
              ++cell->scroll_n;
            }
          }
        } else {
          add("event", name, visitor, prefixes);
          std::string props = r.Text(12);
          if (!props.empty()) {
            auto j = nlohmann::json::parse(props, nullptr, false);
            if (j.is_object()) {
              for (const auto& [k, value] : j.items()) {
                add("event_property",
                    name + ": " + k + " = " + (value.is_string() ? value.get<std::string>() : JsonText(value)), visitor,
                    prefixes);
              }
            }
          }
        }
        return true;
      }));
  for (const auto& [id, v] : visits) {
    if (v.first_ts < from_ms || v.first_ts >= to_ms || v.pageviews == 0) continue;
    const auto& prefixes = prefixes_of(id);
    for (size_t i = 0; i <= prefixes.size(); ++i) {
      Cell& headline = cell_of(i == 0 ? std::string_view() : prefixes[i - 1], "", "");
      headline.visitors.Add(v.visitor);
      ++headline.visits;
      headline.pageviews += v.pageviews;
      headline.bounces += v.pageviews <= 1 && v.interactions == 0;
      headline.duration_ms += v.last_ts - v.first_ts;
    }
    add("entry_page", v.entry, v.visitor, prefixes);
    add("exit_page", v.exit, v.visitor, prefixes);
    add("source", v.source, v.visitor, prefixes);
  }
  for (auto& [key, cell] : acc) cells.emplace(key, std::move(cell));
  return cells;
}

std::vector<store::Migration> RollupMigrations() {
  return {{"analytics-rollups", 1, R"sql(
    -- Privacy: analytics-rollups. Counts and visitor sketches per site, hour or day, dimension and
    -- key; a sketch holds hashes of the visitor ids, never the events.
    CREATE TABLE analytics_rollups (
      site TEXT NOT NULL,
      span INTEGER NOT NULL,       -- 3600000 (an hour) or 86400000 (a UTC day)
      start INTEGER NOT NULL,      -- ms since 1970
      dimension TEXT NOT NULL,
      key TEXT NOT NULL,
      visitors BLOB NOT NULL,
      count INTEGER NOT NULL DEFAULT 0,
      visits INTEGER NOT NULL DEFAULT 0,
      pageviews INTEGER NOT NULL DEFAULT 0,
      bounces INTEGER NOT NULL DEFAULT 0,
      duration_ms INTEGER NOT NULL DEFAULT 0,
      engaged_ms INTEGER NOT NULL DEFAULT 0,
      engaged_n INTEGER NOT NULL DEFAULT 0,
      scroll_sum INTEGER NOT NULL DEFAULT 0,
      scroll_n INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (site, dimension, span, start, key)
    ) WITHOUT ROWID;
    -- For replacing an hour when it is rolled again, and for retention.
    CREATE INDEX analytics_rollups_by_period ON analytics_rollups (site, span, start);
    CREATE TABLE analytics_rollup_state (site TEXT PRIMARY KEY, rolled_to INTEGER NOT NULL);
  )sql"},
          // Segments: the rows of each filter value (SegmentPrefix), kept from the first hour rolled
          // with them; days before segments_from have none, and a filtered dashboard reads their events.
          {"analytics-rollups", 2, R"sql(
    ALTER TABLE analytics_rollup_state ADD COLUMN segments_from INTEGER;
  )sql"},
          // Page segments: the pages each day keeps segments for (rollups.h), chosen at its first hour.
          // Privacy: analytics-rollups; paths only, as the rollups' keys, and purged with them.
          {"analytics-rollups", 3, R"sql(
    CREATE TABLE analytics_segment_pages (
      site TEXT NOT NULL,
      day INTEGER NOT NULL,   -- ms since 1970, the UTC day's start
      path TEXT NOT NULL,
      PRIMARY KEY (site, day, path)
    ) WITHOUT ROWID;
  )sql"}};
}

retention::ModuleStorage RollupStorage() {
  return {.module = "analytics-rollups",
          .personal_tables = {"analytics_rollups"},
          .other_tables = {"analytics_rollup_state", "analytics_segment_pages"},
          .purge = [](store::Connection& c, const processing::Dataset&, const std::string& cutoff, const std::string&,
                      bool dry_run, int64_t limit) -> Result<int64_t> {
            STEWARD_ASSIGN_OR_RETURN(int64_t ms, retention::CutoffMillis(cutoff));
            // Privacy: analytics-rollups, deleted once the period they cover is past the retention.
            if (dry_run) {
              STEWARD_ASSIGN_OR_RETURN(
                  auto rows,
                  c.Query("SELECT count(*) FROM analytics_rollups WHERE start < ? AND start + span <= ?", {ms, ms}));
              return rows.front().Int(0);
            }
            // At most `limit` rows a call (they grow with the site's pages and sources), site by site
            // and span by span, so that each batch reads the oldest periods of one by the index of
            // periods and nothing kept: a period is past once its end is, start <= cut-off - span.
            int64_t deleted = 0;
            STEWARD_ASSIGN_OR_RETURN(auto sites, retention::DistinctValues(c, "analytics_rollups", "site"));
            for (const auto& site : sites) {
              if (limit > 0 && deleted >= limit) return deleted;
              STEWARD_ASSIGN_OR_RETURN(
                  int64_t n, retention::DeleteEndedPeriods(c, "analytics_rollups", "site, dimension, span, start, key",
                                                           "site = ?", {site}, ms, limit == 0 ? 0 : limit - deleted));
              deleted += n;
            }
            if (limit > 0 && deleted >= limit) return deleted;
            // The days whose rollups are gone keep no chosen pages either: once they are, in the
            // batch that finds fewer rollups than it might delete. A few dozen paths a day.
            STEWARD_ASSIGN_OR_RETURN(auto days,
                                     c.Exec("DELETE FROM analytics_segment_pages WHERE day + ? <= ?", {kDayMs, ms}));
            (void)days;
            return deleted;
          },
          .in_use =
              [](const processing::Register& reg) {
                return std::any_of(reg.datasets.begin(), reg.datasets.end(), [](const processing::Dataset& d) {
                  return d.module == "analytics" || d.module == "analytics-rollups";
                });
              },
          // Counts per page, source, search, browser, operating system, device type and country.
          .stores = {"user.behavior.browsing", "user.behavior.search", "user.device.browser",
                     "user.device.operating_system", "user.device.type", "user.device.country"},
          .observed = true,
          .batched = true};
}

Result<int64_t> Rollups::RolledTo(const std::string& site) {
  int64_t rolled = 0;
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT rolled_to FROM analytics_rollup_state WHERE site = ?", {site}));
    if (!rows.empty()) rolled = rows.front().Int(0);
    return Ok();
  }));
  return rolled;
}

Result<int64_t> Rollups::RollDue(const std::string& site) {
  STEWARD_ASSIGN_OR_RETURN(int64_t next, RolledTo(site));
  if (next == 0) {
    // A new database, or one from before rollups: start at the first event's hour.
    STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
      STEWARD_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT min(ts) FROM analytics_events WHERE site = ?", {site}));
      if (!rows.empty() && !std::holds_alternative<std::monostate>(rows.front().at(0))) {
        next = rows.front().Int(0) / kHourMillis * kHourMillis;
      }
      return Ok();
    }));
    if (next == 0) return int64_t{0};  // nothing yet
  }
  int64_t now = UnixMillis(clock_.Now());
  int64_t rolled = 0;
  while (next + kHourMillis + kRollDelayMillis <= now) {
    if (stopping_) break;
    // The hours due in the same day, a few at a time: their day rows are merged once.
    int64_t due = (now - kRollDelayMillis - next) / kHourMillis;
    int64_t left_in_day = (next / kDayMs * kDayMs + kDayMs - next) / kHourMillis;
    int64_t hours = std::min({due, left_in_day, kHoursPerRoll});
    STEWARD_RETURN_IF_ERROR(RollHours(site, next, hours));
    next += hours * kHourMillis;
    rolled += hours;
  }
  return rolled;
}

Status Rollups::RollHours(const std::string& site, int64_t first, int64_t hours) {
  using Key = std::pair<std::string, std::string>;
  std::vector<std::vector<std::pair<Key, Cell>>> hour_rows(static_cast<size_t>(hours));  // segments have none
  Cells summed;                          // every key of the hours, for their day's rows
  std::optional<int64_t> segments_from;  // to record, when not yet
  int64_t day = first / kDayMs * kDayMs;
  Segments segments;          // the day's pages with segments
  bool choose_pages = false;  // chosen now, to record
  STEWARD_RETURN_IF_ERROR(store_.Read([&](store::Connection& c) -> Status {
    // Privacy: analytics-rollups (the pages a day keeps segments for: paths, as the rollups' keys).
    auto kept_pages = [&](int64_t of_day, const std::function<bool(const store::Row&)>& each) {
      return c.ForEach("SELECT path FROM analytics_segment_pages WHERE site = ? AND day = ?", {site, of_day}, each);
    };
    STEWARD_RETURN_IF_ERROR(kept_pages(day, [&](const store::Row& r) {
      segments.pages.insert(r.Text(0));
      return true;
    }));
    if (segments.pages.empty() && first == day) {
      // The day's first hour: its pages are the previous day's most viewed, or after a day without
      // pageviews the previous day's own. A day whose first hour was rolled without choosing
      // (before page segments, or a new site's first day) has none.
      auto keep = [&](const store::Row& r) {
        std::string page = r.Text(0);
        if (!SegmentPrefix(kPageSegmentFilter, page).empty()) segments.pages.insert(std::move(page));
        return true;
      };
      STEWARD_RETURN_IF_ERROR(
          c.ForEach("SELECT key FROM analytics_rollups WHERE site = ? AND dimension = 'page' AND span = ? AND "
                    "start = ? ORDER BY count DESC, key LIMIT ?",
                    {site, kDayMs, day - kDayMs, kSegmentPages}, keep));
      if (segments.pages.empty()) {
        STEWARD_RETURN_IF_ERROR(kept_pages(day - kDayMs, keep));
      }
      choose_pages = !segments.pages.empty();
    }
    for (int64_t i = 0; i < hours; ++i) {
      int64_t hour = first + i * kHourMillis;
      STEWARD_ASSIGN_OR_RETURN(Cells cells, Window(c, site, hour, hour + kHourMillis,
                                                   hour + kHourMillis + kRollDelayMillis, nullptr, &segments));
      for (auto& [key, cell] : cells) {
        if (key.first == "day") continue;  // the daily series comes from the headline rows
        if (key.first.find('\x1f') == std::string::npos) {
          summed[key].Merge(cell);
          hour_rows[static_cast<size_t>(i)].emplace_back(key, std::move(cell));
        } else if (auto [it, inserted] = summed.try_emplace(key, std::move(cell)); !inserted) {
          it->second.Merge(cell);
        }
      }
    }
    STEWARD_ASSIGN_OR_RETURN(auto state,
                             c.Query("SELECT segments_from FROM analytics_rollup_state WHERE site = ?", {site}));
    if (state.empty()) {
      segments_from = 0;  // the site's first hours: its segments are whole from the start
    } else if (std::holds_alternative<std::monostate>(state.front().at(0))) {
      // The first hours rolled with segments, on a database rolled before them: their day rows are
      // whole from the next day on.
      segments_from = (first + kDayMs - 1) / kDayMs * kDayMs;
    }
    return Ok();
  }));
  // Privacy: analytics-rollups (the write: the hours' rows, merged into their day's).
  return store_.Write([&](store::Connection& c) -> Status {
    std::vector<const Cells::value_type*> keyed;
    keyed.reserve(summed.size());
    for (const auto& entry : summed) keyed.push_back(&entry);
    // The day's row of each key the hours have, to merge them into: a few keys to a query, so an
    // hour costs a handful of statements (round trips, on PostgreSQL) whatever its number of keys.
    std::map<Key, Cell> days;
    for (size_t at = 0; at < keyed.size();) {
      size_t n = Chunk(keyed.size() - at);
      std::vector<store::Value> params;
      for (size_t i = at; i < at + n; ++i) {
        params.insert(params.end(), {site, keyed[i]->first.first, kDayMs, day, keyed[i]->first.second});
      }
      STEWARD_RETURN_IF_ERROR(c.ForEach(DayRowsSql(n), params, [&](const store::Row& r) {
        Cell& cell = days[{r.Text(0), r.Text(1)}];
        if (const auto* b = std::get_if<store::Blob>(&r.at(2))) {
          if (auto sketch = VisitorSketch::Parse(b->bytes)) cell.visitors = std::move(*sketch);
        }
        cell.count = r.Int(3), cell.visits = r.Int(4), cell.pageviews = r.Int(5), cell.bounces = r.Int(6);
        cell.duration_ms = r.Int(7), cell.engaged_ms = r.Int(8), cell.engaged_n = r.Int(9);
        cell.scroll_sum = r.Int(10), cell.scroll_n = r.Int(11);
        return true;
      }));
      at += n;
    }
    STEWARD_ASSIGN_OR_RETURN(auto gone,
                             c.Exec("DELETE FROM analytics_rollups WHERE site = ? AND span = ? AND start >= ? AND "
                                    "start < ?",
                                    {site, kHourMillis, first, first + hours * kHourMillis}));
    (void)gone;
    // The hours' rows, then the day's merged with them, a few rows to a statement.
    struct Out {
      int64_t span, start;
      const Key* key;
      const Cell* cell;
    };
    std::vector<Out> out;
    std::vector<Cell> merged;
    merged.reserve(keyed.size());
    // Segments have day rows only: a filtered dashboard asks whole days.
    for (size_t i = 0; i < hour_rows.size(); ++i) {
      for (const auto& [key, cell] : hour_rows[i])
        out.push_back({kHourMillis, first + static_cast<int64_t>(i) * kHourMillis, &key, &cell});
    }
    for (const auto* entry : keyed) {
      Cell& m = merged.emplace_back(days[entry->first]);
      m.Merge(entry->second);
      out.push_back({kDayMs, day, &entry->first, &m});
    }
    std::vector<store::Value> values;
    for (size_t at = 0; at < out.size();) {
      // No two rows share a key (span, start, dimension, key): one statement may hold any of them.
      size_t n = Chunk(out.size() - at);
      values.clear();
      for (size_t i = at; i < at + n; ++i) {
        const Out& o = out[i];
        const Cell& cell = *o.cell;
        values.insert(values.end(),
                      {site, o.span, o.start, o.key->first, o.key->second, store::Blob{cell.visitors.Serialize()},
                       cell.count, cell.visits, cell.pageviews, cell.bounces, cell.duration_ms, cell.engaged_ms,
                       cell.engaged_n, cell.scroll_sum, cell.scroll_n});
      }
      STEWARD_ASSIGN_OR_RETURN(auto written, c.Exec(Upserts().Sql(n), values));
      (void)written;
      at += n;
    }
    if (choose_pages) {
      // Privacy: analytics-rollups (the day's chosen pages, deleted with its rollups by retention).
      for (const auto& page : segments.pages) {
        STEWARD_ASSIGN_OR_RETURN(auto chosen,
                                 c.Exec("INSERT INTO analytics_segment_pages (site, day, path) VALUES (?, ?, ?) "
                                        "ON CONFLICT DO NOTHING",
                                        {site, day, page}));
        (void)chosen;
      }
    }
    STEWARD_ASSIGN_OR_RETURN(
        auto n,
        c.Exec("INSERT INTO analytics_rollup_state (site, rolled_to, segments_from) VALUES (?, ?, ?) "
               "ON CONFLICT (site) DO UPDATE SET rolled_to = excluded.rolled_to, "
               "segments_from = coalesce(analytics_rollup_state.segments_from, excluded.segments_from)",
               {site, first + hours * kHourMillis, segments_from ? store::Value(*segments_from) : store::Value()}));
    (void)n;
    return Ok();
  });
}

Status Rollups::RollAllDue(const std::vector<std::string>& sites) {
  for (const auto& site : sites) {
    STEWARD_ASSIGN_OR_RETURN(int64_t n, RollDue(site));
    if (n > 0) log::Info("analytics.rolled", {{"hours", n}});
  }
  return Ok();
}

void Rollups::Stop() { stopping_ = true; }

}  // namespace steward::analytics
