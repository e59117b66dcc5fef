#include "metrics/metrics.h"

#include <gtest/gtest.h>

namespace steward::metrics {
namespace {

TEST(MetricsTest, RendersPrometheusText) {
  Registry r;
  auto& c = r.AddCounter("steward_requests_total", "Requests.", {"route", "status"});
  c.Inc({"/healthz", "200"});
  c.Inc({"/healthz", "200"});
  c.Inc({"/a\"b", "404"});
  int depth = 7;
  r.AddSampledGauge("steward_queue_depth", "Depth.", [&] { return depth; });
  auto& h = r.AddHistogram("steward_latency_seconds", "Latency.", {"route"}, {0.1, 1});
  h.Observe({"/x"}, 0.05);
  h.Observe({"/x"}, 0.5);
  h.Observe({"/x"}, 5);

  std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE steward_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("steward_requests_total{route=\"/healthz\",status=\"200\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("route=\"/a\\\"b\""), std::string::npos) << "label values are escaped";
  EXPECT_NE(text.find("steward_queue_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("steward_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("steward_latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("steward_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("steward_latency_seconds_count{route=\"/x\"} 3\n"), std::string::npos);
  EXPECT_EQ(c.Value({"/healthz", "200"}), 2);
  EXPECT_EQ(h.Count({"/x"}), 3u);
}

}  // namespace
}  // namespace steward::metrics
