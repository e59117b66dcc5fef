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

class Counter {
 public:
  // Adds `n` to the series with these label values (one per label name, in order).
  void Inc(const Labels& values, double n = 1);
  double Value(const Labels& values) const;

 private:
  friend class Registry;
  Counter(std::string name, std::string help, Labels names);
  void Render(std::string& out) const;
  std::string name_, help_;
  Labels label_names_;
  mutable std::mutex mu_;
  std::map<Labels, double> series_;
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

class Histogram {
 public:
  void Observe(const Labels& values, double v);
  // Number of observations in the series.
  uint64_t Count(const Labels& values) const;

 private:
  friend class Registry;
  Histogram(std::string name, std::string help, Labels names, std::vector<double> bounds);
  void Render(std::string& out) const;
  struct Series {
    std::vector<uint64_t> buckets;  // cumulative counts computed at render
    double sum = 0;
    uint64_t count = 0;
  };
  std::string name_, help_;
  Labels label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, Series> series_;
};

class Registry {
 public:
  Counter& AddCounter(std::string name, std::string help, Labels label_names = {});
  Gauge& AddGauge(std::string name, std::string help);
  // A gauge whose value is read by calling `sample` at render time (queue depths).
  Gauge& AddSampledGauge(std::string name, std::string help, std::function<double()> sample);
  Histogram& AddHistogram(std::string name, std::string help, Labels label_names,
                          std::vector<double> upper_bounds);

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
