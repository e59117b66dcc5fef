#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/result.h"

namespace steward::metrics {
namespace {

void AppendNumber(std::string& out, double v) {
  if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out.append(buf);
}

void AppendEscaped(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\')
      out.append("\\\\");
    else if (c == '"')
      out.append("\\\"");
    else if (c == '\n')
      out.append("\\n");
    else
      out.push_back(c);
  }
}

void AppendLabels(std::string& out, const Labels& names, const Labels& values, const char* extra_name = nullptr,
                  const std::string* extra_value = nullptr) {
  if (names.empty() && extra_name == nullptr) return;
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out.push_back(',');
    first = false;
    out.append(names[i]).append("=\"");
    AppendEscaped(out, values[i]);
    out.push_back('"');
  }
  if (extra_name != nullptr) {
    if (!first) out.push_back(',');
    out.append(extra_name).append("=\"").append(*extra_value).push_back('"');
  }
  out.push_back('}');
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out.append("# HELP ").append(name).push_back(' ');
  out.append(help).push_back('\n');
  out.append("# TYPE ").append(name).push_back(' ');
  out.append(type).push_back('\n');
}

}  // namespace

Counter::Counter(std::string name, std::string help, Labels names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(names)) {}

CounterCell& Counter::Cell(const Labels& values) {
  STEWARD_CHECK(values.size() == label_names_.size(), "label count mismatch");
  std::lock_guard<std::mutex> lock(mu_);
  auto& cell = series_[values];
  if (!cell) cell = std::make_unique<CounterCell>();
  return *cell;
}

double Counter::Value(const Labels& values) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second->Value();
}

void Counter::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "counter");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, cell] : series_) {
    out.append(name_);
    AppendLabels(out, label_names_, values);
    out.push_back(' ');
    AppendNumber(out, cell->Value());
    out.push_back('\n');
  }
}

Gauge::Gauge(std::string name, std::string help, std::function<double()> sample)
    : name_(std::move(name)), help_(std::move(help)), sample_(std::move(sample)) {}

void Gauge::Add(double d) {
  double cur = value_.load();
  while (!value_.compare_exchange_weak(cur, cur + d)) {
  }
}

void Gauge::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "gauge");
  out.append(name_).push_back(' ');
  AppendNumber(out, sample_ ? sample_() : value_.load());
  out.push_back('\n');
}

Histogram::Histogram(std::string name, std::string help, Labels names, std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(names)), bounds_(std::move(bounds)) {}

HistogramCell::HistogramCell(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size()]) {
  for (size_t i = 0; i < bounds.size(); ++i) buckets_[i].store(0);
}

void HistogramCell::Observe(double v) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

HistogramCell& Histogram::Cell(const Labels& values) {
  STEWARD_CHECK(values.size() == label_names_.size(), "label count mismatch");
  std::lock_guard<std::mutex> lock(mu_);
  auto& cell = series_[values];
  if (!cell) cell = std::make_unique<HistogramCell>(bounds_);
  return *cell;
}

uint64_t Histogram::Count(const Labels& values) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second->Count();
}

void Histogram::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "histogram");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, cell] : series_) {
    // Read count first: concurrent observations may make buckets run slightly ahead of it, never
    // behind, and the +Inf bucket reports the larger of the two so the series stays monotone.
    uint64_t count = cell->Count();
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      std::string le;
      if (i < bounds_.size()) {
        cumulative += cell->buckets_[i].load(std::memory_order_relaxed);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", bounds_[i]);
        le = buf;
      } else {
        count = std::max(cumulative, count);  // _count must equal the +Inf bucket
        cumulative = count;
        le = "+Inf";
      }
      out.append(name_).append("_bucket");
      AppendLabels(out, label_names_, values, "le", &le);
      out.push_back(' ');
      out.append(std::to_string(cumulative)).push_back('\n');
    }
    out.append(name_).append("_sum");
    AppendLabels(out, label_names_, values);
    out.push_back(' ');
    AppendNumber(out, cell->sum_.load(std::memory_order_relaxed));
    out.push_back('\n');
    out.append(name_).append("_count");
    AppendLabels(out, label_names_, values);
    out.push_back(' ');
    out.append(std::to_string(count)).push_back('\n');
  }
}

Counter& Registry::AddCounter(std::string name, std::string help, Labels label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_.emplace_back(new Counter(std::move(name), std::move(help), std::move(label_names)));
  Counter* c = counters_.back().get();
  renderers_.emplace_back([c](std::string& out) { c->Render(out); });
  return *c;
}

Gauge& Registry::AddGauge(std::string name, std::string help) {
  return AddSampledGauge(std::move(name), std::move(help), nullptr);
}

Gauge& Registry::AddSampledGauge(std::string name, std::string help, std::function<double()> sample) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_.emplace_back(new Gauge(std::move(name), std::move(help), std::move(sample)));
  Gauge* g = gauges_.back().get();
  renderers_.emplace_back([g](std::string& out) { g->Render(out); });
  return *g;
}

Histogram& Registry::AddHistogram(std::string name, std::string help, Labels label_names,
                                  std::vector<double> upper_bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  histograms_.emplace_back(
      new Histogram(std::move(name), std::move(help), std::move(label_names), std::move(upper_bounds)));
  Histogram* h = histograms_.back().get();
  renderers_.emplace_back([h](std::string& out) { h->Render(out); });
  return *h;
}

std::string Registry::Render() const {
  std::vector<std::function<void(std::string&)>> renderers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    renderers = renderers_;
  }
  std::string out;
  for (const auto& r : renderers) r(out);
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace steward::metrics
