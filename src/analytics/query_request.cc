#include "analytics/query_request.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "store/store.h"
#include "http/json_body.h"
#include "core/json_text.h"

namespace steward::analytics {
namespace {

using json = nlohmann::json;

Error Bad(std::string message) { return MakeError(ErrorCode::kInvalidArgument, std::move(message)); }

constexpr DimensionSpec kDimensions[] = {
    {"event:page", Dimension::kPage, "pageviews"},
    {"event:goal", Dimension::kEvent, "events"},
    {"event:search", Dimension::kSearch, "pageviews"},
    {"visit:entry_page", Dimension::kEntryPage, "visits"},
    {"visit:exit_page", Dimension::kExitPage, "visits"},
    {"visit:source", Dimension::kSource, "visits"},
    {"visit:referrer", Dimension::kReferrer, "pageviews"},
    {"visit:utm_campaign", Dimension::kCampaign, "pageviews"},
    {"visit:browser", Dimension::kBrowser, "pageviews"},
    {"visit:os", Dimension::kOs, "pageviews"},
    {"visit:device", Dimension::kDevice, "pageviews"},
    {"visit:country", Dimension::kCountry, "pageviews"},
    {"time:day", std::nullopt, "pageviews"},
    {"time", std::nullopt, "pageviews"},
};

using From = EventDimension::From;
using Only = EventDimension::Only;
constexpr const char* kNotKnown = "(not known)";
constexpr EventDimension kEventDimensions[] = {
    {"event:page", "path", From::kEvent, nullptr, Only::kPagesSeen},
    {"event:hostname", "hostname", From::kEvent, nullptr, Only::kNotEngaged},
    {"event:goal", "name", From::kEvent, nullptr, Only::kGoals},
    {"event:name", "name", From::kEvent, nullptr, Only::kNotEngaged},
    {"event:search", "search", From::kEvent, nullptr, Only::kSearches},
    {"visit:entry_page", "path", From::kEntry, nullptr, Only::kAny},
    {"visit:exit_page", "path", From::kExit, nullptr, Only::kAny},
    {"visit:source", "source", From::kEntry, "Direct / None", Only::kAny},
    {"visit:referrer", "referrer", From::kEntry, nullptr, Only::kWithAValue},
    {"visit:utm_medium", "utm_medium", From::kEntry, nullptr, Only::kWithAValue},
    {"visit:utm_campaign", "utm_campaign", From::kEntry, nullptr, Only::kWithAValue},
    {"visit:utm_content", "utm_content", From::kEntry, nullptr, Only::kWithAValue},
    {"visit:utm_term", "utm_term", From::kEntry, nullptr, Only::kWithAValue},
    {"visit:browser", "browser", From::kLeast, kNotKnown, Only::kAny},
    {"visit:browser_version", "browser_version", From::kLeast, kNotKnown, Only::kAny},
    {"visit:os", "os", From::kLeast, kNotKnown, Only::kAny},
    {"visit:os_version", "os_version", From::kLeast, kNotKnown, Only::kAny},
    {"visit:device", "device", From::kLeast, kNotKnown, Only::kAny},
    {"visit:country", "country", From::kLeast, kNotKnown, Only::kAny},
};

constexpr const char* kMetrics[] = {"visitors",    "visits",         "pageviews",    "events",       "views_per_visit",
                                    "bounce_rate", "visit_duration", "time_on_page", "scroll_depth", "percentage"};
constexpr const char* kMetricList =
    "visitors, visits, pageviews, events, views_per_visit, bounce_rate, visit_duration, time_on_page, scroll_depth, "
    "percentage";

bool IsTime(std::string_view name) { return name == "time" || name.starts_with("time:"); }

Result<DayRange> ReadDateRange(const json& q, int64_t today) {
  if (!q.contains("date_range")) return Bad("date_range: required, e.g. \"7d\" or [\"2026-11-01\", \"2026-11-30\"]");
  const json& r = q["date_range"];
  if (r.is_string()) {
    auto range = ResolvePeriod(r.get<std::string>(), today);
    if (!range.ok() || r.get<std::string>().find("..") != std::string::npos) {
      return Bad(
          "date_range: choose \"day\", \"7d\", \"30d\", \"month\", \"year\" or [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]");
    }
    return *range;
  }
  if (r.is_array() && r.size() == 2 && r[0].is_string() && r[1].is_string()) {
    // Plausible also takes full timestamps; the day is what counts here.
    std::string a = r[0].get<std::string>().substr(0, 10), b = r[1].get<std::string>().substr(0, 10);
    auto range = ResolvePeriod(a + ".." + b, today);
    if (!range.ok()) return Bad("date_range: " + range.error().message.substr(range.error().message.find(':') + 2));
    return *range;
  }
  return Bad("date_range: a string such as \"7d\", or two dates [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]");
}

constexpr size_t kMaxFilterNodes = 64, kMaxFilterValues = 100, kMaxFilterDepth = 8;
constexpr const char* kFilterShape =
    "filters: each is [operator, dimension, [values]] with operator is, is_not, contains, contains_not, matches or "
    "matches_not, or [\"and\", [filters]], [\"or\", [filters]], [\"not\", filter]";

Result<QueryFilter> ReadFilter(const json& f, size_t depth, size_t& nodes) {
  if (++nodes > kMaxFilterNodes) return Bad("filters: at most 64 of them, with and, or and not");
  if (depth > kMaxFilterDepth) return Bad("filters: nested 8 deep at most");
  if (!f.is_array() || f.empty() || !f[0].is_string()) return Bad(kFilterShape);
  std::string op = f[0].get<std::string>();
  QueryFilter out;
  if (op == "and" || op == "or") {
    if (f.size() != 2 || !f[1].is_array() || f[1].empty()) return Bad("filters: [\"" + op + "\", [filters]]");
    out.op = op == "and" ? QueryFilter::Op::kAnd : QueryFilter::Op::kOr;
    for (const auto& child : f[1]) {
      STEWARD_ASSIGN_OR_RETURN(QueryFilter c, ReadFilter(child, depth + 1, nodes));
      out.children.push_back(std::move(c));
    }
    return out;
  }
  if (op == "not") {
    if (f.size() != 2) return Bad("filters: [\"not\", filter]");
    out.op = QueryFilter::Op::kNot;
    STEWARD_ASSIGN_OR_RETURN(QueryFilter c, ReadFilter(f[1], depth + 1, nodes));
    out.children.push_back(std::move(c));
    return out;
  }
  static const std::pair<const char*, QueryFilter::Op> kLeaves[] = {{"is", QueryFilter::Op::kIs},
                                                                    {"is_not", QueryFilter::Op::kIsNot},
                                                                    {"contains", QueryFilter::Op::kContains},
                                                                    {"contains_not", QueryFilter::Op::kContainsNot},
                                                                    {"matches", QueryFilter::Op::kMatches},
                                                                    {"matches_not", QueryFilter::Op::kMatchesNot}};
  auto leaf = std::find_if(std::begin(kLeaves), std::end(kLeaves), [&](const auto& l) { return op == l.first; });
  if (leaf == std::end(kLeaves)) {
    if (op == "has_done" || op == "has_not_done") return Bad("filters: " + op + " is not supported");
    return Bad(kFilterShape);
  }
  if ((f.size() != 3 && f.size() != 4) || !f[1].is_string() || !f[2].is_array() || f[2].empty())
    return Bad(kFilterShape);
  out.op = leaf->second;
  out.dimension = f[1].get<std::string>();
  if (IsTime(out.dimension)) return Bad("filters: the date_range chooses the time; time dimensions cannot be filtered");
  if (FindEventDimension(out.dimension) == nullptr && PropertyKey(out.dimension).empty()) {
    return Bad("filters: " + JsonText(json(out.dimension)) + " is not a dimension Steward filters by");
  }
  if (f[2].size() > kMaxFilterValues) return Bad("filters: at most 100 values a filter");
  for (const auto& v : f[2]) {
    if (!v.is_string()) return Bad("filters: values are strings");
    std::string value = v.get<std::string>();
    if (value.size() > 2000) return Bad("filters: a value is at most 2000 characters");
    bool contains = out.op == QueryFilter::Op::kContains || out.op == QueryFilter::Op::kContainsNot;
    if (contains && value.empty()) return Bad("filters: contains needs a value that is not empty");
    if (out.op == QueryFilter::Op::kMatches || out.op == QueryFilter::Op::kMatchesNot) {
      if (Status pattern = store::CheckPattern(value); !pattern.ok())
        return Bad("filters: a matches value is not a regular expression: " + pattern.error().message);
    }
    out.values.push_back(std::move(value));
  }
  if (f.size() == 4) {
    const json& modifiers = f[3];
    if (!modifiers.is_object()) return Bad("filters: the fourth item is {\"case_sensitive\": false}");
    for (const auto& [key, value] : modifiers.items()) {
      if (key != "case_sensitive" || !value.is_boolean())
        return Bad("filters: the only modifier is {\"case_sensitive\": true or false}");
      out.case_sensitive = value.get<bool>();
    }
  }
  return out;
}

Status ReadFilters(const json& q, QueryRequest& r) {
  if (!q.contains("filters")) return Ok();
  const json& filters = q["filters"];
  if (!filters.is_array()) return Bad("filters: a list of filters, all of which must match");
  size_t nodes = 0;
  for (const auto& f : filters) {
    STEWARD_ASSIGN_OR_RETURN(QueryFilter filter, ReadFilter(f, 1, nodes));
    r.filters.push_back(std::move(filter));
  }
  return Ok();
}

Status ReadInclude(const json& q, QueryRequest& r) {
  if (!q.contains("include")) return Ok();
  const json& include = q["include"];
  if (!include.is_object()) return Bad("include: {\"total_rows\": true, \"time_labels\": true}");
  for (const auto& [key, value] : include.items()) {
    if (!value.is_boolean()) return Bad("include: " + JsonText(json(key)) + " is true or false");
    bool on = value.get<bool>();
    if (key == "total_rows") {
      r.total_rows = on;
    } else if (key == "time_labels") {
      r.time_labels = on;
    } else if (key == "imports") {
      if (on) return Bad("include: Steward holds no imported statistics; leave imports out or false");
    } else if (key == "comparisons" || key == "legacy_time_on_page_cutoff") {
      if (on) return Bad("include: " + key + " is not supported");
    } else {
      return Bad("include: " + JsonText(json(key)) + " is not supported; total_rows and time_labels are");
    }
  }
  return Ok();
}

std::vector<std::string> ReadStrings(const json& q, const char* field, Status& status) {
  std::vector<std::string> out;
  if (!q.contains(field)) return out;
  if (!q[field].is_array()) {
    status = Bad(std::string(field) + ": a list of strings");
    return out;
  }
  for (const auto& v : q[field]) {
    if (!v.is_string()) {
      status = Bad(std::string(field) + ": a list of strings");
      return {};
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status CheckFields(const json& q) {
  for (const auto& item : q.items()) {
    static const char* kKnown[] = {"site_id", "metrics",  "date_range", "dimensions",
                                   "filters", "order_by", "pagination", "include"};
    const std::string& key = item.key();
    if (std::none_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return key == k; })) {
      return Bad("request: unknown field " + JsonText(json(key)));
    }
  }
  return Ok();
}

Status ReadPage(const json& q, QueryRequest& r) {
  if (!q.contains("pagination")) return Ok();
  const json& p = q["pagination"];
  if (!p.is_object()) return Bad("pagination: {\"limit\": N, \"offset\": N}");
  if (p.contains("limit")) {
    if (!p["limit"].is_number_integer() || p["limit"].get<int64_t>() < 1 ||
        p["limit"].get<int64_t>() > kMaxQueryLimit) {
      return Bad("pagination: limit is 1 to 1000");
    }
    r.limit = static_cast<int>(p["limit"].get<int64_t>());
  }
  if (p.contains("offset")) {
    if (!p["offset"].is_number_integer() || p["offset"].get<int64_t>() < 0 || p["offset"].get<int64_t>() > 100000) {
      return Bad("pagination: offset is 0 to 100000");
    }
    r.offset = static_cast<int>(p["offset"].get<int64_t>());
  }
  return Ok();
}

// Each metric and dimension known; and whether the dashboard's own queries can answer it all.
Status CheckMetrics(QueryRequest& r) {
  for (const auto& m : r.metrics) {
    if (std::none_of(std::begin(kMetrics), std::end(kMetrics), [&](const char* k) { return m == k; })) {
      return Bad("metrics: " + JsonText(json(m)) + " is not available; choose from " + kMetricList);
    }
  }
  if (r.dimensions.size() > kMaxQueryDimensions) return Bad("dimensions: four at most");
  for (size_t i = 0; i < r.dimensions.size(); ++i) {
    const std::string& d = r.dimensions[i];
    bool known = IsTime(d) ? TimeBucketOf(d, r.days) != TimeBucket::kNone
                           : FindEventDimension(d) != nullptr || !PropertyKey(d).empty();
    if (!known) return Bad("dimensions: " + JsonText(json(d)) + " is not supported");
    if (std::find(r.dimensions.begin(), r.dimensions.begin() + static_cast<std::ptrdiff_t>(i), d) !=
        r.dimensions.begin() + static_cast<std::ptrdiff_t>(i)) {
      return Bad("dimensions: " + JsonText(json(d)) + " is named twice");
    }
    if (IsTime(d) && std::any_of(r.dimensions.begin(), r.dimensions.begin() + static_cast<std::ptrdiff_t>(i),
                                 [](const std::string& o) { return IsTime(o); })) {
      return Bad("dimensions: one time dimension at most");
    }
  }
  // The dashboard's shapes: no filter, no total, and what its tables count.
  auto within = [&](std::initializer_list<const char*> allowed) {
    return std::all_of(r.metrics.begin(), r.metrics.end(), [&](const std::string& m) {
      return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return m == a; });
    });
  };
  r.dashboard = false;
  if (r.total_rows) return Ok();
  // One filter, a country or a device, is the dashboard's too: that value's segment of the rollups
  // (rollups.h). A visit has one country and one device, so the segment's visits are the filter's.
  std::string* segment = nullptr;
  if (!r.filters.empty()) {
    const QueryFilter& f = r.filters.front();
    if (r.filters.size() != 1 || f.op != QueryFilter::Op::kIs || !f.case_sensitive || f.values.size() != 1 ||
        f.values.front().empty() || f.values.front() == "(not known)") {
      return Ok();
    }
    if (f.dimension == "visit:country") {
      segment = &r.query.country;
    } else if (f.dimension == "visit:device") {
      segment = &r.query.device;
    } else if (f.dimension == "event:page") {
      // The visits that saw a page are its segment's (or, on days that kept no segment for it,
      // the filtered pass's). Its headline's pageviews are that page's row among them.
      segment = &r.query.page;
    } else {
      return Ok();
    }
  }
  auto dashboard = [&](bool yes, const DimensionSpec* spec) {
    r.dashboard = yes;
    if (!yes) return;
    r.spec = spec;
    if (segment != nullptr) *segment = r.filters.front().values.front();
  };
  if (r.dimensions.empty()) {
    dashboard(within({"visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"}), nullptr);
    return Ok();
  }
  if (r.dimensions.size() > 1) return Ok();
  const DimensionSpec* spec = FindDimension(r.dimensions.front());
  if (spec == nullptr) return Ok();
  if (segment == &r.query.page) {
    // By a visit's own attribute (its source, country, entry page, ...), the visitors and visits
    // of the visits that saw the page are what the events on the page give. Their pageviews, and
    // a dimension of the events (a page, a goal, a search), would be of every page they saw.
    bool visit_level = std::string_view(spec->name).starts_with("visit:");
    bool counts_visits = std::string_view(spec->count_metric) == "visits";
    dashboard(visit_level && (within({"visitors"}) || (counts_visits && within({"visitors", "visits"}))), spec);
    return Ok();
  }
  if (!spec->dimension) {
    dashboard(TimeBucketOf(r.dimensions.front(), r.days) == TimeBucket::kDay && within({"visitors", "pageviews"}),
              spec);
  } else if (spec->dimension == Dimension::kPage) {
    dashboard(within({"visitors", "pageviews", "time_on_page", "scroll_depth"}), spec);
  } else {
    dashboard(within({"visitors", spec->count_metric}), spec);
  }
  return Ok();
}

Status ReadOrder(const json& q, QueryRequest& r) {
  if (!q.contains("order_by")) return Ok();
  const json& order = q["order_by"];
  const char* shape = "order_by: [[metric or dimension, \"asc\" or \"desc\"], ...]";
  if (!order.is_array() || order.empty()) return Bad(shape);
  for (const auto& o : order) {
    if (!o.is_array() || o.size() != 2 || !o[0].is_string() || !o[1].is_string() || (o[1] != "asc" && o[1] != "desc")) {
      return Bad(shape);
    }
    std::string name = o[0].get<std::string>();
    bool is_metric = std::find(r.metrics.begin(), r.metrics.end(), name) != r.metrics.end();
    bool is_dimension = std::find(r.dimensions.begin(), r.dimensions.end(), name) != r.dimensions.end();
    if (!is_metric && !is_dimension)
      return Bad("order_by: " + JsonText(json(name)) + " is not among the metrics or dimensions");
    r.order.emplace_back(name, o[1] == "desc");
  }
  return Ok();
}

}  // namespace

const DimensionSpec* FindDimension(std::string_view name) {
  for (const auto& d : kDimensions) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const EventDimension* FindEventDimension(std::string_view name) {
  for (const auto& d : kEventDimensions) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

std::string_view PropertyKey(std::string_view name) {
  constexpr std::string_view kPrefix = "event:props:";
  if (!name.starts_with(kPrefix)) return {};
  std::string_view key = name.substr(kPrefix.size());
  if (key.empty() || key.size() > 64) return {};
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return {};
  }
  return key;
}

TimeBucket TimeBucketOf(std::string_view name, const DayRange& days) {
  if (name == "time:hour") return TimeBucket::kHour;
  if (name == "time:day") return TimeBucket::kDay;
  if (name == "time:week") return TimeBucket::kWeek;
  if (name == "time:month") return TimeBucket::kMonth;
  if (name != "time") return TimeBucket::kNone;
  // As Plausible chooses: hours for a day, days up to three months, months beyond.
  int64_t length = days.to - days.from;
  return length <= 1 ? TimeBucket::kHour : length <= 92 ? TimeBucket::kDay : TimeBucket::kMonth;
}

Result<QueryRequest> ReadQuery(std::string_view body, const std::vector<std::string>& sites, SystemTime now) {
  auto parsed = http::ParseJson(body, {.max_bytes = kMaxQueryBody});
  if (!parsed.ok()) return Bad("request: " + parsed.error().message);
  json q = std::move(*parsed);
  if (!q.is_object()) return Bad("request: a JSON object");
  STEWARD_RETURN_IF_ERROR(CheckFields(q));
  QueryRequest r;
  if (!q.contains("site_id") || !q["site_id"].is_string()) return Bad("site_id: required");
  r.site = ToLower(q["site_id"].get<std::string>());
  if (r.site.starts_with("www.")) r.site = r.site.substr(4);
  if (std::find(sites.begin(), sites.end(), r.site) == sites.end())
    return Bad("site_id: not a site this Steward counts");
  Status status = Ok();
  r.metrics = ReadStrings(q, "metrics", status);
  r.dimensions = ReadStrings(q, "dimensions", status);
  STEWARD_RETURN_IF_ERROR(status);
  if (r.metrics.empty()) return Bad("metrics: name at least one, e.g. [\"visitors\"]");
  STEWARD_ASSIGN_OR_RETURN(r.days, ReadDateRange(q, UnixMillis(now) / kDayMillis));
  r.query = Query{.site = r.site, .from_ms = r.days.from * kDayMillis, .to_ms = r.days.to * kDayMillis};
  STEWARD_RETURN_IF_ERROR(ReadFilters(q, r));
  STEWARD_RETURN_IF_ERROR(ReadInclude(q, r));
  STEWARD_RETURN_IF_ERROR(ReadPage(q, r));
  STEWARD_RETURN_IF_ERROR(CheckMetrics(r));
  STEWARD_RETURN_IF_ERROR(ReadOrder(q, r));
  json echo = q;
  echo["site_id"] = r.site;
  echo["date_range"] = {DayText(r.days.from) + "T00:00:00Z", DayText(r.days.to - 1) + "T23:59:59Z"};
  echo["pagination"] = {{"limit", r.limit}, {"offset", r.offset}};
  r.echo = JsonText(echo);
  return r;
}

}  // namespace steward::analytics
