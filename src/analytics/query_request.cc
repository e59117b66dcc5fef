#include "analytics/query_request.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/strings.h"
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

Status ReadFilters(const json& q, Query& query) {
  if (!q.contains("filters")) return Ok();
  const json& filters = q["filters"];
  if (!filters.is_array()) return Bad("filters: a list of [\"is\", dimension, [value]]");
  const char* supported =
      "filters: only [\"is\", D, [one value]] for D in event:page, visit:source, visit:country, visit:device";
  for (size_t i = 0; i < filters.size(); ++i) {
    const json& f = filters[i];
    if (!f.is_array() || f.size() != 3 || !f[0].is_string() || !f[1].is_string() || !f[2].is_array() ||
        f[2].size() != 1 || !f[2][0].is_string() || f[0].get<std::string>() != "is") {
      return Bad(supported);
    }
    std::string dim = f[1].get<std::string>(), value = f[2][0].get<std::string>();
    if (value.size() > 2000) return Bad("filters: a value is at most 2000 characters");
    std::string* target = dim == "event:page"      ? &query.page
                          : dim == "visit:source"  ? &query.source
                          : dim == "visit:country" ? &query.country
                          : dim == "visit:device"  ? &query.device
                                                   : nullptr;
    if (target == nullptr) return Bad(supported);
    if (!target->empty()) return Bad("filters: one filter on " + dim + " at most");
    *target = value;
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

// Each metric against what the dimension (or the headline) can answer.
Status CheckMetrics(QueryRequest& r) {
  if (r.dimensions.empty()) {
    static const char* kHeadline[] = {"visitors",        "visits",      "pageviews",
                                      "views_per_visit", "bounce_rate", "visit_duration"};
    for (const auto& m : r.metrics) {
      if (std::none_of(std::begin(kHeadline), std::end(kHeadline), [&](const char* k) { return m == k; })) {
        return Bad("metrics: " + JsonText(json(m)) +
                   " is not available; without dimensions choose from visitors, visits, "
                   "pageviews, views_per_visit, bounce_rate, visit_duration");
      }
    }
    return Ok();
  }
  r.spec = FindDimension(r.dimensions.front());
  if (r.spec == nullptr) return Bad("dimensions: " + JsonText(json(r.dimensions.front())) + " is not supported");
  bool page = r.spec->dimension == Dimension::kPage;
  for (const auto& m : r.metrics) {
    bool ok = m == "visitors" || m == r.spec->count_metric || (page && (m == "time_on_page" || m == "scroll_depth"));
    if (!ok) {
      return Bad("metrics: " + JsonText(json(m)) + " is not available with " + r.spec->name +
                 "; choose from visitors, " + r.spec->count_metric + (page ? ", time_on_page, scroll_depth" : ""));
    }
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
    r.order.emplace_back(is_dimension ? "" : name, o[1] == "desc");
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
  if (r.dimensions.size() > 1) return Bad("dimensions: one at most");
  STEWARD_ASSIGN_OR_RETURN(r.days, ReadDateRange(q, UnixMillis(now) / kDayMillis));
  r.query = Query{.site = r.site, .from_ms = r.days.from * kDayMillis, .to_ms = r.days.to * kDayMillis};
  STEWARD_RETURN_IF_ERROR(ReadFilters(q, r.query));
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
