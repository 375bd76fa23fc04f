// The Prometheus registry renders valid text exposition.
#include "service/metrics.h"

#include <gtest/gtest.h>

namespace agendasync::service {
namespace {

TEST(Metrics, RendersCountersGaugesAndHistograms) {
  Metrics metrics;
  metrics.add(metric::kSyncs, {{"result", "synced"}});
  metrics.add(metric::kSyncs, {{"result", "synced"}});
  metrics.set(metric::kQueueDepth, {}, 3);
  metrics.observe(metric::kHttpLatency, {{"route", "/api/v1/users"}, {"method", "GET"}}, 0.004);
  std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE agendasync_syncs_total counter"), std::string::npos);
  EXPECT_NE(text.find("agendasync_syncs_total{result=\"synced\"} 2"), std::string::npos);
  EXPECT_NE(text.find("agendasync_sync_queue_depth 3"), std::string::npos);
  EXPECT_NE(text.find("agendasync_http_request_duration_seconds_bucket{route=\"/api/v1/users\","
                      "method=\"GET\",le=\"0.005\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("agendasync_http_request_duration_seconds_bucket{route=\"/api/v1/users\","
                      "method=\"GET\",le=\"0.0025\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("_count{route=\"/api/v1/users\",method=\"GET\"} 1"), std::string::npos);
  EXPECT_EQ(metrics.value(metric::kSyncs, {{"result", "synced"}}), 2);
}

TEST(Metrics, EscapesLabelValues) {
  Metrics metrics;
  metrics.add(metric::kErrors, {{"kind", "a\"b\\c"}});
  EXPECT_NE(metrics.render().find("kind=\"a\\\"b\\\\c\""), std::string::npos);
}

}  // namespace
}  // namespace agendasync::service
