// Metrics in the Prometheus text exposition format (version 0.0.4).
//
// A Registry owns families of counters, gauges and histograms, each with fixed label names.
// Labels carry route patterns, statuses and queue names: never personal data and never raw paths
// (a path can hold an email address or a token, and unbounded label values exhaust memory).
//
//   metrics::Registry registry;
//   auto& requests = registry.AddCounter("steward_http_requests_total", "HTTP requests", {"route", "status"});
//   requests.Inc({"/healthz", "200"});
//   registry.AddSampledGauge("steward_store_write_queue_depth", "Writes waiting", [&] { return q.size(); });
//   std::string text = registry.Render();
//
// Thread safety: every method is safe for concurrent use. Families live as long as the Registry.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace steward::metrics {

using Labels = std::vector<std::string>;

// One series of a counter. Stable for the life of its Counter; Inc is lock-free.
class CounterCell {
 public:
  void Inc(double n = 1) {
    double cur = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed)) {
    }
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Counter {
 public:
  // Adds `n` to the series with these label values (one per label name, in order).
  void Inc(const Labels& values, double n = 1) { Cell(values).Inc(n); }
  double Value(const Labels& values) const;
  // The series with these label values, created at zero if new. Hot paths keep the reference.
  CounterCell& Cell(const Labels& values);

 private:
  friend class Registry;
  Counter(std::string name, std::string help, Labels names);
  void Render(std::string& out) const;
  std::string name_, help_;
  Labels label_names_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<CounterCell>> series_;
};

class Gauge {
 public:
  void Set(double v) { value_.store(v); }
  void Add(double d);
  double Value() const { return value_.load(); }

 private:
  friend class Registry;
  Gauge(std::string name, std::string help, std::function<double()> sample);
  void Render(std::string& out) const;
  std::string name_, help_;
  std::function<double()> sample_;
  std::atomic<double> value_{0};
};

// One series of a histogram. Stable for the life of its Histogram; Observe is lock-free.
class HistogramCell {
 public:
  explicit HistogramCell(const std::vector<double>& bounds);
  void Observe(double v);
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  friend class Histogram;
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket; cumulated at render
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

class Histogram {
 public:
  void Observe(const Labels& values, double v) { Cell(values).Observe(v); }
  // Number of observations in the series.
  uint64_t Count(const Labels& values) const;
  // The series with these label values, created empty if new. Hot paths keep the reference.
  HistogramCell& Cell(const Labels& values);

 private:
  friend class Registry;
  Histogram(std::string name, std::string help, Labels names, std::vector<double> bounds);
  void Render(std::string& out) const;
  std::string name_, help_;
  Labels label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<HistogramCell>> series_;
};

class Registry {
 public:
  Counter& AddCounter(std::string name, std::string help, Labels label_names = {});
  Gauge& AddGauge(std::string name, std::string help);
  // A gauge whose value is read by calling `sample` at render time (queue depths).
  Gauge& AddSampledGauge(std::string name, std::string help, std::function<double()> sample);
  Histogram& AddHistogram(std::string name, std::string help, Labels label_names, std::vector<double> upper_bounds);

  // All families, in the order they were added.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Counter>> counters_;
  std::vector<std::unique_ptr<Gauge>> gauges_;
  std::vector<std::unique_ptr<Histogram>> histograms_;
  std::vector<std::function<void(std::string&)>> renderers_;
};

// Latency buckets in seconds, from 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();

}  // namespace steward::metrics
