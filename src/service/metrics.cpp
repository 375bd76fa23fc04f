#include "service/metrics.h"

#include <fmt/format.h>
#include <cmath>

namespace agendasync::service {

namespace {

constexpr double kBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                               0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string label_text(const Labels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string text = "{";
  for (const auto& [name, value] : labels) {
    if (text.size() > 1) text += ",";
    text += name + "=\"" + escape(value) + "\"";
  }
  if (!extra.empty()) {
    if (text.size() > 1) text += ",";
    text += extra;
  }
  return text + "}";
}

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

}  // namespace

Metrics::Metrics() {
  describe(metric::kSyncs, "counter", "Sync runs by result (synced, partial, quarantined, error)");
  describe(metric::kItemsWritten, "counter", "Items written by side (host, remote) and operation");
  describe(metric::kErrors, "counter", "Errors by kind");
  describe(metric::kSyncFenced, "counter",
           "Runs whose batch was refused by the epoch check: the pair's lease passed to another "
           "node while the run stalled (nothing written; that node syncs the pair)");
  describe(metric::kHttpLatency, "histogram", "API request latency by route");
  describe(metric::kHttpRequests, "counter", "API requests by route, method and status");
  describe(metric::kThrottleWait, "counter", "Time spent waiting for throttling back-off");
  describe(metric::kQueueDepth, "gauge", "Pairs waiting for a sync");
  describe(metric::kRunning, "gauge", "Syncs running now");
  describe(metric::kOrgQueueDepth, "gauge", "Pairs waiting for a sync, by organisation");
  describe(metric::kOrgRunning, "gauge", "Syncs running now, by organisation");
  describe(metric::kSyncLag, "gauge", "Seconds since the mailbox last synced successfully");
  describe(metric::kWebhookDeliveries, "counter", "Webhook deliveries by result");
  describe(metric::kNotifications, "counter", "Change notifications received by source and result");
  describe(metric::kWatchedMailboxes, "gauge",
           "Synced mailboxes by backend and state: watched in real time or unwatched (polled)");
  describe(metric::kStreamingConnections, "gauge",
           "Open EWS streaming connections (one per subscription group)");
  describe(metric::kGraphMailboxes, "gauge",
           "Deprecated (use agendasync_watched_mailboxes{backend=\"graph\"}): synced mailboxes "
           "with (subscribed) and without (unsubscribed) a Graph subscription");
  describe(metric::kGraphThrottled, "gauge",
           "429 answers from Graph's subscription service since start (writes then pause)");
  describe(metric::kNodeInfo, "gauge", "This node (labels node, version); always 1");
  describe(metric::kLiveNodes, "gauge", "Nodes with a heartbeat younger than the lease time");
  describe(metric::kOwnedOrganisations, "gauge",
           "Organisations whose real-time watchers and safety net run on this node");
  describe(metric::kLeaseRenewals, "counter", "Organisation ownership leases renewed by this node");
  describe(metric::kNodeWakeups, "counter",
           "Wake-ups handed to the owning node (direction=sent) or received from another node");
}

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  families_[name] = Family{help, type, {}, {}, {}};
}

void Metrics::add(const std::string& counter, const Labels& labels, double delta) {
  std::lock_guard lock(mutex_);
  auto& family = families_[counter];
  if (family.type.empty()) family.type = "counter";
  family.values[labels] += delta;
}

void Metrics::set(const std::string& gauge, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto& family = families_[gauge];
  if (family.type.empty()) family.type = "gauge";
  family.values[labels] = value;
}

void Metrics::observe(const std::string& histogram, const Labels& labels, double seconds) {
  std::lock_guard lock(mutex_);
  auto& family = families_[histogram];
  if (family.type.empty()) family.type = "histogram";
  auto& counts = family.buckets[labels];
  if (counts.empty()) counts.assign(std::size(kBuckets), 0);
  for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
    if (seconds <= kBuckets[i]) counts[i] += 1;
  }
  auto& [sum, count] = family.sum_count[labels];
  sum += seconds;
  count += 1;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto family = families_.find(name);
  if (family == families_.end()) return 0;
  auto found = family->second.values.find(labels);
  return found == family->second.values.end() ? 0 : found->second;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + " " + family.type + "\n";
    for (const auto& [labels, value] : family.values) {
      out += name + label_text(labels) + " " + number(value) + "\n";
    }
    for (const auto& [labels, counts] : family.buckets) {
      for (std::size_t i = 0; i < counts.size(); ++i) {
        out += name + "_bucket" + label_text(labels, "le=\"" + number(kBuckets[i]) + "\"") + " " +
               number(counts[i]) + "\n";
      }
      const auto& [sum, count] = family.sum_count.at(labels);
      out += name + "_bucket" + label_text(labels, "le=\"+Inf\"") + " " + number(count) + "\n";
      out += name + "_sum" + label_text(labels) + " " + number(sum) + "\n";
      out += name + "_count" + label_text(labels) + " " + number(count) + "\n";
    }
  }
  return out;
}

}  // namespace agendasync::service
