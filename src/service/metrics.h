#pragma once
/// A small Prometheus registry (R32): counters, gauges and histograms with labels, rendered in
/// the text exposition format 0.0.4. Debian 12 has no prometheus-cpp, and the service needs
/// only these three types. Thread-safe.
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace agendasync::service {

/// Label pairs in a fixed order, e.g. {{"route", "/api/v1/users"}, {"method", "GET"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  Metrics();

  void add(const std::string& counter, const Labels& labels, double delta = 1);
  void set(const std::string& gauge, const Labels& labels, double value);
  /// Observes `seconds` into a histogram with the request-latency buckets.
  void observe(const std::string& histogram, const Labels& labels, double seconds);
  /// The current value of a counter or gauge series (0 when absent), for tests and /status.
  double value(const std::string& name, const Labels& labels) const;

  /// The whole registry in Prometheus text format.
  std::string render() const;

 private:
  struct Family {
    std::string help;
    std::string type;  // counter, gauge, histogram
    std::map<Labels, double> values;
    std::map<Labels, std::vector<double>> buckets;  // cumulative counts per bucket bound
    std::map<Labels, std::pair<double, double>> sum_count;
  };
  void describe(const std::string& name, const std::string& type, const std::string& help);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

/// Metric names, so producers and tests agree.
namespace metric {
inline constexpr const char* kSyncs = "agendasync_syncs_total";                 // result
inline constexpr const char* kItemsWritten = "agendasync_items_written_total";  // side, op
inline constexpr const char* kErrors = "agendasync_errors_total";               // kind
/// Runs whose write was refused by the epoch check: their pair's lease had passed to another
/// node while they stalled (issue 17).
inline constexpr const char* kSyncFenced = "agendasync_sync_fenced_total";
inline constexpr const char* kHttpLatency = "agendasync_http_request_duration_seconds";
inline constexpr const char* kHttpRequests = "agendasync_http_requests_total";  // route, status
inline constexpr const char* kThrottleWait = "agendasync_throttling_wait_seconds_total";
inline constexpr const char* kQueueDepth = "agendasync_sync_queue_depth";
inline constexpr const char* kRunning = "agendasync_syncs_running";
inline constexpr const char* kOrgQueueDepth = "agendasync_org_sync_queue_depth";
inline constexpr const char* kOrgRunning = "agendasync_org_syncs_running";
inline constexpr const char* kSyncLag = "agendasync_mailbox_sync_lag_seconds";  // user
inline constexpr const char* kWebhookDeliveries = "agendasync_webhook_deliveries_total";
inline constexpr const char* kNotifications = "agendasync_notifications_total";  // source, result
/// Mailboxes by how a change in Outlook reaches the daemon: state = watched (a streaming
/// subscription or a Graph subscription) or unwatched (polled); backend = ews or graph.
inline constexpr const char* kWatchedMailboxes = "agendasync_watched_mailboxes";
/// Open EWS streaming connections (one per subscription group).
inline constexpr const char* kStreamingConnections = "agendasync_streaming_connections";
// Graph real time (issue 14): mailboxes with / without a change-notification subscription
// (state = subscribed | unsubscribed; deprecated, kWatchedMailboxes{backend="graph"} says the
// same), and 429s from Graph's subscription service so far.
inline constexpr const char* kGraphMailboxes = "agendasync_graph_mailboxes";
inline constexpr const char* kGraphThrottled = "agendasync_graph_subscription_throttled";
// Many nodes on PostgreSQL (issue 17): this node (node, version: always 1, so dashboards
// join any series on it), the live nodes it sees, the organisations whose watchers it runs,
// its ownership lease renewals, and wake-ups it handed to other nodes or received from them.
inline constexpr const char* kNodeInfo = "agendasync_node_info";
inline constexpr const char* kLiveNodes = "agendasync_cluster_live_nodes";
inline constexpr const char* kOwnedOrganisations = "agendasync_cluster_owned_organisations";
inline constexpr const char* kLeaseRenewals = "agendasync_cluster_lease_renewals_total";
inline constexpr const char* kNodeWakeups = "agendasync_cluster_wakeups_total";  // direction
}  // namespace metric

}  // namespace agendasync::service
