#include "analytics/query_api.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "analytics/explore.h"
#include "analytics/query_request.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/json_text.h"

namespace steward::analytics {
namespace {

using json = nlohmann::json;
using http::Request;
using http::Response;

// One row of the answer before ordering and paging: its dimension value and metrics by name.
struct Row {
  std::string dimension;
  std::map<std::string, json> metrics;
};

json Number(double v) {
  // Whole numbers as integers, others to two places (as Plausible rounds them).
  if (v == static_cast<double>(static_cast<int64_t>(v))) return static_cast<int64_t>(v);
  return std::round(v * 100.0) / 100.0;
}

// The pages read to find a page's own row among those its visits saw: every one, in practice.
constexpr int kPageRowsRead = 100000;

// The rows a request asks for, most visitors first, before ordering and paging.
Result<std::vector<Row>> FetchRows(Stats& stats, const QueryRequest& r) {
  std::vector<Row> rows;
  if (r.spec == nullptr) {
    STEWARD_ASSIGN_OR_RETURN(Headline h, stats.Aggregate(r.query));
    if (!r.query.page.empty()) {
      // Stats keeps whole visits, so its pageviews are every page those visits saw; the Stats API
      // counts only the page's own, which are its row in the same visits' pages.
      STEWARD_ASSIGN_OR_RETURN(auto pages, stats.Breakdown(r.query, Dimension::kPage, kPageRowsRead));
      auto own = std::find_if(pages.begin(), pages.end(), [&](const BreakdownRow& p) { return p.key == r.query.page; });
      h.pageviews = own == pages.end() ? 0 : own->count;
      h.views_per_visit = h.visits > 0 ? static_cast<double>(h.pageviews) / static_cast<double>(h.visits) : 0;
    }
    rows.push_back({"",
                    {{"visitors", h.visitors},
                     {"visits", h.visits},
                     {"pageviews", h.pageviews},
                     {"views_per_visit", Number(h.views_per_visit)},
                     {"bounce_rate", Number(h.bounce_rate * 100.0)},
                     {"visit_duration", Number(std::round(h.visit_duration_s))}}});
    return rows;
  }
  if (!r.spec->dimension) {
    STEWARD_ASSIGN_OR_RETURN(auto daily, stats.Daily(r.query));
    for (const auto& d : daily)
      rows.push_back({DayText(d.day), {{"visitors", d.visitors}, {"pageviews", d.pageviews}}});
    return rows;
  }
  // Stats gives rows most visitors first: another order needs them all before it pages.
  int fetch = r.order.empty() ? r.offset + r.limit : 100000;
  STEWARD_ASSIGN_OR_RETURN(auto breakdown, stats.Breakdown(r.query, *r.spec->dimension, fetch));
  std::map<std::string, BreakdownRow> engagement;
  bool page = r.spec->dimension == Dimension::kPage;
  if (page && std::any_of(r.metrics.begin(), r.metrics.end(),
                          [](const std::string& m) { return m == "time_on_page" || m == "scroll_depth"; })) {
    STEWARD_ASSIGN_OR_RETURN(auto e, stats.Breakdown(r.query, Dimension::kEngagement, 100000));
    for (auto& row : e) engagement[row.key] = row;
  }
  for (const auto& b : breakdown) {
    Row row{b.key, {{"visitors", b.visitors}, {r.spec->count_metric, b.count}}};
    auto e = engagement.find(b.key);
    row.metrics["time_on_page"] = e == engagement.end() ? json(nullptr) : Number(std::round(e->second.mean_seconds));
    row.metrics["scroll_depth"] = e == engagement.end() ? json(nullptr) : Number(std::round(e->second.mean_scroll));
    rows.push_back(std::move(row));
  }
  return rows;
}

// order_by: stable, so ties keep the order the numbers came in (most visitors first).
void OrderRows(const QueryRequest& r, std::vector<Row>& rows) {
  if (r.order.empty()) return;
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    for (const auto& [name, desc] : r.order) {
      if (std::find(r.dimensions.begin(), r.dimensions.end(), name) != r.dimensions.end()) {
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

// The answer's meta: the rows before paging, and the time dimension's labels, when asked for.
json Meta(const QueryRequest& r, int64_t total_rows) {
  json meta = json::object();
  if (r.total_rows) meta["total_rows"] = total_rows;
  if (r.time_labels) {
    json labels = json::array();
    for (const auto& d : r.dimensions) {
      if (TimeBucket b = TimeBucketOf(d, r.days); b != TimeBucket::kNone) {
        for (auto& label : TimeLabels(b, r.days)) labels.push_back(std::move(label));
      }
    }
    meta["time_labels"] = std::move(labels);
  }
  return meta;
}

// The page of rows asked for, with the query echoed as it was resolved.
std::string Answer(const QueryRequest& r, const std::vector<Row>& rows) {
  json results = json::array();
  for (size_t i = static_cast<size_t>(r.offset); i < rows.size() && results.size() < static_cast<size_t>(r.limit);
       ++i) {
    json m = json::array();
    for (const auto& name : r.metrics) m.push_back(rows[i].metrics.at(name));
    json row = {{"metrics", m}, {"dimensions", json::array()}};
    if (r.spec != nullptr) row["dimensions"].push_back(rows[i].dimension);
    results.push_back(std::move(row));
  }
  json out = {
      {"results", results}, {"meta", Meta(r, static_cast<int64_t>(rows.size()))}, {"query", json::parse(r.echo)}};
  return JsonText(out);
}

std::string Answer(const QueryRequest& r, const ExploreResult& explored) {
  json results = json::array();
  for (const auto& row : explored.rows) {
    json m = json::array();
    for (const auto& v : row.metrics) m.push_back(v ? Number(*v) : json(nullptr));
    results.push_back({{"metrics", std::move(m)}, {"dimensions", row.dimensions}});
  }
  json out = {{"results", results}, {"meta", Meta(r, explored.total_rows)}, {"query", json::parse(r.echo)}};
  return JsonText(out);
}

}  // namespace

Result<std::string> RunQuery(Stats& stats, const std::vector<std::string>& sites, std::string_view body,
                             SystemTime now) {
  STEWARD_ASSIGN_OR_RETURN(QueryRequest request, ReadQuery(body, sites, now));
  if (!request.dashboard) {
    STEWARD_ASSIGN_OR_RETURN(ExploreResult explored, Explore(stats.store(), request));
    return Answer(request, explored);
  }
  STEWARD_ASSIGN_OR_RETURN(std::vector<Row> rows, FetchRows(stats, request));
  OrderRows(request, rows);
  return Answer(request, rows);
}

QueryApi::QueryApi(Stats& stats, ApiKeys& keys, std::vector<std::string> sites, const Clock& clock,
                   metrics::Registry* metrics)
    : stats_(stats), keys_(keys), sites_(std::move(sites)), clock_(clock) {
  if (metrics != nullptr) {
    queries_ =
        &metrics->AddCounter("steward_analytics_api_queries_total",
                             "Stats API queries, by outcome (ok, bad_request, unauthorised, error).", {"outcome"});
  }
}

Response QueryApi::Handle(Request& req) {
  auto error = [this](const char* outcome, std::string message, int status) {
    if (queries_) queries_->Inc({outcome});
    Response r = Response::Json(JsonText(json{{"error", message}}), status);
    if (status == 401) r.SetHeader("WWW-Authenticate", "Bearer");
    return r;
  };
  std::string_view auth = req.Header("Authorization");
  if (auth.size() < 7 || !EqualsIgnoreCase(auth.substr(0, 7), "Bearer ")) {
    return error("unauthorised",
                 "Missing API key. Send Authorization: Bearer KEY; staff make keys at /admin/analytics/keys.", 401);
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
