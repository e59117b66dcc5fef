#include "analytics/query_api.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/strings.h"

namespace steward::analytics {
namespace {

using json = nlohmann::json;
using http::Request;
using http::Response;

constexpr int kMaxLimit = 1000;
constexpr int64_t kMaxQueryBody = 16 * 1024;

Error Bad(std::string message) { return MakeError(ErrorCode::kInvalidArgument, std::move(message)); }

struct DimensionSpec {
  const char* name;
  std::optional<Dimension> dimension;  // nullopt: time:day
  const char* count_metric;
};

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

const DimensionSpec* FindDimension(std::string_view name) {
  for (const auto& d : kDimensions) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

// One row of the answer before ordering and paging: its dimension value and metrics by name.
struct Row {
  std::string dimension;
  std::map<std::string, json> metrics;
};

Result<DayRange> ReadDateRange(const json& q, int64_t today) {
  if (!q.contains("date_range")) return Bad("date_range: required, e.g. \"7d\" or [\"2026-11-01\", \"2026-11-30\"]");
  const json& r = q["date_range"];
  if (r.is_string()) {
    auto range = ResolvePeriod(r.get<std::string>(), today);
    if (!range.ok() || r.get<std::string>().find("..") != std::string::npos) {
      return Bad("date_range: choose \"day\", \"7d\", \"30d\", \"month\", \"year\" or [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]");
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
  const char* supported = "filters: only [\"is\", D, [one value]] for D in event:page, visit:source, visit:country, visit:device";
  for (size_t i = 0; i < filters.size(); ++i) {
    const json& f = filters[i];
    if (!f.is_array() || f.size() != 3 || !f[0].is_string() || !f[1].is_string() || !f[2].is_array() ||
        f[2].size() != 1 || !f[2][0].is_string() || f[0].get<std::string>() != "is") {
      return Bad(supported);
    }
    std::string dim = f[1].get<std::string>(), value = f[2][0].get<std::string>();
    if (value.size() > 2000) return Bad("filters: a value is at most 2000 characters");
    std::string* target = dim == "event:page"       ? &query.page
                          : dim == "visit:source"   ? &query.source
                          : dim == "visit:country"  ? &query.country
                          : dim == "visit:device"   ? &query.device
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

json Number(double v) {
  // Whole numbers as integers, others to two places (as Plausible rounds them).
  if (v == static_cast<double>(static_cast<int64_t>(v))) return static_cast<int64_t>(v);
  return std::round(v * 100.0) / 100.0;
}

}  // namespace

Result<std::string> RunQuery(Stats& stats, const std::vector<std::string>& sites, std::string_view body,
                             SystemTime now) {
  if (body.size() > static_cast<size_t>(kMaxQueryBody)) return Bad("request: at most 16 KiB");
  json q = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!q.is_object()) return Bad("request: a JSON object");
  for (const auto& [key, value] : q.items()) {
    static const char* kKnown[] = {"site_id", "metrics", "date_range", "dimensions", "filters", "order_by",
                                   "pagination", "include"};
    if (std::none_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return key == k; })) {
      return Bad("request: unknown field " + json(key).dump());
    }
  }
  if (!q.contains("site_id") || !q["site_id"].is_string()) return Bad("site_id: required");
  std::string site = ToLower(q["site_id"].get<std::string>());
  if (site.starts_with("www.")) site = site.substr(4);
  if (std::find(sites.begin(), sites.end(), site) == sites.end()) return Bad("site_id: not a site this Steward counts");

  Status status = Ok();
  std::vector<std::string> metrics = ReadStrings(q, "metrics", status);
  std::vector<std::string> dimensions = ReadStrings(q, "dimensions", status);
  STEWARD_RETURN_IF_ERROR(status);
  if (metrics.empty()) return Bad("metrics: name at least one, e.g. [\"visitors\"]");
  if (dimensions.size() > 1) return Bad("dimensions: one at most");

  int64_t today = UnixMillis(now) / kDayMillis;
  STEWARD_ASSIGN_OR_RETURN(DayRange days, ReadDateRange(q, today));
  Query query{.site = site, .from_ms = days.from * kDayMillis, .to_ms = days.to * kDayMillis};
  STEWARD_RETURN_IF_ERROR(ReadFilters(q, query));

  int limit = kMaxLimit, offset = 0;
  if (q.contains("pagination")) {
    const json& p = q["pagination"];
    if (!p.is_object()) return Bad("pagination: {\"limit\": N, \"offset\": N}");
    if (p.contains("limit")) {
      if (!p["limit"].is_number_integer() || p["limit"].get<int64_t>() < 1 || p["limit"].get<int64_t>() > kMaxLimit) {
        return Bad("pagination: limit is 1 to 1000");
      }
      limit = static_cast<int>(p["limit"].get<int64_t>());
    }
    if (p.contains("offset")) {
      if (!p["offset"].is_number_integer() || p["offset"].get<int64_t>() < 0 || p["offset"].get<int64_t>() > 100000) {
        return Bad("pagination: offset is 0 to 100000");
      }
      offset = static_cast<int>(p["offset"].get<int64_t>());
    }
  }

  std::vector<Row> rows;
  const DimensionSpec* spec = nullptr;
  if (dimensions.empty()) {
    static const char* kHeadline[] = {"visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"};
    for (const auto& m : metrics) {
      if (std::none_of(std::begin(kHeadline), std::end(kHeadline), [&](const char* k) { return m == k; })) {
        return Bad("metrics: " + json(m).dump() + " is not available; without dimensions choose from visitors, visits, "
                   "pageviews, views_per_visit, bounce_rate, visit_duration");
      }
    }
    STEWARD_ASSIGN_OR_RETURN(Headline h, stats.Aggregate(query));
    rows.push_back({"", {{"visitors", h.visitors}, {"visits", h.visits}, {"pageviews", h.pageviews},
                         {"views_per_visit", Number(h.views_per_visit)},
                         {"bounce_rate", Number(h.bounce_rate * 100.0)},
                         {"visit_duration", Number(std::round(h.visit_duration_s))}}});
  } else {
    spec = FindDimension(dimensions.front());
    if (spec == nullptr) return Bad("dimensions: " + json(dimensions.front()).dump() + " is not supported");
    bool page = spec->dimension == Dimension::kPage;
    for (const auto& m : metrics) {
      bool ok = m == "visitors" || m == spec->count_metric || (page && (m == "time_on_page" || m == "scroll_depth"));
      if (!ok) {
        return Bad("metrics: " + json(m).dump() + " is not available with " + spec->name + "; choose from visitors, " +
                   spec->count_metric + (page ? ", time_on_page, scroll_depth" : ""));
      }
    }
    if (!spec->dimension) {
      STEWARD_ASSIGN_OR_RETURN(auto daily, stats.Daily(query));
      for (const auto& d : daily) rows.push_back({DayText(d.day), {{"visitors", d.visitors}, {"pageviews", d.pageviews}}});
    } else {
      // Stats gives rows most visitors first: another order needs them all before it pages.
      int fetch = q.contains("order_by") ? 100000 : offset + limit;
      STEWARD_ASSIGN_OR_RETURN(auto breakdown, stats.Breakdown(query, *spec->dimension, fetch));
      std::map<std::string, BreakdownRow> engagement;
      if (page && std::any_of(metrics.begin(), metrics.end(),
                              [](const std::string& m) { return m == "time_on_page" || m == "scroll_depth"; })) {
        STEWARD_ASSIGN_OR_RETURN(auto e, stats.Breakdown(query, Dimension::kEngagement, 100000));
        for (auto& r : e) engagement[r.key] = r;
      }
      for (const auto& b : breakdown) {
        Row row{b.key, {{"visitors", b.visitors}, {spec->count_metric, b.count}}};
        auto e = engagement.find(b.key);
        row.metrics["time_on_page"] = e == engagement.end() ? json(nullptr) : Number(std::round(e->second.mean_seconds));
        row.metrics["scroll_depth"] = e == engagement.end() ? json(nullptr) : Number(std::round(e->second.mean_scroll));
        rows.push_back(std::move(row));
      }
    }
  }

  // order_by: stable, so ties keep the order the numbers came in (most visitors first).
  if (q.contains("order_by")) {
    const json& order = q["order_by"];
    if (!order.is_array()) return Bad("order_by: [[metric or dimension, \"asc\" or \"desc\"], ...]");
    std::vector<std::pair<std::string, bool>> keys;  // name, descending
    for (const auto& o : order) {
      if (!o.is_array() || o.size() != 2 || !o[0].is_string() || !o[1].is_string() ||
          (o[1] != "asc" && o[1] != "desc")) {
        return Bad("order_by: [[metric or dimension, \"asc\" or \"desc\"], ...]");
      }
      std::string name = o[0].get<std::string>();
      bool is_metric = std::find(metrics.begin(), metrics.end(), name) != metrics.end();
      bool is_dimension = std::find(dimensions.begin(), dimensions.end(), name) != dimensions.end();
      if (!is_metric && !is_dimension) return Bad("order_by: " + json(name).dump() + " is not among the metrics or dimensions");
      keys.emplace_back(is_dimension ? "" : name, o[1] == "desc");
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      for (const auto& [name, desc] : keys) {
        if (name.empty()) {
          if (a.dimension != b.dimension) return desc ? a.dimension > b.dimension : a.dimension < b.dimension;
          continue;
        }
        const json& x = a.metrics.at(name);
        const json& y = b.metrics.at(name);
        double xv = x.is_number() ? x.get<double>() : -1, yv = y.is_number() ? y.get<double>() : -1;
        if (xv != yv) return desc ? xv > yv : xv < yv;
      }
      return false;
    });
  }

  json results = json::array();
  for (size_t i = static_cast<size_t>(offset); i < rows.size() && results.size() < static_cast<size_t>(limit); ++i) {
    json m = json::array();
    for (const auto& name : metrics) m.push_back(rows[i].metrics.at(name));
    json r = {{"metrics", m}, {"dimensions", json::array()}};
    if (spec != nullptr) r["dimensions"].push_back(rows[i].dimension);
    results.push_back(std::move(r));
  }
  json echo = q;
  echo["site_id"] = site;
  echo["date_range"] = {DayText(days.from) + "T00:00:00Z", DayText(days.to - 1) + "T23:59:59Z"};
  echo["pagination"] = {{"limit", limit}, {"offset", offset}};
  json out = {{"results", results}, {"meta", json::object()}, {"query", echo}};
  return out.dump();
}

QueryApi::QueryApi(Stats& stats, ApiKeys& keys, std::vector<std::string> sites, const Clock& clock,
                   metrics::Registry* metrics)
    : stats_(stats), keys_(keys), sites_(std::move(sites)), clock_(clock) {
  if (metrics != nullptr) {
    queries_ = &metrics->AddCounter("steward_analytics_api_queries_total",
                                    "Stats API queries, by outcome (ok, bad_request, unauthorised, error).", {"outcome"});
  }
}

Response QueryApi::Handle(Request& req) {
  auto error = [this](const char* outcome, std::string message, int status) {
    if (queries_) queries_->Inc({outcome});
    Response r = Response::Json(json{{"error", message}}.dump(), status);
    if (status == 401) r.SetHeader("WWW-Authenticate", "Bearer");
    return r;
  };
  std::string_view auth = req.Header("Authorization");
  if (auth.size() < 7 || !EqualsIgnoreCase(auth.substr(0, 7), "Bearer ")) {
    return error("unauthorised", "Missing API key. Send Authorization: Bearer KEY; staff make keys at /admin/analytics/keys.", 401);
  }
  auto key = keys_.Verify(Trim(auth.substr(7)));
  if (!key) return error("unauthorised", "Invalid API key, or it was revoked.", 401);
  auto result = RunQuery(stats_, sites_, req.body, clock_.Now());
  if (!result.ok()) {
    if (result.error().code == ErrorCode::kInvalidArgument) return error("bad_request", result.error().message, 400);
    log::Error("analytics.query_failed", {{"error", result.error().ToString()}, {"request_id", req.request_id}});
    return error("error", "The query could not be answered; try again.", 500);
  }
  if (queries_) queries_->Inc({"ok"});
  return Response::Json(std::move(*result));
}

void QueryApi::AddRoutes(http::Router& router) {
  router.Post("/api/v2/query", [this](Request& req) { return Handle(req); },
              {.max_body_bytes = kMaxQueryBody, .blocking = true});
}

}  // namespace steward::analytics
